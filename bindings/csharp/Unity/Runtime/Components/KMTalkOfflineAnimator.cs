// SPDX-License-Identifier: MIT
using System;
using System.Threading.Tasks;
using UnityEngine;

namespace KMTalk.Unity
{
    /// <summary>
    /// Lip sync for a known AudioClip: animates the whole clip once (in the background, with
    /// the library's offline path, the best quality), then, every frame, sets the face's
    /// blendshapes to the animation at the AudioSource's playback time
    /// (<c>AudioSource.time</c>), blending the two nearest animation frames.
    ///
    /// Setup: put it next to an AudioSource, drag the face's SkinnedMeshRenderer into
    /// <see cref="target"/>, give the clip (or leave it on the AudioSource) and the model
    /// (<see cref="modelPath"/> under StreamingAssets, or <see cref="modelAsset"/>). The clip
    /// must be readable with AudioClip.GetData: import it with Load Type "Decompress On Load".
    /// The mesh's blendshape names are matched to the model's channels once, by the library.
    /// </summary>
    [AddComponentMenu("KMTalk/KMTalk Offline Animator")]
    [RequireComponent(typeof(AudioSource))]
    [DisallowMultipleComponent]
    public sealed class KMTalkOfflineAnimator : MonoBehaviour
    {
        /// <summary>The renderer whose blendshapes are driven.</summary>
        [Tooltip("The face's SkinnedMeshRenderer; its blendshapes are matched to the model's channels by name.")]
        public SkinnedMeshRenderer target;

        /// <summary>The speech; null takes the AudioSource's clip.</summary>
        [Tooltip("The speech to animate (Load Type: Decompress On Load). Empty: the AudioSource's clip.")]
        public AudioClip clip;

        /// <summary>The model file: relative to StreamingAssets, or an absolute path.</summary>
        [Tooltip("The model file, relative to Assets/StreamingAssets (or an absolute path).")]
        public string modelPath = "kmtalk-base.safetensors";

        /// <summary>The model as a TextAsset (the file renamed to .bytes); used when set.</summary>
        [Tooltip("Optional: the model as a TextAsset (rename the file to .bytes); used instead of the path when set.")]
        public TextAsset modelAsset;

        /// <summary>Output frame rate of the animation; 0: the model's native rate (50 fps).</summary>
        [Tooltip("Animation frame rate; 0 = the model's native rate (50 fps). Frames are blended at render time anyway.")]
        [Range(0f, 240f)]
        public float outputFps;

        /// <summary>Multiplies the model's 0..1 weights; Unity's blendshape weights run 0..100.</summary>
        [Tooltip("Unity blendshape weights run 0..100, the model's 0..1.")]
        public float weightScale = 100f;

        /// <summary>Play the AudioSource as soon as the animation is ready.</summary>
        [Tooltip("Play the AudioSource as soon as the animation is ready.")]
        public bool playOnReady = true;

        /// <summary>Blend the two nearest frames (else show the nearest one).</summary>
        [Tooltip("Blend between the two nearest animation frames.")]
        public bool interpolate = true;

        /// <summary>True once the clip is animated and the blendshapes matched.</summary>
        public bool IsReady { get; private set; }

        /// <summary>The animation's frame count (0 before it is ready).</summary>
        public int FrameCount { get { return result == null ? 0 : result.FrameCount; } }

        /// <summary>The animation's frame rate (0 before it is ready).</summary>
        public float Fps { get { return result == null ? 0f : result.Fps; } }

        /// <summary>The binding of the mesh's blendshapes to the model's channels (null before ready).</summary>
        public BlendShapeBinding Binding { get; private set; }

        private sealed class Result
        {
            public float[] Frames;
            public int FrameCount, ChannelCount;
            public float Fps;
            public int[] ShapeToChannel;
        }

        private AudioSource source;
        private Model model;
        private string modelKey;
        private Task<Result> pending;
        private AudioClip pendingClip;
        private Result result;
        private bool wasPlaying;

        private void Awake()
        {
            source = GetComponent<AudioSource>();
        }

        private void Start()
        {
            AudioClip speech = clip != null ? clip : (source != null ? source.clip : null);
            if (speech != null) Animate(speech);
        }

        /// <summary>
        /// Animates <paramref name="speech"/>: reads its samples here (main thread), runs the
        /// model on a worker thread, and switches to the new animation (and clip) when done;
        /// <see cref="IsReady"/> tells when. Errors go to the console.
        /// </summary>
        public void Animate(AudioClip speech)
        {
            if (speech == null) throw new ArgumentNullException("speech");
            if (target == null) { Debug.LogError("KMTalkOfflineAnimator: no target SkinnedMeshRenderer", this); return; }
            try
            {
                if (model == null) model = KMTalkModelCache.Acquire(modelPath, modelAsset, out modelKey);
            }
            catch (Exception error) { Debug.LogException(error, this); return; }
            if (speech.loadState != AudioDataLoadState.Loaded) speech.LoadAudioData();
            var pcm = new float[speech.samples * speech.channels];
            if (!speech.GetData(pcm, 0))
            {
                Debug.LogError("KMTalkOfflineAnimator: cannot read the samples of " + speech.name + " (set its Load Type to Decompress On Load)", this);
                return;
            }
            int rate = speech.frequency, channels = speech.channels;
            string[] shapeNames = BlendShapeBinding.ShapeNames(target);
            Model shared = model;
            var options = new SessionOptions { OutputFps = outputFps };
            IsReady = false;
            pendingClip = speech;
            pending = Task.Run(() =>
            {
                // Sessions are per thread: this one lives and dies on the worker.
                using (var session = new Session(shared, options))
                using (var animation = session.Animate(pcm, rate, channels))
                {
                    return new Result
                    {
                        Frames = animation.ReadFrames(),
                        FrameCount = animation.FrameCount,
                        ChannelCount = animation.ChannelCount,
                        Fps = (float)animation.Fps,
                        ShapeToChannel = animation.MatchShapeNames(shapeNames),
                    };
                }
            });
        }

        private void Update()
        {
            if (pending != null && pending.IsCompleted) Adopt();
            if (result == null || Binding == null || source == null) return;
            if (!source.isPlaying || source.clip != pendingClip)
            {
                if (wasPlaying) Binding.Clear();
                wasPlaying = false;
                return;
            }
            wasPlaying = true;
            ApplyAt(source.time);
        }

        private void Adopt()
        {
            Task<Result> done = pending;
            pending = null;
            if (done.IsFaulted || done.IsCanceled)
            {
                Exception error = done.Exception != null ? done.Exception.GetBaseException() : new OperationCanceledException();
                Debug.LogException(error, this);
                return;
            }
            result = done.Result;
            Binding = new BlendShapeBinding(target, result.ShapeToChannel);
            if (Binding.DrivenCount == 0)
                Debug.LogWarning("KMTalkOfflineAnimator: no blendshape of " + target.name + " matches a channel of the model", this);
            IsReady = true;
            if (playOnReady && source != null)
            {
                source.clip = pendingClip;
                source.Play();
            }
        }

        /// <summary>Sets the blendshapes to the animation at <paramref name="seconds"/> into the clip
        /// (what Update does with AudioSource.time); does nothing before <see cref="IsReady"/>.</summary>
        public void ApplyAt(float seconds)
        {
            if (result == null || Binding == null || result.FrameCount == 0) return;
            double position = Math.Max(0.0, seconds * (double)result.Fps);
            int last = result.FrameCount - 1;
            int a = (int)Math.Min(Math.Floor(position), last);
            int b = Math.Min(a + 1, last);
            float t = (float)Math.Min(1.0, position - a);
            int channels = result.ChannelCount;
            if (interpolate) Binding.Apply(result.Frames, a * channels, b * channels, t, weightScale);
            else Binding.Apply(result.Frames, (t < 0.5f ? a : b) * channels, weightScale);
        }

        private void OnDestroy()
        {
            KMTalkModelCache.Release(modelKey);
            modelKey = null;
            model = null;
        }
    }
}
