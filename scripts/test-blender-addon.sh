#!/usr/bin/env bash
# Tests the Blender add-on (bindings/blender) headless: builds the zip
# (scripts/build-blender-addon.sh), then Blender installs and enables it into a temporary
# user scripts folder and runs scripts/blender_test_addon.py: "Animate from audio" on a
# mesh with ARKit-named shape keys, checked against the kmtalk Python package's frames,
# plus the error paths. Skips (exit 0) when Blender is not installed (`apt-get install
# blender python3-numpy`, or KMTALK_TEST_TOOLS=1 scripts/install-deps.sh).
#
#   scripts/test-blender-addon.sh
#
# Environment: KMTALK_LIBRARY (default .build/debug/libKMTalk.so), KMTALK_MODEL (default
# models/kmtalk-base.safetensors), BLENDER (default blender).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

BLENDER="${BLENDER:-blender}"
LIBRARY="$(realpath -m "${KMTALK_LIBRARY:-.build/debug/libKMTalk.so}")"
MODEL="$(realpath -m "${KMTALK_MODEL:-models/kmtalk-base.safetensors}")"
AUDIO="$ROOT/examples/audio/hello.wav"

if ! command -v "$BLENDER" >/dev/null; then
    echo "SKIP test-blender-addon: $BLENDER not installed"
    exit 0
fi
[[ -f "$LIBRARY" ]] || { echo "FAIL test-blender-addon: $LIBRARY not built (swift build)"; exit 1; }
[[ -f "$MODEL" ]] || { echo "FAIL test-blender-addon: model $MODEL not found"; exit 1; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/kmtalk-blender-addon.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
ZIP="$(scripts/build-blender-addon.sh "$WORK/dist" | tail -1)"
mkdir -p "$WORK/scripts" "$WORK/config"
start=$(date +%s.%N)
set +e
env -u KMTALK_LIBRARY -u KMTALK_MODEL BLENDER_USER_SCRIPTS="$WORK/scripts" BLENDER_USER_CONFIG="$WORK/config" \
    "$BLENDER" --background --factory-startup --python-exit-code 1 \
    --python scripts/blender_test_addon.py -- "$ZIP" "$AUDIO" "$MODEL" "$LIBRARY" >"$WORK/blender.log" 2>&1
status=$?
set -e
seconds=$(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$start" "$(date +%s.%N)")
echo "test-blender-addon: $("$BLENDER" --version 2>/dev/null | head -1), $(basename "$ZIP"), ${seconds} s in Blender"
grep -E "^(PASS|FAIL)|Traceback" "$WORK/blender.log" | sed 's/^/  /' || true
if [[ $status -eq 0 ]] && ! grep -q "^FAIL" "$WORK/blender.log"; then
    echo "PASS test-blender-addon: the add-on animates shape keys as the kmtalk package does"
else
    echo "FAIL test-blender-addon (blender exit $status); log:"
    tail -40 "$WORK/blender.log" | sed 's/^/    | /'
    exit 1
fi
