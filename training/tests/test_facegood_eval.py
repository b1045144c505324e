"""The FACEGOOD rotation: data preparation, frozen fine-tuning, scoring. Synthetic takes in
the rig's channel layout, so the test needs neither the data nor much time. Skipped where
torch is absent (the library's CI)."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from kmtalk_train import capture, facegood_arkit, facegood_eval  # noqa: E402
from kmtalk_train.arkit import INDEX  # noqa: E402
from kmtalk_train.model import KMTalkModel, tiny_config  # noqa: E402


def rig_channels():
    names = []
    for rule in facegood_arkit.MAPPING + facegood_arkit.RIG_ONLY:
        for name, _ in rule.sources:
            if name not in names:
                names.append(name)
    return names


def fake_take(name, seconds, seed):
    rng = np.random.default_rng(seed)
    rate, fps = 16000, capture.FACEGOOD_FPS
    t = np.arange(int(seconds * rate)) / rate
    envelope = (np.sin(2 * np.pi * 1.5 * t) > 0).astype(np.float32)     # talk / pause every 1/3 s
    samples = (0.3 * envelope * np.sin(2 * np.pi * 220 * t) + 1e-4 * rng.standard_normal(len(t))).astype(np.float32)
    channels = rig_channels()
    frames = int(round(seconds * fps))
    motion = np.zeros((frames, len(channels)), np.float32)
    opener = channels.index("mouth_stretch_c")
    motion[:, opener] = 0.5 * (np.sin(2 * np.pi * 1.5 * np.arange(frames) / fps) > 0)
    return capture.MotionTake(samples=samples, sample_rate=rate, motion=motion, fps=fps, channels=channels,
                              space="rig", take=name, speaker="test")


@pytest.fixture(scope="module")
def setup():
    torch.manual_seed(0)
    model = KMTalkModel(tiny_config())
    takes = facegood_eval.prepare([fake_take(f"t{i}", 3.0 + i, i) for i in range(3)], model.config)
    return model, takes


def test_pause_frames_keeps_only_long_silences():
    rms = np.array([1, 0, 0, 1, 0, 0, 0, 0, 0, 1], dtype=np.float32) * 0.5
    pause = facegood_eval.pause_frames(rms, fps=10.0, threshold=0.01, min_seconds=0.3)
    assert pause.tolist() == [False, False, False, False, True, True, True, True, True, False]


def test_prepare_maps_the_rig_to_supervised_arkit_at_the_native_rate(setup):
    model, takes = setup
    take = takes[0]
    assert take.supervised[INDEX["jawOpen"]] and not take.supervised[INDEX["mouthClose"]]
    assert take.item.frames == pytest.approx(3.0 * model.fps, abs=2)
    jaw = take.item.motion[:, INDEX["jawOpen"]]
    assert jaw.max() == pytest.approx(0.5, abs=1e-6) and jaw.min() == pytest.approx(0.0, abs=1e-6)
    assert 0.2 < take.pause.mean() < 0.8     # the fake audio pauses half the time


def test_fine_tune_freezes_the_audio_side_and_learns_the_rest(setup):
    model, takes = setup
    adapted = facegood_eval.fine_tune(model, takes[:2], steps=3, device=torch.device("cpu"), batch_size=2,
                                      log=lambda *_: None)
    before, after = model.state_dict(), adapted.state_dict()
    for name in before:
        same = torch.equal(before[name], after[name])
        if name.startswith(("encoder.", "phone_head.", "feature_head.", "frontend.")):
            assert same, f"{name} changed"
    assert any(not torch.equal(before[n], after[n]) for n in before if n.startswith("cmc."))
    assert any(not torch.equal(before[n], after[n]) for n in before if n.startswith("key_decoder."))
    assert all(p.requires_grad for p in model.parameters()), "the original must stay untouched"


def test_score_take_is_zero_for_a_perfect_prediction_and_sensible_otherwise(setup, monkeypatch):
    model, takes = setup
    take = takes[1]
    scores = facegood_eval.score_take(model, take, torch.device("cpu"))
    assert set(scores) >= {"mae", "jaw_mae", "lips_mae", "velocity_mae", "jaw_correlation", "pause_rest_pct"}
    assert 0 < scores["mae"] < 1 and 0 <= scores["pause_rest_pct"] <= 100

    target = torch.from_numpy(take.item.motion)
    original = model.forward

    def perfect(mel, key_frames=None, lengths=None):
        out = original(mel, key_frames, lengths)
        out["motion"] = target[:len(out["motion"])]
        return out

    monkeypatch.setattr(model, "forward", perfect)
    exact = facegood_eval.score_take(model, take, torch.device("cpu"))
    assert exact["mae"] == pytest.approx(0, abs=1e-7) and exact["velocity_mae"] == pytest.approx(0, abs=1e-7)
    assert exact["jaw_correlation"] == pytest.approx(1.0, abs=1e-6)
