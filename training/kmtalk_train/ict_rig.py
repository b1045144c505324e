"""The ICT-FaceKit head rig (../shared/data/ict-facekit) driven by ARKit weights: loading
(neutral mesh + 53 expression OBJs -> blendshape deltas, cached as .npz), ARKit -> ICT
channel mapping, lip measurements on the mesh, and a small software renderer for
looking at teacher or model output.

The rig is third-party data: it is read from ../shared/data and never copied into the
repository (the cache lives under ~/.cache/kmtalk).
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

import numpy as np

from .arkit import ARKIT_52

DEFAULT_DIRECTORY = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                 "..", "shared", "data", "ict-facekit")
CACHE_DIRECTORY = os.path.join(os.path.expanduser("~"), ".cache", "kmtalk")
FACE_VERTEX_COUNT = 9409  # vertices 0..9408 are the face region


def ict_name(arkit: str) -> List[str]:
    """ICT shape names fed by one ARKit channel: `mouthSmileLeft` -> [`mouthSmile_L`],
    `browInnerUp` -> both halves, `jawOpen` -> itself."""
    if arkit in ("browInnerUp", "cheekPuff"):
        return [arkit + "_L", arkit + "_R"]
    for side, suffix in (("Left", "_L"), ("Right", "_R")):
        if arkit.endswith(side) and arkit not in ("jawLeft", "jawRight", "mouthLeft", "mouthRight"):
            return [arkit[: -len(side)] + suffix]
    return [arkit]


def _read_obj(path: str) -> Tuple[np.ndarray, Optional[np.ndarray]]:
    vertices, faces = [], []
    with open(path) as f:
        for line in f:
            if line.startswith("v "):
                vertices.append(line.split()[1:4])
            elif line.startswith("f "):
                faces.append([int(token.split("/")[0]) - 1 for token in line.split()[1:]])
    return np.asarray(vertices, dtype=np.float32), faces


@dataclass
class ICTRig:
    neutral: np.ndarray            # [V, 3]
    triangles: np.ndarray          # [F, 3] (quads split)
    names: List[str]               # ICT shape names
    deltas: np.ndarray             # [S, V, 3]
    landmarks: np.ndarray          # 68 landmark vertex indices (dlib order; 48..67 lips)

    def arkit_matrix(self) -> Tuple[np.ndarray, List[str]]:
        """[52, S] matrix feeding ICT shapes from ARKit weights, and unmatched ARKit names."""
        index = {n: i for i, n in enumerate(self.names)}
        matrix = np.zeros((len(ARKIT_52), len(self.names)), dtype=np.float32)
        unmatched = []
        for a, name in enumerate(ARKIT_52):
            targets = [index[n] for n in ict_name(name) if n in index]
            if not targets:
                unmatched.append(name)
            for t in targets:
                matrix[a, t] = 1.0
        return matrix, unmatched

    def vertices(self, arkit_frames: np.ndarray) -> np.ndarray:
        """Absolute vertex positions [frames, V, 3] for ARKit weights [frames, 52]."""
        matrix, _ = self.arkit_matrix()
        shape_weights = np.asarray(arkit_frames, dtype=np.float32) @ matrix  # [frames, S]
        flat = self.deltas.reshape(len(self.names), -1)
        return self.neutral[None] + (shape_weights @ flat).reshape(len(arkit_frames), -1, 3)

    def lip_metrics(self, vertices: np.ndarray) -> Dict[str, np.ndarray]:
        """Per frame: inner-lip aperture (landmark 62 to 66) and mouth width (48 to 54), in
        the rig's units (centimetres)."""
        lm = self.landmarks
        aperture = np.linalg.norm(vertices[:, lm[62]] - vertices[:, lm[66]], axis=-1)
        width = np.linalg.norm(vertices[:, lm[48]] - vertices[:, lm[54]], axis=-1)
        return {"aperture": aperture, "width": width}


def load(directory: str = DEFAULT_DIRECTORY, face_only: bool = True) -> ICTRig:
    """Loads the ICT rig (cached after the first call). `face_only` keeps the face region."""
    directory = os.path.abspath(directory)
    if not os.path.isfile(os.path.join(directory, "generic_neutral_mesh.obj")):
        raise FileNotFoundError(f"ICT-FaceKit not found at {directory}")
    os.makedirs(CACHE_DIRECTORY, exist_ok=True)
    cache = os.path.join(CACHE_DIRECTORY, f"ict-rig-{'face' if face_only else 'full'}.npz")
    if os.path.exists(cache):
        data = np.load(cache, allow_pickle=False)
        return ICTRig(data["neutral"], data["triangles"], list(data["names"]), data["deltas"], data["landmarks"])
    info = json.load(open(os.path.join(directory, "vertex_indices.json")))
    neutral, faces = _read_obj(os.path.join(directory, "generic_neutral_mesh.obj"))
    names = [n for n in info["expressions"]]
    deltas = np.stack([_read_obj(os.path.join(directory, n + ".obj"))[0] - neutral for n in names])
    triangles = []
    for face in faces:
        for k in range(1, len(face) - 1):
            triangles.append((face[0], face[k], face[k + 1]))
    triangles = np.asarray(triangles, dtype=np.int32)
    landmarks = np.asarray(info["idx_to_landmark_verts"], dtype=np.int32)
    if face_only:
        keep = np.all(triangles < FACE_VERTEX_COUNT, axis=1)
        triangles = triangles[keep]
        neutral = neutral[:FACE_VERTEX_COUNT]
        deltas = deltas[:, :FACE_VERTEX_COUNT]
    np.savez(cache, neutral=neutral, triangles=triangles, names=np.asarray(names), deltas=deltas, landmarks=landmarks)
    return ICTRig(neutral, triangles, names, deltas, landmarks)


def render(rig: ICTRig, vertices: np.ndarray, size: int = 384, crop: Optional[Tuple[float, float, float, float]] = None,
           light=(0.3, 0.4, 1.0)) -> np.ndarray:
    """Front view (looking down -z) of one frame's vertices [V, 3] with Lambert shading and
    a z-buffer; returns an RGB uint8 image [size, size, 3]. `crop` = (x0, x1, y0, y1) in
    rig units, default: the face's bounding box."""
    tri = rig.triangles
    v = vertices
    if crop is None:
        lo, hi = v.min(axis=0), v.max(axis=0)
        crop = (lo[0], hi[0], lo[1], hi[1])
    x0, x1, y0, y1 = crop
    scale = (size - 1) / max(x1 - x0, y1 - y0)
    px = (v[:, 0] - x0) * scale
    py = (y1 - v[:, 1]) * scale
    a, b, c = v[tri[:, 0]], v[tri[:, 1]], v[tri[:, 2]]
    normals = np.cross(b - a, c - a)
    normals /= np.linalg.norm(normals, axis=1, keepdims=True) + 1e-12
    light = np.asarray(light) / np.linalg.norm(light)
    shade = np.clip(normals @ light, 0, 1) * 0.8 + 0.2
    facing = normals[:, 2] > 0
    depth = np.full((size, size), -np.inf)
    image = np.full((size, size, 3), 30, dtype=np.float64)
    colour = np.array([225, 190, 170], dtype=np.float64)
    for t in np.nonzero(facing)[0]:
        i0, i1, i2 = tri[t]
        xs = np.array([px[i0], px[i1], px[i2]])
        ys = np.array([py[i0], py[i1], py[i2]])
        xmin, xmax = max(int(np.floor(xs.min())), 0), min(int(np.ceil(xs.max())), size - 1)
        ymin, ymax = max(int(np.floor(ys.min())), 0), min(int(np.ceil(ys.max())), size - 1)
        if xmin > xmax or ymin > ymax:
            continue
        gx, gy = np.meshgrid(np.arange(xmin, xmax + 1), np.arange(ymin, ymax + 1))
        det = (ys[1] - ys[2]) * (xs[0] - xs[2]) + (xs[2] - xs[1]) * (ys[0] - ys[2])
        if abs(det) < 1e-12:
            continue
        l0 = ((ys[1] - ys[2]) * (gx - xs[2]) + (xs[2] - xs[1]) * (gy - ys[2])) / det
        l1 = ((ys[2] - ys[0]) * (gx - xs[2]) + (xs[0] - xs[2]) * (gy - ys[2])) / det
        l2 = 1 - l0 - l1
        inside = (l0 >= -1e-6) & (l1 >= -1e-6) & (l2 >= -1e-6)
        if not inside.any():
            continue
        z = l0 * v[i0, 2] + l1 * v[i1, 2] + l2 * v[i2, 2]
        region = depth[ymin:ymax + 1, xmin:xmax + 1]
        closer = inside & (z > region)
        region[closer] = z[closer]
        image[ymin:ymax + 1, xmin:xmax + 1][closer] = colour * shade[t]
    return image.astype(np.uint8)
