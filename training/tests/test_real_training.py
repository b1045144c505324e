"""The real-speech recipe's parts: teacher calibration plumbing, mel-domain augmentation,
packs, masked capture losses and the dynamic-range loss."""
import math
import random

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from kmtalk_train import mel_augment, pack, teacher, teacher_fit, train  # noqa: E402
from kmtalk_train.arkit import INDEX  # noqa: E402
from kmtalk_train.model import KMTalkModel, tiny_config  # noqa: E402


def test_fit_parameters_round_trip_within_bounds():
    vector = np.array([-3.0, 0.5, 2.0, -1.0, 0.0, 4.0, -4.0, 1.0, 0.3, -0.7])
    params = teacher_fit.to_params(vector)
    for name, (lo, hi) in teacher_fit.FITTED.items():
        value = {"loudness_gain_low": params["loudness_gain_range"][0],
                 "loudness_gain_high": params["loudness_gain_range"][1]}.get(name, params.get(name))
        assert lo <= value <= hi
    np.testing.assert_allclose(teacher_fit.from_params(params), vector, atol=1e-6)


def test_calibrated_params_load_the_committed_fit():
    params = teacher.calibrated_params()
    assert set(teacher.PARAMS) <= set(params)
    lo, hi = params["loudness_gain_range"]
    assert 0 < lo <= 1 <= hi
    assert params != teacher.PARAMS  # the fit moved something


def test_group_gain_scales_the_jaw():
    from kmtalk_train.types import Segment
    segments = [Segment(0.0, 0.2, "_"), Segment(0.2, 0.5, "a"), Segment(0.5, 0.8, "_")]
    samples = np.sin(np.arange(12800) * 0.05).astype(np.float32) * 0.3
    plain = teacher.animate(segments, samples, 16000).frames[:, INDEX["jawOpen"]]
    louder = teacher.animate(segments, samples, 16000, params=dict(teacher.PARAMS, jaw_gain=1.5)).frames[
        :, INDEX["jawOpen"]]
    assert louder.max() == pytest.approx(min(1.0, 1.5 * plain.max()), rel=0.05)


def test_take_terms_see_damping():
    t = np.arange(500) / 50
    captured = np.zeros((500, 52), np.float32)
    captured[:, INDEX["jawOpen"]] = 0.3 + 0.2 * np.sin(2 * np.pi * 3 * t)
    supervised = np.zeros(52, bool)
    supervised[INDEX["jawOpen"]] = True
    damped = captured.copy()
    damped[:, INDEX["jawOpen"]] = 0.3 + 0.05 * np.sin(2 * np.pi * 3 * t)
    terms = teacher_fit.take_terms(damped, captured, supervised)
    assert terms["jaw_r"] == pytest.approx(1.0, abs=1e-6)
    assert terms["jaw_log_dr"] == pytest.approx(math.log(0.25), abs=1e-3)


def _frontend():
    return tiny_config()["frontend"]


def test_mel_augment_changes_valid_frames_only_and_keeps_the_floor():
    cfg = _frontend()
    torch.manual_seed(0)
    mel = torch.randn(3, 120, cfg["n_mels"]) - 4
    lengths = torch.tensor([120, 80, 50])
    settings = mel_augment.AugmentSettings(p_gain=1, p_noise=1, p_reverb=1, p_band=1, p_vtlp=1)
    out = mel_augment.MelAugment(cfg, settings, seed=1)(mel, lengths)
    assert out.shape == mel.shape and torch.isfinite(out).all()
    assert out.min() >= math.log(cfg["log_floor"]) - 1e-5
    assert torch.equal(out[1, 80:], mel[1, 80:]) and torch.equal(out[2, 50:], mel[2, 50:])
    assert (out[0] - mel[0]).abs().mean() > 0.1


def test_reverb_adds_only_later_energy():
    cfg = _frontend()
    aug = mel_augment.MelAugment(cfg)
    x = torch.zeros(60, cfg["n_mels"])
    x[20] = 1.0                                        # one impulse frame
    y = aug._reverb(x, rt60=0.5, drr_db=0.0)
    assert torch.allclose(y[:20], x[:20])              # nothing before the impulse
    assert y[25].mean() > 1e-3 and y[25].mean() < y[21].mean()  # a decaying tail


def test_stretch_keeps_audio_and_motion_aligned():
    config = tiny_config()
    mel = np.random.default_rng(0).normal(size=(200, config["frontend"]["n_mels"])).astype(np.float32)
    motion = np.linspace(0, 1, 100, dtype=np.float32)[:, None].repeat(52, 1)
    count = lambda t: int(train.native_lengths(torch.tensor([t]), config)[0])  # noqa: E731
    new_mel, new_motion, labels = mel_augment.stretch_item(mel, motion, list(range(100)), 1.25, count)
    assert len(new_mel) == 160 and len(new_motion) == count(160) and len(labels) == len(new_motion)
    assert new_motion[0, 0] == 0 and new_motion[-1, 0] == pytest.approx(1.0)
    assert labels[0] == 0 and labels[-1] == 99


def _item(config, frames=60, supervised=None, seed=0, engine="", name="u"):
    rng = np.random.default_rng(seed)
    mel = rng.normal(size=(2 * frames, config["frontend"]["n_mels"])).astype(np.float32)
    motion = rng.uniform(size=(frames, 52)).astype(np.float32)
    if supervised is not None:
        return train.Item("take", "capture", "cmn", mel, motion, None, None, [], [], "capture", supervised)
    phones = rng.integers(0, 5, size=frames)
    lk = config["lkma"]
    features = np.zeros((frames, len(lk["features"])), np.float32)
    keys = train.ground_truth_keys(list(phones), lk["min_gap"], lk["max_gap"])
    return train.Item(name, "train", "en", mel, motion, phones, features, keys, [lk["phones"][p] for p in phones],
                      engine)


def test_pack_round_trip(tmp_path):
    config = tiny_config()
    supervised = np.zeros(52, bool)
    supervised[:5] = True
    items = {"train": [_item(config, seed=s, engine=["espeak", "human", ""][s]) for s in range(3)],
             "capture": [_item(config, 40, supervised)]}
    path = str(tmp_path / "p.npz")
    pack.save(path, items, config)
    back = pack.load(path, config)
    assert [len(i.mel) for i in back["train"]] == [len(i.mel) for i in items["train"]]
    np.testing.assert_allclose(back["train"][1].mel, items["train"][1].mel, atol=pack.MEL_STEP / 2 + 1e-6)
    np.testing.assert_allclose(back["train"][1].motion, items["train"][1].motion, atol=0.5 / 255 + 1e-6)
    assert np.array_equal(back["train"][2].phones, items["train"][2].phones)
    assert back["train"][2].keys == items["train"][2].keys
    assert np.array_equal(back["capture"][0].supervised, supervised) and back["capture"][0].phones is None
    assert [i.engine for i in back["train"]] == ["espeak", "human", ""] and back["capture"][0].engine == "capture"


def _ids_trained_on(monkeypatch, items, fraction, steps):
    """Which utterances' batches `train` collates with `recorded_fraction` = fraction."""
    seen = []
    collate = train.collate

    def spy(batch, *args, **kwargs):
        seen.append({item.id for item in batch})
        return collate(batch, *args, **kwargs)

    monkeypatch.setattr(train, "collate", spy)
    train.train(None, None, steps=steps, config=tiny_config(), seed=0, batch_size=2, val_every=0,
                data={"train": items, "validation": []}, recorded_fraction=fraction, log=lambda *_: None)
    return seen


def test_recorded_fraction_sets_the_share_of_recorded_speech(monkeypatch):
    config = tiny_config()
    items = ([_item(config, seed=s, engine="espeak", name=f"tts{s}") for s in range(4)]
             + [_item(config, seed=10 + s, engine="human", name=f"rec{s}") for s in range(4)])
    every = lambda batches, prefix: all(i.startswith(prefix) for b in batches for i in b)  # noqa: E731
    assert every(_ids_trained_on(monkeypatch, items, 1.0, 6), "rec")
    assert every(_ids_trained_on(monkeypatch, items, 0.0, 6), "tts")
    mixed = _ids_trained_on(monkeypatch, items, 0.3, 60)
    recorded = sum(all(i.startswith("rec") for i in b) for b in mixed)
    assert all(every([b], "rec") or every([b], "tts") for b in mixed)  # a batch comes from one stream
    assert 8 <= recorded <= 30  # 18 expected of 60
    with pytest.raises(ValueError, match="recorded"):
        _ids_trained_on(monkeypatch, items[:4], 0.3, 2)


def test_capture_loss_ignores_unsupervised_channels():
    config = tiny_config()
    torch.manual_seed(0)
    model = KMTalkModel(config)
    supervised = np.zeros(52, bool)
    supervised[INDEX["jawOpen"]] = True
    item = _item(config, 40, supervised)
    rng = random.Random(0)
    batch = train.collate([item], config, 1000, rng)
    _, parts, out = train.losses(model, batch, True, dict(train.LOSS_WEIGHTS, range=50.0))
    assert "phone" not in parts and "range" in parts
    changed = train.Item(**{**item.__dict__, "motion": item.motion.copy()})
    changed.motion[:, INDEX["mouthSmileLeft"]] = 0.9      # an unsupervised channel: no effect
    _, parts2, _ = train.losses(model, train.collate([changed], config, 1000, random.Random(0)), True,
                                dict(train.LOSS_WEIGHTS, range=50.0))
    assert parts2["position"] == pytest.approx(parts["position"])
    changed.motion[:, INDEX["jawOpen"]] += 0.1           # the supervised one: the loss moves
    _, parts3, _ = train.losses(model, train.collate([changed], config, 1000, random.Random(0)), True,
                                dict(train.LOSS_WEIGHTS, range=50.0))
    assert parts3["position"] != pytest.approx(parts["position"])


def test_dynamic_range_log_loss_weighs_small_channels_alike():
    torch = pytest.importorskip("torch")
    from kmtalk_train import train
    t = torch.linspace(0, 6.28, 100)
    mask = torch.ones(1, 100, dtype=torch.bool)
    # jaw (std ~0.12) and a lip channel (std ~0.04), both damped to a third; one flat channel.
    target = torch.stack([0.3 + 0.17 * torch.sin(t), 0.05 + 0.057 * torch.sin(3 * t), torch.full_like(t, 0.2)], -1)[None]
    damped = target.mean(1, keepdim=True) + (target - target.mean(1, keepdim=True)) / 3
    assert float(train.dynamic_range_log_loss(target, target, mask)) < 1e-6
    log_loss = float(train.dynamic_range_log_loss(damped, target, mask))
    # Both moving channels at log(3)^2 (up to the 1e-4 floor); the flat channel is left out.
    assert log_loss == pytest.approx(np.log(3) ** 2, rel=0.02)
    jaw_only = damped.clone()
    jaw_only[..., 1] = target[..., 1]
    assert float(train.dynamic_range_log_loss(jaw_only, target, mask)) == pytest.approx(log_loss / 2, rel=0.02)
    # The squared-difference loss barely sees the lip channel's shortfall.
    lips_only = target.clone()
    lips_only[..., 1] = damped[..., 1]
    assert float(train.dynamic_range_loss(lips_only, target, mask)) < 0.15 * float(train.dynamic_range_loss(jaw_only, target, mask))
    # Channels the item does not supervise are left out.
    channels = torch.tensor([[1.0, 0.0, 1.0]])
    assert float(train.dynamic_range_log_loss(lips_only, target, mask, channels)) < 1e-6


def test_correlation_loss_scores_shape_not_scale():
    from kmtalk_train import train
    t = torch.linspace(0, 6.28, 100)
    mask = torch.ones(1, 100, dtype=torch.bool)
    target = torch.stack([0.3 + 0.17 * torch.sin(t), 0.05 + 0.057 * torch.sin(3 * t), torch.full_like(t, 0.2)], -1)[None]
    damped = target.mean(1, keepdim=True) + (target - target.mean(1, keepdim=True)) / 3
    # Same shape at any scale and offset: r = 1 on both moving channels (the flat one is out).
    assert float(train.correlation_loss(target, target, mask)) < 1e-5
    assert float(train.correlation_loss(damped + 0.1, target, mask)) < 1e-5
    # Inverted: r = -1, loss 2; one channel inverted: the mean, 1.
    inverted = 2 * target.mean(1, keepdim=True) - target
    assert float(train.correlation_loss(inverted, target, mask)) == pytest.approx(2.0, abs=1e-4)
    half = target.clone()
    half[..., 0] = inverted[..., 0]
    assert float(train.correlation_loss(half, target, mask)) == pytest.approx(1.0, abs=1e-4)
    # A late copy of the jaw (a quarter period) is uncorrelated: loss ~1 on that channel.
    late = target.clone()
    late[..., 0] = 0.3 + 0.17 * torch.sin(t - 1.57)
    assert float(train.correlation_loss(late, target, mask, torch.tensor([[1.0, 0.0, 0.0]]))) == pytest.approx(1.0, abs=0.05)
    # Frames outside the mask do not count; channels the item does not supervise are left out.
    partial = torch.zeros(1, 100, dtype=torch.bool)
    partial[:, :50] = True
    spoiled = target.clone()
    spoiled[:, 50:] = 0.0
    assert float(train.correlation_loss(spoiled, target, partial)) < 1e-5
    assert float(train.correlation_loss(half, target, mask, torch.tensor([[0.0, 1.0, 1.0]]))) < 1e-5
    # It has a gradient towards the target's shape.
    moving = damped.clone().requires_grad_(True)
    train.correlation_loss(moving + 0.01 * torch.cos(7 * t)[None, :, None], target, mask).backward()
    assert float(moving.grad.abs().sum()) > 0


def test_dynamic_range_loss_punishes_damping():
    t = torch.linspace(0, 6.28, 100)
    target = (0.5 + 0.3 * torch.sin(t))[None, :, None].repeat(1, 1, 2)
    mask = torch.ones(1, 100, dtype=torch.bool)
    assert float(train.dynamic_range_loss(target, target, mask)) < 1e-8
    damped = 0.5 + 0.25 * (target - 0.5)
    assert float(train.dynamic_range_loss(damped, target, mask)) == pytest.approx(
        (0.3 / math.sqrt(2) * 0.75) ** 2, rel=0.02)


def test_closure_loss_counts_open_bilabial_frames_only():
    motion = torch.zeros(1, 6, 52)
    motion[0, :, INDEX["jawOpen"]] = torch.tensor([0.3, 0.3, 0.3, 0.3, 0.01, 0.3])
    motion[0, :, INDEX["mouthClose"]] = torch.tensor([0.0, 0.28, 0.0, 0.0, 0.0, 0.0])
    bilabial = torch.tensor([[1.0, 1.0, 0.0, 0.0, 1.0, 1.0]])
    mask = torch.tensor([[True, True, True, True, True, False]])
    # frames 0 (open: excess 0.28), 1 (sealed by mouthClose), 4 (jaw closed) count; 5 is padding
    assert float(train.closure_loss(motion, bilabial, mask)) == pytest.approx(0.28 ** 2 / 3, rel=1e-5)
    motion.requires_grad_(True)
    train.closure_loss(motion, bilabial, mask).backward()
    assert float(motion.grad[0, 0, INDEX["mouthClose"]]) < 0 < float(motion.grad[0, 0, INDEX["jawOpen"]])
    assert float(motion.grad[0, 2].abs().sum()) == 0.0


def test_closure_loss_punishes_mouth_close_beyond_the_jaw_on_every_frame():
    motion = torch.zeros(1, 4, 52)
    motion[0, :, INDEX["jawOpen"]] = torch.tensor([0.01, 0.3, 0.01, 0.01])
    motion[0, :, INDEX["mouthClose"]] = torch.tensor([0.13, 0.2, 0.0, 0.5])
    bilabial = torch.zeros(1, 4)  # no bilabial: only the over-closure side counts
    mask = torch.tensor([[True, True, True, False]])
    # frame 0: mouthClose 0.12 over the jaw; 1 and 2 are consistent; 3 is padding
    assert float(train.closure_loss(motion, bilabial, mask)) == pytest.approx(0.12 ** 2 / 3, rel=1e-4)
    motion.requires_grad_(True)
    train.closure_loss(motion, bilabial, mask).backward()
    assert float(motion.grad[0, 0, INDEX["mouthClose"]]) > 0 > float(motion.grad[0, 0, INDEX["jawOpen"]])
    assert float(motion.grad[0, 3].abs().sum()) == 0.0


def test_closure_loss_on_capture_uses_the_models_own_bilabial_detector():
    config = tiny_config()
    torch.manual_seed(0)
    model = KMTalkModel(config)
    supervised = np.zeros(52, bool)
    supervised[INDEX["jawOpen"]] = True
    batch = train.collate([_item(config, 40, supervised)], config, 1000, random.Random(0))
    _, parts, out = train.losses(model, batch, True, dict(train.LOSS_WEIGHTS, closure=50.0))
    bilabial = (out["feature_prob"][..., train.BILABIAL_FEATURE] >= 0.5).float()
    expected = train.closure_loss(out["motion"].detach().float(), bilabial, batch.mask)
    assert parts["closure"] == pytest.approx(float(expected))
    _, without, _ = train.losses(model, batch, True, train.LOSS_WEIGHTS)
    assert "closure" not in without


def test_labiodental_loss_pulls_lower_lip_in_and_jaw_closed_on_f_v_frames_only():
    motion = torch.zeros(1, 5, 52)
    motion[0, :, INDEX["mouthRollLower"]] = torch.tensor([0.1, 0.5, 0.1, 0.5, 0.1])
    motion[0, :, INDEX["jawOpen"]] = torch.tensor([0.05, 0.05, 0.3, 0.3, 0.3])
    labiodental = torch.tensor([[1.0, 1.0, 0.0, 1.0, 1.0]])
    mask = torch.tensor([[True, True, True, True, False]])
    # frame 0: lip short by ROLL - 0.1; frame 1 in contact; frame 3: jaw open by 0.3 - JAW;
    # frame 2 is no f/v, frame 4 padding
    expected = ((train.LABIODENTAL_ROLL - 0.1) ** 2 + (0.3 - train.LABIODENTAL_JAW) ** 2) / 3
    assert float(train.labiodental_loss(motion, labiodental, mask)) == pytest.approx(expected, rel=1e-5)
    motion.requires_grad_(True)
    train.labiodental_loss(motion, labiodental, mask).backward()
    assert float(motion.grad[0, 0, INDEX["mouthRollLower"]]) < 0 < float(motion.grad[0, 3, INDEX["jawOpen"]])
    assert float(motion.grad[0, 1].abs().sum()) == 0.0 and float(motion.grad[0, 2].abs().sum()) == 0.0


def test_labiodental_loss_on_labelled_items_follows_the_phone_labels():
    config = tiny_config()
    torch.manual_seed(0)
    model = KMTalkModel(config)
    item = _item(config, 40, None)
    item.features[10:16, train.LABIODENTAL_FEATURE] = 1.0
    batch = train.collate([item], config, 1000, random.Random(0))
    assert batch.phones is not None
    _, parts, out = train.losses(model, batch, True, dict(train.LOSS_WEIGHTS, labiodental=50.0))
    frames = (batch.features[..., train.LABIODENTAL_FEATURE] >= 0.5).float()
    expected = train.labiodental_loss(out["motion"].detach().float(), frames, batch.mask)
    assert float(frames.sum()) > 0 and float(expected) > 0
    assert parts["labiodental"] == pytest.approx(float(expected))
    assert "closure" not in parts


def test_restrict_supervision_keeps_only_the_named_measured_channels():
    config = tiny_config()
    supervised = np.zeros(52, bool)
    supervised[[INDEX["jawOpen"], INDEX["mouthFunnel"]]] = True
    take = _item(config, 40, supervised.copy())
    train.restrict_supervision([take], ["jawOpen", "mouthClose"])  # mouthClose: not measured, stays off
    assert np.flatnonzero(take.supervised).tolist() == [INDEX["jawOpen"]]
    with pytest.raises(ValueError, match="jawOpenn"):
        train.restrict_supervision([take], ["jawOpenn"])


def test_teacher_curves_supervise_the_measured_channels_the_capture_gives_up():
    config = tiny_config()
    supervised = np.zeros(52, bool)
    supervised[[INDEX["jawOpen"], INDEX["mouthFunnel"]]] = True
    take = _item(config, 40, supervised.copy())
    captured = take.motion.copy()
    measured = {take.id: take.supervised.copy()}
    train.restrict_supervision([take], ["jawOpen"])
    curve = np.full((39, 52), 0.25, np.float32)  # a frame short: the last is held
    train.teach_unsupervised_capture([take], {take.id: curve}, measured)
    assert np.flatnonzero(take.supervised).tolist() == sorted([INDEX["jawOpen"], INDEX["mouthFunnel"]])
    np.testing.assert_array_equal(take.motion[:, INDEX["jawOpen"]], captured[:, INDEX["jawOpen"]])
    np.testing.assert_array_equal(take.motion[:, INDEX["mouthFunnel"]], 0.25)
    np.testing.assert_array_equal(take.motion[:, INDEX["mouthClose"]], captured[:, INDEX["mouthClose"]])
    with pytest.raises(ValueError, match="teacher curve"):
        train.teach_unsupervised_capture([take], {take.id: curve[:20]}, measured)
    with pytest.raises(ValueError, match="no teacher curve"):
        train.teach_unsupervised_capture([take], {}, measured)
