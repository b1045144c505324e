"""Looks at vertices-space models on the corpus's test split: for one test utterance, the
inner-lip aperture (upper to lower lip midpoints, mm) of the teacher's offsets and of
each model over time, and the face rendered at the teacher's widest opening.

    python training/scripts/plot_vertices.py CORPUS OUT.png MODEL.safetensors [MODEL...] [--utterance N]
"""
import argparse
import os
import sys
import types

import matplotlib
import numpy as np
import torch

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from kmtalk_train import export, ict_rig, ict_vertex_space, train  # noqa: E402
from kmtalk_train.model import default_config  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus")
    parser.add_argument("out")
    parser.add_argument("models", nargs="+")
    parser.add_argument("--utterance", type=int, default=0, help="index among the test utterances of >= 3 s")
    parser.add_argument("--cell-mm", type=float, default=5.0)
    args = parser.parse_args()
    data = train.load_corpus(args.corpus, default_config(), splits=("test",), log=lambda *_: None)
    items = [item for item in data["test"] if item.frames >= 150]
    item = items[args.utterance]
    rig = ict_rig.load()
    space = ict_vertex_space.build(rig, cell_mm=args.cell_mm)
    kept = rig.neutral[space.indices] * 10.0
    upper = int(np.argmin(np.linalg.norm(kept - rig.neutral[rig.landmarks[62]] * 10.0, axis=1)))
    lower = int(np.argmin(np.linalg.norm(kept - rig.neutral[rig.landmarks[66]] * 10.0, axis=1)))

    def aperture(positions):
        return np.linalg.norm(positions[:, upper] - positions[:, lower], axis=1)

    curves = {"teacher (target)": space.positions(space.offsets(item.motion))}
    for path in args.models:
        model, config, _ = export.load(path)
        with torch.no_grad():
            offsets = model.eval()(torch.from_numpy(item.mel))["motion"].numpy()
        name = os.path.splitext(os.path.basename(path))[0]
        curves[name + (" (key motions)" if config["cmc"]["use_keys"] else " (direct regression)")] = \
            model.motion_template[None] + offsets.reshape(len(offsets), -1, 3)
    fps = 50.0
    peak = int(np.argmax(aperture(curves["teacher (target)"])))
    figure = plt.figure(figsize=(4 * len(curves), 8))
    top = figure.add_subplot(2, 1, 1)
    for name, positions in curves.items():
        top.plot(np.arange(len(positions)) / fps, aperture(positions), label=name)
    top.axvline(peak / fps, color="gray", lw=0.5)
    top.set_xlabel("seconds")
    top.set_ylabel("inner-lip aperture (mm)")
    top.set_title(f"{item.id} (test split: voice and sentence never trained on)")
    top.legend()
    mesh = types.SimpleNamespace(triangles=space.faces)
    for k, (name, positions) in enumerate(curves.items()):
        axis = figure.add_subplot(2, len(curves), len(curves) + k + 1)
        frame = min(peak, len(positions) - 1)
        crop = (-55.0, 55.0, -85.0, 10.0)
        axis.imshow(ict_rig.render(mesh, positions[frame], size=320, crop=crop))
        axis.set_title(f"{name}\nframe {frame}: aperture {aperture(positions[frame:frame + 1])[0]:.1f} mm", fontsize=9)
        axis.axis("off")
    figure.tight_layout()
    figure.savefig(args.out, dpi=80)
    print(f"wrote {args.out}: {item.id}, {item.frames} frames, peak at {peak / fps:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
