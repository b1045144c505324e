#!/usr/bin/env bash
# Tests of the NumPy reference (training/kmtalk_ref) and of the committed golden
# fixtures: regenerating them must reproduce the committed files.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.venv-test
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv --system-site-packages "$venv"
fi
"$venv/bin/python" -c "import numpy, pytest" 2>/dev/null || "$venv/bin/pip" install -q numpy pytest
"$venv/bin/python" -m pytest -q training/tests
