#!/usr/bin/env bash
# Checks the wheel scripts/build-wheel.sh makes as a user who has only Python would meet
# it: installs it into a fresh virtual environment (no system site packages) in a
# temporary directory, then, from that directory and under env -i (no PATH beyond
# /usr/bin:/bin, no LD_LIBRARY_PATH, no KMTALK_* variable), animates a file with the
# bundled default model, streams PCM, and checks that libKMTalk.so, OpenBLAS, libsndfile
# and libsoxr were loaded from the wheel, not from the system.
#
#   scripts/test-wheel.sh [WHEEL]        (default: the one in wheelhouse/)
set -euo pipefail
cd "$(dirname "$0")/.."
wheel="${1:-$(ls wheelhouse/kmtalk-*.whl 2>/dev/null | head -1)}"
[ -f "$wheel" ] || { echo "FAIL test-wheel: no wheel (run scripts/build-wheel.sh)"; exit 1; }
case "$wheel" in *manylinux*) ;; *) echo "FAIL test-wheel: $wheel is not a manylinux wheel"; exit 1 ;; esac
wheel=$(readlink -f "$wheel")
tmp=$(mktemp -d /tmp/kmtalk-wheel-test-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
cp examples/audio/hello.wav "$tmp/hello.wav"

python3 -m venv "$tmp/venv"
"$tmp/venv/bin/pip" install --quiet --disable-pip-version-check "$wheel"

cat > "$tmp/check.py" <<'PY'
import os
import sys

import numpy as np

import kmtalk

site = os.path.dirname(os.path.dirname(kmtalk.__file__))
assert sys.prefix in kmtalk.__file__, kmtalk.__file__
assert not any(k.startswith("KMTALK") for k in os.environ), sorted(os.environ)

# Offline, with the bundled default model found by itself.
model_path = kmtalk.default_model_path()
assert model_path and model_path.startswith(site), model_path
animation = kmtalk.animate("hello.wav", fps=60)
weights = animation.weights
assert animation.fps == 60 and weights.shape[1] == 52, (animation.fps, weights.shape)
jaw = weights[:, animation.channel_names.index("jawOpen")]
assert jaw.max() > 0.2 and jaw.min() < 0.05, (jaw.min(), jaw.max())

# Streaming: 10 ms chunks of the same audio through a session.
import wave

with wave.open("hello.wav") as w:
    rate = w.getframerate()
    pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float32) / 32768
with kmtalk.Model(model_path) as model, kmtalk.Session(model, fps=60) as session:
    chunks = (pcm[i:i + rate // 100] for i in range(0, len(pcm), rate // 100))
    streamed = np.concatenate([frames for frames, _ in session.stream(chunks, rate)])
assert streamed.shape[1] == 52 and abs(len(streamed) - len(weights)) <= 2, (streamed.shape, weights.shape)
assert np.abs(streamed[:, animation.channel_names.index("jawOpen")]).max() > 0.2

# Every native library came from the wheel.
with open("/proc/self/maps") as maps:
    loaded = {line.split()[-1] for line in maps if ".so" in line.split()[-1]}
wanted = ("libKMTalk", "openblas", "libsndfile", "libsoxr")
for name in wanted:
    paths = [p for p in loaded if name in os.path.basename(p)]
    assert paths, f"{name} not loaded: {sorted(loaded)}"
    assert all(p.startswith(site) for p in paths), f"{name} loaded from outside the wheel: {paths}"
print(f"PASS test-wheel: animate ({len(weights)} frames at 60 fps, jawOpen max {jaw.max():.2f}), "
      f"stream ({len(streamed)} frames), libraries from the wheel: "
      + ", ".join(sorted(os.path.basename(p) for p in loaded if any(n in p for n in wanted))))
PY
(cd "$tmp" && env -i PATH=/usr/bin:/bin HOME="$tmp" "$tmp/venv/bin/python" check.py)
echo "wheel: $(basename "$wheel"), $(du -h "$wheel" | cut -f1)"
