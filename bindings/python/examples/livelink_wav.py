"""Streams an audio file to Unreal Engine's Live Link in real time, as the iPhone
Live Link Face app would: 10 ms chunks into a KMTalk session, one UDP packet
per 60 fps frame (kmtalk.livelink). See docs/unreal-livelink.md. The library
decodes the file (kmtalk.load_audio: WAV, FLAC, Ogg, MP3, AIFF, ...) at the
model's rate, so the stream sees the samples animate_file would.

    python livelink_wav.py SPEECH.wav [--host 127.0.0.1] [--port 11111] [--subject KMTalk]
                           [--model MODEL.safetensors] [--latency MS] [--fast]

--fast skips the real-time pacing (same packets, no waiting).
"""

from __future__ import annotations

import argparse
import time

import kmtalk
from kmtalk.livelink import DEFAULT_PORT, LiveLinkSender


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("audio", help="an audio file (any format the library decodes)")
    parser.add_argument("--host", default="127.0.0.1", help="the machine running Unreal")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--subject", default="KMTalk", help="the Live Link subject name")
    parser.add_argument("--model", default=None, help="model file (default: kmtalk.default_model_path())")
    parser.add_argument("--latency", type=float, default=None, help="latency in ms (default 150)")
    parser.add_argument("--fast", action="store_true", help="do not wait: send as fast as possible")
    args = parser.parse_args()

    model_path = args.model or kmtalk.default_model_path()
    if model_path is None:
        raise SystemExit("no model found: pass --model or set KMTALK_MODEL")
    model = kmtalk.Model(model_path)
    pcm, rate = kmtalk.load_audio(args.audio, model.sample_rate)  # mono float32
    session = kmtalk.Session(model, threads=1, fps=60)
    if args.latency is not None:
        session.latency_ms = args.latency
    latency_s = session.latency_ms / 1000

    step = rate // 100  # 10 ms
    with LiveLinkSender(args.host, args.port, subject=args.subject, fps=60,
                        channel_names=model.channel_names) as sender:
        start = time.monotonic()
        paced = None if args.fast else start
        for index, offset in enumerate(range(0, len(pcm), step)):
            if not args.fast:  # push each chunk when its last sample would have been heard
                time.sleep(max(0.0, start + (index + 1) * 0.01 - time.monotonic()))
            session.push(pcm[offset:offset + step], rate)
            frames, _ = session.pull()
            sender.send_frames(frames, start_time=paced, latency_s=latency_s)
        session.flush()
        frames, _ = session.pull()
        sender.send_frames(frames, start_time=paced, latency_s=latency_s)
        print(f"sent {sender.packets_sent} packets to {args.host}:{args.port} as subject {args.subject!r} "
              f"(60 fps, latency {session.latency_ms:.0f} ms)")


if __name__ == "__main__":
    main()
