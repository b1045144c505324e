// SPDX-License-Identifier: MIT
// Native.cs -- P/Invoke declarations of the KMTalk C API (include/kmtalk.h).
//
// Every struct, enum, integer #define and function of the header has its twin here, with
// the C names, so that bindings/csharp/tests/layout.py can compare them with what the C
// compiler makes of the header: struct sizes and field offsets, enum and #define values,
// and each function's parameter and return types (scripts/test-csharp.sh runs it). The
// by-value kmt_*_default_params() of 0.1 are gone (the _init functions replace
// them, as the header asks).
//
// Conventions:
// - size_t is UIntPtr, pointers are IntPtr, the handle pointers are the SafeHandle
//   subclasses of Handles.cs (the marshaller keeps a handle alive and un-freed during a
//   call, so a Dispose on another thread cannot free it underneath the library).
// - Strings going in are NUL-terminated UTF-8 byte[] (Utf8.Encode), so paths and names
//   are UTF-8 on every platform; strings coming out are IntPtr decoded by Utf8.Decode.
// - Getters return Status and write an `out` parameter (kmtalk.h, "The one rule for
//   reading values"); the wrappers pass each status to KMTalkException.Check.
// - Caller buffers are `ref T` to the first element (MemoryMarshal.GetReference of a
//   Span), pinned by the marshaller for the call: no unsafe code, no copies.
// - No struct holds a managed reference, so every struct is blittable and passed by ref.
using System;
using System.Runtime.InteropServices;

namespace KMTalk
{
    /// <summary>The raw C API. Internal: use <see cref="Model"/>, <see cref="Session"/>,
    /// <see cref="Animation"/> and <see cref="Rig"/>.</summary>
    internal static class Native
    {
        /// <summary>The library's name for DllImport: libKMTalk.so (Linux), KMTalk.dll
        /// (Windows), libKMTalk.dylib (macOS); the runtime adds prefix and suffix.</summary>
        internal const string Lib = "KMTalk";

        // ---- #defines ----------------------------------------------------------------
        internal const int KMT_VERSION_MAJOR = 1;
        internal const int KMT_VERSION_MINOR = 0;
        internal const int KMT_VERSION_PATCH = 0;
        internal const string KMT_VERSION_STRING = "1.0.0";
        internal const int KMT_VERSION_NUMBER = KMT_VERSION_MAJOR * 10000 + KMT_VERSION_MINOR * 100 + KMT_VERSION_PATCH;
        internal const uint KMT_RIG_IMPORT_ALL_OBJS = 1u;
        internal const uint KMT_RIG_IMPORT_ALLOW_OUTSIDE_FILES = 2u;
        internal const uint KMT_RIG_SAVE_HALF = 1u;
        internal const int KMT_LATENCY_EXACT = -1;

        // ---- callbacks ---------------------------------------------------------------
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        internal delegate void kmt_log_callback(LogLevel level, IntPtr message, IntPtr user_data);

        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        internal delegate int kmt_progress_callback(float fraction, IntPtr stage, IntPtr user_data);

        // ---- parameter structs (fields only appended; struct_size first) ----------------
        [StructLayout(LayoutKind.Sequential)]
        internal struct kmt_model_params
        {
            public UIntPtr struct_size;
            public uint flags;
            public uint reserved;
        }

        [StructLayout(LayoutKind.Sequential)]
        internal struct kmt_session_params
        {
            public UIntPtr struct_size;
            public int n_threads;
            public NonfinitePolicy nonfinite_policy;
            public double output_fps;
            public double latency_ms;
            /// <summary>kmt_progress_callback as a function pointer (Marshal.GetFunctionPointerForDelegate).</summary>
            public IntPtr progress;
            public IntPtr progress_user_data;
        }

        [StructLayout(LayoutKind.Sequential)]
        internal struct kmt_rig_import_params
        {
            public UIntPtr struct_size;
            public IntPtr mesh;
            public IntPtr neutral;
            public IntPtr units;
            public uint flags;
            public uint reserved;
            public IntPtr progress;
            public IntPtr progress_user_data;
        }

        [StructLayout(LayoutKind.Sequential)]
        internal struct kmt_export_params
        {
            public UIntPtr struct_size;
            public IntPtr progress;
            public IntPtr progress_user_data;
            public IntPtr mouth_cue_extended_shapes;
        }

        [StructLayout(LayoutKind.Sequential)]
        internal struct kmt_stage_time
        {
            public IntPtr stage;
            public double seconds;
        }

        [StructLayout(LayoutKind.Sequential)]
        internal struct kmt_audio_params
        {
            public UIntPtr struct_size;
            public int sample_rate;
            public NonfinitePolicy nonfinite_policy;
            public IntPtr progress;
            public IntPtr progress_user_data;
        }

        // ---- versions, errors, log -------------------------------------------------------
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern IntPtr kmt_version();

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int kmt_version_number();

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern IntPtr kmt_status_string(Status status);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern IntPtr kmt_last_error();

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern void kmt_log_set(kmt_log_callback callback, LogLevel min_level, IntPtr user_data);

        // ---- models ------------------------------------------------------------------------
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern Status kmt_model_params_init(ref kmt_model_params @params, UIntPtr struct_size);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern Status kmt_model_load_file(byte[] path, ref kmt_model_params @params, out ModelHandle out_model);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern Status kmt_model_load_memory(ref byte data, UIntPtr size, ref kmt_model_params @params, out ModelHandle out_model);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern void kmt_model_free(IntPtr model);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern Status kmt_model_architecture(ModelHandle model, out IntPtr out_name);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern Status kmt_model_motion_space(ModelHandle model, out IntPtr out_space);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern Status kmt_model_sample_rate(ModelHandle model, out int out_rate);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern Status kmt_model_fps(ModelHandle model, out double out_fps);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern Status kmt_model_channel_count(ModelHandle model, out UIntPtr out_count);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern Status kmt_model_channel_name(ModelHandle model, UIntPtr index, out IntPtr out_name);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern Status kmt_model_parameter_count(ModelHandle model, out ulong out_count);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern Status kmt_model_metadata(ModelHandle model, byte[] key, byte[] buffer, UIntPtr buffer_size, out UIntPtr out_length);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern Status kmt_model_log_mel(ModelHandle model, ref float samples, UIntPtr sample_count, ref float buffer, UIntPtr buffer_length, out UIntPtr out_written, out UIntPtr out_bands);

        // ---- sessions ----------------------------------------------------------------------
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern Status kmt_session_params_init(ref kmt_session_params @params, UIntPtr struct_size);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern Status kmt_session_create(ModelHandle model, ref kmt_session_params @params, out SessionHandle out_session);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern void kmt_session_free(IntPtr session);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern Status kmt_animate_file(SessionHandle session, byte[] path, out AnimationHandle out_animation);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern Status kmt_animate_pcm(SessionHandle session, ref float samples, UIntPtr frame_count, int sample_rate, int channels, out AnimationHandle out_animation);

        // ---- streaming -----------------------------------------------------------------------
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern Status kmt_session_push_f32(SessionHandle session, ref float pcm, UIntPtr frames, int sample_rate, int channels);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern Status kmt_session_push_s16(SessionHandle session, ref short pcm, UIntPtr frames, int sample_rate, int channels);

        // The batched pushes take arrays of raw pointers: the caller (Session.PushMany) holds a
        // reference on every SafeHandle (DangerousAddRef) and pins every block for the call.
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern Status kmt_sessions_push_f32(IntPtr[] sessions, UIntPtr count, IntPtr[] pcm, UIntPtr[] frames, int sample_rate, int channels, [Out] Status[] out_statuses);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern Status kmt_sessions_push_s16(IntPtr[] sessions, UIntPtr count, IntPtr[] pcm, UIntPtr[] frames, int sample_rate, int channels, [Out] Status[] out_statuses);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern Status kmt_session_pull(SessionHandle session, ref float buffer, UIntPtr buffer_length, out UIntPtr out_frames, out double out_first_time);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern Status kmt_session_flush(SessionHandle session);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern Status kmt_session_reset(SessionHandle session);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern Status kmt_session_pending_frames(SessionHandle session, out UIntPtr out_frames);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern Status kmt_session_latency_ms(SessionHandle session, out double out_ms);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern Status kmt_session_exact_latency_ms(SessionHandle session, out double out_ms);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern Status kmt_session_set_latency_ms(SessionHandle session, double latency_ms);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern Status kmt_session_output_fps(SessionHandle session, out double out_fps);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern Status kmt_session_stage_times(SessionHandle session, [Out] kmt_stage_time[] buffer, UIntPtr buffer_length, out UIntPtr out_count);

        // ---- audio decoding --------------------------------------------------------------------
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern Status kmt_audio_params_init(ref kmt_audio_params @params, UIntPtr struct_size);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern Status kmt_audio_load_file(byte[] path, ref kmt_audio_params @params, out AudioHandle out_audio);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern Status kmt_audio_load_memory(ref byte data, UIntPtr size, ref kmt_audio_params @params, out AudioHandle out_audio);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern void kmt_audio_free(IntPtr audio);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern Status kmt_audio_sample_rate(AudioHandle audio, out int out_rate);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern Status kmt_audio_sample_count(AudioHandle audio, out UIntPtr out_count);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern Status kmt_audio_samples(AudioHandle audio, out IntPtr out_samples);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern Status kmt_audio_source_rate(AudioHandle audio, out int out_rate);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern Status kmt_audio_source_channels(AudioHandle audio, out int out_channels);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern Status kmt_audio_format_name(AudioHandle audio, out IntPtr out_name);

        // ---- animations ----------------------------------------------------------------------
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern void kmt_animation_free(IntPtr animation);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern Status kmt_animation_frame_count(AnimationHandle animation, out UIntPtr out_count);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern Status kmt_animation_channel_count(AnimationHandle animation, out UIntPtr out_count);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern Status kmt_animation_fps(AnimationHandle animation, out double out_fps);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern Status kmt_animation_channel_name(AnimationHandle animation, UIntPtr index, out IntPtr out_name);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern Status kmt_animation_read_frames(AnimationHandle animation, UIntPtr first_frame, UIntPtr frame_count, ref float buffer, UIntPtr buffer_length, out UIntPtr out_written);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern Status kmt_animation_remap(AnimationHandle animation, byte[] channel_map_json, out AnimationHandle out_animation);

        // ---- rigs ------------------------------------------------------------------------------
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern Status kmt_rig_load_file(byte[] path, out RigHandle out_rig);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern Status kmt_rig_load_memory(ref byte data, UIntPtr size, out RigHandle out_rig);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern Status kmt_rig_import_params_init(ref kmt_rig_import_params @params, UIntPtr struct_size);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern Status kmt_rig_import_file(byte[] path, ref kmt_rig_import_params @params, out RigHandle out_rig);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern Status kmt_rig_save(RigHandle rig, byte[] path, uint flags);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern void kmt_rig_free(IntPtr rig);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern Status kmt_rig_vertex_count(RigHandle rig, out UIntPtr out_count);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern Status kmt_rig_face_count(RigHandle rig, out UIntPtr out_count);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern Status kmt_rig_shape_count(RigHandle rig, out UIntPtr out_count);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern Status kmt_rig_shape_name(RigHandle rig, UIntPtr index, out IntPtr out_name);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern Status kmt_rig_metadata(RigHandle rig, byte[] key, byte[] buffer, UIntPtr buffer_size, out UIntPtr out_length);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern Status kmt_rig_read_vertices(RigHandle rig, ref float buffer, UIntPtr buffer_length, out UIntPtr out_written);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern Status kmt_rig_read_faces(RigHandle rig, ref int buffer, UIntPtr buffer_length, out UIntPtr out_written);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern Status kmt_rig_read_deltas(RigHandle rig, UIntPtr shape, ref float buffer, UIntPtr buffer_length, out UIntPtr out_written);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern Status kmt_animation_vertices(AnimationHandle animation, RigHandle rig, UIntPtr first_frame, UIntPtr frame_count, VertexMode mode, ref float buffer, UIntPtr buffer_length, out UIntPtr out_written);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern Status kmt_animation_vertex_count(AnimationHandle animation, out UIntPtr out_count);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern Status kmt_animation_read_faces(AnimationHandle animation, ref int buffer, UIntPtr buffer_length, out UIntPtr out_written);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern Status kmt_rig_unmatched_channels(RigHandle rig, AnimationHandle animation, ref UIntPtr buffer, UIntPtr buffer_length, out UIntPtr out_count);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern Status kmt_rig_unmatched_shapes(RigHandle rig, AnimationHandle animation, ref UIntPtr buffer, UIntPtr buffer_length, out UIntPtr out_count);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern Status kmt_rig_shape_channels(RigHandle rig, AnimationHandle animation, ref int buffer, UIntPtr buffer_length, out UIntPtr out_written);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern Status kmt_rig_match_names(RigHandle rig, IntPtr[] names, UIntPtr name_count, ref int buffer, UIntPtr buffer_length, out UIntPtr out_written);

        // ---- export ------------------------------------------------------------------------------
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern Status kmt_animation_save(AnimationHandle animation, RigHandle rig, byte[] path, ExportFormat format);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern Status kmt_animation_save_into_glb(AnimationHandle animation, byte[] asset_path, byte[] path);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern Status kmt_animation_save_to_memory(AnimationHandle animation, RigHandle rig, ExportFormat format, ref byte buffer, UIntPtr buffer_size, out UIntPtr out_size);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern Status kmt_export_params_init(ref kmt_export_params @params, UIntPtr struct_size);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern Status kmt_animation_save_with_params(AnimationHandle animation, RigHandle rig, byte[] path, ExportFormat format, ref kmt_export_params @params);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern Status kmt_animation_save_to_memory_with_params(AnimationHandle animation, RigHandle rig, ExportFormat format, ref kmt_export_params @params, ref byte buffer, UIntPtr buffer_size, out UIntPtr out_size);
    }
}
