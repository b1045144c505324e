#!/usr/bin/env bash
# Runs the C-level sanitizer checks (fuzz/README.md):
#   1. ThreadSanitizer: libKMTalk.so built with -sanitize=thread (.build-tsan), and
#      Tests/c/stress_threads.c (8 threads sharing one model, random chunking, results
#      compared bit for bit with the main thread's);
#   2. AddressSanitizer + UndefinedBehaviorSanitizer: libKMTalk.so built with
#      -sanitize=address (.build-asan); the stress test, examples/c/animate.c (with a rig
#      and exports) and examples/c/stream.c built with -fsanitize=address,undefined;
#      leaks checked (third-party codec leaks suppressed: fuzz/lsan.supp).
# The Swift test suite itself cannot run under the sanitizers with this toolchain (its
# runtime aborts while Swift Testing builds its test IDs), so these C hosts carry them.
#
#   scripts/sanitize.sh [THREADS] [ROUNDS]      (default 8 threads, 2 rounds)
set -euo pipefail
cd "$(dirname "$0")/.."
threads=${1:-8}
rounds=${2:-2}
clang=$(dirname "$(readlink -f "$(command -v swift)")")/clang
runtime=$(dirname "$("$clang" -print-file-name=libclang_rt.asan-x86_64.so)")
model=models/kmtalk-tiny-random.safetensors
work=$(mktemp -d "${TMPDIR:-/tmp}/kmtalk-sanitize.XXXXXX")
trap 'rm -rf "$work"' EXIT

build() {  # $1: scratch folder, $2: Swift sanitizer
  swift build --scratch-path "$1" --product KMTalk -Xswiftc -sanitize="$2" 2>&1 | grep -E "error|Build" | tail -2
}
host() {  # $1: output, $2: library folder, $3: sanitizers, $4...: sources and flags
  local out=$1 lib=$2 flags=$3
  shift 3
  "$clang" -std=c99 -O1 -g -fsanitize="$flags" -fno-sanitize-recover=undefined -shared-libsan "$@" -Iinclude \
    -L"$lib" -lKMTalk -Wl,-rpath,"$PWD/$lib" -Wl,-rpath,"$runtime" -lm -lpthread -o "$out"
}

echo "== ThreadSanitizer: $threads threads x $rounds rounds on one model"
build .build-tsan thread
host "$work/stress-tsan" .build-tsan/debug thread Tests/c/stress_threads.c
TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 "$work/stress-tsan" "$model" "$threads" "$rounds"

echo "== AddressSanitizer + UndefinedBehaviorSanitizer"
build .build-asan address
export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1 LSAN_OPTIONS=suppressions=$PWD/fuzz/lsan.supp:print_suppressions=0
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
host "$work/stress-asan" .build-asan/debug address,undefined Tests/c/stress_threads.c
"$work/stress-asan" "$model" "$threads" "$rounds"
host "$work/animate" .build-asan/debug address,undefined examples/c/animate.c
host "$work/stream" .build-asan/debug address,undefined examples/c/stream.c
wav=examples/audio/hello.wav
"$work/animate" "$model" "$wav" 60 > /dev/null
"$work/animate" "$model" "$wav" 30 -r models/kmtalk-head.rig.safetensors -o "$work/out.glb" > /dev/null
for ext in json csv tsv; do "$work/animate" "$model" "$wav" -o "$work/out.$ext" > /dev/null; done
if "$work/animate" "$model" "$work/missing.wav" > /dev/null 2>&1; then echo "a missing file succeeded" >&2; exit 1; fi
"$work/stream" "$model" "$wav" --fast > /dev/null
"$work/stream" "$model" "$wav" --fast --exact > /dev/null
echo "animate (file, rig + GLB, JSON/CSV/TSV, missing file) and stream (default, exact): clean"
echo "sanitizers: all clean"
