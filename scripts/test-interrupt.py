#!/usr/bin/env python3
"""Ctrl-C and the progress bar of the built `kmtalk` binary, as a user meets them:

1. on a terminal (a pseudo-terminal here) `kmtalk animate` draws a one-line progress bar
   on stderr and erases it when done; with --quiet, or when stderr is not a terminal, it
   draws nothing;
2. Ctrl-C (SIGINT) while the model runs stops the command with exit status 130, leaving
   an existing output file as it was and no temporary file;
3. Ctrl-C while an OBJ sequence is being written leaves the earlier sequence exactly as it
   was (same files, same bytes) and no staging folder;
4. with ffmpeg on PATH, Ctrl-C during `kmtalk preview` leaves no partial MP4 (the target
   stays as it was) and no temporary file.

    scripts/test-interrupt.py KMTALK_BINARY [--seconds 240]
"""
import argparse
import hashlib
import math
import os
import pty
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import wave

BAR = re.compile(rb"(animate|export|render|import) \[[#-]{30}\] +(\d+)%(?: (\w+))?")


def write_wav(path, seconds, rate=16000):
    """A 16-bit mono WAV of a vowel-like buzz with a syllable envelope."""
    frames = bytearray()
    for n in range(int(seconds * rate)):
        t = n / rate
        value = sum(math.sin(2 * math.pi * 130 * h * t) / h for h in range(1, 5))
        envelope = max(0.0, math.sin(2 * math.pi * 3 * t))
        frames += struct.pack("<h", int(max(-32767, min(32767, 9000 * envelope * value))))
    with wave.open(path, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(bytes(frames))


def run_on_terminal(command, interrupt_when=None, timeout=600):
    """Runs `command` with a pseudo-terminal as stdin/stdout/stderr. `interrupt_when(match)`
    decides, for each progress bar drawn, whether to send SIGINT now. Returns (exit status,
    everything written, whether SIGINT was sent)."""
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(command[0], command)
    output = b""
    sent = False
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        output += chunk
        if interrupt_when and not sent:
            for match in BAR.finditer(output[-400:]):
                if interrupt_when(match):
                    os.kill(pid, signal.SIGINT)
                    sent = True
                    break
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), output, sent


def snapshot(folder):
    """{name: sha256} of every entry in `folder`, hidden ones included."""
    result = {}
    for name in sorted(os.listdir(folder)):
        path = os.path.join(folder, name)
        if os.path.isdir(path):
            result[name] = "<folder>"
        else:
            with open(path, "rb") as handle:
                result[name] = hashlib.sha256(handle.read()).hexdigest()
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("binary")
    parser.add_argument("--seconds", type=float, default=240, help="length of the long test audio")
    args = parser.parse_args()
    binary = os.path.abspath(args.binary)
    failures = []

    def check(condition, message):
        print(("PASS " if condition else "FAIL ") + message)
        if not condition:
            failures.append(message)

    with tempfile.TemporaryDirectory(prefix="kmtalk-interrupt-") as work:
        short = os.path.join(work, "short.wav")
        long = os.path.join(work, "long.wav")
        write_wav(short, 2)
        write_wav(long, args.seconds)

        # 1. The bar on a terminal, none with --quiet or on a pipe.
        out = os.path.join(work, "short.json")
        status, output, _ = run_on_terminal([binary, "animate", short, "-o", out])
        check(status == 0 and os.path.exists(out), f"animate on a terminal succeeds (exit {status})")
        check(BAR.search(output) is not None, "a progress bar is drawn on a terminal")
        check(0 <= output.rfind(b"\r\x1b[K") < output.find(b"frames x"), "the bar is erased before the summary")
        status, output, _ = run_on_terminal([binary, "animate", short, "-o", out, "--quiet"])
        check(status == 0 and output.strip() == b"", f"--quiet: nothing on the terminal ({output[:80]!r})")
        piped = subprocess.run([binary, "animate", short, "-o", out], capture_output=True)
        check(piped.returncode == 0 and b"\r" not in piped.stderr and BAR.search(piped.stderr) is None,
              "stderr not a terminal: no bar, only the summary")

        # 2. Ctrl-C while the model runs: exit 130, the old output untouched, no temporary.
        target_folder = os.path.join(work, "json")
        os.mkdir(target_folder)
        target = os.path.join(target_folder, "long.json")
        with open(target, "w") as handle:
            handle.write("old")
        status, output, sent = run_on_terminal(
            [binary, "animate", long, "-o", target],
            lambda m: m.group(1) == b"animate" and 5 <= int(m.group(2)) < 90)
        check(sent, "Ctrl-C was sent while the model ran (else: make --seconds longer)")
        check(status == 130, f"Ctrl-C during animate: exit status 130 (got {status})")
        check(b"interrupted" in output, "Ctrl-C during animate: says it was interrupted")
        check(os.listdir(target_folder) == ["long.json"] and open(target).read() == "old",
              f"Ctrl-C during animate: the old output untouched, nothing else ({os.listdir(target_folder)})")

        # 3. Ctrl-C while an OBJ sequence is written: the earlier sequence intact.
        sequence = os.path.join(work, "seq")
        os.mkdir(sequence)
        pattern = os.path.join(sequence, "face.obj")
        subprocess.run([binary, "animate", short, "-o", pattern, "--fps", "10", "--quiet"], check=True)
        before = snapshot(sequence)
        medium = os.path.join(work, "medium.wav")
        write_wav(medium, 20)
        status, output, sent = run_on_terminal(
            [binary, "animate", medium, "-o", pattern, "--fps", "30"],
            lambda m: m.group(1) == b"export" and 10 <= int(m.group(2)) < 90)
        check(sent, "Ctrl-C was sent while the sequence was written")
        check(status == 130, f"Ctrl-C during the export: exit status 130 (got {status})")
        after = snapshot(sequence)
        check(after == before, f"Ctrl-C during the export: the earlier {len(before)} files as they were "
                               f"({len(after)} entries now, hidden: {[n for n in after if n.startswith('.')]})")

        # 4. preview's MP4 (only with ffmpeg).
        ffmpeg = shutil.which("ffmpeg")
        if not ffmpeg:
            print("SKIP preview Ctrl-C: ffmpeg is not on PATH")
        else:
            video_folder = os.path.join(work, "video")
            os.mkdir(video_folder)
            video = os.path.join(video_folder, "talk.mp4")
            with open(video, "w") as handle:
                handle.write("old")
            status, output, sent = run_on_terminal(
                [binary, "preview", medium, "-o", video, "--size", "128"],
                lambda m: m.group(1) == b"render" and 10 <= int(m.group(2)) < 90)
            check(sent and status == 130, f"Ctrl-C during preview: exit status 130 (got {status})")
            check(os.listdir(video_folder) == ["talk.mp4"] and open(video).read() == "old",
                  f"Ctrl-C during preview: no partial MP4, the old one untouched ({os.listdir(video_folder)})")

    if failures:
        print(f"{len(failures)} check(s) failed", file=sys.stderr)
        return 1
    print("all interrupt checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
