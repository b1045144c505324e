"""Session and Animation: files, PCM, frame rates, channel mix-down."""

from __future__ import annotations

import gc
import json
import threading

import numpy as np
import pytest

import kmtalk

from conftest import signal, write_wav


def check_animation(animation, model, duration, fps):
    assert animation.fps == pytest.approx(fps)
    assert animation.channel_names == model.channel_names
    assert animation.channel_count == 52
    # round(native_frames * fps / native_fps) frames, where the native count is
    # duration * 50 + 1: duration * fps within one native frame's worth.
    tolerance = 1 + fps / model.fps + 0.5
    assert abs(animation.frame_count - duration * fps) <= tolerance, (animation.frame_count, duration * fps)
    weights = animation.weights
    assert weights.dtype == np.float32
    assert weights.shape == (animation.frame_count, 52)
    assert weights.flags.c_contiguous and not weights.flags.writeable
    assert np.isfinite(weights).all()
    assert weights.min() >= 0.0 and weights.max() <= 1.0  # sigmoid head


def test_animate_file(session, model, audio):
    with session.animate_file(audio["mono_path"]) as animation:
        check_animation(animation, model, audio["duration"], 50.0)
        assert len(animation) == animation.frame_count
        assert animation.duration == pytest.approx(audio["duration"], abs=0.05)
        # The output moves with the input: not a constant.
        assert animation.weights.std(axis=0).max() > 1e-4


def test_animate_pcm_matches_file(session, audio):
    from_file = session.animate_file(audio["mono_path"])
    pcm = audio["mono_pcm"][:, 0].astype(np.float32) / 32768.0  # libsndfile's int16 scaling
    from_pcm = session.animate_pcm(pcm, 16000)
    assert from_pcm.frame_count == from_file.frame_count
    np.testing.assert_allclose(from_pcm.weights, from_file.weights, atol=1e-5)
    # Other dtypes and layouts are converted: float64, a list, a 2-D single column.
    as64 = session.animate_pcm(pcm.astype(np.float64), 16000)
    np.testing.assert_allclose(as64.weights, from_file.weights, atol=1e-5)
    column = session.animate_pcm(pcm[:, None], 16000)
    np.testing.assert_allclose(column.weights, from_file.weights, atol=1e-5)
    as_list = session.animate_pcm(pcm[:4000].tolist(), 16000)
    assert as_list.frame_count == session.animate_pcm(pcm[:4000], 16000).frame_count


def test_stereo_pcm_is_interleaved_and_mixed_down(session, audio):
    stereo = audio["stereo_pcm"].astype(np.float32) / 32768.0
    from_file = session.animate_file(audio["stereo_path"])
    from_pcm = session.animate_pcm(stereo, 44100)
    np.testing.assert_allclose(from_pcm.weights, from_file.weights, atol=1e-5)
    # A non-contiguous (Fortran-order) array must be interleaved correctly too.
    fortran = np.asfortranarray(stereo)
    np.testing.assert_allclose(session.animate_pcm(fortran, 44100).weights, from_file.weights, atol=1e-5)


def test_stereo_44k_close_to_mono_16k(session, audio):
    mono = session.animate_file(audio["mono_path"]).weights
    stereo = session.animate_file(audio["stereo_path"]).weights
    frames = min(len(mono), len(stereo))
    assert abs(len(mono) - len(stereo)) <= 1
    difference = np.abs(mono[:frames] - stereo[:frames]).mean()
    # For scale: a different signal (silence) differs by ~0.1 on this model.
    silence = session.animate_pcm(np.zeros(int(audio["duration"] * 16000), np.float32), 16000).weights
    baseline = np.abs(mono[:frames] - silence[:frames]).mean()
    assert difference < 0.01, difference
    assert difference < baseline / 10, (difference, baseline)


@pytest.mark.parametrize("fps", [30.0, 60.0, 24.0, 100.0, 1.0, 240.0])
def test_output_fps(model, audio, fps):
    with kmtalk.Session(model, threads=1, fps=fps) as session:
        assert session.fps == fps
        animation = session.animate_file(audio["mono_path"])
        check_animation(animation, model, audio["duration"], fps)


def test_fps_changes_frame_count_proportionally(model, audio):
    counts = {}
    with kmtalk.Session(model, fps=0) as session:  # 0 = native, as in C
        assert session.fps == 50.0
        assert session.animate_file(audio["mono_path"]).fps == 50.0
    for fps in (30, 60, None):
        with kmtalk.Session(model, fps=fps) as session:
            counts[fps] = session.animate_file(audio["mono_path"]).frame_count
    assert abs(counts[60] - 2 * counts[30]) <= 2
    assert abs(counts[None] * 60 / 50 - counts[60]) <= 2
    assert counts[60] == pytest.approx(audio["duration"] * 60, abs=2)


def test_fps_resampling_preserves_values(model, audio):
    """At 100 fps every second frame lies on a native (50 fps) frame."""
    with kmtalk.Session(model) as native_session, kmtalk.Session(model, fps=100) as double_session:
        native = native_session.animate_file(audio["mono_path"]).weights
        double = double_session.animate_file(audio["mono_path"]).weights
    n = min(len(native), (len(double) + 1) // 2)
    np.testing.assert_allclose(double[0:2 * n:2], native[:n], atol=1e-6)


def test_read_frames(session, audio):
    animation = session.animate_file(audio["mono_path"])
    weights = animation.weights
    np.testing.assert_array_equal(animation.read_frames(5, 10), weights[5:15])
    np.testing.assert_array_equal(animation.read_frames(10), weights[10:])
    assert animation.read_frames(animation.frame_count, 0).shape == (0, 52)
    with pytest.raises(kmtalk.InvalidArgumentError):
        animation.read_frames(animation.frame_count - 1, 2)
    with pytest.raises(kmtalk.InvalidArgumentError):
        animation.read_frames(-1, 2)
    with pytest.raises(kmtalk.InvalidArgumentError):  # would wrap around in size_t
        animation.read_frames(2**64 - 10, 10)
    np.testing.assert_array_equal(animation.channel("jawOpen"), weights[:, animation.channel_names.index("jawOpen")])
    with pytest.raises(KeyError):
        animation.channel("noSuchChannel")


def test_to_dict_is_json(session, audio):
    animation = session.animate_file(audio["mono_path"])
    data = json.loads(json.dumps(animation.to_dict()))
    assert data["fps"] == 50.0
    assert data["frame_count"] == animation.frame_count
    assert data["channel_names"] == list(animation.channel_names)
    assert len(data["weights"]) == animation.frame_count and len(data["weights"][0]) == 52
    np.testing.assert_allclose(np.array(data["weights"], np.float32), animation.weights)


def test_nonfinite_zero_equals_silence(model):
    samples = signal(np.arange(16000) / 16000.0).astype(np.float32)
    bad = samples.copy()
    bad[100:200] = np.nan
    bad[300] = np.inf
    bad[301] = -np.inf
    zeroed = samples.copy()
    zeroed[100:200] = 0
    zeroed[300:302] = 0
    with kmtalk.Session(model, nonfinite="zero") as session:
        np.testing.assert_allclose(session.animate_pcm(bad, 16000).weights,
                                   session.animate_pcm(zeroed, 16000).weights, atol=1e-6)


def test_session_keeps_model_alive(model_path, audio):
    model = kmtalk.Model(model_path)
    session = kmtalk.Session(model)
    del model
    gc.collect()
    assert session.model.fps == 50.0  # the Python object is still referenced
    assert session.animate_file(audio["mono_path"]).frame_count > 0
    # Closing the model explicitly is fine too: the C library refcounts it.
    session.model.close()
    assert session.animate_file(audio["mono_path"]).frame_count > 0
    session.close()


def test_animation_outlives_session_and_model(model_path, audio):
    with kmtalk.Model(model_path) as model, kmtalk.Session(model) as session:
        animation = session.animate_file(audio["mono_path"])
    gc.collect()
    assert animation.frame_count > 0
    assert animation.channel_names[17] == "jawOpen"
    assert np.isfinite(animation.weights).all()
    animation.close()
    animation.close()
    with pytest.raises(ValueError):
        animation.frame_count


def test_closed_session_refuses(model, audio):
    session = kmtalk.Session(model)
    session.close()
    session.close()
    with pytest.raises(ValueError):
        session.animate_file(audio["mono_path"])


def test_threads_share_model(model, audio):
    with kmtalk.Session(model, threads=1) as reference_session:
        reference = reference_session.animate_file(audio["mono_path"]).weights
    results, errors = [], []

    def work():
        try:
            with kmtalk.Session(model, threads=1) as own:
                for _ in range(3):
                    results.append(own.animate_file(audio["mono_path"]).weights)
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(results) == 12
    for weights in results:
        np.testing.assert_allclose(weights, reference, atol=1e-5)


def test_convenience_animate(model_path, audio, monkeypatch):
    monkeypatch.delenv("KMTALK_MODEL", raising=False)
    default = kmtalk.default_model_path()  # the repository's shipped model
    assert default is not None
    with kmtalk.Model(default) as model:
        np.testing.assert_allclose(kmtalk.animate(audio["mono_path"]).weights,
                                   kmtalk.animate(audio["mono_path"], model=model).weights)
    monkeypatch.setenv("KMTALK_MODEL", str(model_path))
    assert kmtalk.default_model_path() == str(model_path)
    animation = kmtalk.animate(audio["mono_path"])
    assert animation.frame_count == pytest.approx(audio["duration"] * 50, abs=2)
    at60 = kmtalk.animate(audio["mono_path"], fps=60)
    assert at60.fps == 60.0
    with kmtalk.Model(model_path) as model:
        np.testing.assert_allclose(kmtalk.animate(audio["mono_path"], model=model).weights, animation.weights)
    assert kmtalk.animate(audio["mono_path"], model=model_path.read_bytes()).frame_count == animation.frame_count
    monkeypatch.setenv("KMTALK_MODEL", str(audio["dir"] / "missing.safetensors"))
    with pytest.raises(kmtalk.FileIOError):
        kmtalk.animate(audio["mono_path"])


def test_log_callback(model_path):
    messages = []
    kmtalk.set_log_callback(lambda level, message: messages.append((level, message)), kmtalk.LogLevel.DEBUG)
    try:
        kmtalk.Model(model_path).close()
        with pytest.raises(kmtalk.FileIOError):
            kmtalk.Model(model_path.parent / "missing.safetensors")
    finally:
        kmtalk.set_log_callback(None)
    assert any(level == kmtalk.LogLevel.INFO and "loaded" in message for level, message in messages)
    assert any("missing.safetensors" in message for _, message in messages)
    count = len(messages)
    kmtalk.Model(model_path).close()
    assert len(messages) == count  # silenced


def test_write_wav_roundtrip_helper(tmp_path):
    pcm = write_wav(tmp_path / "x.wav", np.array([0.0, 0.5, -0.5, 1.0]), 8000)
    assert pcm[:, 0].tolist() == [0, 16384, -16384, 32767]


@pytest.mark.parametrize("rate", [8000, 22050, 48000, 192000])
def test_file_sample_rates(session, tmp_path, rate):
    duration = 1.0
    path = tmp_path / f"tone{rate}.wav"
    write_wav(path, signal(np.arange(int(duration * rate)) / rate), rate)
    animation = session.animate_file(path)
    assert animation.frame_count == pytest.approx(duration * 50, abs=2)
    assert np.isfinite(animation.weights).all()


def test_many_channels_mix_down(session, tmp_path):
    rate = 16000
    mono = signal(np.arange(rate) / rate)
    path = tmp_path / "six.wav"
    write_wav(path, np.repeat(mono[:, None], 6, axis=1), rate)
    reference = session.animate_pcm(mono.astype(np.float32), rate).weights
    assert np.abs(session.animate_file(path).weights - reference).mean() < 1e-3


def test_int16_pcm_is_scaled_as_streaming_and_files_scale_it(session):
    t = np.arange(16000) / 16000
    voice = 0.3 * np.sin(2 * np.pi * 180 * t) * (0.5 + 0.5 * np.sin(2 * np.pi * 3 * t))
    pcm = np.round(voice * 32767).astype(np.int16)
    from_int = session.animate_pcm(pcm, 16000).weights
    from_float = session.animate_pcm(pcm.astype(np.float32) / 32768, 16000).weights
    np.testing.assert_array_equal(from_int, from_float)
