// SPDX-License-Identifier: MIT
// KMTalkTests.exe ROOT CLI_JSON -- tests the C# binding against the library for real
// (scripts/test-csharp.sh builds and runs it with mono):
// - models/kmtalk-base.safetensors animates examples/audio/hello.wav from the file and from
//   PCM read here (16-bit WAV), and the file result equals the CLI's JSON (CLI_JSON, from
//   `kmtalk animate hello.wav -o x.json`: same channels, frames within 1e-6, the JSON's 6 decimals);
// - the same PCM streamed in chunks (float and int16, 10 ms and odd sizes) at the exact
//   latency equals the offline result within 1e-3 (Tests/KMTalkEngineTests/StreamingTests.swift's
//   tolerance), at the default latency within 0.05 (the same file's bound for 150 ms);
// - Session.PushMany (kmt_sessions_push_f32/_s16): 3 sessions pushed by one call per 10 ms block
//   equal 3 sessions pushed one by one within 1e-4; a NaN block fails only its session;
// - errors carry the status and kmt_last_error(); disposed objects are refused with
//   ObjectDisposedException; progress, cancel, the log callback, exports, the head rig,
//   name matching with the library's matcher, the SPSC queue of the streaming animator.
using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using KMTalk;

internal static class KMTalkTests
{
    private static int passed, failed;

    private static void Check(bool condition, string what)
    {
        if (condition) { passed++; Console.WriteLine("PASS: " + what); }
        else { failed++; Console.WriteLine("FAIL: " + what); }
    }

    private static T Throws<T>(Action action, string what) where T : Exception
    {
        try { action(); }
        catch (T error)
        {
            passed++;
            Console.WriteLine("PASS: " + what + " (" + typeof(T).Name + ": " + error.Message.Replace(Environment.NewLine, " ") + ")");
            return error;
        }
        catch (Exception error) { failed++; Console.WriteLine("FAIL: " + what + ": threw " + error.GetType().Name + ": " + error.Message); return null; }
        failed++;
        Console.WriteLine("FAIL: " + what + ": nothing thrown");
        return null;
    }

    private static string F(double value) { return value.ToString("G3", CultureInfo.InvariantCulture); }

    private static double MaxDiff(float[] a, float[] b)
    {
        if (a.Length != b.Length) return double.PositiveInfinity;
        double max = 0;
        for (int i = 0; i < a.Length; i++) max = Math.Max(max, Math.Abs((double)a[i] - b[i]));
        return max;
    }

    // ---- a 16-bit PCM WAV reader --------------------------------------------------------
    private static float[] ReadWav16(string path, out int sampleRate, out int channels, out short[] raw)
    {
        byte[] b = File.ReadAllBytes(path);
        if (Encoding.ASCII.GetString(b, 0, 4) != "RIFF" || Encoding.ASCII.GetString(b, 8, 4) != "WAVE")
            throw new InvalidDataException(path + ": not a RIFF WAVE file");
        sampleRate = 0; channels = 0;
        int bits = 0, pos = 12;
        raw = null;
        while (pos + 8 <= b.Length)
        {
            string id = Encoding.ASCII.GetString(b, pos, 4);
            int size = BitConverter.ToInt32(b, pos + 4);
            int body = pos + 8;
            if (id == "fmt ")
            {
                int format = BitConverter.ToInt16(b, body);
                channels = BitConverter.ToInt16(b, body + 2);
                sampleRate = BitConverter.ToInt32(b, body + 4);
                bits = BitConverter.ToInt16(b, body + 14);
                if (format != 1 || bits != 16) throw new InvalidDataException(path + ": not 16-bit PCM");
            }
            else if (id == "data")
            {
                size = Math.Min(size, b.Length - body);
                raw = new short[size / 2];
                Buffer.BlockCopy(b, body, raw, 0, raw.Length * 2);
            }
            pos = body + size + (size & 1);
        }
        if (raw == null || channels == 0) throw new InvalidDataException(path + ": no fmt or data chunk");
        var pcm = new float[raw.Length];
        for (int i = 0; i < raw.Length; i++) pcm[i] = raw[i] / 32768f;
        return pcm;
    }

    // ---- a minimal JSON reader (objects, arrays, strings, numbers, literals) -----------------
    private sealed class Json
    {
        private readonly string s;
        private int i;
        private Json(string text) { s = text; }
        public static object Parse(string text) { var j = new Json(text); object v = j.Value(); j.Space(); if (j.i != text.Length) throw j.Error(); return v; }
        private Exception Error() { return new FormatException("JSON error at " + i); }
        private void Space() { while (i < s.Length && char.IsWhiteSpace(s[i])) i++; }
        private object Value()
        {
            Space();
            if (i >= s.Length) throw Error();
            char c = s[i];
            if (c == '{')
            {
                var o = new Dictionary<string, object>();
                i++; Space();
                if (s[i] == '}') { i++; return o; }
                while (true)
                {
                    Space(); string key = (string)Value(); Space();
                    if (s[i++] != ':') throw Error();
                    o[key] = Value(); Space();
                    if (s[i] == ',') { i++; continue; }
                    if (s[i++] == '}') return o;
                    throw Error();
                }
            }
            if (c == '[')
            {
                var a = new List<object>();
                i++; Space();
                if (s[i] == ']') { i++; return a; }
                while (true)
                {
                    a.Add(Value()); Space();
                    if (s[i] == ',') { i++; continue; }
                    if (s[i++] == ']') return a;
                    throw Error();
                }
            }
            if (c == '"')
            {
                var sb = new StringBuilder();
                i++;
                while (s[i] != '"')
                {
                    if (s[i] == '\\')
                    {
                        char e = s[++i];
                        if (e == 'u') { sb.Append((char)int.Parse(s.Substring(i + 1, 4), NumberStyles.HexNumber)); i += 4; }
                        else sb.Append(e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : e == 'b' ? '\b' : e == 'f' ? '\f' : e);
                        i++;
                    }
                    else sb.Append(s[i++]);
                }
                i++;
                return sb.ToString();
            }
            if (s.Substring(i).StartsWith("true")) { i += 4; return true; }
            if (s.Substring(i).StartsWith("false")) { i += 5; return false; }
            if (s.Substring(i).StartsWith("null")) { i += 4; return null; }
            int start = i;
            while (i < s.Length && "+-0123456789.eE".IndexOf(s[i]) >= 0) i++;
            if (start == i) throw Error();
            return double.Parse(s.Substring(start, i - start), CultureInfo.InvariantCulture);
        }
    }

    // ---- streaming helpers --------------------------------------------------------------------
    private static float[] Stream(Session session, Func<int, int> chunkSize, Action<Session, int, int> push, int total, int channelCount, out bool timesOk)
    {
        var frames = new List<float>();
        var buffer = new float[64 * channelCount];
        int pulled = 0;
        bool ok = true;
        double fps = session.OutputFps;
        Action drain = () =>
        {
            while (true)
            {
                double t0;
                int n = session.Pull(buffer, out t0);
                if (n == 0) break;
                if (Math.Abs(t0 - pulled / fps) > 1e-9) ok = false;
                for (int k = 0; k < n * channelCount; k++) frames.Add(buffer[k]);
                pulled += n;
            }
        };
        int offset = 0, chunk = 0;
        while (offset < total)
        {
            int n = Math.Min(chunkSize(chunk++), total - offset);
            push(session, offset, n);
            offset += n;
            drain();
        }
        session.Flush();
        drain();
        timesOk = ok;
        return frames.ToArray();
    }

    // Session.PushMany: 3 sessions fed hello.wav (scaled differently) in 10 ms blocks by one call
    // per tick equal 3 sessions fed by Push, within 1e-4 at the default latency; a NaN block
    // fails its session only; the int16 overload; argument errors.
    private static void PushManyTests(Model model, float[] pcm, short[] raw, int rate, int channels)
    {
        float[] gains = { 1f, 0.5f, -0.8f };
        float[][] tracks = gains.Select(g => pcm.Select(x => x * g).ToArray()).ToArray();
        Session[] batch = gains.Select(g => new Session(model)).ToArray();
        Session[] single = gains.Select(g => new Session(model)).ToArray();
        var batchOut = gains.Select(g => new List<float>()).ToArray();
        var singleOut = gains.Select(g => new List<float>()).ToArray();
        Action drain = () =>
        {
            double t0;
            for (int i = 0; i < gains.Length; i++)
            {
                batchOut[i].AddRange(batch[i].PullAll(out t0));
                singleOut[i].AddRange(single[i].PullAll(out t0));
            }
        };
        const int nanChunk = 100;
        PushManyException nanError = null;
        bool singleNanRefused = false;
        for (int offset = 0, k = 0; offset < pcm.Length; offset += 160, k++)
        {
            int n = Math.Min(160, pcm.Length - offset);
            if (k == nanChunk)
            {
                // Whole arrays (the float[] overload), one of them with a NaN.
                float[][] blocks = tracks.Select(t => { var b = new float[n]; Array.Copy(t, offset, b, 0, n); return b; }).ToArray();
                blocks[1][7] = float.NaN;
                nanError = Throws<PushManyException>(() => Session.PushMany(batch, blocks, rate, 1), "PushMany with a NaN in block 1 throws");
                for (int i = 0; i < gains.Length; i++)
                {
                    try { single[i].Push(blocks[i], rate, 1); }
                    catch (KMTalkException error) { singleNanRefused = i == 1 && error.Status == Status.InvalidAudio; }
                }
            }
            else
            {
                // Slices of the tracks, no copies (the ArraySegment overload).
                Session.PushMany(batch, tracks.Select(t => new ArraySegment<float>(t, offset, n)).ToArray(), rate, 1);
                for (int i = 0; i < gains.Length; i++) single[i].Push(new ReadOnlySpan<float>(tracks[i], offset, n), rate, 1);
            }
            drain();
        }
        foreach (Session session in batch.Concat(single)) session.Flush();
        drain();
        Check(nanError != null && nanError.Status == Status.InvalidAudio && nanError.FirstFailed == 1 &&
              nanError.Statuses.SequenceEqual(new[] { Status.Ok, Status.InvalidAudio, Status.Ok }) &&
              nanError.Function == "kmt_sessions_push_f32" && nanError.Detail.Length > 0,
              "  ... InvalidAudio for session 1 only, Statuses [Ok, InvalidAudio, Ok]" + (nanError == null ? "" : ": " + nanError.Detail));
        Check(singleNanRefused, "  ... as Push refuses the same block for that session alone");
        for (int i = 0; i < gains.Length; i++)
        {
            float[] b = batchOut[i].ToArray(), one = singleOut[i].ToArray();
            double d = MaxDiff(b, one);
            Check(b.Length == one.Length && b.Length == 243 * channels && d <= 1e-4,
                  "PushMany, session " + i + " (gain " + gains[i] + ", float 10 ms blocks, default latency): " + b.Length / channels +
                  " frames equal separate Push within 1e-4: max diff " + F(d));
        }

        // 16-bit blocks: each session its own 1.5 s of hello.wav, one call per 10 ms.
        foreach (Session session in batch.Concat(single)) session.Reset();
        foreach (var list in batchOut.Concat(singleOut)) list.Clear();
        int[] starts = { 0, 4000, 8000 };
        int length = 24000;
        for (int offset = 0; offset < length; offset += 160)
        {
            short[][] blocks = starts.Select(s => { var b = new short[160]; Array.Copy(raw, s + offset, b, 0, 160); return b; }).ToArray();
            Session.PushMany(batch, blocks, rate, 1);
            for (int i = 0; i < starts.Length; i++) single[i].Push(blocks[i], rate, 1);
            drain();
        }
        foreach (Session session in batch.Concat(single)) session.Flush();
        drain();
        double d16 = 0;
        bool same16 = true;
        for (int i = 0; i < starts.Length; i++)
        {
            same16 &= batchOut[i].Count == singleOut[i].Count && batchOut[i].Count > 70 * channels;
            d16 = Math.Max(d16, MaxDiff(batchOut[i].ToArray(), singleOut[i].ToArray()));
        }
        Check(same16 && d16 <= 1e-4, "PushMany (short[] blocks, 3 sessions, 1.5 s): " + batchOut[0].Count / channels +
              " frames each, equal separate Push within 1e-4: max diff " + F(d16));

        // Argument errors push nothing.
        foreach (Session session in batch) session.Reset();
        var twice = Throws<PushManyException>(() => Session.PushMany(new[] { batch[0], batch[0] }, new[] { new float[160], new float[160] }, rate, 1),
                                              "PushMany with a session listed twice throws");
        Check(twice != null && twice.Status == Status.InvalidArgument && twice.Statuses.All(s => s == Status.InvalidArgument),
              "  ... InvalidArgument for every session");
        batch[0].Push(new float[441], 44100, 1);  // the utterance's rate is not fixed yet: nothing was pushed
        Check(true, "  ... and nothing pushed (a push at another rate is accepted after it)");
        batch[0].Reset();
        Throws<ArgumentException>(() => Session.PushMany(batch, new[] { new float[160], new float[160] }, rate, 1), "PushMany with 3 sessions and 2 blocks throws");
        Throws<ArgumentException>(() => Session.PushMany(batch, new[] { new float[160], new float[161], new float[160] }, rate, 2),
                                  "PushMany with a block that is not whole 2-channel frames throws");
        Throws<ArgumentNullException>(() => Session.PushMany(new[] { batch[0], null }, new[] { new float[160], new float[160] }, rate, 1),
                                      "PushMany with a null session throws");
        var bad = Throws<PushManyException>(() => Session.PushMany(batch, new[] { new short[160], new short[160], new short[160] }, 7999, 1),
                                            "PushMany (short[]) at 7999 Hz throws");
        Check(bad != null && bad.Function == "kmt_sessions_push_s16" && bad.Statuses.All(s => s == bad.Status) && bad.Status != Status.Ok,
              "  ... the same status for every session (" + (bad == null ? "" : bad.Status.ToString()) + ")");
        Session.PushMany(new Session[0], new float[0][], rate, 1);
        Check(true, "PushMany of no sessions does nothing");
        batch[2].Dispose();
        Throws<ObjectDisposedException>(() => Session.PushMany(batch, new[] { new float[160], new float[160], new float[160] }, rate, 1),
                                        "PushMany with a disposed session throws ObjectDisposedException");
        batch[0].Push(new float[441], 44100, 1);
        batch[1].Push(new float[441], 44100, 1);
        Check(true, "  ... and pushes nothing (the others accept another rate after it)");
        foreach (Session session in batch.Concat(single)) session.Dispose();
    }

    private static int Main(string[] args)
    {
        if (args.Length != 2)
        {
            Console.Error.WriteLine("usage: KMTalkTests.exe REPO_ROOT CLI_JSON");
            return 2;
        }
        string root = args[0];
        string cliJson = args[1];
        string modelPath = Path.Combine(root, "models/kmtalk-base.safetensors");
        string wavPath = Path.Combine(root, "examples/audio/hello.wav");
        string rigPath = Path.Combine(root, "models/kmtalk-head.rig.safetensors");
        string scratch = Path.Combine(Path.GetTempPath(), "kmtalk-cs-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(scratch);
        try
        {
            Run(modelPath, wavPath, rigPath, cliJson, scratch);
        }
        catch (Exception error)
        {
            failed++;
            Console.WriteLine("FAIL: unexpected " + error);
        }
        finally
        {
            try { Directory.Delete(scratch, true); } catch (IOException) { }
        }
        Console.WriteLine("KMTalkTests: " + passed + " passed, " + failed + " failed");
        return failed == 0 ? 0 : 1;
    }

    private static void Run(string modelPath, string wavPath, string rigPath, string cliJson, string scratch)
    {
        // ---- library ----
        Check(Library.Version == Library.BindingVersion, "Library.Version " + Library.Version + " is the header's " + Library.BindingVersion);
        Check(Library.VersionNumber == 10000, "Library.VersionNumber " + Library.VersionNumber);
        Check(Library.StatusString(Status.Io).Length > 0, "Library.StatusString(Io) = \"" + Library.StatusString(Status.Io) + "\"");

        // ---- model ----
        var model = new Model(modelPath);
        Check(model.ChannelCount == 52 && model.ChannelNames.Count == 52 && model.ChannelNames.Contains("jawOpen"),
              "model: 52 channels with jawOpen (" + model + ")");
        Check(model.SampleRate == 16000 && model.Fps == 50f && model.MotionSpace == "arkit" && model.ParameterCount > 0,
              "model: 16 kHz, 50 fps, arkit, " + model.ParameterCount + " parameters");
        string format;
        Check(model.TryGetMetadata("format", out format) && format.Length > 0, "model metadata format = " + format);
        string none;
        Check(!model.TryGetMetadata("no-such-key", out none) && none == null, "TryGetMetadata is false for a missing key");
        var missingKey = Throws<KMTalkException>(() => model.GetMetadata("no-such-key"), "GetMetadata throws for a missing key");
        Check(missingKey != null && missingKey.Status == Status.InvalidArgument, "  ... with InvalidArgument");

        // ---- offline: file, PCM, CLI ----
        var session = new Session(model);
        Animation fromFile = session.Animate(wavPath);
        int frames = fromFile.FrameCount, channels = fromFile.ChannelCount;
        Check(frames == 243 && channels == 52 && fromFile.Fps == 50f, "Animate(file): " + frames + " frames x " + channels + " channels at " + fromFile.Fps + " fps");
        Check(fromFile.ChannelNames.SequenceEqual(model.ChannelNames), "animation channel names equal the model's");
        float[] fileWeights = fromFile.ReadFrames();
        using (Animation mapped = fromFile.Remap("{\"channels\": {\"jawOpen\": {\"Mouth_Open\": 0.5}}}"))
        {
            int jawIndex = Array.IndexOf(fromFile.ChannelNames.ToArray(), "jawOpen");
            float[] mappedWeights = mapped.ReadFrames();
            Check(mapped.ChannelCount == 1 && mapped.ChannelNames.First() == "Mouth_Open" && mapped.FrameCount == frames &&
                  Math.Abs(mappedWeights[100] - 0.5f * fileWeights[100 * channels + jawIndex]) < 1e-6f,
                  "Remap: jawOpen x 0.5 drives Mouth_Open");
        }
        var badMap = Throws<KMTalkException>(() => fromFile.Remap("{\"channels\": {\"jawOpn\": \"A\"}}"), "Remap with an unknown channel throws");
        Check(badMap != null && badMap.Status == Status.InvalidArgument && badMap.Detail.Contains("jawOpn"), "  ... InvalidArgument naming it");

        int rate, wavChannels;
        short[] raw;
        float[] pcm = ReadWav16(wavPath, out rate, out wavChannels, out raw);
        Animation fromPcm = session.Animate(pcm, rate, wavChannels);
        float[] pcmWeights = fromPcm.ReadFrames();
        Check(fromPcm.FrameCount == frames && fromPcm.ChannelNames.SequenceEqual(fromFile.ChannelNames),
              "Animate(PCM read in C#, " + pcm.Length + " samples at " + rate + " Hz): " + fromPcm.FrameCount + " frames, the same channels");
        double pcmDiff = MaxDiff(fileWeights, pcmWeights);
        Check(pcmDiff <= 1e-6, "Animate(PCM) equals Animate(file): max diff " + F(pcmDiff));

        var json = (Dictionary<string, object>)Json.Parse(File.ReadAllText(cliJson));
        var cliChannels = ((List<object>)json["channels"]).Cast<string>().ToList();
        var cliFrames = (List<object>)json["frames"];
        Check(cliChannels.SequenceEqual(fromFile.ChannelNames), "CLI JSON channels equal the C# animation's (" + cliChannels.Count + ")");
        Check(cliFrames.Count == frames && (double)json["fps"] == fromFile.Fps, "CLI JSON has " + cliFrames.Count + " frames at " + json["fps"] + " fps, C# " + frames);
        double cliDiff = 0;
        for (int f = 0; f < Math.Min(frames, cliFrames.Count); f++)
        {
            var row = (List<object>)cliFrames[f];
            for (int c = 0; c < channels; c++) cliDiff = Math.Max(cliDiff, Math.Abs((double)row[c] - fileWeights[f * channels + c]));
        }
        Check(cliDiff <= 1e-6, "Animate(file) equals the CLI's JSON within 1e-6: max diff " + F(cliDiff));

        // Span reads of a range equal the whole read.
        var part = new float[10 * channels];
        int written = fromFile.ReadFrames(100, 10, new Span<float>(part));
        Check(written == part.Length && MaxDiff(part, fileWeights.Skip(100 * channels).Take(10 * channels).ToArray()) == 0,
              "ReadFrames(100, 10, Span<float>) equals frames 100..109 of ReadFrames()");
        var small = Throws<KMTalkException>(() => fromFile.ReadFrames(0, 2, new Span<float>(new float[channels])), "ReadFrames into a too small span throws");
        Check(small != null && small.Status == Status.BufferTooSmall, "  ... with BufferTooSmall");
        var range = Throws<KMTalkException>(() => fromFile.ReadFrames(frames, 1), "ReadFrames past the end throws");
        Check(range != null && range.Status == Status.InvalidArgument, "  ... with InvalidArgument");

        // ---- streaming ----
        using (var live = new Session(model))
        {
            Check(Math.Abs(live.LatencyMs - 150) < 1e-9 && Math.Abs(live.ExactLatencyMs - 296) < 1e-9,
                  "streaming latency " + live.LatencyMs + " ms by default, exact " + live.ExactLatencyMs + " ms");
            live.LatencyMs = live.ExactLatencyMs;
            bool timesOk;
            float[] streamed = Stream(live, k => 160, (s, off, n) => s.Push(new ReadOnlySpan<float>(pcm, off, n), rate, 1), pcm.Length, channels, out timesOk);
            double d = MaxDiff(streamed, pcmWeights);
            Check(streamed.Length == pcmWeights.Length, "streamed 10 ms float chunks: " + streamed.Length / channels + " frames, offline " + frames);
            Check(d < 1e-3, "streamed (exact latency, 10 ms float chunks) equals offline within 1e-3: max diff " + F(d));
            Check(timesOk, "each pull's first time is its frame index / fps");

            live.Reset();
            var rnd = new Random(15);
            streamed = Stream(live, k => k % 3 == 0 ? 37 : 1 + rnd.Next(700), (s, off, n) => s.Push(new ReadOnlySpan<short>(raw, off, n), rate, 1), raw.Length, channels, out timesOk);
            d = MaxDiff(streamed, pcmWeights);
            Check(streamed.Length == pcmWeights.Length && d < 1e-3, "streamed (exact latency, int16, 37-sample and random chunks): " + streamed.Length / channels + " frames, max diff " + F(d));

            var afterFlush = Throws<KMTalkException>(() => live.Push(new float[160], rate, 1), "Push after Flush throws");
            Check(afterFlush != null && afterFlush.Status == Status.InvalidArgument && afterFlush.Detail.Length > 0, "  ... with InvalidArgument and a message");
            live.Reset();
            for (int k = 0; k < 5; k++) live.Push(new float[1600], rate, 1);
            int pending = live.PendingFrames;
            Check(pending > 0, "after 500 ms pushed (latency " + live.LatencyMs + " ms), " + pending + " frames are pending");
            var tooSmall = Throws<KMTalkException>(() => { double t; live.Pull(new float[channels - 1], out t); }, "Pull into less than one frame throws while frames are pending");
            Check(tooSmall != null && tooSmall.Status == Status.BufferTooSmall, "  ... with BufferTooSmall");
            double t0;
            float[] all = live.PullAll(out t0);
            Check(all.Length == pending * channels && t0 == 0 && live.PendingFrames == 0, "PullAll returns the " + pending + " pending frames from t = 0");
        }
        using (var live = new Session(model))
        {
            bool timesOk;
            float[] streamed = Stream(live, k => 160, (s, off, n) => s.Push(new ReadOnlySpan<float>(pcm, off, n), rate, 1), pcm.Length, channels, out timesOk);
            double d = MaxDiff(streamed, pcmWeights);
            Check(streamed.Length == pcmWeights.Length && d < 0.05, "streamed at the default 150 ms: same frame count, max diff " + F(d) + " (< 0.05)");
        }

        // ---- many sessions in one call (Session.PushMany) ----
        PushManyTests(model, pcm, raw, rate, channels);

        // ---- several threads on one model ----
        var results = new float[3][];
        var threads = Enumerable.Range(0, 3).Select(k => new Thread(() =>
        {
            using (var s = new Session(model))
            using (var a = s.Animate(pcm, rate, 1))
                results[k] = a.ReadFrames();
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        Check(results.All(r => r != null && MaxDiff(r, pcmWeights) == 0), "3 threads, one session each on a shared model: bit-identical results");

        // ---- audio decoding (kmt_audio_*) ----
        using (var decoded = Audio.Load(wavPath, new AudioOptions { SampleRate = model.SampleRate }))
        {
            float[] samples = decoded.Samples;
            Check(decoded.SampleRate == 16000 && decoded.SourceRate == rate && decoded.SourceChannels == wavChannels &&
                  decoded.FormatName == "WAV (Microsoft) / Signed 16 bit PCM",
                  "Audio.Load: " + decoded);
            Check(MaxDiff(samples, pcm) == 0, "Audio.Load samples equal the 16-bit PCM read in C# (/32768)");
            using (var fromSamples = session.Animate(samples, decoded.SampleRate, 1))
                Check(MaxDiff(fromSamples.ReadFrames(), fileWeights) == 0, "Animate(Audio.Load samples) equals Animate(file) exactly");
            var tail = new float[10];
            Check(decoded.CopySamples(samples.Length - 4, new Span<float>(tail)) == 4 && tail[3] == samples[samples.Length - 1],
                  "CopySamples copies what remains");
            using (var live = new Session(model))
            {
                live.LatencyMs = live.ExactLatencyMs;
                bool ok;
                float[] streamedFile = Stream(live, k => 160, (s, off, n) => s.Push(new ReadOnlySpan<float>(samples, off, n), decoded.SampleRate, 1),
                                              samples.Length, channels, out ok);
                Check(streamedFile.Length == fileWeights.Length && MaxDiff(streamedFile, fileWeights) < 1e-3,
                      "a file decoded by Audio.Load and streamed at the exact latency equals Animate(file): max diff " + F(MaxDiff(streamedFile, fileWeights)));
            }
        }
        using (var fromBytes = Audio.FromMemory(File.ReadAllBytes(wavPath), new AudioOptions { SampleRate = 22050 }))
            Check(fromBytes.SampleRate == 22050 && Math.Abs(fromBytes.Duration - (double)pcm.Length / rate) < 1e-3,
                  "Audio.FromMemory resamples to 22050 Hz: " + fromBytes.SampleCount + " samples");
        var audioFractions = new List<float>();
        using (Audio.Load(wavPath, new AudioOptions { Progress = (f, stage) => { audioFractions.Add(f); return stage == "decode"; } })) { }
        Check(audioFractions.Count >= 2 && audioFractions.Last() == 1f, "Audio.Load reports progress (stage decode) up to 1.0");
        var missingAudio = Throws<KMTalkException>(() => Audio.Load(Path.Combine(scratch, "missing.wav")), "Audio.Load of a missing file throws");
        Check(missingAudio != null && missingAudio.Status == Status.Io, "  ... with Io");
        var notAudio = Throws<KMTalkException>(() => Audio.FromMemory(Encoding.ASCII.GetBytes("not audio at all")), "Audio.FromMemory of text throws");
        Check(notAudio != null && notAudio.Status == Status.UnsupportedFormat, "  ... with UnsupportedFormat");
        var emptyAudio = Throws<KMTalkException>(() => Audio.FromMemory(new byte[0]), "Audio.FromMemory of no bytes throws");
        Check(emptyAudio != null && emptyAudio.Status == Status.InvalidAudio, "  ... with InvalidAudio");
        var badAudioRate = Throws<KMTalkException>(() => Audio.Load(wavPath, new AudioOptions { SampleRate = 100 }), "Audio.Load with SampleRate 100 throws");
        Check(badAudioRate != null && badAudioRate.Status == Status.InvalidArgument, "  ... with InvalidArgument");
        var disposedAudio = Audio.Load(wavPath);
        disposedAudio.Dispose();
        Throws<ObjectDisposedException>(() => { var unused = disposedAudio.SampleCount; }, "a disposed Audio is refused");

        // ---- progress and cancel ----
        var fractions = new List<float>();
        var stages = new List<string>();
        using (var s = new Session(model, new SessionOptions { Progress = (f, stage) => { fractions.Add(f); stages.Add(stage); return true; } }))
        using (s.Animate(wavPath)) { }
        bool increasing = fractions.Count > 1;
        for (int k = 1; k < fractions.Count; k++) increasing &= fractions[k] >= fractions[k - 1];
        Check(increasing && fractions.Last() == 1f && fractions.Count(f => f == 1f) == 1,
              "progress: " + fractions.Count + " reports, never decreasing, 1.0 once at the end; stages " + string.Join(",", stages.Distinct().ToArray()));
        using (var s = new Session(model, new SessionOptions { Progress = (f, stage) => f < 0.5f }))
        {
            var cancelled = Throws<KMTalkException>(() => s.Animate(wavPath), "a progress callback returning false cancels");
            Check(cancelled != null && cancelled.Status == Status.Cancelled, "  ... with Cancelled");
        }
        using (var s = new Session(model, new SessionOptions { Progress = (f, stage) => { throw new InvalidOperationException("from the callback"); } }))
        {
            var thrown = Throws<InvalidOperationException>(() => s.Animate(pcm, rate, 1), "an exception in the progress callback comes back from Animate");
            Check(thrown != null && thrown.Message == "from the callback", "  ... the same exception");
            using (var again = new Session(model))
            using (var a = again.Animate(pcm, rate, 1))
                Check(a.FrameCount == frames, "the library works after a cancelled call");
        }
        using (var s = new Session(model, new SessionOptions { OutputFps = 60 }))
        using (var a = s.Animate(pcm, rate, 1))
            Check(a.Fps == 60f && Math.Abs(s.OutputFps - 60) < 1e-9 && Math.Abs(a.FrameCount - frames * 60.0 / 50) <= 2,
                  "SessionOptions.OutputFps 60: " + a.FrameCount + " frames at " + a.Fps + " fps");

        // ---- log callback ----
        var logged = new List<string>();
        Library.SetLogCallback((level, message) => { lock (logged) logged.Add(level + ": " + message); }, LogLevel.Warning);
        byte[] liveLink = fromFile.SaveToMemory(ExportFormat.LiveLinkCsv);
        Library.SetLogCallback(null);
        Check(liveLink.Length > 0 && logged.Any(m => m.StartsWith("Warning")), "log callback: Live Link CSV at 50 fps logs \"" + (logged.Count > 0 ? logged[0] : "") + "\"");

        // ---- exports ----
        string jsonOut = Path.Combine(scratch, "hello.json");
        fromFile.Save(jsonOut);
        byte[] jsonMemory = fromFile.SaveToMemory(ExportFormat.Json);
        Check(File.ReadAllBytes(jsonOut).SequenceEqual(jsonMemory), "Save(json) writes the bytes SaveToMemory(Json) returns (" + jsonMemory.Length + " bytes)");
        var saved = (Dictionary<string, object>)Json.Parse(Encoding.UTF8.GetString(jsonMemory));
        Check(((List<object>)saved["frames"]).Count == frames, "the saved JSON holds " + frames + " frames");
        string cues = Encoding.UTF8.GetString(fromFile.SaveToMemory(ExportFormat.MouthCuesTsv, null, ""));
        string cuesAll = Encoding.UTF8.GetString(fromFile.SaveToMemory(ExportFormat.MouthCuesTsv));
        Check(cues.Length > 0 && !cues.Contains("\tX") && cuesAll.Contains("\tX"), "mouth cues: extended shapes \"\" map X away, the default keeps it");
        var io = Throws<KMTalkException>(() => fromFile.Save(Path.Combine(scratch, "no/such/dir/x.json")), "Save into a missing directory throws");
        Check(io != null && io.Status == Status.Io && io.Detail.Contains("no/such/dir"), "  ... with Io and a message naming the path: " + (io == null ? "" : io.Detail));
        var glb = Throws<KMTalkException>(() => fromFile.Save(Path.Combine(scratch, "x.glb")), "Save(.glb) without a rig throws");
        Check(glb != null && glb.Status == Status.InvalidArgument, "  ... with InvalidArgument");

        // ---- rig ----
        using (var rig = new Rig(rigPath))
        {
            int[] map = rig.ShapeChannels(fromFile);
            Check(rig.ShapeCount > 0 && map.Length == rig.ShapeCount && map.Count(c => c >= 0) > 40,
                  "head rig: " + rig.VertexCount + " vertices, " + rig.ShapeCount + " shapes, " + map.Count(c => c >= 0) + " driven");
            float[] posed = fromFile.Vertices(rig, 57, 1);
            Check(posed.Length == rig.VertexCount * 3 && rig.ReadVertices().Length == posed.Length && rig.ReadFaces().Length == rig.FaceCount * 3,
                  "Vertices(rig, 57, 1): V x 3 floats");
            float[] jawDeltas = rig.ReadDeltas(rig.ShapeNames.ToList().IndexOf("jawOpen"));
            Check(jawDeltas.Length == rig.VertexCount * 3 && jawDeltas.Max(d => Math.Abs(d)) > 1e-3f,
                  "ReadDeltas(jawOpen): V x 3 floats that move the mesh");
            Check(Throws<ArgumentOutOfRangeException>(() => rig.ReadDeltas(rig.ShapeCount), "ReadDeltas(ShapeCount) throws") != null,
                  "  ... ArgumentOutOfRangeException");
            Check(rig.UnmatchedChannels(fromFile).Length + map.Where(c => c >= 0).Distinct().Count() == channels,
                  "UnmatchedChannels + driven channels = " + channels);
            Check(rig.GetMetadata("units").Length > 0, "rig units = " + rig.GetMetadata("units"));
            fromFile.Save(Path.Combine(scratch, "hello.glb"), ExportFormat.Auto, rig);
            Check(new FileInfo(Path.Combine(scratch, "hello.glb")).Length > 1000, "Save(.glb, rig) writes a GLB");
            // Into the user's own GLB (here the one just written, which has a "speech" already).
            string talking = Path.Combine(scratch, "hello-talking.glb");
            fromFile.SaveInto(Path.Combine(scratch, "hello.glb"), talking);
            byte[] into = File.ReadAllBytes(talking);
            int jsonLength = BitConverter.ToInt32(into, 12);
            string intoJson = System.Text.Encoding.UTF8.GetString(into, 20, jsonLength);
            Check(into.Length > new FileInfo(Path.Combine(scratch, "hello.glb")).Length && intoJson.Contains("\"animations\":[{\"name\":\"speech 2\""),
                  "SaveInto: the asset with a \"speech 2\" animation first (" + into.Length + " bytes)");
            var notGlb = Throws<KMTalkException>(() => fromFile.SaveInto(wavPath, talking), "SaveInto a WAV throws");
            Check(notGlb != null && notGlb.Status == Status.UnsupportedFormat, "  ... UnsupportedFormat");
        }

        // ---- blendshape name matching through the library ----
        var names = new[] { "JawOpen", "eyeBlink_L", "browInnerUp_L", "browInnerUp_R", "blendShape1.mouthClose",
                            "mouth_smile_left", "notAShape", "", "JawOpen", "mouthLeft" };
        int[] matched = fromFile.MatchShapeNames(names);
        var ch = fromFile.ChannelNames.ToList();
        int[] expected = { ch.IndexOf("jawOpen"), ch.IndexOf("eyeBlinkLeft"), ch.IndexOf("browInnerUp"), ch.IndexOf("browInnerUp"),
                           ch.IndexOf("mouthClose"), ch.IndexOf("mouthSmileLeft"), -1, -1, ch.IndexOf("jawOpen"), ch.IndexOf("mouthLeft") };
        Check(matched.SequenceEqual(expected), "MatchShapeNames: " + string.Join(",", matched.Select(i => i.ToString()).ToArray())
              + " (expected " + string.Join(",", expected.Select(i => i.ToString()).ToArray()) + ")");
        Check(model.MatchShapeNames(names).SequenceEqual(matched), "Model.MatchShapeNames equals Animation.MatchShapeNames");
        using (var byNames = Rig.FromShapeNames(new[] { "a \"quoted\" \\ name", "Ünïcode", "tab\tname" }))
            Check(byNames.ShapeNames.SequenceEqual(new[] { "a \"quoted\" \\ name", "Ünïcode", "tab\tname" }), "Rig.FromShapeNames keeps quotes, backslashes, UTF-8 and control characters");

        // ---- errors ----
        string missing = Path.Combine(scratch, "missing.wav");
        var noFile = Throws<KMTalkException>(() => session.Animate(missing), "Animate(missing file) throws");
        Check(noFile != null && noFile.Status == Status.Io && noFile.Detail.Contains(missing) && noFile.Function == "kmt_animate_file",
              "  ... with Io, from kmt_animate_file, the message naming the file");
        var noModel = Throws<KMTalkException>(() => new Model(Path.Combine(scratch, "missing.safetensors")), "new Model(missing file) throws");
        Check(noModel != null && noModel.Status == Status.Io && noModel.Detail.Contains("missing.safetensors"), "  ... with Io naming the file");
        var notModel = Throws<KMTalkException>(() => new Model(wavPath), "new Model(a WAV file) throws");
        Check(notModel != null && (notModel.Status == Status.UnsupportedFormat || notModel.Status == Status.CorruptModel), "  ... with " + (notModel == null ? "" : notModel.Status.ToString()));
        var badRate = Throws<KMTalkException>(() => session.Animate(pcm, 1000, 1), "Animate at 1000 Hz throws");
        Check(badRate != null && badRate.Status == Status.InvalidAudio, "  ... with InvalidAudio: " + (badRate == null ? "" : badRate.Detail));
        Throws<ArgumentException>(() => session.Animate(new float[3], 16000, 2), "PCM not a multiple of the channel count is refused");
        Throws<ArgumentException>(() => session.Animate("bad\0path"), "a path holding NUL is refused");
        var nan = new float[1600];
        nan[5] = float.NaN;
        var nanError = Throws<KMTalkException>(() => session.Animate(nan, 16000, 1), "NaN samples throw by default");
        Check(nanError != null && nanError.Status == Status.InvalidAudio, "  ... with InvalidAudio");
        using (var zero = new Session(model, new SessionOptions { NonfinitePolicy = NonfinitePolicy.Zero }))
        using (var a = zero.Animate(nan, 16000, 1))
            Check(a.FrameCount > 0, "NonfinitePolicy.Zero animates NaN samples as silence");

        // ---- disposed handles ----
        session.Dispose();
        session.Dispose();
        Check(session.IsDisposed, "Session.Dispose twice is fine");
        Throws<ObjectDisposedException>(() => session.Animate(wavPath), "a disposed session refuses Animate");
        Throws<ObjectDisposedException>(() => session.Push(new float[10], 16000, 1), "a disposed session refuses Push");
        Throws<ObjectDisposedException>(() => { var unused = session.LatencyMs; }, "a disposed session refuses LatencyMs");
        fromPcm.Dispose();
        Throws<ObjectDisposedException>(() => { var unused = fromPcm.FrameCount; }, "a disposed animation refuses FrameCount");
        Throws<ObjectDisposedException>(() => fromPcm.ReadFrames(), "a disposed animation refuses ReadFrames");
        using (var rig = new Rig(rigPath))
            Throws<ObjectDisposedException>(() => rig.ShapeChannels(fromPcm), "a disposed animation is refused as an argument");
        var kept = new Session(model);
        model.Dispose();
        Throws<ObjectDisposedException>(() => { var unused = model.ChannelCount; }, "a disposed model refuses ChannelCount");
        Throws<ObjectDisposedException>(() => new Session(model), "a disposed model refuses new sessions");
        using (kept)
        using (var a = kept.Animate(pcm, rate, 1))
            Check(MaxDiff(a.ReadFrames(), pcmWeights) == 0, "a session keeps its model alive after Model.Dispose");
        Check(fromFile.FrameCount == frames, "an animation outlives its session and model");
        fromFile.Dispose();

        // Leaked objects are freed by their finalizers without trouble.
        using (var m = new Model(modelPath))
            for (int k = 0; k < 3; k++) new Session(m).Animate(new float[1600], 16000, 1);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        Check(true, "finalizers freed undisposed sessions and animations");

        // ---- the SPSC queue of KMTalkStreamingAnimator ----
        var queue = new PcmRingBuffer(1000);
        const int total = 200000;
        bool orderOk = true;
        var producer = new Thread(() =>
        {
            var r = new Random(1);
            var chunk = new float[512];
            int next = 0;
            while (next < total)
            {
                int n = Math.Min(1 + r.Next(chunk.Length), total - next);
                for (int k = 0; k < n; k++) chunk[k] = next + k;
                int done = 0;
                while (done < n) { done += queue.Write(new ReadOnlySpan<float>(chunk, done, n - done)); if (done < n) Thread.Yield(); }
                next += n;
            }
        });
        producer.Start();
        var readBuffer = new float[300];
        int expectedNext = 0;
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (expectedNext < total && watch.Elapsed.TotalSeconds < 30)
        {
            int n = queue.Read(new Span<float>(readBuffer));
            for (int k = 0; k < n; k++) if (readBuffer[k] != expectedNext++) orderOk = false;
            if (n == 0) Thread.Yield();
        }
        producer.Join();
        Check(orderOk && expectedNext == total && queue.Count == 0, "PcmRingBuffer: 200000 samples through a 1000-sample queue between two threads, in order");
        var full = new PcmRingBuffer(100);
        int accepted = full.Write(new ReadOnlySpan<float>(new float[150]));
        Check(accepted == 100 && full.DroppedSamples == 50 && full.Count == 100, "PcmRingBuffer drops what does not fit and counts it");
    }
}
