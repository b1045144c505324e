#!/usr/bin/env python3
"""How the engine's 2D mouth cues (Rhubarb shapes, `--format cues-tsv`) match the true
phones of held-out speech: for every bilabial (m b p), labiodental (f v), lateral (l),
rounded (u w), mid rounded (ɔ ɚ ɜ) and open vowel phone of a corpus split and every pause
of 250 ms or more, the cue shown at the segment's centre. The ideal is Rhubarb's: A for
bilabials, G for labiodentals, H for laterals, F (puckered: UW, OW, W) for rounded phones,
E (slightly rounded: AO, ER) for mid rounded vowels, C/D for open vowels and X in pauses;
the score is the mean over the seven classes of the share shown the ideal.

    cd training && KMTALK_LIBRARY=../.build/release/libKMTalk.so ../.venv-test/bin/python \\
        scripts/cue_quality.py /tmp/corpus-full ../models/kmtalk-base.safetensors [--language en] [--every 4]

`--fit OUT.safetensors` fits the model's cue thresholds (`config.cues`, docs/model.md) to
the `--fit-split` (default validation) by coordinate search over each threshold, writes a
copy of the model carrying them to OUT (the tensors untouched), and scores the model before
and after on `--split`. The thresholds a model should carry depend on the range of its
output: a model with a wider jaw needs other numbers than the standard ones (fit on
kmtalk-base v1).

Needs numpy and the built library (Python bindings); no PyTorch.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), "bindings", "python"))
import kmtalk  # noqa: E402
from kmtalk_ref import safetensors_io  # noqa: E402
from kmtalk_train.corpus import read_segments  # noqa: E402

CLASSES = {"m": "bilabial", "b": "bilabial", "p": "bilabial", "f": "labiodental", "v": "labiodental",
           "l": "lateral", "u": "rounded", "w": "rounded",
           "a": "open vowel", "æ": "open vowel", "ɑ": "open vowel", "ʌ": "open vowel", "ɒ": "open vowel",
           "ɐ": "open vowel", "aɪ": "open vowel", "aʊ": "open vowel", "ɔ": "mid rounded", "ɚ": "mid rounded",
           "ɜ": "mid rounded"}
PAUSE, PAUSE_MIN_SECONDS = "_", 0.25
IDEAL = {"bilabial": "A", "labiodental": "G", "lateral": "H", "rounded": "F", "mid rounded": "E", "open vowel": "C/D",
         "pause": "X"}

# MouthCueThresholds.standard (Sources/KMTalkEngine/Motion/MouthCueThresholds.swift; a test
# in training/tests keeps the two equal), by config.cues key.
STANDARD = {"rest_max": 0.1, "closed_aperture": 0.05, "contact_min": 0.1, "rolled_min": 0.2, "tuck_margin": 0.1,
            "tongue_min": 0.2, "pucker_min": 0.35, "pucker_jaw_ratio": 0.75, "rounded_min": 0.22,
            "wide_open_min": 0.4, "open_min": 0.2, "parted_min": 0.1}
# The thresholds the fit moves (tongue_min: no kmtalk model drives tongueOut) and the
# factors it tries on each, per pass.
FITTED = ("rest_max", "closed_aperture", "contact_min", "rolled_min", "tuck_margin", "pucker_min", "pucker_jaw_ratio",
          "rounded_min", "wide_open_min", "open_min", "parted_min")
FACTORS = (0.5, 0.7, 0.85, 1.2, 1.5, 2.0)


def utterances(corpus: str, split: str, language: str, every: int) -> list:
    with open(os.path.join(corpus, "manifest.jsonl")) as f:
        rows = [json.loads(line) for line in f]
    return [r for r in rows if r["split"] == split and r.get("phones") and r["language"] == language][::every]


def targets(corpus: str, rows: list) -> list:
    """(audio path, [(centre seconds, class)]) per utterance."""
    out = []
    for row in rows:
        marks = []
        for segment in read_segments(os.path.join(corpus, row["phones"])):
            if segment.phone == PAUSE:
                kind = "pause" if segment.end - segment.start >= PAUSE_MIN_SECONDS else None
            else:
                kind = CLASSES.get(segment.phone)
            if kind is not None:
                marks.append(((segment.start + segment.end) / 2, kind))
        out.append((os.path.join(corpus, row["audio"]), marks))
    return out


def measure(model_path: str, items: list) -> dict:
    """{class: {shape: count}}: the cue shown at each target's centre."""
    counts: dict = {}
    with kmtalk.Model(model_path) as model, kmtalk.Session(model, threads=1) as session:
        for audio, marks in items:
            animation = session.animate_file(audio)
            cues = [(float(t), shape) for t, shape in
                    (line.split("\t") for line in animation.to_bytes("cues-tsv").decode().splitlines())]
            for centre, kind in marks:
                shown = "X"
                for start, shape in cues:
                    if start <= centre:
                        shown = shape
                counts.setdefault(kind, {}).setdefault(shown, 0)
                counts[kind][shown] += 1
    return counts


def ideal_share(counts: dict, kind: str) -> float:
    shown = counts.get(kind, {})
    total = sum(shown.values())
    return sum(n for s, n in shown.items() if s in IDEAL[kind].split("/")) / total if total else float("nan")


def score(counts: dict) -> float:
    """Mean over the classes present of the share shown the ideal shape."""
    shares = [ideal_share(counts, kind) for kind in IDEAL if counts.get(kind)]
    return sum(shares) / len(shares) if shares else float("nan")


def table(counts: dict) -> str:
    lines = ["| phones | count | ideal | ideal shown | cues shown |", "|---|---|---|---|---|"]
    for kind in IDEAL:
        shown = counts.get(kind)
        if not shown:
            continue
        total = sum(shown.values())
        spread = ", ".join(f"{s} {100 * n / total:.0f}%" for s, n in sorted(shown.items(), key=lambda kv: -kv[1]))
        lines.append(f"| {kind} | {total} | {IDEAL[kind]} | {100 * ideal_share(counts, kind):.1f} % | {spread} |")
    lines.append(f"| **mean** | | | **{100 * score(counts):.1f} %** | |")
    return "\n".join(lines)


def model_cues(path: str) -> dict:
    """The thresholds a model file uses: its config.cues over STANDARD."""
    _, metadata = safetensors_io.load(path)
    return {**STANDARD, **json.loads(metadata["config"]).get("cues", {})}


def with_cues(source: str, destination: str, cues: dict) -> None:
    """Copies model `source` to `destination` with config.cues = `cues`."""
    def update(metadata: dict) -> dict:
        config = json.loads(metadata["config"])
        config["cues"] = {k: round(float(v), 4) for k, v in cues.items()}
        metadata["config"] = json.dumps(config, separators=(",", ":"), ensure_ascii=False)
        return metadata
    safetensors_io.rewrite_metadata(source, destination, update)


def valid(cues: dict) -> bool:
    """The ordering the engine requires (MouthCueThresholds)."""
    return all(0 <= v <= 4 for v in cues.values()) and cues["parted_min"] <= cues["open_min"] <= cues["wide_open_min"]


def fit(model_path: str, items: list, passes: int = 2, log=print) -> tuple:
    """Coordinate search: each threshold in turn tries every factor of FACTORS on its
    current value and keeps the best score; `passes` rounds. Returns (cues, score)."""
    best = model_cues(model_path)
    with tempfile.TemporaryDirectory() as scratch:
        trial_path = os.path.join(scratch, "trial.safetensors")

        def evaluate(cues: dict) -> float:
            with_cues(model_path, trial_path, cues)
            return score(measure(trial_path, items))

        best_score = evaluate(best)
        log(f"start: {100 * best_score:.2f} %")
        for round_index in range(passes):
            improved = False
            for key in FITTED:
                for factor in FACTORS:
                    trial = dict(best, **{key: round(best[key] * factor, 4)})
                    if not valid(trial):
                        continue
                    value = evaluate(trial)
                    if value > best_score + 1e-9:
                        best, best_score, improved = trial, value, True
                        log(f"  pass {round_index + 1}: {key} = {trial[key]:g} -> {100 * value:.2f} %")
            if not improved:
                break
    return best, best_score


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus")
    parser.add_argument("model")
    parser.add_argument("--split", default="test")
    parser.add_argument("--language", default="en")
    parser.add_argument("--every", type=int, default=4, help="every N-th utterance")
    parser.add_argument("--fit", metavar="OUT", help="fit config.cues on --fit-split; write the model with them to OUT")
    parser.add_argument("--fit-split", default="validation")
    parser.add_argument("--passes", type=int, default=2)
    args = parser.parse_args(argv)
    if args.fit and os.path.abspath(args.fit) == os.path.abspath(args.model):
        parser.error("--fit writes a new file; give an OUT other than the model")
    rows = utterances(args.corpus, args.split, args.language, args.every)
    items = targets(args.corpus, rows)
    print(f"{os.path.basename(args.model)}: {len(rows)} utterances ({args.language}, {args.split} split)")
    print(table(measure(args.model, items)))
    if not args.fit:
        return 0
    if args.fit_split == args.split:
        parser.error("--fit-split must differ from --split (the scores after the fit would not be held out)")
    fit_rows = utterances(args.corpus, args.fit_split, args.language, args.every)
    log = lambda *a: print(*a, file=sys.stderr, flush=True)  # noqa: E731
    log(f"fitting on {len(fit_rows)} utterances ({args.fit_split} split)")
    cues, fitted_score = fit(args.model, targets(args.corpus, fit_rows), args.passes, log)
    with_cues(args.model, args.fit, cues)
    changed = {k: v for k, v in cues.items() if v != STANDARD[k]}
    print(f"\nfitted on {args.fit_split} ({100 * fitted_score:.1f} %): {json.dumps(changed)}")
    print(f"{os.path.basename(args.fit)}: {len(rows)} utterances ({args.language}, {args.split} split)")
    print(table(measure(args.fit, items)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
