#!/usr/bin/env python3
"""Does the audio's loudness still carry jaw motion that a model misses? Blends a model's
jawOpen with a loudness-driven jaw and scores both, zero-shot, on FACEGOOD takes (each take
scored with its fold model, the loudness map fitted on the other takes) and, against the
teacher on the true alignment, on the corpus's recorded English prompts.

The loudness jaw is gain-invariant: log10 RMS (40 ms) minus its 95th percentile over the
utterance, mapped to jawOpen by a least-squares line (`real_bench.fit_energy`) and clipped
to 0..1; the blend is (1 - w) * model + w * loudness, in jaw units.

    cd training && ../.venv-torch/bin/python scripts/energy_blend.py --facegood ../../shared/data/facegood \\
        --fold-model 1114_2_01=/tmp/folds/keys0-1114_2_01.safetensors ... \\
        --model ../models/kmtalk-base.safetensors --corpus /tmp/corpus
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from kmtalk_train import capture, facegood_eval  # noqa: E402
from kmtalk_train import real_bench as rb  # noqa: E402
from kmtalk_train.export import load  # noqa: E402

WEIGHTS = (0.0, 0.3, 0.5, 1.0)


def relative_energy(samples: np.ndarray, rate: int, fps: float, count: int) -> np.ndarray:
    e = rb.log_energy(samples, rate, fps, count)
    return e - np.percentile(e, 95)


def loudness_jaw(rel: np.ndarray, fit: rb.EnergyFit) -> np.ndarray:
    return np.clip(fit.slope * rel + fit.intercept, 0.0, 1.0)


def row(label: str, predicted: np.ndarray, energy: np.ndarray, reference: np.ndarray) -> str:
    n = min(len(predicted), len(energy), len(reference))
    p, e, y = predicted[:n], energy[:n], reference[:n]
    cells = []
    for w in WEIGHTS:
        blend = (1 - w) * p + w * e
        cells.append(f"{rb.pearson(blend, y):.3f} / {blend.std() / max(y.std(), 1e-9):.2f}")
    return f"| {label} | " + " | ".join(cells) + " |"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--facegood", required=True)
    parser.add_argument("--fold-model", action="append", default=[], metavar="TAKE=PATH")
    parser.add_argument("--model", help="model for the English prompts (needs --corpus)")
    parser.add_argument("--corpus")
    parser.add_argument("--teacher-params", default=os.path.join("kmtalk_train", "teacher_calibrated.json"))
    args = parser.parse_args(argv)
    folds = dict(pair.split("=", 1) for pair in args.fold_model)
    config = load(next(iter(folds.values())) if folds else args.model)[1]
    fps = float(config["motion"]["fps"])
    rig = capture.load_facegood(args.facegood)
    prepared = facegood_eval.prepare(rig, config)
    rel = [relative_energy(r.samples, r.sample_rate, fps, len(t.item.motion)) for t, r in zip(prepared, rig)]
    jaws = [t.item.motion[:, rb.JAW] for t in prepared]
    header = "| " + " | ".join(["predictor"] + [f"w = {w:g}: jaw r / DR" for w in WEIGHTS]) + " |"
    print(header + "\n" + "|---" * (len(WEIGHTS) + 1) + "|")
    for k, take in enumerate(prepared):
        if take.name not in folds:
            continue
        model = load(folds[take.name])[0]
        fit = rb.fit_energy([e for j, e in enumerate(rel) if j != k], [y for j, y in enumerate(jaws) if j != k])
        predicted = rb.model_motion(model, take.item.mel)[:, rb.JAW]
        print(row(f"FACEGOOD {take.name} (fold model, vs capture)", predicted, loudness_jaw(rel[k], fit), jaws[k]))
    if args.corpus and args.model:
        from kmtalk_train.corpus import load_manifest, read_segments
        from kmtalk_train.train import read_wav
        model = load(args.model)[0]
        fit = rb.fit_energy(rel, jaws)
        params = rb.read_teacher_params(args.teacher_params)
        rows = [r for r in load_manifest(args.corpus) if r["engine"] == "human" and r["language"] == "en"
                and r["split"] in rb.CORPUS_SPLITS and r.get("phones")]
        ours, energy, teacher = [], [], []
        for r in rows:
            samples, rate = read_wav(os.path.join(args.corpus, r["audio"]))
            segments = read_segments(os.path.join(args.corpus, r["phones"]))
            mel = rb.log_mel(config, samples)
            count = rb.native_count(config, mel)
            p = rb.model_motion(model, mel)[:count, rb.JAW]
            t = rb.teacher_motion(segments, samples, rate, count, fps, params)[:count, rb.JAW]
            e = loudness_jaw(relative_energy(samples, rate, fps, count), fit)
            n = min(len(p), len(t), len(e))
            ours.append(p[:n]), teacher.append(t[:n]), energy.append(e[:n])
        print(row(f"English prompts ({len(rows)}), vs the teacher on the true alignment",
                  np.concatenate(ours), np.concatenate(energy), np.concatenate(teacher)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
