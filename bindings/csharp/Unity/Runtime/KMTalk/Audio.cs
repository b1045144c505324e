// SPDX-License-Identifier: MIT
using System;
using System.Runtime.InteropServices;

namespace KMTalk
{
    /// <summary>Options of <see cref="Audio.Load"/> and <see cref="Audio.FromMemory(byte[], AudioOptions)"/>
    /// (<c>kmt_audio_params</c>).</summary>
    public sealed class AudioOptions
    {
        /// <summary>The rate of the decoded samples in Hz, 8000..192000; 0 (default): the
        /// file's own. <see cref="Model.SampleRate"/> gives the samples the network gets.</summary>
        public int SampleRate { get; set; }

        /// <summary>What to do with NaN / infinite samples (default: reject the audio).</summary>
        public NonfinitePolicy NonfinitePolicy { get; set; }

        /// <summary>Progress and cancellation of the decoding (stage "decode"). Null: none.</summary>
        public ProgressCallback Progress { get; set; }
    }

    /// <summary>
    /// Audio decoded by the library (<c>kmt_audio</c>): every format
    /// <see cref="Session.Animate(string)"/> reads (WAV, FLAC, Ogg, MP3, AIFF, ... through
    /// libsndfile), channels averaged to mono, resampled with libsoxr, as float samples:
    /// the way to stream a file into <see cref="Session.Push(ReadOnlySpan{float}, int, int)"/>
    /// without a decoder of one's own. At the model's rate the samples are exactly those
    /// <c>Animate(path)</c> feeds the network. Immutable; Dispose frees it
    /// (<c>kmt_audio_free</c>); after it, members throw <see cref="ObjectDisposedException"/>.
    /// </summary>
    public sealed class Audio : IDisposable
    {
        private readonly AudioHandle handle;

        private Audio(AudioHandle handle) { this.handle = handle; }

        /// <summary>Decodes the audio file at <paramref name="path"/> (<c>kmt_audio_load_file</c>).</summary>
        /// <exception cref="KMTalkException">Io (missing, a directory), UnsupportedFormat
        /// (not audio libsndfile reads, MP4/M4A), InvalidAudio (empty, truncated, corrupt,
        /// NaN samples), InvalidArgument (a bad SampleRate), Cancelled.</exception>
        public static Audio Load(string path, AudioOptions options = null)
        {
            if (path == null) throw new ArgumentNullException("path");
            byte[] encoded = Utf8.Encode(path, "path");
            return Decode(options, "kmt_audio_load_file", (ref Native.kmt_audio_params p, out AudioHandle h) =>
                Native.kmt_audio_load_file(encoded, ref p, out h));
        }

        /// <summary>Decodes an audio file held in memory (<c>kmt_audio_load_memory</c>;
        /// the bytes are read during the call only). Errors as <see cref="Load"/>.</summary>
        public static Audio FromMemory(byte[] data, AudioOptions options = null)
        {
            if (data == null) throw new ArgumentNullException("data");
            return Decode(options, "kmt_audio_load_memory", (ref Native.kmt_audio_params p, out AudioHandle h) =>
            {
                // An empty array still passes a valid pointer (the library then reports the empty buffer).
                byte[] bytes = data.Length > 0 ? data : new byte[1];
                return Native.kmt_audio_load_memory(ref bytes[0], Interop.Size(data.Length), ref p, out h);
            });
        }

        private delegate Status LoadCall(ref Native.kmt_audio_params p, out AudioHandle h);

        private static Audio Decode(AudioOptions options, string function, LoadCall call)
        {
            var p = Interop.AudioParams();
            var relay = options != null && options.Progress != null ? new ProgressRelay { Callback = options.Progress } : null;
            GCHandle relayHandle = relay != null ? GCHandle.Alloc(relay) : default(GCHandle);
            try
            {
                if (options != null)
                {
                    p.sample_rate = options.SampleRate;
                    p.nonfinite_policy = options.NonfinitePolicy;
                }
                if (relay != null)
                {
                    p.progress = ProgressRelay.Pointer;
                    p.progress_user_data = GCHandle.ToIntPtr(relayHandle);
                }
                AudioHandle h;
                Status status = call(ref p, out h);
                if (status != Status.Ok && h != null) h.Dispose();
                if (relay != null) relay.Check(status, function);
                KMTalkException.Check(status, function);
                return new Audio(h);
            }
            finally
            {
                if (relayHandle.IsAllocated) relayHandle.Free();
            }
        }

        /// <summary>The owned handle, for calls of the C API this binding does not wrap.</summary>
        public AudioHandle Handle { get { return handle; } }

        /// <summary>True once <see cref="Dispose"/> ran.</summary>
        public bool IsDisposed { get { return handle.IsClosed; } }

        private AudioHandle Live
        {
            get
            {
                if (handle.IsClosed) throw new ObjectDisposedException("KMTalk.Audio");
                return handle;
            }
        }

        /// <summary>The rate of <see cref="Samples"/> in Hz.</summary>
        public int SampleRate
        {
            get
            {
                int rate;
                KMTalkException.Check(Native.kmt_audio_sample_rate(Live, out rate), "kmt_audio_sample_rate");
                return rate;
            }
        }

        /// <summary>The number of decoded mono samples.</summary>
        public int SampleCount
        {
            get
            {
                UIntPtr count;
                KMTalkException.Check(Native.kmt_audio_sample_count(Live, out count), "kmt_audio_sample_count");
                return Interop.ToInt(count);
            }
        }

        /// <summary>Seconds of audio.</summary>
        public double Duration { get { return (double)SampleCount / SampleRate; } }

        /// <summary>The file's own sample rate in Hz.</summary>
        public int SourceRate
        {
            get
            {
                int rate;
                KMTalkException.Check(Native.kmt_audio_source_rate(Live, out rate), "kmt_audio_source_rate");
                return rate;
            }
        }

        /// <summary>The file's channel count before the mixdown.</summary>
        public int SourceChannels
        {
            get
            {
                int channels;
                KMTalkException.Check(Native.kmt_audio_source_channels(Live, out channels), "kmt_audio_source_channels");
                return channels;
            }
        }

        /// <summary>libsndfile's name for the container and encoding, e.g.
        /// "WAV (Microsoft) / Signed 16 bit PCM".</summary>
        public string FormatName
        {
            get
            {
                IntPtr name;
                KMTalkException.Check(Native.kmt_audio_format_name(Live, out name), "kmt_audio_format_name");
                return Utf8.Decode(name);
            }
        }

        /// <summary>A copy of the mono samples (nominal range -1..1).</summary>
        public float[] Samples
        {
            get
            {
                var samples = new float[SampleCount];
                CopySamples(0, new Span<float>(samples));
                return samples;
            }
        }

        /// <summary>Copies samples from <paramref name="first"/> on into
        /// <paramref name="destination"/> (as many as fit and remain); returns how many.</summary>
        public int CopySamples(int first, Span<float> destination)
        {
            AudioHandle live = Live;
            bool added = false;
            live.DangerousAddRef(ref added);
            try
            {
                UIntPtr size;
                KMTalkException.Check(Native.kmt_audio_sample_count(live, out size), "kmt_audio_sample_count");
                int count = Interop.ToInt(size);
                if (first < 0 || first > count) throw new ArgumentOutOfRangeException("first");
                int n = Math.Min(destination.Length, count - first);
                if (n == 0) return 0;
                IntPtr samples;
                KMTalkException.Check(Native.kmt_audio_samples(live, out samples), "kmt_audio_samples");
                IntPtr start = samples + first * sizeof(float);
                var source = new float[n];
                Marshal.Copy(start, source, 0, n);
                new ReadOnlySpan<float>(source).CopyTo(destination);
                return n;
            }
            finally
            {
                if (added) live.DangerousRelease();
            }
        }

        /// <summary>Frees the audio now (<c>kmt_audio_free</c>).</summary>
        public void Dispose() { handle.Dispose(); }

        /// <summary>A short description: samples, rate and the source's format.</summary>
        public override string ToString()
        {
            if (handle.IsClosed) return "KMTalk.Audio (disposed)";
            return "KMTalk.Audio(" + SampleCount + " samples at " + SampleRate + " Hz, " + FormatName + ", " +
                   SourceChannels + " ch " + SourceRate + " Hz)";
        }
    }
}
