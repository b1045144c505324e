#!/usr/bin/env python3
"""Plots what `kmtalk animate` makes of one audio file: the waveform above, the main mouth
channels below (the README's picture). Runs the CLI (release build) for each model given,
so two models can be compared on the same clip. Needs matplotlib (not a test dependency).

    python3 scripts/plot_animation.py [AUDIO] [--model M.safetensors ...] [-o docs/img/kmtalk-base-hello.png]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import wave

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CHANNELS = ("jawOpen", "mouthClose", "mouthPucker", "mouthFunnel", "mouthRollLower", "mouthPressLeft",
            "mouthStretchLeft")
TITLE = '"Hello! This is KMTalk, turning your speech into facial animation."'


def animate(audio: str, model: str, fps: int, cli: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "motion.json")
        command = [cli, "animate", audio, "-o", out, "--fps", str(fps)] + (["--model", model] if model else [])
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        with open(out) as f:
            return json.load(f)


def read_wav(path: str):
    with wave.open(path) as w:
        data = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).reshape(-1, w.getnchannels())
        return data[:, 0].astype(np.float32) / 32768, w.getframerate()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("audio", nargs="?", default=os.path.join(ROOT, "examples", "audio", "hello.wav"))
    parser.add_argument("--model", action="append", default=[], help="model file (repeatable; default: the CLI's)")
    parser.add_argument("--fps", type=int, default=60)
    parser.add_argument("--cli", default=os.path.join(ROOT, ".build", "release", "kmtalk"))
    parser.add_argument("--title", default=TITLE)
    parser.add_argument("-o", "--out", default=os.path.join(ROOT, "docs", "img", "kmtalk-base-hello.png"))
    args = parser.parse_args(argv)
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    models = args.model or [""]
    samples, rate = read_wav(args.audio)
    fig, axes = plt.subplots(1 + len(models), 1, figsize=(10, 2.2 + 2.2 * len(models)), sharex=True)
    axes[0].plot(np.arange(len(samples)) / rate, samples, lw=0.5)
    axes[0].set_title(args.title, fontsize=10)
    axes[0].set_ylabel("audio")
    for ax, model in zip(axes[1:], models):
        motion = animate(args.audio, model, args.fps, args.cli)
        frames = np.asarray(motion["frames"], dtype=np.float32)
        t = np.arange(len(frames)) / motion["fps"]
        for name in CHANNELS:
            ax.plot(t, frames[:, motion["channels"].index(name)], label=name, lw=1.2)
        ax.set_ylim(0, 1)
        ax.set_ylabel(os.path.basename(model or motion.get("model", "default")).replace(".safetensors", ""),
                      fontsize=8)
        ax.legend(ncol=4, fontsize=7, loc="upper right")
    axes[-1].set_xlabel("seconds")
    fig.tight_layout()
    fig.savefig(args.out, dpi=80)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
