"""Calibrates the articulatory teacher on real performance capture.

    cd training && ../.venv-torch/bin/python -m kmtalk_train.teacher_fit ../../shared/data/facegood \\
        --model ../models/kmtalk-base.safetensors --hold-out 1114_2_01 --out kmtalk_train/teacher_calibrated.json

The teacher's amplitude model and coarticulation widths were set by hand; real jaw
opening tracks loudness much more strongly than its clipped loudness gain allows. This
fits the teacher's numbers to the FACEGOOD takes (`facegood_arkit`: 16 supervised ARKit
mouth/jaw channels), with one take held out and reported before and after:

- **parameters** (`FITTED`): loudness slope per dB and the clip range of the loudness gain,
  the gains on the jaw / rounding / spreading / closure groups' targets, a scale on every
  dominance decay rate (coarticulation width), the smoothing sigma, and the jaw offset
  through connected speech (`speech_jaw_offset`);
- **phones**: the takes have no transcript, so the teacher is driven by the phones the
  model recognises (argmax runs of its phone head), as `--format phones` gives them;
- **objective** on the training takes: (1 - r) of jawOpen plus half the mean (1 - r) of the
  moving lip channels (Pearson r, scale-free), plus the squared log of the dynamic-range
  ratio (predicted std / captured std) for the jaw and, at half weight, the lips (so the
  fit cannot win by damping), plus a prior pulling each parameter back to its hand-set
  value (`PRIOR_WEIGHT`): one Mandarin performer should move the teacher only as far as
  the data clearly asks, since the teacher also drives English and seven other languages;
- **search**: Nelder-Mead on parameters mapped to their bounds (`FITTED`).

The result (parameters, the objective's parts before/after on train and held-out takes)
is written as JSON; `teacher.calibrated_params()` reads the committed file.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
from typing import Dict, List, Sequence, Tuple

import numpy as np
import torch

from . import capture, facegood_arkit, teacher
from .arkit import INDEX
from .types import Segment

# name: (lower bound, upper bound); the starting point is teacher.PARAMS.
FITTED: Dict[str, Tuple[float, float]] = {
    "loudness_slope_per_db": (0.0, 0.06),
    "loudness_gain_low": (0.2, 1.0),
    "loudness_gain_high": (1.0, 2.2),
    "jaw_gain": (0.5, 2.0),
    "round_gain": (0.5, 2.5),
    "spread_gain": (0.5, 2.5),
    "closure_gain": (0.5, 2.5),
    "decay_scale": (0.5, 2.0),
    "smooth_sigma_s": (0.004, 0.04),
    # Bounds around 0 (the tables) so the search can move it either way from the start.
    "speech_jaw_offset": (-0.05, 0.25),
}
PRIOR_WEIGHT = 0.02
LIP_MIN_STD = 0.01  # a lip channel "moves" in a take above this captured std


def recognized_segments(model, mel: np.ndarray, inventory: Sequence[str], fps: float) -> List[Segment]:
    """Runs of the argmax phone of the model's phone head as timed inventory phones."""
    from .real_bench import phone_segments
    with torch.no_grad():
        ids = model(torch.from_numpy(np.ascontiguousarray(mel)))["phone_logits"].argmax(-1).cpu().numpy()
    return phone_segments(ids, inventory, fps)


def to_params(vector: np.ndarray, base: dict = teacher.PARAMS) -> dict:
    """Unconstrained vector -> teacher params (each entry squashed into its bounds)."""
    return teacher.with_values(base, {name: lo + (hi - lo) / (1 + math.exp(-float(value)))
                                      for value, (name, (lo, hi)) in zip(vector, FITTED.items())})


def from_params(params: dict) -> np.ndarray:
    """Teacher params -> the unconstrained vector (inverse of `to_params`)."""
    values = []
    for name, (lo, hi) in FITTED.items():
        p = min(max((teacher.param_value(params, name) - lo) / (hi - lo), 1e-4), 1 - 1e-4)
        values.append(math.log(p / (1 - p)))
    return np.array(values)


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    if a.std() < 1e-8 or b.std() < 1e-8:
        return 0.0
    return float(np.corrcoef(a, b)[0, 1])


def take_terms(predicted: np.ndarray, captured: np.ndarray, supervised: np.ndarray) -> Dict[str, float]:
    """jaw r, mean lip r, log dynamic-range ratios and MAE of one take (same fps, same length)."""
    jaw = INDEX["jawOpen"]
    lips = [i for i in np.flatnonzero(supervised) if i != jaw and captured[:, i].std() > LIP_MIN_STD]
    log_dr = lambda i: math.log(max(predicted[:, i].std(), 1e-4) / max(captured[:, i].std(), 1e-4))  # noqa: E731
    return {"jaw_r": _corr(predicted[:, jaw], captured[:, jaw]),
            "lip_r": float(np.mean([_corr(predicted[:, i], captured[:, i]) for i in lips])) if lips else 0.0,
            "jaw_log_dr": log_dr(jaw),
            "lip_log_dr2": float(np.mean([log_dr(i) ** 2 for i in lips])) if lips else 0.0,
            "mae": float(np.abs(predicted - captured)[:, supervised].mean())}


def objective_terms(terms: Sequence[Dict[str, float]]) -> float:
    mean = lambda k: float(np.mean([t[k] for t in terms]))  # noqa: E731
    return ((1 - mean("jaw_r")) + 0.5 * (1 - mean("lip_r")) + mean("jaw_log_dr") ** 2
            + 0.5 * mean("lip_log_dr2"))


class Fit:
    """The FACEGOOD takes with the model's recognised phones, ready to score teachers."""

    def __init__(self, directory: str, model_path: str):
        from .export import load
        from .facegood_eval import prepare
        from .train import resample_teacher
        self.resample = resample_teacher
        model, config, _ = load(model_path)
        model.eval()
        self.fps = float(config["motion"]["fps"])
        rig = capture.load_facegood(directory)
        self.takes = prepare(rig, config)
        self.samples = {t.take: t.samples for t in rig}
        self.rate = rig[0].sample_rate
        self.segments = {t.name: recognized_segments(model, t.item.mel, config["lkma"]["phones"], self.fps)
                         for t in self.takes}
        # Brow accents do not depend on the fitted parameters: tracked once per take.
        self.accents = {name: teacher.pitch_accents(s, self.rate) for name, s in self.samples.items()}

    def predict(self, name: str, params: dict) -> np.ndarray:
        take = next(t for t in self.takes if t.name == name)
        frames = teacher.animate(self.segments[name], self.samples[name], self.rate, params=params,
                                 accents=self.accents[name]).frames
        return self.resample(frames, take.item.frames, self.fps, teacher_fps=params["fps"])

    def terms(self, names: Sequence[str], params: dict) -> List[Dict[str, float]]:
        out = []
        for take in self.takes:
            if take.name in names:
                predicted = self.predict(take.name, params)
                out.append(take_terms(predicted, take.item.motion, take.supervised))
        return out


def fit(data: Fit, train_names: Sequence[str], max_evaluations: int = 160, log=print) -> dict:
    """Nelder-Mead on the bounded parameters; returns the fitted teacher params."""
    from scipy.optimize import minimize
    start = from_params(teacher.PARAMS)
    evaluations = [0]

    def loss(vector: np.ndarray) -> float:
        value = objective_terms(data.terms(train_names, to_params(vector)))
        value += PRIOR_WEIGHT * float(np.sum((vector - start) ** 2))
        evaluations[0] += 1
        if evaluations[0] % 20 == 0:
            log(f"  evaluation {evaluations[0]}: objective {value:.4f}")
        return value

    result = minimize(loss, start, method="Nelder-Mead",
                      options={"maxfev": max_evaluations, "xatol": 1e-3, "fatol": 1e-4, "initial_simplex": None})
    return to_params(result.x)


def summary(terms: Sequence[Dict[str, float]]) -> Dict[str, float]:
    keys = terms[0].keys()
    out = {k: round(float(np.mean([t[k] for t in terms])), 4) for k in keys}
    out["jaw_dr"] = round(math.exp(out.pop("jaw_log_dr")), 3)
    out["objective"] = round(objective_terms(terms), 4)
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kmtalk_train.teacher_fit", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("facegood", help="directory with the FACEGOOD takes")
    parser.add_argument("--model", required=True, help="model whose phone head gives the phones")
    parser.add_argument("--hold-out", default="1114_2_01", help="take kept out of the fit and reported")
    parser.add_argument("--evaluations", type=int, default=160)
    parser.add_argument("--out", help="write the fitted parameters and report here (JSON)")
    args = parser.parse_args(argv)
    started = time.time()
    data = Fit(args.facegood, args.model)
    names = [t.name for t in data.takes]
    if args.hold_out not in names:
        parser.error(f"--hold-out {args.hold_out!r} is not a take ({', '.join(names)})")
    train_names = [n for n in names if n != args.hold_out]
    before = {"train": summary(data.terms(train_names, teacher.PARAMS)),
              "held_out": summary(data.terms([args.hold_out], teacher.PARAMS))}
    print("hand-set teacher:", json.dumps(before))
    params = fit(data, train_names, args.evaluations)
    after = {"train": summary(data.terms(train_names, params)),
             "held_out": summary(data.terms([args.hold_out], params))}
    print("calibrated teacher:", json.dumps(after))
    fitted = {name: round(float(teacher.param_value(params, name)), 5) for name in FITTED}
    print("parameters:", json.dumps(fitted))
    report = {"parameters": fitted, "hold_out": args.hold_out, "train_takes": train_names,
              "phones_from": args.model.split("/")[-1], "before": before, "after": after,
              "evaluations": args.evaluations, "seconds": round(time.time() - started, 1)}
    if args.out:
        with open(args.out, "w") as f:
            json.dump(report, f, indent=1)
            f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
