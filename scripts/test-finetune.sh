#!/usr/bin/env bash
# Fine-tuning end to end (training/tests/test_finetune.py, docs/finetune.md) with PyTorch:
# take discovery and refusals, then `python -m kmtalk_train.finetune` for a few steps on a
# generated Live Link Face capture (espeak-ng speech, a MOV made by ffmpeg), on two FACEGOOD
# takes (../shared/data/facegood; skipped when absent) and on vertex sequences, and the
# Swift engine loading the result (.build/debug/libKMTalk.so; skipped when not built).
# Creates or reuses .venv-torch (PyPI's torch: the CUDA build, about 3 GB); installs
# ffmpeg when it is missing (apt). About 2 minutes on a 2-core machine once the venv exists.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v ffmpeg >/dev/null; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq ffmpeg
fi
venv=.venv-torch
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv --system-site-packages "$venv"
fi
"$venv/bin/python" -c "import torch, safetensors, matplotlib, numpy, scipy, soundfile, pytest" 2>/dev/null ||
  "$venv/bin/pip" install -q torch safetensors matplotlib numpy scipy soundfile pytest
started=$(date +%s)
"$venv/bin/python" -m pytest -q -rs -p no:cacheprovider training/tests/test_finetune.py
echo "PASS: fine-tuning ($(( $(date +%s) - started )) s)"
