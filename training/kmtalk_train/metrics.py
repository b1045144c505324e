"""Evaluation metrics of the model against the corpus (numpy only, so they can score the
PyTorch model, the Swift engine's output, or the teacher itself).

- phone / articulatory-feature frame accuracy;
- key-frame boundary precision / recall / F1 within a tolerance (default +-20 ms);
- motion error per channel group (jaw, lips, rest) and velocity error;
- lip-sync checks on phone-aligned speech: mouth closed at the centre of every bilabial,
  lips rounded on rounded vowels, mouth at rest in pauses (% satisfied).
"""
from __future__ import annotations

from typing import Dict, List, Sequence

import numpy as np

from .arkit import ARKIT_52, INDEX
from .types import Segment

GROUPS = {
    "jaw": ["jawOpen", "jawForward", "jawLeft", "jawRight"],
    "lips": [n for n in ARKIT_52 if n.startswith("mouth")],
}
GROUPS["rest"] = [n for n in ARKIT_52 if n not in GROUPS["jaw"] and n not in GROUPS["lips"]]

# Lip-sync check thresholds (ARKit weights).
CLOSED_APERTURE = 0.05     # jawOpen - mouthClose at a bilabial centre
ROUNDED_MIN = 0.15         # mouthPucker + mouthFunnel on a rounded vowel
REST_MAX = 0.1             # largest mouth/jaw weight in the middle of a pause >= 250 ms
LABIODENTAL_ROLL_MIN = 0.25  # lower lip to teeth: mouthRollLower at least this at an f/v centre ...
LABIODENTAL_JAW_MAX = 0.12   # ... with jawOpen at most this
OVER_CLOSED_MARGIN = 0.02    # mouthClose above jawOpen by more than this pushes a rig's lips through each other


def frame_labels(segments: Sequence, count: int, fps: float) -> List[str]:
    """The phone at each frame time k / fps (the last segment extends to the end)."""
    labels, i = [], 0
    for k in range(count):
        t = k / fps
        while i + 1 < len(segments) and segments[i].end <= t:
            i += 1
        labels.append(segments[i].phone)
    return labels


def phone_accuracy(predicted: Sequence[str], reference: Sequence[str]) -> float:
    return float(np.mean([p == r for p, r in zip(predicted, reference)])) if reference else 0.0


def feature_accuracy(predicted_prob: np.ndarray, reference: np.ndarray, threshold: float = 0.5) -> float:
    """Agreement of thresholded feature probabilities [T, F] with reference features [T, F]."""
    return float(np.mean((predicted_prob >= threshold) == (reference >= threshold)))


def boundary_f1(predicted_times: Sequence[float], reference_times: Sequence[float], tolerance: float = 0.02) -> Dict[str, float]:
    """Greedy one-to-one matching of boundary times within `tolerance` seconds."""
    predicted, reference = sorted(predicted_times), sorted(reference_times)
    used = [False] * len(reference)
    hits = 0
    for p in predicted:
        best, best_distance = -1, tolerance + 1e-12
        for j, r in enumerate(reference):
            if not used[j] and abs(p - r) <= best_distance:
                best, best_distance = j, abs(p - r)
        if best >= 0:
            used[best] = True
            hits += 1
    precision = hits / len(predicted) if predicted else 0.0
    recall = hits / len(reference) if reference else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "hits": hits}


def motion_errors(predicted: np.ndarray, reference: np.ndarray, mask: np.ndarray = None) -> Dict[str, float]:
    """Mean absolute error per channel group and velocity MAE (per frame) over [T, 52];
    `mask` [52] restricts to supervised channels (e.g. the FACEGOOD-mapped ones)."""
    count = min(len(predicted), len(reference))
    p, r = predicted[:count].astype(np.float64), reference[:count].astype(np.float64)
    mask = np.ones(p.shape[1], bool) if mask is None else np.asarray(mask, bool)
    out = {}
    for group, names in GROUPS.items():
        idx = [INDEX[n] for n in names if mask[INDEX[n]]]
        out[f"mae_{group}"] = float(np.abs(p[:, idx] - r[:, idx]).mean()) if idx else float("nan")
    idx = np.nonzero(mask)[0]
    out["mae_all"] = float(np.abs(p[:, idx] - r[:, idx]).mean())
    out["velocity_mae"] = float(np.abs(np.diff(p[:, idx], axis=0) - np.diff(r[:, idx], axis=0)).mean()) if count > 1 else 0.0
    return out


def lip_sync_checks(motion: np.ndarray, fps: float, segments: Sequence, features) -> Dict[str, float]:
    """% of bilabials closed at their centre, rounded vowels rounded, long pauses at rest.
    `features`: phone -> PhoneFeatures (phones.features)."""
    closed = rounded = rest = 0
    n_closed = n_rounded = n_rest = 0
    mouth = [INDEX[n] for n in GROUPS["jaw"] + GROUPS["lips"]]
    for s in segments:
        f = features(s.phone)
        k = min(int(round((s.start + s.end) / 2 * fps)), len(motion) - 1)
        if f.bilabial_closure >= 0.5:
            n_closed += 1
            closed += motion[k, INDEX["jawOpen"]] - motion[k, INDEX["mouthClose"]] <= CLOSED_APERTURE
        elif f.kind == "vowel" and f.rounding >= 0.7:
            n_rounded += 1
            rounded += motion[k, INDEX["mouthPucker"]] + motion[k, INDEX["mouthFunnel"]] >= ROUNDED_MIN
        elif f.pause and s.end - s.start >= 0.25:
            n_rest += 1
            rest += motion[k, mouth].max() <= REST_MAX
    pct = lambda a, n: 100.0 * a / n if n else float("nan")  # noqa: E731
    return {"bilabial_closed_pct": pct(closed, n_closed), "rounded_vowel_pct": pct(rounded, n_rounded),
            "pause_rest_pct": pct(rest, n_rest), "bilabials": n_closed, "rounded_vowels": n_rounded, "pauses": n_rest}


def resample(motion: np.ndarray, from_fps: float, to_fps: float) -> np.ndarray:
    """Linear-interpolation frame-rate conversion with the engine's convention (frame i at
    i / fps, same time span)."""
    if from_fps == to_fps:
        return motion
    count = int(np.floor((len(motion) - 1) * to_fps / from_fps + 1e-9)) + 1
    position = np.minimum(np.arange(count) * from_fps / to_fps, len(motion) - 1)
    return np.stack([np.interp(position, np.arange(len(motion)), motion[:, c]) for c in range(motion.shape[1])], axis=1)


def segments_from_labels(labels: Sequence[str], fps: float) -> List[Segment]:
    """Runs of equal per-frame labels as segments (frame t covers [t, t+1) / fps)."""
    out: List[Segment] = []
    for t, label in enumerate(labels):
        if out and out[-1].phone == label:
            out[-1] = Segment(out[-1].start, (t + 1) / fps, label)
        else:
            out.append(Segment(t / fps, (t + 1) / fps, label))
    return out
