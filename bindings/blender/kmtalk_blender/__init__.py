"""KMTalk for Blender: animate a mesh's ARKit shape keys from an audio file.

3D View > Sidebar (N) > KMTalk > Animate from audio. Runs KMTalk through its Python
package (`kmtalk`, vendored into the add-on zip by scripts/build-blender-addon.sh), writes
one F-curve per matched shape key (one keyframe per frame), adds the audio as a sound
strip at frame 1 and sets the scene's fps and frame range. See bindings/blender/README.md.
"""

bl_info = {
    "name": "KMTalk",
    "author": "KMTalk",
    "version": (0, 1, 0),
    "blender": (3, 4, 0),
    "location": "3D View > Sidebar > KMTalk",
    "description": "Speech-driven facial animation: audio file to ARKit shape key animation",
    "category": "Animation",
}

import bpy
from bpy.props import BoolProperty, EnumProperty, FloatProperty, PointerProperty, StringProperty

from . import core

AUDIO_GLOB = "*.wav;*.flac;*.mp3;*.ogg;*.oga;*.opus;*.aif;*.aiff;*.aifc;*.m4a"


def _preferences(context):
    addon = context.preferences.addons.get(__package__)
    return addon.preferences if addon else None


class KMTALK_AddonPreferences(bpy.types.AddonPreferences):
    bl_idname = __package__

    library_path: StringProperty(
        name="Library (libKMTalk.so)",
        description="Path to libKMTalk.so. Empty: $KMTALK_LIBRARY, then the kmtalk package's own search "
                    "(a repository's .build/, the system loader). Read when KMTalk first runs in this session",
        subtype="FILE_PATH",
        default="",
    )
    model_path: StringProperty(
        name="Model",
        description="Default model (.safetensors). Empty: $KMTALK_MODEL, then the kmtalk package's default "
                    "model discovery",
        subtype="FILE_PATH",
        default="",
    )

    def draw(self, context):
        layout = self.layout
        layout.prop(self, "library_path")
        layout.prop(self, "model_path")
        layout.label(text=core.describe_setup(self.library_path, self.model_path))


class KMTALK_Settings(bpy.types.PropertyGroup):
    """The panel's fields (kept with the scene)."""

    audio_path: StringProperty(name="Audio", subtype="FILE_PATH", default="",
                               description="Speech audio file (WAV, FLAC, MP3, Ogg, AIFF, ...)")
    model_path: StringProperty(name="Model", subtype="FILE_PATH", default="",
                               description="Model file; empty: the add-on preferences' model, then the default")
    use_scene_fps: BoolProperty(name="Scene fps", default=True,
                                description="Animate at the scene's frame rate (else at the fps below, which the "
                                            "scene is then set to)")
    fps: FloatProperty(name="fps", default=30.0, min=1.0, max=240.0)
    mode: EnumProperty(name="Mode", items=core.MODE_ITEMS, default="OFFLINE")
    latency_ms: FloatProperty(name="Latency (ms)", default=150.0, min=0.0, max=2000.0,
                              description="Streaming mode: the look-ahead a real-time stream would use")
    interpolation: EnumProperty(name="Interpolation", items=core.INTERPOLATION_ITEMS, default="LINEAR")


class KMTALK_OT_animate_from_audio(bpy.types.Operator):
    """Animate the selected mesh's shape keys from speech with KMTalk"""

    bl_idname = "kmtalk.animate_from_audio"
    bl_label = "Animate from audio"
    bl_options = {"REGISTER", "UNDO"}

    filepath: StringProperty(name="Audio", subtype="FILE_PATH", default="",
                             description="Speech audio file")
    filter_glob: StringProperty(default=AUDIO_GLOB, options={"HIDDEN"})
    model_path: StringProperty(name="Model", subtype="FILE_PATH", default="",
                               description="Model file; empty: the add-on preferences' model, then the default")
    use_scene_fps: BoolProperty(name="Scene fps", default=True)
    fps: FloatProperty(name="fps", default=30.0, min=1.0, max=240.0)
    mode: EnumProperty(name="Mode", items=core.MODE_ITEMS, default="OFFLINE")
    latency_ms: FloatProperty(name="Latency (ms)", default=150.0, min=0.0, max=2000.0)
    interpolation: EnumProperty(name="Interpolation", items=core.INTERPOLATION_ITEMS, default="LINEAR")
    add_sound: BoolProperty(name="Add sound strip", default=True)
    set_frame_range: BoolProperty(name="Set frame range", default=True)

    def invoke(self, context, event):
        if not self.filepath:
            context.window_manager.fileselect_add(self)
            return {"RUNNING_MODAL"}
        return self.execute(context)

    def execute(self, context):
        prefs = _preferences(context)
        try:
            summary = core.animate_from_audio(
                context,
                audio_path=bpy.path.abspath(self.filepath) if self.filepath else "",
                model_path=bpy.path.abspath(self.model_path) if self.model_path else "",
                library_path=bpy.path.abspath(prefs.library_path) if prefs and prefs.library_path else "",
                preferred_model=bpy.path.abspath(prefs.model_path) if prefs and prefs.model_path else "",
                fps=None if self.use_scene_fps else self.fps,
                mode=self.mode,
                latency_ms=self.latency_ms,
                interpolation=self.interpolation,
                add_sound=self.add_sound,
                set_frame_range=self.set_frame_range,
            )
        except core.AnimateError as error:
            self.report({"ERROR"}, str(error))
            return {"CANCELLED"}
        self.report({"INFO"}, summary.message())
        if summary.unmatched_channels:
            self.report({"WARNING"}, summary.unmatched_message())
        return {"FINISHED"}


class KMTALK_PT_panel(bpy.types.Panel):
    bl_label = "KMTalk"
    bl_idname = "KMTALK_PT_panel"
    bl_space_type = "VIEW_3D"
    bl_region_type = "UI"
    bl_category = "KMTalk"

    def draw(self, context):
        layout = self.layout
        settings = context.scene.kmtalk
        obj = context.active_object
        keys = obj.data.shape_keys if obj is not None and obj.type == "MESH" else None
        if obj is None or obj.type != "MESH":
            layout.label(text="Select a mesh with shape keys", icon="ERROR")
        elif keys is None:
            layout.label(text=f"{obj.name}: no shape keys", icon="ERROR")
        else:
            layout.label(text=f"{obj.name}: {len(keys.key_blocks) - 1} shape keys", icon="SHAPEKEY_DATA")
        layout.prop(settings, "audio_path")
        layout.prop(settings, "model_path")
        row = layout.row(align=True)
        row.prop(settings, "use_scene_fps")
        sub = row.row(align=True)
        sub.enabled = not settings.use_scene_fps
        sub.prop(settings, "fps")
        layout.prop(settings, "mode")
        if settings.mode == "STREAMING":
            layout.prop(settings, "latency_ms")
        layout.prop(settings, "interpolation")
        op = layout.operator(KMTALK_OT_animate_from_audio.bl_idname, icon="SPEAKER")
        op.filepath = settings.audio_path
        op.model_path = settings.model_path
        op.use_scene_fps = settings.use_scene_fps
        op.fps = settings.fps
        op.mode = settings.mode
        op.latency_ms = settings.latency_ms
        op.interpolation = settings.interpolation


classes = (KMTALK_AddonPreferences, KMTALK_Settings, KMTALK_OT_animate_from_audio, KMTALK_PT_panel)


def register():
    for cls in classes:
        bpy.utils.register_class(cls)
    bpy.types.Scene.kmtalk = PointerProperty(type=KMTALK_Settings)


def unregister():
    del bpy.types.Scene.kmtalk
    for cls in reversed(classes):
        bpy.utils.unregister_class(cls)
