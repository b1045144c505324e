"""KMTalk in the paper's own setting: vertex offsets on a template mesh, trained on the
generated corpus with the ICT-FaceKit face (ict_vertex_space) as the VOCASET-like target,
scored with LVE, FDD and MVE (vertex_metrics), key motions against direct regression.

    python -m kmtalk_train.vertex_train CORPUS --out OUT.safetensors [--no-keys]
        [--minutes M] [--steps S] [--cell-mm 5] [--components 40] [--report OUT.json]

How:

* **Targets.** The corpus's teacher (ARKit weights at the model's rate) drives the
  decimated ICT face: offsets = weights @ space.basis, in millimetres, [frames, 3R]. Their
  principal components (`ict_vertex_space.principal_basis`, fitted on training frames)
  give K coefficients; the network learns the coefficients divided by one global scale
  (`VertexTargets.scale`, so their size is like ARKit weights and the recipe's loss
  weights carry over). With orthonormal components the coefficient error is the vertex
  error (up to the fixed part outside the K components), so the loss is the vertex loss.
* **Training** is kmtalk_train.train's recipe (same network, key motions or not,
  position/velocity/key losses), without the losses that read ARKit channels (closure,
  labiodental, dynamic range).
* **Export** folds the components into the network's motion-sized layers (the CMC head,
  the key-motion decoder's output, the CMC's key projection, and the shallow and loudness
  heads when present): every one is linear in the motion, so the folded model outputs the
  offsets [frames, 3R] exactly. The file is a plain vertices-space model (docs/model.md:
  template, faces, channels v0.x ...), which the engine animates without anything new.
* **Scores** on the corpus's test split (voices and sentences never trained on): LVE as
  the papers compute it (mm^2) and in mm, FDD, MVE, with the teacher's own offsets as the
  capture and two reference points: the still template and the per-utterance mean pose.
"""
from __future__ import annotations

import argparse
import copy
import dataclasses
import json
import os
import random
import sys
import time
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch

from . import ict_vertex_space, vertex_metrics
from .model import KMTalkModel, default_config
from .train import Item, collate, load_corpus, train


@dataclass
class VertexTargets:
    """Offsets [frames, 3R] = mean + scale * coefficients @ basis."""

    space: ict_vertex_space.VertexSpace
    mean: np.ndarray    # [3R] mm
    basis: np.ndarray   # [K, 3R], orthonormal rows
    scale: float        # mm per coefficient unit

    @property
    def components(self) -> int:
        return len(self.basis)

    def coefficients(self, arkit: np.ndarray) -> np.ndarray:
        """Training targets [frames, K] for teacher ARKit weights [frames, 52]."""
        return ((self.space.offsets(arkit) - self.mean) @ self.basis.T / self.scale).astype(np.float32)

    def offsets(self, coefficients: np.ndarray) -> np.ndarray:
        """Offsets [frames, 3R] (mm) for coefficients [frames, K]."""
        return self.mean + self.scale * np.asarray(coefficients, dtype=np.float32) @ self.basis


def fit_targets(space: ict_vertex_space.VertexSpace, items: Sequence[Item], components: int = 40) -> VertexTargets:
    """Principal components of the training items' offsets. The offsets are linear in the
    teacher's 52 weights (offsets = W @ A), so their covariance is A^T cov(W) A = M^T M with
    M = L^T A and cov(W) = L L^T: its principal directions and variances come from the SVD
    of M [52, 3R], exactly and in a second, instead of an SVD of frames x 3R offsets."""
    weights = np.concatenate([item.motion for item in items]).astype(np.float64)
    if len(weights) < 2:
        raise ValueError("need at least two training frames")
    basis_arkit = space.basis.astype(np.float64)                      # A [52, 3R]
    covariance = np.cov(weights, rowvar=False)
    values, vectors = np.linalg.eigh(covariance)
    factor = vectors * np.sqrt(np.clip(values, 0.0, None))           # L, cov = L L^T
    _, singular, rows = np.linalg.svd(factor.T @ basis_arkit, full_matrices=False)
    components = max(1, min(components, len(singular)))
    mean = (weights.mean(axis=0) @ basis_arkit).astype(np.float32)
    basis = rows[:components].astype(np.float32)
    # One scale for all components: the first component's spread maps to about +-0.5.
    scale = float(4.0 * singular[0])
    return VertexTargets(space=space, mean=mean, basis=basis, scale=scale)


def convert(items: Sequence[Item], targets: VertexTargets) -> List[Item]:
    """The items with their ARKit teacher replaced by the coefficient targets."""
    return [dataclasses.replace(item, motion=targets.coefficients(item.motion), supervised=None) for item in items]


def training_config(base: dict, targets: VertexTargets, use_keys: bool = True) -> dict:
    """The network's config during training: K coefficient channels, no activation."""
    config = copy.deepcopy(base)
    config["motion"] = {"space": "rig", "channels": [f"pc{k}" for k in range(targets.components)],
                        "fps": base["motion"]["fps"], "activation": "identity"}
    config["cmc"]["use_keys"] = use_keys
    return config


def vertex_config(config: dict, targets: VertexTargets) -> dict:
    """The exported file's config: the same network with 3R vertex channels in mm."""
    folded = copy.deepcopy(config)
    folded["motion"] = {"space": "vertices", "channels": targets.space.channel_names(),
                        "fps": config["motion"]["fps"], "activation": "identity", "units": "mm"}
    return folded


def fold(model: KMTalkModel, config: dict, targets: VertexTargets) -> (KMTalkModel, dict):
    """A model whose motion is the offsets [frames, 3R] (mm): the components folded into
    every layer whose input or output is the motion. Exact: each such layer is linear."""
    folded_config = vertex_config(config, targets)
    folded = KMTalkModel(folded_config)
    state = {k: v.detach().clone().double() for k, v in model.state_dict().items()}
    basis = torch.from_numpy(targets.basis).double()          # [K, 3R]
    mean = torch.from_numpy(targets.mean).double()            # [3R]
    scale = targets.scale
    out_map = scale * basis.T                                 # coefficients -> offsets
    for prefix in ("cmc.head", "key_decoder.fc2"):
        if prefix + ".weight" in state:
            state[prefix + ".weight"] = out_map @ state[prefix + ".weight"]
            state[prefix + ".bias"] = out_map @ state[prefix + ".bias"] + mean
    for name in ("cmc.shallow.weight", "cmc.loudness_head.weight"):
        if name in state:
            state[name] = out_map @ state[name]
    if "cmc.key_proj.weight" in state:  # offsets -> coefficients -> width
        weight = state["cmc.key_proj.weight"]
        state["cmc.key_proj.weight"] = weight @ basis / scale
        state["cmc.key_proj.bias"] = state["cmc.key_proj.bias"] - weight @ (basis @ mean) / scale
    folded.load_state_dict({k: v.float() for k, v in state.items()})
    folded.eval()
    return folded, folded_config


def predict_offsets(model: KMTalkModel, config: dict, items: Sequence[Item], targets: Optional[VertexTargets],
                    batch_size: int = 8) -> List[np.ndarray]:
    """Per item, predicted offsets [frames, 3R] (mm): from coefficients through `targets`,
    or the model's own output when `targets` is None (a folded model)."""
    model.eval()
    results = []
    rng = random.Random(0)
    with torch.no_grad():
        for start in range(0, len(items), batch_size):
            # Targets are not used here: placeholders of the network's motion width.
            width = len(config["motion"]["channels"])
            chunk = [dataclasses.replace(item, motion=np.zeros((item.frames, width), np.float32))
                     for item in items[start:start + batch_size]]
            batch = collate(chunk, config, 1 << 30, rng)
            motion = model(batch.mel, lengths=batch.mel_lengths)["motion"].float().numpy()
            for i, item in enumerate(chunk):
                frames = min(item.frames, motion.shape[1])
                result = motion[i, :frames]
                results.append(targets.offsets(result) if targets is not None else result)
    return results


def score(predicted: Sequence[np.ndarray], items: Sequence[Item], space: ict_vertex_space.VertexSpace
          ) -> Dict[str, dict]:
    """LVE/FDD/MVE of the predictions and of the two still references against the
    teacher's offsets (items' motion: ARKit weights)."""
    template = space.template
    captured = [space.positions(space.offsets(item.motion)) for item in items]
    rows = {}
    candidates = {
        "model": [space.positions(p) for p in predicted],
        "template (still)": [np.repeat(template[None], len(c), axis=0) for c in captured],
        "mean pose (still)": [np.repeat(c.mean(axis=0, keepdims=True), len(c), axis=0) for c in captured],
    }
    for name, positions in candidates.items():
        triples = [(p[:len(c)], c[:len(p)], template) for p, c in zip(positions, captured)]
        rows[name] = vertex_metrics.evaluate_sequences(triples, space.lip_vertices, space.upper_face_vertices).as_dict()
    return rows


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kmtalk_train.vertex_train", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", help="corpus directory (kmtalk_train.corpus)")
    parser.add_argument("--out", required=True, help="output .safetensors (a vertices-space model)")
    parser.add_argument("--no-keys", action="store_true", help="direct regression (cmc.use_keys = false)")
    parser.add_argument("--minutes", type=float, default=None)
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--cell-mm", type=float, default=5.0, help="decimation cell (5 mm: 3,390 vertices)")
    parser.add_argument("--components", type=int, default=40)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--size", choices=["default", "tiny"], default="default")
    parser.add_argument("--val-every", type=int, default=500)
    parser.add_argument("--test-limit", type=int, default=300, help="test utterances scored")
    parser.add_argument("--limit", type=int, default=None, help="utterances loaded per split (debugging)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--report", help="write the scores as JSON here (default OUT.json)")
    parser.add_argument("--dtype", choices=["F32", "F16"], default="F16", help="stored weights (the head is 3R x width)")
    args = parser.parse_args(argv)
    if args.minutes is None and args.steps is None:
        parser.error("give --minutes or --steps")
    torch.set_num_threads(1)
    started = time.time()

    from .model import tiny_config
    base = tiny_config() if args.size == "tiny" else default_config()
    data = load_corpus(args.corpus, base, splits=("train", "validation", "test"), limit=args.limit)
    space = ict_vertex_space.build(cell_mm=args.cell_mm)
    targets = fit_targets(space, data["train"], components=args.components)
    print(f"vertex space: {space.vertex_count} vertices, {len(space.faces)} triangles, lips {len(space.lip_vertices)}, "
          f"upper face {len(space.upper_face_vertices)}; {targets.components} components, scale {targets.scale:.2f} mm")
    config = training_config(base, targets, use_keys=not args.no_keys)
    converted = {split: convert(items, targets) for split, items in data.items()}
    weights = {"closure": 0.0, "labiodental": 0.0, "range": 0.0, "range_log": 0.0, "correlation": 0.0}
    summary = train(args.corpus, None, minutes=args.minutes, steps=args.steps, config=config, seed=args.seed,
                    batch_size=args.batch_size, lr=args.lr, val_every=args.val_every, data=converted,
                    loss_weights=weights)
    model = summary["model"].cpu()

    test = data["test"][:args.test_limit]
    folded, folded_config = fold(model, config, targets)
    coefficient_offsets = predict_offsets(model, config, converted["test"][:args.test_limit], targets)
    folded_offsets = predict_offsets(folded, folded_config, test, None)
    fold_error = max(float(np.abs(a - b).max()) for a, b in zip(coefficient_offsets, folded_offsets))
    scores = score(folded_offsets, test, space)
    from .export import export
    meta = {"description": "KMTalk in vertex space: decimated ICT-FaceKit face, offsets in mm "
                           "(training/kmtalk_train/vertex_train.py)",
            "generator": "training/kmtalk_train/vertex_train.py",
            "corpus": os.path.basename(os.path.normpath(args.corpus)), "steps": str(summary["steps"]),
            "components": str(targets.components), "cell_mm": str(args.cell_mm),
            "test_scores": json.dumps({k: {m: (round(v, 6) if isinstance(v, float) else v) for m, v in row.items()}
                                       for k, row in scores.items()}),
            "license": "CC-BY-SA-4.0 (corpus) with ICT-FaceKit geometry (MIT)"}
    export(folded, folded_config, args.out, meta, dtype=args.dtype, template=space.template, faces=space.faces)
    report = {"model": args.out, "use_keys": not args.no_keys, "steps": summary["steps"],
              "train_seconds": summary["seconds"], "parameters_training": model.parameter_count(),
              "parameters_exported": folded.parameter_count(), "file_bytes": os.path.getsize(args.out),
              "vertices": space.vertex_count, "components": targets.components, "scale_mm": targets.scale,
              "fold_max_abs_mm": fold_error, "test_utterances": len(test), "scores": scores,
              "seconds": round(time.time() - started, 1)}
    path = args.report or os.path.splitext(args.out)[0] + ".json"
    with open(path, "w", encoding="utf-8") as f:
        json.dump(report, f, indent=1)
    print(json.dumps({k: v for k, v in report.items() if k != "scores"}))
    for name, row in scores.items():
        print(f"  {name:18s} LVE {row['lve']:.4f} mm^2 ({row['lve_distance']:.3f} mm)  FDD {row['fdd']:.2e} mm^2  "
              f"MVE {row['mve']:.3f} mm")
    return 0


if __name__ == "__main__":
    sys.exit(main())
