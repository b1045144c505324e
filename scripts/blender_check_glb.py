"""Imports a GLB written by `kmtalk animate` into Blender and checks it against the JSON
export of the same animation. Run by scripts/check-blender.sh:

    blender --background --factory-startup --python scripts/blender_check_glb.py -- OUT.glb OUT.json [DENSE.glb]

Checks: one mesh object with the rig's shape keys (Basis + one per morph target, named
from mesh.extras.targetNames); the imported weights action spans exactly the animation's
frames at its rate (the scene's rate is set to the animation's before the import, since
Blender's importer keys times x scene fps; the scene range is then set from the action,
which the importer leaves alone); and shape key values at a few frames equal the JSON's
weights within 1e-3. With DENSE.glb (the same animation exported as a dense GLB, when
OUT.glb has sparse morph targets), DENSE.glb is imported too and every shape key's vertex
positions must equal OUT.glb's. Prints one PASS/FAIL line per check; exits 1 on any
failure.
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


def main(glb_path: str, json_path: str, dense_path: str = None) -> int:
    with open(json_path, encoding="utf-8") as f:
        weights = json.load(f)
    fps = weights["fps"]
    frame_count = weights["frame_count"]
    channels = weights["channels"]
    frames = weights["frames"]
    failures = 0

    def check(ok: bool, message: str) -> None:
        nonlocal failures
        print(("PASS" if ok else "FAIL") + ": " + message)
        if not ok:
            failures += 1

    if abs(fps - round(fps)) > 1e-6:
        print(f"FAIL: the check needs a whole-number fps (the scene's rate is an integer), got {fps}")
        return 1
    scene = bpy.context.scene
    scene.render.fps = int(round(fps))
    scene.render.fps_base = 1.0

    # Start from an empty scene (factory startup has a cube, a camera and a light).
    for obj in list(bpy.data.objects):
        bpy.data.objects.remove(obj, do_unlink=True)
    bpy.ops.import_scene.gltf(filepath=glb_path)

    meshes = [obj for obj in bpy.data.objects if obj.type == "MESH"]
    check(len(meshes) == 1, f"one mesh object imported ({[obj.name for obj in meshes]})")
    if not meshes:
        return 1
    obj = meshes[0]
    keys = obj.data.shape_keys
    check(keys is not None, "the mesh has shape keys")
    if keys is None:
        return 1
    blocks = keys.key_blocks
    with open(glb_path, "rb") as f:
        f.seek(12)
        length = int.from_bytes(f.read(4), "little")
        f.read(4)
        document = json.loads(f.read(length))
    target_names = document["meshes"][0]["extras"]["targetNames"]
    check(len(blocks) == len(target_names) + 1,
          f"shape keys: {len(blocks)} = Basis + {len(target_names)} morph targets")
    check([block.name for block in blocks][1:] == target_names, "shape keys named and ordered as targetNames")
    position_count = document["accessors"][document["meshes"][0]["primitives"][0]["attributes"]["POSITION"]]["count"]
    check(len(obj.data.vertices) == position_count, f"{len(obj.data.vertices)} vertices, as the GLB's POSITION")

    action = keys.animation_data.action if keys.animation_data else None
    check(action is not None, f"a weights action is assigned ({action.name if action else None})")
    if action is None:
        return 1
    start, end = action.frame_range
    check(abs(start) < 1e-4 and abs(end - (frame_count - 1)) < 1e-3,
          f"action frames {start:g}..{end:g} = 0..{frame_count - 1} ({frame_count} frames at {fps:g} fps)")
    scene.frame_start, scene.frame_end = int(round(start)), int(round(end))
    check(scene.frame_end - scene.frame_start + 1 == frame_count,
          f"scene frame range {scene.frame_start}..{scene.frame_end} holds the animation's {frame_count} frames")
    curve_lengths = {len(curve.keyframe_points) for curve in action.fcurves}
    check(curve_lengths == {frame_count}, f"every shape key curve has {frame_count} keyframes ({sorted(curve_lengths)})")

    # Shape key values at a few frames against the JSON weights, for the busiest shape
    # whose name is a channel (the default head's shapes are the ARKit channels).
    comparable = [name for name in target_names if name in channels]
    check(bool(comparable), f"{len(comparable)} shape keys share a channel's name")
    if not comparable:
        return 1
    def spread(name):
        column = [row[channels.index(name)] for row in frames]
        return max(column) - min(column)
    busiest = max(comparable, key=spread)
    index = channels.index(busiest)
    peak = max(range(frame_count), key=lambda k: frames[k][index])
    worst = 0.0
    for frame in sorted({0, peak, frame_count // 2, frame_count - 1}):
        scene.frame_set(frame)
        for name in dict.fromkeys([busiest, "jawOpen" if "jawOpen" in comparable else comparable[0], comparable[0]]):
            value = blocks[name].value
            expected = frames[frame][channels.index(name)]
            worst = max(worst, abs(value - expected))
            print(f"    frame {frame}: {name} = {value:.6f} (JSON {expected:.6f})")
    check(worst <= TOLERANCE, f"shape key values equal the JSON weights (worst difference {worst:.2e} <= {TOLERANCE:g})")

    if dense_path:
        # The same shapes from the dense export: identical shape key geometry.
        before = set(bpy.data.objects)
        bpy.ops.import_scene.gltf(filepath=dense_path)
        dense = [o for o in bpy.data.objects if o not in before and o.type == "MESH"]
        check(len(dense) == 1, "the dense GLB imports one mesh object too")
        if len(dense) != 1:
            return 1
        dense_blocks = dense[0].data.shape_keys.key_blocks
        check([b.name for b in dense_blocks] == [b.name for b in blocks], "same shape keys as the dense GLB")
        count = len(obj.data.vertices)
        largest = 0.0
        moved = 0
        for block in blocks:
            mine = numpy.empty(count * 3, dtype=numpy.float32)
            theirs = numpy.empty(count * 3, dtype=numpy.float32)
            block.data.foreach_get("co", mine)
            dense_blocks[block.name].data.foreach_get("co", theirs)
            largest = max(largest, float(numpy.abs(mine - theirs).max()))
            basis = numpy.empty(count * 3, dtype=numpy.float32)
            blocks[0].data.foreach_get("co", basis)
            moved += int((numpy.abs((mine - basis).reshape(-1, 3)).max(axis=1) > 0).sum())
        check(largest <= 1e-6 and moved > 0,
              f"every shape key equals the dense GLB's (largest difference {largest:.2e} m; {moved} moved vertex-shape pairs)")
    return 1 if failures else 0


if __name__ == "__main__":
    arguments = sys.argv[sys.argv.index("--") + 1:] if "--" in sys.argv else []
    if len(arguments) not in (2, 3):
        print("usage: blender --background --factory-startup --python blender_check_glb.py -- OUT.glb OUT.json [DENSE.glb]")
        sys.exit(2)
    sys.exit(main(*arguments))
