#!/usr/bin/env python3
"""Plot one FACEGOOD take: the audio (waveform and per-frame RMS envelope) above the ARKit
mouth channels mapped from the rig (facegood_arkit.to_arkit), over a ~10 s window, to a PNG.

    python training/scripts/plot_facegood.py [--take 1114_2_01] [--start 20] [--seconds 10]
        [--data ../shared/data/facegood] [--out /tmp/facegood_<take>.png]

Needs matplotlib and the third-party data (../shared/data relative to the repository root).
Write the PNG outside the repository (default /tmp); it is not committed.
"""
import argparse
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
TRAINING = os.path.dirname(HERE)
ROOT = os.path.dirname(TRAINING)
sys.path.insert(0, TRAINING)

from kmtalk_train.arkit import INDEX  # noqa: E402
from kmtalk_train.capture import frame_rms, load_facegood  # noqa: E402
from kmtalk_train.facegood_arkit import to_arkit  # noqa: E402

CHANNELS = ["jawOpen", "mouthFunnel", "mouthPucker", "mouthLowerDownLeft", "mouthUpperUpLeft",
            "mouthSmileLeft", "mouthPressLeft", "mouthRollLower"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=os.path.join(ROOT, "..", "shared", "data", "facegood"))
    parser.add_argument("--take", default=None, help="take id (default: the first)")
    parser.add_argument("--start", type=float, default=20.0, help="window start, seconds")
    parser.add_argument("--seconds", type=float, default=10.0, help="window length")
    parser.add_argument("--out", default=None, help="PNG path (default /tmp/facegood_<take>.png)")
    args = parser.parse_args(argv)

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    takes = load_facegood(args.data)
    take = takes[0] if args.take is None else next((t for t in takes if t.take == args.take), None)
    if take is None:
        parser.error(f"no take {args.take!r} in {args.data} (have {[t.take for t in takes]})")
    weights, mask = to_arkit(take)
    rms = frame_rms(take.samples, take.sample_rate, take.fps, take.num_frames)
    jaw = weights[:, INDEX["jawOpen"]]
    corr = float(np.corrcoef(jaw, rms)[0, 1])

    f0 = int(round(args.start * take.fps))
    f1 = min(take.num_frames, f0 + int(round(args.seconds * take.fps)))
    if f1 <= f0:
        parser.error(f"--start {args.start} is past the end of the take ({take.duration:.1f} s)")
    t = np.arange(f0, f1) / take.fps
    s0, s1 = int(f0 / take.fps * take.sample_rate), int(f1 / take.fps * take.sample_rate)
    ts = np.arange(s0, s1) / take.sample_rate

    fig, (ax_audio, ax_mouth) = plt.subplots(2, 1, figsize=(14, 7), sharex=True,
                                             gridspec_kw={"height_ratios": [1, 1.6]})
    ax_audio.plot(ts, take.samples[s0:s1], color="0.75", lw=0.4, label="waveform")
    ax_audio.plot(t, rms[f0:f1], color="k", lw=1.5, label="RMS per frame")
    ax_audio.set_ylabel("audio")
    ax_audio.legend(loc="upper right")
    ax_audio.set_title(f"FACEGOOD take {take.take}: audio vs ARKit mouth channels mapped from the rig "
                       f"(jawOpen-RMS correlation over the take: {corr:.2f})")
    envelope = rms[f0:f1] / max(float(rms[f0:f1].max()), 1e-9)
    ax_mouth.fill_between(t, 0, envelope, color="0.85", label="RMS (normalised)")
    for name in CHANNELS:
        lw = 2.0 if name == "jawOpen" else 1.0
        ax_mouth.plot(t, weights[f0:f1, INDEX[name]], lw=lw, label=name)
    ax_mouth.set_ylim(0, 1)
    ax_mouth.set_ylabel("ARKit weight")
    ax_mouth.set_xlabel("time (s)")
    ax_mouth.legend(loc="upper right", ncol=3, fontsize=8)
    fig.tight_layout()
    out = args.out or f"/tmp/facegood_{take.take}.png"
    fig.savefig(out, dpi=110)
    print(f"{out}: take {take.take}, {t[0]:.1f}-{t[-1]:.1f} s, jawOpen-RMS correlation {corr:.3f}")
    return out


if __name__ == "__main__":
    main()
