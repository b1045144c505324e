"""Does a jaw held open through speech explain what a model misses on real capture?

    cd training && ../.venv-torch/bin/python scripts/speech_offset.py ../../shared/data/facegood \\
        --fold-model 1114_2_01=/tmp/folds/keys0-1114_2_01.safetensors ... \\
        [--plot-take 1114_3_15 --plot-model LABEL=PATH ... --plot out.png]

For each take, the model that never saw it (`--fold-model TAKE=PATH`) predicts jawOpen; the
script prints the Pearson r against the captured jaw (facegood_arkit) of that prediction
plus a constant `a` wherever the audio says speech, and of the prediction raised to a floor
of `a` there instead (docs/results.md, "a jaw held open through speech"). Speech is the
audio's own log energy (real_bench.log_energy) above 35 % of its 5th-95th percentile range,
smoothed over 0.2 s: nothing from the capture. With `--plot`, the first 48 s of
`--plot-take` in four rows: the captured jaw, each `--plot-model`'s jawOpen and the log
energy scaled to the captured jaw's mean and std.
"""
from __future__ import annotations

import argparse
import os
import sys
from typing import Dict, List, Tuple

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from kmtalk_train import capture, facegood_eval, real_bench  # noqa: E402

OFFSETS = (0.0, 0.05, 0.08, 0.10)
FLOOR = 0.10


def speech_mask(log_energy: np.ndarray, fps: float) -> np.ndarray:
    """1 where the audio's log energy says speech, else 0 (see the module docstring)."""
    low, high = np.percentile(log_energy, 5), np.percentile(log_energy, 95)
    raw = (log_energy > low + 0.35 * (high - low)).astype(float)
    width = max(1, int(round(0.2 * fps)) | 1)
    return (np.convolve(raw, np.ones(width) / width, "same") > 0.5).astype(float)


def _pairs(values: List[str]) -> List[Tuple[str, str]]:
    out = []
    for value in values:
        if "=" not in value:
            raise SystemExit(f"expected NAME=PATH, got {value!r}")
        out.append(tuple(value.split("=", 1)))
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("facegood")
    parser.add_argument("--fold-model", action="append", default=[], help="TAKE=PATH of a model without TAKE")
    parser.add_argument("--plot-take")
    parser.add_argument("--plot-model", action="append", default=[], help="LABEL=PATH drawn on --plot-take")
    parser.add_argument("--plot", help="PNG to write")
    args = parser.parse_args(argv)
    folds = dict(_pairs(args.fold_model))
    plots = _pairs(args.plot_model)
    paths = sorted(set(folds.values()) | {p for _, p in plots})
    if not paths:
        parser.error("give --fold-model or --plot-model")
    loaded = dict(zip(paths, real_bench.load_models(paths)))
    config = next(iter(loaded.values())).config
    fps = float(config["motion"]["fps"])
    rig = capture.load_facegood(args.facegood)
    prepared = {t.name: (t, r) for t, r in zip(facegood_eval.prepare(rig, config), rig)}
    jaw = real_bench.JAW

    def curves(take: str, path: str):
        t, r = prepared[take]
        predicted = real_bench.model_motion(loaded[path].model, t.item.mel)[:, jaw]
        captured = t.item.motion[:, jaw]
        n = min(len(predicted), len(captured))
        energy = real_bench.log_energy(r.samples, r.sample_rate, fps, n)
        return predicted[:n], captured[:n], energy

    print("| model on its unseen take, jaw r | " + " | ".join(f"+ {a:g} in speech" if a else "+ 0" for a in OFFSETS)
          + f" | floor {FLOOR:g} |")
    print("|---" * (len(OFFSETS) + 2) + "|")
    for take, path in sorted(folds.items()):
        predicted, captured, energy = curves(take, path)
        mask = speech_mask(energy, fps)
        cells = [np.corrcoef(predicted + a * mask, captured)[0, 1] for a in OFFSETS]
        cells.append(np.corrcoef(np.maximum(predicted, FLOOR * mask), captured)[0, 1])
        speech = mask > 0
        print(f"| {take} | " + " | ".join(f"{c:.3f}" for c in cells) + " |"
              + f"  (in speech: predicted mean {predicted[speech].mean():.3f}, captured {captured[speech].mean():.3f})")
    if args.plot:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        if args.plot_take not in prepared:
            parser.error(f"--plot-take {args.plot_take!r} is not a take")
        rows, seconds = 4, 12.0
        fig, axes = plt.subplots(rows, 1, figsize=(16, 10))
        first = None
        for label, path in plots:
            predicted, captured, energy = curves(args.plot_take, path)
            if first is None:
                first = (captured, energy)
            for i, ax in enumerate(axes):
                window = slice(int(i * seconds * fps), int((i + 1) * seconds * fps))
                times = np.arange(len(predicted))[window] / fps
                ax.plot(times, predicted[window], label=label)
        captured, energy = first
        scaled = (energy - energy.mean()) / energy.std() * captured.std() + captured.mean()
        for i, ax in enumerate(axes):
            window = slice(int(i * seconds * fps), int((i + 1) * seconds * fps))
            times = np.arange(len(captured))[window] / fps
            ax.plot(times, captured[window], "k", label="captured jawOpen")
            ax.plot(times, scaled[window], "r", alpha=0.4, label="log energy (scaled)")
            ax.set_ylabel("jawOpen")
        axes[0].legend(loc="upper right", fontsize=8)
        axes[0].set_title(f"FACEGOOD {args.plot_take}: captured jaw, zero-shot models, audio energy")
        axes[-1].set_xlabel("s")
        plt.tight_layout()
        plt.savefig(args.plot, dpi=70)
        print(f"wrote {args.plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
