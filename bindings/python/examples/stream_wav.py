"""Streams an audio file through a KMTalk session in 10 ms chunks at real time,
as a live microphone would, and prints each chunk's compute time and the
frames that became final. The library decodes the file (kmtalk.load_audio:
WAV, FLAC, Ogg, MP3, AIFF, ...; mono at the file's own rate, which the session
resamples as it would a microphone's).

    python stream_wav.py SPEECH.wav [--model MODEL.safetensors] [--latency MS | --exact] [--fast]

The model defaults to kmtalk.default_model_path() (the shipped kmtalk-base).
--fast skips the real-time pacing (same output, no waiting).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import kmtalk


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("audio", help="an audio file (any format the library decodes)")
    parser.add_argument("--model", default=None, help="model file (default: kmtalk.default_model_path())")
    latency = parser.add_mutually_exclusive_group()
    latency.add_argument("--latency", type=float, default=None, help="latency in ms (default 150)")
    latency.add_argument("--exact", action="store_true",
                         help="stream at the model's full look-ahead (frames equal animate_pcm's)")
    parser.add_argument("--fast", action="store_true", help="do not wait between chunks")
    args = parser.parse_args()

    pcm, rate = kmtalk.load_audio(args.audio)  # mono float32 at the file's rate
    channels = 1

    model_path = args.model or kmtalk.default_model_path()
    if model_path is None:
        raise SystemExit("no model found: pass --model or set KMTALK_MODEL")
    model = kmtalk.Model(model_path)
    session = kmtalk.Session(model, threads=1)
    if args.exact:
        session.latency_ms = session.exact_latency_ms
    elif args.latency is not None:
        session.latency_ms = args.latency
    print(f"latency {session.latency_ms:.0f} ms (exact from {session.exact_latency_ms:.0f} ms), "
          f"{session.fps:g} fps, {rate} Hz x {channels}")

    step = rate // 100  # 10 ms
    chunk_times = []
    frames_total = 0
    start = time.perf_counter()
    for index, offset in enumerate(range(0, len(pcm), step)):
        if not args.fast:  # pace the pushes like a live source
            time.sleep(max(0.0, start + index * 0.01 - time.perf_counter()))
        began = time.perf_counter()
        session.push(pcm[offset:offset + step], rate)
        frames, first = session.pull()
        chunk_times.append((time.perf_counter() - began) * 1000)
        if len(frames):
            frames_total += len(frames)
            print(f"chunk {index:4d}: {chunk_times[-1]:6.3f} ms, {len(frames)} frame(s) from {first:6.3f} s")
    session.flush()
    frames, first = session.pull()
    frames_total += len(frames)
    times = np.array(chunk_times)
    print(f"flush: {len(frames)} frame(s) from {first:.3f} s; {frames_total} frames in all")
    print(f"compute per chunk: p50 {np.percentile(times, 50):.3f} ms, p99 {np.percentile(times, 99):.3f} ms, "
          f"max {times.max():.3f} ms")


if __name__ == "__main__":
    main()
