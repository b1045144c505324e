// SPDX-License-Identifier: MIT
using System;
using UnityEngine;

namespace KMTalk.Unity
{
    /// <summary>
    /// Live lip sync from whatever audio passes through this GameObject: OnAudioFilterRead
    /// (Unity's audio thread) copies the samples into a lock-free queue
    /// (<see cref="PcmRingBuffer"/>); Update (main thread) pushes them into a streaming
    /// <see cref="Session"/>, pulls the frames that became final and sets the face's
    /// blendshapes to the newest one. The session is used on the main thread only.
    ///
    /// Setup: put it on the GameObject of the AudioSource that plays the voice (a voice chat
    /// stream, a microphone clip, TTS), or on the AudioListener's to follow the whole mix;
    /// drag the face's SkinnedMeshRenderer into <see cref="target"/>. The face follows the
    /// sound by the streaming latency (150 ms by default, see <see cref="latencyMs"/>) plus
    /// Unity's DSP buffer: delay the audio by as much where exact sync matters, or use
    /// <see cref="KMTalkOfflineAnimator"/> for clips known in advance.
    /// </summary>
    [AddComponentMenu("KMTalk/KMTalk Streaming Animator")]
    [DisallowMultipleComponent]
    public sealed class KMTalkStreamingAnimator : MonoBehaviour
    {
        /// <summary>The renderer whose blendshapes are driven.</summary>
        [Tooltip("The face's SkinnedMeshRenderer; its blendshapes are matched to the model's channels by name.")]
        public SkinnedMeshRenderer target;

        /// <summary>The model file: relative to StreamingAssets, or an absolute path.</summary>
        [Tooltip("The model file, relative to Assets/StreamingAssets (or an absolute path).")]
        public string modelPath = "kmtalk-base.safetensors";

        /// <summary>The model as a TextAsset (the file renamed to .bytes); used when set.</summary>
        [Tooltip("Optional: the model as a TextAsset (rename the file to .bytes); used instead of the path when set.")]
        public TextAsset modelAsset;

        /// <summary>Streaming latency in milliseconds (&gt;= 20); 0: the library's default (150 ms).</summary>
        [Tooltip("How long after the sound a frame is computed, in ms (>= 20). 0 = the library default, 150 ms.")]
        public float latencyMs;

        /// <summary>Use the model's full look-ahead (296 ms for kmtalk-base): frames equal the offline result.</summary>
        [Tooltip("Use the model's full look-ahead (296 ms): the same frames as offline, later.")]
        public bool exactLatency;

        /// <summary>Multiplies the model's 0..1 weights; Unity's blendshape weights run 0..100.</summary>
        [Tooltip("Unity blendshape weights run 0..100, the model's 0..1.")]
        public float weightScale = 100f;

        /// <summary>Silence the audio after capturing it (the face moves, nothing is heard).</summary>
        [Tooltip("Silence this filter's output after capturing it.")]
        public bool muteOutput;

        /// <summary>Seconds of audio the queue between the audio and main threads holds.</summary>
        [Tooltip("Seconds of audio the queue between the audio thread and the main thread holds.")]
        public float queueSeconds = 2f;

        /// <summary>The binding of the mesh's blendshapes to the model's channels (null before Start).</summary>
        public BlendShapeBinding Binding { get; private set; }

        /// <summary>The streaming session (main thread only; null before Start).</summary>
        public Session Session { get { return session; } }

        /// <summary>The time in seconds, within the utterance, of the frame shown last (-1: none yet).</summary>
        public double LastFrameTime { get; private set; }

        /// <summary>Frames pulled since the utterance began.</summary>
        public int FramesPulled { get; private set; }

        /// <summary>Samples the audio thread dropped because the main thread fell behind.</summary>
        public long DroppedSamples { get { return queue == null ? 0 : queue.DroppedSamples; } }

        private Model model;
        private string modelKey;
        private Session session;
        private PcmRingBuffer queue;
        private volatile bool capturing;
        private volatile int audioChannels;
        private int sampleRate;
        private int streamChannels;
        private int channelCount;
        private float[] scratch;
        private float[] frames;

        private void Start()
        {
            if (target == null) { Debug.LogError("KMTalkStreamingAnimator: no target SkinnedMeshRenderer", this); return; }
            try
            {
                model = KMTalkModelCache.Acquire(modelPath, modelAsset, out modelKey);
                session = new Session(model);
                if (exactLatency) session.LatencyMs = session.ExactLatencyMs;
                else if (latencyMs > 0) session.LatencyMs = latencyMs;
                channelCount = session.ChannelCount;
                Binding = new BlendShapeBinding(target, model.MatchShapeNames(BlendShapeBinding.ShapeNames(target)));
            }
            catch (Exception error)
            {
                Debug.LogException(error, this);
                Release();
                return;
            }
            if (Binding.DrivenCount == 0)
                Debug.LogWarning("KMTalkStreamingAnimator: no blendshape of " + target.name + " matches a channel of the model", this);
            sampleRate = AudioSettings.outputSampleRate;
            // Room for queueSeconds of up to 8 interleaved channels (7.1 speaker modes).
            queue = new PcmRingBuffer(Math.Max(4096, (int)(Math.Max(0.1f, queueSeconds) * sampleRate * 8)));
            scratch = new float[Math.Max(1024, sampleRate / 10 * 8)];
            frames = new float[64 * channelCount];
            LastFrameTime = -1;
            capturing = true;
        }

        // Unity's audio thread: no KMTalk call, no allocation, no lock.
        private void OnAudioFilterRead(float[] data, int channels)
        {
            if (!capturing) return;
            audioChannels = channels;
            queue.TryWriteAll(new ReadOnlySpan<float>(data));  // whole buffers only: frames stay interleaved
            if (muteOutput) Array.Clear(data, 0, data.Length);
        }

        private void Update()
        {
            if (session == null) return;
            int channels = audioChannels;
            if (channels <= 0) return;
            try
            {
                if (channels != streamChannels)
                {
                    // A new speaker mode: start a new utterance at the new channel count.
                    if (streamChannels != 0) RestartUtterance();
                    streamChannels = channels;
                }
                int chunk = scratch.Length - scratch.Length % channels;
                int n;
                while ((n = queue.Read(new Span<float>(scratch, 0, chunk))) > 0)
                    session.Push(new ReadOnlySpan<float>(scratch, 0, n), sampleRate, channels);
                PullAndApply();
            }
            catch (KMTalkException error)
            {
                // Say invalid samples: report, drop the utterance, go on with the next audio.
                Debug.LogException(error, this);
                RestartUtterance();
            }
        }

        private void PullAndApply()
        {
            while (true)
            {
                double first;
                int n = session.Pull(frames, out first);
                if (n == 0) break;
                Binding.Apply(frames, (n - 1) * channelCount, weightScale);
                FramesPulled += n;
                LastFrameTime = first + (n - 1) / session.OutputFps;
            }
        }

        private void RestartUtterance()
        {
            session.Reset();
            FramesPulled = 0;
            LastFrameTime = -1;
        }

        /// <summary>
        /// Ends the current utterance (say when the speaker stops): pushes what the audio
        /// thread queued, flushes, shows the last frame and starts a new utterance. Otherwise
        /// the stream simply goes on (silence animates as rest); memory stays bounded.
        /// </summary>
        public void EndUtterance()
        {
            if (session == null) return;
            Update();
            session.Flush();
            PullAndApply();
            RestartUtterance();
        }

        private void OnDestroy()
        {
            capturing = false;
            Release();
        }

        private void Release()
        {
            if (session != null) session.Dispose();
            session = null;
            KMTalkModelCache.Release(modelKey);
            modelKey = null;
            model = null;
        }
    }
}
