"""Every GLB the library and the CLI write passes scripts/gltf_validate.py (the in-project
glTF 2.0 validator: the Khronos one cannot be installed here), and the validator finds
each of a set of hand-made corruptions of a valid file, with its code."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import kmtalk

from conftest import REPO_ROOT
from test_rig_export import SHAPES, find_cli, rig_bytes

sys.path.insert(0, str(REPO_ROOT / "scripts"))
import gltf_validate  # noqa: E402

SHIPPED_RIG = REPO_ROOT / "models" / "kmtalk-head.rig.safetensors"
HELLO = REPO_ROOT / "examples" / "audio" / "hello.wav"


def expect_valid(data: bytes, name: str) -> gltf_validate.Report:
    report = gltf_validate.validate_bytes(data, name)
    assert not report.errors, str(report)
    assert not report.warnings, str(report)
    return report


def unpack(glb: bytes):
    """The JSON document and the BIN chunk of a GLB."""
    json_length = struct.unpack_from("<I", glb, 12)[0]
    document = json.loads(glb[20:20 + json_length])
    bin_at = 20 + json_length
    bin_length = struct.unpack_from("<I", glb, bin_at)[0]
    return document, bytearray(glb[bin_at + 8:bin_at + 8 + bin_length])


def pack(document, binary: bytes, json_pad: bytes = b" ", magic: bytes = b"glTF", version: int = 2) -> bytes:
    """A GLB of `document` and `binary`, the JSON padded with `json_pad` bytes."""
    text = json.dumps(document, separators=(",", ":")).encode()
    text += json_pad * ((4 - len(text) % 4) % 4)
    binary = bytes(binary) + b"\0" * ((4 - len(binary) % 4) % 4)
    body = struct.pack("<II", len(text), 0x4E4F534A) + text + struct.pack("<II", len(binary), 0x004E4942) + binary
    return magic + struct.pack("<II", version, 12 + len(body)) + body


def element_offset(document, accessor: int, element: int = 0) -> int:
    """Where element `element` of an accessor starts in the BIN chunk."""
    a = document["accessors"][accessor]
    view = document["bufferViews"][a["bufferView"]]
    size = {"SCALAR": 1, "VEC2": 2, "VEC3": 3}[a["type"]] * (2 if a["componentType"] == 5123 else 4)
    return view.get("byteOffset", 0) + a.get("byteOffset", 0) + element * view.get("byteStride", size)


@pytest.fixture(scope="module")
def test_rig(tmp_path_factory, lib):
    data, _ = rig_bytes()
    return kmtalk.Rig(data)


@pytest.fixture(scope="module")
def animation(session, audio):
    with session.animate_file(audio["mono_path"]) as result:
        yield result


@pytest.fixture(scope="module")
def valid_glb(animation, test_rig) -> bytes:
    return animation.to_bytes("glb", test_rig)


# ------------------------------------------------------------------ valid exports


@pytest.mark.parametrize("fmt", ["glb", "glb-sparse"])
def test_binding_glbs_are_valid(animation, test_rig, fmt):
    report = expect_valid(animation.to_bytes(fmt, test_rig), fmt)
    assert report.name == fmt


def test_the_shipped_rig_and_a_rig_imported_from_gltf_are_valid(animation, tmp_path):
    if not SHIPPED_RIG.is_file():
        pytest.skip("shipped rig absent")
    with kmtalk.Rig(SHIPPED_RIG) as rig:
        for fmt in ("glb", "glb-sparse"):
            data = animation.to_bytes(fmt, rig)
            expect_valid(data, f"shipped rig {fmt}")
        (tmp_path / "head.glb").write_bytes(animation.to_bytes("glb", rig))
    # The GLB imported back as a rig (kmtalk rig import-gltf) exports a valid GLB again.
    with kmtalk.Rig.import_file(tmp_path / "head.glb") as imported:
        assert imported.shape_count == 52
        expect_valid(animation.to_bytes("glb", imported), "imported rig")


def test_cli_glbs_are_valid(model_path, tmp_path):
    """Every GLB the CLI writes: dense and sparse, 60 (default) and 30 fps, the shipped rig
    and a test rig, the stdin path (no source name in asset.extras)."""
    cli = find_cli()
    if not cli.is_file():
        pytest.skip(f"kmtalk CLI not built at {cli}")
    rig_path = tmp_path / "test.rig.safetensors"
    rig_path.write_bytes(rig_bytes()[0])
    runs = {
        "dense.glb": [], "sparse.glb": ["--format", "glb-sparse"], "dense30.glb": ["--fps", "30"],
        "rig.glb": ["--rig", str(rig_path)], "rig-sparse.glb": ["--rig", str(rig_path), "--format", "glb-sparse"],
    }
    for name, extra in runs.items():
        out = tmp_path / name
        run = subprocess.run([str(cli), "animate", str(HELLO), "--model", str(model_path), "-o", str(out), "--quiet", *extra],
                             capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, run.stderr
        expect_valid(out.read_bytes(), name)
    with open(HELLO, "rb") as stdin:
        run = subprocess.run([str(cli), "animate", "-", "--model", str(model_path), "-o", str(tmp_path / "stdin.glb"), "--quiet"],
                             stdin=stdin, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    expect_valid((tmp_path / "stdin.glb").read_bytes(), "stdin.glb")
    # The command line: exit 0 and a summary for valid files, 1 with the codes for a broken one.
    broken = tmp_path / "broken.glb"
    broken.write_bytes(b"glTF" + (tmp_path / "dense.glb").read_bytes()[4:-4])
    script = REPO_ROOT / "scripts" / "gltf_validate.py"
    ok = subprocess.run([sys.executable, str(script), str(tmp_path / "dense.glb")], capture_output=True, text=True)
    assert ok.returncode == 0 and "0 errors, 0 warnings" in ok.stdout
    bad = subprocess.run([sys.executable, str(script), str(tmp_path / "dense.glb"), str(broken)], capture_output=True, text=True)
    assert bad.returncode == 1 and "GLB_LENGTH_MISMATCH" in bad.stdout


def test_vertices_model_glb_is_valid_and_replays_the_motion(lib):
    """A vertices-space model's animation as GLB (its motion as morph targets, docs/export.md):
    valid glTF whose neutral + weights x targets give back the posed vertices."""
    fixture = REPO_ROOT / "Tests" / "KMTalkEngineTests" / "Fixtures" / "kmtalk-vertices.safetensors"
    if not fixture.is_file():
        pytest.skip("engine fixtures absent")
    t = np.arange(8000) / 16000.0
    with kmtalk.Model(fixture) as model, kmtalk.Session(model, threads=1) as session:
        animation = session.animate_pcm((0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), 16000)
    glb = animation.to_bytes("glb")
    expect_valid(glb, "vertices.glb")
    document, binary = unpack(glb)
    primitive = document["meshes"][0]["primitives"][0]

    def floats(index, components):
        accessor = document["accessors"][index]
        view = document["bufferViews"][accessor["bufferView"]]
        stride = view.get("byteStride", 4 * components)
        start = view.get("byteOffset", 0) + accessor.get("byteOffset", 0)
        rows = [np.frombuffer(binary, "<f4", components, start + k * stride) for k in range(accessor["count"])]
        return np.stack(rows)

    neutral = floats(primitive["attributes"]["POSITION"], 3)
    targets = np.stack([floats(target["POSITION"], 3) for target in primitive["targets"]])
    weights = floats(document["animations"][0]["samplers"][0]["output"], 1).reshape(animation.frame_count, -1)
    assert 0 < len(targets) <= 64 and weights.min() >= 0 and weights.max() <= 1
    replay = neutral[None] + np.einsum("fk,kvc->fvc", weights, targets)
    units = {"m": 1.0, "cm": 100.0, "mm": 1000.0}[model_units(fixture)]
    np.testing.assert_allclose(replay * units, animation.vertices(), atol=1e-4 * max(1.0, float(np.abs(animation.vertices()).max())))


def model_units(path) -> str:
    with kmtalk.Model(path) as model:
        return json.loads(model.metadata("config"))["motion"].get("units", "m")


def test_roundtrip_of_pack_is_valid(valid_glb):
    document, binary = unpack(valid_glb)
    expect_valid(pack(document, binary), "repacked")


# ------------------------------------------------------------------ corruptions


def codes(data: bytes) -> list:
    return gltf_validate.validate_bytes(data, "corrupt").codes(gltf_validate.ERROR)


def test_wrong_magic_and_version_and_length(valid_glb):
    assert codes(b"GLTF" + valid_glb[4:]) == ["GLB_INVALID_MAGIC"]
    assert codes(valid_glb[:4] + struct.pack("<I", 1) + valid_glb[8:]) == ["GLB_INVALID_VERSION"]
    assert "GLB_LENGTH_MISMATCH" in codes(valid_glb + b"\0\0\0\0")
    assert codes(valid_glb[:10]) == ["GLB_UNEXPECTED_END_OF_HEADER"]


def test_bad_padding(valid_glb):
    document, binary = unpack(valid_glb)
    # Make the JSON text 1 byte past a multiple of 4, so that 3 padding bytes follow.
    document["asset"]["copyright"] = ""
    while len(json.dumps(document, separators=(",", ":"))) % 4 != 1:
        document["asset"]["copyright"] += "x"
    assert codes(pack(document, binary, json_pad=b"\0")) == ["GLB_JSON_PADDING_INVALID"]
    assert codes(pack(document, binary)) == []
    # BIN padding: declare the buffer 2 bytes shorter, so its last 2 bytes become padding.
    nonzero = bytearray(binary)
    nonzero[-1] = 7
    document["buffers"][0]["byteLength"] = len(binary) - 2
    assert "GLB_BIN_PADDING_INVALID" in codes(pack(document, nonzero))
    # A chunk length that is not a multiple of 4.
    broken = bytearray(valid_glb)
    struct.pack_into("<I", broken, 12, struct.unpack_from("<I", broken, 12)[0] + 1)
    assert "GLB_CHUNK_LENGTH_UNALIGNED" in codes(bytes(broken))


def test_reference_and_accessor_out_of_range(valid_glb):
    document, binary = unpack(valid_glb)
    document["meshes"][0]["primitives"][0]["attributes"]["POSITION"] = 999
    report = gltf_validate.validate_bytes(pack(document, binary))
    assert [(m.code, m.pointer) for m in report.errors] == [("UNRESOLVED_REFERENCE", "/meshes/0/primitives/0/attributes/POSITION")]
    document, binary = unpack(valid_glb)
    normal = document["meshes"][0]["primitives"][0]["attributes"]["NORMAL"]
    document["accessors"][normal]["count"] += 1
    assert "ACCESSOR_TOO_LONG" in codes(pack(document, binary))
    document, binary = unpack(valid_glb)
    document["bufferViews"][0]["byteLength"] = len(binary) + 4
    assert "BUFFER_VIEW_TOO_LONG" in codes(pack(document, binary))


def test_position_min_max_must_match_the_data(valid_glb):
    document, binary = unpack(valid_glb)
    position = document["meshes"][0]["primitives"][0]["attributes"]["POSITION"]
    document["accessors"][position]["min"][1] -= 0.001
    report = gltf_validate.validate_bytes(pack(document, binary))
    assert [(m.code, m.pointer) for m in report.errors] == [("ACCESSOR_MIN_MISMATCH", f"/accessors/{position}/min/1")]
    del document["accessors"][position]["min"]
    assert "MESH_PRIMITIVE_POSITION_ACCESSOR_WITHOUT_BOUNDS" in codes(pack(document, binary))
    # A morph target's bounds too.
    document, binary = unpack(valid_glb)
    target = document["meshes"][0]["primitives"][0]["targets"][0]["POSITION"]
    document["accessors"][target]["max"][0] += 1
    assert codes(pack(document, binary)) == ["ACCESSOR_MAX_MISMATCH"]


def test_animation_times_must_increase(valid_glb):
    document, binary = unpack(valid_glb)
    times = document["animations"][0]["samplers"][0]["input"]
    at = element_offset(document, times, 2)
    binary[at:at + 4] = binary[at - 4:at]  # time 2 = time 1
    report = gltf_validate.validate_bytes(pack(document, binary))
    assert [(m.code, m.pointer) for m in report.errors] == [("ACCESSOR_ANIMATION_INPUT_NON_INCREASING", f"/accessors/{times}")]
    document, binary = unpack(valid_glb)
    binary[element_offset(document, times, 0):element_offset(document, times, 0) + 4] = struct.pack("<f", -1.0)
    document["accessors"][times]["min"] = [-1.0]
    assert codes(pack(document, binary)) == ["ACCESSOR_ANIMATION_INPUT_NEGATIVE"]
    document, binary = unpack(valid_glb)
    del document["accessors"][times]["max"]
    assert codes(pack(document, binary)) == ["ANIMATION_SAMPLER_INPUT_ACCESSOR_WITHOUT_BOUNDS"]


def test_weights_output_count(valid_glb):
    document, binary = unpack(valid_glb)
    output = document["animations"][0]["samplers"][0]["output"]
    document["accessors"][output]["count"] -= 1
    assert codes(pack(document, binary)) == ["ANIMATION_SAMPLER_OUTPUT_ACCESSOR_INVALID_COUNT"]
    document, binary = unpack(valid_glb)
    document["animations"][0]["samplers"][0]["interpolation"] = "CUBICSPLINE"
    assert codes(pack(document, binary)) == ["ANIMATION_SAMPLER_OUTPUT_ACCESSOR_INVALID_COUNT"]
    # A weights channel on a node without a mesh.
    document, binary = unpack(valid_glb)
    document["nodes"].append({"name": "empty"})
    document["animations"][0]["channels"][0]["target"]["node"] = 1
    assert codes(pack(document, binary)) == ["ANIMATION_CHANNEL_TARGET_NODE_WEIGHTS_NO_MORPHS"]


def test_morph_target_counts(valid_glb):
    document, binary = unpack(valid_glb)
    document["meshes"][0]["weights"].append(0)
    assert codes(pack(document, binary)) == ["MESH_INVALID_WEIGHTS_COUNT"]
    document, binary = unpack(valid_glb)
    document["meshes"][0]["extras"]["targetNames"].pop()
    assert codes(pack(document, binary)) == ["MESH_TARGET_NAMES_COUNT"]


def test_node_cycle_and_two_parents(valid_glb):
    document, binary = unpack(valid_glb)
    document["nodes"] += [{"name": "a", "children": [2]}, {"name": "b", "children": [1]}]
    assert codes(pack(document, binary)) == ["NODE_LOOP"]
    document, binary = unpack(valid_glb)
    document["nodes"] += [{"name": "a", "children": [0]}]
    assert codes(pack(document, binary)) == ["SCENE_NON_ROOT_NODE"]
    document["nodes"] += [{"name": "b", "children": [0]}]
    assert "NODE_PARENT_OVERRIDE" in codes(pack(document, binary))


def test_absolute_path_in_asset_extras(valid_glb):
    document, binary = unpack(valid_glb)
    assert "/" not in document["asset"]["extras"]["source"]
    for path in ("/home/someone/speech.wav", "C:\\Users\\someone\\speech.wav", "~/speech.wav"):
        document["asset"]["extras"]["source"] = path
        report = gltf_validate.validate_bytes(pack(document, binary))
        assert [(m.code, m.pointer) for m in report.errors] == [("ASSET_EXTRAS_ABSOLUTE_PATH", "/asset/extras/source")], path
    document["asset"]["extras"]["source"] = "speech.wav"
    document["nodes"][0]["extras"] = {"from": "/tmp/x/y.obj"}
    report = gltf_validate.validate_bytes(pack(document, binary))
    assert report.codes() == ["EXTRAS_ABSOLUTE_PATH"] and not report.errors


def test_nan_in_an_accessor(valid_glb):
    document, binary = unpack(valid_glb)
    normal = document["meshes"][0]["primitives"][0]["attributes"]["NORMAL"]
    at = element_offset(document, normal, 3)
    binary[at:at + 4] = struct.pack("<f", float("nan"))
    report = gltf_validate.validate_bytes(pack(document, binary))
    assert [(m.code, m.pointer) for m in report.errors] == [("ACCESSOR_INVALID_FLOAT", f"/accessors/{normal}")]
    # A normal of length 2 is a warning.
    document, binary = unpack(valid_glb)
    at = element_offset(document, normal, 1)
    binary[at:at + 12] = struct.pack("<3f", 2, 0, 0)
    report = gltf_validate.validate_bytes(pack(document, binary))
    assert report.codes() == ["ACCESSOR_VECTOR_NOT_UNIT_LENGTH"] and not report.errors


def test_index_out_of_range_and_restart(valid_glb):
    document, binary = unpack(valid_glb)
    primitive = document["meshes"][0]["primitives"][0]
    indices = primitive["indices"]
    vertices = document["accessors"][primitive["attributes"]["POSITION"]]["count"]
    assert document["accessors"][indices]["componentType"] == 5123
    at = element_offset(document, indices, 4)
    binary[at:at + 2] = struct.pack("<H", vertices)
    report = gltf_validate.validate_bytes(pack(document, binary))
    assert [(m.code, m.pointer) for m in report.errors] == [("ACCESSOR_INDEX_OOB", f"/accessors/{indices}")]
    binary[at:at + 2] = struct.pack("<H", 0xFFFF)
    assert codes(pack(document, binary)) == ["ACCESSOR_INDEX_PRIMITIVE_RESTART"]
    document, binary = unpack(valid_glb)
    document["accessors"][indices]["count"] -= 1
    assert codes(pack(document, binary)) == ["MESH_PRIMITIVE_INVALID_INDEX_COUNT"]


def test_stride_alignment_material_and_extensions(valid_glb):
    document, binary = unpack(valid_glb)
    times = document["animations"][0]["samplers"][0]["input"]
    document["bufferViews"][document["accessors"][times]["bufferView"]]["byteStride"] = 4
    assert codes(pack(document, binary)) == ["BUFFER_VIEW_BYTE_STRIDE_NOT_VERTEX"]
    document, binary = unpack(valid_glb)
    target = document["meshes"][0]["primitives"][0]["targets"][0]["POSITION"]
    document["bufferViews"][document["accessors"][target]["bufferView"]]["byteStride"] = 14
    assert "VALUE_MULTIPLE_OF" in codes(pack(document, binary))
    document, binary = unpack(valid_glb)
    document["accessors"][target]["byteOffset"] = document["accessors"][target].get("byteOffset", 0) + 2
    assert "ACCESSOR_OFFSET_ALIGNMENT" in codes(pack(document, binary))
    document, binary = unpack(valid_glb)
    document["materials"][0]["pbrMetallicRoughness"]["baseColorFactor"] = [1.2, 0, 0]
    assert codes(pack(document, binary)) == ["ARRAY_LENGTH_NOT_IN_LIST"]
    document["materials"][0]["pbrMetallicRoughness"]["baseColorFactor"] = [1.2, 0, 0, 1]
    document["materials"][0]["pbrMetallicRoughness"]["metallicFactor"] = -0.1
    assert codes(pack(document, binary)) == ["VALUE_NOT_IN_RANGE", "VALUE_NOT_IN_RANGE"]
    document, binary = unpack(valid_glb)
    document["materials"][0]["extensions"] = {"KHR_materials_unlit": {}}
    assert codes(pack(document, binary)) == ["UNDECLARED_EXTENSION"]
    document["extensionsUsed"] = ["KHR_materials_unlit"]
    document["extensionsRequired"] = ["KHR_texture_transform"]
    assert codes(pack(document, binary)) == ["UNUSED_EXTENSION_REQUIRED"]
    document, binary = unpack(valid_glb)
    document["asset"]["version"] = "1.0"
    assert codes(pack(document, binary)) == ["UNKNOWN_ASSET_MAJOR_VERSION"]
