#!/usr/bin/env python3
"""Teacher vs model curves on one held-out corpus utterance, for several exported models
(e.g. the key-motion model and the direct-regression baseline), with the phone labels and
the model's key frames.

    cd training && ../.venv-torch/bin/python scripts/plot_compare.py /tmp/corpus-full \\
        ../models/kmtalk-base.safetensors DIRECT.safetensors -o ../docs/img/compare-test.png [--id ID]

Without --id it takes the first English test utterance from a held-out voice with at least
three bilabials.
"""
import argparse
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from kmtalk_train import phones  # noqa: E402
from kmtalk_train.arkit import INDEX  # noqa: E402
from kmtalk_train.corpus import load_manifest, read_segments  # noqa: E402
from kmtalk_train.export import load  # noqa: E402
from kmtalk_train.train import load_item  # noqa: E402
from kmtalk_train.model import LogMel  # noqa: E402

CHANNELS = ("jawOpen", "mouthClose", "mouthPucker", "mouthFunnel", "mouthPressLeft")


def pick(corpus: str, wanted: str = None) -> dict:
    for row in load_manifest(corpus):
        if wanted:
            if row["id"] == wanted:
                return row
            continue
        if row["split"] == "test" and row["language"] == "en" and row.get("phones") and row["engine"] != "human":
            segments = read_segments(os.path.join(corpus, row["phones"]))
            if sum(phones.features(s.phone).bilabial_closure >= 0.5 for s in segments if s.phone in phones.INVENTORY) >= 3 \
                    and 2.0 < row["duration"] < 4.5:
                return row
    raise SystemExit(f"no utterance {wanted or 'with three bilabials'} in {corpus}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus")
    parser.add_argument("models", nargs="+")
    parser.add_argument("-o", "--out", required=True)
    parser.add_argument("--id")
    args = parser.parse_args(argv)
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    row = pick(args.corpus, args.id)
    loaded = [load(path) for path in args.models]
    config = loaded[0][1]
    item = load_item(args.corpus, row, config, LogMel(config["frontend"]))
    fps = float(config["motion"]["fps"])
    segments = read_segments(os.path.join(args.corpus, row["phones"]))
    fig, axes = plt.subplots(len(CHANNELS), 1, figsize=(12, 1.7 * len(CHANNELS) + 0.6), sharex=True,
                             constrained_layout=True)
    t = np.arange(item.frames) / fps
    colours = ["tab:red", "tab:blue", "tab:green", "tab:purple"]
    outputs = []
    with torch.no_grad():
        for (model, _, _), path in zip(loaded, args.models):
            model.eval()
            out = model(torch.from_numpy(item.mel))
            outputs.append((os.path.basename(path), "key motions" if model.use_keys else "direct regression",
                            out["motion"].numpy()[:item.frames], out["key_frames"]))
    for ax, channel in zip(axes, CHANNELS):
        c = INDEX[channel]
        for s in segments:
            ax.axvline(s.start, color="0.9", lw=0.6)
        ax.plot(t, item.motion[:, c], color="0.15", lw=2, label="teacher")
        for (name, kind, motion, keys), colour in zip(outputs, colours):
            ax.plot(t[:len(motion)], motion[:, c], color=colour, lw=1.1, label=f"{name} ({kind})")
            if keys:
                ax.plot(np.array(keys) / fps, motion[keys, c], "o", ms=2.5, color=colour)
        ax.set_ylim(-0.02, 1)
        ax.set_ylabel(channel, fontsize=8)
    for s in segments:
        if s.phone != "sil" and s.end - s.start > 0.03:
            axes[0].text((s.start + s.end) / 2, 0.95, s.phone, ha="center", va="top", fontsize=7)
    axes[0].set_title(f"{row['id']} ({row['voice']}, held-out voice and sentence): \"{row['text'][:90]}\"", fontsize=9)
    axes[0].legend(fontsize=7, loc="upper right", ncol=3)
    axes[-1].set_xlabel("seconds (dots: key frames found by the model's locator)")
    fig.savefig(args.out, dpi=72)
    print(f"wrote {args.out} ({row['id']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
