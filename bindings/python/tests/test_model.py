"""kmtalk.Model: loading from a path and from bytes, properties, metadata."""

from __future__ import annotations

import gc
import os
import json
import struct

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


def test_names_by_index_raise_on_a_bad_index(model, session):
    """The getters return a status (kmt_model_channel_name and the others write an
    out-parameter): an index out of range raises the binding's error with the library's
    message instead of giving an empty name."""
    assert model.channel_name(17) == "jawOpen"
    assert model.channel_name(model.channel_count - 1) == model.channel_names[-1]
    with pytest.raises(kmtalk.InvalidArgumentError) as info:
        model.channel_name(model.channel_count)
    assert info.value.status == kmtalk.Status.INVALID_ARGUMENT
    assert "channel index 52 is not below the channel count 52" in str(info.value)
    with pytest.raises(kmtalk.InvalidArgumentError, match="is not below the channel count"):
        model.channel_name(2 ** 64 - 1)
    animation = session.animate_pcm(np.zeros(8000, np.float32), 16000)
    assert animation.channel_name(0) == "eyeBlinkLeft"
    with pytest.raises(kmtalk.InvalidArgumentError, match="channel index 60 is not below the channel count 52"):
        animation.channel_name(60)
    rig = kmtalk.Rig(os.path.join(REPO_ROOT, "models", "kmtalk-head.rig.safetensors"))
    assert rig.shape_name(0) == rig.shape_names[0]
    with pytest.raises(kmtalk.InvalidArgumentError, match=f"shape index {rig.shape_count} is not below"):
        rig.shape_name(rig.shape_count)
    rig.close()


def test_streaming_latency_of_a_model_that_cannot_stream_raises(model_path):
    """kmt_session_latency_ms returns KMT_ERR_INCOMPATIBLE_MODEL for full attention (the
    C API's old -1): the property raises instead of answering -1.0."""
    data = model_path.read_bytes()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + length])
    config = json.loads(header["__metadata__"]["config"])
    config["encoder"]["band_back"] = None
    header["__metadata__"]["config"] = json.dumps(config)
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    edited = struct.pack("<Q", len(raw)) + raw + data[8 + length:]
    with kmtalk.Model(edited) as full_attention, kmtalk.Session(full_attention) as session:
        with pytest.raises(kmtalk.IncompatibleModelError, match="cannot stream") as info:
            session.latency_ms
        assert info.value.status == kmtalk.Status.INCOMPATIBLE_MODEL
        with pytest.raises(kmtalk.IncompatibleModelError):
            session.exact_latency_ms
