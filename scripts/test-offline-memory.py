#!/usr/bin/env python3
"""Checks that offline animation runs in memory bounded by its output (issue 13): peak RSS
of `kmtalk animate` on 2.5 and on 12 minutes of audio (NPY output) must differ by less
than MAX_GROWTH_MIB. The whole-utterance path grew ~27 MiB per minute (over 250 MiB for
these 9.5 minutes); the bounded path grows by the output frames only (~1 MiB per minute).

    scripts/test-offline-memory.py KMTALK_BINARY
"""
import os
import resource
import subprocess
import sys
import tempfile
import wave

import numpy as np

MAX_GROWTH_MIB = 60


def write_speech_like(path: str, seconds: float, rate: int = 16000) -> None:
    rng = np.random.default_rng(3)
    with wave.open(path, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        for start in range(0, int(seconds), 30):
            t = np.arange(int(min(30, seconds - start) * rate)) / rate + start
            voice = 0.3 * np.sin(2 * np.pi * 150 * t) * np.maximum(0, np.sin(2 * np.pi * 3 * t))
            voice += 0.02 * rng.standard_normal(t.size)
            out.writeframes(np.round(voice * 32767).astype("<i2").tobytes())


def peak_rss_mib(command: list) -> float:
    """Peak RSS of `command` in its own process tree (a fresh Python parent per run)."""
    probe = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, "
             "stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); "
             "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    result = subprocess.run([sys.executable, "-c", probe, *command], check=True, capture_output=True, text=True)
    return int(result.stdout.strip()) / 1024


def main() -> int:
    binary = sys.argv[1]
    with tempfile.TemporaryDirectory(prefix="kmtalk-memory-") as folder:
        peaks = {}
        for minutes in (2.5, 12):
            wav = os.path.join(folder, f"{minutes}.wav")
            write_speech_like(wav, minutes * 60)
            peaks[minutes] = peak_rss_mib([binary, "animate", wav, "-o", os.path.join(folder, "out.npy"), "--threads", "1"])
        growth = peaks[12] - peaks[2.5]
        print(f"offline peak RSS: 2.5 min {peaks[2.5]:.0f} MiB, 12 min {peaks[12]:.0f} MiB "
              f"(growth {growth:.0f} MiB, limit {MAX_GROWTH_MIB})")
        return 0 if growth < MAX_GROWTH_MIB else 1


if __name__ == "__main__":
    sys.exit(main())
