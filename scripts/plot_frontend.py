#!/usr/bin/env python3
"""Plots what the engine computes for one audio file: the decoded 16 kHz waveform, the
engine's log-mel spectrogram, its difference from the NumPy reference on the same
samples, and a few output channels. Needs matplotlib (not a test dependency).

    python3 scripts/plot_frontend.py [AUDIO] [-o docs/img/frontend-hello.png]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "training"))
from kmtalk_ref import safetensors_io  # noqa: E402
from kmtalk_ref.frontend import log_mel  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("audio", nargs="?", default=os.path.join(ROOT, "examples/audio/hello.wav"))
    parser.add_argument("-o", "--output", default=os.path.join(ROOT, "docs/img/frontend-hello.png"))
    parser.add_argument("--kmtalk", default=os.path.join(ROOT, ".build/debug/kmtalk"))
    parser.add_argument("--model", default=os.path.join(ROOT, "models/kmtalk-tiny-random.safetensors"))
    args = parser.parse_args()
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with tempfile.TemporaryDirectory() as tmp:
        mel_path, wav_path, anim_path = (os.path.join(tmp, n) for n in ("mel.npy", "wav.npy", "anim.json"))
        subprocess.run([args.kmtalk, "features", args.audio, "--model", args.model, "--npy", mel_path,
                        "--samples-npy", wav_path], check=True, stdout=subprocess.DEVNULL)
        subprocess.run([args.kmtalk, "animate", args.audio, "--model", args.model, "-o", anim_path, "--fps", "60"],
                       check=True, stderr=subprocess.DEVNULL)
        mel, samples = np.load(mel_path), np.load(wav_path)
        animation = json.load(open(anim_path))
    config = json.loads(safetensors_io.load(args.model)[1]["config"])["frontend"]
    reference = log_mel(samples, config)
    difference = np.abs(mel - reference)
    print(f"log-mel {mel.shape}: engine vs NumPy reference on the decoded samples: "
          f"max abs {difference.max():.2e}, mean abs {difference.mean():.2e}")

    frames = np.array(animation["frames"])
    channels = animation["channels"]
    fig, axes = plt.subplots(4, 1, figsize=(10, 10), constrained_layout=True)
    t = np.arange(len(samples)) / 16000
    axes[0].plot(t, samples, lw=0.4)
    axes[0].set(title=f"decoded waveform ({os.path.basename(args.audio)}, 16 kHz mono)", xlabel="s", xlim=(0, t[-1]))
    hop = config["hop_length"] / config["sample_rate"]
    extent = (0, mel.shape[0] * hop, 0, mel.shape[1])
    image = axes[1].imshow(mel.T, origin="lower", aspect="auto", extent=extent, cmap="magma")
    axes[1].set(title="engine log-mel (ln power)", xlabel="s", ylabel="mel band")
    fig.colorbar(image, ax=axes[1])
    image = axes[2].imshow(difference.T, origin="lower", aspect="auto", extent=extent, cmap="viridis")
    axes[2].set(title=f"|engine - NumPy reference|, max {difference.max():.1e}", xlabel="s", ylabel="mel band")
    fig.colorbar(image, ax=axes[2])
    ft = np.arange(len(frames)) / animation["fps"]
    for name in ("jawOpen", "mouthClose", "mouthFunnel", "mouthSmileLeft"):
        axes[3].plot(ft, frames[:, channels.index(name)], label=name)
    axes[3].set(title="output at 60 fps (tiny model with RANDOM weights: no lip sync expected)", xlabel="s",
                ylim=(0, 1), xlim=(0, ft[-1]))
    axes[3].legend(loc="upper right", ncol=4)
    fig.savefig(args.output, dpi=80)
    print(f"wrote {os.path.relpath(args.output, ROOT)}")


if __name__ == "__main__":
    main()
