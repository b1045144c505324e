"""kmtalk.Model: loading from a path and from bytes, properties, metadata."""

from __future__ import annotations

import gc
import os
import json

import numpy as np
import pytest

import kmtalk

from conftest import REPO_ROOT


def test_version(lib):
    assert kmtalk.version() == "1.0.0"
    assert kmtalk.version_number() == 10000
    assert kmtalk.__version__ == kmtalk.version()


def check_tiny_model(model):
    assert model.architecture == "kmtalk-direct"
    assert model.sample_rate == 16000
    assert model.fps == 50.0
    assert model.channel_count == 52
    names = model.channel_names
    assert len(names) == 52 and len(set(names)) == 52
    assert names[0] == "eyeBlinkLeft" and names[-1] == "tongueOut"
    assert "jawOpen" in names
    assert model.parameter_count == 25844


def test_load_from_path(model_path):
    with kmtalk.Model(model_path) as model:  # pathlib.Path
        check_tiny_model(model)
        assert model.path == str(model_path)
    with kmtalk.Model(str(model_path)) as model:  # str
        check_tiny_model(model)


def test_load_from_bytes(model_path):
    data = model_path.read_bytes()
    for source in (data, bytearray(data), memoryview(data), np.frombuffer(data, dtype=np.uint8)):
        with kmtalk.Model(source) as model:
            check_tiny_model(model)
            assert model.path is None


def test_bytes_model_outlives_source_buffer(model_path):
    data = bytearray(model_path.read_bytes())
    model = kmtalk.Model(data)
    data[:] = b"\0" * len(data)  # the library copied what it needs
    del data
    gc.collect()
    with kmtalk.Session(model) as session:
        animation = session.animate_pcm(np.zeros(8000, np.float32), 16000)
        assert animation.frame_count > 0
    model.close()


def test_metadata(model):
    assert model.metadata("format") == "kmtalk"
    assert model.metadata("seed") == "1234"
    assert model.metadata("architecture") == model.architecture
    config = json.loads(model.metadata("config"))
    assert config["motion"]["fps"] == 50.0
    assert config["motion"]["channels"] == list(model.channel_names)
    assert model.metadata("no-such-key", None) is None
    assert model.metadata("no-such-key", "fallback") == "fallback"
    with pytest.raises(KeyError):
        model.metadata("no-such-key")
    with pytest.raises(kmtalk.MetadataKeyError) as info:
        model.metadata("no-such-key")
    assert info.value.status == kmtalk.Status.INVALID_ARGUMENT
    assert "no-such-key" in str(info.value)


def test_close_is_idempotent_and_closed_model_refuses(model_path):
    model = kmtalk.Model(model_path)
    assert not model.closed
    model.close()
    model.close()
    assert model.closed
    with pytest.raises(ValueError):
        model.fps
    with pytest.raises(ValueError):
        kmtalk.Session(model)
    assert "closed" in repr(model)


def test_repr(model):
    assert "kmtalk-direct" in repr(model) and "52 channels" in repr(model)


def test_motion_space(lib):
    base = kmtalk.Model(os.path.join(REPO_ROOT, "models", "kmtalk-base.safetensors"))
    assert base.motion_space == "arkit"
    vertices = kmtalk.Model(os.path.join(REPO_ROOT, "Tests", "KMTalkEngineTests", "Fixtures", "kmtalk-vertices.safetensors"))
    assert vertices.motion_space == "vertices"
