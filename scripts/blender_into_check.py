"""Checks `kmtalk animate --into` with Blender as the user's tool: Blender builds a
character asset with several meshes, a skin, materials, a camera and an animation of its
own, exports it as GLB; the CLI writes speech into a copy; Blender imports both and this
script compares them. Run by scripts/check-blender.sh:

    blender -b --factory-startup --python scripts/blender_into_check.py -- make HEAD.glb HERO.glb
    kmtalk animate speech.wav --into HERO.glb -o TALKING.glb
    blender -b --factory-startup --python scripts/blender_into_check.py -- check HERO.glb TALKING.glb SPEECH.json

`make` imports HEAD.glb (the CLI's export of the shipped head), drops its animation, adds a
shape key "SculptFix" (a name no channel drives) resting at 0.3, a skinned "Body" cube with
its own material, an armature with an "idle" action, a second mesh "Teeth" with a jawOpen
shape key, and a camera, then exports HERO.glb.

`check` imports HERO.glb and TALKING.glb into empty scenes and checks: the same objects
(names, types, parents), meshes (vertex counts, shape key names, materials), vertex
groups, bones and camera; the "idle" action still there; the speech action active on the
head and the teeth, whose jawOpen in the evaluated scene equals the JSON's weights (within
1e-3) while SculptFix holds its rest value 0.3. Prints one PASS/FAIL line per check; exits 1 on any failure.
"""

import json
import sys

import bpy

try:
    import numpy
except ImportError:  # Debian's blender package does not pull it in; its glTF importer needs it
    print("FAIL: Blender's Python has no numpy (apt-get install python3-numpy)")
    sys.exit(1)
if not hasattr(numpy, "bool"):
    # Blender 3.4's glTF importer calls np.bool, which NumPy 1.24 (Debian bookworm) removed.
    numpy.bool = bool

TOLERANCE = 1e-3


def empty_scene(fps=None):
    bpy.ops.wm.read_factory_settings(use_empty=True)
    if fps is not None:
        bpy.context.scene.render.fps = int(round(fps))
        bpy.context.scene.render.fps_base = 1.0


def make(head_path: str, hero_path: str) -> int:
    empty_scene(30)
    bpy.ops.import_scene.gltf(filepath=head_path)
    head = next(obj for obj in bpy.data.objects if obj.type == "MESH")
    head.name = "Head"
    keys = head.data.shape_keys
    if keys.animation_data:
        keys.animation_data_clear()
    for action in list(bpy.data.actions):
        bpy.data.actions.remove(action)
    for block in keys.key_blocks:
        block.value = 0.0
    fix = head.shape_key_add(name="SculptFix", from_mix=False)
    for index in range(0, len(fix.data), 50):
        fix.data[index].co.z += 0.002
    fix.value = 0.3

    # Teeth: a small mesh with its own jawOpen shape key.
    bpy.ops.mesh.primitive_cube_add(size=0.02, location=(0.0, -0.03, 0.05))
    teeth = bpy.context.active_object
    teeth.name = "Teeth"
    teeth.shape_key_add(name="Basis")
    open_key = teeth.shape_key_add(name="jawOpen")
    for point in open_key.data:
        point.co.y -= 0.01
    enamel = bpy.data.materials.new("Enamel")
    enamel.diffuse_color = (0.95, 0.95, 0.9, 1.0)
    teeth.data.materials.append(enamel)

    # A skinned body with its own material, moved by an armature with an "idle" action.
    bpy.ops.object.armature_add(location=(0.0, -0.3, 0.0))
    armature = bpy.context.active_object
    armature.name = "Rig"
    armature.data.bones[0].name = "Spine"
    bpy.ops.mesh.primitive_cube_add(size=0.2, location=(0.0, -0.3, 0.0))
    body = bpy.context.active_object
    body.name = "Body"
    cloth = bpy.data.materials.new("Cloth")
    cloth.diffuse_color = (0.2, 0.3, 0.8, 1.0)
    body.data.materials.append(cloth)
    group = body.vertex_groups.new(name="Spine")
    group.add(range(len(body.data.vertices)), 1.0, "REPLACE")
    body.parent = armature
    modifier = body.modifiers.new("Armature", "ARMATURE")
    modifier.object = armature
    bpy.context.view_layer.objects.active = armature
    bpy.ops.object.mode_set(mode="POSE")
    bone = armature.pose.bones["Spine"]
    bone.location = (0, 0, 0)
    bone.keyframe_insert("location", frame=1)
    bone.location = (0, 0.05, 0)
    bone.keyframe_insert("location", frame=24)
    bpy.ops.object.mode_set(mode="OBJECT")
    armature.animation_data.action.name = "idle"

    bpy.ops.object.camera_add(location=(0.0, 0.0, 1.0))
    bpy.context.active_object.name = "Camera"

    bpy.ops.export_scene.gltf(
        filepath=hero_path, export_format="GLB", export_animations=True, export_skins=True,
        export_morph=True, export_cameras=True, export_apply=False)
    print(f"made {hero_path}: {sorted(obj.name for obj in bpy.data.objects)}")
    return 0


def describe():
    """What the imported scene holds, for comparing two imports."""
    objects = {}
    for obj in bpy.data.objects:
        entry = {"type": obj.type, "parent": obj.parent.name if obj.parent else None}
        if obj.type == "MESH":
            entry["vertices"] = len(obj.data.vertices)
            entry["materials"] = [slot.material.name if slot.material else None for slot in obj.material_slots]
            entry["vertex_groups"] = [group.name for group in obj.vertex_groups]
            keys = obj.data.shape_keys
            entry["shape_keys"] = [block.name for block in keys.key_blocks] if keys else []
        if obj.type == "ARMATURE":
            entry["bones"] = [bone.name for bone in obj.data.bones]
        objects[obj.name] = entry
    return objects


def main_check(hero_path: str, talking_path: str, json_path: str) -> int:
    with open(json_path, encoding="utf-8") as f:
        speech = json.load(f)
    fps = speech["fps"]
    channels = speech["channels"]
    frames = speech["frames"]
    failures = 0

    def check(ok: bool, message: str) -> None:
        nonlocal failures
        print(("PASS" if ok else "FAIL") + ": " + message)
        if not ok:
            failures += 1

    empty_scene(fps)
    bpy.ops.import_scene.gltf(filepath=hero_path)
    before = describe()
    before_actions = sorted(action.name for action in bpy.data.actions)

    empty_scene(fps)
    bpy.ops.import_scene.gltf(filepath=talking_path)
    after = describe()
    check(sorted(after) == sorted(before), f"the same {len(before)} objects ({', '.join(sorted(before))})")
    for name, entry in before.items():
        check(after.get(name) == entry, f"{name} unchanged: {entry['type']}"
              + (f", {entry['vertices']} vertices, {len(entry['shape_keys'])} shape keys, materials {entry['materials']}"
                 if entry["type"] == "MESH" else "") + (f", bones {entry['bones']}" if "bones" in entry else ""))
    check(any(entry["type"] == "MESH" and entry["vertex_groups"] == ["Spine"] for entry in after.values()),
          "the body is still skinned (vertex group Spine)")
    actions = sorted(action.name for action in bpy.data.actions)
    check(all(any(name.startswith(old.split("_")[0]) for name in actions) for old in before_actions),
          f"the asset's own actions are kept ({before_actions} -> {actions})")

    # The speech as a user sees it: the scene evaluated at a frame (Blender makes the
    # first glTF animation active and stashes the others as muted NLA tracks).
    jaw = channels.index("jawOpen")
    peak = max(range(len(frames)), key=lambda k: frames[k][jaw])
    probes = sorted({0, peak, len(frames) // 2, len(frames) - 1})
    for owner in ("Head", "Teeth"):
        keys = bpy.data.objects[owner].data.shape_keys
        action = keys.animation_data.action if keys.animation_data else None
        check(action is not None and action.name.startswith("speech"),
              f"{owner}: the speech action is the active one ({action.name if action else None})")
        if action is None:
            continue
        curve = next((c for c in action.fcurves if c.data_path == 'key_blocks["jawOpen"].value'), None)
        check(curve is not None and len(curve.keyframe_points) == len(frames),
              f"{owner}: jawOpen keyed at every one of the {len(frames)} frames")
    worst = 0.0
    held = []
    for frame in probes:
        bpy.context.scene.frame_set(frame)
        for owner in ("Head", "Teeth"):
            value = bpy.data.objects[owner].data.shape_keys.key_blocks["jawOpen"].value
            worst = max(worst, abs(value - frames[frame][jaw]))
        held.append(bpy.data.objects["Head"].data.shape_keys.key_blocks["SculptFix"].value)
    bpy.context.scene.frame_set(peak)
    shown = bpy.data.objects["Head"].data.shape_keys.key_blocks["jawOpen"].value
    check(worst <= TOLERANCE, f"jawOpen of the head and the teeth equals the JSON in the scene (peak frame {peak}: "
          f"{shown:.4f} vs {frames[peak][jaw]:.4f}; worst {worst:.1e})")
    check(max(abs(value - 0.3) for value in held) < 1e-4, f"Head: SculptFix held at its rest weight 0.3 ({held[0]:.4f})")
    return 1 if failures else 0


if __name__ == "__main__":
    arguments = sys.argv[sys.argv.index("--") + 1:] if "--" in sys.argv else []
    if len(arguments) == 3 and arguments[0] == "make":
        sys.exit(make(arguments[1], arguments[2]))
    if len(arguments) == 4 and arguments[0] == "check":
        sys.exit(main_check(*arguments[1:]))
    print(__doc__)
    sys.exit(2)
