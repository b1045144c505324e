#!/usr/bin/env bash
# Tests the C# binding and the Unity package (bindings/csharp) with Debian's mono:
#   1. the binding (bindings/csharp/Unity/Runtime/KMTalk/*.cs) compiles alone into KMTalk.dll
#      with mcs -warnaserror and XML docs (a public member without /// fails), without any
#      UnityEngine reference;
#   2. layout check: bindings/csharp/tests/layout.py compiles a probe of include/kmtalk.h with cc
#      (sizeof/offsetof of every public struct, every enum's size and values, the KMT_ #defines,
#      every prototype) and compares it with LayoutDump.exe's view of KMTalk.dll
#      (Marshal.SizeOf/OffsetOf, the C# enums, Native's constants, DllImports and delegates);
#      a dump with one value changed must fail it (the check is not vacuous);
#   3. KMTalkTests.exe runs against the library: file, PCM and streamed animation of
#      examples/audio/hello.wav compared with the CLI's JSON and with each other, errors,
#      disposed handles, progress, log, exports, rig, name matching, the audio queue;
#   4. the Unity components (Runtime/Components/*.cs, with the binding, as the package's asmdef
#      compiles them) compile with -warnaserror against tests/UnityStubs/UnityEngine.cs, a STUB of
#      the UnityEngine types they use (Unity itself is not available here), and
#      UnityComponentTests.exe drives them on mono with the real library;
#   5. the package manifest and asmdef parse and name com.kmtalk.unity / KMTalk.Runtime.
#
# Environment: KMTALK_LIB_DIR (directory of libKMTalk.so, default .build/debug), KMTALK_CLI (the
# kmtalk tool for the reference JSON, default .build/debug/kmtalk), CC.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

LIB_DIR="${KMTALK_LIB_DIR:-.build/debug}"
LIB_DIR="$(cd "$LIB_DIR" 2>/dev/null && pwd || echo "$LIB_DIR")"
CLI="${KMTALK_CLI:-.build/debug/kmtalk}"
CS=bindings/csharp
PKG=$CS/Unity
MCS=(mcs -warnaserror -nologo)

WORK="$(mktemp -d "${TMPDIR:-/tmp}/kmtalk-test-csharp.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

failures=0
pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
show() { sed 's/^/    | /' "$1"; }
finish() {
    if [[ $failures -eq 0 ]]; then echo "test-csharp: all passed"; else echo "test-csharp: $failures failure(s)"; exit 1; fi
}

for tool in mcs mono cc python3; do
    if ! command -v "$tool" >/dev/null; then
        fail "$tool not found (mono: apt-get install mono-mcs mono-runtime, or KMTALK_TEST_TOOLS=1 scripts/install-deps.sh)"
        finish
    fi
done
if [[ ! -f "$LIB_DIR/libKMTalk.so" ]]; then
    fail "no libKMTalk.so in $LIB_DIR (run \`swift build\` or set KMTALK_LIB_DIR)"
    finish
fi
export LD_LIBRARY_PATH="$LIB_DIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

# 1. The binding alone.
if "${MCS[@]}" -target:library -doc:"$WORK/KMTalk.xml" -out:"$WORK/KMTalk.dll" $PKG/Runtime/KMTalk/*.cs >"$WORK/lib.log" 2>&1; then
    pass "the binding compiles alone: KMTalk.dll from $(ls $PKG/Runtime/KMTalk/*.cs | wc -l) files (mcs $(mcs --version | awk '{print $NF}'), -warnaserror, XML docs on every public member)"
else
    fail "the binding does not compile"; show "$WORK/lib.log"; finish
fi
if grep -l "UnityEngine" $PKG/Runtime/KMTalk/*.cs >"$WORK/unity-refs.txt"; then
    fail "the binding mentions UnityEngine:"; show "$WORK/unity-refs.txt"
else
    pass "the binding has no Unity dependency (no UnityEngine in Runtime/KMTalk, no UnityEngine.dll referenced)"
fi

# 2. Layout check.
if "${MCS[@]}" -r:System.Core.dll -out:"$WORK/LayoutDump.exe" $CS/tests/LayoutDump.cs >"$WORK/dump-build.log" 2>&1 &&
        mono "$WORK/LayoutDump.exe" "$WORK/KMTalk.dll" >"$WORK/cs-layout.txt" 2>"$WORK/dump.log"; then
    if python3 $CS/tests/layout.py --csharp "$WORK/cs-layout.txt" >"$WORK/layout.log" 2>&1; then
        pass "$(grep '^PASS' "$WORK/layout.log" | sed 's/^PASS //')"
        grep '^note' "$WORK/layout.log" | sed 's/^/    /' || true
    else
        fail "layout check: C and C# differ"; show "$WORK/layout.log"
    fi
    # The check must notice one changed value, one changed offset and one missing function.
    sed -e 's/^\(const kmt_export_format.KMT_EXPORT_PLY = \)7$/\18/' \
        -e 's/^\(field kmt_session_params.progress offset \)32/\140/' \
        -e '/^function kmt_session_flush /d' "$WORK/cs-layout.txt" >"$WORK/cs-bad.txt"
    if python3 $CS/tests/layout.py --csharp "$WORK/cs-bad.txt" >"$WORK/layout-bad.log" 2>&1; then
        fail "layout check passed a dump with a wrong enum value, offset and a missing DllImport"
    elif [[ $(grep -c '^FAIL' "$WORK/layout-bad.log") -ge 5 ]]; then
        pass "layout check fails a dump with a wrong enum value, a wrong offset and a missing DllImport ($(grep -c '^FAIL' "$WORK/layout-bad.log") differences)"
    else
        fail "layout check missed part of the planted differences"; show "$WORK/layout-bad.log"
    fi
else
    fail "LayoutDump.exe did not build or run"; show "$WORK/dump-build.log"; show "$WORK/dump.log"
fi

# 3. The binding against the library.
if [[ ! -x "$CLI" ]]; then
    fail "no kmtalk CLI at $CLI for the reference JSON (swift build, or set KMTALK_CLI)"
elif "$CLI" animate examples/audio/hello.wav -o "$WORK/cli-hello.json" --quiet >"$WORK/cli.log" 2>&1; then
    if "${MCS[@]}" -r:"$WORK/KMTalk.dll" -r:System.Core.dll -out:"$WORK/KMTalkTests.exe" $CS/tests/KMTalkTests.cs >"$WORK/tests-build.log" 2>&1; then
        set +e
        (cd "$WORK" && mono --debug KMTalkTests.exe "$ROOT" "$WORK/cli-hello.json") >"$WORK/tests.out" 2>&1
        status=$?
        set -e
        sed 's/^/    /' "$WORK/tests.out"
        if [[ $status -eq 0 ]] && grep -q '^KMTalkTests: [0-9]* passed, 0 failed' "$WORK/tests.out"; then
            pass "KMTalkTests: $(grep '^KMTalkTests:' "$WORK/tests.out" | sed 's/^KMTalkTests: //')"
        else
            fail "KMTalkTests exited $status"
        fi
    else
        fail "KMTalkTests.cs does not compile"; show "$WORK/tests-build.log"
    fi
else
    fail "the CLI could not make the reference JSON"; show "$WORK/cli.log"
fi

# 4. The Unity components against the UnityEngine stub.
if "${MCS[@]}" -target:library -out:"$WORK/UnityEngine.dll" $CS/tests/UnityStubs/UnityEngine.cs >"$WORK/stub.log" 2>&1 &&
        "${MCS[@]}" -target:library -doc:"$WORK/KMTalk.Runtime.xml" -r:"$WORK/UnityEngine.dll" -out:"$WORK/KMTalk.Runtime.dll" \
            -recurse:"$PKG/Runtime/*.cs" >"$WORK/runtime.log" 2>&1; then
    pass "the package's Runtime (binding + $(ls $PKG/Runtime/Components/*.cs | wc -l) component files) compiles against the UnityEngine stub (-warnaserror, XML docs)"
    if "${MCS[@]}" -r:"$WORK/UnityEngine.dll" -r:"$WORK/KMTalk.Runtime.dll" -r:System.Core.dll -out:"$WORK/UnityComponentTests.exe" \
            $CS/tests/UnityComponentTests.cs >"$WORK/uct-build.log" 2>&1; then
        set +e
        (cd "$WORK" && mono --debug UnityComponentTests.exe "$ROOT") >"$WORK/uct.out" 2>&1
        status=$?
        set -e
        sed 's/^/    /' "$WORK/uct.out"
        if [[ $status -eq 0 ]] && grep -q '^UnityComponentTests: [0-9]* passed, 0 failed' "$WORK/uct.out"; then
            pass "UnityComponentTests (on the stub, not Unity): $(grep '^UnityComponentTests:' "$WORK/uct.out" | sed 's/^UnityComponentTests: //')"
        else
            fail "UnityComponentTests exited $status"
        fi
    else
        fail "UnityComponentTests.cs does not compile"; show "$WORK/uct-build.log"
    fi
else
    fail "the Unity components do not compile against the stub"; show "$WORK/stub.log"; show "$WORK/runtime.log"
fi

# 5. Package manifest and assembly definition.
if python3 - "$PKG" >"$WORK/pkg.log" 2>&1 <<'PY'
import json, os, sys
pkg = sys.argv[1]
manifest = json.load(open(os.path.join(pkg, "package.json")))
asmdef = json.load(open(os.path.join(pkg, "Runtime", "KMTalk.Runtime.asmdef")))
assert manifest["name"] == "com.kmtalk.unity", manifest["name"]
assert all(k in manifest for k in ("version", "displayName", "unity")), "package.json lacks version, displayName or unity"
assert asmdef["name"] == "KMTalk.Runtime", asmdef["name"]
assert not asmdef.get("allowUnsafeCode"), "the binding needs no unsafe code"
print(f"{manifest['name']} {manifest['version']} (Unity {manifest['unity']}+), asmdef {asmdef['name']}")
PY
then
    pass "package: $(cat "$WORK/pkg.log")"
else
    fail "package.json or the asmdef is wrong"; show "$WORK/pkg.log"
fi

finish
