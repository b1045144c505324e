#!/usr/bin/env bash
# Tests the C side of the public API from a host's point of view:
#   1. include/kmtalk.h compiles as strict C99 and C++17 (examples/c/header_check.*), and
#      the by-value kmt_*_default_params() warn as deprecated unless KMT_NO_DEPRECATION_WARNINGS;
#   2. examples/c/animate builds against the library with -Wall -Wextra -Werror;
#   3. animate runs on a generated WAV and prints what it should;
#   4. animate fails cleanly (exit 1, message naming the path) on a missing file;
#   5. animate -r RIG poses the shipped head (vertex count, lip-region
#      displacement) and -o saves GLB, JSON, CSV and mouth-cue TSV through
#      kmt_animation_save; a GLB without a rig, a missing rig and a bare -r fail
#      cleanly;
#   6. with KMTALK_VALGRIND=1 and valgrind installed: no memory errors or
#      definite leaks in the C example (with and without a rig);
#   7. examples/c/stream.c builds and streams the test WAV in 10 ms chunks (default and --exact).
#
# Environment: KMTALK_LIB_DIR (default .build/debug), CC, CXX, KMTALK_VALGRIND.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

CC="${CC:-cc}"
CXX="${CXX:-c++}"
LIB_DIR="${KMTALK_LIB_DIR:-.build/debug}"
LIB_DIR="$(cd "$LIB_DIR" 2>/dev/null && pwd || echo "$LIB_DIR")"
MODEL="models/kmtalk-tiny-random.safetensors"
EXAMPLE="examples/c"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/kmtalk-test-c.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

failures=0
pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
show() { sed 's/^/    | /' "$1"; }

# 1. Header compiles as C99 and C++17 (syntax only).
if "$CC" -std=c99 -pedantic -Wall -Wextra -Werror -fsyntax-only -Iinclude \
        "$EXAMPLE/header_check.c" >"$WORK/hc.log" 2>&1; then
    pass "header_check.c compiles as C99 (-pedantic -Wall -Wextra -Werror)"
else
    fail "header_check.c does not compile as C99"; show "$WORK/hc.log"
fi
if "$CXX" -std=c++17 -pedantic -Wall -Wextra -Werror -fsyntax-only -Iinclude \
        "$EXAMPLE/header_check.cpp" >"$WORK/hcpp.log" 2>&1; then
    pass "header_check.cpp compiles as C++17 (-pedantic -Wall -Wextra -Werror)"
else
    fail "header_check.cpp does not compile as C++17"; show "$WORK/hcpp.log"
fi

# KMT_DEPRECATED (for functions a later minor version deprecates) warns in C and C++,
# naming the replacement, unless the host defines KMT_NO_DEPRECATION_WARNINGS. (1.0 removed
# the by-value kmt_*_default_params() of 0.1, the last deprecated functions.)
printf '#include "kmtalk.h"\nKMT_DEPRECATED(kmt_session_params_init) int old_api(void);\nint main(void) { return old_api(); }\n' >"$WORK/dep.c"
for lang in c c++; do
    compiler="$CC"; [[ $lang == c++ ]] && compiler="$CXX"
    if ! "$compiler" -x "$lang" -Wall -Werror -fsyntax-only -Iinclude "$WORK/dep.c" >"$WORK/dep.log" 2>&1 &&
            grep -q "kmt_session_params_init" "$WORK/dep.log" &&
            "$compiler" -x "$lang" -Wall -Werror -fsyntax-only -DKMT_NO_DEPRECATION_WARNINGS -Iinclude "$WORK/dep.c" \
                >>"$WORK/dep.log" 2>&1; then
        pass "KMT_DEPRECATED warns in $lang (names the replacement; KMT_NO_DEPRECATION_WARNINGS silences it)"
    else
        fail "KMT_DEPRECATED in $lang"; show "$WORK/dep.log"
    fi
done

# 2. Build the example.
if [[ ! -f "$LIB_DIR/libKMTalk.so" ]]; then
    fail "no libKMTalk.so in $LIB_DIR (run \`swift build\` or set KMTALK_LIB_DIR)"
    echo "test-c: $failures failure(s)"
    exit 1
fi
rm -f "$EXAMPLE/animate"
if make -s -C "$EXAMPLE" CC="$CC" KMTALK_LIB_DIR="$LIB_DIR" animate >"$WORK/make.log" 2>&1; then
    pass "examples/c/animate builds against $LIB_DIR (-std=c99 -Wall -Wextra -Werror)"
else
    fail "examples/c/animate does not build"; show "$WORK/make.log"
    echo "test-c: $failures failure(s)"
    exit 1
fi
ANIMATE="$ROOT/$EXAMPLE/animate"
if readelf -d "$ANIMATE" 2>/dev/null | grep -Eq "(RPATH|RUNPATH).*$LIB_DIR"; then
    pass "animate carries an rpath to $LIB_DIR"
else
    fail "animate has no rpath to $LIB_DIR"
fi

# 3. Generate 1.5 s of 16-bit 44.1 kHz stereo test audio and animate it at 60 fps.
WAV="$WORK/tones.wav"
DURATION=1.5
if python3 -c "import numpy" 2>/dev/null; then
    python3 - "$WAV" "$DURATION" <<'PY'
import sys, wave
import numpy as np
path, duration = sys.argv[1], float(sys.argv[2])
rate = 44100
t = np.arange(int(duration * rate)) / rate
voice = 0.3 * np.sin(2 * np.pi * 220 * t) * (0.5 + 0.5 * np.sin(2 * np.pi * 4 * t))
voice += 0.1 * np.random.default_rng(7).standard_normal(t.size)
stereo = np.stack([voice, 0.8 * voice], axis=1)
pcm = np.clip(np.round(stereo * 32767), -32768, 32767).astype("<i2")
with wave.open(path, "wb") as out:
    out.setnchannels(2)
    out.setsampwidth(2)
    out.setframerate(rate)
    out.writeframes(pcm.tobytes())
PY
elif command -v sox >/dev/null; then
    sox -n -r 44100 -c 2 -b 16 "$WAV" synth "$DURATION" sine 220 tremolo 4 vol 0.3
else
    fail "cannot generate test audio (need python3 with numpy, or sox)"
    echo "test-c: $failures failure(s)"
    exit 1
fi

FPS=60
EXPECTED=$(python3 -c "print(round($DURATION * $FPS))" 2>/dev/null || echo 90)
set +e
"$ANIMATE" "$MODEL" "$WAV" "$FPS" >"$WORK/run.out" 2>"$WORK/run.err"
status=$?
set -e
if [[ $status -eq 0 ]]; then
    pass "animate $MODEL tones.wav $FPS exits 0"
else
    fail "animate exited $status"; show "$WORK/run.err"
fi
frames=$(sed -n 's/^frames: \([0-9][0-9]*\)$/\1/p' "$WORK/run.out")
if [[ -n "$frames" ]] && (( frames >= EXPECTED - 2 && frames <= EXPECTED + 2 )); then
    pass "frame count line 'frames: $frames' (expected $EXPECTED +-2 for ${DURATION}s at $FPS fps)"
else
    fail "frame count line: got '${frames:-none}', expected $EXPECTED +-2"; show "$WORK/run.out"
fi
if grep -qx "fps: $FPS" "$WORK/run.out" && grep -qx "channels: 52" "$WORK/run.out"; then
    pass "fps and channel count lines"
else
    fail "fps/channels lines missing"; show "$WORK/run.out"
fi
if [[ $(grep -c '^frame [0-2] (t=' "$WORK/run.out") -eq 3 ]] &&
        grep -q '^frame 0 (t=0.000 s): eyeBlinkLeft=[0-9.]*' "$WORK/run.out" &&
        [[ $(grep '^frame 0 ' "$WORK/run.out" | grep -o ' [A-Za-z][A-Za-z]*=[0-9.]*' | wc -l) -eq 8 ]]; then
    pass "first 3 frames printed with 8 name=value pairs"
else
    fail "first frames not printed as expected"; show "$WORK/run.out"
fi
if grep -q 'jawOpen is largest at frame [0-9]* (t=[0-9.]* s): jawOpen=[0-9.]*' "$WORK/run.out"; then
    pass "jawOpen maximum reported"
else
    fail "no jawOpen line"; show "$WORK/run.out"
fi

# Native rate (no FPS argument) and a rejected FPS.
set +e
"$ANIMATE" "$MODEL" "$WAV" >"$WORK/native.out" 2>&1
native_status=$?
"$ANIMATE" "$MODEL" "$WAV" 500 >"$WORK/badfps.out" 2>&1
badfps_status=$?
"$ANIMATE" >"$WORK/usage.out" 2>&1
usage_status=$?
set -e
if [[ $native_status -eq 0 ]] && grep -qx "fps: 50" "$WORK/native.out"; then
    pass "no FPS argument gives the native 50 fps"
else
    fail "native-rate run (exit $native_status)"; show "$WORK/native.out"
fi
if [[ $badfps_status -eq 1 ]] && grep -q "output_fps" "$WORK/badfps.out"; then
    pass "FPS 500 fails with exit 1 and the library's message"
else
    fail "FPS 500: exit $badfps_status"; show "$WORK/badfps.out"
fi
if [[ $usage_status -eq 2 ]] && grep -q "^usage:" "$WORK/usage.out"; then
    pass "no arguments prints usage, exit 2"
else
    fail "usage: exit $usage_status"; show "$WORK/usage.out"
fi

# 4. A missing audio file: exit 1, the message names the path.
MISSING="$WORK/no-such-speech.wav"
set +e
"$ANIMATE" "$MODEL" "$MISSING" >"$WORK/missing.out" 2>"$WORK/missing.err"
status=$?
set -e
if [[ $status -eq 1 ]] && grep -qF "$MISSING" "$WORK/missing.err"; then
    pass "missing audio file exits 1 naming the path: $(head -1 "$WORK/missing.err")"
else
    fail "missing audio file: exit $status"; show "$WORK/missing.err"
fi
set +e
"$ANIMATE" "$WORK/no-such-model.safetensors" "$WAV" >"$WORK/nomodel.out" 2>"$WORK/nomodel.err"
status=$?
set -e
if [[ $status -eq 1 ]] && grep -qF "no-such-model.safetensors" "$WORK/nomodel.err"; then
    pass "missing model exits 1 naming the path"
else
    fail "missing model: exit $status"; show "$WORK/nomodel.err"
fi

# 5. A rig and exports.
RIG="models/kmtalk-head.rig.safetensors"
RIG_VERTICES=$(python3 -c "import json, struct, sys; f = open(sys.argv[1], 'rb'); n = struct.unpack('<Q', f.read(8))[0]; print(json.loads(f.read(n))['vertices']['shape'][0])" "$RIG" 2>/dev/null || echo "[0-9]*")
set +e
"$ANIMATE" "$MODEL" "$WAV" "$FPS" -r "$RIG" -o "$WORK/out.glb" >"$WORK/rig.out" 2>"$WORK/rig.err"
status=$?
set -e
if [[ $status -eq 0 ]] && grep -qx "vertices: $RIG_VERTICES" "$WORK/rig.out"; then
    pass "animate -r $RIG poses the rig: $(grep '^vertices:' "$WORK/rig.out")"
else
    fail "animate -r $RIG: exit $status"; show "$WORK/rig.out"; show "$WORK/rig.err"
fi
region=$(sed -n 's/^lip region: \([0-9][0-9]*\) vertices .*/\1/p' "$WORK/rig.out")
lip_max=$(sed -n 's/^first frame: lip-region displacement max \([0-9.]*\) mm (vertex [0-9]*)$/\1/p' "$WORK/rig.out")
if [[ -n "$region" && "$region" -gt 0 && -n "$lip_max" ]] && python3 -c "import sys; sys.exit(0 if float('$lip_max') > 0 else 1)"; then
    pass "lip region of $region vertices, first-frame displacement max $lip_max mm"
else
    fail "lip-region lines missing or zero"; show "$WORK/rig.out"
fi
if [[ "$(head -c 4 "$WORK/out.glb" 2>/dev/null)" == "glTF" ]] && grep -qx "saved: $WORK/out.glb" "$WORK/rig.out"; then
    pass "-o out.glb with the rig writes a GLB ($(wc -c <"$WORK/out.glb") bytes)"
else
    fail "-o out.glb did not write a GLB"; show "$WORK/rig.out"
fi
for ext in json csv tsv; do
    set +e
    "$ANIMATE" "$MODEL" "$WAV" -o "$WORK/out.$ext" >"$WORK/save.out" 2>&1
    status=$?
    set -e
    ok=0
    case "$ext" in
        json) python3 -c "import json, sys; d = json.load(open(sys.argv[1])); sys.exit(0 if d['frames'] and d['channels'] else 1)" "$WORK/out.json" && ok=1 ;;
        csv) head -1 "$WORK/out.csv" | grep -q '^time,eyeBlinkLeft,' && ok=1 ;;
        tsv) head -1 "$WORK/out.tsv" | grep -qE $'^0\\.00\t[A-HX]$' &&
                tail -1 "$WORK/out.tsv" | grep -qE $'^[0-9]+\\.[0-9]{2}\tX$' && ok=1 ;;
    esac
    if [[ $status -eq 0 && $ok -eq 1 ]]; then
        pass "-o out.$ext without a rig writes the $ext export"
    else
        fail "-o out.$ext: exit $status"; show "$WORK/save.out"; [[ -f "$WORK/out.$ext" ]] && head -3 "$WORK/out.$ext" | sed 's/^/    | /'
    fi
done
set +e
"$ANIMATE" "$MODEL" "$WAV" -o "$WORK/norig.glb" >"$WORK/norig.out" 2>&1
norig_status=$?
"$ANIMATE" "$MODEL" "$WAV" -r "$WORK/no-such.rig.safetensors" >"$WORK/badrig.out" 2>&1
badrig_status=$?
"$ANIMATE" "$MODEL" "$WAV" -r >"$WORK/bare.out" 2>&1
bare_status=$?
set -e
if [[ $norig_status -eq 1 ]] && grep -q "kmt_animation_save failed (.*): GLB export needs a rig" "$WORK/norig.out" && [[ ! -e "$WORK/norig.glb" ]]; then
    pass "-o .glb without a rig: exit 1, $(grep -o 'GLB export needs a rig' "$WORK/norig.out"), no file"
else
    fail "-o .glb without a rig: exit $norig_status"; show "$WORK/norig.out"
fi
if [[ $badrig_status -eq 1 ]] && grep -qF "no-such.rig.safetensors" "$WORK/badrig.out"; then
    pass "a missing rig exits 1 naming the path"
else
    fail "missing rig: exit $badrig_status"; show "$WORK/badrig.out"
fi
if [[ $bare_status -eq 2 ]] && grep -q "^usage:" "$WORK/bare.out"; then
    pass "-r without a value: usage, exit 2"
else
    fail "-r without a value: exit $bare_status"; show "$WORK/bare.out"
fi

# 6. Valgrind (opt-in: slow).
if [[ "${KMTALK_VALGRIND:-0}" == "1" ]]; then
    if command -v valgrind >/dev/null; then
        for args in "$MODEL $WAV $FPS" "$MODEL $MISSING" "$MODEL $WAV $FPS -r $RIG -o $WORK/vg.glb" "$MODEL $WAV -o $WORK/vg.tsv"; do
            set +e
            # shellcheck disable=SC2086
            valgrind --error-exitcode=3 --leak-check=full --errors-for-leak-kinds=definite \
                "$ANIMATE" $args >"$WORK/vg.out" 2>"$WORK/vg.err"
            status=$?
            set -e
            if [[ $status -eq 3 ]]; then
                fail "valgrind reports errors or definite leaks: animate $args"
                grep -E "ERROR SUMMARY|definitely lost|Invalid|uninitialised" "$WORK/vg.err" | sed 's/^/    | /'
            elif [[ $status -eq 0 || $status -eq 1 ]]; then
                pass "valgrind clean (exit $status): animate $args ($(grep -o 'ERROR SUMMARY: [0-9]* errors' "$WORK/vg.err"))"
            else
                fail "valgrind run exited $status: animate $args"; tail -5 "$WORK/vg.err" | sed 's/^/    | /'
            fi
        done
    else
        echo "SKIP: valgrind not installed"
    fi
else
    echo "SKIP: valgrind (set KMTALK_VALGRIND=1 to run)"
fi

# 7. examples/c/stream.c: streams the test WAV in 10 ms chunks (push/pull/flush).
if "$CC" -std=c99 -Wall -Wextra -Werror -O2 "$EXAMPLE/stream.c" -Iinclude -L"$LIB_DIR" -lKMTalk \
        -Wl,-rpath,"$LIB_DIR" -o "$WORK/stream" >"$WORK/stream-build.log" 2>&1; then
    pass "examples/c/stream.c builds (-std=c99 -Wall -Wextra -Werror)"
    if [[ -f "$WAV" ]]; then
        if "$WORK/stream" "$MODEL" "$WAV" --fast >"$WORK/stream.out" 2>&1 && grep -q "frames in all" "$WORK/stream.out"; then
            pass "stream: $(tail -1 "$WORK/stream.out")"
        else
            fail "stream did not stream the test WAV"; show "$WORK/stream.out"
        fi
        # --exact: the full look-ahead; the same frame count as at the default latency.
        if "$WORK/stream" "$MODEL" "$WAV" --fast --exact >"$WORK/stream-exact.out" 2>&1 &&
                [[ "$(grep -o '[0-9]* frames in all' "$WORK/stream-exact.out")" == "$(grep -o '[0-9]* frames in all' "$WORK/stream.out")" ]]; then
            pass "stream --exact: $(head -1 "$WORK/stream-exact.out")"
        else
            fail "stream --exact differs in frame count"; show "$WORK/stream-exact.out"
        fi
    fi
else
    fail "examples/c/stream.c does not build"; show "$WORK/stream-build.log"
fi

if [[ $failures -eq 0 ]]; then
    echo "test-c: all passed"
else
    echo "test-c: $failures failure(s)"
    exit 1
fi
