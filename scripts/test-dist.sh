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

# The library's SONAME is the ABI major; the symlinks lead to the one file.
soname=$(readelf -d "$tmp/kmtalk/lib/libKMTalk.so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
major=$(sed -n 's/^#define KMT_VERSION_MAJOR \([0-9]*\)$/\1/p' include/kmtalk.h)
[ "$soname" = "libKMTalk.so.$major" ] && [ -L "$tmp/kmtalk/lib/libKMTalk.so.$major" ] && [ -L "$tmp/kmtalk/lib/libKMTalk.so" ] ||
  { echo "FAIL test-dist: SONAME '$soname' (expected libKMTalk.so.$major) or symlinks missing"; ls -l "$tmp/kmtalk/lib"; exit 1; }
ldd "$tmp/animate" > "$tmp/ldd.txt"
grep -q "libKMTalk.so.$major =>" "$tmp/ldd.txt" || { echo "FAIL test-dist: the C host does not record libKMTalk.so.$major"; exit 1; }
echo "PASS test-dist: SONAME $soname, hosts record it; $(ls "$tmp/kmtalk/lib" | tr '\n' ' ')"

# pkg-config: the C example built with the release's kmtalk.pc (relocated copy).
export PKG_CONFIG_PATH="$tmp/kmtalk/lib/pkgconfig"
# shellcheck disable=SC2046
cc -std=c99 -Wall -Wextra -Werror "$root/examples/c/animate.c" $(pkg-config --cflags --libs kmtalk) -lm \
   -Wl,-rpath,"$tmp/kmtalk/lib" -o "$tmp/animate-pc"
(cd "$tmp" && env -i ./animate-pc "$model" hello.wav 60 > pc.out) && grep -q jawOpen "$tmp/pc.out" || { echo "FAIL test-dist: pkg-config build"; exit 1; }
c++ -std=c++17 -Wall -Wextra -Werror -pedantic "$root/examples/cmake/hello.cpp" $(pkg-config --cflags --libs kmtalk) \
   -Wl,-rpath,"$tmp/kmtalk/lib" -o "$tmp/hello-pc"
(cd "$tmp" && env -i ./hello-pc "$model" hello.wav > hello-pc.out) && grep -q "jawOpen largest" "$tmp/hello-pc.out" ||
  { echo "FAIL test-dist: pkg-config C++ build"; exit 1; }
echo "PASS test-dist: the C example and the C++ wrapper host built with pkg-config (kmtalk $(pkg-config --modversion kmtalk)) run under env -i"

# CMake: find_package(KMTalk) builds the C example and a C++17 host (skipped without cmake).
if command -v cmake > /dev/null && command -v c++ > /dev/null; then
  cmake -S "$root/examples/cmake" -B "$tmp/cmake-build" -DCMAKE_PREFIX_PATH="$tmp/kmtalk" > "$tmp/cmake.log" 2>&1 &&
    cmake --build "$tmp/cmake-build" >> "$tmp/cmake.log" 2>&1 ||
    { echo "FAIL test-dist: CMake build"; cat "$tmp/cmake.log"; exit 1; }
  (cd "$tmp" && env -i ./cmake-build/kmtalk_animate_c "$model" hello.wav 60 > c.out &&
    env -i ./cmake-build/kmtalk_hello_cpp "$model" hello.wav > cpp.out) &&
    grep -q jawOpen "$tmp/c.out" && grep -q "jawOpen largest" "$tmp/cpp.out" ||
    { echo "FAIL test-dist: CMake-built hosts"; cat "$tmp/cpp.out" 2>/dev/null; exit 1; }
  echo "PASS test-dist: find_package(KMTalk) builds the C and C++ hosts: $(cat "$tmp/cpp.out")"
else
  echo "SKIP test-dist: cmake or c++ not installed (KMTALK_TEST_TOOLS=1 scripts/install-deps.sh)"
fi

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
frames = ctypes.c_size_t()
assert lib.kmt_animation_frame_count(anim, ctypes.byref(frames)) == 0, lib.kmt_last_error()
frames = frames.value
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
echo "PASS test-dist: CLI under env -i ($(du -h "$tmp/kmtalk/bin/kmtalk" | cut -f1)), library $(du -hL "$tmp/kmtalk/lib/libKMTalk.so" | cut -f1)"
