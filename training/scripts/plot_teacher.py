#!/usr/bin/env python3
"""Looks at the teacher: synthesizes a sentence with a speech engine, maps its phones to the
inventory, runs the teacher, then plots the mouth channels under the waveform with phone
labels and renders the ICT-FaceKit rig (../shared/data/ict-facekit) at chosen phones:
bilabials (must close), open vowels (must open), rounded vowels (must round).

    python3 training/scripts/plot_teacher.py [--engine flite --voice slt] [--text "..."] [--out docs/img]
"""
import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import numpy as np  # noqa: E402

from kmtalk_train import corpus, ict_rig, phones, teacher, visualize  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(HERE))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engine", default="flite")
    parser.add_argument("--voice", default="slt")
    parser.add_argument("--language", default="en")
    parser.add_argument("--text", default="Bob may pour a warm soup, but who will move the boat?")
    parser.add_argument("--out", default=os.path.join(ROOT, "docs", "img"))
    parser.add_argument("--name", default="teacher")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)

    voice = corpus.Voice(args.engine, args.voice, args.language)
    utterance = corpus.synthesize(voice, args.text, 1.0, 1.0)
    samples = corpus.resample_to(utterance.samples, utterance.sample_rate)
    segments = corpus.to_inventory(utterance)
    result = teacher.animate(segments, samples, corpus.SAMPLE_RATE)
    print(" ".join(s.phone for s in segments))
    curves = os.path.join(args.out, f"{args.name}-curves.png")
    visualize.plot_curves(curves, segments, samples, corpus.SAMPLE_RATE, result.frames, result.fps,
                          title=f'{args.engine} {args.voice}: "{args.text}"')
    print("wrote", curves)

    rig = ict_rig.load()
    picks, seen = [], set()
    kinds = [("closure", lambda f: f.bilabial_closure >= 0.5), ("open", lambda f: f.kind == "vowel" and f.jaw_open >= 0.6),
             ("round", lambda f: f.kind == "vowel" and f.rounding >= 0.7), ("f/v", lambda f: f.labiodental >= 0.5)]
    for label, test in kinds:
        for s in segments:
            if s.phone != "_" and test(phones.features(s.phone)) and len([p for p in picks if p[2] == label]) < 2:
                k = min(int(round((s.start + s.end) / 2 * result.fps)), len(result.frames) - 1)
                if k not in seen:
                    seen.add(k)
                    picks.append((k, f"/{s.phone}/ {label} ({k / result.fps:.2f}s)", label))
    picks.sort()
    strip = os.path.join(args.out, f"{args.name}-ict.png")
    visualize.render_strip(strip, rig, result.frames, [(k, text) for k, text, _ in picks], size=220)
    metrics = rig.lip_metrics(rig.vertices(result.frames[[k for k, _, _ in picks]]))
    for (k, text, _), aperture, width in zip(picks, metrics["aperture"], metrics["width"]):
        print(f"  {text:28s} lip aperture {aperture:.2f} cm, mouth width {width:.2f} cm")
    print("wrote", strip)


if __name__ == "__main__":
    main()
