// SPDX-License-Identifier: MIT
// The enums of include/kmtalk.h, spelled the C# way. Their values are the C values
// (bindings/csharp/tests/layout.py compares every constant with the header's).

namespace KMTalk
{
    /// <summary>Result of every fallible call (<c>kmt_status</c>). Values are stable; new ones are appended.</summary>
    public enum Status
    {
        /// <summary><c>KMT_OK</c>: success.</summary>
        Ok = 0,
        /// <summary><c>KMT_ERR_INVALID_ARGUMENT</c>: a NULL pointer, a value out of range, a struct_size too small.</summary>
        InvalidArgument = 1,
        /// <summary><c>KMT_ERR_IO</c>: a file could not be opened or read (missing, permissions, I/O error).</summary>
        Io = 2,
        /// <summary><c>KMT_ERR_UNSUPPORTED_FORMAT</c>: the file is not in a format KMTalk reads.</summary>
        UnsupportedFormat = 3,
        /// <summary><c>KMT_ERR_INVALID_AUDIO</c>: audio that decodes but cannot be used (empty, corrupt, non-finite, bad rate).</summary>
        InvalidAudio = 4,
        /// <summary><c>KMT_ERR_CORRUPT_MODEL</c>: a model file that breaks the container rules or lacks a tensor.</summary>
        CorruptModel = 5,
        /// <summary><c>KMT_ERR_INCOMPATIBLE_MODEL</c>: a well-formed model this library cannot run.</summary>
        IncompatibleModel = 6,
        /// <summary><c>KMT_ERR_OUT_OF_MEMORY</c>: an allocation failed or a size would overflow.</summary>
        OutOfMemory = 7,
        /// <summary><c>KMT_ERR_BUFFER_TOO_SMALL</c>: a caller buffer is too small.</summary>
        BufferTooSmall = 8,
        /// <summary><c>KMT_ERR_INTERNAL</c>: a bug in KMTalk.</summary>
        Internal = 9,
        /// <summary><c>KMT_ERR_CORRUPT_RIG</c>: a rig file that breaks the container or rig rules.</summary>
        CorruptRig = 10,
        /// <summary><c>KMT_ERR_CANCELLED</c>: a progress callback asked to stop; nothing was returned or written.</summary>
        Cancelled = 11,
    }

    /// <summary>Severity of a log message (<c>kmt_log_level</c>).</summary>
    public enum LogLevel
    {
        /// <summary><c>KMT_LOG_DEBUG</c>.</summary>
        Debug = 0,
        /// <summary><c>KMT_LOG_INFO</c>.</summary>
        Info = 1,
        /// <summary><c>KMT_LOG_WARNING</c>.</summary>
        Warning = 2,
        /// <summary><c>KMT_LOG_ERROR</c>.</summary>
        Error = 3,
    }

    /// <summary>What to do with NaN, infinite or absurdly large (|x| &gt; 1000) input samples (<c>kmt_nonfinite_policy</c>).</summary>
    public enum NonfinitePolicy
    {
        /// <summary><c>KMT_NONFINITE_REJECT</c>: fail with <see cref="Status.InvalidAudio"/> (default).</summary>
        Reject = 0,
        /// <summary><c>KMT_NONFINITE_ZERO</c>: replace every such sample with silence and go on.</summary>
        Zero = 1,
    }

    /// <summary>Whether <see cref="Animation.Vertices"/> writes positions or offsets (<c>kmt_vertex_mode</c>).</summary>
    public enum VertexMode
    {
        /// <summary><c>KMT_VERTICES_ABSOLUTE</c>: the neutral vertices plus the weighted deltas.</summary>
        Absolute = 0,
        /// <summary><c>KMT_VERTICES_OFFSETS</c>: the weighted deltas alone.</summary>
        Offsets = 1,
    }

    /// <summary>File formats of <see cref="Animation.Save"/> (<c>kmt_export_format</c>; include/kmtalk.h describes each).</summary>
    public enum ExportFormat
    {
        /// <summary><c>KMT_EXPORT_AUTO</c>: by the path's extension (.json, .csv, .npy, .glb, .obj, .ply, .tsv).</summary>
        Auto = 0,
        /// <summary><c>KMT_EXPORT_JSON</c>: fps, channels and frames as JSON (6 decimals).</summary>
        Json = 1,
        /// <summary><c>KMT_EXPORT_CSV</c>: "time,&lt;channel&gt;,..." rows.</summary>
        Csv = 2,
        /// <summary><c>KMT_EXPORT_LIVE_LINK_CSV</c>: the Live Link Face app's CSV (Unreal).</summary>
        LiveLinkCsv = 3,
        /// <summary><c>KMT_EXPORT_NPY</c>: NumPy float32, weights or (with a rig) posed vertices.</summary>
        Npy = 4,
        /// <summary><c>KMT_EXPORT_GLB</c>: glTF binary with morph targets and the animation (needs a rig).</summary>
        Glb = 5,
        /// <summary><c>KMT_EXPORT_OBJ</c>: one Wavefront OBJ per frame (needs a rig).</summary>
        Obj = 6,
        /// <summary><c>KMT_EXPORT_PLY</c>: one binary PLY per frame (needs a rig).</summary>
        Ply = 7,
        /// <summary><c>KMT_EXPORT_MOUTH_CUES_TSV</c>: Rhubarb Lip Sync mouth cues, TSV.</summary>
        MouthCuesTsv = 8,
        /// <summary><c>KMT_EXPORT_MOUTH_CUES_JSON</c>: Rhubarb Lip Sync mouth cues, JSON.</summary>
        MouthCuesJson = 9,
        /// <summary><c>KMT_EXPORT_GLB_SPARSE</c>: GLB with sparse morph targets.</summary>
        GlbSparse = 10,
        /// <summary><c>KMT_EXPORT_PHONES_TSV</c>: the recognized phones with times and confidence.</summary>
        PhonesTsv = 11,
        /// <summary><c>KMT_EXPORT_MOUTH_CUES_XML</c>: Rhubarb Lip Sync mouth cues, XML.</summary>
        MouthCuesXml = 12,
        /// <summary><c>KMT_EXPORT_MOUTH_CUES_DAT</c>: mouth cues as a Moho switch-layer data file.</summary>
        MouthCuesDat = 13,
    }
}
