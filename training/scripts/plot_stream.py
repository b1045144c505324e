#!/usr/bin/env python3
"""Plots streamed animation against the teacher on one held-out utterance: a model
streamed in 10 ms chunks at several latency settings (the engine through the Python
bindings), so what a lower latency changes can be seen, not just averaged.

    cd training && ../.venv-test/bin/python scripts/plot_stream.py /tmp/corpus-full \\
        ../models/kmtalk-base.safetensors [--extra OTHER.safetensors] \\
        [--utterance ID] [--latencies full,150,60] -o stream.png
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from stream_quality import kmtalk, read_pcm16, teacher_at  # noqa: E402

CHANNELS = ("jawOpen", "mouthClose", "mouthPucker", "mouthFunnel")


def streamed(session, pcm, rate, latency):
    session.latency_ms = session.exact_latency_ms if latency == "full" else float(latency)
    step = rate // 100
    return np.concatenate([f for f, _ in session.stream([pcm[i:i + step] for i in range(0, len(pcm), step)], rate)])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus")
    parser.add_argument("model")
    parser.add_argument("--extra", help="another model, streamed at its full look-ahead")
    parser.add_argument("--utterance", help="corpus id (default: the first English synthetic test utterance of 3-5 s)")
    parser.add_argument("--latencies", default="full,150,60")
    parser.add_argument("-o", "--out", required=True)
    args = parser.parse_args(argv)
    with open(os.path.join(args.corpus, "manifest.jsonl")) as f:
        rows = [json.loads(line) for line in f]
    if args.utterance:
        row = next(r for r in rows if r["id"] == args.utterance)
    else:
        row = next(r for r in rows if r["split"] == "test" and r["language"] == "en" and r.get("teacher")
                   and r.get("source") == "synthetic" and 3 <= r["duration"] <= 5)
    pcm, rate = read_pcm16(os.path.join(args.corpus, row["audio"]))
    runs = []
    model = kmtalk.Model(args.model)
    session = kmtalk.Session(model, threads=1)
    name = os.path.basename(args.model).replace(".safetensors", "")
    for latency in args.latencies.split(","):
        frames = streamed(session, pcm, rate, latency)
        label = f"{name} {session.latency_ms:.0f} ms" + (" (exact)" if latency == "full" else "")
        runs.append((label, frames, list(model.channel_names)))
    if args.extra:
        extra = kmtalk.Model(args.extra)
        extra_session = kmtalk.Session(extra, threads=1)
        frames = streamed(extra_session, pcm, rate, "full")
        label = f"{os.path.basename(args.extra).replace('.safetensors', '')} {extra_session.latency_ms:.0f} ms (exact)"
        runs.append((label, frames, list(extra.channel_names)))
    teacher = teacher_at(np.load(os.path.join(args.corpus, row["teacher"])).astype(np.float32), len(runs[0][1]), model.fps)
    from kmtalk_train.arkit import INDEX

    fig, axes = plt.subplots(len(CHANNELS), 1, figsize=(11, 2.2 * len(CHANNELS)), sharex=True)
    t = np.arange(len(teacher)) / model.fps
    for ax, channel in zip(axes, CHANNELS):
        ax.plot(t, teacher[:, INDEX[channel]], color="black", lw=2.2, alpha=0.35, label="teacher")
        top = float(teacher[:, INDEX[channel]].max())
        for index, (label, frames, names) in enumerate(runs):
            values = frames[:, names.index(channel)]
            top = max(top, float(values.max()))
            # Dashed after the first run, so curves lying on top of each other stay visible.
            ax.plot(np.arange(len(frames)) / model.fps, values, lw=1.2, ls="-" if index == 0 else "--", label=label)
        ax.set_ylabel(channel)
        ax.set_ylim(-0.01, max(0.1, 1.15 * top))
    axes[0].legend(loc="upper right", fontsize=8, ncol=2)
    axes[0].set_title(f"{row['id']} (held out): \"{row['text'][:70]}\"", fontsize=9)
    axes[-1].set_xlabel("seconds")
    fig.tight_layout()
    fig.savefig(args.out, dpi=90)
    print(f"{args.out}: {row['id']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
