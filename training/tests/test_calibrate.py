"""Range calibration (kmtalk_train.calibrate): the gain search and the folding into the head."""
import json
import math

import numpy as np
import pytest

from kmtalk_train import calibrate
from kmtalk_train.arkit import ARKIT_52


def test_solve_gain_matches_the_target_spread():
    rng = np.random.default_rng(0)
    z0 = -3.0
    z = z0 + np.abs(rng.normal(0.0, 1.0, 2000))
    for true_gain in (0.8, 1.3, 2.2):
        target = calibrate._sigmoid(z0 + true_gain * (z - z0)).std()
        assert calibrate.solve_gain(z, z0, target) == pytest.approx(true_gain, rel=1e-6)
    # Out of reach: clipped to the bounds, never beyond.
    assert calibrate.solve_gain(z, z0, 10.0) == calibrate.GAIN_BOUNDS[1]
    assert calibrate.solve_gain(z, z0, 1e-9) == calibrate.GAIN_BOUNDS[0]


def test_combine_is_a_geometric_mean_over_the_sets_that_have_a_channel():
    combined = calibrate.combine([{"jawOpen": 2.0, "mouthFunnel": 1.5}, {"jawOpen": 0.5}])
    assert combined["jawOpen"] == pytest.approx(1.0)
    assert combined["mouthFunnel"] == pytest.approx(1.5)
    assert list(combined) == ["jawOpen", "mouthFunnel"]  # ARKit order


def test_gains_fold_into_the_head_around_the_rest_pose():
    torch = pytest.importorskip("torch")
    from kmtalk_train.model import KMTalkModel, tiny_config
    from kmtalk_train.real_bench import log_mel
    torch.manual_seed(0)
    config = tiny_config()
    model = KMTalkModel(config).eval()
    rng = np.random.default_rng(1)
    samples = (0.1 * rng.standard_normal(config["frontend"]["sample_rate"])).astype(np.float32)
    mel = log_mel(config, samples)
    before = calibrate.motion_logits(model, mel)
    gains = {"jawOpen": 1.8, "mouthFunnel": 0.7}
    z0 = calibrate.apply_gains(model, config, gains)
    after = calibrate.motion_logits(model, mel)
    a = np.ones(len(ARKIT_52))
    a[ARKIT_52.index("jawOpen")], a[ARKIT_52.index("mouthFunnel")] = 1.8, 0.7
    np.testing.assert_allclose(after, z0 + a * (before - z0), atol=2e-5)
    # Silence stays where it was.
    np.testing.assert_allclose(calibrate.rest_logits(model, config), z0, atol=2e-5)
    with pytest.raises(ValueError, match="positive"):
        calibrate.apply_gains(model, config, {"jawOpen": -1.0})
    with pytest.raises(ValueError, match="unknown"):
        calibrate.apply_gains(model, config, {"noSuchChannel": 1.0})


def test_apply_refuses_to_overwrite_its_input(tmp_path, capsys):
    gains = tmp_path / "g.json"
    gains.write_text(json.dumps({"model": "m", "takes": ["t"], "gains": {"jawOpen": 1.2}}))
    model = tmp_path / "m.safetensors"
    assert calibrate.main(["apply", str(model), str(gains), "--out", str(model)]) == 2
    assert "must not be the input" in capsys.readouterr().err
    assert not math.isnan(calibrate.GAIN_BOUNDS[0])
