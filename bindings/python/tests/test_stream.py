"""Streaming: push chunks, pull final frames; equal to animate_pcm."""

from __future__ import annotations

import numpy as np
import pytest

import kmtalk

from conftest import signal


def test_stream_matches_offline(model):
    session = kmtalk.Session(model, threads=1)
    assert 0 < session.latency_ms <= 150  # the default
    session.latency_ms = session.exact_latency_ms  # exact: equal to animate_pcm
    assert session.latency_ms == session.exact_latency_ms
    rate = 16000
    audio = signal(np.arange(int(2.5 * rate)) / rate).astype(np.float32)
    offline = session.animate_pcm(audio, rate).weights
    chunks = [audio[i:i + 160] for i in range(0, len(audio), 160)]
    times, parts = [], []
    for frames, first in session.stream(chunks, rate):
        times.append(first)
        parts.append(frames)
    streamed = np.concatenate(parts)
    assert streamed.shape == offline.shape
    assert np.abs(streamed - offline).max() < 1e-3
    assert times[0] == 0.0 and times == sorted(times)


def test_stream_int16_stereo_44k_and_misuse(model):
    session = kmtalk.Session(model, threads=1, fps=60)
    session.latency_ms = session.exact_latency_ms
    rate = 44100
    t = np.arange(int(1.5 * rate)) / rate
    stereo = (np.stack([signal(t), 0.5 * signal(t)], axis=1) * 32767).astype(np.int16)
    offline = session.animate_pcm(stereo.astype(np.float32) / 32768, rate).weights
    streamed = np.concatenate([f for f, _ in session.stream((stereo[i:i + 1631] for i in range(0, len(stereo), 1631)), rate)])
    assert streamed.shape == offline.shape
    assert np.abs(streamed - offline).max() < 1e-3
    session.push(stereo[:441], rate)
    with pytest.raises(kmtalk.InvalidArgumentError, match="fixed by its first push"):
        session.push(stereo[:441, 0], rate)
    session.flush()
    with pytest.raises(kmtalk.InvalidArgumentError, match="kmt_session_reset"):
        session.push(stereo[:441], rate)
    session.reset()
    session.push(stereo[:441], rate)


def test_stream_lower_latency(model):
    session = kmtalk.Session(model, threads=1)
    full = session.exact_latency_ms
    session.latency_ms = 100
    assert session.latency_ms == 100
    rate = 16000
    audio = signal(np.arange(2 * rate) / rate).astype(np.float32)
    offline = session.animate_pcm(audio, rate).weights
    streamed = np.concatenate([f for f, _ in session.stream([audio[i:i + 160] for i in range(0, len(audio), 160)], rate)])
    assert streamed.shape == offline.shape
    assert np.isfinite(streamed).all()
    session.push(audio[:160], rate)
    with pytest.raises(kmtalk.InvalidArgumentError):
        session.latency_ms = full


def test_stream_wav_example(model_path, tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    from conftest import write_wav

    rate = 22050
    wav = tmp_path / "speech.wav"
    write_wav(wav, signal(np.arange(rate) / rate), rate)
    example = Path(__file__).resolve().parents[1] / "examples" / "stream_wav.py"
    env = dict(os.environ, PYTHONPATH=str(Path(kmtalk.__file__).resolve().parents[1]))
    result = subprocess.run([sys.executable, str(example), str(wav), "--model", str(model_path), "--fast"],
                            capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "compute per chunk: p50" in result.stdout

