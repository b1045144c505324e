#!/usr/bin/env python3
"""Checks `kmtalk view`'s page in headless Chromium, as scripts/test-web-viewer.sh runs it:

1. builds the page from examples/audio/hello.wav and the weights of the same audio with
   `kmtalk animate --format json` (same model, same fps);
2. loads the page at several times (`talk.html#t=SECONDS`, once as `?t=`) with
   `chromium --headless --dump-dom`, reads <pre id="kmtalk-state"> and checks the frame is
   round(t x fps) and every channel's weight equals the JSON export's there (1e-4);
3. takes screenshots of the head alone (`#layout=head`) at the frame where the mouth is
   most closed (mouthClose highest) and where it is most open (jawOpen highest): neither
   is blank (a head drawn over the background), and inside the mouth's box they differ
   clearly (more than elsewhere on the face), with more dark (open-mouth) pixels in the
   open one;
4. the CLI's errors: a missing file, corrupt audio, an unwritable output.

    scripts/web_viewer_check.py KMTALK_BINARY CHROMIUM [--keep DIR]
"""
import argparse
import json
import os
import re
import struct
import subprocess
import sys
import tempfile
import time
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
AUDIO = os.path.join(ROOT, "examples", "audio", "hello.wav")
STATE = re.compile(r'<pre id="kmtalk-state">([^<]*)</pre>')


def read_png(path):
    """(width, height, channels, rows of bytes) of an 8-bit non-interlaced PNG."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path}: not a PNG"
    offset, idat, header = 8, b"", None
    while offset < len(data):
        length, kind = struct.unpack(">I4s", data[offset:offset + 8])
        body = data[offset + 8:offset + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        offset += 12 + length
    width, height, depth, colour, _, _, interlace = header
    assert depth == 8 and interlace == 0 and colour in (2, 6), f"{path}: PNG type {colour}/{depth} not handled"
    channels = 3 if colour == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * channels
    rows, previous = [], bytearray(stride)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if kind == 1:
            for i in range(channels, stride):
                line[i] = (line[i] + line[i - channels]) & 255
        elif kind == 2:
            line = bytearray((a + b) & 255 for a, b in zip(line, previous))
        elif kind == 3:
            for i in range(stride):
                left = line[i - channels] if i >= channels else 0
                line[i] = (line[i] + ((left + previous[i]) >> 1)) & 255
        elif kind == 4:
            for i in range(stride):
                a = line[i - channels] if i >= channels else 0
                b, c = previous[i], previous[i - channels] if i >= channels else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(line)
        previous = line
    return width, height, channels, rows


def luma(image, x, y):
    _, _, channels, rows = image
    r, g, b = rows[y][x * channels:x * channels + 3]
    return 0.299 * r + 0.587 * g + 0.114 * b


def region_stats(a, b, box):
    """Mean |luma a - luma b| over box (x0, y0, x1, y1), and the dark pixels of each."""
    x0, y0, x1, y1 = box
    total, dark_a, dark_b, count = 0.0, 0, 0, 0
    for y in range(y0, y1):
        for x in range(x0, x1):
            la, lb = luma(a, x, y), luma(b, x, y)
            total += abs(la - lb)
            dark_a += la < 45
            dark_b += lb < 45
            count += 1
    return total / max(1, count), dark_a, dark_b


class Browser:
    def __init__(self, chromium, work):
        self.chromium, self.work = chromium, work
        self.profile = os.path.join(work, "profile")

    def run(self, url, *extra):
        command = [self.chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--mute-audio",
                   "--hide-scrollbars", f"--user-data-dir={self.profile}", "--virtual-time-budget=4000", *extra, url]
        done = subprocess.run(command, capture_output=True, text=True, timeout=90)
        if done.returncode != 0:
            raise SystemExit(f"FAIL chromium exit {done.returncode}: {done.stderr[-2000:]}")
        return done.stdout

    def state(self, url):
        match = STATE.search(self.run(url, "--dump-dom"))
        if not match or not match.group(1).strip():
            raise SystemExit(f"FAIL no state in the page's DOM at {url}")
        return json.loads(match.group(1).replace("&quot;", '"').replace("&amp;", "&"))

    def screenshot(self, url, path, size):
        self.run(url, f"--screenshot={path}", f"--window-size={size},{size}")
        if not os.path.isfile(path):
            raise SystemExit(f"FAIL no screenshot {path}")
        return read_png(path)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("kmtalk")
    parser.add_argument("chromium")
    parser.add_argument("--keep", help="copy the page and screenshots into this folder")
    args = parser.parse_args()
    started = time.time()
    failures = []

    with tempfile.TemporaryDirectory(prefix="kmtalk-web-viewer.") as work:
        page = os.path.join(work, "talk.html")
        exported = os.path.join(work, "hello.json")
        for command in ([args.kmtalk, "view", AUDIO, "-o", page, "--quiet"],
                        [args.kmtalk, "animate", AUDIO, "-o", exported, "--format", "json", "--quiet"]):
            done = subprocess.run(command, capture_output=True, text=True)
            if done.returncode != 0:
                raise SystemExit(f"FAIL {' '.join(command)}: {done.stderr}")
        with open(exported) as f:
            animation = json.load(f)
        fps, frames, channels = animation["fps"], animation["frames"], animation["channels"]
        size_kib = os.path.getsize(page) / 1024
        print(f"page: {size_kib:.0f} KiB for {len(frames)} frames at {fps:g} fps")

        browser = Browser(args.chromium, work)
        url = "file://" + page
        # Times between frames (never on a half frame, where rounding could go either way).
        for seconds, form in ((0.305, "#t="), (0.964, "?t="), (1.9, "#t="), (2.513, "#t="), (4.207, "#t=")):
            state = browser.state(f"{url}{form}{seconds}")
            expected = min(len(frames) - 1, int(seconds * fps + 0.5))
            worst = max(abs(state["weights"][name] - frames[expected][c]) for c, name in enumerate(channels))
            ok = state["frame"] == expected and worst <= 1e-4 and len(state["weights"]) == len(channels)
            print(f"{'ok' if ok else 'FAIL'}   t={seconds} ({form}): frame {state['frame']} (expected {expected}), "
                  f"max |weight - JSON| {worst:.2e}, jawOpen {state['weights'].get('jawOpen', 0):.3f}, "
                  f"render {state.get('renderMs')} ms")
            if not ok:
                failures.append(f"weights at t={seconds}")

        jaw, close = channels.index("jawOpen"), channels.index("mouthClose")
        open_frame = max(range(len(frames)), key=lambda f: frames[f][jaw])
        closed_frame = max(range(len(frames)), key=lambda f: frames[f][close] - frames[f][jaw])
        size, box = state["size"], state["mouthBox"]
        shots = {}
        for name, frame in (("closed", closed_frame), ("open", open_frame)):
            path = os.path.join(work, f"head-{name}.png")
            shots[name] = browser.screenshot(f"{url}#t={frame / fps:.4f}&layout=head", path, size)
        closed, opened = shots["closed"], shots["open"]
        # Not blank: the head (the centre column) stands out from the background corner.
        corner = luma(opened, 3, 3)
        centre = [luma(opened, size // 2, y) for y in range(size // 4, 3 * size // 4, 8)]
        drawn = sum(abs(value - corner) > 25 for value in centre) / len(centre)
        ok = drawn > 0.8 and opened[0] == size
        print(f"{'ok' if ok else 'FAIL'}   screenshot {size}x{size}: {drawn:.0%} of the centre column differs from the background")
        if not ok:
            failures.append("blank screenshot")
        mouth, dark_closed, dark_open = region_stats(closed, opened, box)
        forehead = region_stats(closed, opened, (size // 3, size // 10, 2 * size // 3, size // 4))[0]
        ok = mouth > 8 and mouth > 4 * forehead and dark_open > dark_closed + 200
        print(f"{'ok' if ok else 'FAIL'}   mouth box {box}: closed (frame {closed_frame}) vs open (frame {open_frame}): "
              f"mean |diff| {mouth:.1f} (forehead {forehead:.1f}), dark pixels {dark_closed} -> {dark_open}")
        if not ok:
            failures.append("mouth region")

        # The CLI's errors: exit 1 and a message naming the problem.
        corrupt = os.path.join(work, "corrupt.wav")
        with open(corrupt, "wb") as f:
            f.write(b"RIFF\x10\x00\x00\x00WAVEfmt " + os.urandom(64))
        for label, command, needle in (
                ("missing audio", [args.kmtalk, "view", os.path.join(work, "nope.wav"), "-o", page], "nope.wav"),
                ("corrupt audio", [args.kmtalk, "view", corrupt, "-o", page], "corrupt.wav"),
                ("unwritable output", [args.kmtalk, "view", AUDIO, "-o", os.path.join(work, "no", "such", "dir.html")],
                 "cannot write")):
            before = os.path.getmtime(page)
            done = subprocess.run(command, capture_output=True, text=True)
            ok = done.returncode == 1 and needle in done.stderr and os.path.getmtime(page) == before
            print(f"{'ok' if ok else 'FAIL'}   {label}: exit {done.returncode}: {done.stderr.strip().splitlines()[-1][:150]}")
            if not ok:
                failures.append(label)

        if args.keep:
            os.makedirs(args.keep, exist_ok=True)
            for name in ("talk.html", "head-closed.png", "head-open.png"):
                with open(os.path.join(work, name), "rb") as source, open(os.path.join(args.keep, name), "wb") as target:
                    target.write(source.read())
    print(f"{'FAIL' if failures else 'PASS'} web viewer in {time.time() - started:.1f} s"
          + (f": {', '.join(failures)}" if failures else ""))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
