"""`python -m kmtalk_train.finetune`: take discovery and refusals (NumPy only, no torch), then
end to end with PyTorch: a generated capture (espeak-ng speech, curves that follow its
energy, written as Live Link Face take folders with a MOV made by ffmpeg), the FACEGOOD
takes, and vertex sequences on a small vertices-space model. The fine-tuned model is also
loaded by the Swift engine when the Python bindings and libKMTalk are there."""
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from kmtalk_train import capture, finetune
from kmtalk_train.arkit import ARKIT_52, INDEX

TRAINING = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO = os.path.dirname(TRAINING)
BASE = os.path.join(REPO, "models", "kmtalk-base.safetensors")
FACEGOOD = os.path.join(os.path.dirname(REPO), "shared", "data", "facegood")
RATE = 16000
FFMPEG = shutil.which("ffmpeg")
ESPEAK = shutil.which("espeak-ng")
needs_ffmpeg = pytest.mark.skipif(FFMPEG is None,
                                  reason="ffmpeg is not installed (scripts/test-finetune.sh installs it)")
SENTENCES = [
    "The quick brown fox jumps over the lazy dog, while a bright morning sun rises slowly above the quiet hills. "
    "People walk to the market, buying bread, apples and fresh milk for the long week ahead of them.",
    "My brother Peter bought a big blue boat; we sailed past the old lighthouse and watched the waves break "
    "against the rocks, before rowing back home for a warm supper by the fire with our friends.",
    "Please remember to bring an umbrella, because the forecast promises heavy rain, strong winds and a very "
    "cold evening over most of the northern valleys and mountains tomorrow and on Sunday morning.",
]


# ----------------------------------------------------------------------------- helpers

def speechlike(seconds, seed, rate=RATE):
    """Bursts of a harmonic tone (syllables at ~4 Hz) with pauses: audio with an energy curve."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    envelope = np.clip(np.sin(2 * np.pi * 4.0 * t + rng.uniform(0, 6)), 0, None) * (np.sin(2 * np.pi * 0.3 * t) > -0.5)
    tone = sum(np.sin(2 * np.pi * f * t) / k for k, f in enumerate((140, 280, 420, 700), 1))
    return (0.3 * envelope * tone / 2 + 1e-3 * rng.standard_normal(len(t))).astype(np.float32)


def energy_curves(samples, rate, seconds=None, fps=60):
    """[frames, 52]: jawOpen following the audio's RMS energy, mouthLowerDownLeft/Right and
    mouthFunnel following it with a lag; everything else 0."""
    seconds = len(samples) / rate if seconds is None else seconds
    frames = int(round(seconds * fps))
    rms = capture.frame_rms(samples, rate, fps, frames, window=3.0).astype(np.float64)
    jaw = np.clip(rms / (np.percentile(rms, 95) + 1e-9), 0, 1) * 0.6
    weights = np.zeros((frames, len(ARKIT_52)))
    weights[:, INDEX["jawOpen"]] = jaw
    lagged = np.concatenate([np.zeros(3), jaw[:-3]])
    weights[:, INDEX["mouthLowerDownLeft"]] = weights[:, INDEX["mouthLowerDownRight"]] = 0.5 * lagged
    weights[:, INDEX["mouthFunnel"]] = 0.3 * np.concatenate([jaw[6:], np.zeros(6)])
    weights[:, INDEX["eyeBlinkLeft"]] = (np.arange(frames) % 180 < 8) * 0.9  # blinks: moving, not speech
    return weights


def write_wav(path, samples, rate=RATE):
    import soundfile
    soundfile.write(path, samples, rate, subtype="PCM_16")


def make_mov(wav, mov):
    subprocess.run([FFMPEG, "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", "color=c=black:s=64x64:r=30",
                    "-i", wav, "-shortest", "-c:v", "libx264", "-c:a", "aac", mov], check=True)


def live_link_folder(root, name, samples, rate=RATE, media="wav", weights=None, fps=60):
    """A take folder as the Live Link Face app writes it: <name>.csv and <name>.mov (or .wav)."""
    folder = os.path.join(root, name)
    os.makedirs(folder, exist_ok=True)
    weights = energy_curves(samples, rate, fps=fps) if weights is None else weights
    capture.write_live_link_csv(os.path.join(folder, name + ".csv"), weights, fps, start_timecode="10:20:30:00.000")
    wav = os.path.join(folder, name + ".wav")
    write_wav(wav, samples, rate)
    if media == "mov":
        make_mov(wav, os.path.join(folder, name + ".mov"))
        os.unlink(wav)
    elif media is None:
        os.unlink(wav)
    return folder


def three_takes(root, seconds=(12.0, 11.0, 11.0), media="wav"):
    for i, s in enumerate(seconds):
        live_link_folder(str(root), f"Slate_{i}_iPhone", speechlike(s, i), media=media)
    return str(root)


def config():
    return finetune.base_config(BASE)[0]


def refuse(capsys, argv):
    """Runs the CLI, expects a refusal: exit status 2, the error as one line at the end of
    stderr (after any progress lines), no traceback; returns that line."""
    assert finetune.main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err and err[-1].startswith("finetune: error: "), err
    assert sum(line.startswith("finetune: error") for line in err) == 1 and not any("Traceback" in e for e in err)
    return err[-1]


# ----------------------------------------------------------------------------- discovery (NumPy)

def test_live_link_take_folders_are_found_resampled_and_trimmed(tmp_path):
    samples = speechlike(12.0, 0, rate=48000)
    live_link_folder(str(tmp_path), "Slate_1_iPhone", samples, rate=48000)
    live_link_folder(str(tmp_path), "Slate_2_iPhone", speechlike(8.0, 1))
    found = finetune.discover(str(tmp_path), config())
    assert found.form == "livelink" and [t.name for t in found.takes] == ["Slate_1_iPhone", "Slate_2_iPhone"]
    take = found.takes[0]
    assert take.rate == RATE and abs(take.seconds - 12.0) < 0.02 and take.fps == 60.0
    assert take.motion.shape == (720, 52) and take.measured.all()
    np.testing.assert_allclose(take.motion[:, INDEX["jawOpen"]], energy_curves(samples, 48000)[:, INDEX["jawOpen"]],
                               atol=1e-6)
    # The 48 kHz audio arrives at 16 kHz with the same energy curve.
    rms = capture.frame_rms(take.samples, RATE, 60, 720, window=3.0)
    assert np.corrcoef(rms, take.motion[:, INDEX["jawOpen"]])[0, 1] > 0.99


@needs_ffmpeg
def test_live_link_mov_audio_is_extracted_with_ffmpeg(tmp_path):
    samples = speechlike(6.0, 3)
    live_link_folder(str(tmp_path), "Take_1", samples, media="mov")
    assert sorted(os.listdir(tmp_path / "Take_1")) == ["Take_1.csv", "Take_1.mov"]
    take = finetune.discover(str(tmp_path), config()).takes[0]
    assert take.files[1].endswith("Take_1.mov") and abs(take.seconds - 6.0) < 0.1
    n = min(len(samples), len(take.samples))
    # AAC shifts and filters the signal a little: compare 10 ms energy envelopes.
    a = capture.frame_rms(samples[:n], RATE, 100, n // 160)
    b = capture.frame_rms(take.samples[:n], RATE, 100, n // 160)
    assert np.corrcoef(a, b)[0, 1] > 0.95


def test_flat_csv_wav_pairs_and_calibrated_csv_preference(tmp_path):
    for i in range(2):
        s = speechlike(6.0, i)
        capture.write_live_link_csv(str(tmp_path / f"take{i}.csv"), energy_curves(s, RATE), 60)
        write_wav(str(tmp_path / f"take{i}.wav"), s)
    # A take folder with raw and calibrated CSVs and a neutral pose: the calibrated one is used.
    folder = tmp_path / "sub"
    folder.mkdir()
    s = speechlike(6.0, 5)
    curves = energy_curves(s, RATE)
    capture.write_live_link_csv(str(folder / "X_raw.csv"), curves * 0.5, 60)
    capture.write_live_link_csv(str(folder / "X_cal.csv"), curves, 60)
    capture.write_live_link_csv(str(folder / "X_neutral.csv"), curves[:2] * 0, 60)
    write_wav(str(folder / "X.wav"), s)
    found = finetune.discover(str(tmp_path), config())
    assert [t.name for t in found.takes] == ["sub", "take0", "take1"]
    np.testing.assert_allclose(found.takes[0].motion, curves, atol=1e-6)
    assert any("X_raw.csv" in n for n in found.notes) and any("X_neutral.csv" in n for n in found.notes)


def test_supervised_channels_are_the_moving_ones_without_eyes(tmp_path):
    takes = finetune.discover(three_takes(tmp_path), config()).takes
    mask = finetune.supervised_channels(takes, config())
    names = [n for n, m in zip(config()["motion"]["channels"], mask) if m]
    assert sorted(names) == sorted(["jawOpen", "mouthLowerDownLeft", "mouthLowerDownRight", "mouthFunnel"])
    with_eyes = finetune.supervised_channels(takes, config(), include_eyes=True)
    assert with_eyes.sum() == mask.sum() + 1


def test_split_holds_out_the_first_take_or_the_named_ones(tmp_path):
    takes = finetune.discover(three_takes(tmp_path), config()).takes
    train, held = finetune.split(takes)
    assert [t.name for t in held] == ["Slate_0_iPhone"] and len(train) == 2
    train, held = finetune.split(takes, held_out_names=["Slate_2_iPhone"])
    assert [t.name for t in held] == ["Slate_2_iPhone"]
    with pytest.raises(finetune.FinetuneError, match="too little data: 11.0 s"):
        finetune.split(takes, held_out=2)
    with pytest.raises(finetune.FinetuneError, match="no take named nope"):
        finetune.split(takes, held_out_names=["nope"])


def test_objective_is_the_base_models_own_loss_weights_without_phone_terms():
    meta = {"loss_weights": json.dumps({"phone": 1.0, "feature": 1.0, "position": 20.0, "velocity": 1000.0,
                                        "correlation": 1.0, "closure": 50.0, "labiodental": 0.0})}
    arkit = {"motion": {"space": "arkit"}}
    assert finetune.objective_weights(meta, arkit, "base") == {"position": 20.0, "velocity": 1000.0,
                                                               "correlation": 1.0, "closure": 50.0,
                                                               "labiodental": 0.0}
    assert finetune.objective_weights(meta, {"motion": {"space": "vertices"}}, "base") == {
        "position": 20.0, "velocity": 1000.0, "correlation": 1.0}
    assert finetune.objective_weights(meta, arkit, "recipe") is None
    assert finetune.objective_weights({}, arkit, "base") is None  # no metadata: facegood_eval's recipe


# ----------------------------------------------------------------------------- refusals (NumPy)

def args(takes, out, *extra):
    return [BASE, str(takes), "--out", str(out), *extra]


def test_refuses_a_folder_without_takes(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("hello")
    write_wav(str(tmp_path / "lonely.wav"), speechlike(3, 0))
    assert "no usable takes" in refuse(capsys, args(tmp_path, tmp_path / "o.safetensors"))


def test_refuses_a_take_without_audio(tmp_path, capsys):
    three_takes(tmp_path)
    live_link_folder(str(tmp_path), "Silent_9", speechlike(5, 9), media=None)
    line = refuse(capsys, args(tmp_path, tmp_path / "o.safetensors"))
    assert "take Silent_9: no audio" in line and "Silent_9.mov or Silent_9.wav" in line


@needs_ffmpeg
def test_refuses_a_mov_without_an_audio_track(tmp_path, capsys):
    three_takes(tmp_path)
    folder = tmp_path / "NoSound"
    folder.mkdir()
    capture.write_live_link_csv(str(folder / "NoSound.csv"), energy_curves(speechlike(4, 1), RATE), 60)
    subprocess.run([FFMPEG, "-nostdin", "-v", "error", "-f", "lavfi", "-i", "color=c=black:s=64x64:r=30", "-t", "4",
                    "-c:v", "libx264", str(folder / "NoSound.mov")], check=True)
    assert "NoSound.mov: no audio track" in refuse(capsys, args(tmp_path, tmp_path / "o.safetensors"))


def test_refuses_silent_audio(tmp_path, capsys):
    three_takes(tmp_path)
    live_link_folder(str(tmp_path), "Quiet", np.zeros(5 * RATE, np.float32),
                     weights=energy_curves(speechlike(5, 2), RATE))
    assert "the audio is silent" in refuse(capsys, args(tmp_path, tmp_path / "o.safetensors"))


def test_refuses_motion_and_audio_of_different_lengths(tmp_path, capsys):
    three_takes(tmp_path)
    live_link_folder(str(tmp_path), "Cut", speechlike(5, 4), weights=energy_curves(speechlike(9, 4), RATE))
    line = refuse(capsys, args(tmp_path, tmp_path / "o.safetensors"))
    assert "take Cut: 540 motion frames at 60 fps last 9.00 s but the audio lasts 5.00 s" in line
    # Within the tolerance it is accepted (and the audio trimmed to the motion).
    shutil.rmtree(tmp_path / "Cut")
    live_link_folder(str(tmp_path), "Cut", speechlike(5.2, 4), weights=energy_curves(speechlike(5, 4), RATE))
    take = [t for t in finetune.discover(str(tmp_path), config()).takes if t.name == "Cut"][0]
    assert take.seconds == pytest.approx(5.0) and take.mismatch_s == pytest.approx(-0.2)


def test_refuses_nan_in_the_capture(tmp_path, capsys):
    three_takes(tmp_path)
    folder = live_link_folder(str(tmp_path), "Broken", speechlike(5, 6))
    path = os.path.join(folder, "Broken.csv")
    lines = open(path).read().splitlines()
    cells = lines[40].split(",")
    cells[INDEX["jawOpen"] + 2] = "nan"
    lines[40] = ",".join(cells)
    open(path, "w").write("\n".join(lines) + "\n")
    assert "NaN or infinite values in the capture" in refuse(capsys, args(tmp_path, tmp_path / "o.safetensors"))


def test_refuses_unknown_channel_names_and_lists_them(tmp_path, capsys):
    three_takes(tmp_path)
    folder = live_link_folder(str(tmp_path), "Odd", speechlike(5, 7))
    path = os.path.join(folder, "Odd.csv")
    lines = open(path).read().splitlines()
    lines[0] = lines[0] + ",MouthOpenWide,LipPuffer"
    lines[1:] = [line + ",0.1,0.2" for line in lines[1:]]
    open(path, "w").write("\n".join(lines) + "\n")
    line = refuse(capsys, args(tmp_path, tmp_path / "o.safetensors"))
    assert "channels that map to no model channel: MouthOpenWide, LipPuffer" in line


def test_refuses_too_little_data_and_a_split_of_one_take(tmp_path, capsys):
    three_takes(tmp_path, seconds=(6, 6, 6))
    assert "too little data: 12.0 s of training audio in 2 take(s)" in refuse(
        capsys, args(tmp_path, tmp_path / "o.safetensors"))
    one = tmp_path / "one"
    live_link_folder(str(one), "Only", speechlike(25, 1))
    assert "a held-out split needs at least 2" in refuse(capsys, args(one, tmp_path / "o.safetensors"))


def test_refuses_to_overwrite_the_base_or_an_existing_output(tmp_path, capsys):
    takes = three_takes(tmp_path / "takes")
    assert "is the base model" in refuse(capsys, args(takes, BASE))
    os.symlink(BASE, tmp_path / "link.safetensors")
    assert "is the base model" in refuse(capsys, args(takes, tmp_path / "link.safetensors", "--overwrite"))
    os.link(BASE, tmp_path / "hard.safetensors")
    assert "is the base model" in refuse(capsys, args(takes, tmp_path / "hard.safetensors", "--overwrite"))
    (tmp_path / "exists.safetensors").write_bytes(b"x")
    assert "exists; pass --overwrite" in refuse(capsys, args(takes, tmp_path / "exists.safetensors"))


def test_refuses_vertex_sequences_for_an_arkit_model(tmp_path, capsys):
    template = np.random.default_rng(0).uniform(-0.1, 0.1, (30, 3))
    np.save(tmp_path / "template.npy", template)
    for i in range(3):
        np.save(tmp_path / f"seq{i}.npy", np.repeat(template[None], 300, axis=0))
        write_wav(str(tmp_path / f"seq{i}.wav"), speechlike(10, i))
    line = refuse(capsys, args(tmp_path, tmp_path / "o.safetensors"))
    assert "vertex data can only fine-tune a vertices-space model" in line and "predicts arkit weights" in line


def fake_facegood(folder, seconds=(12, 11, 11), extra_channel=None, drop_wav=None):
    """A FACEGOOD-layout folder: channels.txt, bs_value_<take>.npy (30 fps), <take>.wav."""
    from kmtalk_train import facegood_arkit
    channels = []
    for rule in facegood_arkit.MAPPING:
        channels += [c for c, _ in rule.sources if c not in channels]
    channels += ["tooth_d_d", "tongue_Rot_1X"] + ([extra_channel] if extra_channel else [])
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "channels.txt"), "w") as f:
        f.write("\n".join(channels) + "\n")
    for i, s in enumerate(seconds):
        samples = speechlike(s, i)
        motion = np.zeros((int(round(s * 30)), len(channels)))
        motion[:, channels.index("mouth_stretch_c")] = energy_curves(samples, RATE, fps=30)[:, INDEX["jawOpen"]]
        np.save(os.path.join(folder, f"bs_value_take{i}.npy"), motion)
        if drop_wav != i:
            write_wav(os.path.join(folder, f"take{i}.wav"), samples)
    return folder


def test_facegood_layout_is_found_and_its_refusals(tmp_path, capsys):
    found = finetune.discover(fake_facegood(str(tmp_path / "ok")), config())
    assert found.form == "facegood" and [t.name for t in found.takes] == ["take0", "take1", "take2"]
    assert found.takes[0].measured.sum() == 16 and found.takes[0].motion.shape == (360, 52)
    mask = finetune.supervised_channels(found.takes, config())
    assert [n for n, m in zip(config()["motion"]["channels"], mask) if m] == ["jawOpen"]
    line = refuse(capsys, args(fake_facegood(str(tmp_path / "odd"), extra_channel="mouth_wiggle_c"),
                               tmp_path / "o.safetensors"))
    assert "channels that map to no model channel: mouth_wiggle_c" in line
    line = refuse(capsys, args(fake_facegood(str(tmp_path / "nowav"), drop_wav=1), tmp_path / "o.safetensors"))
    assert "take take1: no audio" in line


def test_refuses_mixed_forms(tmp_path, capsys):
    fake_facegood(str(tmp_path))
    live_link_folder(str(tmp_path), "Slate_1", speechlike(12, 1))
    assert "mixes take forms (facegood, livelink-folder)" in refuse(capsys, args(tmp_path, tmp_path / "o.safetensors"))


def test_the_command_line_refusal_has_no_traceback(tmp_path):
    result = subprocess.run([sys.executable, "-m", "kmtalk_train.finetune", BASE, str(tmp_path), "--out",
                             str(tmp_path / "o.safetensors")], cwd=TRAINING, capture_output=True, text=True)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        f"finetune: error: {tmp_path}: no usable takes (expected Live Link Face take folders with <name>.csv and "
        "<name>.mov or .wav, Live Link CSV + WAV pairs, FACEGOOD bs_value_*.npy with channels.txt and WAVs, "
        "or vertex sequences with template.npy|obj|ply; docs/finetune.md)"]


# ----------------------------------------------------------------------------- end to end (PyTorch)

def tensors(path):
    from kmtalk_ref import safetensors_io
    return safetensors_io.load(path)


def check_frozen_and_tuned(base_path, out_path, frozen=("encoder.", "phone_head.", "feature_head."),
                           tuned=("key_decoder.", "cmc.")):
    base, base_meta = tensors(base_path)
    out, meta = tensors(out_path)
    assert set(base) == set(out)
    for name in base:
        same = np.array_equal(base[name], out[name])
        if name.startswith(frozen) or name.startswith("motion."):
            assert same, f"{name} is frozen but changed"
    for prefix in tuned:
        assert any(not np.array_equal(base[n], out[n]) for n in base if n.startswith(prefix)), f"{prefix}* unchanged"
    assert meta["config"] == base_meta["config"]
    for key, value in base_meta.items():
        if key not in ("description",):
            assert meta[key] == value, key
    return meta


def check_report(report_dir, held_out, arkit=True):
    for name in ("report.md", "report.json", "curves.png"):
        assert os.path.getsize(os.path.join(report_dir, name)) > 100, name
    report = json.load(open(os.path.join(report_dir, "report.json")))
    assert list(report["held_out_takes"]) == held_out
    for group in ("held_out", "train"):
        for model in ("base", "fine-tuned"):
            summary = report["results"][group]["models"][model]["mean"]["summary"]
            keys = ("jaw_r", "mean_r_moving", "jaw_dr", "lips_dr_mean", "mae", "velocity_mae", "pause_rest_pct") \
                if arkit else ("mean_r_moving", "dr_moving", "mae", "vertex_error", "velocity_mae")
            for key in keys:
                assert key in summary
            assert summary["mae"] is not None and summary["mae"] >= 0
    text = open(os.path.join(report_dir, "report.md")).read()
    assert "| held-out: " in text and "training takes (seen in fine-tuning: not a test)" in text
    return report


@pytest.fixture(scope="module")
def generated_capture(tmp_path_factory):
    if ESPEAK is None:
        pytest.skip("espeak-ng is not installed (it speaks the generated capture)")
    if FFMPEG is None:
        pytest.skip("ffmpeg is not installed (it makes the take's MOV)")
    root = tmp_path_factory.mktemp("capture")
    for i, text in enumerate(SENTENCES):
        wav = str(root / f"speech{i}.wav")
        subprocess.run([ESPEAK, "-w", wav, text], check=True)
        samples, rate = capture.read_wav_mono(wav)
        live_link_folder(str(root / "takes"), f"Slate_{i}_iPhone", samples, rate=rate, media="mov")
    return str(root / "takes")


def test_end_to_end_on_a_generated_live_link_capture(generated_capture, tmp_path, capsys):
    pytest.importorskip("torch")
    from kmtalk_train.export import load
    before = open(BASE, "rb").read()
    out, report_dir = tmp_path / "mine.safetensors", tmp_path / "report"
    code = finetune.main([BASE, generated_capture, "--out", str(out), "--steps", "20", "--report", str(report_dir),
                          "--held-out-take", "Slate_1_iPhone", "--device", "cpu", "--batch-size", "4"])
    printed = capsys.readouterr().out
    assert code == 0 and "| held-out: Slate_1_iPhone | fine-tuned |" in printed
    assert open(BASE, "rb").read() == before
    model, config, meta = load(str(out))
    assert config["motion"]["channels"] == list(ARKIT_52)
    meta = check_frozen_and_tuned(BASE, str(out))
    assert meta["finetuned_from"] == "kmtalk-base.safetensors" and meta["finetune_steps"] == "20"
    assert meta["finetune_takes"] == "Slate_0_iPhone,Slate_2_iPhone" and meta["finetune_held_out"] == "Slate_1_iPhone"
    assert json.loads(meta["finetune_loss_weights"])["correlation"] == 1.0  # kmtalk-base's own objective
    assert meta["finetune_supervised"].split(",") == ["jawOpen", "mouthFunnel", "mouthLowerDownLeft",
                                                      "mouthLowerDownRight"]
    report = check_report(str(report_dir), ["Slate_1_iPhone"])
    assert report["plot_channels"][0] == "jawOpen"
    assert report["results"]["held_out"]["models"]["base"]["closures"]["bilabials"] > 0
    # A second run refuses to overwrite what the first wrote.
    assert finetune.main([BASE, generated_capture, "--out", str(out), "--steps", "1"]) == 2
    engine_loads(str(out), generated_capture, "Slate_1_iPhone")


def engine_loads(path, takes_dir, take):
    """The Swift engine (Python bindings) loads the fine-tuned model as it is, and its
    motion is the fine-tuned model's, not the base's."""
    library = os.path.join(REPO, ".build", "debug", "libKMTalk.so")
    if not os.path.isfile(library):
        pytest.skip(f"{library} is not built (swift build): the engine check is skipped")
    os.environ.setdefault("KMTALK_LIBRARY", library)
    sys.path.insert(0, os.path.join(REPO, "bindings", "python"))
    try:
        import kmtalk
        kmtalk.version()
    except Exception as error:  # noqa: BLE001 - any load failure means: no engine here
        pytest.skip(f"the Python bindings cannot load libKMTalk: {error}")
    import torch
    from kmtalk_train import facegood_eval
    from kmtalk_train.export import load
    found = finetune.discover(takes_dir, config())
    samples = [t for t in found.takes if t.name == take][0].samples
    with kmtalk.Model(path) as tuned_engine, kmtalk.Model(BASE) as base_engine:
        assert tuned_engine.metadata("finetuned_from") == "kmtalk-base.safetensors"
        with kmtalk.Session(tuned_engine) as session:
            engine = session.animate_pcm(samples, RATE).weights.copy()
        with kmtalk.Session(base_engine) as session:
            engine_base = session.animate_pcm(samples, RATE).weights.copy()
    model, cfg, _ = load(path)
    torch_take = finetune._eval_take(found.takes[[t.name for t in found.takes].index(take)], cfg,
                                     np.ones(52, bool))
    reference = facegood_eval.predict(model, torch_take, torch.device("cpu"))
    n = min(len(engine), len(reference))
    parity = np.abs(engine[:n] - reference[:n]).mean()
    assert parity < 1e-3, parity
    assert np.abs(engine[:n] - engine_base[:n]).mean() > 10 * parity


def test_end_to_end_on_facegood_takes(tmp_path, capsys):
    pytest.importorskip("torch")
    if not os.path.isdir(FACEGOOD):
        pytest.skip(f"{FACEGOOD} is absent (the FACEGOOD takes live in ../shared/data)")
    takes = tmp_path / "facegood"
    takes.mkdir()
    for name in ("channels.txt", "bs_value_1114_2_02.npy", "1114_2_02.wav", "bs_value_1114_3_15.npy", "1114_3_15.wav"):
        os.symlink(os.path.join(FACEGOOD, name), takes / name)
    out = tmp_path / "fg.safetensors"
    code = finetune.main([BASE, str(takes), "--out", str(out), "--steps", "3", "--held-out-take", "1114_3_15",
                          "--device", "cpu", "--batch-size", "2"])
    printed = capsys.readouterr().out
    assert code == 0 and "| held-out: 1114_3_15 | base |" in printed
    meta = check_frozen_and_tuned(BASE, str(out))
    assert meta["finetune_form"] == "facegood" and meta["finetune_takes"] == "1114_2_02"
    report = check_report(str(tmp_path / "fg-report"), ["1114_3_15"])
    # The mapped channels (facegood_arkit.MAPPING) that move in the training take.
    from kmtalk_train import facegood_arkit
    assert set(report["supervised"]) <= set(facegood_arkit.SUPERVISED) and "jawOpen" in report["supervised"]
    assert len(report["supervised"]) >= 12 and report["space"] == "arkit"


def test_end_to_end_on_vertex_sequences_with_a_vertices_model(tmp_path, capsys):
    torch = pytest.importorskip("torch")
    from kmtalk_ref.kmtalk_model import vertices_motion
    from kmtalk_train.export import export, load
    from kmtalk_train.model import KMTalkModel, tiny_config
    vertex_count = 12
    rng = np.random.default_rng(0)
    template = rng.uniform(-0.05, 0.05, (vertex_count, 3))
    cfg = tiny_config()
    cfg["motion"] = vertices_motion(vertex_count, cfg["motion"]["fps"])
    torch.manual_seed(0)
    base = tmp_path / "vertices-base.safetensors"
    export(KMTalkModel(cfg), cfg, str(base), {"license": "CC-BY-SA-4.0"}, template=template)
    takes = tmp_path / "takes"
    takes.mkdir()
    np.save(takes / "template.npy", template)
    for i, seconds in enumerate((12, 11, 11)):
        samples = speechlike(seconds, i)
        jaw = energy_curves(samples, RATE, fps=30)[:, INDEX["jawOpen"]]
        offsets = np.zeros((len(jaw), vertex_count, 3))
        offsets[:, :4, 1] = -0.01 * jaw[:, None]  # the "chin" vertices drop with the energy
        np.save(takes / f"sentence{i}.npy", template[None] + offsets)
        write_wav(str(takes / f"sentence{i}.wav"), samples)
    before = open(base, "rb").read()
    out = tmp_path / "vertices-tuned.safetensors"
    code = finetune.main([str(base), str(takes), "--out", str(out), "--steps", "5", "--device", "cpu"])
    printed = capsys.readouterr().out
    assert code == 0 and "| held-out: sentence0 | fine-tuned |" in printed
    assert open(base, "rb").read() == before
    model, config, meta = load(str(out))
    np.testing.assert_array_equal(model.motion_template, template.astype(np.float32))
    assert meta["license"] == "CC-BY-SA-4.0" and meta["finetune_form"] == "vertices"
    check_frozen_and_tuned(str(base), str(out))
    check_report(str(tmp_path / "vertices-tuned-report"), ["sentence0"], arkit=False)
    # A blendshape capture for this model: refused.
    three_takes(tmp_path / "arkit")
    line = refuse(capsys, [str(base), str(tmp_path / "arkit"), "--out", str(tmp_path / "x.safetensors")])
    assert "vertices-space; it needs vertex sequences" in line
