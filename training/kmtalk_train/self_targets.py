"""Teacher targets on the capture takes' own audio: the calibrated teacher driven by the
phones a model recognises there (`real_bench.teacher_from_model`), one curve per take.

    cd training && ../.venv-torch/bin/python -m kmtalk_train.self_targets ../../shared/data/facegood \\
        --model FOLD_MODEL.safetensors --out targets.npz

`train --capture-teacher targets.npz --capture-channels jawOpen` then supervises the
capture's jaw by the capture and its other measured channels by these curves: self-training
on the real speech of the capture, for channels where the capture of one session does not
carry to another (docs/results.md). Use a model that never saw the held-out take.
"""
from __future__ import annotations

import argparse
from typing import Dict, Optional

import numpy as np

from . import capture, facegood_eval, real_bench, teacher


def take_targets(directory: str, model_path: str, teacher_params: Optional[str] = None,
                 log=print) -> Dict[str, np.ndarray]:
    """{take name: teacher motion [T, 52] at the model's native rate} for every FACEGOOD take;
    `teacher_params`: a JSON for `real_bench.read_teacher_params` (default: the committed
    calibration, `teacher.calibrated_params()`)."""
    loaded = real_bench.load_models([model_path])[0]
    params = real_bench.read_teacher_params(teacher_params) if teacher_params else teacher.calibrated_params()
    rig = capture.load_facegood(directory)
    out: Dict[str, np.ndarray] = {}
    for take, raw in zip(facegood_eval.prepare(rig, loaded.config), rig):
        curve = real_bench.teacher_from_model(loaded.model, loaded.config, raw.samples, raw.sample_rate, params)
        out[take.name] = curve.astype(np.float32)
        log(f"  {take.name}: {len(curve)} frames (capture {len(take.item.motion)})")
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kmtalk_train.self_targets", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("facegood", help="directory with the FACEGOOD takes")
    parser.add_argument("--model", required=True, help="model whose phone head drives the teacher")
    parser.add_argument("--teacher-params", default=None,
                        help="teacher_fit JSON (default: the committed kmtalk_train/teacher_calibrated.json)")
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    targets = take_targets(args.facegood, args.model, args.teacher_params)
    np.savez_compressed(args.out, **targets)
    print(f"wrote {args.out}: {len(targets)} takes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
