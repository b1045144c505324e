"""Errors: every failure maps to the documented status and a useful message."""

from __future__ import annotations

import os

import numpy as np
import pytest

import kmtalk


def test_missing_audio_file_is_io(session, tmp_path):
    path = tmp_path / "does-not-exist.wav"
    with pytest.raises(kmtalk.FileIOError) as info:
        session.animate_file(path)
    error = info.value
    assert isinstance(error, kmtalk.KMTalkError)
    assert error.status == kmtalk.Status.IO
    assert error.status_name == "KMT_ERR_IO"
    assert str(path) in error.message
    assert str(path) in str(error) and "I/O error" in str(error)


def test_directory_is_io(session, tmp_path):
    with pytest.raises(kmtalk.FileIOError):
        session.animate_file(tmp_path)


def test_text_file_renamed_wav_is_unsupported(session, tmp_path):
    path = tmp_path / "notes.wav"
    path.write_text("this is plain text, not RIFF audio\n" * 20)
    with pytest.raises(kmtalk.UnsupportedFormatError) as info:
        session.animate_file(path)
    assert info.value.status == kmtalk.Status.UNSUPPORTED_FORMAT
    assert "notes.wav" in info.value.message


def test_empty_file_is_invalid_audio(session, tmp_path):
    path = tmp_path / "empty.wav"
    path.write_bytes(b"")
    with pytest.raises(kmtalk.InvalidAudioError) as info:
        session.animate_file(path)
    assert info.value.status == kmtalk.Status.INVALID_AUDIO


def test_missing_model_is_io(lib, tmp_path):
    with pytest.raises(kmtalk.FileIOError) as info:
        kmtalk.Model(tmp_path / "missing.safetensors")
    assert "missing.safetensors" in info.value.message


@pytest.mark.parametrize("size", [0, 7, 8, 64, 4096])
def test_corrupt_model_bytes(lib, size):
    data = np.random.default_rng(size).integers(0, 256, size, dtype=np.uint8).tobytes()
    with pytest.raises(kmtalk.CorruptModelError) as info:
        kmtalk.Model(data)
    assert info.value.status == kmtalk.Status.CORRUPT_MODEL
    assert info.value.message


def test_corrupt_model_file(lib, tmp_path):
    path = tmp_path / "random.safetensors"
    path.write_bytes(os.urandom(4096))
    with pytest.raises(kmtalk.CorruptModelError) as info:
        kmtalk.Model(path)
    assert "random.safetensors" in info.value.message


def test_truncated_model_is_corrupt(model_path):
    data = model_path.read_bytes()
    with pytest.raises(kmtalk.CorruptModelError):
        kmtalk.Model(data[: len(data) // 2])


def test_nan_in_pcm_is_invalid_audio_unless_zero_policy(model):
    samples = np.zeros(16000, np.float32)
    samples[1234] = np.nan
    with kmtalk.Session(model) as rejecting:
        with pytest.raises(kmtalk.InvalidAudioError) as info:
            rejecting.animate_pcm(samples, 16000)
        assert "nan" in info.value.message.lower()
        samples_inf = np.zeros(16000, np.float32)
        samples_inf[5] = -np.inf
        with pytest.raises(kmtalk.InvalidAudioError):
            rejecting.animate_pcm(samples_inf, 16000)
    with kmtalk.Session(model, nonfinite="zero") as zeroing:
        animation = zeroing.animate_pcm(samples, 16000)
        assert animation.frame_count == pytest.approx(50, abs=2)
        assert np.isfinite(animation.weights).all()


@pytest.mark.parametrize("fps", [0.5, 241.0, -1.0, float("nan"), float("inf")])
def test_invalid_fps_is_invalid_argument(model, fps):
    with pytest.raises(kmtalk.InvalidArgumentError) as info:
        kmtalk.Session(model, fps=fps)
    assert info.value.status == kmtalk.Status.INVALID_ARGUMENT
    assert "output_fps" in info.value.message
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("threads", [-1, 1025])
def test_invalid_threads(model, threads):
    with pytest.raises(kmtalk.InvalidArgumentError):
        kmtalk.Session(model, threads=threads)


def test_invalid_nonfinite_policy(model):
    with pytest.raises(kmtalk.InvalidArgumentError):
        kmtalk.Session(model, nonfinite="ignore")


def test_not_a_model(lib):
    with pytest.raises(TypeError):
        kmtalk.Session("model.safetensors")


@pytest.mark.parametrize("rate", [0, 4000, 7999, 192001, -16000])
def test_pcm_rate_out_of_range_is_invalid_audio(session, rate):
    with pytest.raises(kmtalk.InvalidAudioError) as info:
        session.animate_pcm(np.zeros(1000, np.float32), rate)
    assert str(rate) in info.value.message


def test_pcm_bad_shapes(session):
    with pytest.raises(kmtalk.InvalidAudioError):
        session.animate_pcm(np.zeros(0, np.float32), 16000)
    with pytest.raises(kmtalk.InvalidArgumentError):
        session.animate_pcm(np.zeros((10, 2, 2), np.float32), 16000)
    with pytest.raises(kmtalk.InvalidArgumentError):
        session.animate_pcm(np.zeros((100, 0), np.float32), 16000)


def test_error_classes_and_status_strings(lib):
    for status in kmtalk.Status:
        if status == kmtalk.Status.OK:
            continue
        error = kmtalk.KMTalkError.from_status(status, "detail")
        assert type(error) is not kmtalk.KMTalkError
        assert error.status == status and error.STATUS == status
        assert error.status_name.startswith("KMT_ERR_")
        assert kmtalk.status_string(status) in str(error)
    assert kmtalk.status_string(0) == "ok"
    unknown = kmtalk.KMTalkError.from_status(42, "future")
    assert type(unknown) is kmtalk.KMTalkError and unknown.status == 42
    assert "unknown status" in str(unknown)


def test_error_is_per_call_not_sticky(session, audio, tmp_path):
    with pytest.raises(kmtalk.FileIOError):
        session.animate_file(tmp_path / "missing.wav")
    assert session.animate_file(audio["mono_path"]).frame_count > 0
    assert kmtalk._lib.kmt_last_error() == b""


def test_file_errors_are_oserrors(session, tmp_path):
    with pytest.raises(OSError) as info:
        session.animate_file(tmp_path / "missing.wav")
    assert isinstance(info.value, kmtalk.FileIOError) and info.value.errno is None
    assert "missing.wav" in str(info.value) and "missing.wav" in info.value.strerror
