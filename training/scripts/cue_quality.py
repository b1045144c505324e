#!/usr/bin/env python3
"""How the engine's 2D mouth cues (Rhubarb shapes, `--format cues-tsv`) match the true
phones of held-out speech: for every bilabial (m b p), labiodental (f v), lateral (l) and
rounded (u w) phone of a corpus split, the cue shown at the phone's centre. The ideal is
A for bilabials, G for labiodentals, H for laterals and E/F for rounded phones.

    cd training && KMTALK_LIBRARY=../.build/release/libKMTalk.so ../.venv-test/bin/python \\
        scripts/cue_quality.py /tmp/corpus-full ../models/kmtalk-base.safetensors [--language en] [--every 4]

Needs numpy and the built library (Python bindings); no PyTorch.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), "bindings", "python"))
import kmtalk  # noqa: E402
from kmtalk_train.corpus import read_segments  # noqa: E402

CLASSES = {"m": "bilabial", "b": "bilabial", "p": "bilabial", "f": "labiodental", "v": "labiodental",
           "l": "lateral", "u": "rounded", "w": "rounded"}
IDEAL = {"bilabial": "A", "labiodental": "G", "lateral": "H", "rounded": "E/F"}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus")
    parser.add_argument("model")
    parser.add_argument("--split", default="test")
    parser.add_argument("--language", default="en")
    parser.add_argument("--every", type=int, default=4, help="every N-th utterance")
    args = parser.parse_args(argv)
    with open(os.path.join(args.corpus, "manifest.jsonl")) as f:
        rows = [json.loads(line) for line in f]
    rows = [r for r in rows if r["split"] == args.split and r.get("phones") and r["language"] == args.language][::args.every]
    counts: dict = {}
    with kmtalk.Model(args.model) as model, kmtalk.Session(model, threads=1) as session:
        for row in rows:
            animation = session.animate_file(os.path.join(args.corpus, row["audio"]))
            cues = [(float(t), shape) for t, shape in
                    (line.split("\t") for line in animation.to_bytes("cues-tsv").decode().splitlines())]
            for segment in read_segments(os.path.join(args.corpus, row["phones"])):
                kind = CLASSES.get(segment.phone)
                if kind is None:
                    continue
                centre = (segment.start + segment.end) / 2
                shown = "X"
                for start, shape in cues:
                    if start <= centre:
                        shown = shape
                counts.setdefault(kind, {}).setdefault(shown, 0)
                counts[kind][shown] += 1
    print(f"{len(rows)} utterances ({args.language}, {args.split} split)")
    print("| phones | count | ideal | ideal shown | cues shown |")
    print("|---|---|---|---|---|")
    for kind, shown in counts.items():
        total = sum(shown.values())
        ideal = sum(n for s, n in shown.items() if s in IDEAL[kind].split("/"))
        spread = ", ".join(f"{s} {100 * n / total:.0f}%" for s, n in sorted(shown.items(), key=lambda kv: -kv[1]))
        print(f"| {kind} | {total} | {IDEAL[kind]} | {100 * ideal / total:.1f} % | {spread} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
