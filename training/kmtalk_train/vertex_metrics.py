"""The vertex-space metrics of speech-driven 3D face animation papers (FaceFormer,
CodeTalker, KMTalk), computed as their published evaluation code computes them, plus
plain millimetre versions that read without a units table.

All functions take vertex positions or offsets as arrays [frames, V, 3] (or [frames, 3V]),
predicted and captured of the same length, in the data's own units (VOCASET: metres;
FaceFormer's BIWI: a per-subject normalised scale, about 1/190 of millimetres; the
ICT-FaceKit corpus of this project: millimetres).

* **LVE** (lip vertex error, `lip_vertex_error`): per frame, the largest *squared* L2
  distance between predicted and captured position over the lip vertices, averaged over
  frames. That is what the papers' tables report (VOCASET x 1e-5 m^2, BIWI x 1e-4 mm^2,
  though the tables say "mm"). `lip_vertex_error_distance` is the same with the distance
  itself (units, not squared): the worst lip vertex's error, averaged over frames.
* **FDD** (upper-face dynamics deviation, `upper_face_dynamics_deviation`): for each
  upper-face vertex, the standard deviation over time of its squared displacement from
  the template (|x_t - template|^2), averaged over the vertices; captured minus predicted
  (signed: positive means the prediction moves the upper face less than the capture).
  Computed per sequence; `evaluate_sequences` averages over sequences as the papers do.
* **MVE** (mean vertex error, `mean_vertex_error`): the L2 distance averaged over every
  vertex and frame (units).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Iterable, Optional, Sequence, Tuple

import numpy as np


def _vertices(array: np.ndarray, name: str) -> np.ndarray:
    """`array` as float64 [frames, V, 3]; [frames, 3V] is reshaped."""
    array = np.asarray(array, dtype=np.float64)
    if array.ndim == 2 and array.shape[1] % 3 == 0:
        array = array.reshape(array.shape[0], -1, 3)
    if array.ndim != 3 or array.shape[2] != 3:
        raise ValueError(f"{name}: shape {array.shape}, expected (frames, vertices, 3) or (frames, 3 * vertices)")
    if array.shape[0] == 0:
        raise ValueError(f"{name}: no frames")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name}: NaN or infinite values")
    return array


def _pair(predicted: np.ndarray, captured: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    predicted = _vertices(predicted, "predicted")
    captured = _vertices(captured, "captured")
    if predicted.shape != captured.shape:
        raise ValueError(f"predicted {predicted.shape} and captured {captured.shape} differ (trim to the same frames first)")
    return predicted, captured


def _indices(indices: Optional[Sequence[int]], count: int, name: str) -> np.ndarray:
    if indices is None:
        return np.arange(count)
    indices = np.asarray(indices, dtype=np.int64).reshape(-1)
    if indices.size == 0:
        raise ValueError(f"{name}: no vertices")
    if indices.min() < 0 or indices.max() >= count:
        raise ValueError(f"{name}: indices outside 0..{count - 1}")
    return indices


def lip_vertex_error(predicted: np.ndarray, captured: np.ndarray, lip_vertices: Sequence[int]) -> float:
    """LVE as the papers report it: mean over frames of the largest squared L2 error over
    `lip_vertices` (units^2)."""
    predicted, captured = _pair(predicted, captured)
    lips = _indices(lip_vertices, predicted.shape[1], "lip_vertices")
    squared = np.sum((predicted[:, lips] - captured[:, lips]) ** 2, axis=2)
    return float(np.mean(np.max(squared, axis=1)))


def lip_vertex_error_distance(predicted: np.ndarray, captured: np.ndarray, lip_vertices: Sequence[int]) -> float:
    """The worst lip vertex's L2 error per frame, averaged over frames (units)."""
    predicted, captured = _pair(predicted, captured)
    lips = _indices(lip_vertices, predicted.shape[1], "lip_vertices")
    distance = np.linalg.norm(predicted[:, lips] - captured[:, lips], axis=2)
    return float(np.mean(np.max(distance, axis=1)))


def upper_face_dynamics(positions: np.ndarray, template: np.ndarray, upper_face_vertices: Sequence[int]) -> float:
    """Mean over `upper_face_vertices` of the std over time of |x_t - template|^2."""
    positions = _vertices(positions, "positions")
    template = np.asarray(template, dtype=np.float64).reshape(-1, 3)
    if template.shape[0] != positions.shape[1]:
        raise ValueError(f"template has {template.shape[0]} vertices, positions {positions.shape[1]}")
    upper = _indices(upper_face_vertices, positions.shape[1], "upper_face_vertices")
    squared = np.sum((positions[:, upper] - template[None, upper]) ** 2, axis=2)
    return float(np.mean(np.std(squared, axis=0)))


def upper_face_dynamics_deviation(predicted: np.ndarray, captured: np.ndarray, template: np.ndarray,
                                  upper_face_vertices: Sequence[int]) -> float:
    """FDD of one sequence: captured upper-face dynamics minus predicted (units^2, signed)."""
    predicted, captured = _pair(predicted, captured)
    return (upper_face_dynamics(captured, template, upper_face_vertices)
            - upper_face_dynamics(predicted, template, upper_face_vertices))


def mean_vertex_error(predicted: np.ndarray, captured: np.ndarray, vertices: Optional[Sequence[int]] = None) -> float:
    """MVE: L2 error averaged over `vertices` (default all) and frames (units)."""
    predicted, captured = _pair(predicted, captured)
    chosen = _indices(vertices, predicted.shape[1], "vertices")
    return float(np.mean(np.linalg.norm(predicted[:, chosen] - captured[:, chosen], axis=2)))


@dataclass
class VertexScores:
    """Scores over a test set: LVE pooled over every frame of every sequence (as the
    papers' code concatenates the sequences), FDD averaged over sequences, MVE and the
    millimetre LVE pooled over frames."""

    lve: float                   # units^2, the papers' LVE
    lve_distance: float          # units
    fdd: Optional[float]         # units^2, None without upper-face vertices
    mve: float                   # units
    frames: int
    sequences: int

    def as_dict(self) -> Dict[str, float]:
        return {"lve": self.lve, "lve_distance": self.lve_distance, "fdd": self.fdd, "mve": self.mve,
                "frames": self.frames, "sequences": self.sequences}


def evaluate_sequences(pairs: Iterable[Tuple[np.ndarray, np.ndarray, np.ndarray]], lip_vertices: Sequence[int],
                       upper_face_vertices: Optional[Sequence[int]] = None) -> VertexScores:
    """Scores `(predicted, captured, template)` position triples ([frames, V, 3] each, the
    template [V, 3]); a pair of different lengths is trimmed to the shorter, as the
    papers' code does."""
    worst_squared, worst_distance, deviations = [], [], []
    error_sum, error_count, sequences = 0.0, 0, 0
    for predicted, captured, template in pairs:
        predicted = _vertices(predicted, "predicted")
        captured = _vertices(captured, "captured")
        frames = min(len(predicted), len(captured))
        predicted, captured = predicted[:frames], captured[:frames]
        lips = _indices(lip_vertices, predicted.shape[1], "lip_vertices")
        difference = predicted - captured
        squared = np.sum(difference[:, lips] ** 2, axis=2)
        worst_squared.append(np.max(squared, axis=1))
        worst_distance.append(np.max(np.sqrt(squared), axis=1))
        distance = np.linalg.norm(difference, axis=2)
        error_sum += float(distance.sum())
        error_count += distance.size
        if upper_face_vertices is not None:
            deviations.append(upper_face_dynamics_deviation(predicted, captured, template, upper_face_vertices))
        sequences += 1
    if sequences == 0:
        raise ValueError("no sequences to evaluate")
    worst_squared = np.concatenate(worst_squared)
    return VertexScores(
        lve=float(worst_squared.mean()), lve_distance=float(np.concatenate(worst_distance).mean()),
        fdd=float(np.mean(deviations)) if deviations else None, mve=error_sum / error_count,
        frames=len(worst_squared), sequences=sequences)
