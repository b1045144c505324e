"""Real-speech benchmark: exported models against real captured faces and real recorded speech,
next to two references that need no learning from faces, in one command.

    cd training && ../.venv-torch/bin/python -m kmtalk_train.real_bench \\
        --facegood ../../shared/data/facegood [--fold-model TAKE=PATH ...] \\
        [--livelink CSV:WAV ...] [--corpus CORPUS] [--teacher-params PARAMS.json] \\
        ../models/kmtalk-base.safetensors [MORE.safetensors ...] \\
        [--json OUT.json] [--markdown OUT.md] [--plot OUT.png]

Datasets
--------
* **FACEGOOD** (`--facegood`): five Mandarin takes of real performance capture, mapped to
  ARKit by facegood_arkit.py; scored on its 16 supervised mouth/jaw channels. Every take
  is scored in turn (5-fold by take): plain models (never saw FACEGOOD), fold models
  (`--fold-model TAKE=PATH`: a model trained without that take, zero-shot on it), the
  energy baseline fitted on the other four takes, and the teacher.
* **Live Link Face** (`--livelink CSV:WAV`): an iPhone capture and its audio. Supervised
  channels are the ARKit channels that move at all in the CSV (std > 1e-4). The energy
  baseline uses the mapping fitted on all FACEGOOD takes when `--facegood` is given (the
  Live Link take is never part of the fit; note that the offset of that mapping depends on
  the microphone level). Without it only its correlations are reported: r is scale-free,
  everything else is "-".
* **English recorded prompts** (`--corpus`): the corpus's real recordings (engine "human",
  language "en", PocketSphinx-aligned) in the validation and test splits, whose sentences
  were never trained on. No captured face: the lip-sync checks below, for each model, the
  teacher on the true alignment and the teacher on the model's own phones; and, with the
  teacher on the true alignment as the reference, each predictor's jaw r and jaw std ratio
  (a guard for range calibration on English speech, not a capture score).

Predictors
----------
* each model's motion (`model_motion`), at its native rate;
* **energy (log RMS)**: `log10(rms + 1e-4)` of the audio in a 40 ms window around each frame
  (capture.frame_rms), mapped to jawOpen by least squares `a * logE + b` on training takes
  only, clipped to 0..1; every other channel 0 (`energy_baseline`). How far the audio's
  loudness alone gets.
* **teacher (model's phones)**: the articulatory teacher (teacher.py) driven by the phones
  the model recognises: argmax of its phone head per frame, runs of equal phones as
  segments (`teacher_from_model`). The teacher is the model's training target, so this is
  what a perfect student of it would do on this audio: the teacher ceiling. `--teacher-params`
  benchmarks a calibrated teacher (a JSON object overriding teacher.PARAMS entries, or the
  report teacher_fit.py writes).

Motion metrics (`score`, for [T, 52] ARKit weights at one rate, trimmed to the common length)
---------------------------------------------------------------------------------------------
Per supervised channel:
* **r**: Pearson correlation of predicted and captured weights at lag 0.
* **best r / lag**: the largest r over shifts of the prediction within +-100 ms; the lag is
  in ms, positive when the prediction is late (prediction at t + lag matches capture at t).
* **DR (dynamic range) ratio**: std(predicted) / std(captured); 1 = same amount of motion,
  below 1 = muted.
* **peak ratio**: (95th - 5th percentile of predicted) / (the same of captured): how far the
  typical excursions reach. Undefined (NaN) when the captured 5..95 range is 0 (a channel
  that moves in fewer than 5% of the frames).
* **MAE**: mean |predicted - captured|.
* **velocity MAE**: mean |d predicted - d captured| of per-frame first differences multiplied
  by the frame rate: weight units per second, so rates can be compared.
Summary (`score(...)["summary"]`):
* jaw r, best r and lag, DR: those of jawOpen;
* mean r (lag 0 and best) over **moving** channels: supervised channels whose captured std
  exceeds 0.01. A constant prediction on a moving channel (the energy baseline's lip
  channels) counts as r = 0 there: it predicts none of that motion;
* lips DR: mean DR over the **lip** channels (moving mouth* channels with captured std
  > 0.03) and how many of them fall in [0.8, 1.25];
* mean peak ratio over the moving channels (where defined);
* MAE and velocity MAE over all supervised channels;
* pause rest %: of the frames in pauses (audio RMS below 0.01 for at least 250 ms,
  facegood_eval.pause_frames) the share whose predicted mouth*/jawOpen weights are all <= 0.1.
Undefined values (a constant signal, no pause, an unsupervised jaw) are NaN in the JSON
(written as null) and "-" in the tables. Means over takes ignore NaN; channel and frame
counts are summed.

Lip-sync checks (`lip_checks`, English prompts), at the centre frame of each aligned phone:
% of bilabials closed (jawOpen - mouthClose <= 0.05), % of labiodentals with lip contact
(mouthRollLower >= 0.25 and jawOpen <= 0.12: the lower lip tucked against the upper teeth;
the teacher holds 0.45 and <= 0.07, so 0.25 allows the undershoot of a smooth prediction
while an open jaw, which keeps the lip off the teeth, fails), % of rounded vowels rounded
(mouthPucker + mouthFunnel >= 0.15) and % of pauses >= 250 ms at rest (metrics.py); and,
over every frame, the % where mouthClose exceeds jawOpen by more than 0.02 (lower is
better: that pushes a rig's lips through each other; the teacher never does it).

All models of one run must share the front-end, the frame rate and the ARKit-52 motion space.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from . import capture, metrics, phones, teacher
from .arkit import ARKIT_52, INDEX
from .types import Segment

# ----------------------------------------------------------------------------- constants

LAG_WINDOW_S = 0.100                   # best-lag search: shifts within +-100 ms
MOVING_STD = 0.01                      # captured std above which a channel is "moving"
LIP_STD = 0.03                         # captured std above which a mouth* channel counts for lips DR
DR_RANGE = (0.8, 1.25)                 # a DR ratio in this range counts as right
PEAK_PERCENTILES = (5.0, 95.0)         # the peak-amplitude range
CONSTANT_STD = 1e-8                    # a signal with a smaller std is constant (r undefined)
REST_MAX = metrics.REST_MAX            # largest mouth/jaw weight at rest
LIVE_LINK_SUPERVISED_STD = 1e-4        # a Live Link channel with a larger std is supervised
ENERGY_WINDOW_S = 0.040                # RMS window of the energy baseline
ENERGY_FLOOR = 1e-4                    # log10(rms + floor)
PAUSE_WINDOW_FRAMES = 1.0              # RMS window for the pause mask (as facegood_eval)
LABIODENTAL_ROLL_MIN = metrics.LABIODENTAL_ROLL_MIN  # lip contact: mouthRollLower at least this ...
LABIODENTAL_JAW_MAX = metrics.LABIODENTAL_JAW_MAX    # ... with jawOpen at most this
CORPUS_SPLITS = ("validation", "test")
PLOT_CHANNELS = ("jawOpen", "mouthFunnel", "mouthPucker", "mouthUpperUpLeft", "mouthLowerDownLeft",
                 "mouthStretchLeft")
PLOT_SECONDS = 15.0

JAW = INDEX["jawOpen"]
MOUTH = [i for i, name in enumerate(ARKIT_52) if name.startswith("mouth") or name == "jawOpen"]

ENERGY_LABEL = "energy (log RMS, fit on other takes)"
ENERGY_FACEGOOD_LABEL = "energy (log RMS, fit on FACEGOOD)"
ENERGY_UNFITTED_LABEL = "energy (log RMS, unfitted: r only)"
TEACHER_LABEL = "teacher (model's phones)"
TEACHER_TRUE_LABEL = "teacher (true alignment)"
FOLD_LABEL = "fold models (zero-shot on held-out take)"

# Summary scores that are counts: summed over takes, not averaged.
COUNT_KEYS = ("moving_channels", "lips_in_range", "lips_channels", "pause_frames", "frames", "seconds")
# Scores that depend on the prediction's scale (blanked for the unfitted energy).
SCALE_KEYS = ("jaw_dr", "lips_dr_mean", "lips_in_range", "lips_channels", "peak_ratio", "mae",
              "velocity_mae", "pause_rest_pct")
CHANNEL_SCALE_KEYS = ("dr", "peak", "mae", "velocity_mae")


# ----------------------------------------------------------------------------- metrics

def _nanmean(values) -> float:
    """Mean of the finite values; NaN (and no warning) when there are none."""
    array = np.asarray(values, dtype=np.float64)
    array = array[np.isfinite(array)]
    return float(array.mean()) if array.size else float("nan")


def pearson(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson r of two equal-length signals; NaN when either is constant (or shorter than 2)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if len(a) < 2 or a.std() < CONSTANT_STD or b.std() < CONSTANT_STD:
        return float("nan")
    a, b = a - a.mean(), b - b.mean()
    return float(np.clip(a @ b / math.sqrt((a @ a) * (b @ b)), -1.0, 1.0))


def best_lag(pred: np.ndarray, captured: np.ndarray, max_lag: int) -> Tuple[float, int]:
    """(best r, lag in frames) over shifts -max_lag..max_lag. Lag L > 0 pairs pred[t + L]
    with captured[t] (the prediction is late by L frames). Ties go to the smallest |L|;
    (NaN, 0) when r is undefined at every lag."""
    n = len(pred)
    best_r, best = float("nan"), 0
    for lag in sorted(range(-max_lag, max_lag + 1), key=abs):
        if lag >= 0:
            r = pearson(pred[lag:], captured[:n - lag])
        else:
            r = pearson(pred[:n + lag], captured[-lag:])
        if np.isfinite(r) and (not np.isfinite(best_r) or r > best_r):
            best_r, best = r, lag
    return best_r, best


def _range(x: np.ndarray) -> float:
    lo, hi = np.percentile(x, PEAK_PERCENTILES)
    return float(hi - lo)


def score(pred: np.ndarray, captured: np.ndarray, channels_mask: np.ndarray, fps: float,
          pause: Optional[np.ndarray] = None) -> dict:
    """Scores of predicted [T, 52] ARKit weights against captured ones at the same `fps`
    (see the module docstring). `channels_mask`: bool [52], the supervised channels;
    `pause`: optional bool [T], frames inside pauses. Returns {"summary": {...},
    "channels": {name: {...}}} with NaN where a score is undefined."""
    n = min(len(pred), len(captured))
    if n < 2:
        raise ValueError("need at least two common frames to score")
    pred = np.asarray(pred[:n], dtype=np.float64)
    captured = np.asarray(captured[:n], dtype=np.float64)
    mask = np.asarray(channels_mask, dtype=bool)
    max_lag = min(int(math.floor(LAG_WINDOW_S * fps + 1e-9)), n - 2)
    channels: Dict[str, dict] = {}
    for c in np.flatnonzero(mask):
        p, y = pred[:, c], captured[:, c]
        r_best, lag = best_lag(p, y, max_lag)
        y_std, y_range = float(y.std()), _range(y)
        channels[ARKIT_52[c]] = {
            "r": pearson(p, y), "r_best": r_best,
            "lag_ms": 1000.0 * lag / fps if np.isfinite(r_best) else float("nan"),
            "dr": float(p.std()) / y_std if y_std > CONSTANT_STD else float("nan"),
            "peak": _range(p) / y_range if y_range > CONSTANT_STD else float("nan"),
            "mae": float(np.abs(p - y).mean()),
            "velocity_mae": float(np.abs(np.diff(p) - np.diff(y)).mean() * fps),
            "captured_std": y_std}
    moving = [name for name, s in channels.items() if s["captured_std"] > MOVING_STD]
    lips = [name for name in moving if name.startswith("mouth") and channels[name]["captured_std"] > LIP_STD]
    jaw = channels.get("jawOpen", {})
    nan = float("nan")
    # A constant prediction on a moving channel predicts none of it: r = 0 in the means.
    zero_if_nan = lambda v: v if np.isfinite(v) else 0.0  # noqa: E731
    lips_dr = [channels[name]["dr"] for name in lips]
    supervised = np.flatnonzero(mask)
    summary = {
        "jaw_r": jaw.get("r", nan), "jaw_r_best": jaw.get("r_best", nan), "jaw_lag_ms": jaw.get("lag_ms", nan),
        "mean_r_moving": _nanmean([zero_if_nan(channels[m]["r"]) for m in moving]),
        "mean_r_best_moving": _nanmean([zero_if_nan(channels[m]["r_best"]) for m in moving]),
        "mean_lag_ms_moving": _nanmean([channels[m]["lag_ms"] for m in moving]),
        "moving_channels": len(moving),
        "jaw_dr": jaw.get("dr", nan),
        "lips_dr_mean": _nanmean(lips_dr),
        "lips_in_range": int(sum(DR_RANGE[0] <= d <= DR_RANGE[1] for d in lips_dr)),
        "lips_channels": len(lips),
        "peak_ratio": _nanmean([channels[m]["peak"] for m in moving]),
        "mae": float(np.abs(pred[:, supervised] - captured[:, supervised]).mean()) if supervised.size else nan,
        "velocity_mae": float(np.abs(np.diff(pred[:, supervised], axis=0)
                                     - np.diff(captured[:, supervised], axis=0)).mean() * fps)
        if supervised.size else nan,
        "pause_rest_pct": nan, "pause_frames": 0, "frames": n, "seconds": n / fps}
    if pause is not None:
        in_pause = np.asarray(pause[:n], dtype=bool)
        summary["pause_frames"] = int(in_pause.sum())
        if in_pause.any():
            summary["pause_rest_pct"] = float(100 * np.mean(pred[in_pause][:, MOUTH].max(axis=1) <= REST_MAX))
    return {"summary": summary, "channels": channels}


def scale_free(scores: dict) -> dict:
    """`scores` with every scale-dependent value set to NaN (for an unfitted predictor)."""
    summary = dict(scores["summary"])
    summary.update({k: float("nan") for k in SCALE_KEYS})
    channels = {name: {**s, **{k: float("nan") for k in CHANNEL_SCALE_KEYS}} for name, s in scores["channels"].items()}
    return {"summary": summary, "channels": channels}


def mean_scores(per_take: Dict[str, dict]) -> dict:
    """Mean over takes of the summary and per-channel scores (NaN ignored; counts summed)."""
    summaries = [s["summary"] for s in per_take.values()]
    summary = {k: (float(sum(s[k] for s in summaries)) if k in COUNT_KEYS else _nanmean([s[k] for s in summaries]))
               for k in summaries[0]}
    names = [name for name in ARKIT_52 if any(name in s["channels"] for s in per_take.values())]
    channels = {}
    for name in names:
        rows = [s["channels"][name] for s in per_take.values() if name in s["channels"]]
        channels[name] = {k: _nanmean([row[k] for row in rows]) for k in rows[0]}
    return {"summary": summary, "channels": channels}


def lip_checks(motion: np.ndarray, fps: float, segments: Sequence) -> Dict[str, float]:
    """metrics.lip_sync_checks plus % of labiodentals with lower-lip contact (mouthRollLower
    >= LABIODENTAL_ROLL_MIN and jawOpen <= LABIODENTAL_JAW_MAX at the segment's centre)."""
    out = metrics.lip_sync_checks(motion, fps, segments, phones.features)
    hits = count = 0
    for s in segments:
        if phones.features(s.phone).labiodental >= 0.5:
            k = min(int(round((s.start + s.end) / 2 * fps)), len(motion) - 1)
            count += 1
            hits += bool(motion[k, INDEX["mouthRollLower"]] >= LABIODENTAL_ROLL_MIN
                         and motion[k, JAW] <= LABIODENTAL_JAW_MAX)
    out["labiodental_contact_pct"] = 100.0 * hits / count if count else float("nan")
    out["labiodentals"] = count
    # Rig consistency, every frame: ARKit's mouthClose means lips together *while the jaw is
    # open*; above jawOpen it drives a rig's lips through each other.
    over = motion[:, INDEX["mouthClose"]] - motion[:, JAW] > metrics.OVER_CLOSED_MARGIN
    out["over_closed_pct"] = 100.0 * float(over.mean()) if len(motion) else float("nan")
    out["frames"] = len(motion)
    return out


# ----------------------------------------------------------------------------- predictors

def log_mel(config: dict, samples: np.ndarray) -> np.ndarray:
    """The model's log-mel features [T_mel, n_mels] of mono samples at its sample rate."""
    import torch
    from .model import LogMel
    with torch.no_grad():
        return LogMel(config["frontend"])(torch.from_numpy(np.ascontiguousarray(samples, dtype=np.float32))).numpy()


def native_count(config: dict, mel: np.ndarray) -> int:
    """Native motion frames the model produces for `mel`."""
    import torch
    from .model import native_lengths
    return int(native_lengths(torch.tensor([mel.shape[0]]), config)[0])


def model_motion(model, mel: np.ndarray) -> np.ndarray:
    """The model's motion [T, 52] for a whole utterance (as facegood_eval.predict), computed
    on the device the model is on."""
    import torch
    model.eval()
    device = next(model.parameters()).device
    with torch.no_grad():
        return model(torch.from_numpy(mel).to(device))["motion"].float().cpu().numpy()


def log_energy(samples: np.ndarray, sample_rate: int, fps: float, count: int) -> np.ndarray:
    """log10(RMS + ENERGY_FLOOR) of the audio in an ENERGY_WINDOW_S window centred on each
    frame time k / fps, k < count."""
    rms = capture.frame_rms(samples, sample_rate, fps, count, window=ENERGY_WINDOW_S * fps)
    return np.log10(rms.astype(np.float64) + ENERGY_FLOOR)


@dataclass(frozen=True)
class EnergyFit:
    """jawOpen = clip(slope * log energy + intercept, 0, 1)."""
    slope: float
    intercept: float


def fit_energy(log_energies: Sequence[np.ndarray], jaws: Sequence[np.ndarray]) -> EnergyFit:
    """Least-squares line from log energy to captured jawOpen over the given (training) takes,
    each pair trimmed to its common length."""
    xs, ys = [], []
    for x, y in zip(log_energies, jaws):
        n = min(len(x), len(y))
        xs.append(np.asarray(x[:n], dtype=np.float64))
        ys.append(np.asarray(y[:n], dtype=np.float64))
    x, y = np.concatenate(xs), np.concatenate(ys)
    (slope, intercept), *_ = np.linalg.lstsq(np.stack([x, np.ones_like(x)], axis=1), y, rcond=None)
    return EnergyFit(float(slope), float(intercept))


def energy_baseline(log_energy_frames: np.ndarray, fit: Optional[EnergyFit]) -> np.ndarray:
    """[T, 52]: jawOpen from the audio's log energy through `fit` (clipped to 0..1), every
    other channel 0. Without a fit jawOpen is the raw log energy: only its correlations mean
    anything (see `scale_free`)."""
    out = np.zeros((len(log_energy_frames), len(ARKIT_52)), dtype=np.float32)
    if fit is None:
        out[:, JAW] = log_energy_frames
    else:
        out[:, JAW] = np.clip(fit.slope * log_energy_frames + fit.intercept, 0.0, 1.0)
    return out


def phone_segments(phone_ids: Sequence[int], phone_names: Sequence[str], fps: float) -> List[Segment]:
    """Runs of equal per-frame phones as segments (frame t covers [t, t + 1) / fps). Phones
    that are pauses in phones.py become the pause symbol "_" (and merge with their neighbours)."""
    names = [phone_names[int(i)] for i in phone_ids]
    return metrics.segments_from_labels(["_" if phones.features(n).pause else n for n in names], fps)


def teacher_params(overrides: Optional[dict]) -> dict:
    """teacher.PARAMS with `overrides` applied; unknown keys are an error (typos)."""
    overrides = overrides or {}
    unknown = sorted(set(overrides) - set(teacher.PARAMS))
    if unknown:
        raise ValueError(f"unknown teacher parameters {unknown}")
    return {**teacher.PARAMS, **overrides}


def read_teacher_params(path: str) -> dict:
    """Overrides of teacher.PARAMS from a JSON file: a flat {name: value} object, or a
    teacher_fit.py report ({"parameters": ...}, read by teacher.calibrated_params)."""
    with open(path) as f:
        data = json.load(f)
    return teacher.calibrated_params(path) if "parameters" in data else data


def teacher_motion(segments: Sequence, samples: np.ndarray, sample_rate: int, count: int, fps: float,
                   params: Optional[dict] = None) -> np.ndarray:
    """The teacher's animation of `segments` [count, 52] at `fps` (resampled from its own rate)."""
    from .train import resample_teacher
    result = teacher.animate(segments, samples, sample_rate, params=teacher_params(params))
    return resample_teacher(result.frames, count, fps, teacher_fps=result.fps)


def teacher_from_model(model, config: dict, samples: np.ndarray, rate: int,
                       params: Optional[dict] = None) -> np.ndarray:
    """The teacher driven by the phones `model` recognises in the audio (argmax of its phone
    head per native frame -> `phone_segments`), [T, 52] at the native rate. `params`
    overrides teacher.PARAMS (a calibrated teacher)."""
    import torch
    if not getattr(model, "use_keys", False):
        raise ValueError("the teacher needs a model with a phone head (a key-motion model)")
    if rate != config["frontend"]["sample_rate"]:
        raise ValueError(f"{rate} Hz audio, the model expects {config['frontend']['sample_rate']}")
    mel = log_mel(config, samples)
    model.eval()
    with torch.no_grad():
        logits = model(torch.from_numpy(mel).to(next(model.parameters()).device))["phone_logits"]
    ids = logits.argmax(-1).cpu().numpy()
    fps = float(config["motion"]["fps"])
    segments = phone_segments(ids, config["lkma"]["phones"], fps)
    return teacher_motion(segments, samples, rate, len(ids), fps, params)


# ----------------------------------------------------------------------------- models

@dataclass
class LoadedModel:
    path: str
    label: str
    model: object
    config: dict


def _labels(paths: Sequence[str]) -> List[str]:
    """File names, or whole paths where two models share a file name."""
    names = [os.path.basename(p) for p in paths]
    return [n if names.count(n) == 1 else p for n, p in zip(names, paths)]


def load_models(paths: Sequence[str], device=None) -> List[LoadedModel]:
    """Loads exported models onto `device` (default: CUDA if available) and checks that they
    share the front-end, frame rate and ARKit-52 motion space."""
    import torch
    from .export import load
    device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    loaded = []
    for path, label in zip(paths, _labels(paths)):
        model, config, _ = load(path)
        loaded.append(LoadedModel(path, label, model.to(device).eval(), config))
    reference = loaded[0].config
    for m in loaded:
        if list(m.config["motion"]["channels"]) != list(ARKIT_52):
            raise ValueError(f"{m.path}: the benchmark needs the ARKit-52 motion space")
        if m.config["frontend"] != reference["frontend"] or m.config["motion"]["fps"] != reference["motion"]["fps"]:
            raise ValueError(f"{m.path}: front-end or frame rate differs from {loaded[0].path}; "
                             "benchmark them in separate runs")
    return loaded


def _load_all(models: Sequence[str], extra: Sequence[str], device) -> Tuple[List[LoadedModel], Dict[str, LoadedModel]]:
    """(the plain `models` in order, every loaded model by path); `extra` (fold models, the
    teacher's driver) are loaded once each, also when they repeat a plain model."""
    loaded = load_models(list(dict.fromkeys([*models, *extra])), device)
    by_path = {m.path: m for m in loaded}
    return [by_path[p] for p in models], by_path


def _teacher_driver(models: Sequence[LoadedModel], teacher_model: Optional[LoadedModel],
                    log: Callable) -> Optional[LoadedModel]:
    """The model whose phones drive the teacher: `teacher_model`, else the first with a phone head."""
    if teacher_model is not None:
        if not teacher_model.model.use_keys:
            raise ValueError(f"{teacher_model.path} has no phone head to drive the teacher")
        return teacher_model
    driver = next((m for m in models if m.model.use_keys), None)
    if driver is None:
        log("no model with a phone head: the teacher row is skipped")
    return driver


# ----------------------------------------------------------------------------- datasets

@dataclass
class RealTake:
    """Audio with captured ARKit motion at the models' native rate."""
    name: str
    samples: np.ndarray          # mono at `rate` (the models' sample rate)
    rate: int
    mel: np.ndarray
    captured: np.ndarray         # [T, 52]
    supervised: np.ndarray       # bool [52]
    pause: np.ndarray            # bool [T]


def _score_takes(takes: Sequence[RealTake], predictions: Callable[[int, RealTake], Dict[str, np.ndarray]],
                 fps: float, unscaled: Sequence[str] = (), log: Callable = print,
                 plot_take: Optional[str] = None) -> Tuple[dict, dict]:
    """Scores every predictor on every take: ({label: {"per_take", "mean"}}, the curves of
    take `plot_take` (default: the first take) for the plot). `predictions(k, take)` returns
    {label: [T, 52]}; labels in `unscaled` are scored with `scale_free`."""
    per_take: Dict[str, Dict[str, dict]] = {}
    example: dict = {}
    for k, take in enumerate(takes):
        started = time.time()
        predicted = predictions(k, take)
        for label, motion in predicted.items():
            scores = score(motion, take.captured, take.supervised, fps, take.pause)
            per_take.setdefault(label, {})[take.name] = scale_free(scores) if label in unscaled else scores
        if take.name == plot_take or (k == 0 and plot_take is None):
            example = {"take": take.name, "fps": fps, "captured": take.captured,
                       "predictions": {label: m for label, m in predicted.items() if label not in unscaled}}
        log(f"  {take.name} ({len(take.captured) / fps:.0f} s, {time.time() - started:.0f} s): "
            + "; ".join(f"{label} jaw r {per_take[label][take.name]['summary']['jaw_r']:.3f}" for label in predicted))
    results = {label: {"per_take": scores, "mean": mean_scores(scores)} for label, scores in per_take.items()}
    return results, example


def facegood_benchmark(directory: str, models: Sequence[str], fold_models: Optional[Dict[str, str]] = None,
                       teacher_params: Optional[dict] = None, device=None, teacher_model: Optional[str] = None,
                       log: Callable = print, plot_take: Optional[str] = None) -> dict:
    """The FACEGOOD takes, 5-fold by take (see the module docstring). `fold_models`: take ->
    path of a model trained without that take. `teacher_model`: path of the model whose
    phones drive the teacher (default: the first of `models` with a phone head).
    `plot_take`: the take whose curves are returned for the plot (default: the first)."""
    from . import facegood_eval
    fold_models = dict(fold_models or {})
    plain, by_path = _load_all(models, sorted(fold_models.values()) + ([teacher_model] if teacher_model else []),
                               device)
    config = plain[0].config
    fps = float(config["motion"]["fps"])
    rig = capture.load_facegood(directory)
    prepared = facegood_eval.prepare(rig, config)
    unknown = sorted(set(fold_models) - {t.name for t in prepared})
    if unknown:
        raise ValueError(f"--fold-model names takes that are not in {directory}: {unknown}")
    if plot_take is not None and plot_take not in {t.name for t in prepared}:
        raise ValueError(f"--plot-take {plot_take!r} is not a take in {directory}")
    takes = [RealTake(t.name, r.samples, r.sample_rate, t.item.mel, t.item.motion, t.supervised, t.pause)
             for t, r in zip(prepared, rig)]
    energies = [log_energy(t.samples, t.rate, fps, len(t.captured)) for t in takes]
    jaws = [t.captured[:, JAW] for t in takes]
    driver = _teacher_driver(plain, by_path.get(teacher_model), log)
    fits: Dict[str, EnergyFit] = {}

    def predictions(k: int, take: RealTake) -> Dict[str, np.ndarray]:
        out = {m.label: model_motion(m.model, take.mel) for m in plain}
        if take.name in fold_models:
            out[FOLD_LABEL] = model_motion(by_path[fold_models[take.name]].model, take.mel)
        fits[take.name] = fit_energy([e for j, e in enumerate(energies) if j != k],
                                     [y for j, y in enumerate(jaws) if j != k])
        out[ENERGY_LABEL] = energy_baseline(energies[k], fits[take.name])
        if driver is not None:
            out[TEACHER_LABEL] = teacher_from_model(driver.model, driver.config, take.samples, take.rate,
                                                    teacher_params)
        return out

    log(f"FACEGOOD: {len(takes)} takes, {sum(len(t.captured) for t in takes) / fps / 60:.2f} min at {fps:g} fps")
    results, example = _score_takes(takes, predictions, fps, log=log, plot_take=plot_take)
    return {"dataset": "facegood", "directory": directory, "fps": fps,
            "takes": {t.name: len(t.captured) / fps for t in takes},
            "supervised": [ARKIT_52[i] for i in np.flatnonzero(takes[0].supervised)],
            "fold_models": fold_models, "teacher_driver": driver.label if driver else None,
            "teacher_params": teacher_params or {},
            "energy_fits": {name: vars(fit) for name, fit in fits.items()},
            "energy_fit_all": vars(fit_energy(energies, jaws)),
            "predictors": results, "example": example}


def load_live_link_take(csv_path: str, wav_path: str, config: dict) -> RealTake:
    """A Live Link Face CSV + WAV at the model's rates: audio resampled to its sample rate,
    capture resampled to its frame rate over the frames the capture covers; supervised =
    channels with std > LIVE_LINK_SUPERVISED_STD in the CSV."""
    from .corpus import resample_to
    from .facegood_eval import pause_frames
    from .train import resample_teacher
    take = capture.load_live_link_csv(csv_path, wav_path)
    if take.sample_rate == 0 or len(take.samples) == 0:
        raise ValueError(f"{wav_path}: no audio")
    rate = int(config["frontend"]["sample_rate"])
    samples = resample_to(take.samples, take.sample_rate, rate)
    fps = float(config["motion"]["fps"])
    mel = log_mel(config, samples)
    covered = int(math.floor((take.num_frames - 1) / take.fps * fps + 1e-9)) + 1
    count = min(native_count(config, mel), covered)
    captured = resample_teacher(take.motion, count, fps, teacher_fps=take.fps)
    rms = capture.frame_rms(samples, rate, fps, count, window=PAUSE_WINDOW_FRAMES)
    return RealTake(take.take, samples, rate, mel, captured, take.motion.std(axis=0) > LIVE_LINK_SUPERVISED_STD,
                    pause_frames(rms, fps))


def livelink_benchmark(pairs: Sequence[Tuple[str, str]], models: Sequence[str],
                       energy_fit: Optional[EnergyFit] = None, teacher_params: Optional[dict] = None,
                       device=None, teacher_model: Optional[str] = None, log: Callable = print) -> dict:
    """Live Link Face captures (CSV, WAV): every model, the energy baseline (through
    `energy_fit`, fitted elsewhere; None: correlations only) and the teacher."""
    plain, by_path = _load_all(models, [teacher_model] if teacher_model else [], device)
    config = plain[0].config
    fps = float(config["motion"]["fps"])
    takes = [load_live_link_take(csv_path, wav_path, config) for csv_path, wav_path in pairs]
    driver = _teacher_driver(plain, by_path.get(teacher_model), log)
    energy_label = ENERGY_FACEGOOD_LABEL if energy_fit else ENERGY_UNFITTED_LABEL

    def predictions(k: int, take: RealTake) -> Dict[str, np.ndarray]:
        out = {m.label: model_motion(m.model, take.mel) for m in plain}
        out[energy_label] = energy_baseline(log_energy(take.samples, take.rate, fps, len(take.captured)), energy_fit)
        if driver is not None:
            out[TEACHER_LABEL] = teacher_from_model(driver.model, driver.config, take.samples, take.rate,
                                                    teacher_params)
        return out

    log(f"Live Link: {len(takes)} takes")
    results, example = _score_takes(takes, predictions, fps, unscaled=() if energy_fit else (energy_label,), log=log)
    return {"dataset": "livelink", "fps": fps, "takes": {t.name: len(t.captured) / fps for t in takes},
            "supervised": {t.name: [ARKIT_52[i] for i in np.flatnonzero(t.supervised)] for t in takes},
            "energy_fit": vars(energy_fit) if energy_fit else None, "teacher_driver": driver.label if driver else None,
            "teacher_params": teacher_params or {}, "predictors": results, "example": example}


CHECKS = (("bilabial_closed_pct", "bilabials"), ("labiodental_contact_pct", "labiodentals"),
          ("rounded_vowel_pct", "rounded_vowels"), ("pause_rest_pct", "pauses"), ("over_closed_pct", "frames"))


LANGUAGE_NAMES = {"en": "English", "es": "Spanish", "fr": "French", "it": "Italian", "ru": "Russian"}


def corpus_benchmark(directory: str, models: Sequence[str], teacher_params: Optional[dict] = None, device=None,
                     teacher_model: Optional[str] = None, log: Callable = print, language: str = "en") -> dict:
    """Lip-sync checks on the corpus's aligned recordings of `language` in CORPUS_SPLITS:
    every model, the teacher on the true alignment and on the model's phones. English is
    aligned by PocketSphinx; the other languages by `forced_align` (a model's phone head
    given the transcript), so their "true alignment" is only as good as that."""
    from .corpus import load_manifest, read_segments
    from .train import read_wav
    plain, by_path = _load_all(models, [teacher_model] if teacher_model else [], device)
    config = plain[0].config
    fps = float(config["motion"]["fps"])
    rows = [r for r in load_manifest(directory) if r["engine"] == "human" and r["language"] == language
            and r["split"] in CORPUS_SPLITS and r.get("phones")]
    name = LANGUAGE_NAMES.get(language, language)
    if not rows:
        raise ValueError(f"{directory}: no aligned {name} recordings in the {'/'.join(CORPUS_SPLITS)} splits"
                         + ("" if language == "en" else " (run python -m kmtalk_train.forced_align first)"))
    driver = _teacher_driver(plain, by_path.get(teacher_model), log)
    hits: Dict[str, Dict[str, float]] = {}
    jaws: Dict[str, List[np.ndarray]] = {}
    jaw = ARKIT_52.index("jawOpen")
    seconds = 0.0
    log(f"corpus: {len(rows)} recorded {name} prompts ({'/'.join(CORPUS_SPLITS)})")
    for row in rows:
        samples, rate = read_wav(os.path.join(directory, row["audio"]))
        segments = read_segments(os.path.join(directory, row["phones"]))
        mel = log_mel(config, samples)
        count = native_count(config, mel)
        seconds += len(samples) / rate
        motions = {m.label: model_motion(m.model, mel) for m in plain}
        motions[TEACHER_TRUE_LABEL] = teacher_motion(segments, samples, rate, count, fps, teacher_params)
        if driver is not None:
            motions[TEACHER_LABEL] = teacher_from_model(driver.model, driver.config, samples, rate, teacher_params)
        for label, motion in motions.items():
            jaws.setdefault(label, []).append(np.asarray(motion[:count, jaw], dtype=np.float64))
            checks = lip_checks(motion, fps, segments)
            total = hits.setdefault(label, {})
            for pct, n in CHECKS:
                if checks[n]:
                    total[pct] = total.get(pct, 0.0) + checks[pct] * checks[n] / 100
                total[n] = total.get(n, 0) + checks[n]
    predictors = {label: {**{pct: 100 * h.get(pct, 0.0) / h[n] if h[n] else float("nan") for pct, n in CHECKS},
                          **{n: int(h[n]) for _, n in CHECKS}} for label, h in hits.items()}
    # No face was captured on these recordings: the teacher on the true alignment is the
    # reference for the jaw's shape (r) and amount of motion (std ratio), pooled over frames.
    for label, parts in jaws.items():
        pairs = [(a[:n], b[:n]) for a, b in zip(parts, jaws[TEACHER_TRUE_LABEL]) for n in [min(len(a), len(b))]]
        ours, reference = (np.concatenate(side) for side in zip(*pairs))
        predictors[label]["jaw_r_vs_teacher"] = pearson(ours, reference)
        predictors[label]["jaw_std_ratio_vs_teacher"] = float(ours.std() / max(reference.std(), 1e-9))
    return {"dataset": "corpus", "directory": directory, "language": language, "splits": list(CORPUS_SPLITS),
            "utterances": len(rows),
            "seconds": seconds, "teacher_driver": driver.label if driver else None,
            "teacher_params": teacher_params or {}, "predictors": predictors}


# ----------------------------------------------------------------------------- reports

def _fmt(value, spec: str) -> str:
    return "-" if value is None or not np.isfinite(value) else format(value, spec)


def _motion_table(title: str, result: dict) -> List[str]:
    lines = [f"### {title}", "",
             "| predictor | jaw r | jaw r best-lag (lag ms) | mean r moving (lag0 / best) | jaw DR | "
             "lips DR mean (n in range / n) | peak ratio | MAE | vel. MAE (/s) | pause rest % |",
             "|---" * 10 + "|"]
    for label, r in result["predictors"].items():
        s = r["mean"]["summary"]
        lips = "-" if not np.isfinite(s["lips_dr_mean"]) else \
            f"{s['lips_dr_mean']:.2f} ({s['lips_in_range']:.0f}/{s['lips_channels']:.0f})"
        lines.append(f"| {label} | {_fmt(s['jaw_r'], '.3f')} | {_fmt(s['jaw_r_best'], '.3f')} "
                     f"({_fmt(s['jaw_lag_ms'], '+.0f')}) | {_fmt(s['mean_r_moving'], '.3f')} / "
                     f"{_fmt(s['mean_r_best_moving'], '.3f')} | {_fmt(s['jaw_dr'], '.2f')} | {lips} | "
                     f"{_fmt(s['peak_ratio'], '.2f')} | {_fmt(s['mae'], '.4f')} | {_fmt(s['velocity_mae'], '.3f')} | "
                     f"{_fmt(s['pause_rest_pct'], '.1f')} |")
    takes = list(result["takes"])
    lines += ["", "Per take: jaw r / mean r moving (lag 0).", "",
              "| predictor | " + " | ".join(takes) + " |", "|---" * (len(takes) + 1) + "|"]
    for label, r in result["predictors"].items():
        cells = []
        for take in takes:
            s = r["per_take"].get(take, {}).get("summary")
            cells.append("-" if s is None else f"{_fmt(s['jaw_r'], '.3f')} / {_fmt(s['mean_r_moving'], '.3f')}")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return lines + [""]


def markdown(results: Dict[str, dict]) -> str:
    """One table per dataset (means over takes for captured motion, then per-take r)."""
    lines: List[str] = []
    if "facegood" in results:
        r = results["facegood"]
        lines += _motion_table(f"Real capture: FACEGOOD, {len(r['takes'])} takes "
                               f"({sum(r['takes'].values()) / 60:.1f} min), {len(r['supervised'])} supervised "
                               f"channels, mean over takes ({len(r['takes'])}-fold by take)", r)
    if "livelink" in results:
        r = results["livelink"]
        lines += _motion_table(f"Real capture: Live Link Face, {len(r['takes'])} take(s) "
                               f"({sum(r['takes'].values()) / 60:.1f} min)", r)
    for key in [k for k in results if k == "corpus" or k.startswith("corpus-")]:
        r = results[key]
        name = LANGUAGE_NAMES.get(r.get("language", "en"), r.get("language", "en"))
        lines += [f"### Recorded {name} prompts: {r['utterances']} utterances ({r['seconds'] / 60:.1f} min, "
                  f"{'/'.join(r['splits'])} sentences), lip-sync checks at phone centres", "",
                  "| predictor | bilabials closed % | labiodentals contact % | rounded vowels % | pauses at rest % "
                  "| mouthClose > jawOpen, % of frames (lower is better) | jaw r / std ratio vs teacher (true alignment) |",
                  "|---" * 7 + "|"]
        for label, s in r["predictors"].items():
            lines.append(f"| {label} | " + " | ".join(f"{_fmt(s[pct], '.1f')} (n={s[n]})" for pct, n in CHECKS)
                         + f" | {_fmt(s.get('jaw_r_vs_teacher'), '.3f')} / {_fmt(s.get('jaw_std_ratio_vs_teacher'), '.2f')} |")
        lines.append("")
    return "\n".join(lines) + "\n"


def plot(example: dict, path: str, seconds: float = PLOT_SECONDS) -> None:
    """Captured (black) vs every predictor on the first `seconds` of a take, one panel per
    channel of PLOT_CHANNELS."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fps = example["fps"]
    count = min(len(example["captured"]), int(seconds * fps))
    t = np.arange(count) / fps
    fig, axes = plt.subplots(len(PLOT_CHANNELS), 1, figsize=(13, 1.9 * len(PLOT_CHANNELS)), sharex=True,
                             constrained_layout=True)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, channel in zip(axes, PLOT_CHANNELS):
        c = INDEX[channel]
        ax.plot(t, example["captured"][:count, c], color="black", lw=1.6, label="captured")
        for k, (label, motion) in enumerate(example["predictions"].items()):
            n = min(count, len(motion))
            ax.plot(t[:n], motion[:n, c], color=colors[k % len(colors)], lw=1.0, label=label)
        ax.set_ylabel(channel, fontsize=8)
        ax.set_ylim(bottom=0)
    axes[0].set_title(f"take {example['take']}: captured vs predicted", fontsize=9)
    axes[0].legend(fontsize=7, loc="upper right", ncol=2)
    axes[-1].set_xlabel("seconds")
    fig.savefig(path, dpi=72)
    plt.close(fig)


def _jsonable(value):
    """Results for json.dump: NaN -> None, numpy scalars -> Python, curves dropped."""
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items() if k != "example"}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (float, np.floating)):
        return float(value) if np.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value


# ----------------------------------------------------------------------------- CLI

def _pairs(values: Sequence[str], separator: str, what: str) -> List[Tuple[str, str]]:
    """'LEFT<separator>RIGHT' arguments as (left, right), split at the first separator."""
    out = []
    for value in values:
        left, sep, right = value.partition(separator)
        if not sep or not left or not right:
            raise SystemExit(f"expected {what}, got {value!r}")
        out.append((left, right))
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kmtalk_train.real_bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", nargs="+", help="exported models (ARKit-52 motion) that never saw these data")
    parser.add_argument("--facegood", help="directory with the FACEGOOD takes")
    parser.add_argument("--fold-model", action="append", default=[], metavar="TAKE=PATH",
                        help="a model trained without FACEGOOD take TAKE (scored zero-shot on it); repeatable")
    parser.add_argument("--livelink", action="append", default=[], metavar="CSV:WAV",
                        help="a Live Link Face CSV and its WAV; repeatable")
    parser.add_argument("--corpus", help="corpus directory: its aligned English recordings (validation + test)")
    parser.add_argument("--corpus-languages", default="en",
                        help="with --corpus: comma-separated languages whose aligned recordings to check "
                        "(es, fr, it, ru need python -m kmtalk_train.forced_align first)")
    parser.add_argument("--teacher-params", metavar="JSON",
                        help="JSON file: {name: value} overriding teacher.PARAMS, or a teacher_fit.py report")
    parser.add_argument("--teacher-model", help="model whose phones drive the teacher (default: the first model)")
    parser.add_argument("--device", default=None)
    parser.add_argument("--json", help="write all scores here")
    parser.add_argument("--markdown", help="append the tables to this file")
    parser.add_argument("--plot", help="PNG of captured vs predicted curves on the first take")
    parser.add_argument("--plot-take", metavar="TAKE",
                        help="plot this FACEGOOD take instead (e.g. the one a --fold-model left out)")
    args = parser.parse_args(argv)
    if not (args.facegood or args.livelink or args.corpus):
        parser.error("give at least one of --facegood, --livelink, --corpus")
    if (args.fold_model or args.plot_take) and not args.facegood:
        parser.error("--fold-model and --plot-take need --facegood")
    fold_models = dict(_pairs(args.fold_model, "=", "TAKE=PATH"))
    params = read_teacher_params(args.teacher_params) if args.teacher_params else None
    teacher_params(params)  # fails early on unknown keys
    log = lambda *a: print(*a, file=sys.stderr, flush=True)  # noqa: E731
    started = time.time()
    results: Dict[str, dict] = {}
    common = dict(teacher_params=params, device=args.device, teacher_model=args.teacher_model, log=log)
    if args.facegood:
        results["facegood"] = facegood_benchmark(args.facegood, args.models, fold_models, plot_take=args.plot_take,
                                                 **common)
    if args.livelink:
        fit = EnergyFit(**results["facegood"]["energy_fit_all"]) if "facegood" in results else None
        results["livelink"] = livelink_benchmark(_pairs(args.livelink, ":", "CSV:WAV"), args.models, fit, **common)
    if args.corpus:
        for language in [l for l in args.corpus_languages.split(",") if l]:
            key = "corpus" if language == "en" else f"corpus-{language}"
            results[key] = corpus_benchmark(args.corpus, args.models, language=language, **common)
    elapsed = time.time() - started
    log(f"benchmark took {elapsed:.0f} s")
    text = markdown(results)
    print(text)
    if args.plot:
        example = next((r["example"] for r in results.values() if r.get("example")), None)
        if example is None:
            log("--plot: no captured take to plot (the corpus has no captured motion)")
        else:
            plot(example, args.plot)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(_jsonable({"models": args.models, "seconds": elapsed, **results}), f, indent=1)
    if args.markdown:
        with open(args.markdown, "a") as f:
            f.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
