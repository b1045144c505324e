"""Animation.save_into: the speech written into a user's own multi-mesh GLB, which keeps
every mesh, material and node, re-read here with a small GLB reader of the test's own."""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest

import kmtalk


def write_glb(path, document, binary: bytes) -> None:
    text = json.dumps(document).encode()
    text += b" " * (-len(text) % 4)
    binary += b"\0" * (-len(binary) % 4)
    total = 12 + 8 + len(text) + 8 + len(binary)
    with open(path, "wb") as f:
        f.write(struct.pack("<III", 0x46546C67, 2, total))
        f.write(struct.pack("<II", len(text), 0x4E4F534A) + text)
        f.write(struct.pack("<II", len(binary), 0x004E4942) + binary)


def read_glb(path):
    data = open(path, "rb").read()
    magic, version, total = struct.unpack_from("<III", data, 0)
    assert (magic, version, total) == (0x46546C67, 2, len(data))
    length, kind = struct.unpack_from("<II", data, 12)
    assert kind == 0x4E4F534A
    document = json.loads(data[20:20 + length])
    binary_length, kind = struct.unpack_from("<II", data, 20 + length)
    assert kind == 0x004E4942
    return document, data[28 + length:28 + length + binary_length]


def floats(document, binary, accessor_index):
    accessor = document["accessors"][accessor_index]
    view = document["bufferViews"][accessor["bufferView"]]
    assert view["buffer"] == 0 and accessor["componentType"] == 5126 and accessor["type"] == "SCALAR"
    start = view.get("byteOffset", 0) + accessor.get("byteOffset", 0)
    return np.frombuffer(binary, dtype="<f4", count=accessor["count"], offset=start)


@pytest.fixture()
def hero(tmp_path):
    """A character with a head whose 3 targets have its own names, and a hat (no targets)."""
    positions = np.array([0, 0, 0, 1, 0, 0, 0, 1, 0], dtype="<f4").tobytes()
    deltas = np.array([0, 0, 0.01, 0, 0, 0, 0, 0, 0], dtype="<f4").tobytes()
    binary = positions + deltas * 3
    views = [{"buffer": 0, "byteOffset": 36 * i, "byteLength": 36} for i in range(4)]
    accessors = [{"bufferView": i, "componentType": 5126, "count": 3, "type": "VEC3",
                  "min": [0, 0, 0], "max": [1, 1, 0.01 if i else 0]} for i in range(4)]
    document = {
        "asset": {"version": "2.0", "generator": "test"}, "scene": 0, "scenes": [{"nodes": [0, 1]}],
        "nodes": [{"name": "Head", "mesh": 0}, {"name": "Hat", "mesh": 1, "translation": [0, 0.2, 0]}],
        "meshes": [{"name": "Head", "primitives": [{"attributes": {"POSITION": 0}, "material": 0,
                                                    "targets": [{"POSITION": 1}, {"POSITION": 2}, {"POSITION": 3}]}],
                    "weights": [0, 0, 0.5], "extras": {"targetNames": ["Mouth_Open", "Smile_L", "Wrinkle"]}},
                   {"name": "Hat", "primitives": [{"attributes": {"POSITION": 0}, "material": 1}]}],
        "materials": [{"name": "skin"}, {"name": "felt", "pbrMetallicRoughness": {"baseColorFactor": [0.1, 0.1, 0.1, 1]}}],
        "buffers": [{"byteLength": len(binary)}], "bufferViews": views, "accessors": accessors,
    }
    path = tmp_path / "hero.glb"
    write_glb(path, document, binary)
    return path, document, binary


def test_save_into_keeps_the_asset_and_drives_mapped_targets(session, audio, hero, tmp_path):
    path, original, original_binary = hero
    mapping = {"channels": {"jawOpen": "Mouth_Open", "mouthSmileLeft": {"Smile_L": 0.5}}}
    with session.animate_file(audio["mono_path"]) as animation, animation.remap(mapping) as mapped:
        out = tmp_path / "hero-talking.glb"
        mapped.save_into(path, out)
        document, binary = read_glb(out)
        for key in ("asset", "scene", "scenes", "nodes", "meshes", "materials"):
            assert document[key] == original[key], key
        assert binary[:len(original_binary)] == original_binary
        assert document["bufferViews"][:4] == original["bufferViews"]
        assert document["accessors"][:4] == original["accessors"]
        (speech,) = document["animations"]
        assert speech["name"] == "speech"
        (channel,) = speech["channels"]
        assert channel["target"] == {"node": 0, "path": "weights"}
        sampler = speech["samplers"][channel["sampler"]]
        times = floats(document, binary, sampler["input"])
        np.testing.assert_allclose(times, np.arange(mapped.frame_count) / mapped.fps, rtol=0, atol=1e-6)
        weights = floats(document, binary, sampler["output"]).reshape(-1, 3)
        assert weights.shape == (mapped.frame_count, 3)
        np.testing.assert_array_equal(weights[:, 0], animation.channel("jawOpen"))
        np.testing.assert_array_equal(weights[:, 1], np.float32(0.5) * animation.channel("mouthSmileLeft"))
        assert np.all(weights[:, 2] == 0.5), "the undriven target keeps its rest weight"
        assert weights[:, 0].max() > 0.2, "the jaw moves"

        # Without the map nothing matches: a clear error naming the asset's targets.
        with pytest.raises(kmtalk.InvalidArgumentError, match="Mouth_Open"):
            animation.save_into(path, tmp_path / "unmapped.glb")
        assert not (tmp_path / "unmapped.glb").exists()
        not_glb = tmp_path / "hero.gltf"
        not_glb.write_text(json.dumps(original))
        with pytest.raises(kmtalk.UnsupportedFormatError, match="GLB"):
            mapped.save_into(not_glb, tmp_path / "x.glb")
        with pytest.raises(kmtalk.FileIOError):
            mapped.save_into(tmp_path / "missing.glb", tmp_path / "x.glb")


def test_cli_into_writes_valid_gltf_and_refuses_what_it_cannot_do(tmp_path):
    """`kmtalk animate --into` on a head the CLI exported: the validator finds nothing new
    in the written file, the new animation comes first; the CLI refuses --rig, a non-GLB
    output and another --format with --into."""
    import subprocess
    import sys

    from conftest import REPO_ROOT
    from test_rig_export import find_cli

    sys.path.insert(0, str(REPO_ROOT / "scripts"))
    import gltf_validate

    # A head the CLI exports (ARKit-named targets, its own "speech") is the user's asset.
    cli = str(find_cli())
    hello = REPO_ROOT / "examples" / "audio" / "hello.wav"
    asset = tmp_path / "head.glb"
    subprocess.run([cli, "animate", str(hello), "-o", str(asset), "--fps", "30", "-q"], check=True)
    out = tmp_path / "head-talking.glb"
    run = subprocess.run([cli, "animate", str(hello), "--fps", "30", "--into", str(asset), "-o", str(out)],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "added to a copy of" in run.stderr
    before = gltf_validate.validate_bytes(asset.read_bytes(), "head.glb")
    after = gltf_validate.validate_bytes(out.read_bytes(), "head-talking.glb")
    assert not before.errors and not after.errors, str(after)
    assert sorted(after.codes()) == sorted(before.codes()), str(after)
    document, _ = read_glb(out)
    assert [a["name"] for a in document["animations"]] == ["speech 2", "speech"]

    for arguments, message in [
        (["--rig", "x.rig.safetensors"], "drop --rig"),
        (["-o", str(tmp_path / "x.json")], "name the output .glb"),
        (["--format", "csv"], "drop --format"),
    ]:
        command = [cli, "animate", str(hello), "--into", str(asset)]
        if "-o" not in arguments:
            command += ["-o", str(tmp_path / "y.glb")]
        run = subprocess.run(command + arguments, capture_output=True, text=True)
        assert run.returncode != 0 and message in run.stderr, (arguments, run.stderr)
