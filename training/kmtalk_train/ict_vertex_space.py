"""A VOCASET-like vertex space the project can make itself: the ICT-FaceKit face
(../shared/data/ict-facekit, third-party, never copied here) decimated to a mesh of a
few thousand vertices, driven by ARKit weights, as per-frame vertex offsets in
millimetres. This is the paper's setting (vertex offsets on a template, scored with LVE
and FDD) with motion the articulatory teacher or a capture provides.

* **Decimation by vertex clustering**: the face's vertices fall into cubic cells of
  `cell_mm`; each cell keeps its vertex nearest the cell's centroid (a real ICT vertex, so
  its offsets are the rig's own, exactly); triangles are re-indexed to the kept vertices
  and those that collapse are dropped. Deterministic: the same rig and cell size give the
  same mesh.
* **Regions** for the metrics, as VOCASET's FLAME masks do: `lip_vertices` (within
  `lip_radius_mm` of the 20 lip landmarks 48..67; LVE) and `upper_face_vertices` (above
  the eyes' landmarks less `upper_margin_mm`: eyes, brows, forehead; FDD).
* **The ARKit map** `basis` [52, 3R]: offsets = weights @ basis, in millimetres. Every
  sequence of this space lies in its row span (52 dimensions at most), so a principal
  component basis of the training offsets (`principal_basis`) loses nothing beyond its
  rank: the output head a vertices-space model can use to stay small.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Tuple

import numpy as np

from . import ict_rig
from .arkit import ARKIT_52

MM_PER_RIG_UNIT = 10.0  # ICT-FaceKit is in centimetres


@dataclass
class VertexSpace:
    """The decimated face: which ICT vertices it keeps and how ARKit weights move them."""

    indices: np.ndarray              # [R] ICT face-vertex indices kept
    template: np.ndarray             # [R, 3] neutral positions, mm (+y up, facing +z)
    faces: np.ndarray                # [F, 3] triangles over 0..R-1
    basis: np.ndarray                # [52, 3R] ARKit weights -> offsets, mm
    lip_vertices: np.ndarray         # indices into 0..R-1 (LVE)
    upper_face_vertices: np.ndarray  # indices into 0..R-1 (FDD)
    cell_mm: float

    @property
    def vertex_count(self) -> int:
        return len(self.indices)

    def offsets(self, arkit_frames: np.ndarray) -> np.ndarray:
        """Offsets [frames, 3R] (mm, x y z per vertex) for ARKit weights [frames, 52]."""
        weights = np.asarray(arkit_frames, dtype=np.float32)
        if weights.ndim != 2 or weights.shape[1] != len(ARKIT_52):
            raise ValueError(f"ARKit weights of shape {weights.shape}, expected (frames, {len(ARKIT_52)})")
        return weights @ self.basis

    def positions(self, offsets: np.ndarray) -> np.ndarray:
        """Positions [frames, R, 3] (mm) for offsets [frames, 3R]."""
        offsets = np.asarray(offsets, dtype=np.float32)
        return self.template[None] + offsets.reshape(len(offsets), -1, 3)

    def channel_names(self):
        """The vertices-space channel names of docs/model.md: v0.x, v0.y, v0.z, v1.x, ..."""
        return [f"v{i}.{axis}" for i in range(self.vertex_count) for axis in "xyz"]


def cluster_vertices(positions: np.ndarray, cell: float) -> np.ndarray:
    """For each occupied cubic cell of size `cell`, the index of the vertex nearest the
    cell's centroid (sorted)."""
    keys = np.floor(positions / cell).astype(np.int64)
    _, cluster, counts = np.unique(keys, axis=0, return_inverse=True, return_counts=True)
    cluster = cluster.reshape(-1)
    centroids = np.zeros((len(counts), 3))
    np.add.at(centroids, cluster, positions)
    centroids /= counts[:, None]
    distance = np.linalg.norm(positions - centroids[cluster], axis=1)
    order = np.lexsort((np.arange(len(positions)), distance, cluster))  # by cluster, nearest first
    first = np.ones(len(order), dtype=bool)
    first[1:] = cluster[order[1:]] != cluster[order[:-1]]
    return np.sort(order[first])


def build(rig: Optional[ict_rig.ICTRig] = None, cell_mm: float = 5.0, lip_radius_mm: float = 7.0,
          upper_margin_mm: float = 8.0) -> VertexSpace:
    """The decimated ICT face (loads the rig from ../shared/data when `rig` is None)."""
    rig = rig if rig is not None else ict_rig.load()
    neutral_mm = rig.neutral.astype(np.float64) * MM_PER_RIG_UNIT
    keys = np.floor(neutral_mm / cell_mm).astype(np.int64)
    _, cluster = np.unique(keys, axis=0, return_inverse=True)
    cluster = cluster.reshape(-1)
    kept = cluster_vertices(neutral_mm, cell_mm)
    # Every vertex maps to its cell's kept vertex; triangles follow, collapsed ones go.
    representative = np.empty(cluster.max() + 1, dtype=np.int64)
    representative[cluster[kept]] = np.arange(len(kept))
    mapped = representative[cluster[rig.triangles]]
    distinct = (mapped[:, 0] != mapped[:, 1]) & (mapped[:, 1] != mapped[:, 2]) & (mapped[:, 0] != mapped[:, 2])
    faces = np.unique(np.sort(mapped[distinct], axis=1), axis=0, return_index=True)[1]
    faces = mapped[distinct][np.sort(faces)].astype(np.int32)

    matrix, _ = rig.arkit_matrix()                                     # [52, S]
    deltas = rig.deltas[:, kept].reshape(len(rig.names), -1)          # [S, 3R] cm
    basis = (matrix @ deltas * MM_PER_RIG_UNIT).astype(np.float32)    # [52, 3R] mm
    template = neutral_mm[kept].astype(np.float32)

    lips = neutral_mm[rig.landmarks[48:68]]
    nearest_lip = np.min(np.linalg.norm(template[:, None].astype(np.float64) - lips[None], axis=2), axis=1)
    lip_vertices = np.nonzero(nearest_lip <= lip_radius_mm)[0]
    eye_line = float(neutral_mm[rig.landmarks[36:48], 1].mean())
    upper_face_vertices = np.nonzero(template[:, 1] >= eye_line - upper_margin_mm)[0]
    return VertexSpace(indices=kept, template=template, faces=faces, basis=basis, lip_vertices=lip_vertices,
                       upper_face_vertices=upper_face_vertices, cell_mm=cell_mm)


def principal_basis(offsets: np.ndarray, components: Optional[int] = None,
                    energy: float = 0.9999) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Principal components of training offsets [frames, D]: (mean [D], basis [K, D] with
    orthonormal rows, explained variance [K]). K is `components`, else the fewest that keep
    `energy` of the variance. Offsets ~= mean + coefficients @ basis."""
    offsets = np.asarray(offsets, dtype=np.float64)
    if offsets.ndim != 2 or len(offsets) < 2:
        raise ValueError(f"offsets of shape {offsets.shape}: need (frames >= 2, dimensions)")
    mean = offsets.mean(axis=0)
    _, singular, rows = np.linalg.svd(offsets - mean, full_matrices=False)
    variance = singular ** 2 / (len(offsets) - 1)
    if components is None:
        share = np.cumsum(variance) / max(variance.sum(), 1e-30)
        components = int(np.searchsorted(share, energy) + 1)
    components = max(1, min(components, len(variance)))
    return mean.astype(np.float32), rows[:components].astype(np.float32), variance[:components]
