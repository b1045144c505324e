#!/usr/bin/env bash
# Tests of the training side: the NumPy reference (training/kmtalk_ref) and the committed
# golden fixtures (regenerating them must reproduce the committed files), and the corpus
# package (training/kmtalk_train: phones, speech engines, teacher, loaders, a small build).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.venv-test
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv --system-site-packages "$venv"
fi
"$venv/bin/python" -c "import numpy, scipy, pytest, pocketsphinx, soundfile" 2>/dev/null ||
  "$venv/bin/pip" install -q numpy scipy pytest pocketsphinx soundfile
"$venv/bin/python" -m pytest -q training/tests
