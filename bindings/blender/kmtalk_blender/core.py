"""The add-on's work, apart from its UI: find the kmtalk package and library, run KMTalk,
match channels to shape keys with the library's rules, and write the action, the sound
strip and the scene's rate and range. Everything that can fail (selection, model, audio,
matching) is checked before the scene is touched, so an error leaves no partial changes."""

import os
import sys
from pathlib import Path

import bpy

MODE_ITEMS = (
    ("OFFLINE", "Offline", "The whole file at once with the full look-ahead (best quality)"),
    ("STREAMING", "Streaming", "As a real-time stream with the given latency would animate it (10 ms chunks)"),
)
INTERPOLATION_ITEMS = (
    ("LINEAR", "Linear", "Straight lines between the per-frame keys: exact on every frame"),
    ("CONSTANT", "Constant", "Hold each frame's value: exact on every frame, steps in between"),
)
#: Blender's keyframe interpolation enum values (rna_curve.c: CONSTANT 0, LINEAR 1, BEZIER 2).
_INTERPOLATION_VALUES = {"CONSTANT": 0, "LINEAR": 1}
#: Custom property marking the sound strips this add-on added (replaced on the next run).
STRIP_TAG = "kmtalk"
LIBRARY_ENV = "KMTALK_LIBRARY"


class AnimateError(Exception):
    """A reason the operator refuses (reported as an ERROR, nothing changed)."""


def import_kmtalk(library_path=""):
    """The kmtalk package: the copy vendored into the add-on (kmtalk_blender/kmtalk), else
    one installed in Blender's Python, else the repository's bindings/python when the
    add-on runs from a checkout. `library_path` (the preference) becomes $KMTALK_LIBRARY
    for the package's library search, which happens once per Blender session."""
    if library_path:
        os.environ[LIBRARY_ENV] = library_path
    here = Path(__file__).resolve().parent
    try:
        if (here / "kmtalk" / "__init__.py").is_file():
            from . import kmtalk
        else:
            try:
                import kmtalk
            except ImportError:
                repository_binding = here.parents[1] / "python"
                if not (repository_binding / "kmtalk" / "__init__.py").is_file():
                    raise
                sys.path.append(str(repository_binding))
                import kmtalk
    except ImportError as error:
        raise AnimateError(f"KMTalk's Python package cannot be imported ({error}); install the add-on "
                           "from the zip that scripts/build-blender-addon.sh builds (Blender's Python also "
                           "needs NumPy)") from error
    loaded = getattr(kmtalk._lib, "_path", None)
    if library_path and loaded is not None and os.path.realpath(loaded) != os.path.realpath(library_path):
        raise AnimateError(f"KMTalk's library is already loaded from {loaded}; restart Blender to use "
                           f"{library_path}")
    return kmtalk


def describe_setup(library_path="", model_path=""):
    """One line for the preferences: where the library and model come from."""
    library = library_path or os.environ.get(LIBRARY_ENV) or "the kmtalk package's search"
    model = model_path or os.environ.get("KMTALK_MODEL") or "the kmtalk package's default model"
    return f"Library: {library}; model: {model}"


def resolve_model(kmtalk, model_path, preferred_model):
    path = model_path or preferred_model or kmtalk.default_model_path()
    if not path:
        raise AnimateError("No model: set one in the panel or the add-on preferences (Model), or $KMTALK_MODEL")
    if not os.path.isfile(path):
        raise AnimateError(f"Model not found: {path}")
    return path


def target_object(context):
    """The mesh to animate: the active object when it is a selected mesh, else the only
    selected mesh."""
    obj = context.active_object
    if obj is not None and obj.type == "MESH" and obj.select_get():
        return obj
    meshes = [o for o in context.selected_objects if o.type == "MESH"]
    if len(meshes) == 1:
        return meshes[0]
    if not meshes:
        raise AnimateError("No mesh selected: select the mesh whose shape keys KMTalk should animate")
    raise AnimateError("Several meshes selected and none is active: make the one to animate active")


def shape_key_names(obj):
    """The mesh's shape key names without the reference (Basis) key."""
    keys = obj.data.shape_keys
    if keys is None:
        raise AnimateError(f"'{obj.name}' has no shape keys (ARKit-named ones, such as jawOpen, are animated)")
    names = [block.name for block in keys.key_blocks if block != keys.reference_key]
    if not names:
        raise AnimateError(f"'{obj.name}' has only its Basis shape key")
    return names


def run_kmtalk(kmtalk, audio_path, model_path, fps=None, mode="OFFLINE", latency_ms=150.0):
    """(weights frames x channels float32, fps, channel names, a kmtalk.Animation whose
    channels match the weights' for name matching). The caller closes the animation."""
    import numpy as np

    with kmtalk.Model(model_path) as model, kmtalk.Session(model, fps=fps) as session:
        if mode == "OFFLINE":
            animation = session.animate_file(audio_path)
            return np.array(animation.weights), animation.fps, animation.channel_names, animation
        rate = model.sample_rate
        pcm, _ = kmtalk.load_audio(audio_path, rate)
        session.latency_ms = latency_ms
        step = max(1, rate // 100)
        parts = [frames for frames, _ in session.stream((pcm[i:i + step] for i in range(0, len(pcm), step)), rate)]
        weights = np.concatenate(parts) if parts else np.zeros((0, model.channel_count), dtype=np.float32)
        # Matching needs an animation with the model's channels; a second of silence has them.
        names_only = session.animate_pcm(np.zeros(rate, dtype=np.float32), rate)
        return weights, session.fps, names_only.channel_names, names_only


class Summary:
    def __init__(self, obj, action, matched, unmatched_channels, unmatched_shapes, frame_count, fps, strip):
        self.object = obj
        self.action = action
        self.matched = matched  # [(shape key name, channel name)]
        self.unmatched_channels = unmatched_channels
        self.unmatched_shapes = unmatched_shapes
        self.frame_count = frame_count
        self.fps = fps
        self.strip = strip

    def message(self):
        total = len(self.matched) + len(self.unmatched_shapes)
        text = (f"KMTalk: {len(self.matched)} of {total} shape keys of '{self.object.name}' animated, "
                f"{self.frame_count} frames at {self.fps:g} fps (action '{self.action.name}')")
        if self.unmatched_shapes:
            text += "; not driven: " + ", ".join(self.unmatched_shapes)
        return text

    def unmatched_message(self):
        return (f"KMTalk: {len(self.unmatched_channels)} channels have no shape key: "
                + ", ".join(self.unmatched_channels))


def _free_channel(sequences, first, last):
    used = {s.channel for s in sequences if s.frame_final_start <= last and s.frame_final_end > first}
    for channel in range(1, 129):
        if channel not in used:
            return channel
    raise AnimateError("No free sequencer channel for the sound strip")


def add_sound_strip(scene, audio_path, last_frame):
    """Adds the audio at frame 1 in a free channel, then removes the strips an earlier run
    added; playback syncs to audio."""
    editor = scene.sequence_editor or scene.sequence_editor_create()
    earlier = [s for s in editor.sequences if s.type == "SOUND" and s.get(STRIP_TAG)]
    try:
        strip = editor.sequences.new_sound(name=os.path.basename(audio_path), filepath=audio_path,
                                           channel=_free_channel(editor.sequences, 1, max(1, last_frame)),
                                           frame_start=1)
    except (RuntimeError, TypeError) as error:
        raise AnimateError(f"Blender cannot add {audio_path} as a sound strip: {error}") from error
    strip[STRIP_TAG] = 1
    for old in earlier:
        editor.sequences.remove(old)
    scene.sync_mode = "AUDIO_SYNC"
    return strip


def write_action(keys, name, matched_columns, weights, interpolation="LINEAR"):
    """A new action on `keys` (a Key ID) with one F-curve per (shape key name, column):
    key_blocks["name"].value keyed at frames 1..N with weights[:, column]."""
    import numpy as np

    frame_count = len(weights)
    action = bpy.data.actions.new(name)
    frames = np.arange(1, frame_count + 1, dtype=np.float32)
    interpolation_values = np.full(frame_count, _INTERPOLATION_VALUES[interpolation], dtype=np.int32)
    for shape_name, column in matched_columns:
        path = f'key_blocks["{bpy.utils.escape_identifier(shape_name)}"].value'
        fcurve = action.fcurves.new(data_path=path, action_group="KMTalk")
        points = fcurve.keyframe_points
        points.add(frame_count)
        co = np.empty(2 * frame_count, dtype=np.float32)
        co[0::2] = frames
        co[1::2] = weights[:, column]
        points.foreach_set("co", co)
        points.foreach_set("interpolation", interpolation_values)
        fcurve.update()
    if keys.animation_data is None:
        keys.animation_data_create()
    keys.animation_data.action = action
    return action


def set_scene_rate(scene, fps):
    """fps as Blender keeps it: an integer rate over fps_base (29.97 -> 30 / 1.001)."""
    whole = max(1, int(round(fps)))
    scene.render.fps = whole
    scene.render.fps_base = whole / fps


def animate_from_audio(context, audio_path, model_path="", library_path="", preferred_model="", fps=None,
                       mode="OFFLINE", latency_ms=150.0, interpolation="LINEAR", add_sound=True,
                       set_frame_range=True):
    """The operator's work; raises AnimateError before changing anything."""
    scene = context.scene
    obj = target_object(context)
    names = shape_key_names(obj)
    if not audio_path:
        raise AnimateError("No audio file given")
    if not os.path.isfile(audio_path):
        raise AnimateError(f"Audio file not found: {audio_path}")
    kmtalk = import_kmtalk(library_path)
    model = resolve_model(kmtalk, model_path, preferred_model)
    if fps is None:
        fps = scene.render.fps / scene.render.fps_base
    try:
        weights, rate, channel_names, animation = run_kmtalk(kmtalk, audio_path, model, fps, mode, latency_ms)
        try:
            with kmtalk.Rig.from_shape_names(names) as rig:
                columns = [int(c) for c in rig.shape_channels(animation)]
                unmatched_channels = list(rig.unmatched_channels(animation))
        finally:
            animation.close()
    except kmtalk.LibraryNotFoundError as error:
        raise AnimateError(f"libKMTalk.so not found: set Library in the add-on preferences or $KMTALK_LIBRARY "
                           f"({error})") from error
    except kmtalk.KMTalkError as error:
        raise AnimateError(f"KMTalk: {error}") from error
    matched = [(name, column) for name, column in zip(names, columns) if column >= 0]
    if not matched:
        raise AnimateError(f"None of the {len(names)} shape keys of '{obj.name}' matches a KMTalk channel "
                           f"(ARKit names such as jawOpen, eyeBlinkLeft, JawOpen, eyeBlink_L): "
                           + ", ".join(names[:10]) + (" ..." if len(names) > 10 else ""))
    frame_count = len(weights)
    if frame_count == 0:
        raise AnimateError(f"{audio_path} is too short for one animation frame")

    # Nothing has changed so far; from here on the scene is written.
    strip = add_sound_strip(scene, audio_path, frame_count) if add_sound else None
    stem = os.path.splitext(os.path.basename(audio_path))[0]
    action = write_action(obj.data.shape_keys, f"KMTalk {stem}", matched, weights, interpolation)
    action["kmtalk_audio"] = audio_path
    action["kmtalk_model"] = model
    action["kmtalk_fps"] = float(rate)
    action["kmtalk_unmatched_channels"] = ",".join(unmatched_channels)
    set_scene_rate(scene, rate)
    if set_frame_range:
        scene.frame_start = 1
        scene.frame_end = frame_count
    return Summary(obj, action, [(name, channel_names[column]) for name, column in matched], unmatched_channels,
                   [name for name, column in zip(names, columns) if column < 0], frame_count, rate, strip)
