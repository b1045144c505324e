#!/usr/bin/env bash
# Runs every test of the project: the Swift engine tests, the exported-symbol check,
# the C example and header checks, exports killed at random points, Ctrl-C during long
# commands, the sanitizer runs
# and a short fuzzing pass (fuzz/README.md), the C# binding on mono, the Python bindings tests,
# kmtalk stream --livelink against a UDP receiver (in the Python tests), kmtalk view's web page
# in headless Chromium, the NumPy reference tests,
# and the self-contained release (built into dist/ and loaded under env -i).
# Usage: scripts/test.sh            (everything)
#        KMTALK_SKIP_DIST=1 scripts/test.sh   (skip the release build)
set -euo pipefail
cd "$(dirname "$0")/.."
section() { printf '\n==== %s ====\n' "$1"; }
t0=$(date +%s)

section "dependencies (installs only what is missing)"
KMTALK_TEST_TOOLS=1 KMTALK_CORPUS=1 scripts/install-deps.sh

section "layers run one way (scripts/layer-deps.py)"
python3 scripts/layer-deps.py --check > /dev/null

section "ABI of include/kmtalk.h against include/kmtalk.abi (scripts/abi-check.py)"
python3 scripts/abi-check.py

section "the CLI's forwarders match the header (scripts/gen-host-loader.py)"
python3 scripts/gen-host-loader.py --check

section "swift build + swift test"
swift build
swift test
t1=$(date +%s)

section "exported symbols (debug library)"
scripts/check-symbols.sh .build/debug/libKMTalk.so

section "the CLI is a host: it links no engine and loads libKMTalk.so"
scripts/check-cli-host.sh .build/debug/kmtalk

section "C example and header checks"
KMTALK_LIB_DIR="$(pwd)/.build/debug" scripts/test-c.sh

section "C++17 wrapper (scripts/test-cpp.sh)"
KMTALK_LIB_DIR="$(pwd)/.build/debug" scripts/test-cpp.sh

section "C# binding and Unity package on mono (scripts/test-csharp.sh)"
KMTALK_LIB_DIR="$(pwd)/.build/debug" scripts/test-csharp.sh

section "exports killed at random points (scripts/test-export-kill.py)"
python3 scripts/test-export-kill.py .build/debug/kmtalk --runs 8

section "Ctrl-C and the progress bar (scripts/test-interrupt.py)"
python3 scripts/test-interrupt.py .build/debug/kmtalk

section "the CLI reads audio from stdin"
stdin_json=$(mktemp /tmp/kmtalk-stdin-XXXXXX.json)
.build/debug/kmtalk animate - -o "$stdin_json" < examples/audio/hello.wav
python3 -c "import json, sys; d = json.load(open(sys.argv[1])); assert d['frame_count'] == 243 and 'jawOpen' in d['channels']" "$stdin_json"
if printf '' | .build/debug/kmtalk animate - -o "$stdin_json" 2> /dev/null; then echo "empty stdin was accepted" >&2; exit 1; fi
rm -f "$stdin_json"
echo "kmtalk animate - (stdin): 243 frames; empty stdin refused"

section "sanitizers: TSan thread stress, ASan+UBSan C hosts (scripts/sanitize.sh)"
scripts/sanitize.sh 8 1

section "fuzzing every target for ${KMTALK_FUZZ_SECONDS:-15} s (scripts/fuzz.sh)"
scripts/fuzz.sh all "${KMTALK_FUZZ_SECONDS:-15}"

section "Python bindings"
KMTALK_LIBRARY="$(pwd)/.build/debug/libKMTalk.so" KMTALK_CLI="$(pwd)/.build/debug/kmtalk" scripts/test-python.sh

section "web viewer in headless Chromium (scripts/test-web-viewer.sh; skipped without Chromium)"
KMTALK_CLI="$(pwd)/.build/debug/kmtalk" scripts/test-web-viewer.sh

section "Blender imports the CLI's GLB (skipped without Blender)"
scripts/check-blender.sh

section "Blender add-on, headless (skipped without Blender; about 10 s)"
KMTALK_LIBRARY="$(pwd)/.build/debug/libKMTalk.so" scripts/test-blender-addon.sh

section "NumPy reference and fixtures"
scripts/test-training.sh

if [ "${KMTALK_SKIP_DIST:-0}" != 1 ]; then
  section "self-contained release"
  scripts/dist.sh dist
  scripts/check-symbols.sh dist/lib/libKMTalk.so
  scripts/test-dist.sh dist
  python3 scripts/test-offline-memory.py dist/bin/kmtalk
  section "Python wheel with the library inside (scripts/build-wheel.sh, scripts/test-wheel.sh)"
  scripts/build-wheel.sh dist wheelhouse
  scripts/test-wheel.sh wheelhouse/kmtalk-*.whl
fi
t2=$(date +%s)
printf '\nall tests passed (swift build+test %d s, total %d s)\n' $((t1 - t0)) $((t2 - t0))
