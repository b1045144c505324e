// SPDX-License-Identifier: MIT
using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace KMTalk
{
    /// <summary>Options of <see cref="Rig.Import"/> (<c>kmt_rig_import_params</c>).</summary>
    public sealed class RigImportOptions
    {
        /// <summary>glTF: the mesh to import, by name or index; null: the mesh with morph targets.</summary>
        public string Mesh { get; set; }

        /// <summary>OBJ folder: the neutral mesh's file name; null: the OBJ whose name contains "neutral".</summary>
        public string Neutral { get; set; }

        /// <summary>OBJ folder: "m", "cm" or "mm"; null: guessed from the head's size.</summary>
        public string Units { get; set; }

        /// <summary>Import every OBJ of a folder even when an ICT-FaceKit manifest lists fewer.</summary>
        public bool AllObjs { get; set; }

        /// <summary>Follow references that leave the asset's folder (off by default).</summary>
        public bool AllowOutsideFiles { get; set; }

        /// <summary>Progress and cancellation of the import (stage "import"). Null: none.</summary>
        public ProgressCallback Progress { get; set; }
    }

    /// <summary>
    /// A character rig (<c>kmt_rig</c>): a neutral mesh plus named blendshapes, immutable
    /// and shareable across threads. Dispose frees it (<c>kmt_rig_free</c>); after it,
    /// members throw <see cref="ObjectDisposedException"/>.
    /// </summary>
    public sealed class Rig : IDisposable
    {
        private readonly RigHandle handle;
        private ReadOnlyCollection<string> shapeNames;

        /// <summary>Loads a kmtalk-rig safetensors file (<c>kmt_rig_load_file</c>).</summary>
        /// <exception cref="KMTalkException">Io, UnsupportedFormat, CorruptRig, OutOfMemory.</exception>
        public Rig(string path)
        {
            if (path == null) throw new ArgumentNullException("path");
            KMTalkException.Check(Native.kmt_rig_load_file(Utf8.Encode(path, "path"), out handle), "kmt_rig_load_file");
        }

        private Rig(RigHandle handle) { this.handle = handle; }

        /// <summary>Loads a rig from its bytes (<c>kmt_rig_load_memory</c>; the bytes are copied).</summary>
        public static Rig FromMemory(byte[] data)
        {
            if (data == null) throw new ArgumentNullException("data");
            return FromMemory(new ReadOnlySpan<byte>(data));
        }

        /// <summary>Loads a rig from its bytes (<c>kmt_rig_load_memory</c>).</summary>
        public static Rig FromMemory(ReadOnlySpan<byte> data)
        {
            RigHandle h;
            KMTalkException.Check(Native.kmt_rig_load_memory(ref Interop.First(data), Interop.Size(data.Length), out h), "kmt_rig_load_memory");
            return new Rig(h);
        }

        /// <summary>Imports a glTF 2.0 file (.gltf, .glb) with morph targets, or a folder of OBJ
        /// files (a neutral mesh plus one per shape) (<c>kmt_rig_import_file</c>).</summary>
        public static Rig Import(string path, RigImportOptions options = null)
        {
            if (path == null) throw new ArgumentNullException("path");
            var p = Interop.RigImportParams();
            var relay = options != null && options.Progress != null ? new ProgressRelay { Callback = options.Progress } : null;
            GCHandle relayHandle = relay != null ? GCHandle.Alloc(relay) : default(GCHandle);
            try
            {
                if (options != null)
                {
                    p.mesh = Utf8.Alloc(options.Mesh, "Mesh");
                    p.neutral = Utf8.Alloc(options.Neutral, "Neutral");
                    p.units = Utf8.Alloc(options.Units, "Units");
                    p.flags = (options.AllObjs ? Native.KMT_RIG_IMPORT_ALL_OBJS : 0u) |
                              (options.AllowOutsideFiles ? Native.KMT_RIG_IMPORT_ALLOW_OUTSIDE_FILES : 0u);
                }
                if (relay != null)
                {
                    p.progress = ProgressRelay.Pointer;
                    p.progress_user_data = GCHandle.ToIntPtr(relayHandle);
                }
                RigHandle h;
                Status status = Native.kmt_rig_import_file(Utf8.Encode(path, "path"), ref p, out h);
                if (status != Status.Ok && h != null) h.Dispose();
                if (relay != null) relay.Check(status, "kmt_rig_import_file");
                KMTalkException.Check(status, "kmt_rig_import_file");
                return new Rig(h);
            }
            finally
            {
                Marshal.FreeHGlobal(p.mesh);
                Marshal.FreeHGlobal(p.neutral);
                Marshal.FreeHGlobal(p.units);
                if (relayHandle.IsAllocated) relayHandle.Free();
            }
        }

        /// <summary>
        /// A rig made only of shape names (one triangle, all deltas zero), built in memory and
        /// loaded with <c>kmt_rig_load_memory</c>: the way to run the library's name matching
        /// (<see cref="ShapeChannels"/>) on a character whose mesh lives elsewhere, such as a
        /// Unity SkinnedMeshRenderer. Names must be unique and non-empty.
        /// </summary>
        public static Rig FromShapeNames(IReadOnlyList<string> names)
        {
            if (names == null) throw new ArgumentNullException("names");
            if (names.Count == 0) throw new ArgumentException("a rig needs at least one shape", "names");
            var channels = new StringBuilder("[");
            for (int i = 0; i < names.Count; i++)
            {
                if (names[i] == null) throw new ArgumentNullException("names", "shape " + i + " is null");
                if (i > 0) channels.Append(',');
                AppendJsonString(channels, names[i]);
            }
            channels.Append(']');
            int shapes = names.Count;
            long deltaBytes = (long)shapes * 3 * 3 * 4;
            var header = new StringBuilder("{\"__metadata__\":{");
            header.Append("\"format\":\"kmtalk-rig\",\"format_version\":\"1\",\"units\":\"m\",\"up_axis\":\"+y\",\"forward_axis\":\"+z\",");
            header.Append("\"generator\":\"KMTalk C# binding (shape-name matching)\",\"channels\":");
            AppendJsonString(header, channels.ToString());
            header.Append("},\"vertices\":{\"dtype\":\"F32\",\"shape\":[3,3],\"data_offsets\":[0,36]},");
            header.Append("\"faces\":{\"dtype\":\"I32\",\"shape\":[1,3],\"data_offsets\":[36,48]},");
            header.Append("\"deltas\":{\"dtype\":\"F32\",\"shape\":[").Append(shapes.ToString(CultureInfo.InvariantCulture));
            header.Append(",3,3],\"data_offsets\":[48,").Append((48 + deltaBytes).ToString(CultureInfo.InvariantCulture)).Append("]}}");
            while ((Encoding.UTF8.GetByteCount(header.ToString()) % 8) != 0) header.Append(' ');
            byte[] headerBytes = Encoding.UTF8.GetBytes(header.ToString());
            var file = new byte[checked(8 + headerBytes.Length + 48 + deltaBytes)];
            BitConverter.GetBytes((ulong)headerBytes.Length).CopyTo(file, 0);
            if (!BitConverter.IsLittleEndian) Array.Reverse(file, 0, 8);
            headerBytes.CopyTo(file, 8);
            int data = 8 + headerBytes.Length;
            // vertices (0,0,0) (1,0,0) (0,1,0); faces 0 1 2; deltas zero.
            WriteSingle(file, data + 3 * 4, 1f);
            WriteSingle(file, data + 7 * 4, 1f);
            WriteInt(file, data + 36 + 4, 1);
            WriteInt(file, data + 36 + 8, 2);
            return FromMemory(file);
        }

        private static void WriteSingle(byte[] file, int offset, float value)
        {
            byte[] b = BitConverter.GetBytes(value);
            if (!BitConverter.IsLittleEndian) Array.Reverse(b);
            b.CopyTo(file, offset);
        }

        private static void WriteInt(byte[] file, int offset, int value)
        {
            byte[] b = BitConverter.GetBytes(value);
            if (!BitConverter.IsLittleEndian) Array.Reverse(b);
            b.CopyTo(file, offset);
        }

        private static void AppendJsonString(StringBuilder json, string text)
        {
            json.Append('"');
            foreach (char c in text)
            {
                switch (c)
                {
                    case '"': json.Append("\\\""); break;
                    case '\\': json.Append("\\\\"); break;
                    default:
                        if (c < 0x20) json.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                        else json.Append(c);
                        break;
                }
            }
            json.Append('"');
        }

        /// <summary>The owned handle, for calls of the C API this binding does not wrap.</summary>
        public RigHandle Handle { get { return handle; } }

        /// <summary>True once <see cref="Dispose"/> ran.</summary>
        public bool IsDisposed { get { return handle.IsClosed; } }

        internal RigHandle Live
        {
            get
            {
                if (handle.IsClosed) throw new ObjectDisposedException("KMTalk.Rig");
                return handle;
            }
        }

        /// <summary>The number of vertices V of the neutral mesh.</summary>
        public int VertexCount
        {
            get
            {
                UIntPtr count;
                KMTalkException.Check(Native.kmt_rig_vertex_count(Live, out count), "kmt_rig_vertex_count");
                return Interop.ToInt(count);
            }
        }

        /// <summary>The number of triangles F.</summary>
        public int FaceCount
        {
            get
            {
                UIntPtr count;
                KMTalkException.Check(Native.kmt_rig_face_count(Live, out count), "kmt_rig_face_count");
                return Interop.ToInt(count);
            }
        }

        /// <summary>The number of blendshapes S.</summary>
        public int ShapeCount
        {
            get
            {
                UIntPtr count;
                KMTalkException.Check(Native.kmt_rig_shape_count(Live, out count), "kmt_rig_shape_count");
                return Interop.ToInt(count);
            }
        }

        /// <summary>The blendshapes' names.</summary>
        public IReadOnlyList<string> ShapeNames
        {
            get
            {
                if (shapeNames == null)
                {
                    var names = new string[ShapeCount];
                    for (int i = 0; i < names.Length; i++)
                    {
                        IntPtr name;
                        KMTalkException.Check(Native.kmt_rig_shape_name(Live, (UIntPtr)(uint)i, out name), "kmt_rig_shape_name");
                        names[i] = Utf8.Decode(name);
                    }
                    shapeNames = new ReadOnlyCollection<string>(names);
                }
                return shapeNames;
            }
        }

        /// <summary>The metadata value under <paramref name="key"/> ("units", "description", ...)
        /// (<c>kmt_rig_metadata</c>).</summary>
        /// <exception cref="KMTalkException">InvalidArgument for a missing key.</exception>
        public string GetMetadata(string key)
        {
            RigHandle h = Live;
            return Interop.Metadata((byte[] k, byte[] b, UIntPtr s, out UIntPtr l) => Native.kmt_rig_metadata(h, k, b, s, out l),
                                    key, "kmt_rig_metadata", true);
        }

        /// <summary>The metadata value under <paramref name="key"/>, or false when the rig has none.</summary>
        public bool TryGetMetadata(string key, out string value)
        {
            RigHandle h = Live;
            value = Interop.Metadata((byte[] k, byte[] b, UIntPtr s, out UIntPtr l) => Native.kmt_rig_metadata(h, k, b, s, out l),
                                     key, "kmt_rig_metadata", false);
            return value != null;
        }

        /// <summary>The neutral vertex positions, V x 3 floats (<c>kmt_rig_read_vertices</c>).</summary>
        public float[] ReadVertices()
        {
            var vertices = new float[checked(VertexCount * 3)];
            UIntPtr written;
            KMTalkException.Check(Native.kmt_rig_read_vertices(Live, ref Interop.First(new Span<float>(vertices)), Interop.Size(vertices.Length), out written), "kmt_rig_read_vertices");
            return vertices;
        }

        /// <summary>The triangles, F x 3 vertex indices (<c>kmt_rig_read_faces</c>).</summary>
        public int[] ReadFaces()
        {
            var faces = new int[checked(FaceCount * 3)];
            UIntPtr written;
            KMTalkException.Check(Native.kmt_rig_read_faces(Live, ref Interop.First(new Span<int>(faces)), Interop.Size(faces.Length), out written), "kmt_rig_read_faces");
            return faces;
        }

        /// <summary>Blendshape <paramref name="shape"/>'s deltas, V x 3 floats: each vertex's
        /// offset from the neutral mesh at weight 1 (<c>kmt_rig_read_deltas</c>).</summary>
        public float[] ReadDeltas(int shape)
        {
            if (shape < 0 || shape >= ShapeCount)
                throw new ArgumentOutOfRangeException(nameof(shape), $"shape {shape} is out of range: the rig has {ShapeCount} shapes");
            var deltas = new float[checked(VertexCount * 3)];
            UIntPtr written;
            KMTalkException.Check(Native.kmt_rig_read_deltas(Live, (UIntPtr)(uint)shape, ref Interop.First(new Span<float>(deltas)), Interop.Size(deltas.Length), out written), "kmt_rig_read_deltas");
            return deltas;
        }

        /// <summary>Writes the rig as a kmtalk-rig safetensors file, atomically
        /// (<c>kmt_rig_save</c>); <paramref name="half"/> stores the deltas as float16.</summary>
        public void Save(string path, bool half = false)
        {
            if (path == null) throw new ArgumentNullException("path");
            KMTalkException.Check(Native.kmt_rig_save(Live, Utf8.Encode(path, "path"), half ? Native.KMT_RIG_SAVE_HALF : 0u), "kmt_rig_save");
        }

        /// <summary>Per rig shape, the index of the <paramref name="animation"/> channel that
        /// drives it, or -1 (<c>kmt_rig_shape_channels</c>).</summary>
        public int[] ShapeChannels(Animation animation)
        {
            if (animation == null) throw new ArgumentNullException("animation");
            var channels = new int[ShapeCount];
            UIntPtr written;
            KMTalkException.Check(Native.kmt_rig_shape_channels(Live, animation.Live, ref Interop.First(new Span<int>(channels)),
                Interop.Size(channels.Length), out written), "kmt_rig_shape_channels");
            return channels;
        }

        /// <summary>The indices of the animation channels that drive no shape (<c>kmt_rig_unmatched_channels</c>).</summary>
        public int[] UnmatchedChannels(Animation animation)
        {
            if (animation == null) throw new ArgumentNullException("animation");
            AnimationHandle a = animation.Live;
            return Indices((ref UIntPtr b, UIntPtr n, out UIntPtr c) => Native.kmt_rig_unmatched_channels(Live, a, ref b, n, out c), "kmt_rig_unmatched_channels");
        }

        /// <summary>The indices of the rig shapes no channel drives (<c>kmt_rig_unmatched_shapes</c>).</summary>
        public int[] UnmatchedShapes(Animation animation)
        {
            if (animation == null) throw new ArgumentNullException("animation");
            AnimationHandle a = animation.Live;
            return Indices((ref UIntPtr b, UIntPtr n, out UIntPtr c) => Native.kmt_rig_unmatched_shapes(Live, a, ref b, n, out c), "kmt_rig_unmatched_shapes");
        }

        private delegate Status IndexCall(ref UIntPtr buffer, UIntPtr length, out UIntPtr count);

        private static int[] Indices(IndexCall call, string function)
        {
            UIntPtr count;
            Status status = call(ref Interop.First(Span<UIntPtr>.Empty), UIntPtr.Zero, out count);
            if (status != Status.BufferTooSmall) KMTalkException.Check(status, function);
            var raw = new UIntPtr[Interop.ToInt(count)];
            if (raw.Length > 0)
                KMTalkException.Check(call(ref raw[0], Interop.Size(raw.Length), out count), function);
            var result = new int[raw.Length];
            for (int i = 0; i < raw.Length; i++) result[i] = Interop.ToInt(raw[i]);
            return result;
        }

        /// <summary>Frees the rig (<c>kmt_rig_free</c>); idempotent.</summary>
        public void Dispose() { handle.Dispose(); }
    }
}
