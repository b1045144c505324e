"""Throughput of kmtalk.batch: N files of ~3 s of speech (examples/audio/hello.wav,
looped, shifted and scaled per file so no two are equal) animated to JSON with 1
and 2 local worker processes (or the counts given; 1 runs in this process, more
include the pool's start), each run into a fresh output folder. Prints files/s and audio hours per hour per run, and the load average
before and after (other work on the machine slows it).

    python bindings/python/examples/batch_bench.py [--files 200] [--seconds 3]
        [--workers 1 2] [--dask 2] [--model models/kmtalk-base.safetensors] [--keep DIR]

--dask N also runs it on a local Dask cluster of N one-thread worker processes
(cluster start not counted).
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
import wave
from pathlib import Path

import numpy as np

import kmtalk
from kmtalk.batch import animate_many

REPO = Path(__file__).resolve().parents[3]


def make_corpus(folder: Path, files: int, seconds: float) -> float:
    speech, rate = kmtalk.load_audio(REPO / "examples" / "audio" / "hello.wav", 16000)
    rng = np.random.default_rng(0)
    total = 0.0
    for i in range(files):
        length = int(rate * seconds * rng.uniform(0.9, 1.1))
        start = int(rng.integers(0, len(speech)))
        x = np.resize(np.roll(speech, -start), length) * rng.uniform(0.5, 1.0)
        pcm = np.clip(np.round(x * 32767.0), -32768, 32767).astype("<i2")
        with wave.open(str(folder / f"line{i:04d}.wav"), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(rate)
            out.writeframes(pcm.tobytes())
        total += length / rate
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--model", default=str(REPO / "models" / "kmtalk-base.safetensors"))
    parser.add_argument("--dask", type=int, nargs="*", default=[], help="Dask LocalCluster worker counts")
    parser.add_argument("--format", default="json")
    parser.add_argument("--keep", help="make the corpus and outputs here and keep them")
    args = parser.parse_args()

    root = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="kmtalk-bench-"))
    try:
        inputs = root / "in"
        inputs.mkdir(parents=True, exist_ok=True)
        audio = make_corpus(inputs, args.files, args.seconds)
        print(f"{args.files} files, {audio / 60:.1f} min of audio, model {Path(args.model).name}, "
              f"format {args.format}, {os.cpu_count()} CPUs, library {kmtalk.version()}")
        runs = [(f"workers {n}", n, None) for n in args.workers] + [(f"dask {n}", n, "dask") for n in args.dask]
        for label, workers, kind in runs:
            out = root / f"out-{label.replace(' ', '-')}"
            shutil.rmtree(out, ignore_errors=True)
            cluster = client = None
            if kind == "dask":
                from distributed import Client, LocalCluster

                cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                       dashboard_address=None, silence_logs=40)
                client = Client(cluster)
            load = os.getloadavg()[0]
            started = time.perf_counter()
            summary = animate_many(inputs, out, format=args.format, model=args.model, workers=workers,
                                   executor=client, progress_line=False)
            wall = time.perf_counter() - started
            if client is not None:
                client.close()
                cluster.close()
            per_file = sorted(r.seconds for r in summary.results if r.status == "ok")
            print(f"{label}: {summary.ok} ok {summary.failed} failed in {wall:.1f} s: "
                  f"{summary.ok / wall:.2f} files/s, {summary.audio_seconds / wall:.1f} audio hours per hour; "
                  f"median {per_file[len(per_file) // 2] * 1000:.0f} ms per file in the worker; "
                  f"load average {load:.2f} before, {os.getloadavg()[0]:.2f} after")
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
