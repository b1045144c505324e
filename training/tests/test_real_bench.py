"""Tests of the real-speech benchmark (training/kmtalk_train/real_bench.py): the motion
metrics on synthetic signals, segments from a toy phone posterior, the energy baseline's
fit, the labiodental check, and (with torch) the predictors and every dataset end to end on
tiny files written here with a tiny random model. The `real data` test uses the third-party
FACEGOOD takes in ../shared/data/facegood (relative to the repository root) and skips with a
message when that folder is absent."""
import json
import warnings
from pathlib import Path

import numpy as np
import pytest

from kmtalk_train import capture, facegood_arkit, real_bench
from kmtalk_train.arkit import INDEX
from kmtalk_train.types import Segment

FACEGOOD_DIR = Path(__file__).resolve().parents[2].parent / "shared/data/facegood"
needs_facegood = pytest.mark.skipif(
    not FACEGOOD_DIR.is_dir(),
    reason=f"real data: third-party FACEGOOD takes not found at {FACEGOOD_DIR} "
           "(../shared/data is not part of the repository)")

FPS = 50.0
JAW = INDEX["jawOpen"]


def wave(frames, seed=0):
    """A smooth random 0..1 signal (a sum of slow sines)."""
    rng = np.random.default_rng(seed)
    t = np.arange(frames) / FPS
    x = sum(np.sin(2 * np.pi * f * t + p) for f, p in zip(rng.uniform(0.5, 4, 6), rng.uniform(0, 6, 6)))
    return 0.5 + 0.4 * x / np.abs(x).max()


def motion_with(channels, frames=500):
    """[frames, 52] zeros with smooth signals in `channels`."""
    motion = np.zeros((frames, 52))
    for k, name in enumerate(channels):
        motion[:, INDEX[name]] = wave(frames, seed=k)
    return motion


def mask_of(names):
    mask = np.zeros(52, bool)
    mask[[INDEX[n] for n in names]] = True
    return mask


CHANNELS = ["jawOpen", "mouthFunnel", "mouthPucker"]


def test_identical_prediction_scores_perfectly():
    captured = motion_with(CHANNELS)
    s = real_bench.score(captured, captured, mask_of(CHANNELS), FPS)
    summary = s["summary"]
    assert summary["jaw_r"] == pytest.approx(1.0) and summary["jaw_r_best"] == pytest.approx(1.0)
    assert summary["jaw_lag_ms"] == 0
    assert summary["jaw_dr"] == pytest.approx(1.0) and summary["peak_ratio"] == pytest.approx(1.0)
    assert summary["mae"] == 0 and summary["velocity_mae"] == 0
    assert summary["moving_channels"] == 3
    assert summary["lips_channels"] == 2 and summary["lips_in_range"] == 2  # funnel, pucker
    assert summary["mean_r_moving"] == pytest.approx(1.0)
    assert set(s["channels"]) == set(CHANNELS)


def test_half_scale_prediction_keeps_r_and_halves_the_range():
    captured = motion_with(CHANNELS)
    s = real_bench.score(0.5 * captured, captured, mask_of(CHANNELS), FPS)["summary"]
    assert s["jaw_r"] == pytest.approx(1.0)
    assert s["jaw_dr"] == pytest.approx(0.5)
    assert s["lips_dr_mean"] == pytest.approx(0.5) and s["lips_in_range"] == 0
    assert s["peak_ratio"] == pytest.approx(0.5)


def test_late_prediction_is_found_by_the_lag_search():
    captured = motion_with(CHANNELS)
    late = np.roll(captured, 3, axis=0)          # pred[t] = captured[t - 3]: 60 ms late at 50 fps
    late[:3] = captured[0]
    s = real_bench.score(late, captured, mask_of(CHANNELS), FPS)
    jaw = s["channels"]["jawOpen"]
    assert jaw["lag_ms"] == pytest.approx(60.0)
    assert jaw["r_best"] > 0.999
    assert jaw["r"] < jaw["r_best"] - 0.01
    early = real_bench.score(captured, late, mask_of(CHANNELS), FPS)["summary"]
    assert early["jaw_lag_ms"] == pytest.approx(-60.0)


def test_velocity_mae_is_per_second_whatever_the_rate():
    for fps in (30.0, 50.0, 100.0):
        t = np.arange(int(2 * fps)) / fps
        captured = np.zeros((len(t), 52))
        pred = captured.copy()
        pred[:, JAW] = 0.3 * t                  # 0.3 weight units per second
        s = real_bench.score(pred, captured, mask_of(["jawOpen"]), fps)
        assert s["channels"]["jawOpen"]["velocity_mae"] == pytest.approx(0.3)


def test_constant_signals_give_nan_not_errors():
    captured = motion_with(CHANNELS)
    captured[:, INDEX["mouthPucker"]] = 0.2                 # captured constant: not moving
    pred = np.zeros_like(captured)                          # prediction constant everywhere
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = real_bench.score(pred, captured, mask_of(CHANNELS), FPS, pause=np.zeros(len(captured), bool))
    summary = s["summary"]
    assert np.isnan(summary["jaw_r"]) and np.isnan(summary["jaw_r_best"]) and np.isnan(summary["jaw_lag_ms"])
    assert np.isnan(s["channels"]["mouthPucker"]["dr"])
    assert summary["jaw_dr"] == 0                           # defined: the capture moves
    assert summary["moving_channels"] == 2
    assert summary["mean_r_moving"] == 0                    # a constant prediction explains nothing
    assert np.isnan(summary["pause_rest_pct"])              # no pause frames
    nothing = real_bench.score(np.zeros((50, 52)), np.zeros((50, 52)), mask_of(CHANNELS), FPS)["summary"]
    assert nothing["moving_channels"] == 0 and np.isnan(nothing["mean_r_moving"]) and np.isnan(nothing["peak_ratio"])


def test_pause_rest_counts_frames_with_every_mouth_weight_low():
    captured = motion_with(CHANNELS, frames=100)
    pred = np.zeros((100, 52))
    pred[:, INDEX["mouthSmileLeft"]] = 0.05
    pred[40:50, INDEX["mouthSmileLeft"]] = 0.5             # unsupervised, still a mouth channel
    pred[:, INDEX["browInnerUp"]] = 0.9                     # not a mouth channel
    pause = np.zeros(100, bool)
    pause[30:50] = True
    s = real_bench.score(pred, captured, mask_of(CHANNELS), FPS, pause=pause)["summary"]
    assert s["pause_rest_pct"] == pytest.approx(50.0) and s["pause_frames"] == 20


def test_means_over_takes_average_scores_and_sum_counts():
    captured = motion_with(CHANNELS)
    a = real_bench.score(captured, captured, mask_of(CHANNELS), FPS)
    b = real_bench.score(0.5 * captured, captured, mask_of(CHANNELS), FPS)
    mean = real_bench.mean_scores({"a": a, "b": b})
    assert mean["summary"]["jaw_dr"] == pytest.approx(0.75)
    assert mean["summary"]["lips_in_range"] == 2 and mean["summary"]["lips_channels"] == 4
    assert mean["channels"]["mouthFunnel"]["dr"] == pytest.approx(0.75)


def test_phone_segments_are_runs_of_the_argmax():
    names = ["_", "a", "m"]
    logits = np.full((7, 3), -5.0)
    for t, k in enumerate([0, 0, 1, 1, 1, 2, 0]):
        logits[t, k] = 5.0
    segments = real_bench.phone_segments(logits.argmax(-1), names, fps=10.0)
    assert [(s.phone, s.start, s.end) for s in segments] == [
        ("_", 0.0, pytest.approx(0.2)), ("a", pytest.approx(0.2), pytest.approx(0.5)),
        ("m", pytest.approx(0.5), pytest.approx(0.6)), ("_", pytest.approx(0.6), pytest.approx(0.7))]


def test_energy_fit_recovers_a_linear_relation_and_clips():
    rng = np.random.default_rng(0)
    energies = [rng.uniform(-4, -1, 300) for _ in range(3)]
    jaws = [0.2 * e + 0.9 for e in energies]
    fit = real_bench.fit_energy(energies, jaws)
    assert fit.slope == pytest.approx(0.2) and fit.intercept == pytest.approx(0.9)
    out = real_bench.energy_baseline(np.array([-10.0, -2.0, 5.0]), fit)
    assert out.shape == (3, 52) and np.count_nonzero(np.delete(out, JAW, axis=1)) == 0
    assert out[:, JAW].tolist() == pytest.approx([0.0, 0.5, 1.0])
    raw = real_bench.energy_baseline(np.array([-3.0, -2.0]), None)
    assert raw[:, JAW].tolist() == [-3.0, -2.0]


def test_log_energy_of_a_tone():
    rate, fps = 16000, 50.0
    t = np.arange(rate) / rate
    samples = np.where(t < 0.5, 0.0, 0.5 * np.sin(2 * np.pi * 200 * t)).astype(np.float32)
    e = real_bench.log_energy(samples, rate, fps, 50)
    assert e[5] == pytest.approx(np.log10(real_bench.ENERGY_FLOOR))
    assert e[40] == pytest.approx(np.log10(0.5 / np.sqrt(2) + real_bench.ENERGY_FLOOR), abs=1e-3)


def test_scale_free_keeps_only_correlations():
    captured = motion_with(CHANNELS)
    s = real_bench.scale_free(real_bench.score(captured * 3 - 7, captured, mask_of(CHANNELS), FPS))
    assert s["summary"]["jaw_r"] == pytest.approx(1.0)
    assert np.isnan(s["summary"]["jaw_dr"]) and np.isnan(s["summary"]["mae"])
    assert np.isnan(s["channels"]["jawOpen"]["peak"]) and s["channels"]["jawOpen"]["r"] == pytest.approx(1.0)


def test_teacher_params_files(tmp_path):
    flat = tmp_path / "flat.json"
    flat.write_text(json.dumps({"smooth_sigma_s": 0.02}))
    assert real_bench.teacher_params(real_bench.read_teacher_params(str(flat)))["smooth_sigma_s"] == 0.02
    report = tmp_path / "report.json"
    report.write_text(json.dumps({"parameters": {"smooth_sigma_s": 0.02, "loudness_gain_low": 0.5}}))
    params = real_bench.teacher_params(real_bench.read_teacher_params(str(report)))
    assert params["smooth_sigma_s"] == 0.02 and params["loudness_gain_range"][0] == 0.5
    with pytest.raises(ValueError, match="unknown teacher parameters"):
        real_bench.teacher_params({"no_such_knob": 1})


def test_labiodental_check_needs_the_lip_tucked_and_the_jaw_nearly_shut():
    segments = [Segment(0.0, 0.2, "f"), Segment(0.2, 0.4, "a"), Segment(0.4, 0.6, "v")]
    motion = np.zeros((30, 52))
    motion[5, INDEX["mouthRollLower"]] = 0.3                # f: contact
    motion[25, INDEX["mouthRollLower"]] = 0.3               # v: lip tucked but the jaw is open
    motion[25, JAW] = 0.3
    checks = real_bench.lip_checks(motion, 50.0, segments)
    assert checks["labiodentals"] == 2 and checks["labiodental_contact_pct"] == pytest.approx(50.0)


def test_over_closed_frames_are_mouth_close_above_the_jaw():
    motion = np.zeros((10, 52))
    motion[:, JAW] = 0.2
    motion[:, INDEX["mouthClose"]] = [0.1, 0.2, 0.21, 0.23, 0.5, 0.0, 0.0, 0.0, 0.0, 0.0]
    checks = real_bench.lip_checks(motion, 50.0, [Segment(0.0, 0.2, "a")])
    # 0.21 is within the 0.02 margin; 0.23 and 0.5 are over
    assert checks["frames"] == 10 and checks["over_closed_pct"] == pytest.approx(20.0)


# --------------------------------------------------------------------------------- with torch

def write_tone_wav(path, seconds, rate=16000, seed=0):
    """Talk / pause alternation every 1/3 s (as test_facegood_eval's fake takes)."""
    from scipy.io import wavfile
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    envelope = (np.sin(2 * np.pi * 1.5 * t) > 0).astype(np.float32)
    samples = 0.3 * envelope * np.sin(2 * np.pi * 220 * t) + 1e-4 * rng.standard_normal(len(t))
    wavfile.write(str(path), rate, np.round(samples * 32767).astype(np.int16))
    return envelope


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    torch = pytest.importorskip("torch")
    from kmtalk_train.export import export
    from kmtalk_train.model import KMTalkModel, tiny_config
    torch.manual_seed(0)
    model = KMTalkModel(tiny_config())
    path = tmp_path_factory.mktemp("model") / "tiny.safetensors"
    export(model, None, str(path))
    return str(path)


@pytest.fixture(scope="module")
def facegood_dir(tmp_path_factory):
    """Three short takes in the FACEGOOD layout: jaw opener and lip stretch follow the talking."""
    root = tmp_path_factory.mktemp("facegood")
    channels = []
    for rule in facegood_arkit.MAPPING:
        for name, _ in rule.sources:
            if name not in channels:
                channels.append(name)
    (root / "channels.txt").write_text("\n".join(channels) + "\n")
    for i, seconds in enumerate((3.0, 2.5, 2.0)):
        name = f"1114_9_0{i}"
        write_tone_wav(root / f"{name}.wav", seconds, seed=i)
        frames = int(round(seconds * capture.FACEGOOD_FPS))
        talk = (np.sin(2 * np.pi * 1.5 * np.arange(frames) / capture.FACEGOOD_FPS) > 0).astype(np.float64)
        motion = np.zeros((frames, len(channels)))
        motion[:, channels.index("mouth_stretch_c")] = 0.5 * talk
        motion[:, channels.index("mouth_lipStretch_l")] = 0.2 * talk
        np.save(root / f"bs_value_{name}.npy", motion)
    return str(root)


def test_predictors_have_the_native_shape(tiny_model):
    from kmtalk_train.export import load
    model, config, _ = load(tiny_model)
    rate = config["frontend"]["sample_rate"]
    samples = (0.2 * np.sin(2 * np.pi * 180 * np.arange(rate) / rate)).astype(np.float32)
    mel = real_bench.log_mel(config, samples)
    motion = real_bench.model_motion(model, mel)
    assert motion.shape == (real_bench.native_count(config, mel), 52)
    taught = real_bench.teacher_from_model(model, config, samples, rate)
    assert taught.shape == motion.shape and 0 <= taught.min() and taught.max() <= 1
    calm = real_bench.teacher_from_model(model, config, samples, rate, params={"loudness_gain_range": (0.1, 0.1)})
    assert calm[:, JAW].max() <= taught[:, JAW].max() + 1e-6


def test_facegood_benchmark_end_to_end(tiny_model, facegood_dir, tmp_path):
    result = real_bench.facegood_benchmark(facegood_dir, [tiny_model], fold_models={"1114_9_01": tiny_model},
                                           log=lambda *a: None)
    predictors = result["predictors"]
    assert set(predictors) == {"tiny.safetensors", real_bench.FOLD_LABEL, real_bench.ENERGY_LABEL,
                               real_bench.TEACHER_LABEL}
    assert set(predictors[real_bench.FOLD_LABEL]["per_take"]) == {"1114_9_01"}
    assert len(result["supervised"]) == 16 and len(result["energy_fits"]) == 3
    # The fake capture opens the jaw exactly when the audio is loud: energy follows it.
    assert predictors[real_bench.ENERGY_LABEL]["mean"]["summary"]["jaw_r"] > 0.8
    text = real_bench.markdown({"facegood": result})
    assert "| energy (log RMS, fit on other takes) |" in text and "1114_9_02" in text
    real_bench.plot(result["example"], str(tmp_path / "bench.png"))
    assert (tmp_path / "bench.png").stat().st_size > 0


def test_cli_with_live_link_and_corpus(tiny_model, facegood_dir, tmp_path):
    from kmtalk_train import corpus
    rate, fps = 16000, 60
    envelope = write_tone_wav(tmp_path / "take.wav", 2.0)
    weights = np.zeros((int(2.0 * fps), 52))
    talk = envelope[(np.arange(len(weights)) / fps * rate).astype(int)]
    weights[:, JAW] = 0.4 * talk
    weights[:, INDEX["mouthFunnel"]] = 0.1 * talk
    capture.write_live_link_csv(str(tmp_path / "take.csv"), weights, fps)

    root = tmp_path / "corpus"
    for kind in ("audio", "phones"):
        (root / kind / "en").mkdir(parents=True)
    write_tone_wav(root / "audio/en/en-human-00000.wav", 1.2)
    corpus.write_segments(str(root / "phones/en/en-human-00000.tsv"),
                          [Segment(0.0, 0.3, "_"), Segment(0.3, 0.4, "m"), Segment(0.4, 0.6, "u"),
                           Segment(0.6, 0.7, "f"), Segment(0.7, 0.9, "a"), Segment(0.9, 1.2, "_")], "en", "human")
    row = {"id": "en-human-00000", "language": "en", "split": "test", "engine": "human",
           "audio": "audio/en/en-human-00000.wav", "phones": "phones/en/en-human-00000.tsv"}
    train_row = dict(row, split="train", id="en-human-00001")
    (root / "manifest.jsonl").write_text(json.dumps(row) + "\n" + json.dumps(train_row) + "\n")

    out = tmp_path / "bench.json"
    live_link = f"{tmp_path / 'take.csv'}:{tmp_path / 'take.wav'}"
    code = real_bench.main(["--facegood", facegood_dir, "--livelink", live_link, "--corpus", str(root), tiny_model,
                            "--json", str(out),
                            "--markdown", str(tmp_path / "bench.md"), "--plot", str(tmp_path / "bench.png")])
    assert code == 0
    result = json.loads(out.read_text())
    live = result["livelink"]
    assert live["supervised"]["take"] == ["jawOpen", "mouthFunnel"]
    energy = live["predictors"][real_bench.ENERGY_FACEGOOD_LABEL]["mean"]["summary"]
    assert energy["jaw_r"] > 0.8 and energy["jaw_dr"] is not None
    checks = result["corpus"]["predictors"][real_bench.TEACHER_TRUE_LABEL]
    assert result["corpus"]["utterances"] == 1
    assert checks["bilabials"] == 1 and checks["labiodentals"] == 1 and checks["pauses"] == 2
    assert checks["bilabial_closed_pct"] == 100 and checks["labiodental_contact_pct"] == 100
    # The aligned teacher is the English jaw reference: itself exactly, the model not.
    assert checks["jaw_r_vs_teacher"] == pytest.approx(1.0) and checks["jaw_std_ratio_vs_teacher"] == pytest.approx(1.0)
    ours = next(p for label, p in result["corpus"]["predictors"].items() if label != real_bench.TEACHER_TRUE_LABEL
                and not label.startswith("teacher"))
    assert -1 <= ours["jaw_r_vs_teacher"] < 0.999 and ours["jaw_std_ratio_vs_teacher"] > 0
    assert "Recorded English prompts" in (tmp_path / "bench.md").read_text()

    # Without FACEGOOD the Live Link energy baseline has no honest fit: correlations only.
    code = real_bench.main(["--livelink", live_link, tiny_model, "--json", str(out)])
    energy = json.loads(out.read_text())["livelink"]["predictors"][real_bench.ENERGY_UNFITTED_LABEL]["mean"]["summary"]
    assert energy["jaw_r"] > 0.8 and energy["jaw_dr"] is None and energy["mae"] is None


# --------------------------------------------------------------------------------- real data

@needs_facegood
def test_real_facegood_energy_baseline_held_out():
    """Real data: the audio's loudness, fitted on four takes, follows the fifth take's jaw
    (facegood_arkit documents r = 0.73 for a one-frame window at 30 fps)."""
    takes = capture.load_facegood(str(FACEGOOD_DIR))
    fps = capture.FACEGOOD_FPS
    energies, masks, captured = [], [], []
    for take in takes:
        weights, mask = facegood_arkit.to_arkit(take)
        captured.append(weights)
        masks.append(mask)
        energies.append(real_bench.log_energy(take.samples, take.sample_rate, fps, len(weights)))
    for k in range(len(takes)):
        fit = real_bench.fit_energy([e for j, e in enumerate(energies) if j != k],
                                    [c[:, JAW] for j, c in enumerate(captured) if j != k])
        s = real_bench.score(real_bench.energy_baseline(energies[k], fit), captured[k], masks[k], fps)["summary"]
        assert s["jaw_r"] > 0.55, takes[k].take
        assert abs(s["jaw_lag_ms"]) <= 100
        assert s["moving_channels"] >= 8


def test_self_targets_write_the_teacher_on_each_takes_own_audio(tiny_model, facegood_dir, tmp_path):
    from kmtalk_train import facegood_eval, self_targets, teacher
    from kmtalk_train.export import load
    out = tmp_path / "targets.npz"
    assert self_targets.main([facegood_dir, "--model", tiny_model, "--out", str(out)]) == 0
    curves = np.load(out)
    model, config, _ = load(tiny_model)
    rig = capture.load_facegood(facegood_dir)
    takes = facegood_eval.prepare(rig, config)
    assert sorted(curves.files) == sorted(t.name for t in takes)
    for take, raw in zip(takes, rig):
        assert curves[take.name].shape == take.item.motion.shape
        params = teacher.calibrated_params()
        expected = real_bench.teacher_from_model(model, config, raw.samples, raw.sample_rate, params)
        np.testing.assert_allclose(curves[take.name], expected, atol=1e-6)
