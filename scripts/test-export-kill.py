#!/usr/bin/env python3
"""Kills `kmtalk animate` (SIGKILL) at random points while it replaces one OBJ sequence
with another of a different length, and checks what a reader finds once the next export
into the folder has run (it finishes or discards what the killed one left): exactly the
old sequence or exactly the new one, every file whole, no stale frames, no temporary
files or staging folders.

    scripts/test-export-kill.py KMTALK_BINARY [--runs N] [--seed S]
"""
import argparse
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
AUDIO = os.path.join(HERE, "..", "examples", "audio", "hello.wav")
FRAME = re.compile(r"^face_(\d{6,})\.obj$")


def export(binary, folder, fps, wait=True):
    command = [binary, "animate", AUDIO, "-o", os.path.join(folder, "face.obj"), "--fps", str(fps)]
    if wait:
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return None
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def sequence_state(folder):
    """(frame count of the set, problems): the set must be 1..N of one export of N frames."""
    names = sorted(os.listdir(folder))
    problems = [f"leftover {n}" for n in names if n.startswith(".")]
    frames = sorted(int(m.group(1)) for n in names if (m := FRAME.match(n)))
    others = [n for n in names if not n.startswith(".") and not FRAME.match(n) and n != "marker.json"]
    problems += [f"unexpected {n}" for n in others]
    if not frames:
        return 0, problems + ["no frames"]
    count = len(frames)
    if frames != list(range(1, count + 1)):
        problems.append(f"frames not 1..{count}: {frames[:3]}...{frames[-3:]}")
    for number in frames:
        path = os.path.join(folder, f"face_{number:06d}.obj")
        with open(path, "rb") as handle:
            head = handle.readline().decode()
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
        match = re.search(r"frame (\d+) of (\d+)", head)
        if not match or int(match.group(1)) != number or int(match.group(2)) != count or size < 1000:
            problems.append(f"{path}: header {head.strip()!r}, {size} bytes (a frame of another set, or partial)")
            break
    return count, problems


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("binary")
    parser.add_argument("--runs", type=int, default=12)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    rates = (10, 6)  # 49 and 30 frames of hello.wav: the second is shorter (stale frames)
    with tempfile.TemporaryDirectory(prefix="kmtalk-kill-") as folder:
        export(args.binary, folder, rates[0])
        started = time.monotonic()
        export(args.binary, folder, rates[1])
        duration = time.monotonic() - started
        counts = {rates[0]: None, rates[1]: sequence_state(folder)[0]}
        export(args.binary, folder, rates[0])
        counts[rates[0]] = sequence_state(folder)[0]
        outcomes = {"old": 0, "new": 0}
        failures = 0
        for run in range(args.runs):
            old, new = (rates[0], rates[1]) if run % 2 == 0 else (rates[1], rates[0])
            if sequence_state(folder) != (counts[old], []):
                export(args.binary, folder, old)
            process = export(args.binary, folder, new, wait=False)
            time.sleep(rng.uniform(0.0, duration * 1.1))
            process.send_signal(signal.SIGKILL)
            process.wait()
            # The next export into the folder (here a JSON beside the sequence) cleans up.
            subprocess.run([args.binary, "animate", AUDIO, "-o", os.path.join(folder, "marker.json")],
                           check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            count, problems = sequence_state(folder)
            state = "old" if count == counts[old] else "new" if count == counts[new] else f"{count} frames"
            if problems or state not in outcomes:
                failures += 1
                print(f"run {run}: killed a {old}->{new} fps replacement: {state}; {problems[:3]}")
            else:
                outcomes[state] += 1
        print(f"{args.runs} exports killed at random points (export takes {duration:.2f} s): "
              f"old set {outcomes['old']}, new set {outcomes['new']}, broken {failures}")
        return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
