// SPDX-License-Identifier: MIT
using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.Runtime.InteropServices;

namespace KMTalk
{
    /// <summary>
    /// An animation result (<c>kmt_animation</c>): <see cref="FrameCount"/> frames of
    /// <see cref="ChannelCount"/> float weights at <see cref="Fps"/>; frame i is at i / Fps
    /// seconds. Immutable: any thread may read it. It outlives the session and model that
    /// made it. Dispose frees it (<c>kmt_animation_free</c>); after it, members throw
    /// <see cref="ObjectDisposedException"/>.
    /// </summary>
    public sealed class Animation : IDisposable
    {
        private readonly AnimationHandle handle;
        private ReadOnlyCollection<string> channelNames;

        internal Animation(AnimationHandle handle) { this.handle = handle; }

        /// <summary>The owned handle, for calls of the C API this binding does not wrap.</summary>
        public AnimationHandle Handle { get { return handle; } }

        /// <summary>True once <see cref="Dispose"/> ran.</summary>
        public bool IsDisposed { get { return handle.IsClosed; } }

        internal AnimationHandle Live
        {
            get
            {
                if (handle.IsClosed) throw new ObjectDisposedException("KMTalk.Animation");
                return handle;
            }
        }

        /// <summary>The number of frames.</summary>
        public int FrameCount
        {
            get
            {
                UIntPtr count;
                KMTalkException.Check(Native.kmt_animation_frame_count(Live, out count), "kmt_animation_frame_count");
                return Interop.ToInt(count);
            }
        }

        /// <summary>The number of channels (floats) per frame.</summary>
        public int ChannelCount
        {
            get
            {
                UIntPtr count;
                KMTalkException.Check(Native.kmt_animation_channel_count(Live, out count), "kmt_animation_channel_count");
                return Interop.ToInt(count);
            }
        }

        /// <summary>Frames per second.</summary>
        public double Fps
        {
            get
            {
                double fps;
                KMTalkException.Check(Native.kmt_animation_fps(Live, out fps), "kmt_animation_fps");
                return fps;
            }
        }

        /// <summary>The channels' names, for example "jawOpen" (the model's channels).</summary>
        public IReadOnlyList<string> ChannelNames
        {
            get
            {
                if (channelNames == null)
                {
                    var names = new string[ChannelCount];
                    for (int i = 0; i < names.Length; i++)
                    {
                        IntPtr name;
                        KMTalkException.Check(Native.kmt_animation_channel_name(Live, (UIntPtr)(uint)i, out name), "kmt_animation_channel_name");
                        names[i] = Utf8.Decode(name);
                    }
                    channelNames = new ReadOnlyCollection<string>(names);
                }
                return channelNames;
            }
        }

        /// <summary>
        /// Copies frames [<paramref name="firstFrame"/>, firstFrame + <paramref name="frameCount"/>)
        /// into <paramref name="destination"/>, frame by frame (<c>kmt_animation_read_frames</c>);
        /// returns the floats written (frameCount x ChannelCount).
        /// </summary>
        /// <exception cref="KMTalkException">InvalidArgument for a range past the end,
        /// BufferTooSmall when <paramref name="destination"/> is shorter.</exception>
        public int ReadFrames(int firstFrame, int frameCount, Span<float> destination)
        {
            UIntPtr written;
            KMTalkException.Check(Native.kmt_animation_read_frames(Live, Interop.Size(firstFrame), Interop.Size(frameCount),
                ref Interop.First(destination), Interop.Size(destination.Length), out written), "kmt_animation_read_frames");
            return Interop.ToInt(written);
        }

        /// <summary>Frames [firstFrame, firstFrame + frameCount) as a new array.</summary>
        public float[] ReadFrames(int firstFrame, int frameCount)
        {
            var frames = new float[checked((long)frameCount * ChannelCount)];
            ReadFrames(firstFrame, frameCount, new Span<float>(frames));
            return frames;
        }

        /// <summary>Every frame as a new array, FrameCount x ChannelCount floats, row-major.</summary>
        public float[] ReadFrames() { return ReadFrames(0, FrameCount); }

        /// <summary>
        /// A new animation for a character whose blendshapes are not the model's channels
        /// (<c>kmt_animation_remap</c>): each target shape is a weighted sum of this animation's
        /// channels, given by a JSON channel map such as
        /// <c>{"channels": {"jawOpen": "Mouth_Open", "mouthSmileLeft": {"Smile_L": 0.8}}}</c>.
        /// </summary>
        /// <exception cref="KMTalkException">InvalidArgument for a malformed map or a channel the
        /// animation does not have.</exception>
        public Animation Remap(string channelMapJson)
        {
            AnimationHandle mapped;
            KMTalkException.Check(Native.kmt_animation_remap(Live, Utf8.Encode(channelMapJson, "channelMapJson"), out mapped), "kmt_animation_remap");
            return new Animation(mapped);
        }

        // ---- export -----------------------------------------------------------------------

        /// <summary>
        /// Writes the animation into the user's own character (<c>kmt_animation_save_into_glb</c>):
        /// a copy of the GLB at <paramref name="assetPath"/> is saved to <paramref name="path"/>
        /// (atomically; it may be the asset itself) with every mesh, material, skin and node kept
        /// and a "speech" animation added first, driving the morph targets named like the
        /// channels (ARKit names, or <see cref="Remap"/> first); undriven targets keep their rest
        /// weights.
        /// </summary>
        /// <exception cref="KMTalkException">InvalidArgument when no target matches a channel (the
        /// detail lists the asset's targets), UnsupportedFormat for a file that is not GLB, Io.</exception>
        public void SaveInto(string assetPath, string path)
        {
            KMTalkException.Check(Native.kmt_animation_save_into_glb(Live, Utf8.Encode(assetPath, "assetPath"), Utf8.Encode(path, "path")),
                                  "kmt_animation_save_into_glb");
        }

        /// <summary>
        /// Saves the animation to <paramref name="path"/> atomically (<c>kmt_animation_save</c>):
        /// JSON, CSV, Live Link CSV, NPY and the mouth cues need no rig; GLB, OBJ and PLY pose
        /// <paramref name="rig"/>. <paramref name="mouthCueExtendedShapes"/> (the mouth-cue
        /// formats only): the extended Rhubarb shapes to use, as "GHX" (default), "" or a subset.
        /// Any thread may save any animation at any time.
        /// </summary>
        /// <exception cref="KMTalkException">InvalidArgument (unknown extension, a geometry format
        /// without a rig, ...), Io (the directory is missing or not writable; the message names the path).</exception>
        public void Save(string path, ExportFormat format = ExportFormat.Auto, Rig rig = null, string mouthCueExtendedShapes = null)
        {
            if (path == null) throw new ArgumentNullException("path");
            byte[] pathBytes = Utf8.Encode(path, "path");
            RigHandle rigHandle = rig == null ? RigHandle.Null() : rig.Live;
            if (mouthCueExtendedShapes == null)
            {
                KMTalkException.Check(Native.kmt_animation_save(Live, rigHandle, pathBytes, format), "kmt_animation_save");
                return;
            }
            var p = Interop.ExportParams();
            p.mouth_cue_extended_shapes = Utf8.Alloc(mouthCueExtendedShapes, "mouthCueExtendedShapes");
            try
            {
                KMTalkException.Check(Native.kmt_animation_save_with_params(Live, rigHandle, pathBytes, format, ref p), "kmt_animation_save_with_params");
            }
            finally { Marshal.FreeHGlobal(p.mouth_cue_extended_shapes); }
        }

        /// <summary>The bytes <see cref="Save"/> would write, for a single-file format (not Auto,
        /// OBJ or PLY) (<c>kmt_animation_save_to_memory_with_params</c>).</summary>
        public byte[] SaveToMemory(ExportFormat format, Rig rig = null, string mouthCueExtendedShapes = null)
        {
            RigHandle rigHandle = rig == null ? RigHandle.Null() : rig.Live;
            var p = Interop.ExportParams();
            p.mouth_cue_extended_shapes = Utf8.Alloc(mouthCueExtendedShapes, "mouthCueExtendedShapes");
            try
            {
                UIntPtr size;
                Status status = Native.kmt_animation_save_to_memory_with_params(Live, rigHandle, format, ref p,
                    ref Interop.First(Span<byte>.Empty), UIntPtr.Zero, out size);
                if (status != Status.BufferTooSmall) KMTalkException.Check(status, "kmt_animation_save_to_memory_with_params");
                var bytes = new byte[Interop.ToInt(size)];
                if (bytes.Length == 0) return bytes;
                KMTalkException.Check(Native.kmt_animation_save_to_memory_with_params(Live, rigHandle, format, ref p,
                    ref bytes[0], Interop.Size(bytes.Length), out size), "kmt_animation_save_to_memory_with_params");
                if (Interop.ToInt(size) != bytes.Length) Array.Resize(ref bytes, Interop.ToInt(size));
                return bytes;
            }
            finally { Marshal.FreeHGlobal(p.mouth_cue_extended_shapes); }
        }

        // ---- geometry --------------------------------------------------------------------

        /// <summary>
        /// Poses frames [firstFrame, firstFrame + frameCount) (<c>kmt_animation_vertices</c>):
        /// frameCount x V x 3 floats, positions or offsets. Weight animations need
        /// <paramref name="rig"/> (channels matched to its shapes by name); a vertices-space
        /// animation carries its own template and takes null.
        /// </summary>
        public float[] Vertices(Rig rig, int firstFrame, int frameCount, VertexMode mode = VertexMode.Absolute)
        {
            RigHandle rigHandle = rig == null ? RigHandle.Null() : rig.Live;
            UIntPtr needed;
            Status status = Native.kmt_animation_vertices(Live, rigHandle, Interop.Size(firstFrame), Interop.Size(frameCount), mode,
                ref Interop.First(Span<float>.Empty), UIntPtr.Zero, out needed);
            if (status != Status.BufferTooSmall) KMTalkException.Check(status, "kmt_animation_vertices");
            var vertices = new float[Interop.ToInt(needed)];
            if (vertices.Length == 0) return vertices;
            KMTalkException.Check(Native.kmt_animation_vertices(Live, rigHandle, Interop.Size(firstFrame), Interop.Size(frameCount), mode,
                ref vertices[0], Interop.Size(vertices.Length), out needed), "kmt_animation_vertices");
            return vertices;
        }

        /// <summary>V of the template mesh of a vertices-space animation; 0 for blendshape weights
        /// (<c>kmt_animation_vertex_count</c>).</summary>
        public int VertexCount
        {
            get
            {
                UIntPtr count;
                KMTalkException.Check(Native.kmt_animation_vertex_count(Live, out count), "kmt_animation_vertex_count");
                return Interop.ToInt(count);
            }
        }

        /// <summary>The triangles of a vertices-space animation's template, F x 3 indices
        /// (<c>kmt_animation_read_faces</c>).</summary>
        public int[] ReadFaces()
        {
            UIntPtr needed;
            Status status = Native.kmt_animation_read_faces(Live, ref Interop.First(Span<int>.Empty), UIntPtr.Zero, out needed);
            if (status != Status.BufferTooSmall) KMTalkException.Check(status, "kmt_animation_read_faces");
            var faces = new int[Interop.ToInt(needed)];
            if (faces.Length == 0) return faces;
            KMTalkException.Check(Native.kmt_animation_read_faces(Live, ref faces[0], Interop.Size(faces.Length), out needed), "kmt_animation_read_faces");
            return faces;
        }

        /// <summary>
        /// Matches blendshape names (say a Unity mesh's) to this animation's channels with the
        /// library's rig matcher (<c>kmt_rig_shape_channels</c> on a rig made of the names,
        /// <see cref="Rig.FromShapeNames"/>). Returns, per name, the index of the channel that
        /// drives it, or -1. A repeated name gets the first one's channel; an empty one -1.
        /// </summary>
        public int[] MatchShapeNames(IReadOnlyList<string> shapeNames)
        {
            if (shapeNames == null) throw new ArgumentNullException("shapeNames");
            var result = new int[shapeNames.Count];
            var unique = new List<string>();
            var firstIndex = new Dictionary<string, int>(StringComparer.Ordinal);
            var slot = new int[shapeNames.Count];
            for (int i = 0; i < shapeNames.Count; i++)
            {
                string name = shapeNames[i];
                slot[i] = -1;
                if (string.IsNullOrEmpty(name) || name.IndexOf('\0') >= 0) continue;
                int index;
                if (!firstIndex.TryGetValue(name, out index))
                {
                    index = unique.Count;
                    firstIndex.Add(name, index);
                    unique.Add(name);
                }
                slot[i] = index;
            }
            int[] channels = new int[0];
            if (unique.Count > 0)
                using (var rig = Rig.FromShapeNames(unique))
                    channels = rig.ShapeChannels(this);
            for (int i = 0; i < result.Length; i++) result[i] = slot[i] < 0 ? -1 : channels[slot[i]];
            return result;
        }

        /// <summary>Frees the animation (<c>kmt_animation_free</c>); idempotent.</summary>
        public void Dispose() { handle.Dispose(); }
    }
}
