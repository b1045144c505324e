"""Range calibration: give a model's curves the amount of motion a real face has.

A model trained with squared-error losses regresses towards the mean where the audio leaves
it unsure, and on voices it never heard it is unsure more often: on FACEGOOD takes a model
never saw, its jawOpen moves 0.69 as much as the capture (std ratio, "DR") and most lip
channels less than 0.8 as much, while on the takes it trained on it reaches 0.81. This
module measures that shortfall on takes the model never saw and folds a per-channel gain
into the model's output layer, so the shipped file keeps its format and the engine runs it
unchanged.

The gain works in logit space around the model's rest pose: with z the pre-sigmoid output
(`motion_logits`) and z0 its value on silence, a channel becomes
`sigmoid(z0 + a * (z - z0))`. Silence stays exactly where it was (pauses at rest do not
move), larger a spreads speech further from rest, and the order of values, hence most of
the correlation, is kept. Folded into `cmc.head`: `W' = a * W`, `b' = a * b + (1 - a) * z0`.

    cd training
    # 1. the gains of a fold model on the take it never saw (std matched per channel)
    ../.venv-torch/bin/python -m kmtalk_train.calibrate fit FOLD.safetensors \\
        --facegood ../../shared/data/facegood --take 1114_3_15 --json gains-1114_3_15.json
    # 2. a model with gains folded in (several JSONs: their geometric mean); --only keeps
    #    some channels, --mouth-close-exponent couples mouthClose to the jaw's gain
    ../.venv-torch/bin/python -m kmtalk_train.calibrate apply MODEL.safetensors \\
        gains-1114_2_01.json gains-1114_3_15.json --out MODEL-calibrated.safetensors \\
        [--only jawOpen --mouth-close-exponent 0.5]

An honest test calibrates fold model A with gains fitted by fold model B on take B, and
scores it on take A (nothing of take A is used); docs/results.md reports it that way.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
from typing import Dict, List, Optional, Sequence

import numpy as np

from .arkit import ARKIT_52

MOVING_STD = 0.01          # captured channels that move less are not calibrated (as real_bench)
GAIN_BOUNDS = (0.5, 3.0)   # a is searched within these bounds
REST_SECONDS = 2.0         # silence the rest logits are measured on


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def motion_logits(model, mel: np.ndarray) -> np.ndarray:
    """The model's pre-activation motion [T, 52] for one utterance."""
    import torch
    model.eval()
    device = next(model.parameters()).device
    with torch.no_grad():
        return model(torch.from_numpy(mel).to(device))["motion_logits"].double().cpu().numpy()


def rest_logits(model, config: dict) -> np.ndarray:
    """Median logits [52] of the model on REST_SECONDS of digital silence."""
    from .real_bench import log_mel
    samples = np.zeros(int(REST_SECONDS * config["frontend"]["sample_rate"]), dtype=np.float32)
    return np.median(motion_logits(model, log_mel(config, samples)), axis=0)


def solve_gain(z: np.ndarray, z0: float, target_std: float, bounds=GAIN_BOUNDS) -> float:
    """The a in `bounds` for which std(sigmoid(z0 + a (z - z0))) equals `target_std`
    (bisection; the std grows with a). Clipped to the bounds when out of reach."""
    def spread(a: float) -> float:
        return float(_sigmoid(z0 + a * (z - z0)).std())
    lo, hi = bounds
    if spread(lo) >= target_std:
        return lo
    if spread(hi) <= target_std:
        return hi
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if spread(mid) < target_std:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def fit_gains(model, config: dict, mels: Sequence[np.ndarray], captured: Sequence[np.ndarray],
              supervised: np.ndarray, bounds=GAIN_BOUNDS) -> Dict[str, dict]:
    """Per moving supervised channel: the gain that makes the predicted std over all `mels`
    equal the captured std ({name: {"gain", "dr_before", "dr_after", "captured_std"}})."""
    z0 = rest_logits(model, config)
    logits, targets = [], []
    for mel, y in zip(mels, captured):
        z = motion_logits(model, mel)
        n = min(len(z), len(y))
        logits.append(z[:n])
        targets.append(np.asarray(y[:n], dtype=np.float64))
    z, y = np.concatenate(logits), np.concatenate(targets)
    out = {}
    for c in np.flatnonzero(supervised):
        y_std = float(y[:, c].std())
        if y_std <= MOVING_STD:
            continue
        a = solve_gain(z[:, c], float(z0[c]), y_std, bounds)
        before = float(_sigmoid(z[:, c]).std()) / y_std
        after = float(_sigmoid(z0[c] + a * (z[:, c] - z0[c])).std()) / y_std
        out[ARKIT_52[c]] = {"gain": a, "dr_before": before, "dr_after": after, "captured_std": y_std}
    return out


def combine(gain_sets: Sequence[Dict[str, float]]) -> Dict[str, float]:
    """Geometric mean per channel over the sets that have it."""
    names = sorted({n for s in gain_sets for n in s}, key=ARKIT_52.index)
    return {n: float(math.exp(np.mean([math.log(s[n]) for s in gain_sets if n in s]))) for n in names}


def select_gains(gains: Dict[str, float], only: Optional[Sequence[str]] = None,
                 mouth_close_exponent: float = 0.0) -> Dict[str, float]:
    """The gains to fold: those of the channels in `only` (all when None), plus, when
    jawOpen has one and `mouth_close_exponent` > 0, mouthClose with jawOpen's gain to that
    power. ARKit's mouthClose closes the lips *relative to* the jaw: a wider jaw with an
    unchanged mouthClose parts the lips at bilabials (exponent 0); the same gain (1) keeps
    them together but lets mouthClose pass jawOpen more often; 0.5 is between the two."""
    unknown = sorted(set(only or ()) - set(ARKIT_52))
    if unknown:
        raise ValueError(f"unknown channels: {unknown}")
    if mouth_close_exponent < 0 or not math.isfinite(mouth_close_exponent):
        raise ValueError(f"the mouthClose exponent must be >= 0, got {mouth_close_exponent}")
    chosen = {n: g for n, g in gains.items() if only is None or n in only}
    if mouth_close_exponent > 0 and "jawOpen" in chosen:
        chosen["mouthClose"] = chosen["jawOpen"] ** mouth_close_exponent
    return {n: chosen[n] for n in ARKIT_52 if n in chosen}


def apply_gains(model, config: dict, gains: Dict[str, float]) -> np.ndarray:
    """Folds `gains` ({channel: a}) into the model's output layer, in place; returns z0."""
    import torch
    if config["motion"]["space"] != "arkit" or config["motion"].get("activation") != "sigmoid":
        raise ValueError("range calibration needs an ARKit model with a sigmoid output")
    if config["cmc"].get("shallow", False):
        raise ValueError("range calibration does not handle the shallow path (cmc.shallow)")
    unknown = sorted(set(gains) - set(ARKIT_52))
    if unknown:
        raise ValueError(f"unknown channels: {unknown}")
    z0 = rest_logits(model, config)
    a = np.ones(len(ARKIT_52))
    for name, value in gains.items():
        if not (math.isfinite(value) and value > 0):
            raise ValueError(f"{name}: gain must be a positive number, got {value}")
        a[ARKIT_52.index(name)] = value
    head = model.cmc.head
    with torch.no_grad():
        scale = torch.tensor(a, dtype=head.weight.dtype)
        head.weight.mul_(scale[:, None])
        head.bias.copy_(scale * head.bias + torch.tensor((1 - a) * z0, dtype=head.bias.dtype))
        if config["cmc"].get("loudness"):  # the loudness path adds to the same logits
            model.cmc.loudness_head.weight.mul_(scale[:, None])
    return z0


def _facegood_takes(directory: str, config: dict, names: Sequence[str]):
    from . import capture, facegood_eval
    rig = capture.load_facegood(directory)
    prepared = {t.name: t for t in facegood_eval.prepare(rig, config)}
    missing = sorted(set(names) - set(prepared))
    if missing:
        raise ValueError(f"takes not in {directory}: {missing} (have {sorted(prepared)})")
    return [prepared[n] for n in names]


def fit_command(args) -> int:
    from .export import load
    model, config, meta = load(args.model)
    never_seen = set(args.take) - set(meta.get("capture_takes", "").split(","))
    if never_seen != set(args.take) and not args.allow_seen:
        seen = sorted(set(args.take) - never_seen)
        print(f"calibrate: {args.model} trained on {seen}: its range there is memory, not what it does on "
              f"new voices (--allow-seen to fit anyway)", file=sys.stderr)
        return 2
    takes = _facegood_takes(args.facegood, config, args.take)
    supervised = np.logical_and.reduce([t.supervised for t in takes])
    fitted = fit_gains(model, config, [t.item.mel for t in takes], [t.item.motion for t in takes], supervised)
    for name, row in fitted.items():
        print(f"  {name:18s} gain {row['gain']:.3f}  DR {row['dr_before']:.2f} -> {row['dr_after']:.2f}"
              f"  (captured std {row['captured_std']:.3f})")
    report = {"model": os.path.basename(args.model), "takes": list(args.take), "bounds": list(GAIN_BOUNDS),
              "gains": {n: r["gain"] for n, r in fitted.items()}, "channels": fitted}
    with open(args.json, "w") as f:
        json.dump(report, f, indent=1)
    print(f"calibrate: {len(fitted)} channel gains -> {args.json}")
    return 0


def apply_command(args) -> int:
    from .export import export, load
    from .finetune import stored_dtype
    if os.path.abspath(args.out) == os.path.abspath(args.model):
        print("calibrate: --out must not be the input model", file=sys.stderr)
        return 2
    reports = []
    for path in args.gains:
        with open(path) as f:
            reports.append(json.load(f))
    gains = select_gains(combine([r["gains"] for r in reports]), args.only, args.mouth_close_exponent)
    if not gains:
        print(f"calibrate: no gains left for {args.only} in {args.gains}", file=sys.stderr)
        return 2
    model, config, meta = load(args.model)
    if meta.get("range_gains"):
        print(f"calibrate: {args.model} is already calibrated", file=sys.stderr)
        return 2
    apply_gains(model, config, gains)
    extra = {k: v for k, v in meta.items() if k not in ("format", "format_version", "architecture", "config")}
    extra["range_gains"] = json.dumps({n: round(g, 4) for n, g in gains.items()})
    extra["range_gains_fitted_on"] = "; ".join(f"{r['model']} on {','.join(r['takes'])}" for r in reports)
    if args.only or args.mouth_close_exponent:
        extra["range_gains_selection"] = (f"only {','.join(args.only)}" if args.only else "all") + \
            (f"; mouthClose = jawOpen gain ^ {args.mouth_close_exponent:g}" if args.mouth_close_exponent else "")
    extra["range_gains_generator"] = "training/kmtalk_train/calibrate.py"
    directory = os.path.dirname(os.path.abspath(args.out))
    handle, tmp = tempfile.mkstemp(prefix=".calibrate-", suffix=".safetensors", dir=directory)
    os.close(handle)
    try:
        export(model, config, tmp, extra, dtype=stored_dtype(args.model))
        os.replace(tmp, args.out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    print("calibrate: gains " + ", ".join(f"{n} {g:.2f}" for n, g in gains.items()) + f" -> {args.out}")
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    fit = sub.add_parser("fit", help="fit per-channel gains of a model on captured takes it never saw")
    fit.add_argument("model")
    fit.add_argument("--facegood", required=True, help="FACEGOOD directory")
    fit.add_argument("--take", action="append", required=True, help="take to fit on (repeatable)")
    fit.add_argument("--json", required=True, help="where to write the gains")
    fit.add_argument("--allow-seen", action="store_true", help="fit on takes the model trained on")
    apply = sub.add_parser("apply", help="fold gains (geometric mean of the JSONs) into a model")
    apply.add_argument("model")
    apply.add_argument("gains", nargs="+")
    apply.add_argument("--out", required=True)
    apply.add_argument("--only", action="append", metavar="CHANNEL",
                       help="fold only this channel's gain (repeatable; default: every channel in the JSONs)")
    apply.add_argument("--mouth-close-exponent", type=float, default=0.0, metavar="E",
                       help="give mouthClose jawOpen's gain to the power E (0: untouched; see select_gains)")
    args = parser.parse_args(argv)
    try:
        return fit_command(args) if args.command == "fit" else apply_command(args)
    except (OSError, ValueError) as error:
        print(f"calibrate: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
