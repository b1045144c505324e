"""kmtalk.Audio / kmtalk.load_audio: the library's decoder (kmt_audio_load_file and
kmt_audio_load_memory) gives the samples the offline path feeds the network."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

import kmtalk

REPO = Path(__file__).resolve().parents[3]
CORPUS = REPO / "fuzz" / "corpus" / "audio"


def float_wav(path: Path, samples: np.ndarray, rate: int) -> None:
    """A 32-bit float mono WAV, written by hand (values as given, NaN included)."""
    data = np.asarray(samples, "<f4").tobytes()
    fmt = struct.pack("<HHIIHH", 3, 1, rate, rate * 4, 4, 32)
    chunks = b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data)) + data
    path.write_bytes(b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WAVE" + chunks)


def test_mono_wav_at_its_own_rate_is_the_pcm_scaled(audio):
    samples, rate = kmtalk.load_audio(audio["mono_path"])
    assert rate == 16000 and samples.dtype == np.float32
    assert np.array_equal(samples, audio["mono_pcm"][:, 0].astype(np.float32) / 32768)


def test_stereo_is_averaged_and_resampled(audio):
    with kmtalk.Audio(audio["stereo_path"]) as own:
        assert (own.sample_rate, own.source_rate, own.source_channels) == (44100, 44100, 2)
        assert own.format_name == "WAV (Microsoft) / Signed 16 bit PCM"
        expected = audio["stereo_pcm"].astype(np.float32).mean(axis=1) / 32768
        assert np.abs(own.samples - expected).max() < 1e-7
        assert own.duration == pytest.approx(audio["duration"])
    samples, rate = kmtalk.load_audio(audio["stereo_path"], 16000)
    assert rate == 16000 and abs(len(samples) - 24000) <= 1


def test_samples_are_what_animate_file_feeds_the_network(model, audio):
    """animate_pcm on the decoded samples at the model's rate gives exactly the frames of
    animate_file on the file: the same samples reached the network."""
    with kmtalk.Session(model, threads=1) as session:
        for path in (audio["mono_path"], audio["stereo_path"]):
            samples, rate = kmtalk.load_audio(path, model.sample_rate)
            from_file = session.animate_file(path).weights
            from_samples = session.animate_pcm(samples, rate).weights
            assert np.array_equal(from_file, from_samples), path


def test_bytes_decode_like_the_file(audio):
    path = audio["stereo_path"]
    from_file, _ = kmtalk.load_audio(path, 22050)
    for data in (path.read_bytes(), bytearray(path.read_bytes()), memoryview(path.read_bytes())):
        with kmtalk.Audio(data, 22050) as decoded:
            assert decoded.path is None
            assert np.array_equal(decoded.samples, from_file)


@pytest.mark.parametrize("name, prefix", [("tone.flac", "FLAC"), ("tone.ogg", "OGG"), ("tone.mp3", "MPEG"),
                                          ("tone.aiff", "AIFF")])
def test_other_formats(name, prefix):
    path = CORPUS / name
    if not path.is_file():
        pytest.skip(f"{path} missing")
    with kmtalk.Audio(path, 16000) as decoded:
        assert decoded.format_name.startswith(prefix), decoded.format_name
        assert decoded.sample_rate == 16000 and decoded.sample_count > 0
        assert np.isfinite(decoded.samples).all()
        assert decoded.source_rate >= 8000 and decoded.source_channels >= 1


def test_errors(tmp_path, audio):
    with pytest.raises(kmtalk.FileIOError, match="No such file"):
        kmtalk.load_audio(tmp_path / "missing.wav")
    with pytest.raises(kmtalk.FileIOError, match="is a directory"):
        kmtalk.load_audio(tmp_path)
    (tmp_path / "empty.wav").write_bytes(b"")
    with pytest.raises(kmtalk.InvalidAudioError, match="empty file"):
        kmtalk.load_audio(tmp_path / "empty.wav")
    (tmp_path / "notes.wav").write_text("not audio\n" * 10)
    with pytest.raises(kmtalk.UnsupportedFormatError, match="not a supported audio format"):
        kmtalk.load_audio(tmp_path / "notes.wav")
    with pytest.raises(kmtalk.UnsupportedFormatError, match="ffmpeg"):
        kmtalk.load_audio(b"\0\0\0\x20ftypM4A " + bytes(64))
    truncated = audio["mono_path"].read_bytes()[:2000]
    with pytest.raises(kmtalk.InvalidAudioError, match="truncated"):
        kmtalk.load_audio(truncated)
    with pytest.raises(kmtalk.InvalidAudioError, match="empty buffer"):
        kmtalk.load_audio(b"")
    with pytest.raises(kmtalk.InvalidArgumentError, match="sample_rate"):
        kmtalk.load_audio(audio["mono_path"], 4000)
    with pytest.raises(kmtalk.InvalidArgumentError, match="nonfinite"):
        kmtalk.load_audio(audio["mono_path"], nonfinite="drop")


def test_nonfinite_policy(tmp_path):
    samples = np.full(1600, 0.25, dtype=np.float32)
    samples[100] = np.nan
    float_wav(tmp_path / "nan.wav", samples, 16000)
    with pytest.raises(kmtalk.InvalidAudioError, match=r"non-finite sample \(nan\) at frame 100"):
        kmtalk.load_audio(tmp_path / "nan.wav")
    zeroed, _ = kmtalk.load_audio(tmp_path / "nan.wav", nonfinite="zero")
    assert zeroed[100] == 0 and zeroed[101] == np.float32(0.25)


def test_progress_and_cancel(tmp_path):
    float_wav(tmp_path / "long.wav", np.zeros(16000 * 20, dtype=np.float32), 16000)
    seen = []
    kmtalk.load_audio(tmp_path / "long.wav", progress=lambda f, stage: seen.append((f, stage)))
    assert {stage for _, stage in seen} == {"decode"}
    assert seen[0][0] == 0 and seen[-1][0] == 1 and len(seen) > 5
    with pytest.raises(kmtalk.CancelledError):
        kmtalk.load_audio(tmp_path / "long.wav", progress=lambda f, stage: f < 0.5)

    class Stop(Exception):
        pass

    def boom(fraction, stage):
        raise Stop()

    with pytest.raises(Stop):
        kmtalk.load_audio(tmp_path / "long.wav", progress=boom)


def test_closed_audio_raises(audio):
    decoded = kmtalk.Audio(audio["mono_path"])
    decoded.close()
    decoded.close()
    assert "closed" in repr(decoded)
    with pytest.raises(ValueError):
        decoded.samples
