"""Scores exported models on a corpus split, per language: the training metrics (phone and
articulatory-feature frame accuracy, boundary F1 within 20 ms, motion error overall and per
channel group (jaw, lips, rest: metrics.GROUPS), velocity error) plus lip-sync checks on the
predicted motion (bilabials closed, rounded vowels rounded, long pauses at rest). Rows:
`all`, each language, and `recorded`: the real recorded prompts of the split (Asterisk's
English prompts, aligned by PocketSphinx; their sentences are held out like the rest).

    cd training && ../.venv-torch/bin/python -m kmtalk_train.evaluate CORPUS MODEL [MODEL ...]
        [--split test] [--teacher calibrated] [--markdown ../docs/results.md]

`--teacher calibrated` scores against targets recomputed by the teacher fitted to real
capture (`teacher.calibrated_params`, as `pack --teacher calibrated` trains on) instead of
the corpus's stored hand-set teacher frames: a model trained on one teacher is measured
against the other's curves otherwise.
"""
from __future__ import annotations

import argparse
import json
import sys
from typing import Dict, List, Optional

import numpy as np
import torch

from . import metrics, phones
from .metrics import segments_from_labels
from .export import load
from .corpus import load_manifest
from .train import evaluate as training_metrics, load_corpus


def load_items(corpus: str, config: dict, split: str, limit=None, teacher_params: Optional[dict] = None, log=print):
    """The split's items; with `teacher_params`, targets recomputed by that teacher."""
    items = load_corpus(corpus, config, splits=(split,), limit=limit, log=log)[split]
    if teacher_params is not None:
        from .pack import retaught
        rows = {row["id"]: row for row in load_manifest(corpus)}
        fps = float(config["motion"]["fps"])
        items = [retaught(corpus, rows[item.id], item, teacher_params, fps) for item in items]
    return items


def score(model_path: str, corpus: str, split: str, limit=None, log=print, items=None) -> Dict[str, Dict[str, float]]:
    """Metrics per language row; `items` (from load_items) saves reloading the corpus."""
    model, config, _ = load(model_path)
    model.eval()
    fps = float(config["motion"]["fps"])
    if items is None:
        items = load_items(corpus, config, split, limit, log=log)
    by_language: Dict[str, list] = {}
    for item in items:
        by_language.setdefault(item.language, []).append(item)
    recorded = [item for item in items if item.engine == "human"]
    if recorded:
        # Real recorded prompts (Asterisk, English, PocketSphinx-aligned; sentences of this split).
        by_language["recorded"] = recorded
    by_language["all"] = items
    results = {}
    for language, group in sorted(by_language.items(), key=lambda kv: (kv[0] != "all", kv[0] == "recorded", kv[0])):
        result = training_metrics(model, group, config, torch.device("cpu"))
        checks = {"bilabial_closed_pct": [], "rounded_vowel_pct": [], "pause_rest_pct": []}
        counts = {"bilabials": 0, "rounded_vowels": 0, "pauses": 0}
        group_abs = {name: 0.0 for name in metrics.GROUPS}
        feature_hits = feature_count = frames = 0
        with torch.no_grad():
            for item in group:
                out = model(torch.from_numpy(item.mel))
                motion = out["motion"].numpy()
                n = min(len(motion), item.frames)
                errors = metrics.motion_errors(motion[:n], item.motion[:n])
                for name in metrics.GROUPS:
                    group_abs[name] += errors[f"mae_{name}"] * n
                frames += n
                if "feature_prob" in out and item.features is not None:
                    agree = (out["feature_prob"].numpy()[:n] >= 0.5) == (item.features[:n] >= 0.5)
                    feature_hits += int(agree.sum())
                    feature_count += agree.size
                c = metrics.lip_sync_checks(motion, fps, segments_from_labels(item.labels, fps), phones.features)
                for key, n_key in (("bilabial_closed_pct", "bilabials"), ("rounded_vowel_pct", "rounded_vowels"),
                                   ("pause_rest_pct", "pauses")):
                    if c[n_key]:
                        checks[key].append(c[key] * c[n_key] / 100)
                        counts[n_key] += c[n_key]
        for key, n_key in (("bilabial_closed_pct", "bilabials"), ("rounded_vowel_pct", "rounded_vowels"),
                           ("pause_rest_pct", "pauses")):
            result[key] = 100 * sum(checks[key]) / counts[n_key] if counts[n_key] else float("nan")
        for name in metrics.GROUPS:
            result[f"mae_{name}"] = group_abs[name] / max(frames, 1)
        result["feature_accuracy"] = feature_hits / feature_count if feature_count else float("nan")
        result["utterances"] = len(group)
        result["hours"] = sum(i.frames for i in group) / fps / 3600
        results[language] = result
    return results


COLUMNS = [("utterances", "{:.0f}"), ("hours", "{:.2f}"), ("phone_accuracy", "{:.3f}"), ("feature_accuracy", "{:.3f}"),
           ("boundary_f1", "{:.3f}"), ("motion_mae", "{:.4f}"), ("mae_jaw", "{:.4f}"), ("mae_lips", "{:.4f}"),
           ("mae_rest", "{:.4f}"), ("velocity_mae", "{:.5f}"), ("bilabial_closed_pct", "{:.1f}"),
           ("rounded_vowel_pct", "{:.1f}"), ("pause_rest_pct", "{:.1f}")]


def markdown(name: str, results: Dict[str, Dict[str, float]]) -> str:
    lines = [f"### {name}", "", "| language | " + " | ".join(c for c, _ in COLUMNS) + " |",
             "|---" * (len(COLUMNS) + 1) + "|"]
    for language, r in results.items():
        cells = [fmt.format(r[c]) if c in r and r[c] == r[c] else "-" for c, fmt in COLUMNS]
        lines.append(f"| {language} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kmtalk_train.evaluate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus")
    parser.add_argument("models", nargs="+")
    parser.add_argument("--split", default="test")
    parser.add_argument("--markdown", help="append result tables to this file")
    parser.add_argument("--limit", type=int, help="score only the first N utterances of the split")
    parser.add_argument("--teacher", choices=("stored", "calibrated"), default="stored",
                        help="targets: the corpus's stored teacher frames, or the calibrated teacher's")
    args = parser.parse_args(argv)
    torch.set_grad_enabled(False)
    from . import teacher
    params = teacher.calibrated_params() if args.teacher == "calibrated" else None
    cache: Dict[str, list] = {}  # items per (front-end, motion) config: models that share one share the items
    for path in args.models:
        config = load(path)[1]
        key = json.dumps([config["frontend"], config["motion"], config.get("lkma", {}).get("phones")], sort_keys=True)
        if key not in cache:
            cache[key] = load_items(args.corpus, config, args.split, args.limit, params)
        results = score(path, args.corpus, args.split, args.limit, items=cache[key])
        print(json.dumps({path: results}, indent=1))
        if args.markdown:
            with open(args.markdown, "a") as f:
                f.write(markdown(f"{path} on the {args.split} split ({args.teacher} teacher)", results) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
