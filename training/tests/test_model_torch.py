"""PyTorch `kmtalk` model: shapes, band look-ahead, key-frame locator, parity with the NumPy
reference (kmtalk_ref.kmtalk_model) and the export format. Skipped where torch is absent
(the library's CI)."""
import json
import os
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

HERE = os.path.dirname(os.path.abspath(__file__))
TRAINING = os.path.dirname(HERE)
sys.path.insert(0, TRAINING)

from kmtalk_ref import safetensors_io  # noqa: E402
from kmtalk_train import export as export_module  # noqa: E402
from kmtalk_train.arkit import ARKIT_52  # noqa: E402
from kmtalk_train.model import (FEATURES, KeyFrameLocator, KMTalkModel, LogMel, default_config,  # noqa: E402
                                lookahead_frames, native_lengths, tiny_config)
from kmtalk_train.phones import INVENTORY  # noqa: E402

TOL = 1e-4


def reference():
    return pytest.importorskip("kmtalk_ref.kmtalk_model")


def test_signal(seconds, seed=0, rate=16000):
    """Broadband noise plus tones and a chirp (as make_fixtures.test_signal)."""
    rng = np.random.default_rng(seed)
    n = int(seconds * rate)
    time = np.arange(n) / rate
    signal = 0.1 * rng.normal(size=n)
    signal += 0.3 * np.sin(2 * np.pi * 220 * time) + 0.2 * np.sin(2 * np.pi * (300 + 1500 * time) * time)
    return (signal * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * time))).astype(np.float32)


test_signal.__test__ = False


def sharp_model(config, seed=0):
    """Torch-initialised model with a sharpened phone head so the locator finds peaks."""
    torch.manual_seed(seed)
    model = KMTalkModel(config).eval()
    if model.use_keys:
        with torch.no_grad():
            model.phone_head.weight.mul_(8.0)
    return model


# --------------------------------------------------------------------------------------
# Configs, names, shapes
# --------------------------------------------------------------------------------------

def test_default_config_matches_the_brief_and_is_under_8m_parameters():
    config = default_config()
    enc, lk, cmc, motion = config["encoder"], config["lkma"], config["cmc"], config["motion"]
    assert (enc["width"], enc["layers"], enc["heads"], enc["ffn_width"]) == (128, 4, 4, 256)
    assert (enc["band_back"], enc["band_ahead"]) == (25, 2)
    assert enc["conv"] == [{"kernel": 3, "stride": 1, "channels": 128}, {"kernel": 3, "stride": 2, "channels": 128}]
    assert config["frontend"]["n_mels"] == 80 and config["frontend"]["sample_rate"] == 16000
    assert config["frontend"]["hop_length"] == 160 and motion["fps"] == 50.0
    assert (lk["embedding_width"], lk["hidden_width"], lk["key_threshold"], lk["min_gap"], lk["max_gap"]) == \
        (32, 128, 0.5, 2, 25)
    assert lk["phones"] == list(INVENTORY) and lk["features"] == FEATURES and len(FEATURES) == 7
    from kmtalk_train import teacher
    assert tuple(FEATURES) == tuple(teacher.FEATURE_NAMES)
    assert (cmc["width"], cmc["layers"], cmc["band_back"], cmc["band_ahead"], cmc["use_keys"]) == (128, 2, 25, 2, True)
    assert motion["channels"] == ARKIT_52 and motion["activation"] == "sigmoid" and motion["space"] == "arkit"
    count = KMTalkModel(config).parameter_count()
    print(f"default_config: {count:,} parameters")
    assert count < 8_000_000
    # conv 1 + 4 layers * 2 + locator 1 + 2 layers * 2 = 14 native frames = 280 ms
    assert lookahead_frames(config) == 14


@pytest.mark.parametrize("use_keys", [True, False])
def test_parameter_names_are_the_spec_tensor_names(use_keys):
    for config in (tiny_config(use_keys=use_keys), default_config(use_keys=use_keys),
                   tiny_config(use_keys=use_keys, shallow=True), tiny_config(use_keys=use_keys, loudness=True)):
        model = KMTalkModel(config)
        state = {k: tuple(v.shape) for k, v in model.state_dict().items()}
        assert state == export_module.expected_shapes(config)
    assert "encoder.layers.0.attn.q.weight" in state
    assert ("phone_head.weight" in state) == use_keys and ("cmc.key_proj.weight" in state) == use_keys


def test_learned_positions_parameter():
    config = tiny_config(positions="learned")
    config["encoder"]["max_positions"] = 64
    model = KMTalkModel(config)
    assert tuple(model.state_dict()["encoder.positions"].shape) == (64, 32)
    with pytest.raises(ValueError):
        model(torch.zeros(200, 40))


def test_shapes_single_utterance():
    config = tiny_config()
    model = sharp_model(config)
    samples = torch.tensor(test_signal(1.01))
    out = model.forward_audio(samples)
    t_mel = 1 + 16160 // 160
    t = (t_mel - 1) // 2 + 1
    p, f, m = len(INVENTORY), 7, 52
    assert out["features"].shape == (t_mel, 40)
    assert out["encoded"].shape == (t, 32)
    assert out["phone_logits"].shape == out["phone_post"].shape == (t, p)
    assert out["feature_prob"].shape == (t, f) and out["boundary"].shape == (t,)
    assert out["motion"].shape == (t, m) and bool(((out["motion"] > 0) & (out["motion"] < 1)).all())
    keys = out["key_frames"]
    assert isinstance(keys, list) and keys[0] == 0 and keys == sorted(set(keys)) and len(keys) > 2
    assert out["key_poses"].shape == (len(keys), m)
    torch.testing.assert_close(out["phone_post"].sum(-1), torch.ones(t))
    assert int(out["lengths"]) == t and int(native_lengths(torch.tensor([t_mel]), config)[0]) == t


def test_shapes_direct_variant():
    model = sharp_model(tiny_config(use_keys=False))
    out = model(torch.randn(90, 40))
    assert out["motion"].shape == (45, 52) and out["key_frames"] == []
    assert "phone_post" not in out and not hasattr(model, "phone_head")


def test_batched_equals_single_with_padding():
    model = sharp_model(tiny_config(), seed=3)
    mels = [model.frontend(torch.tensor(test_signal(s, seed=i))) for i, s in enumerate((0.93, 0.51, 0.72))]
    lengths = torch.tensor([m.shape[0] for m in mels])
    batch = torch.zeros(3, int(lengths.max()), 40)
    for i, m in enumerate(mels):
        batch[i, :m.shape[0]] = m
        batch[i, m.shape[0]:] = 7.0  # garbage in the padding must not leak
    with torch.no_grad():
        together = model(batch, lengths=lengths)
        for i, m in enumerate(mels):
            alone = model(m)
            n = int(alone["lengths"])
            assert int(together["lengths"][i]) == n
            assert together["key_frames"][i] == alone["key_frames"]
            for key in ("encoded", "phone_post", "feature_prob", "motion"):
                torch.testing.assert_close(together[key][i, :n], alone[key], atol=1e-5, rtol=0)
            torch.testing.assert_close(together["key_poses"][i], alone["key_poses"], atol=1e-5, rtol=0)


def test_given_key_frames_override_the_locator_and_get_gradients():
    model = sharp_model(tiny_config())
    mel = torch.randn(120, 40)
    out = model(mel, key_frames=[0, 7, 30, 59])
    assert out["key_frames"] == [0, 7, 30, 59] and out["key_poses"].shape == (4, 52)
    loss = out["motion"].square().mean() + out["key_poses"].mean() + out["phone_logits"].logsumexp(-1).mean()
    loss.backward()
    assert model.key_decoder.fc1.weight.grad.abs().sum() > 0
    assert model.cmc.key_proj.weight.grad.abs().sum() > 0
    assert model.encoder.conv[0].weight.grad.abs().sum() > 0
    with pytest.raises(ValueError):
        model(mel, key_frames=[0, 60])
    with pytest.raises(ValueError):
        model(mel, key_frames=[0, 3, 3])


# --------------------------------------------------------------------------------------
# Band attention bounds the look-ahead
# --------------------------------------------------------------------------------------

def test_band_mask_bounds_the_look_ahead():
    config = tiny_config()  # encoder 2 layers x 3 ahead, cmc 2 layers x 2 ahead
    model = sharp_model(config, seed=1)
    assert lookahead_frames(config) == 1 + 2 * 3 + 1 + 2 * 2
    encoder_ahead = 1 + 2 * 3
    total_ahead = lookahead_frames(config)
    mel = model.frontend(torch.tensor(test_signal(2.0)))
    n = 60  # native frame n <-> mel frame 2n; perturb everything from there on
    changed = mel.clone()
    changed[2 * n:] = torch.randn_like(changed[2 * n:]) * 3
    with torch.no_grad():
        a, b = model(mel), model(changed)
    diff = (a["encoded"] - b["encoded"]).abs().amax(-1)
    assert float(diff[:n - encoder_ahead].max()) == 0.0
    assert float(diff[n - encoder_ahead]) > 1e-4  # the bound is tight
    assert a["key_frames"][:10] == b["key_frames"][:10]
    keys_a = [k for k in a["key_frames"] if k < n - total_ahead + 4]
    assert keys_a == [k for k in b["key_frames"] if k < n - total_ahead + 4]
    motion = (a["motion"] - b["motion"]).abs().amax(-1)
    assert float(motion[:n - total_ahead].max()) == 0.0
    assert float(motion[n - total_ahead:].max()) > 1e-4
    # The bound is tight: with a key frame at t + 4 (the CMC's reach), motion[t] depends on
    # the key pose there, which reads post[t + 5], whose encoder frame reads mel frames up to
    # 2 (t + 5 + 6) + 2 = 2 (t + 12): exactly `total_ahead` native frames.
    t = 40
    mel = mel.clone().requires_grad_(True)
    out = model(mel, key_frames=[0, 10, 20, 30, t + 4])
    out["motion_logits"][t].sum().backward()
    reach = mel.grad.abs().amax(-1)
    assert float(reach[2 * (t + total_ahead)]) > 0.0
    assert float(reach[2 * (t + total_ahead) + 1:].max()) == 0.0


# --------------------------------------------------------------------------------------
# KeyFrameLocator
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("boundary, min_gap, max_gap, expected", [
    ([0, .9, .2, .1, .8, .3], 2, 25, [0, 4]),            # t=1 is a peak but 1 - 0 < min_gap
    ([0, .9, .2, .1, .8, .3], 1, 25, [0, 1, 4]),
    ([0, .2, .9, .95, .1, .6, .9, .2], 2, 25, [0, 3, 6]),  # rising edge is not a peak
    ([0, .1, .9, .5, .9, .1], 2, 25, [0, 2, 4]),
    ([0, .1, .9, .5, .9, .1], 3, 25, [0, 4]),             # min_gap 3 skips t=2; t=4 is 4 after 0
    ([0, .1, .9, .6, .9, .1, .1], 3, 25, [0, 4]),
    ([0, .1, .8, .8, .3], 1, 25, [0, 3]),                # plateau: its last frame (>= left, > right)
    ([0, .1, .5, .2], 1, 25, [0, 2]),                    # b == threshold counts
    ([0, .1, .49, .2], 1, 25, [0]),
    ([0, .2, .3, .7], 1, 25, [0, 3]),                    # the last frame: b[T] = -1
    ([0.0] * 60, 2, 25, [0, 25, 50]),                    # max_gap anchors long pauses
    ([0.0] * 10 + [0, .9, .1] + [0.0] * 30, 2, 25, [0, 11, 36]),
    ([0.0] * 24 + [.9, .95, .1] + [0.0] * 5, 2, 25, [0, 25]),  # forced at 25, the peak is at 25 too
    ([0.0] * 24 + [.1, .9, .1] + [0.0] * 5, 2, 25, [0, 25]),   # forced at 25; the peak at 25 also
    ([0.0] * 25 + [.1, .1, .9, .1] + [0.0] * 5, 2, 25, [0, 25, 27]),  # counted from the forced key
    ([0.0] * 25 + [.9, .1] + [0.0] * 5, 2, 25, [0, 25]),
    ([0.0] * 25 + [.1, .9, .1], 3, 25, [0, 25]),         # peak at 26 is 1 < min_gap after the forced key
    ([0.0], 2, 25, [0]),
])
def test_locator_scan(boundary, min_gap, max_gap, expected):
    assert KeyFrameLocator(0.5, min_gap, max_gap).scan(boundary) == expected
    ref = pytest.importorskip("kmtalk_ref.kmtalk_model")
    assert ref.locate_key_frames(np.array(boundary, dtype=float), 0.5, min_gap, max_gap) == expected


def test_locator_on_hand_made_posteriors():
    phones = 5
    sequence = [0] * 6 + [1] * 4 + [2] * 1 + [3] * 5 + [4] * 40
    post = torch.zeros(len(sequence), phones, dtype=torch.float64)
    post[torch.arange(len(sequence)), torch.tensor(sequence)] = 1.0
    boundary = KeyFrameLocator.boundary_scores(post)
    assert boundary.tolist() == [0.0 if t == 0 or sequence[t] == sequence[t - 1] else 1.0
                                 for t in range(len(sequence))]
    # Changes at 6, 10, 11 (b = 1 at 10 and 11: a plateau, its last frame), 16; then max_gap
    # anchors at 41.
    assert KeyFrameLocator(0.5, 2, 25)(post) == [0, 6, 11, 16, 41]
    # A soft transition over two frames peaks in the middle.
    soft = torch.zeros(8, 2, dtype=torch.float64)
    soft[:, 0] = torch.tensor([1, 1, 1, .6, .4, 0, 0, 0])
    soft[:, 1] = 1 - soft[:, 0]
    b = KeyFrameLocator.boundary_scores(soft)
    assert KeyFrameLocator(0.3, 2, 25)(soft) == [0, int(torch.argmax(b))]
    assert KeyFrameLocator(0.9, 2, 25)(soft) == [0]


# --------------------------------------------------------------------------------------
# Front-end and parity with the NumPy reference
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("cfg", [
    {"sample_rate": 16000, "n_fft": 512, "win_length": 320, "hop_length": 160, "n_mels": 80, "f_min": 0.0,
     "f_max": 8000.0, "log_floor": 1e-6},
    default_config()["frontend"],
    tiny_config()["frontend"],
])
def test_log_mel_matches_the_reference(cfg):
    from kmtalk_ref.frontend import log_mel
    samples = test_signal(0.73, seed=4)
    expected = log_mel(samples, cfg)
    got = LogMel(cfg)(torch.tensor(samples)).numpy()
    assert got.shape == expected.shape == (1 + len(samples) // 160, cfg["n_mels"])
    assert np.abs(got - expected).max() < 1e-5
    fast = LogMel(cfg, precise=False)(torch.tensor(samples)).numpy()
    assert np.abs(fast - expected).max() < 1e-3
    batch = LogMel(cfg)(torch.tensor(np.stack([samples, samples[::-1].copy()])))
    torch.testing.assert_close(batch[0], torch.tensor(got))


PARITY_CASES = [("keys", dict(use_keys=True)), ("direct", dict(use_keys=False)),
                ("learned", dict(use_keys=True, positions="learned")), ("shallow", dict(use_keys=True, shallow=True)),
                ("loudness", dict(use_keys=True, loudness=True)), ("loudness-direct", dict(use_keys=False, loudness=True))]


@pytest.mark.parametrize("name, options", PARITY_CASES)
@pytest.mark.parametrize("seed", [7, 11])
def test_parity_with_numpy_reference(name, options, seed):
    ref = reference()
    config = ref.tiny_config(INVENTORY, use_keys=options["use_keys"])
    if options.get("positions") == "learned":
        config["encoder"]["positions"] = "learned"
        config["encoder"]["max_positions"] = 200
    if options.get("shallow"):
        config["cmc"]["shallow"] = True
    if options.get("loudness"):  # a short window and a floor inside the signal's range
        config["cmc"]["loudness"] = {"window": 15, "range_db": 30.0, "floor": 7.4}
    weights = ref.random_weights(config, seed)
    samples = test_signal(2.3, seed=seed)
    expected = ref.forward(samples, weights, config)
    model = KMTalkModel(config).eval()
    model.load_reference_weights(weights)
    with torch.no_grad():
        got = model.forward_audio(torch.tensor(samples))
    errors = {}
    for key in ("features", "encoded", "phone_logits", "phone_post", "feature_prob", "boundary", "key_poses",
                "loudness", "motion"):
        if key in expected:
            errors[key] = float(np.abs(got[key].numpy() - expected[key]).max())
    if options.get("loudness"):
        assert 0 <= expected["loudness"].min() < 0.9 and expected["loudness"].max() == 1.0
    print(name, seed, {k: f"{v:.2e}" for k, v in errors.items()})
    assert all(v < TOL for v in errors.values()), errors
    if options["use_keys"]:
        assert got["key_frames"] == expected["key_frames"].tolist()
        assert len(got["key_frames"]) > 5
    else:
        assert "key_frames" not in expected and got["key_frames"] == []


def test_tiny_config_is_the_references():
    ref = reference()
    for use_keys in (True, False):
        assert tiny_config(use_keys=use_keys) == ref.tiny_config(INVENTORY, use_keys=use_keys)


# --------------------------------------------------------------------------------------
# Export
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("use_keys", [True, False])
def test_export_round_trip(tmp_path, use_keys):
    config = tiny_config(use_keys=use_keys)
    model = sharp_model(config, seed=5)
    path = tmp_path / "model.safetensors"
    meta = export_module.export(model, config, str(path), {"description": "test", "steps": 3})
    tensors, metadata = safetensors_io.load(str(path))
    assert metadata == meta
    assert metadata["format"] == "kmtalk" and metadata["format_version"] == "1"
    assert metadata["architecture"] == "kmtalk" and metadata["description"] == "test" and metadata["steps"] == "3"
    parsed = json.loads(metadata["config"])
    # The model's own knowledge travels in the file: a streamable model's default latency.
    banded = config["encoder"].get("band_back") is not None
    assert parsed == export_module.with_model_knowledge(config) and list(parsed) == ["frontend", "encoder"] + \
        (["lkma"] if use_keys else []) + ["cmc", "motion"] + (["streaming"] if banded else [])
    assert parsed.get("streaming") == ({"default_latency_ms": export_module.DEFAULT_STREAMING_LATENCY_MS}
                                       if banded else None)
    assert "streaming" not in config, "the caller's config is left as it was"
    named = dict(config, streaming={"default_latency_ms": 90.0})
    assert export_module.with_model_knowledge(named)["streaming"] == {"default_latency_ms": 90.0}
    state = model.state_dict()
    assert set(tensors) == set(state)
    for name, value in state.items():
        np.testing.assert_array_equal(tensors[name], value.numpy(), err_msg=name)
    # The header is F32, little endian, in the engine's layout.
    raw = open(path, "rb").read()
    header = json.loads(raw[8:8 + int.from_bytes(raw[:8], "little")])
    assert {entry["dtype"] for key, entry in header.items() if key != "__metadata__"} == {"F32"}
    # Loading back gives the same network.
    loaded, loaded_config, _ = export_module.load(str(path))
    mel = torch.randn(80, 40)
    with torch.no_grad():
        torch.testing.assert_close(loaded.eval()(mel)["motion"], model(mel)["motion"])


def test_export_f16_and_reference_runs_the_file(tmp_path):
    config = tiny_config()
    model = sharp_model(config, seed=6)
    path = tmp_path / "half.safetensors"
    export_module.export(model, None, str(path), dtype="F16")
    tensors, metadata = safetensors_io.load(str(path))
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(tensors[name], value.numpy().astype(np.float16).astype(np.float32))
    ref = reference()
    f32_path = tmp_path / "full.safetensors"
    export_module.export(model, config, str(f32_path))
    weights, metadata = safetensors_io.load(str(f32_path))
    samples = test_signal(1.2, seed=2)
    expected = ref.forward(samples, weights, json.loads(metadata["config"]))
    with torch.no_grad():
        got = model.forward_audio(torch.tensor(samples))
    assert np.abs(got["motion"].numpy() - expected["motion"]).max() < TOL
    assert got["key_frames"] == expected["key_frames"].tolist()


def test_export_refuses_a_mismatched_config(tmp_path):
    model = KMTalkModel(tiny_config())
    with pytest.raises(ValueError):
        export_module.export(model, tiny_config(width=16, heads=2), str(tmp_path / "x.safetensors"))
    with pytest.raises(ValueError):
        export_module.export(model, tiny_config(use_keys=False), str(tmp_path / "x.safetensors"))


def vertices_config(vertex_count=5, units="cm"):
    config = tiny_config()
    config["motion"] = {"space": "vertices", "channels": [f"v{i}.{a}" for i in range(vertex_count) for a in "xyz"],
                        "fps": config["motion"]["fps"], "activation": "identity", "units": units}
    return config


def test_export_vertices_space_carries_the_template(tmp_path):
    config = vertices_config()
    model = sharp_model(config, seed=8)
    template = np.arange(15, dtype=np.float32).reshape(5, 3) / 7
    faces = np.array([[0, 1, 2], [2, 3, 4]])
    path = tmp_path / "vertices.safetensors"
    export_module.export(model, config, str(path), dtype="F16", template=template, faces=faces)
    raw = open(path, "rb").read()
    header = json.loads(raw[8:8 + int.from_bytes(raw[:8], "little")])
    assert header["motion.template"]["dtype"] == "F32" and header["motion.template"]["shape"] == [5, 3]
    assert header["motion.faces"]["dtype"] == "I32" and header["motion.faces"]["shape"] == [2, 3]
    assert header["cmc.head.weight"]["dtype"] == "F16" and header["cmc.head.weight"]["shape"] == [15, 24]
    loaded, loaded_config, _ = export_module.load(str(path))
    assert loaded_config == export_module.with_model_knowledge(config)
    np.testing.assert_array_equal(loaded.motion_template, template)
    np.testing.assert_array_equal(loaded.motion_faces, faces)
    assert loaded.motion_faces.dtype == np.int32
    # Without faces the template alone; other spaces carry none.
    export_module.export(model, config, str(tmp_path / "points.safetensors"), template=template)
    points, _, _ = export_module.load(str(tmp_path / "points.safetensors"))
    assert points.motion_faces is None and points.motion_template.shape == (5, 3)
    plain = tmp_path / "arkit.safetensors"
    export_module.export(sharp_model(tiny_config(), seed=1), None, str(plain))
    arkit, _, _ = export_module.load(str(plain))
    assert arkit.motion_template is None and arkit.motion_faces is None


def test_export_refuses_a_bad_template(tmp_path):
    config = vertices_config()
    model = sharp_model(config, seed=9)
    out = str(tmp_path / "x.safetensors")
    template = np.zeros((5, 3))
    for kwargs in (dict(), dict(template=np.zeros((4, 3))), dict(template=np.full((5, 3), np.nan)),
                   dict(template=template, faces=np.array([[0, 1, 5]])),
                   dict(template=template, faces=np.array([[0, 1]])),
                   dict(template=template, faces=np.array([[0.0, 1.0, 2.0]]))):
        with pytest.raises(ValueError):
            export_module.export(model, config, out, **kwargs)
    renamed = vertices_config()
    renamed["motion"]["channels"][0] = "x0"
    with pytest.raises(ValueError):
        export_module.export(model, renamed, out, template=template)
    with pytest.raises(ValueError):  # a template belongs to vertices space only
        export_module.export(sharp_model(tiny_config()), None, out, template=template)


@pytest.mark.parametrize("model_name, golden_name", [("kmtalk-tiny.safetensors", "kmtalk_golden.safetensors"),
                                                     ("kmtalk-nokeys.safetensors", "nokeys_golden.safetensors"),
                                                     ("kmtalk-vertices.safetensors", "vertices_golden.safetensors"),
                                                     ("kmtalk-shallow.safetensors", "shallow_golden.safetensors"),
                                                     ("kmtalk-loudness.safetensors", "loudness_golden.safetensors")])
def test_engine_fixtures_load_and_match_their_goldens(model_name, golden_name):
    """The Swift tests' model files load into PyTorch and reproduce the goldens."""
    fixtures = os.path.join(os.path.dirname(TRAINING), "Tests", "KMTalkEngineTests", "Fixtures")
    if not os.path.exists(os.path.join(fixtures, model_name)):
        pytest.skip("engine fixtures absent")
    model, config, _ = export_module.load(os.path.join(fixtures, model_name))
    golden, _ = safetensors_io.load(os.path.join(fixtures, golden_name))
    with torch.no_grad():
        got = model.eval().forward_audio(torch.tensor(golden["samples"]))
    for key in ("features", "encoded", "phone_post", "feature_prob", "boundary", "key_poses", "loudness", "motion"):
        if key in golden:
            assert np.abs(got[key].numpy() - golden[key]).max() < TOL, key
    if "key_frames" in golden:
        assert got["key_frames"] == golden["key_frames"].astype(int).tolist()
    if "vertices" in golden:
        posed = model.motion_template[None] + got["motion"].numpy().reshape(len(got["motion"]), -1, 3)
        assert np.abs(posed - golden["vertices"]).max() < TOL
        assert model.motion_faces is not None and model.motion_faces.shape[1] == 3


def _loudness_reference():
    import importlib
    return importlib.import_module("kmtalk_ref.loudness")


def test_loudness_feature_batched_matches_reference():
    """The batched PyTorch feature equals the NumPy reference item by item, padded items
    included (their windows clamp at each item's own last mel frame)."""
    from kmtalk_train.model import loudness_feature
    ref = _loudness_reference()
    rng = np.random.default_rng(3)
    settings = {"window": 9, "range_db": 25.0, "floor": 1.5}
    lengths = [61, 40, 1, 2]
    mel = np.full((len(lengths), max(lengths), 12), -13.8)
    for b, n in enumerate(lengths):
        mel[b, :n] = rng.normal(0, 1.5, (n, 12)) + np.sin(np.arange(n) / 4)[:, None] * 3
    frames = (max(lengths) - 1) // 2 + 1
    got = loudness_feature(torch.tensor(mel, dtype=torch.float32), torch.tensor(lengths), frames, 2, settings).numpy()
    for b, n in enumerate(lengths):
        count = (n - 1) // 2 + 1
        expected = ref.loudness(mel[b, :n].astype(np.float32), count, 2, **settings)
        np.testing.assert_allclose(got[b, :count], expected, atol=1e-6)
        assert 0 <= expected.min() and expected.max() <= 1


def test_loudness_feature_is_gain_invariant_and_relative():
    """A gain leaves f unchanged above the floor; the peak frame reads 1, a frame 20 dB
    below it 1 - 20 / range_db; silence reads 0."""
    ref = _loudness_reference()
    from kmtalk_ref.frontend import log_mel
    cfg = tiny_config()["frontend"]
    rate = cfg["sample_rate"]
    t = np.arange(rate) / rate
    tone = np.sin(2 * np.pi * 440 * t)
    signal = np.concatenate([np.zeros(rate // 2), 0.5 * tone, 0.05 * tone]).astype(np.float32)
    settings = {"window": 100, "range_db": 40.0, "floor": 0.0}
    frames = (1 + len(signal) // cfg["hop_length"] - 1) // 2 + 1
    f = ref.loudness(log_mel(signal, cfg), frames, 2, **settings)
    quieter = ref.loudness(log_mel(signal * 0.25, cfg), frames, 2, **settings)
    np.testing.assert_allclose(f[30:], quieter[30:], atol=1e-5)
    assert f[:20].max() == 0                     # digital silence: below the floor
    loud, soft = f[40:70], f[90:-2]              # inside the 0.5 and the 0.05 tone
    np.testing.assert_allclose(loud, 1, atol=0.02)
    np.testing.assert_allclose(soft, 0.5, atol=0.03)   # 20 dB below the peak of the last 2 s
