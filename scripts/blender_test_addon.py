"""Headless test of the KMTalk Blender add-on (bindings/blender). Run by
scripts/test-blender-addon.sh:

    blender --background --factory-startup --python-exit-code 1 \\
        --python scripts/blender_test_addon.py -- ADDON.zip AUDIO MODEL LIBRARY

Installs and enables the add-on from the zip (into $BLENDER_USER_SCRIPTS, a temporary
folder), sets its Library preference (the script runs without $KMTALK_LIBRARY), builds a
grid with ARKit-named shape keys in several naming styles plus a key no channel drives,
checks the error paths change nothing, then runs "Animate from audio" and compares the
action, keys, sound strip and scene with the `kmtalk` package's own result (the
repository's bindings/python, not the add-on's vendored copy). Prints PASS/FAIL lines;
exits 1 on any failure.
"""

import os
import sys
from pathlib import Path

import bpy

ROOT = Path(__file__).resolve().parents[1]
TOLERANCE = 1e-6
# Shape key -> the channel the library's matching should give it.
EXPECTED = {"jawOpen": "jawOpen", "mouthClose": "mouthClose", "MouthFunnel": "mouthFunnel",
            "eyeBlink_L": "eyeBlinkLeft"}
UNMATCHED_KEY = "hatTilt"
UNMATCHED_VALUE = 0.25

failures = 0


def check(ok, message):
    global failures
    print(("PASS" if ok else "FAIL") + ": " + message)
    if not ok:
        failures += 1
    return ok


def add_mesh(name, key_names):
    bpy.ops.mesh.primitive_grid_add(x_subdivisions=4, y_subdivisions=4, size=2)
    obj = bpy.context.active_object
    obj.name = name
    if key_names:
        obj.shape_key_add(name="Basis", from_mix=False)
        for i, key_name in enumerate(key_names):
            block = obj.shape_key_add(name=key_name, from_mix=False)
            for j, point in enumerate(block.data):
                point.co.z += 0.01 * (i + 1) * (j % 3)
    return obj


def select_only(obj):
    for other in bpy.context.view_layer.objects:
        other.select_set(False)
    bpy.context.view_layer.objects.active = obj
    if obj is not None:
        obj.select_set(True)


def scene_state(scene):
    editor = scene.sequence_editor
    return (len(bpy.data.actions), len(editor.sequences) if editor else 0, scene.render.fps, scene.render.fps_base,
            scene.frame_start, scene.frame_end,
            tuple(sorted((o.name, o.data.shape_keys.animation_data is not None) for o in bpy.data.objects
                         if o.type == "MESH" and o.data.shape_keys)))


def expect_error(label, fragment, **kwargs):
    scene = bpy.context.scene
    before = scene_state(scene)
    try:
        bpy.ops.kmtalk.animate_from_audio(**kwargs)
    except RuntimeError as error:
        check(fragment in str(error), f"{label}: refused with an error ({str(error).strip()[:140]})")
    else:
        check(False, f"{label}: the operator should have refused")
    check(scene_state(scene) == before, f"{label}: nothing changed")


def reference(kmtalk, audio, model, fps, latency_ms=None):
    """The kmtalk package's frames (frames x channels) and channel names."""
    import numpy as np
    with kmtalk.Model(model) as loaded, kmtalk.Session(loaded, fps=fps) as session:
        if latency_ms is None:
            with session.animate_file(audio) as animation:
                return np.array(animation.weights), animation.channel_names, animation.fps
        rate = loaded.sample_rate
        pcm, _ = kmtalk.load_audio(audio, rate)
        session.latency_ms = latency_ms
        step = rate // 100
        frames = [f for f, _ in session.stream((pcm[i:i + step] for i in range(0, len(pcm), step)), rate)]
        return np.concatenate(frames), loaded.channel_names, session.fps


def check_animation(label, obj, weights, channel_names, interpolation):
    import numpy as np
    keys = obj.data.shape_keys
    action = keys.animation_data.action if keys.animation_data else None
    if not check(action is not None, f"{label}: the shape keys have an action"):
        return
    paths = {fcurve.data_path: fcurve for fcurve in action.fcurves}
    expected_paths = {f'key_blocks["{name}"].value' for name in EXPECTED}
    check(set(paths) == expected_paths and len(action.fcurves) == len(EXPECTED),
          f"{label}: one F-curve per matched shape key ({sorted(paths)})")
    frame_count = len(weights)
    for name, channel in EXPECTED.items():
        fcurve = paths.get(f'key_blocks["{name}"].value')
        if fcurve is None:
            continue
        points = fcurve.keyframe_points
        co = np.empty(2 * len(points), dtype=np.float32)
        points.foreach_get("co", co)
        expected = weights[:, channel_names.index(channel)]
        ok = (len(points) == frame_count and np.array_equal(co[0::2], np.arange(1, frame_count + 1))
              and float(np.max(np.abs(co[1::2] - expected))) <= TOLERANCE)
        check(ok, f"{label}: {name} <- {channel}: {len(points)} keys at frames 1..{frame_count}, values equal "
                  f"the kmtalk package's within {TOLERANCE}")
        check(all(p.interpolation == interpolation for p in points), f"{label}: {name} keys are {interpolation}")
        middle = frame_count // 2
        check(abs(fcurve.evaluate(middle + 1) - expected[middle]) <= TOLERANCE,
              f"{label}: {name} F-curve evaluates to the frame's weight at frame {middle + 1}")
    unmatched = set(action.get("kmtalk_unmatched_channels", "").split(","))
    check(unmatched == set(channel_names) - set(EXPECTED.values()),
          f"{label}: the {len(unmatched)} channels without a shape key are recorded")
    # Played back, the keys take the frame's weights; the unmatched key keeps its value.
    scene = bpy.context.scene
    frame = max(1, frame_count // 3)
    scene.frame_set(frame)
    blocks = keys.key_blocks
    played = all(abs(blocks[name].value - min(1.0, max(0.0, float(weights[frame - 1, channel_names.index(ch)]))))
                 <= TOLERANCE for name, ch in EXPECTED.items())
    check(played, f"{label}: at frame {frame} the shape keys hold that frame's weights")
    check(abs(blocks[UNMATCHED_KEY].value - UNMATCHED_VALUE) < 1e-7 and f'key_blocks["{UNMATCHED_KEY}"].value'
          not in paths, f"{label}: {UNMATCHED_KEY} (no channel) untouched: no F-curve, value {UNMATCHED_VALUE}")


def check_scene(label, audio, fps, frame_count):
    scene = bpy.context.scene
    strips = [s for s in scene.sequence_editor.sequences if s.type == "SOUND"] if scene.sequence_editor else []
    check(len(strips) == 1, f"{label}: one sound strip ({[s.name for s in strips]})")
    if strips:
        strip = strips[0]
        check(os.path.realpath(bpy.path.abspath(strip.sound.filepath)) == os.path.realpath(audio)
              and strip.frame_start == 1, f"{label}: the strip plays {strip.sound.filepath} from frame 1")
    # fps_base is a float32 in Blender: 30 / 1.001 holds to about 1e-7 relative.
    check(abs(scene.render.fps / scene.render.fps_base / fps - 1) < 1e-6 and scene.render.fps == round(fps),
          f"{label}: scene rate {scene.render.fps}/{scene.render.fps_base} = {fps} fps")
    check(scene.frame_start == 1 and scene.frame_end == frame_count,
          f"{label}: frame range {scene.frame_start}..{scene.frame_end} = 1..{frame_count}")


def main(zip_path, audio, model, library):
    check("KMTALK_LIBRARY" not in os.environ, "the test runs without $KMTALK_LIBRARY (the preference gives it)")
    bpy.ops.preferences.addon_install(filepath=zip_path, overwrite=True)
    bpy.ops.preferences.addon_enable(module="kmtalk_blender")
    import kmtalk_blender
    installed = Path(kmtalk_blender.__file__).resolve().parent
    check(str(installed).startswith(os.path.realpath(os.environ["BLENDER_USER_SCRIPTS"])),
          f"the add-on is installed from the zip ({installed})")
    check(hasattr(bpy.ops.kmtalk, "animate_from_audio") and hasattr(bpy.types, "KMTALK_PT_panel"),
          "operator and sidebar panel registered")
    prefs = bpy.context.preferences.addons["kmtalk_blender"].preferences
    prefs.library_path = library

    for obj in list(bpy.data.objects):
        bpy.data.objects.remove(obj, do_unlink=True)
    scene = bpy.context.scene
    scene.render.fps, scene.render.fps_base = 25, 1.0
    face = add_mesh("Face", list(EXPECTED) + [UNMATCHED_KEY])
    face.data.shape_keys.key_blocks[UNMATCHED_KEY].value = UNMATCHED_VALUE
    prop = add_mesh("Prop", ["hatTilt", "earWiggle"])
    plain = add_mesh("Plain", [])

    select_only(None)
    expect_error("no selection", "No mesh selected", filepath=audio, model_path=model)
    select_only(prop)
    expect_error("no matching shape key", "matches a KMTalk channel", filepath=audio, model_path=model)
    select_only(plain)
    expect_error("no shape keys", "no shape keys", filepath=audio, model_path=model)
    select_only(face)
    expect_error("missing audio", "not found", filepath=audio + ".missing", model_path=model)

    sys.path.insert(0, str(ROOT / "bindings" / "python"))
    os.environ["KMTALK_LIBRARY"] = library
    import kmtalk
    check(Path(kmtalk.__file__).resolve().parent == ROOT / "bindings" / "python" / "kmtalk",
          "reference values from the repository's kmtalk package")
    vendored = sys.modules["kmtalk_blender.kmtalk"]
    check(Path(vendored.__file__).resolve().parent == installed / "kmtalk", "the add-on uses its vendored kmtalk")
    check(os.path.realpath(vendored._lib.library_path()) == os.path.realpath(library),
          "the add-on loaded the library from its preference")

    # 1. Offline at the scene's rate (25 fps), model given.
    weights, names, fps = reference(kmtalk, audio, model, 25.0)
    select_only(face)
    result = bpy.ops.kmtalk.animate_from_audio(filepath=audio, model_path=model)
    check(result == {"FINISHED"}, f"offline at the scene's 25 fps: {result}")
    check_animation("offline 25 fps", face, weights, names, "LINEAR")
    check_scene("offline 25 fps", audio, 25.0, len(weights))

    # 2. A given rate, constant keys, the model from the preferences: the scene follows.
    prefs.model_path = model
    weights, names, fps = reference(kmtalk, audio, model, 30.0)
    result = bpy.ops.kmtalk.animate_from_audio(filepath=audio, use_scene_fps=False, fps=30.0,
                                               interpolation="CONSTANT")
    check(result == {"FINISHED"}, f"offline at 30 fps, model from the preferences: {result}")
    check_animation("offline 30 fps", face, weights, names, "CONSTANT")
    check_scene("offline 30 fps (the earlier strip replaced)", audio, 30.0, len(weights))

    # 3. Streaming with 100 ms latency at a fractional rate (NTSC 29.97).
    weights, names, fps = reference(kmtalk, audio, model, 30000 / 1001, latency_ms=100.0)
    result = bpy.ops.kmtalk.animate_from_audio(filepath=audio, use_scene_fps=False, fps=30000 / 1001,
                                               mode="STREAMING", latency_ms=100.0)
    check(result == {"FINISHED"}, f"streaming at 29.97 fps, 100 ms: {result}")
    check_animation("streaming 29.97 fps", face, weights, names, "LINEAR")
    check_scene("streaming 29.97 fps", audio, 30000 / 1001, len(weights))

    # The sidebar panel's draw (no UI in background mode: a recording stand-in layout).
    from types import SimpleNamespace

    class Layout:
        def __init__(self):
            self.calls = []

        def __getattr__(self, name):
            def call(*args, **kwargs):
                self.calls.append(name)
                return SimpleNamespace() if name == "operator" else self
            return call

    layout = Layout()
    scene.kmtalk.audio_path = audio
    bpy.types.KMTALK_PT_panel.draw(SimpleNamespace(layout=layout), bpy.context)
    check("operator" in layout.calls and layout.calls.count("prop") >= 5, f"the panel draws ({layout.calls})")

    bpy.ops.preferences.addon_disable(module="kmtalk_blender")
    check(not hasattr(bpy.types.Scene, "kmtalk"), "the add-on unregisters")
    return 1 if failures else 0


if __name__ == "__main__":
    arguments = sys.argv[sys.argv.index("--") + 1:]
    try:
        status = main(*arguments)
    except Exception:  # a crash is a failure with its traceback, not a silent pass
        import traceback
        traceback.print_exc()
        status = 1
    print(f"{'FAIL' if status else 'PASS'}: blender add-on test, {failures} failures")
    sys.exit(status)
