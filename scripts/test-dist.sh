#!/usr/bin/env bash
# Checks the self-contained release: copies dist/ to a fresh directory elsewhere, then
# loads libKMTalk.so from a plain C program and from Python with an empty environment
# (env -i: no PATH, no LD_LIBRARY_PATH, no Swift toolchain on any search path), and runs
# the copied CLI the same way. Usage: scripts/test-dist.sh [DIST_DIR] (default dist).
set -euo pipefail
cd "$(dirname "$0")/.."
dist="${1:-dist}"
[ -f "$dist/lib/libKMTalk.so" ] || { echo "FAIL test-dist: $dist/lib/libKMTalk.so missing (run scripts/dist.sh)"; exit 1; }
root=$(pwd)
tmp=$(mktemp -d /tmp/kmtalk-dist-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
cp -r "$dist" "$tmp/kmtalk"
cp examples/audio/hello.wav "$tmp/hello.wav"
model=$(ls "$tmp"/kmtalk/models/*.safetensors | head -1)

if ldd "$tmp/kmtalk/lib/libKMTalk.so" | grep -qi swift; then
  echo "FAIL test-dist: libKMTalk.so depends on a Swift runtime library"; exit 1
fi

# C host, linked against the copied library with an rpath, run with an empty environment.
cc -std=c99 -Wall -Wextra -Werror -I"$tmp/kmtalk/include" "$root/examples/c/animate.c" \
   -L"$tmp/kmtalk/lib" -lKMTalk -lm -Wl,-rpath,"$tmp/kmtalk/lib" -o "$tmp/animate"
out=$(cd "$tmp" && env -i ./animate "$model" hello.wav 60)
echo "$out" | grep -q "jawOpen" || { echo "FAIL test-dist: C host output unexpected:"; echo "$out"; exit 1; }
echo "PASS test-dist: C host under env -i"

# Python host through ctypes only (no bindings package), empty environment.
python=$(python3 -c 'import sys; print(sys.executable)')
env -i "$python" - "$tmp/kmtalk/lib/libKMTalk.so" "$model" "$tmp/hello.wav" <<'PY'
import ctypes, sys
lib = ctypes.CDLL(sys.argv[1])
lib.kmt_version.restype = ctypes.c_char_p
lib.kmt_last_error.restype = ctypes.c_char_p
model, session, anim = ctypes.c_void_p(), ctypes.c_void_p(), ctypes.c_void_p()
assert lib.kmt_model_load_file(sys.argv[2].encode(), None, ctypes.byref(model)) == 0, lib.kmt_last_error()
assert lib.kmt_session_create(model, None, ctypes.byref(session)) == 0, lib.kmt_last_error()
assert lib.kmt_animate_file(session, sys.argv[3].encode(), ctypes.byref(anim)) == 0, lib.kmt_last_error()
lib.kmt_animation_frame_count.restype = ctypes.c_size_t
frames = lib.kmt_animation_frame_count(anim)
assert frames > 100, frames
for f, h in ((lib.kmt_animation_free, anim), (lib.kmt_session_free, session), (lib.kmt_model_free, model)):
    f(h)
print("python ctypes: kmtalk", lib.kmt_version().decode(), "animated", frames, "frames")
PY
echo "PASS test-dist: Python ctypes under env -i"

# Python bindings package pointed at the copied library.
if "$python" -c "import numpy" 2>/dev/null; then
  env -i KMTALK_LIBRARY="$tmp/kmtalk/lib/libKMTalk.so" PYTHONPATH="$root/bindings/python" "$python" -c "
import kmtalk
m = kmtalk.Model('$model')
a = kmtalk.Session(m).animate_file('$tmp/hello.wav')
assert a.weights.shape[1] == 52 and a.frame_count > 100
print('python bindings:', a.frame_count, 'frames')
"
  echo "PASS test-dist: Python bindings under env -i"
fi

# The copied CLI finds the copied model beside it.
(cd "$tmp" && env -i ./kmtalk/bin/kmtalk animate hello.wav -o hello.json)
grep -q '"jawOpen"' "$tmp/hello.json" || { echo "FAIL test-dist: CLI output lacks jawOpen"; exit 1; }
echo "PASS test-dist: CLI under env -i ($(du -h "$tmp/kmtalk/bin/kmtalk" | cut -f1)), library $(du -h "$tmp/kmtalk/lib/libKMTalk.so" | cut -f1)"
