#!/usr/bin/env python3
"""Regenerates the PyTorch golden files: the intermediates of the PyTorch model
(training/kmtalk_train/model.py) that the Swift engine must reproduce (issue 4's parity
contract: features, encoder output, phone posteriors, feature probabilities, boundary
scores and key poses within 1e-4, motion within 1e-3, key frames exactly).

    .venv-torch/bin/python training/make_torch_goldens.py            # writes into the repository
    .venv-torch/bin/python training/make_torch_goldens.py --out DIR  # elsewhere (a test compares)

Cases (model, audio -> golden):
  Fixtures/kmtalk-tiny.safetensors,   kmtalk_golden's samples  -> Fixtures/kmtalk_torch_golden.safetensors
  Fixtures/kmtalk-nokeys.safetensors, nokeys_golden's samples  -> Fixtures/nokeys_torch_golden.safetensors
  Fixtures/kmtalk-shallow.safetensors, shallow_golden's samples -> Fixtures/shallow_torch_golden.safetensors
  Fixtures/kmtalk-loudness.safetensors, loudness_golden's samples -> Fixtures/loudness_torch_golden.safetensors
  models/kmtalk-base.safetensors,     examples/audio/hello.wav -> Fixtures/base_torch_golden.safetensors

The tiny models and their samples come from make_fixtures.py (NumPy); the shipped default
model is the trained one, so the Swift test checks the weights users actually run. Each
golden also stores `locator_margin`: the smallest distance of any locator comparison from
flipping (float32 rounding in the engine must stay below it for the key frames to match).
"""
import argparse
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from kmtalk_ref import safetensors_io  # noqa: E402
from kmtalk_train.export import load  # noqa: E402
from kmtalk_train.train import read_wav  # noqa: E402

FIXTURES = os.path.join("Tests", "KMTalkEngineTests", "Fixtures")
CASES = [
    (os.path.join(FIXTURES, "kmtalk-tiny.safetensors"), ("golden", os.path.join(FIXTURES, "kmtalk_golden.safetensors")),
     "kmtalk_torch_golden.safetensors"),
    (os.path.join(FIXTURES, "kmtalk-nokeys.safetensors"), ("golden", os.path.join(FIXTURES, "nokeys_golden.safetensors")),
     "nokeys_torch_golden.safetensors"),
    (os.path.join(FIXTURES, "kmtalk-shallow.safetensors"), ("golden", os.path.join(FIXTURES, "shallow_golden.safetensors")),
     "shallow_torch_golden.safetensors"),
    (os.path.join(FIXTURES, "kmtalk-loudness.safetensors"),
     ("golden", os.path.join(FIXTURES, "loudness_golden.safetensors")), "loudness_torch_golden.safetensors"),
    (os.path.join("models", "kmtalk-base.safetensors"), ("wav", os.path.join("examples", "audio", "hello.wav")),
     "base_torch_golden.safetensors"),
]


def locator_margin(boundary: np.ndarray, threshold: float) -> float:
    """Smallest distance from flipping of any locator comparison that can change a key
    frame (docs/model.md): every score against the threshold, and the neighbour
    comparisons of scores that are (nearly) above it. Below-threshold frames cannot be
    peaks, so ties among them do not matter."""
    b = np.append(boundary.astype(np.float64), -1.0)
    count = len(boundary)
    gaps = [abs(b[t] - threshold) for t in range(1, count)]
    for t in range(1, count):
        if b[t] >= threshold - 1e-3:
            gaps += [abs(b[t] - b[t - 1]), abs(b[t] - b[t + 1])]
    return float(min(gaps)) if gaps else 1.0


def samples_for(source) -> np.ndarray:
    kind, path = source
    if kind == "wav":
        samples, rate = read_wav(os.path.join(ROOT, path))
        if rate != 16000:
            raise ValueError(f"{path}: expected 16 kHz")
        return samples
    tensors, _ = safetensors_io.load(os.path.join(ROOT, path))
    return np.asarray(tensors["samples"], dtype=np.float32)


@torch.no_grad()
def golden(model_path: str, samples: np.ndarray) -> dict:
    model, config, _ = load(os.path.join(ROOT, model_path))
    model.eval()
    out = model.forward_audio(torch.from_numpy(samples))
    f32 = lambda t: np.ascontiguousarray(t.detach().cpu().numpy(), dtype=np.float32)  # noqa: E731
    result = {"samples": samples.astype(np.float32), "features": f32(out["features"]), "encoded": f32(out["encoded"]),
              "motion": f32(out["motion"])}
    if "loudness" in out:
        result["loudness"] = f32(out["loudness"])
    if model.use_keys:
        result.update({"phone_post": f32(out["phone_post"]), "feature_prob": f32(out["feature_prob"]),
                       "boundary": f32(out["boundary"]),
                       "key_frames": np.array(out["key_frames"], dtype=np.float32),
                       "key_poses": f32(out["key_poses"]),
                       "locator_margin": np.array([locator_margin(out["boundary"].double().numpy(),
                                                                  config["lkma"]["key_threshold"])], np.float32)})
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=os.path.join(ROOT, FIXTURES), help="directory for the golden files")
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    torch.set_num_threads(1)   # one summation order, run to run
    os.makedirs(args.out, exist_ok=True)
    for model_path, source, name in CASES:
        result = golden(model_path, samples_for(source))
        safetensors_io.save(os.path.join(args.out, name), result,
                            {"generator": "training/make_torch_goldens.py", "model": model_path,
                             "torch": torch.__version__})
        keys = len(result.get("key_frames", []))
        margin = float(result["locator_margin"][0]) if "locator_margin" in result else float("nan")
        print(f"{name}: {result['motion'].shape[0]} frames, {keys} key frames, locator margin {margin:.2e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
