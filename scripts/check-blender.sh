#!/usr/bin/env bash
# Imports a GLB written by the CLI into Blender (headless) and checks the shape keys, the
# animation's frame range and shape key values against the JSON export of the same
# animation (scripts/blender_check_glb.py); then checks `animate --into` on a multi-mesh
# character Blender builds and re-imports (scripts/blender_into_check.py). Skips (exit 0) when Blender is not installed:
# `apt-get install blender python3-numpy` (Debian bookworm: Blender 3.4; its glTF importer
# needs NumPy, which the package does not pull in), or KMTALK_TEST_TOOLS=1
# scripts/install-deps.sh.
#
#   scripts/check-blender.sh [RIG]     (default: models/kmtalk-head.rig.safetensors)
#
# Environment: KMTALK_CLI (default .build/debug/kmtalk), BLENDER (default blender).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

BLENDER="${BLENDER:-blender}"
CLI="${KMTALK_CLI:-.build/debug/kmtalk}"
RIG="${1:-models/kmtalk-head.rig.safetensors}"
AUDIO="examples/audio/hello.wav"
FPS=30

if ! command -v "$BLENDER" >/dev/null; then
    echo "SKIP check-blender: $BLENDER not installed"
    exit 0
fi
[[ -x "$CLI" ]] || { echo "FAIL check-blender: $CLI not built (swift build)"; exit 1; }
[[ -f "$RIG" ]] || { echo "FAIL check-blender: rig $RIG not found"; exit 1; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/kmtalk-blender.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

"$CLI" animate "$AUDIO" --rig "$RIG" --fps "$FPS" -o "$WORK/hello.glb"
"$CLI" animate "$AUDIO" --rig "$RIG" --fps "$FPS" -o "$WORK/hello-sparse.glb" --format glb-sparse
"$CLI" animate "$AUDIO" --fps "$FPS" -o "$WORK/hello.json"
echo "check-blender: $("$BLENDER" --version 2>/dev/null | head -1), GLB $(stat -c %s "$WORK/hello.glb") bytes, sparse $(stat -c %s "$WORK/hello-sparse.glb") bytes"

# The dense GLB against the JSON; the sparse one against the JSON and the dense one.
failed=0
for glb in hello.glb hello-sparse.glb; do
    reference=()
    [[ $glb == hello-sparse.glb ]] && reference=("$WORK/hello.glb")
    set +e
    "$BLENDER" --background --factory-startup --python-exit-code 3 \
        --python scripts/blender_check_glb.py -- "$WORK/$glb" "$WORK/hello.json" "${reference[@]}" >"$WORK/blender.log" 2>&1
    status=$?
    set -e
    echo "  $glb:"
    grep -E "^(PASS|FAIL)|^    frame|Error|Traceback" "$WORK/blender.log" | sed 's/^/    /' || true
    if [[ $status -eq 0 ]] && ! grep -q "^FAIL" "$WORK/blender.log"; then
        echo "PASS check-blender: Blender imports the CLI's $glb with matching shape keys and animation"
    else
        echo "FAIL check-blender: $glb (blender exit $status); log:"
        tail -30 "$WORK/blender.log" | sed 's/^/    | /'
        failed=1
    fi
done

# --into: a character Blender builds (several meshes, a skin, its own animation), animated
# by the CLI and re-imported (scripts/blender_into_check.py).
set +e
"$BLENDER" --background --factory-startup --python-exit-code 3 \
    --python scripts/blender_into_check.py -- make "$WORK/hello.glb" "$WORK/hero.glb" >"$WORK/make.log" 2>&1
made=$?
"$CLI" animate "$AUDIO" --fps "$FPS" --into "$WORK/hero.glb" -o "$WORK/hero-talking.glb" --quiet
into=$?
"$BLENDER" --background --factory-startup --python-exit-code 3 \
    --python scripts/blender_into_check.py -- check "$WORK/hero.glb" "$WORK/hero-talking.glb" "$WORK/hello.json" >"$WORK/into.log" 2>&1
status=$?
set -e
echo "  --into hero.glb:"
grep -E "^(PASS|FAIL)|Error|Traceback" "$WORK/into.log" | sed 's/^/    /' || true
if [[ $made -eq 0 && $into -eq 0 && $status -eq 0 ]] && ! grep -q "^FAIL" "$WORK/into.log"; then
    echo "PASS check-blender: animate --into keeps Blender's multi-mesh character and drives its shape keys"
else
    echo "FAIL check-blender: --into (make $made, cli $into, check $status); logs:"
    tail -15 "$WORK/make.log" "$WORK/into.log" | sed 's/^/    | /'
    failed=1
fi
exit $failed
