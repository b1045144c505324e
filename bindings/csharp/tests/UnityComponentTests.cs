// SPDX-License-Identifier: MIT
// UnityComponentTests.exe ROOT -- drives KMTalkOfflineAnimator and KMTalkStreamingAnimator
// on mono against the UnityEngine STUB (tests/UnityStubs; not Unity: Unity is not available
// here), calling their Awake/Start/Update/OnAudioFilterRead as Unity would, with the real
// library underneath. Checks the library's blendshape-name matching on a mesh's names, the
// x100 weights at AudioSource.time (frames blended), the rest pose when the audio stops, and
// that audio fed through OnAudioFilterRead in 1024-frame stereo 48 kHz buffers reaches the
// face with the offline result's weights (exact latency).
using System;
using System.IO;
using System.Linq;
using System.Reflection;
using KMTalk;
using KMTalk.Unity;
using UnityEngine;

internal static class UnityComponentTests
{
    private static int passed, failed;

    private static void Check(bool condition, string what)
    {
        if (condition) { passed++; Console.WriteLine("PASS: " + what); }
        else { failed++; Console.WriteLine("FAIL: " + what); }
    }

    private static void Call(object component, string method, params object[] args)
    {
        MethodInfo m = component.GetType().GetMethod(method, BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public);
        m.Invoke(component, args);
    }

    private static string F(double value) { return value.ToString("G3", System.Globalization.CultureInfo.InvariantCulture); }

    private static float[] ReadWav16Mono(string path)
    {
        byte[] b = File.ReadAllBytes(path);
        int pos = 12;
        while (pos + 8 <= b.Length)
        {
            string id = System.Text.Encoding.ASCII.GetString(b, pos, 4);
            int size = BitConverter.ToInt32(b, pos + 4);
            if (id == "data")
            {
                var pcm = new float[Math.Min(size, b.Length - pos - 8) / 2];
                for (int i = 0; i < pcm.Length; i++) pcm[i] = BitConverter.ToInt16(b, pos + 8 + 2 * i) / 32768f;
                return pcm;
            }
            pos += 8 + size + (size & 1);
        }
        throw new InvalidDataException(path + ": no data chunk");
    }

    private static Mesh FaceMesh(params string[] names)
    {
        var mesh = new Mesh();
        foreach (string n in names) mesh.AddBlendShapeFrame(n, 100f, null, null, null);
        return mesh;
    }

    private static int Main(string[] args)
    {
        if (args.Length != 1) { Console.Error.WriteLine("usage: UnityComponentTests.exe REPO_ROOT"); return 2; }
        try { Run(args[0]); }
        catch (Exception error) { failed++; Console.WriteLine("FAIL: unexpected " + error); }
        foreach (string message in UnityEngine.Debug.Messages) Console.WriteLine("    unity console: " + message);
        Console.WriteLine("UnityComponentTests: " + passed + " passed, " + failed + " failed");
        return failed == 0 ? 0 : 1;
    }

    private static void Run(string root)
    {
        string modelPath = Path.GetFullPath(Path.Combine(root, "models/kmtalk-base.safetensors"));
        float[] pcm = ReadWav16Mono(Path.Combine(root, "examples/audio/hello.wav"));
        string[] shapeNames = { "JawOpen", "blendShape1.eyeBlink_L", "browInnerUp_L", "browInnerUp_R", "Unrelated", "mouth_close" };

        float[] reference;
        int channels, frames, jaw, blinkL, brow, close;
        using (var model = new Model(modelPath))
        using (var session = new Session(model))
        using (var a = session.Animate(pcm, 16000, 1))
        {
            reference = a.ReadFrames();
            channels = a.ChannelCount;
            frames = a.FrameCount;
            var names = a.ChannelNames.ToList();
            jaw = names.IndexOf("jawOpen"); blinkL = names.IndexOf("eyeBlinkLeft");
            brow = names.IndexOf("browInnerUp"); close = names.IndexOf("mouthClose");
        }

        // ---- KMTalkOfflineAnimator ----
        var face = new GameObject("face");
        var source = face.AddComponent<AudioSource>();
        var renderer = face.AddComponent<SkinnedMeshRenderer>();
        renderer.sharedMesh = FaceMesh(shapeNames);
        var clip = AudioClip.Create("hello", pcm.Length, 1, 16000, false);
        clip.SetData(pcm, 0);
        var offline = face.AddComponent<KMTalkOfflineAnimator>();
        offline.target = renderer;
        offline.clip = clip;
        offline.modelPath = modelPath;
        Call(offline, "Awake");
        Call(offline, "Start");
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (!offline.IsReady && watch.Elapsed.TotalSeconds < 120)
        {
            Call(offline, "Update");
            System.Threading.Thread.Sleep(10);
        }
        Check(offline.IsReady && offline.FrameCount == frames && offline.Fps == 50f,
              "offline animator: ready after " + watch.ElapsedMilliseconds + " ms (background task), " + offline.FrameCount + " frames at " + offline.Fps + " fps");
        Check(source.isPlaying && source.clip == clip, "offline animator: plays the clip when ready (playOnReady)");
        var map = offline.Binding.ShapeToChannel.ToArray();
        Check(map.SequenceEqual(new[] { jaw, blinkL, brow, brow, -1, close }),
              "offline animator: the library matched JawOpen, blendShape1.eyeBlink_L, browInnerUp_L/_R (split), mouth_close; Unrelated none: "
              + string.Join(",", map.Select(i => i.ToString()).ToArray()));

        source.time = 1.0f;   // frame 50 exactly
        Call(offline, "Update");
        float expected = reference[50 * channels + jaw] * 100f;
        Check(Math.Abs(renderer.GetBlendShapeWeight(0) - expected) < 1e-3,
              "offline animator at t = 1.0 s: JawOpen weight " + F(renderer.GetBlendShapeWeight(0)) + " = 100 x jawOpen of frame 50 (" + F(expected) + ")");
        Check(renderer.GetBlendShapeWeight(2) == renderer.GetBlendShapeWeight(3) &&
              Math.Abs(renderer.GetBlendShapeWeight(2) - reference[50 * channels + brow] * 100f) < 1e-3,
              "offline animator: browInnerUp drives both halves at 100 x its weight");
        source.time = 1.01f;  // halfway between frames 50 and 51
        Call(offline, "Update");
        expected = (reference[50 * channels + jaw] + reference[51 * channels + jaw]) * 50f;
        Check(Math.Abs(renderer.GetBlendShapeWeight(0) - expected) < 1e-2,
              "offline animator at t = 1.01 s: JawOpen " + F(renderer.GetBlendShapeWeight(0)) + " blends frames 50 and 51 (" + F(expected) + ")");
        source.time = 100f;   // past the end: the last frame
        Call(offline, "Update");
        Check(Math.Abs(renderer.GetBlendShapeWeight(0) - reference[(frames - 1) * channels + jaw] * 100f) < 1e-3, "offline animator past the end: the last frame");
        Check(renderer.GetBlendShapeWeight(4) == 0f, "offline animator: an unmatched blendshape is never set");
        source.Stop();
        Call(offline, "Update");
        Check(renderer.GetBlendShapeWeight(0) == 0f && renderer.GetBlendShapeWeight(5) == 0f, "offline animator: rest pose (0) when the audio stops");
        Call(offline, "OnDestroy");

        // ---- KMTalkStreamingAnimator: stereo 48 kHz through OnAudioFilterRead ----
        const int rate = 48000;
        var stereo = new float[pcm.Length * 3 * 2];
        for (int i = 0; i < pcm.Length * 3; i++)
        {
            // linear interpolation from 16 kHz to 48 kHz, the same sample on both channels
            int j = i / 3;
            float t = (i % 3) / 3f;
            float v = j + 1 < pcm.Length ? pcm[j] + (pcm[j + 1] - pcm[j]) * t : pcm[j];
            stereo[2 * i] = v;
            stereo[2 * i + 1] = v;
        }
        float[] reference48;
        using (var model = new Model(modelPath))
        using (var session = new Session(model))
        using (var a = session.Animate(stereo, rate, 2))
            reference48 = a.ReadFrames();
        int frames48 = reference48.Length / channels;

        AudioSettings.outputSampleRate = rate;
        var voice = new GameObject("voice");
        voice.AddComponent<AudioSource>();
        var head = voice.AddComponent<SkinnedMeshRenderer>();
        head.sharedMesh = FaceMesh(shapeNames);
        var live = voice.AddComponent<KMTalkStreamingAnimator>();
        live.target = head;
        live.modelPath = modelPath;
        live.exactLatency = true;
        live.muteOutput = true;
        Call(live, "Start");
        Check(live.Session != null && Math.Abs(live.Session.LatencyMs - live.Session.ExactLatencyMs) < 1e-9,
              "streaming animator: started at the exact latency (" + (live.Session == null ? 0 : live.Session.LatencyMs) + " ms)");
        var dsp = new float[1024 * 2];   // Unity's default DSP buffer: 1024 frames, stereo
        double worst = 0;
        int compared = 0;
        bool muted = true;
        for (int offset = 0, block = 0; offset < stereo.Length; offset += dsp.Length, block++)
        {
            int n = Math.Min(dsp.Length, stereo.Length - offset);
            var buffer = n == dsp.Length ? dsp : new float[n];
            Array.Copy(stereo, offset, buffer, 0, n);
            Call(live, "OnAudioFilterRead", buffer, 2);       // the audio thread
            muted &= buffer.All(x => x == 0f);
            if (block % 2 == 1)                                   // a frame every ~43 ms
            {
                Call(live, "Update");
                if (live.FramesPulled > 0)
                {
                    int f = live.FramesPulled - 1;
                    worst = Math.Max(worst, Math.Abs(head.GetBlendShapeWeight(0) - reference48[f * channels + jaw] * 100f));
                    compared++;
                }
            }
        }
        int pulledBeforeEnd = live.FramesPulled;
        Call(live, "Update");
        live.EndUtterance();
        float last = reference48[(frames48 - 1) * channels + jaw] * 100f;
        Check(compared > 50 && worst < 0.1,
              "streaming animator: after each of " + compared + " Updates JawOpen = 100 x the offline frame just pulled, max diff " + F(worst) + " (< 100 x 1e-3)");
        Check(Math.Abs(head.GetBlendShapeWeight(0) - last) < 0.1,
              "streaming animator: EndUtterance shows the last frame (" + F(head.GetBlendShapeWeight(0)) + " vs " + F(last) + "); " + pulledBeforeEnd + " frames before the flush, " + frames48 + " in all");
        Check(live.DroppedSamples == 0 && muted, "streaming animator: no sample dropped; muteOutput silenced the filter's output");
        Call(live, "OnDestroy");
        Check(live.Session == null, "streaming animator: OnDestroy disposes the session");
        Check(UnityEngine.Debug.Messages.Count == 0, "no message on the Unity console");
    }
}
