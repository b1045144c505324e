// SPDX-License-Identifier: MIT
using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;

namespace KMTalk
{
    /// <summary>Options of a <see cref="Session"/> (<c>kmt_session_params</c>); the defaults are
    /// those of <c>kmt_session_params_init</c>.</summary>
    public sealed class SessionOptions
    {
        /// <summary>Threads the session's calls may use: 0 or 1 (default) the calling thread
        /// only, with bit-identical results from run to run; N &gt; 1 splits long sequences
        /// (offline animation) by rows over N threads started for the call.</summary>
        public int Threads { get; set; }

        /// <summary>Output frame rate, 1..240 fps; 0 (default) the model's native rate.</summary>
        public double OutputFps { get; set; }

        /// <summary>Streaming latency in ms: 0 (default) the model's own, <see cref="ExactLatency"/>
        /// its full look-ahead (frames equal to offline), otherwise at least 20
        /// (<c>kmt_session_params.latency_ms</c>).</summary>
        public double LatencyMs { get; set; }

        /// <summary><see cref="LatencyMs"/> for exact streaming (<c>KMT_LATENCY_EXACT</c>).</summary>
        public const double ExactLatency = Native.KMT_LATENCY_EXACT;

        /// <summary>What to do with NaN, infinite or |x| &gt; 1000 samples (default Reject).</summary>
        public NonfinitePolicy NonfinitePolicy { get; set; }

        /// <summary>Progress and cancellation of the offline calls (<see cref="Session.Animate(string)"/>
        /// and the PCM overloads; not the streaming calls). Null: none.</summary>
        public ProgressCallback Progress { get; set; }
    }

    /// <summary>
    /// Per-stream inference state (<c>kmt_session</c>): offline animation of files and PCM,
    /// and the streaming of one utterance at a time (<see cref="Push(ReadOnlySpan{float}, int, int)"/>,
    /// <see cref="Pull(Span{float}, out double)"/>, <see cref="Flush"/>, <see cref="Reset"/>).
    /// Not thread-safe, as in the C API: use a session from one thread at a time (different
    /// sessions may run concurrently, also on one shared <see cref="Model"/>); the binding adds
    /// no locks. The animations it returns are independent objects that outlive it.
    /// Dispose frees it (<c>kmt_session_free</c>); after it, members throw
    /// <see cref="ObjectDisposedException"/>.
    /// </summary>
    public sealed class Session : IDisposable
    {
        private readonly SessionHandle handle;
        private readonly ProgressRelay relay;
        private readonly int channelCount;

        /// <summary>Creates a session on <paramref name="model"/> (<c>kmt_session_create</c>).</summary>
        /// <param name="model">The model; the session keeps it alive.</param>
        /// <param name="options">Null for the defaults.</param>
        public Session(Model model, SessionOptions options = null)
        {
            if (model == null) throw new ArgumentNullException("model");
            var p = Interop.SessionParams();
            GCHandle relayHandle = default(GCHandle);
            if (options != null)
            {
                p.n_threads = options.Threads;
                p.output_fps = options.OutputFps;
                p.latency_ms = options.LatencyMs;
                p.nonfinite_policy = options.NonfinitePolicy;
                if (options.Progress != null)
                {
                    relay = new ProgressRelay { Callback = options.Progress };
                    relayHandle = GCHandle.Alloc(relay);
                    p.progress = ProgressRelay.Pointer;
                    p.progress_user_data = GCHandle.ToIntPtr(relayHandle);
                }
            }
            Status status = Native.kmt_session_create(model.Live, ref p, out handle);
            if (relayHandle.IsAllocated)
            {
                if (status == Status.Ok) handle.ProgressRelay = relayHandle;
                else relayHandle.Free();
            }
            KMTalkException.Check(status, "kmt_session_create");
            channelCount = model.ChannelCount;
        }

        /// <summary>The owned handle, for calls of the C API this binding does not wrap.</summary>
        public SessionHandle Handle { get { return handle; } }

        /// <summary>True once <see cref="Dispose"/> ran.</summary>
        public bool IsDisposed { get { return handle.IsClosed; } }

        private SessionHandle Live
        {
            get
            {
                if (handle.IsClosed) throw new ObjectDisposedException("KMTalk.Session");
                return handle;
            }
        }

        /// <summary>Floats per frame (the model's channel count).</summary>
        public int ChannelCount { get { return channelCount; } }

        /// <summary>Frames per second of the output (<c>kmt_session_output_fps</c>).</summary>
        public double OutputFps
        {
            get
            {
                double fps;
                KMTalkException.Check(Native.kmt_session_output_fps(Live, out fps), "kmt_session_output_fps");
                return fps;
            }
        }

        // ---- offline --------------------------------------------------------------------

        /// <summary>Decodes the audio file at <paramref name="path"/> (WAV, FLAC, Ogg, MP3, ...,
        /// any rate and channel count) and animates all of it (<c>kmt_animate_file</c>).</summary>
        /// <exception cref="KMTalkException">Io (missing or unreadable; the message names the
        /// file), UnsupportedFormat, InvalidAudio, Cancelled.</exception>
        public Animation Animate(string path)
        {
            if (path == null) throw new ArgumentNullException("path");
            AnimationHandle result;
            Status status = Native.kmt_animate_file(Live, Utf8.Encode(path, "path"), out result);
            return Finish(status, result, "kmt_animate_file");
        }

        /// <summary>Animates interleaved float PCM (<c>kmt_animate_pcm</c>): <paramref name="channels"/>
        /// samples per frame, nominal range -1..1, at <paramref name="sampleRate"/> Hz (8000..192000).</summary>
        public Animation Animate(float[] pcm, int sampleRate, int channels)
        {
            if (pcm == null) throw new ArgumentNullException("pcm");
            return Animate(new ReadOnlySpan<float>(pcm), sampleRate, channels);
        }

        /// <summary>Animates interleaved float PCM (<c>kmt_animate_pcm</c>); its length must be a
        /// multiple of <paramref name="channels"/>.</summary>
        public Animation Animate(ReadOnlySpan<float> pcm, int sampleRate, int channels)
        {
            int frames = Frames(pcm.Length, channels);
            AnimationHandle result;
            Status status = Native.kmt_animate_pcm(Live, ref Interop.First(pcm), Interop.Size(frames), sampleRate, channels, out result);
            return Finish(status, result, "kmt_animate_pcm");
        }

        private Animation Finish(Status status, AnimationHandle result, string function)
        {
            if (status != Status.Ok)
            {
                if (result != null) result.Dispose();
                if (relay != null) relay.Check(status, function);
                KMTalkException.Check(status, function);
            }
            return new Animation(result);
        }

        private static int Frames(int samples, int channels)
        {
            if (channels <= 0) throw new ArgumentOutOfRangeException("channels", "must be at least 1");
            if (samples % channels != 0)
                throw new ArgumentException("the sample count " + samples + " is not a multiple of " + channels + " channels", "pcm");
            return samples / channels;
        }

        // ---- streaming --------------------------------------------------------------------

        /// <summary>
        /// Pushes interleaved float PCM of the current utterance (<c>kmt_session_push_f32</c>).
        /// The first push after creation or <see cref="Reset"/> fixes the utterance's rate and
        /// channel count; any chunk size, resampled inside. The samples are copied.
        /// </summary>
        /// <exception cref="KMTalkException">InvalidArgument (another rate or channel count, a push
        /// after Flush), InvalidAudio (non-finite samples with NonfinitePolicy.Reject: the chunk
        /// is dropped, the stream may go on), IncompatibleModel (a model that cannot stream).</exception>
        public void Push(ReadOnlySpan<float> pcm, int sampleRate, int channels)
        {
            int frames = Frames(pcm.Length, channels);
            KMTalkException.Check(Native.kmt_session_push_f32(Live, ref Interop.First(pcm), Interop.Size(frames), sampleRate, channels), "kmt_session_push_f32");
        }

        /// <summary>Pushes interleaved float PCM; see <see cref="Push(ReadOnlySpan{float}, int, int)"/>.</summary>
        public void Push(float[] pcm, int sampleRate, int channels)
        {
            if (pcm == null) throw new ArgumentNullException("pcm");
            Push(new ReadOnlySpan<float>(pcm), sampleRate, channels);
        }

        /// <summary>Pushes interleaved 16-bit PCM (scaled by 1/32768; <c>kmt_session_push_s16</c>).</summary>
        public void Push(ReadOnlySpan<short> pcm, int sampleRate, int channels)
        {
            int frames = Frames(pcm.Length, channels);
            KMTalkException.Check(Native.kmt_session_push_s16(Live, ref Interop.First(pcm), Interop.Size(frames), sampleRate, channels), "kmt_session_push_s16");
        }

        /// <summary>Pushes interleaved 16-bit PCM; see <see cref="Push(ReadOnlySpan{short}, int, int)"/>.</summary>
        public void Push(short[] pcm, int sampleRate, int channels)
        {
            if (pcm == null) throw new ArgumentNullException("pcm");
            Push(new ReadOnlySpan<short>(pcm), sampleRate, channels);
        }

        // ---- many sessions at once ----------------------------------------------------------

        /// <summary>
        /// Pushes one block of interleaved float PCM to each session in one call
        /// (<c>kmt_sessions_push_f32</c>): <paramref name="blocks"/>[i] goes to
        /// <paramref name="sessions"/>[i], with the outcome of <c>sessions[i].Push(blocks[i], sampleRate, channels)</c>
        /// (the same frames, values within float rounding). The sessions that share a model run
        /// each network layer together, one pass over its weights for all their new audio: for a
        /// host that ticks many live streams (a game server), cheaper than a Push per session.
        /// Every block is at <paramref name="sampleRate"/> with <paramref name="channels"/>
        /// channels (make one call per rate); a block may be empty. No other thread may use
        /// any of the sessions until the call returns; it runs with the first session's threads.
        /// </summary>
        /// <exception cref="PushManyException">At least one session's push failed: the status
        /// and message of the first failure, every session's status in
        /// <see cref="PushManyException.Statuses"/>; the others were pushed. A session listed
        /// twice pushes nothing (InvalidArgument for every session).</exception>
        /// <exception cref="ArgumentException">The lists differ in length, a session or block is
        /// null, or a block is not a whole number of frames (nothing pushed).</exception>
        /// <exception cref="ObjectDisposedException">A session is disposed (nothing pushed).</exception>
        public static void PushMany(IReadOnlyList<Session> sessions, IReadOnlyList<float[]> blocks, int sampleRate, int channels)
        {
            if (blocks == null) throw new ArgumentNullException("blocks");
            PushMany(sessions, blocks.Count, i => Whole(blocks[i], i), sampleRate, channels, false);
        }

        /// <summary>As <see cref="PushMany(IReadOnlyList{Session}, IReadOnlyList{float[]}, int, int)"/>
        /// for blocks that are slices of larger buffers.</summary>
        public static void PushMany(IReadOnlyList<Session> sessions, IReadOnlyList<ArraySegment<float>> blocks, int sampleRate, int channels)
        {
            if (blocks == null) throw new ArgumentNullException("blocks");
            PushMany(sessions, blocks.Count, i => blocks[i], sampleRate, channels, false);
        }

        /// <summary>As <see cref="PushMany(IReadOnlyList{Session}, IReadOnlyList{float[]}, int, int)"/>
        /// for 16-bit PCM, scaled by 1/32768 (<c>kmt_sessions_push_s16</c>).</summary>
        public static void PushMany(IReadOnlyList<Session> sessions, IReadOnlyList<short[]> blocks, int sampleRate, int channels)
        {
            if (blocks == null) throw new ArgumentNullException("blocks");
            PushMany(sessions, blocks.Count, i => Whole(blocks[i], i), sampleRate, channels, true);
        }

        /// <summary>As <see cref="PushMany(IReadOnlyList{Session}, IReadOnlyList{short[]}, int, int)"/>
        /// for blocks that are slices of larger buffers.</summary>
        public static void PushMany(IReadOnlyList<Session> sessions, IReadOnlyList<ArraySegment<short>> blocks, int sampleRate, int channels)
        {
            if (blocks == null) throw new ArgumentNullException("blocks");
            PushMany(sessions, blocks.Count, i => blocks[i], sampleRate, channels, true);
        }

        private static ArraySegment<T> Whole<T>(T[] block, int index)
        {
            if (block == null) throw new ArgumentNullException("blocks", "blocks[" + index + "] is null");
            return new ArraySegment<T>(block);
        }

        private static void PushMany<T>(IReadOnlyList<Session> sessions, int count, Func<int, ArraySegment<T>> block,
                                        int sampleRate, int channels, bool s16) where T : struct
        {
            if (sessions == null) throw new ArgumentNullException("sessions");
            if (sessions.Count != count)
                throw new ArgumentException(sessions.Count + " sessions but " + count + " blocks", "blocks");
            if (count == 0) return;
            var handles = new SessionHandle[count];
            var pointers = new IntPtr[count];
            var pcm = new IntPtr[count];
            var frames = new UIntPtr[count];
            var pins = new GCHandle[count];
            var added = new bool[count];
            int size = Marshal.SizeOf(typeof(T));
            try
            {
                for (int i = 0; i < count; i++)
                {
                    Session session = sessions[i];
                    if (session == null) throw new ArgumentNullException("sessions", "sessions[" + i + "] is null");
                    ArraySegment<T> samples = block(i);
                    int n = samples.Array == null ? 0 : samples.Count;
                    frames[i] = Interop.Size(Frames(n, channels));
                    handles[i] = session.Live;
                    handles[i].DangerousAddRef(ref added[i]);
                    pointers[i] = handles[i].DangerousGetHandle();
                    if (n > 0)
                    {
                        pins[i] = GCHandle.Alloc(samples.Array, GCHandleType.Pinned);
                        pcm[i] = pins[i].AddrOfPinnedObject() + samples.Offset * size;
                    }
                }
                var statuses = new Status[count];
                string function = s16 ? "kmt_sessions_push_s16" : "kmt_sessions_push_f32";
                Status status = s16
                    ? Native.kmt_sessions_push_s16(pointers, Interop.Size(count), pcm, frames, sampleRate, channels, statuses)
                    : Native.kmt_sessions_push_f32(pointers, Interop.Size(count), pcm, frames, sampleRate, channels, statuses);
                if (status != Status.Ok)
                    throw new PushManyException(status, function, Utf8.Decode(Native.kmt_last_error()), statuses);
            }
            finally
            {
                for (int i = 0; i < count; i++)
                {
                    if (pins[i].IsAllocated) pins[i].Free();
                    if (added[i]) handles[i].DangerousRelease();
                }
            }
        }

        /// <summary>
        /// Moves as many final frames as fit into <paramref name="destination"/>
        /// (<see cref="ChannelCount"/> floats each), in order (<c>kmt_session_pull</c>). Returns
        /// how many (0 when none is final yet); <paramref name="firstTime"/> is the time in
        /// seconds of the first (frame i of the utterance is at i / <see cref="OutputFps"/>).
        /// </summary>
        /// <exception cref="KMTalkException">BufferTooSmall when frames are pending and not one fits.</exception>
        public int Pull(Span<float> destination, out double firstTime)
        {
            UIntPtr frames;
            KMTalkException.Check(Native.kmt_session_pull(Live, ref Interop.First(destination), Interop.Size(destination.Length), out frames, out firstTime), "kmt_session_pull");
            return Interop.ToInt(frames);
        }

        /// <summary>Pulls into an array; see <see cref="Pull(Span{float}, out double)"/>.</summary>
        public int Pull(float[] destination, out double firstTime)
        {
            if (destination == null) throw new ArgumentNullException("destination");
            return Pull(new Span<float>(destination), out firstTime);
        }

        /// <summary>Pulls every final frame into a new array (<see cref="PendingFrames"/> x
        /// <see cref="ChannelCount"/> floats, possibly empty).</summary>
        public float[] PullAll(out double firstTime)
        {
            int pending = PendingFrames;
            var frames = new float[checked(pending * channelCount)];
            firstTime = 0;
            if (pending == 0) return frames;
            int got = Pull(new Span<float>(frames), out firstTime);
            if (got != pending) Array.Resize(ref frames, got * channelCount);
            return frames;
        }

        /// <summary>The number of final frames waiting to be pulled (<c>kmt_session_pending_frames</c>).</summary>
        public int PendingFrames
        {
            get
            {
                UIntPtr frames;
                KMTalkException.Check(Native.kmt_session_pending_frames(Live, out frames), "kmt_session_pending_frames");
                return Interop.ToInt(frames);
            }
        }

        /// <summary>Ends the utterance: the remaining frames become final (pull them); further
        /// pushes fail until <see cref="Reset"/> (<c>kmt_session_flush</c>).</summary>
        public void Flush() { KMTalkException.Check(Native.kmt_session_flush(Live), "kmt_session_flush"); }

        /// <summary>Starts a new utterance with the same settings, discarding the current one's
        /// audio, state and unpulled frames (<c>kmt_session_reset</c>).</summary>
        public void Reset() { KMTalkException.Check(Native.kmt_session_reset(Live), "kmt_session_reset"); }

        /// <summary>
        /// The streaming latency in milliseconds: how long after its time a frame becomes
        /// final (default 150). Set it (&gt;= 20) before an utterance's first push
        /// (<c>kmt_session_set_latency_ms</c>); at or above <see cref="ExactLatencyMs"/> the
        /// streamed frames equal the offline result. Reading it throws KMTalkException
        /// (Status.IncompatibleModel) for a model that cannot stream.
        /// </summary>
        public double LatencyMs
        {
            get
            {
                double ms;
                KMTalkException.Check(Native.kmt_session_latency_ms(Live, out ms), "kmt_session_latency_ms");
                return ms;
            }
            set { KMTalkException.Check(Native.kmt_session_set_latency_ms(Live, value), "kmt_session_set_latency_ms"); }
        }

        /// <summary>The model's full look-ahead in milliseconds for this session: the smallest
        /// latency at which streaming is exact (296 for kmtalk-base at 50 fps).</summary>
        public double ExactLatencyMs
        {
            get
            {
                double ms;
                KMTalkException.Check(Native.kmt_session_exact_latency_ms(Live, out ms), "kmt_session_exact_latency_ms");
                return ms;
            }
        }

        /// <summary>Frees the session (<c>kmt_session_free</c>); idempotent.</summary>
        public void Dispose() { handle.Dispose(); }
    }
}
