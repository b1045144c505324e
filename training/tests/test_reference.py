"""Tests of the NumPy reference itself, and that the committed golden fixtures are
exactly what training/make_fixtures.py produces."""
import os
import subprocess
import sys

import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
TRAINING = os.path.dirname(HERE)
ROOT = os.path.dirname(TRAINING)
sys.path.insert(0, TRAINING)

from kmtalk_ref import direct_model, frontend, ops, safetensors_io  # noqa: E402

FIXTURES = ["Tests/KMTalkEngineTests/Fixtures/" + name for name in (
    "ops_golden.safetensors", "logmel_golden.safetensors", "model_golden.safetensors",
    "learned-direct.safetensors", "learned_golden.safetensors", "kmtalk-tiny.safetensors", "kmtalk_golden.safetensors",
    "kmtalk-nokeys.safetensors", "nokeys_golden.safetensors", "kmtalk-vertices.safetensors",
    "vertices_golden.safetensors", "kmtalk-shallow.safetensors", "shallow_golden.safetensors",
    "kmtalk-loudness.safetensors", "loudness_golden.safetensors")] + [
    "models/kmtalk-tiny-random.safetensors"]


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory):
    out = tmp_path_factory.mktemp("fixtures")
    subprocess.run([sys.executable, os.path.join(TRAINING, "make_fixtures.py"), "--out", str(out)],
                   check=True, capture_output=True)
    return out


@pytest.mark.parametrize("relative", FIXTURES)
def test_committed_fixtures_match_the_generator(regenerated, relative):
    committed, committed_meta = safetensors_io.load(os.path.join(ROOT, relative))
    fresh, fresh_meta = safetensors_io.load(os.path.join(regenerated, relative))
    assert committed_meta == fresh_meta
    assert committed.keys() == fresh.keys()
    for name in committed:
        np.testing.assert_allclose(committed[name], fresh[name], atol=1e-6, err_msg=name)


def test_safetensors_round_trip_all_dtypes(tmp_path):
    x = np.linspace(-3, 3, 12, dtype=np.float32).reshape(3, 4)
    path = tmp_path / "t.safetensors"
    safetensors_io.save(path, {"a": x, "b": x, "c": x}, {"k": "v"}, {"b": "F16", "c": "BF16"})
    tensors, meta = safetensors_io.load(path)
    assert meta == {"k": "v"}
    np.testing.assert_array_equal(tensors["a"], x)
    np.testing.assert_array_equal(tensors["b"], x.astype(np.float16).astype(np.float32))
    np.testing.assert_allclose(tensors["c"], x, rtol=1 / 128)


def test_conv1d_equals_numpy_correlate_for_one_channel():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(20, 1))
    w = rng.normal(size=(1, 1, 5))
    y = ops.conv1d(x, w, padding=2)
    np.testing.assert_allclose(y[:, 0], np.correlate(np.pad(x[:, 0], 2), w[0, 0], mode="valid"))
    assert ops.conv1d(x, w, stride=3, padding=2).shape == (7, 1)


def test_attention_band_wider_than_sequence_equals_full_attention():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(9, 8))
    w = {n: rng.normal(size=(8, 8)) for n in ("q", "k", "v", "out")}
    w.update({n + "_bias": rng.normal(size=8) for n in ("q", "k", "v", "out")})
    np.testing.assert_allclose(ops.multi_head_self_attention(x, w, 2, (100, 100)),
                               ops.multi_head_self_attention(x, w, 2))


def test_log_mel_matches_a_direct_dft_of_one_frame():
    cfg = {"sample_rate": 16000, "n_fft": 64, "win_length": 48, "hop_length": 16, "n_mels": 8,
           "f_min": 0.0, "f_max": 8000.0, "log_floor": 1e-10}
    rng = np.random.default_rng(2)
    signal = rng.normal(size=400)
    features = frontend.log_mel(signal, cfg)
    assert features.shape == (1 + 400 // 16, 8)
    t = 10
    window = np.zeros(64)
    window[8:56] = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(48) / 48)
    frame = np.array([signal[t * 16 - 32 + i] if 0 <= t * 16 - 32 + i < 400 else 0 for i in range(64)]) * window
    spectrum = np.array([np.sum(frame * np.exp(-2j * np.pi * k * np.arange(64) / 64)) for k in range(33)])
    mel = np.abs(spectrum) ** 2 @ frontend.mel_filterbank(cfg).T
    np.testing.assert_allclose(features[t], np.log(np.maximum(mel, 1e-10)), rtol=1e-9)


def test_mel_filters_are_unit_peaked_triangles():
    cfg = {"sample_rate": 16000, "n_fft": 512, "n_mels": 40, "f_min": 0.0, "f_max": 8000.0}
    fb = frontend.mel_filterbank(cfg)
    assert fb.shape == (40, 257)
    assert np.all(fb >= 0) and np.all(fb.max(axis=1) > 0.5) and np.all(fb.max(axis=1) <= 1)


def test_resample_frames_keeps_the_time_span():
    motion = np.arange(11, dtype=float)[:, None]  # 11 frames at 50 fps = 0.2 s
    up = ops.resample_frames(motion, 50, 60)
    assert up.shape == (13, 1)
    np.testing.assert_allclose(up[:, 0], np.arange(13) * 50 / 60)
    assert ops.resample_frames(motion, 50, 50) is motion


def test_kmtalk_locator_scan():
    from kmtalk_ref.kmtalk_model import locate_key_frames
    assert locate_key_frames(np.array([0, 0.2, 0.9, 0.8, 0.1, 0.1, 0.4, 0.1, 0.1, 0.7, 0.2]), 0.5, 2, 5) == [0, 2, 7, 9]
    assert locate_key_frames(np.array([0, 0.6, 0.6, 0.6, 0.1]), 0.5, 2, 5) == [0, 3]


def test_tiny_model_outputs_are_weights():
    config = direct_model.tiny_config()
    weights = direct_model.random_weights(config, seed=5)
    samples = np.random.default_rng(3).normal(0, 0.1, 8000).astype(np.float32)
    features, encoded, motion = direct_model.forward(samples, weights, config)
    assert features.shape == (51, 40)
    assert encoded.shape == (26, 32)
    assert motion.shape == (26, 52) and np.all((motion > 0) & (motion < 1))


def test_arkit_names_match_the_engine():
    """The Python and Swift ARKit channel lists are one list."""
    import re
    from kmtalk_train.arkit import ARKIT_52
    swift = open(os.path.join(ROOT, "Sources", "KMTalkEngine", "Motion", "ARKitChannels.swift")).read()
    names = re.findall(r'"([A-Za-z]+)"', swift[swift.index("names"):])
    assert names == ARKIT_52 and len(names) == 52


def test_vertices_space_fixture_template_and_outputs():
    """The vertices-space test model: channels v<i>.x/y/z, an identity head, its template
    (faces counter-clockwise seen from +z, indices in range) and golden vertices equal to
    template + offsets."""
    from kmtalk_ref import kmtalk_model
    fixtures = os.path.join(ROOT, "Tests", "KMTalkEngineTests", "Fixtures")
    tensors, meta = safetensors_io.load(os.path.join(fixtures, "kmtalk-vertices.safetensors"))
    import json
    motion = json.loads(meta["config"])["motion"]
    template, faces = tensors["motion.template"], tensors["motion.faces"].astype(np.int64)
    assert motion["space"] == "vertices" and motion["activation"] == "identity" and motion["units"] == "cm"
    assert motion["channels"] == kmtalk_model.vertex_channels(len(template)) and len(motion["channels"]) == 3 * len(template)
    assert motion["channels"][:4] == ["v0.x", "v0.y", "v0.z", "v1.x"]
    assert faces.min() >= 0 and faces.max() < len(template)
    a, b, c = template[faces[:, 0]], template[faces[:, 1]], template[faces[:, 2]]
    assert np.all(np.cross(b - a, c - a)[:, 2] > 0), "faces turn counter-clockwise seen from +z"
    golden, _ = safetensors_io.load(os.path.join(fixtures, "vertices_golden.safetensors"))
    frames = len(golden["motion"])
    np.testing.assert_allclose(golden["vertices"], template[None] + golden["motion"].reshape(frames, -1, 3), atol=1e-5)
