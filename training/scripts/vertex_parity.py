"""The engine against PyTorch on a vertices-space model: `kmtalk animate WAV -o X.npy`
(posed vertices, frames x V x 3 in the model's units) against the PyTorch network loaded
from the same file (export.load) run on the same 16 kHz audio. Prints the largest and the
mean difference, in the model's units.

    python training/scripts/vertex_parity.py MODEL.safetensors AUDIO.wav [--cli .build/release/kmtalk]
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from kmtalk_train import capture, export  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model")
    parser.add_argument("audio")
    parser.add_argument("--cli", default=".build/release/kmtalk")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        out = os.path.join(folder, "posed.npy")
        subprocess.run([args.cli, "animate", args.audio, "--model", args.model, "-o", out, "--quiet"], check=True)
        engine = np.load(out)
    model, config, _ = export.load(args.model)
    samples, rate = capture.read_wav_mono(args.audio)
    if rate != config["frontend"]["sample_rate"]:
        raise SystemExit(f"{args.audio}: {rate} Hz; give {config['frontend']['sample_rate']} Hz audio (the engine would resample)")
    with torch.no_grad():
        offsets = model.eval().forward_audio(torch.from_numpy(samples))["motion"].numpy()
    reference = model.motion_template[None] + offsets.reshape(len(offsets), -1, 3)
    frames = min(len(engine), len(reference))
    difference = np.abs(engine[:frames] - reference[:frames])
    units = config["motion"].get("units", "m")
    print(f"{args.model}: {frames} frames x {engine.shape[1]} vertices (engine {len(engine)}, PyTorch {len(reference)} frames); "
          f"max |engine - PyTorch| {difference.max():.2e} {units}, mean {difference.mean():.2e} {units}; "
          f"offsets up to {np.abs(offsets).max():.2f} {units}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
