#!/usr/bin/env bash
# Runs the Python bindings' test suite (bindings/python/tests) in a virtual
# environment at .venv-test, against the library in KMTALK_LIBRARY (default:
# .build/debug/libKMTalk.so; build it first with `swift build`).
#
#   scripts/test-python.sh [extra pytest arguments]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

PYTHON="${PYTHON:-python3}"
VENV="$ROOT/.venv-test"

if [[ ! -x "$VENV/bin/python" ]]; then
    echo "test-python: creating $VENV"
    # --system-site-packages: reuse the installed numpy (and pytest, if any).
    "$PYTHON" -m venv --system-site-packages "$VENV"
fi

echo "test-python: pip install -e bindings/python pytest pygltflib dask distributed"
# dask + distributed: tests/test_batch.py runs a batch on a local Dask cluster.
if ! "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e bindings/python pytest pygltflib \
        dask distributed; then
    # Offline fallback: build the editable install with the setuptools at hand.
    echo "test-python: retrying without build isolation"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-build-isolation \
        -e bindings/python pytest
    # pygltflib reads the CLI's GLB in one test, which skips without it.
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check pygltflib ||
        echo "test-python: pygltflib unavailable; the GLB test will be skipped"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check dask distributed ||
        echo "test-python: dask/distributed unavailable; the Dask batch test will be skipped"
fi

export KMTALK_LIBRARY="${KMTALK_LIBRARY:-$ROOT/.build/debug/libKMTalk.so}"
if [[ ! -f "$KMTALK_LIBRARY" ]]; then
    echo "test-python: FAIL: $KMTALK_LIBRARY does not exist (run \`swift build\` or set KMTALK_LIBRARY)" >&2
    exit 1
fi
echo "test-python: KMTALK_LIBRARY=$KMTALK_LIBRARY"

# pytest picks up its settings from bindings/python/pyproject.toml.
cd "$ROOT/bindings/python"
if "$VENV/bin/python" -m pytest -q -p no:cacheprovider tests "$@"; then
    echo "PASS: python bindings"
else
    status=$?
    echo "FAIL: python bindings (pytest exit $status)"
    exit "$status"
fi
