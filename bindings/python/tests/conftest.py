"""Shared fixtures: the library (skip only when it cannot be found), the test
model, and generated audio (no audio files are checked in)."""

from __future__ import annotations

import os
import wave
from pathlib import Path

import numpy as np
import pytest

import kmtalk
from kmtalk import _lib

REPO_ROOT = Path(__file__).resolve().parents[3]
HEADER = REPO_ROOT / "include" / "kmtalk.h"


def find_model() -> Path:
    env = os.environ.get("KMTALK_MODEL")
    if env:
        return Path(env)
    return REPO_ROOT / "models" / "kmtalk-tiny-random.safetensors"


def signal(t: np.ndarray) -> np.ndarray:
    """A deterministic speech-like test signal (tone + amplitude-modulated
    chirp + a low hum), defined on time so every sample rate sees the same
    waveform."""
    tone = 0.25 * np.sin(2 * np.pi * 220.0 * t)
    chirp = 0.2 * np.sin(2 * np.pi * (300.0 + 400.0 * t) * t) * (0.5 + 0.5 * np.sin(2 * np.pi * 3.0 * t))
    hum = 0.1 * np.sin(2 * np.pi * 90.0 * t)
    return tone + chirp + hum


def write_wav(path: Path, samples: np.ndarray, rate: int) -> np.ndarray:
    """Writes float samples (frames or frames x channels, -1..1) as 16-bit
    PCM WAV; returns the int16 data as written."""
    data = samples.reshape(len(samples), -1)
    pcm = np.clip(np.round(data * 32767.0), -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(data.shape[1])
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm.tobytes())
    return pcm


@pytest.fixture(scope="session")
def lib():
    """The loaded libKMTalk.so; skips the suite only if it cannot be found."""
    try:
        _lib.load()
    except _lib.LibraryNotFoundError as error:
        pytest.skip(f"libKMTalk.so not found (build with `swift build` or set KMTALK_LIBRARY): {error}")
    return _lib


@pytest.fixture(scope="session")
def model_path(lib) -> Path:
    path = find_model()
    if not path.is_file():
        pytest.fail(f"test model missing: {path}")
    return path


@pytest.fixture(scope="session")
def model(model_path):
    with kmtalk.Model(model_path) as loaded:
        yield loaded


@pytest.fixture(scope="session")
def session(model):
    with kmtalk.Session(model, threads=1) as created:
        yield created


DURATION = 1.5


@pytest.fixture(scope="session")
def audio(tmp_path_factory):
    """The same 1.5 s signal as 16 kHz mono and 44.1 kHz stereo WAV files,
    plus the int16 data written."""
    directory = tmp_path_factory.mktemp("audio")
    t16 = np.arange(int(DURATION * 16000)) / 16000.0
    mono_path = directory / "mono16k.wav"
    mono_pcm = write_wav(mono_path, signal(t16), 16000)

    t44 = np.arange(int(DURATION * 44100)) / 44100.0
    base = signal(t44)
    side = 0.05 * np.sin(2 * np.pi * 1000.0 * t44)  # cancels in the mono mix-down
    stereo_path = directory / "stereo44k.wav"
    stereo_pcm = write_wav(stereo_path, np.stack([base + side, base - side], axis=1), 44100)
    return {
        "duration": DURATION,
        "mono_path": mono_path,
        "mono_pcm": mono_pcm,
        "stereo_path": stereo_path,
        "stereo_pcm": stereo_pcm,
        "dir": directory,
    }
