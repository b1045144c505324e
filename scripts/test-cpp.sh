#!/usr/bin/env bash
# Tests the header-only C++17 wrapper bindings/cpp/kmtalk.hpp:
#   1. kmtalk.hpp compiles on its own as C++17 and as C++20 (syntax only,
#      -Wall -Wextra -Werror -pedantic), and test_kmtalk.cpp as C++20 too;
#   2. bindings/cpp/test_kmtalk.cpp builds against the library with
#      -std=c++17 -Wall -Wextra -Werror -pedantic and an rpath;
#   3. the test runs from the repository root (models, examples/audio/hello.wav,
#      the head rig, exports, streaming, errors, moves) and exits 0;
#   4. with KMTALK_VALGRIND=1 and valgrind installed: the test has no memory
#      errors or definite leaks.
#
# Environment: KMTALK_LIB_DIR (default .build/debug), CXX, KMTALK_VALGRIND.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

CXX="${CXX:-c++}"
LIB_DIR="${KMTALK_LIB_DIR:-.build/debug}"
LIB_DIR="$(cd "$LIB_DIR" 2>/dev/null && pwd || echo "$LIB_DIR")"
CXXFLAGS=(-Wall -Wextra -Werror -pedantic -Iinclude -Ibindings/cpp)

WORK="$(mktemp -d "${TMPDIR:-/tmp}/kmtalk-test-cpp.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

failures=0
pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
show() { sed 's/^/    | /' "$1"; }

# 1. The header alone, C++17 and C++20 (syntax only).
for std in c++17 c++20; do
    if echo '#include "kmtalk.hpp"' | "$CXX" -std="$std" "${CXXFLAGS[@]}" -fsyntax-only -x c++ - \
            >"$WORK/hdr-$std.log" 2>&1; then
        pass "kmtalk.hpp compiles alone as $std (-Wall -Wextra -Werror -pedantic)"
    else
        fail "kmtalk.hpp does not compile alone as $std"; show "$WORK/hdr-$std.log"
    fi
done

if "$CXX" -std=c++20 "${CXXFLAGS[@]}" -fsyntax-only bindings/cpp/test_kmtalk.cpp >"$WORK/test20.log" 2>&1; then
    pass "test_kmtalk.cpp also compiles as c++20 (std::span overloads)"
else
    fail "test_kmtalk.cpp does not compile as c++20"; show "$WORK/test20.log"
fi

# 2. Build the test program.
if [[ ! -f "$LIB_DIR/libKMTalk.so" ]]; then
    fail "no libKMTalk.so in $LIB_DIR (run \`swift build\` or set KMTALK_LIB_DIR)"
    echo "test-cpp: $failures failure(s)"
    exit 1
fi
TEST="$WORK/test_kmtalk"
if "$CXX" -std=c++17 "${CXXFLAGS[@]}" -pthread bindings/cpp/test_kmtalk.cpp -o "$TEST" \
        -L"$LIB_DIR" -lKMTalk -Wl,-rpath,"$LIB_DIR" >"$WORK/build.log" 2>&1; then
    pass "bindings/cpp/test_kmtalk.cpp builds against $LIB_DIR (-std=c++17 -Wall -Wextra -Werror -pedantic)"
else
    fail "bindings/cpp/test_kmtalk.cpp does not build"; show "$WORK/build.log"
    echo "test-cpp: $failures failure(s)"
    exit 1
fi
if readelf -d "$TEST" 2>/dev/null | grep -Eq "(RPATH|RUNPATH).*$LIB_DIR"; then
    pass "test_kmtalk carries an rpath to $LIB_DIR"
else
    fail "test_kmtalk has no rpath to $LIB_DIR"
fi

# 3. Run it from the repository root.
set +e
"$TEST" "$ROOT" >"$WORK/run.out" 2>&1
status=$?
set -e
sed 's/^/    /' "$WORK/run.out"
if [[ $status -eq 0 ]] && grep -q '^test_kmtalk: [0-9]* passed, 0 failed' "$WORK/run.out"; then
    pass "test_kmtalk: $(grep '^test_kmtalk:' "$WORK/run.out" | sed 's/^test_kmtalk: //')"
else
    fail "test_kmtalk exited $status"
    grep '^FAIL' "$WORK/run.out" | sed 's/^/    | /' || true
fi

# 4. Valgrind (opt-in: slow).
if [[ "${KMTALK_VALGRIND:-0}" == "1" ]]; then
    if command -v valgrind >/dev/null; then
        set +e
        valgrind --error-exitcode=3 --leak-check=full --errors-for-leak-kinds=definite \
            "$TEST" "$ROOT" >"$WORK/vg.out" 2>"$WORK/vg.err"
        status=$?
        set -e
        if [[ $status -eq 0 ]]; then
            pass "valgrind clean: test_kmtalk ($(grep -o 'ERROR SUMMARY: [0-9]* errors' "$WORK/vg.err"))"
        else
            fail "valgrind run exited $status"
            grep -E "ERROR SUMMARY|definitely lost|Invalid|uninitialised" "$WORK/vg.err" | sed 's/^/    | /'
            grep '^FAIL' "$WORK/vg.out" | sed 's/^/    | /' || true
        fi
    else
        echo "SKIP: valgrind not installed"
    fi
else
    echo "SKIP: valgrind (set KMTALK_VALGRIND=1 to run)"
fi

if [[ $failures -eq 0 ]]; then
    echo "test-cpp: all passed"
else
    echo "test-cpp: $failures failure(s)"
    exit 1
fi
