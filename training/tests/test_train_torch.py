"""Training skeleton: data preparation from a corpus and a short run whose loss goes down.
Skipped where torch is absent (the library's CI)."""
import json
import os

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from kmtalk_ref import safetensors_io  # noqa: E402
from kmtalk_train import corpus, export, train  # noqa: E402
from kmtalk_train.model import KMTalkModel, tiny_config  # noqa: E402


@pytest.fixture(scope="module")
def tiny_corpus(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("corpus"))
    corpus.build(out, english_hours=0.005, other_minutes=0.05, seed=0, jobs=2, augment_fraction=0.2,
                 languages=["en"], real_speech_limit=0, log=lambda *_: None)
    return out


@pytest.fixture(scope="module")
def data(tiny_corpus):
    loaded = train.load_corpus(tiny_corpus, tiny_config(), log=lambda *_: None)
    if not loaded["train"]:
        pytest.skip("the tiny corpus has no training utterances (speech engines missing?)")
    return loaded


@pytest.mark.parametrize("labels, min_gap, max_gap, expected", [
    ("aaabbbcd", 2, 25, [0, 3, 6]),       # d is 1 after c: within min_gap
    ("aaabbbcd", 1, 25, [0, 3, 6, 7]),
    ("a" * 12, 2, 5, [0, 5, 10]),
    ("abbbbbbbb", 2, 4, [0, 4, 8]),       # b starts 1 after frame 0: skipped, then max_gap
    ("", 2, 25, []),
])
def test_ground_truth_keys(labels, min_gap, max_gap, expected):
    assert train.ground_truth_keys(list(labels), min_gap, max_gap) == expected


def test_resample_teacher_to_the_native_rate():
    frames = np.arange(61, dtype=np.float32)[:, None] * np.ones((1, 3), np.float32)  # value = frame index at 60 fps
    out = train.resample_teacher(frames, 51, 50.0)
    np.testing.assert_allclose(out[:, 0], np.arange(51) * 60 / 50, atol=1e-5)
    assert train.resample_teacher(frames, 60, 50.0)[-1, 0] == 60  # held at the end


def test_items_are_consistent(data):
    config = tiny_config()
    for item in data["train"] + data["validation"]:
        t = item.frames
        assert int(train.native_lengths(torch.tensor([item.mel.shape[0]]), config)[0]) == t
        assert item.phones.shape == (t,) and item.features.shape == (t, 7) and item.motion.shape == (t, 52)
        assert item.keys[0] == 0 and item.keys == sorted(set(item.keys)) and item.keys[-1] < t
        changes = [k for k in range(1, t) if item.labels[k] != item.labels[k - 1]]
        assert set(item.keys[1:]) <= set(changes) | set(range(t))
        assert len(item.keys) >= 0.5 * len(changes)
        assert np.all((item.motion >= 0) & (item.motion <= 1))


def test_collate_crops_and_pads(data):
    import random
    config = tiny_config()
    items = data["train"][:3]
    batch = train.collate(items, config, max_frames=20, rng=random.Random(0))
    assert batch.mel.shape[0] == 3 and int(batch.lengths.max()) <= 20
    assert batch.mask.shape == batch.motion.shape[:2] == batch.phones.shape
    for i, keys in enumerate(batch.keys):
        assert keys[0] == 0 and max(keys) < int(batch.lengths[i])


def test_twenty_steps_reduce_the_loss_and_export(tmp_path, tiny_corpus, data):
    config = tiny_config()
    train.seed_everything(0)
    initial = train.evaluate(KMTalkModel(config), data["train"], config, "cpu", predicted_keys=False)
    out = str(tmp_path / "model.safetensors")
    summary = train.train(tiny_corpus, out, steps=20, config=config, seed=0, batch_size=4, lr=3e-3, val_every=10,
                          data=data, log=lambda *_: None)
    assert summary["steps"] == 20 and len(summary["history"]) == 20
    final = train.evaluate(summary["model"], data["train"], config, "cpu", predicted_keys=False)
    print("initial", initial, "\nfinal", final)
    assert final["total"] < 0.8 * initial["total"]
    for name in ("phone", "position", "key_l2"):
        assert final[name] < initial[name], name
    # The schedule switched to predicted key frames in the second half.
    assert not any(h["predicted_keys"] for h in summary["history"][:5])
    assert any(h["predicted_keys"] for h in summary["history"][-6:])
    # The exported file is the engine's format and reloads into the same network.
    tensors, meta = safetensors_io.load(out)
    assert meta["architecture"] == "kmtalk" and json.loads(meta["config"]) == export.with_model_knowledge(config) and meta["steps"] == "20"
    model, _, _ = export.load(out)
    mel = torch.from_numpy(data["train"][0].mel)
    with torch.no_grad():
        torch.testing.assert_close(model.eval()(mel)["motion"], summary["model"].cpu().eval()(mel)["motion"])


def test_training_is_deterministic_for_a_seed(tiny_corpus, data):
    runs = [train.train(tiny_corpus, None, steps=4, config=tiny_config(), seed=5, batch_size=4, val_every=0,
                        data=data, log=lambda *_: None)["history"] for _ in range(2)]
    assert [h["total"] for h in runs[0]] == [h["total"] for h in runs[1]]


def test_direct_baseline_trains(tiny_corpus):
    config = tiny_config(use_keys=False)
    summary = train.train(tiny_corpus, None, steps=3, config=config, seed=0, batch_size=4, val_every=0,
                          log=lambda *_: None)
    assert set(summary["history"][0]) >= {"position", "velocity"} and "phone" not in summary["history"][0]


def test_evaluate_can_score_against_the_calibrated_teacher(tiny_corpus, data):
    from kmtalk_train import evaluate, teacher
    config = tiny_config()
    split = "train"
    stored = evaluate.load_items(tiny_corpus, config, split, limit=3, log=lambda *_: None)
    # the corpus's stored frames are the hand-set teacher: recomputing with its params matches them
    same = evaluate.load_items(tiny_corpus, config, split, limit=3, teacher_params=teacher.PARAMS, log=lambda *_: None)
    calibrated = evaluate.load_items(tiny_corpus, config, split, limit=3, teacher_params=teacher.calibrated_params(),
                                     log=lambda *_: None)
    assert [i.id for i in stored] == [i.id for i in same] == [i.id for i in calibrated]
    same_mae = np.mean([np.abs(a.motion - b.motion).mean() for a, b in zip(stored, same)])
    calibrated_mae = np.mean([np.abs(a.motion - c.motion).mean() for a, c in zip(stored, calibrated)])
    assert all(c.motion.shape == a.motion.shape for a, c in zip(stored, calibrated))
    assert same_mae < 1e-3 and calibrated_mae > 5 * same_mae


def test_weight_average_is_an_exponential_moving_average():
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 2)
    start = model.weight.detach().clone()
    average = train.WeightAverage(model, 0.9)
    expected = start.clone()
    for step in range(1, 40):
        with torch.no_grad():
            model.weight.add_(0.1)
        average.update(model, step)
        d = min(0.9, (1 + step) / (10 + step))
        expected = d * expected + (1 - d) * model.weight.detach()
    torch.testing.assert_close(average.state["weight"], expected)
    # It lags the trained weights, which moved by 3.9.
    assert float((model.weight.detach() - average.state["weight"]).mean()) > 0.3
    with pytest.raises(ValueError):
        train.WeightAverage(model, 1.0)


def test_ema_exports_the_average_and_the_raw_weights(tmp_path, tiny_corpus, data):
    out = str(tmp_path / "model.safetensors")
    summary = train.train(tiny_corpus, out, steps=12, config=tiny_config(), seed=0, batch_size=4, lr=3e-3,
                          val_every=0, data=data, log=lambda *_: None, select_best=False, ema_decay=0.8)
    averaged, _, _ = export.load(out)
    raw, _, _ = export.load(train.raw_path(out))
    assert train.raw_path(out).endswith("model.raw.safetensors")
    assert safetensors_io.load(out)[1]["weight_average"].endswith("0.8")
    assert "weight_average" not in safetensors_io.load(train.raw_path(out))[1]
    mel = torch.from_numpy(data["train"][0].mel)
    with torch.no_grad():
        a = averaged.eval()(mel)["motion"]
        r = raw.eval()(mel)["motion"]
        torch.testing.assert_close(a, summary["model"].cpu().eval()(mel)["motion"])
    assert float((a - r).abs().max()) > 1e-4
