#!/usr/bin/env python3
"""Quality versus streaming latency, against the teacher: streams every utterance of a
corpus split through the engine (the Python bindings over libKMTalk, 10 ms chunks, one
thread) at each latency setting and scores the streamed frames like evaluate.py scores the
offline ones: motion MAE overall and for the jaw and lip channels, lips closed on
bilabials, mouth at rest in long pauses, velocity error (jitter shows there); plus the largest and mean difference from the same
model's offline result (0 up to float rounding at the model's full look-ahead).

    cd training && ../.venv-test/bin/python scripts/stream_quality.py CORPUS \\
        ../models/kmtalk-base.safetensors ../models/kmtalk-live.safetensors \\
        [--latencies full,150,100,60] [--split test] [--every N] [--limit N] [--markdown OUT.md]

Needs numpy and the built library (`swift build -c release`; the bindings find it in the
checkout, or set KMTALK_LIBRARY). No PyTorch.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
import wave
from typing import Dict, List

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "bindings", "python"))
import kmtalk  # noqa: E402
from kmtalk_train import metrics, phones  # noqa: E402
from kmtalk_train.arkit import ARKIT_52  # noqa: E402
from kmtalk_train.corpus import read_segments  # noqa: E402


def read_pcm16(path: str):
    with wave.open(path, "rb") as w:
        if w.getsampwidth() != 2:
            raise ValueError(f"{path}: expected 16-bit PCM")
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).reshape(-1, w.getnchannels())
        return pcm, w.getframerate()


TEACHER_FPS = 60.0  # the corpus' teacher frames: frame k at k / 60 s


def teacher_at(frames: np.ndarray, count: int, fps: float) -> np.ndarray:
    """Teacher frames linearly resampled to times t / fps, t < count (held at the ends),
    as training and evaluate.py see them."""
    source = np.arange(len(frames)) / TEACHER_FPS
    times = np.arange(count) / fps
    return np.stack([np.interp(times, source, frames[:, c]) for c in range(frames.shape[1])], axis=1).astype(np.float32)


def score(model_path: str, rows: List[dict], corpus: str, latencies: List[str], log=print) -> List[Dict[str, float]]:
    model = kmtalk.Model(model_path)
    session = kmtalk.Session(model, threads=1)
    # The model's full look-ahead (exact streaming), not the session's default latency.
    full = session.exact_latency_ms
    if list(model.channel_names) != list(ARKIT_52):
        order = [list(model.channel_names).index(n) for n in ARKIT_52]
    else:
        order = list(range(len(ARKIT_52)))
    clips = []
    for row in rows:
        pcm, rate = read_pcm16(os.path.join(corpus, row["audio"]))
        segments = read_segments(os.path.join(corpus, row["phones"]))
        offline = session.animate_pcm(pcm.astype(np.float32) / 32768, rate).weights[:, order]
        teacher = teacher_at(np.load(os.path.join(corpus, row["teacher"])).astype(np.float32), len(offline), model.fps)
        clips.append((pcm, rate, teacher, segments, offline))
    results = []
    for setting in latencies:
        latency = full if setting == "full" else float(setting)
        if latency > full + 1e-9:
            continue
        session.latency_ms = latency
        started = time.time()
        abs_sum = {"all": 0.0, "jaw": 0.0, "lips": 0.0, "velocity": 0.0, "offline": 0.0}
        frames = streamed_frames = 0
        worst = 0.0
        checks = {"bilabial_closed_pct": [0.0, 0], "pause_rest_pct": [0.0, 0]}
        for pcm, rate, teacher, segments, offline in clips:
            step = rate // 100
            parts = [f for f, _ in session.stream([pcm[i:i + step] for i in range(0, len(pcm), step)], rate)]
            streamed = np.concatenate(parts)[:, order]
            worst = max(worst, float(np.abs(streamed - offline).max()))
            abs_sum["offline"] += float(np.abs(streamed - offline).mean()) * len(streamed)
            n = min(len(streamed), len(teacher))
            errors = metrics.motion_errors(streamed[:n], teacher[:n])
            abs_sum["all"] += errors["mae_all"] * n
            abs_sum["jaw"] += errors["mae_jaw"] * n
            abs_sum["lips"] += errors["mae_lips"] * n
            abs_sum["velocity"] += errors["velocity_mae"] * n
            frames += n
            streamed_frames += len(streamed)
            c = metrics.lip_sync_checks(streamed, model.fps, segments, phones.features)
            for key, count in (("bilabial_closed_pct", "bilabials"), ("pause_rest_pct", "pauses")):
                if c[count]:
                    checks[key][0] += c[key] * c[count] / 100
                    checks[key][1] += c[count]
        result = {"model": os.path.basename(model_path), "latency_ms": latency, "exact": latency >= full,
                  "utterances": len(clips), "motion_mae": abs_sum["all"] / frames, "mae_jaw": abs_sum["jaw"] / frames,
                  "mae_lips": abs_sum["lips"] / frames, "velocity_mae": abs_sum["velocity"] / frames,
                  "max_diff_offline": worst, "mean_diff_offline": abs_sum["offline"] / streamed_frames}
        for key, (hits, count) in checks.items():
            result[key] = 100 * hits / count if count else float("nan")
        log(f"{result['model']} {latency:.0f} ms: {json.dumps({k: round(v, 5) if isinstance(v, float) else v for k, v in result.items()})}"
            f" ({time.time() - started:.0f} s)")
        results.append(result)
    session.close()
    model.close()
    return results


def markdown(results: List[Dict[str, float]], split: str) -> str:
    lines = [f"| model | latency | utterances ({split}) | motion MAE | jaw | lips | velocity MAE | bilabials closed | "
             "pauses at rest | max / mean diff vs offline |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        latency = f"{r['latency_ms']:.0f} ms" + (" (exact)" if r["exact"] else "")
        lines.append(f"| {r['model'].replace('.safetensors', '')} | {latency} | {r['utterances']} | {r['motion_mae']:.4f} | "
                     f"{r['mae_jaw']:.4f} | {r['mae_lips']:.4f} | {r['velocity_mae']:.5f} | {r['bilabial_closed_pct']:.1f} % | "
                     f"{r['pause_rest_pct']:.1f} % | {r['max_diff_offline']:.2g} / {r['mean_diff_offline']:.1g} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus")
    parser.add_argument("models", nargs="+")
    parser.add_argument("--latencies", default="full,200,150,100,60",
                        help="comma-separated ms values and/or 'full' (the model's look-ahead, exact)")
    parser.add_argument("--split", default="test")
    parser.add_argument("--limit", type=int, help="only the first N utterances of the split")
    parser.add_argument("--every", type=int, default=1, help="only every N-th utterance (a spread-out subset)")
    parser.add_argument("--markdown", help="write the table here")
    args = parser.parse_args(argv)
    with open(os.path.join(args.corpus, "manifest.jsonl")) as f:
        rows = [json.loads(line) for line in f]
    rows = [r for r in rows if r["split"] == args.split and r.get("phones") and r.get("teacher")]
    rows = rows[::max(1, args.every)]
    if args.limit:
        rows = rows[:args.limit]
    latencies = [s.strip() for s in args.latencies.split(",") if s.strip()]
    results = []
    for path in args.models:
        results += score(path, rows, args.corpus, latencies)
    table = markdown(results, args.split)
    print(table)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(table + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
