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


@pytest.mark.parametrize("loudness", [False, True])
def test_gains_fold_into_the_head_around_the_rest_pose(loudness):
    torch = pytest.importorskip("torch")
    from kmtalk_train.model import KMTalkModel, tiny_config
    from kmtalk_train.real_bench import log_mel
    torch.manual_seed(0)
    config = tiny_config(loudness=loudness)
    model = KMTalkModel(config).eval()
    if loudness:  # the loudness path adds to the same logits: it must scale with the head
        with torch.no_grad():
            model.cmc.loudness_head.weight.normal_(0, 2.0)
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


def test_select_gains_keeps_channels_and_couples_mouth_close():
    gains = {"jawOpen": 1.44, "mouthFunnel": 1.3, "mouthSmileLeft": 1.5}
    assert calibrate.select_gains(gains) == gains
    assert calibrate.select_gains(gains, ["jawOpen"]) == {"jawOpen": 1.44}
    coupled = calibrate.select_gains(gains, ["jawOpen"], mouth_close_exponent=0.5)
    assert coupled == {"jawOpen": 1.44, "mouthClose": pytest.approx(1.2)}
    assert list(calibrate.select_gains(gains, mouth_close_exponent=1.0)) == \
        ["jawOpen", "mouthClose", "mouthFunnel", "mouthSmileLeft"]  # ARKit order
    # No jaw gain: nothing to couple mouthClose to.
    assert calibrate.select_gains(gains, ["mouthFunnel"], mouth_close_exponent=0.5) == {"mouthFunnel": 1.3}
    with pytest.raises(ValueError, match="unknown"):
        calibrate.select_gains(gains, ["jawOpenn"])
    with pytest.raises(ValueError, match="exponent"):
        calibrate.select_gains(gains, mouth_close_exponent=-1)


def test_apply_command_writes_only_the_selected_gains(tmp_path):
    torch = pytest.importorskip("torch")
    from kmtalk_train.export import export, load
    from kmtalk_train.model import KMTalkModel, tiny_config
    torch.manual_seed(0)
    config = tiny_config()
    source = tmp_path / "m.safetensors"
    export(KMTalkModel(config).eval(), config, str(source), {})
    gains = tmp_path / "g.json"
    gains.write_text(json.dumps({"model": "m", "takes": ["t"], "gains": {"jawOpen": 1.21, "mouthFunnel": 2.0}}))
    out = tmp_path / "cal.safetensors"
    assert calibrate.main(["apply", str(source), str(gains), "--out", str(out), "--only", "jawOpen",
                           "--mouth-close-exponent", "0.5"]) == 0
    _, _, meta = load(str(out))
    assert json.loads(meta["range_gains"]) == {"jawOpen": 1.21, "mouthClose": 1.1}
    assert "only jawOpen" in meta["range_gains_selection"] and "^ 0.5" in meta["range_gains_selection"]
    # The selected head rows changed, the others did not.
    before, _, _ = load(str(source))
    after, _, _ = load(str(out))
    changed = (after.cmc.head.weight != before.cmc.head.weight).any(dim=1).numpy()
    assert sorted(ARKIT_52[i] for i in np.flatnonzero(changed)) == ["jawOpen", "mouthClose"]
    assert calibrate.main(["apply", str(source), str(gains), "--out", str(tmp_path / "x.safetensors"),
                           "--only", "mouthPucker"]) == 2
