"""The committed PyTorch goldens (Tests/KMTalkEngineTests/Fixtures/*_torch_golden) are what
training/make_torch_goldens.py writes today: a model or export change that forgets to
regenerate them fails here. Skipped where torch is absent (the library's CI); there the
Swift parity tests still compare the engine against the committed files."""
import os
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

HERE = os.path.dirname(os.path.abspath(__file__))
TRAINING = os.path.dirname(HERE)
sys.path.insert(0, TRAINING)
import make_torch_goldens  # noqa: E402
from kmtalk_ref import safetensors_io  # noqa: E402


def test_committed_goldens_match_a_fresh_run(tmp_path):
    assert make_torch_goldens.main(["--out", str(tmp_path)]) == 0
    for _, _, name in make_torch_goldens.CASES:
        fresh, _ = safetensors_io.load(str(tmp_path / name))
        committed, meta = safetensors_io.load(os.path.join(make_torch_goldens.ROOT, make_torch_goldens.FIXTURES, name))
        assert meta["generator"] == "training/make_torch_goldens.py"
        assert sorted(fresh) == sorted(committed), name
        for key in fresh:
            a, b = np.asarray(fresh[key]), np.asarray(committed[key])
            assert a.shape == b.shape, f"{name}/{key}"
            tolerance = 0 if key in ("samples", "key_frames") else 1e-5
            assert np.max(np.abs(a - b), initial=0) <= tolerance, f"{name}/{key}"
        if "locator_margin" in fresh:
            assert float(np.asarray(fresh["locator_margin"])[0]) > 1e-4, f"{name}: key frames too close to a tie"
