// SPDX-License-Identifier: MIT
using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;

namespace KMTalk
{
    /// <summary>
    /// A loaded KMTalk model (<c>kmt_model</c>): immutable weights and configuration. Any
    /// number of threads may create <see cref="Session"/>s from one model and use them at the
    /// same time. A session keeps its model alive, so the model may be disposed before its
    /// sessions. Dispose releases this reference (<c>kmt_model_free</c>); after it, members
    /// throw <see cref="ObjectDisposedException"/>.
    /// </summary>
    public sealed class Model : IDisposable
    {
        private readonly ModelHandle handle;
        private ReadOnlyCollection<string> channelNames;

        /// <summary>Loads a model from a safetensors file (<c>kmt_model_load_file</c>).</summary>
        /// <param name="path">The model file, for example "models/kmtalk-base.safetensors".</param>
        /// <exception cref="KMTalkException">Status Io (missing or unreadable), UnsupportedFormat,
        /// CorruptModel, IncompatibleModel or OutOfMemory, with the library's message.</exception>
        public Model(string path)
        {
            if (path == null) throw new ArgumentNullException("path");
            var p = Interop.ModelParams();
            KMTalkException.Check(Native.kmt_model_load_file(Utf8.Encode(path, "path"), ref p, out handle), "kmt_model_load_file");
        }

        private Model(ModelHandle handle) { this.handle = handle; }

        /// <summary>Loads a model from its bytes (<c>kmt_model_load_memory</c>), for example a
        /// Unity TextAsset's bytes; the bytes are copied as needed.</summary>
        public static Model FromMemory(byte[] data)
        {
            if (data == null) throw new ArgumentNullException("data");
            return FromMemory(new ReadOnlySpan<byte>(data));
        }

        /// <summary>Loads a model from its bytes (<c>kmt_model_load_memory</c>).</summary>
        public static Model FromMemory(ReadOnlySpan<byte> data)
        {
            var p = Interop.ModelParams();
            ModelHandle h;
            KMTalkException.Check(Native.kmt_model_load_memory(ref Interop.First(data), Interop.Size(data.Length), ref p, out h), "kmt_model_load_memory");
            return new Model(h);
        }

        /// <summary>The owned handle, for calls of the C API this binding does not wrap.</summary>
        public ModelHandle Handle { get { return handle; } }

        /// <summary>True once <see cref="Dispose"/> ran.</summary>
        public bool IsDisposed { get { return handle.IsClosed; } }

        internal ModelHandle Live
        {
            get
            {
                if (handle.IsClosed) throw new ObjectDisposedException("KMTalk.Model");
                return handle;
            }
        }

        /// <summary>The architecture name, for example "kmtalk".</summary>
        public string Architecture
        {
            get
            {
                IntPtr name;
                KMTalkException.Check(Native.kmt_model_architecture(Live, out name), "kmt_model_architecture");
                return Utf8.Decode(name);
            }
        }

        /// <summary>What the channels are: "arkit" (the 52 ARKit blendshapes), "rig" or "vertices".</summary>
        public string MotionSpace
        {
            get
            {
                IntPtr space;
                KMTalkException.Check(Native.kmt_model_motion_space(Live, out space), "kmt_model_motion_space");
                return Utf8.Decode(space);
            }
        }

        /// <summary>The sample rate the model consumes, in Hz (16000 for kmtalk-base); any rate
        /// from 8 kHz to 192 kHz may be given, it is resampled.</summary>
        public int SampleRate
        {
            get
            {
                int rate;
                KMTalkException.Check(Native.kmt_model_sample_rate(Live, out rate), "kmt_model_sample_rate");
                return rate;
            }
        }

        /// <summary>The native output frame rate (frames per second).</summary>
        public double Fps
        {
            get
            {
                double fps;
                KMTalkException.Check(Native.kmt_model_fps(Live, out fps), "kmt_model_fps");
                return fps;
            }
        }

        /// <summary>The number of output channels (floats per frame).</summary>
        public int ChannelCount
        {
            get
            {
                UIntPtr count;
                KMTalkException.Check(Native.kmt_model_channel_count(Live, out count), "kmt_model_channel_count");
                return Interop.ToInt(count);
            }
        }

        /// <summary>The output channels' names, for example "jawOpen".</summary>
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
                        KMTalkException.Check(Native.kmt_model_channel_name(Live, (UIntPtr)(uint)i, out name), "kmt_model_channel_name");
                        names[i] = Utf8.Decode(name);
                    }
                    channelNames = new ReadOnlyCollection<string>(names);
                }
                return channelNames;
            }
        }

        /// <summary>The total number of weights in the model.</summary>
        public long ParameterCount
        {
            get
            {
                ulong count;
                KMTalkException.Check(Native.kmt_model_parameter_count(Live, out count), "kmt_model_parameter_count");
                return (long)count;
            }
        }

        /// <summary>The metadata value stored under <paramref name="key"/> (<c>kmt_model_metadata</c>).</summary>
        /// <exception cref="KMTalkException">InvalidArgument for a missing key.</exception>
        public string GetMetadata(string key)
        {
            ModelHandle h = Live;
            return Interop.Metadata((byte[] k, byte[] b, UIntPtr s, out UIntPtr l) => Native.kmt_model_metadata(h, k, b, s, out l),
                                    key, "kmt_model_metadata", true);
        }

        /// <summary>The metadata value under <paramref name="key"/>, or false when the model has none.</summary>
        public bool TryGetMetadata(string key, out string value)
        {
            ModelHandle h = Live;
            value = Interop.Metadata((byte[] k, byte[] b, UIntPtr s, out UIntPtr l) => Native.kmt_model_metadata(h, k, b, s, out l),
                                     key, "kmt_model_metadata", false);
            return value != null;
        }

        /// <summary>
        /// Matches a character's blendshape names (say a Unity mesh's) to this model's
        /// channels with the library's own rules (<c>kmt_rig_shape_channels</c>: exact,
        /// first letter's case, naming styles such as JawOpen / eyeBlink_L / eye_blink_left,
        /// tool prefixes, split halves). Returns, per name, the index of the channel that
        /// drives it, or -1. It animates 0.1 s of silence once to obtain an animation
        /// carrying the channel names (a few milliseconds); see
        /// <see cref="Animation.MatchShapeNames"/> when an animation is at hand.
        /// </summary>
        public int[] MatchShapeNames(IReadOnlyList<string> shapeNames)
        {
            if (shapeNames == null) throw new ArgumentNullException("shapeNames");
            if (shapeNames.Count == 0) return new int[0];
            using (var session = new Session(this))
            using (var silence = session.Animate(new float[SampleRate > 0 ? SampleRate / 10 : 1600], SampleRate, 1))
                return silence.MatchShapeNames(shapeNames);
        }

        /// <summary>Releases this reference to the model (<c>kmt_model_free</c>); idempotent.</summary>
        public void Dispose() { handle.Dispose(); }

        /// <summary>"Model(kmtalk, arkit, 52 channels)".</summary>
        public override string ToString()
        {
            if (IsDisposed) return "Model(disposed)";
            return "Model(" + Architecture + ", " + MotionSpace + ", " + ChannelCount + " channels)";
        }
    }
}
