"""Rigs and exports: Rig, Animation.vertices, Animation.save / to_bytes, and a GLB
written by the CLI read back with pygltflib."""

from __future__ import annotations

import json
import os
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest

import kmtalk
from kmtalk import _lib

from conftest import REPO_ROOT

SHAPES = ["jawOpen", "eyeBlink_L", "eyeBlink_R", "browInnerUp_L", "browInnerUp_R", "mouthSmileLeft", "cheekRaiser_L"]


def rig_bytes(names=SHAPES, vertex_count: int = 9, units: str = "cm", seed: int = 4) -> tuple:
    """A kmtalk-rig safetensors file (docs/rig.md) as bytes, plus its arrays."""
    rng = np.random.default_rng(seed)
    vertices = rng.uniform(-10, 10, (vertex_count, 3)).astype("<f4")
    faces = np.array([[i, i + 1, i + 2] for i in range(vertex_count - 2)], dtype="<i4")
    deltas = rng.uniform(-1, 1, (len(names), vertex_count, 3)).astype("<f4")
    uvs = rng.uniform(0, 1, (vertex_count, 2)).astype("<f4")
    tensors = [("vertices", "F32", vertices), ("faces", "I32", faces), ("deltas", "F32", deltas), ("uvs", "F32", uvs)]
    header = {"__metadata__": {
        "format": "kmtalk-rig", "format_version": "1", "channels": json.dumps(names), "units": units,
        "up_axis": "+y", "forward_axis": "+z", "description": "python test rig"}}
    offset, blobs = 0, []
    for name, dtype, array in tensors:
        blob = array.tobytes()
        header[name] = {"dtype": dtype, "shape": list(array.shape), "data_offsets": [offset, offset + len(blob)]}
        offset += len(blob)
        blobs.append(blob)
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    data = struct.pack("<Q", len(text)) + text + b"".join(blobs)
    return data, {"vertices": vertices, "faces": faces, "deltas": deltas, "uvs": uvs}


@pytest.fixture(scope="module")
def rig_file(tmp_path_factory, lib):
    data, arrays = rig_bytes()
    path = tmp_path_factory.mktemp("rig") / "test.rig.safetensors"
    path.write_bytes(data)
    return path, arrays


@pytest.fixture(scope="module")
def animation(session, audio):
    with session.animate_file(audio["mono_path"]) as result:
        yield result


def test_rig_loads_from_file_and_memory(rig_file):
    path, arrays = rig_file
    with kmtalk.Rig(path) as rig, kmtalk.Rig(path.read_bytes()) as from_memory:
        for loaded in (rig, from_memory):
            assert (loaded.vertex_count, loaded.face_count, loaded.shape_count) == (9, 7, len(SHAPES))
            assert loaded.shape_names == tuple(SHAPES)
            assert loaded.units == "cm"
            assert loaded.metadata("description") == "python test rig"
            assert loaded.metadata("nope", None) is None
            np.testing.assert_array_equal(loaded.vertices, arrays["vertices"])
            np.testing.assert_array_equal(loaded.faces, arrays["faces"])
            for index, name in enumerate(SHAPES):
                np.testing.assert_array_equal(loaded.deltas(index), arrays["deltas"][index])
                np.testing.assert_array_equal(loaded.deltas(name), arrays["deltas"][index])
            with pytest.raises(IndexError):
                loaded.deltas(len(SHAPES))
            with pytest.raises(KeyError):
                loaded.deltas("noSuchShape")
        assert "9 vertices" in repr(rig)
    assert rig.closed


def test_corrupt_rig_status(lib):
    data, _ = rig_bytes()
    broken = data.replace(b'"units": "cm"', b'"units": "ft"')
    with pytest.raises(kmtalk.CorruptRigError) as info:
        kmtalk.Rig(broken)
    assert info.value.status == kmtalk.Status.CORRUPT_RIG == 10
    assert "units" in info.value.message


def test_vertices_follow_the_matched_channels(rig_file, animation):
    path, arrays = rig_file
    with kmtalk.Rig(path) as rig:
        drivers = rig.shape_channels(animation)
        names = animation.channel_names
        assert [names[i] if i >= 0 else None for i in drivers] == [
            "jawOpen", "eyeBlinkLeft", "eyeBlinkRight", "browInnerUp", "browInnerUp", "mouthSmileLeft", None]
        posed = animation.vertices(rig, 2, 5)
        assert posed.shape == (5, 9, 3) and posed.dtype == np.float32
        weights = animation.weights[2:7]
        shape_weights = np.where(drivers >= 0, weights[:, np.maximum(drivers, 0)], 0.0)
        expected = arrays["vertices"][None] + np.einsum("fs,svc->fvc", shape_weights, arrays["deltas"])
        np.testing.assert_allclose(posed, expected, atol=1e-4)
        offsets = animation.vertices(rig, offsets=True)
        assert offsets.shape == (animation.frame_count, 9, 3)
        np.testing.assert_allclose(offsets[2:7] + arrays["vertices"], posed, atol=1e-4)


def test_save_and_to_bytes_agree(rig_file, animation, tmp_path):
    path, _ = rig_file
    with kmtalk.Rig(path) as rig:
        for name, fmt, with_rig in [("a.json", "auto", False), ("b.csv", "csv", False), ("c.csv", "livelink", False),
                                    ("d.npy", kmtalk.ExportFormat.NPY, True), ("e.glb", "glb", True)]:
            target = tmp_path / name
            animation.save(target, rig if with_rig else None, fmt)
            chosen = kmtalk.ExportFormat.parse(fmt if fmt != "auto" else name.split(".")[1])
            assert target.read_bytes() == animation.to_bytes(chosen, rig if with_rig else None), name
        exported = json.loads((tmp_path / "a.json").read_text())
        np.testing.assert_allclose(np.array(exported["frames"]), animation.weights, atol=1e-6)
        assert exported["channels"] == list(animation.channel_names)
        assert (tmp_path / "c.csv").read_text().startswith("Timecode,BlendshapeCount,EyeBlinkLeft,")
        vertices = np.load(tmp_path / "d.npy")
        np.testing.assert_array_equal(vertices, animation.vertices(rig))
        (tmp_path / "seq").mkdir()
        animation.save(tmp_path / "seq" / "face.obj", rig)
        files = sorted(p.name for p in (tmp_path / "seq").iterdir())
        assert len(files) == animation.frame_count and files[0] == "face_000001.obj"


def test_export_errors(animation, tmp_path):
    with pytest.raises(kmtalk.InvalidArgumentError, match="GLB export needs a rig"):
        animation.save(tmp_path / "x.glb")
    with pytest.raises(kmtalk.InvalidArgumentError, match="OBJ export needs a rig"):
        animation.save(tmp_path / "x.obj", None, "obj")
    with pytest.raises(kmtalk.InvalidArgumentError, match="cannot tell the export format"):
        animation.save(tmp_path / "x.txt")
    with pytest.raises(kmtalk.InvalidArgumentError, match="unknown export format"):
        animation.save(tmp_path / "x.json", None, "fbx")
    with pytest.raises(kmtalk.FileIOError, match="no-such-dir"):
        animation.save(tmp_path / "no-such-dir" / "x.json")
    assert list(tmp_path.iterdir()) == []
    # The raw layer: NULL arguments and an unknown enum value give statuses, never a crash.
    assert _lib.kmt_animation_save(None, None, b"x.json", _lib.KMT_EXPORT_JSON) == _lib.KMT_ERR_INVALID_ARGUMENT
    assert _lib.kmt_animation_save(animation._ptr(), None, None, _lib.KMT_EXPORT_JSON) == _lib.KMT_ERR_INVALID_ARGUMENT
    assert _lib.kmt_animation_save(animation._ptr(), None, b"x.json", 42) == _lib.KMT_ERR_INVALID_ARGUMENT
    assert b"format 42" in _lib.kmt_last_error()


# --------------------------------------------------------------------------
# A GLB written by the CLI, read with pygltflib
# --------------------------------------------------------------------------


def find_cli() -> Path:
    env = os.environ.get("KMTALK_CLI")
    if env:
        return Path(env)
    library = Path(_lib.library_path())
    beside = library.parent / "kmtalk"
    return beside if beside.is_file() else REPO_ROOT / ".build" / "debug" / "kmtalk"


def accessor_array(gltf, blob: bytes, index: int) -> np.ndarray:
    """An accessor's elements as a float32 / uint array (rows x components)."""
    accessor = gltf.accessors[index]
    view = gltf.bufferViews[accessor.bufferView]
    components = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4}[accessor.type]
    dtype = {5126: "<f4", 5125: "<u4", 5123: "<u2"}[accessor.componentType]
    size = np.dtype(dtype).itemsize * components
    stride = view.byteStride or size
    start = (view.byteOffset or 0) + (accessor.byteOffset or 0)
    assert start % np.dtype(dtype).itemsize == 0
    assert (accessor.byteOffset or 0) + stride * (accessor.count - 1) + size <= view.byteLength
    rows = [np.frombuffer(blob, dtype=dtype, count=components, offset=start + i * stride) for i in range(accessor.count)]
    return np.array(rows)


def test_cli_glb_loads_in_pygltflib(rig_file, model_path, tmp_path):
    pygltflib = pytest.importorskip("pygltflib")
    cli = find_cli()
    if not cli.is_file():
        pytest.skip(f"kmtalk CLI not built at {cli} (swift build, or set KMTALK_CLI)")
    rig_path, arrays = rig_file
    wav = REPO_ROOT / "examples" / "audio" / "hello.wav"
    glb, as_json = tmp_path / "hello.glb", tmp_path / "hello.json"
    for output in (glb, as_json):
        run = subprocess.run([str(cli), "animate", str(wav), "--model", str(model_path), "--rig", str(rig_path),
                              "--fps", "60", "-o", str(output)], capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, run.stderr
    weights = json.loads(as_json.read_text())
    frames = weights["frame_count"]

    gltf = pygltflib.GLTF2().load(str(glb))
    blob = gltf.binary_blob()
    assert gltf.asset.version == "2.0" and gltf.asset.generator.startswith("KMTalk ")
    assert gltf.buffers[0].byteLength <= len(blob)
    mesh = gltf.meshes[0]
    primitive = mesh.primitives[0]
    assert len(primitive.targets) == len(SHAPES)
    assert mesh.extras["targetNames"] == SHAPES
    assert mesh.weights == [0] * len(SHAPES)

    # Accessor bounds: POSITION and every morph target, in metres (the rig is in cm).
    positions = accessor_array(gltf, blob, primitive.attributes.POSITION)
    np.testing.assert_array_equal(positions, arrays["vertices"] * np.float32(0.01))
    position = gltf.accessors[primitive.attributes.POSITION]
    assert position.min == positions.min(axis=0).tolist() and position.max == positions.max(axis=0).tolist()
    for shape, target in enumerate(primitive.targets):
        deltas = accessor_array(gltf, blob, target["POSITION"])
        np.testing.assert_array_equal(deltas, arrays["deltas"][shape] * np.float32(0.01))
        accessor = gltf.accessors[target["POSITION"]]
        assert accessor.min == deltas.min(axis=0).tolist() and accessor.max == deltas.max(axis=0).tolist()

    # The animation: sampler input = one time per frame, output = frames x shapes.
    assert len(gltf.animations) == 1
    sampler = gltf.animations[0].samplers[0]
    channel = gltf.animations[0].channels[0]
    assert channel.target.path == "weights" and channel.target.node == 0
    assert sampler.interpolation == "LINEAR"
    times = accessor_array(gltf, blob, sampler.input)[:, 0]
    assert gltf.accessors[sampler.input].count == frames
    assert gltf.accessors[sampler.input].min == [0.0] and gltf.accessors[sampler.input].max == [times[-1]]
    np.testing.assert_allclose(times, np.arange(frames) / 60.0, atol=1e-6)
    output = accessor_array(gltf, blob, sampler.output)[:, 0].reshape(frames, len(SHAPES))
    assert gltf.accessors[sampler.output].count == frames * len(SHAPES)
    jaw = weights["channels"].index("jawOpen")
    np.testing.assert_allclose(output[:, 0], np.array(weights["frames"])[:, jaw], atol=1e-6)
    np.testing.assert_array_equal(output[:, -1], 0)  # cheekRaiser_L: no channel drives it


def sparse_accessor_array(gltf, blob: bytes, index: int) -> np.ndarray:
    """A sparse accessor without a bufferView: zeros, then the listed rows replaced."""
    accessor = gltf.accessors[index]
    assert accessor.bufferView is None and accessor.sparse is not None
    sparse = accessor.sparse
    components = {"SCALAR": 1, "VEC2": 2, "VEC3": 3}[accessor.type]
    out = np.zeros((accessor.count, components), dtype=np.float32)
    index_view, value_view = gltf.bufferViews[sparse.indices.bufferView], gltf.bufferViews[sparse.values.bufferView]
    assert index_view.target is None and index_view.byteStride is None and value_view.byteStride is None
    dtype = {5125: "<u4", 5123: "<u2", 5121: "u1"}[sparse.indices.componentType]
    rows = np.frombuffer(blob, dtype=dtype, count=sparse.count,
                         offset=(index_view.byteOffset or 0) + (sparse.indices.byteOffset or 0)).astype(np.int64)
    assert (np.diff(rows) > 0).all() and rows.max() < accessor.count
    values = np.frombuffer(blob, dtype="<f4", count=sparse.count * components,
                           offset=(value_view.byteOffset or 0) + (sparse.values.byteOffset or 0))
    out[rows] = values.reshape(-1, components)
    return out


def test_sparse_glb_in_pygltflib(rig_file, animation):
    """ExportFormat.GLB_SPARSE: the same asset with sparse morph targets; pygltflib reads
    it and the decoded targets equal the dense export's."""
    pygltflib = pytest.importorskip("pygltflib")
    rig_path, arrays = rig_file
    with kmtalk.Rig(rig_path) as rig:
        dense_bytes = animation.to_bytes("glb", rig)
        sparse_bytes = animation.to_bytes("glb-sparse", rig)
    assert kmtalk.ExportFormat.parse("glb-sparse") == kmtalk.ExportFormat.GLB_SPARSE
    dense, sparse = (pygltflib.GLTF2.load_from_bytes(b) for b in (dense_bytes, sparse_bytes))
    dense_targets = dense.meshes[0].primitives[0].targets
    sparse_targets = sparse.meshes[0].primitives[0].targets
    assert len(sparse_targets) == len(dense_targets) == len(SHAPES)
    for shape, (a, b) in enumerate(zip(dense_targets, sparse_targets)):
        expected = accessor_array(dense, dense.binary_blob(), a["POSITION"])
        got = sparse_accessor_array(sparse, sparse.binary_blob(), b["POSITION"])
        np.testing.assert_array_equal(got, expected)
        np.testing.assert_array_equal(got, arrays["deltas"][shape] * np.float32(0.01))
        accessor = sparse.accessors[b["POSITION"]]
        assert accessor.min == got.min(axis=0).tolist() and accessor.max == got.max(axis=0).tolist()


def test_vertices_space_animation_poses_its_own_template(lib, rig_file, tmp_path):
    """A vertices-space model (the engine's test fixture) carries its template: vertices()
    without a rig are template + offsets, faces() its triangles, NPY / OBJ / PLY need no rig
    and a rig or GLB is refused."""
    fixture = REPO_ROOT / "Tests" / "KMTalkEngineTests" / "Fixtures" / "kmtalk-vertices.safetensors"
    if not fixture.is_file():
        pytest.skip("engine fixtures absent")
    t = np.arange(16000) / 16000.0
    with kmtalk.Model(fixture) as model, kmtalk.Session(model, threads=1) as session:
        animation = session.animate_pcm((0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), 16000)
    assert animation.vertex_count == 48 and animation.channel_count == 144
    assert animation.channel_names[:4] == ("v0.x", "v0.y", "v0.z", "v1.x")
    faces = animation.faces()
    assert faces.shape == (70, 3) and faces.dtype == np.int32 and faces.max() == 47
    offsets = animation.vertices(offsets=True)
    np.testing.assert_array_equal(offsets, animation.weights.reshape(-1, 48, 3))
    posed = animation.vertices()
    template = posed - offsets
    np.testing.assert_allclose(template, np.broadcast_to(template[0], template.shape), atol=1e-5)
    np.testing.assert_allclose(animation.vertices(first_frame=3, frame_count=2), posed[3:5])
    animation.save(tmp_path / "v.npy")
    np.testing.assert_array_equal(np.load(tmp_path / "v.npy"), posed)
    animation.save(tmp_path / "v.ply")
    assert (tmp_path / "v_000001.ply").read_bytes().startswith(b"ply\n")
    path, _ = rig_file
    with kmtalk.Rig(path) as rig:
        with pytest.raises(kmtalk.InvalidArgumentError, match="vertices-space"):
            animation.vertices(rig)
        with pytest.raises(kmtalk.InvalidArgumentError, match="pass no rig"):
            animation.save(tmp_path / "r.npy", rig)
    with pytest.raises(kmtalk.InvalidArgumentError, match="OBJ, PLY or NPY"):
        animation.to_bytes("livelink")
    # GLB holds the motion as morph targets (docs/export.md); test_gltf_validate checks the replay.
    assert animation.to_bytes("glb")[:4] == b"glTF"


def _obj(positions):
    lines = [f"v {x} {y} {z}" for x, y, z in positions]
    return "\n".join(lines) + "\nvt 0 0\nvt 1 0\nvt 1 1\nvt 0 1\nf 1/1 2/2 3/3 4/4\n"


def _obj_folder(folder):
    neutral = [(0, 0, 0), (0.1, 0, 0), (0.1, 0.1, 0), (0, 0.1, 0)]
    folder.mkdir()
    (folder / "head_neutral.obj").write_text(_obj(neutral))
    (folder / "jawOpen.obj").write_text(_obj([(0, 0, 0), (0.1, 0, 0), (0.1, 0.08, 0.01), (0, 0.1, 0)]))
    (folder / "mouthClose.obj").write_text(_obj([(0, 0, 0), (0.1, -0.01, 0), (0.1, 0.1, 0), (0, 0.1, 0)]))
    return folder


def test_rig_import_from_obj_folder_and_gltf_round_trips(lib, tmp_path):
    folder = _obj_folder(tmp_path / "head")
    rig = kmtalk.Rig.import_file(folder, units="m")
    assert rig.vertex_count == 4 and rig.face_count == 2
    assert rig.shape_names == ("jawOpen", "mouthClose")
    saved = tmp_path / "head.rig.safetensors"
    rig.save(saved)
    again = kmtalk.Rig(saved)
    assert again.shape_names == rig.shape_names and again.vertex_count == 4
    np.testing.assert_array_equal(again.vertices, rig.vertices)
    rig.save(tmp_path / "half.rig.safetensors", half=True)
    assert (tmp_path / "half.rig.safetensors").stat().st_size < saved.stat().st_size
    # The GLB the library writes for this rig imports back to the same mesh and shapes.
    model = kmtalk.Model(os.path.join(REPO_ROOT, "models", "kmtalk-tiny-random.safetensors"))
    animation = kmtalk.Session(model).animate_pcm(np.zeros(1600, np.float32), 16000)
    glb = tmp_path / "head.glb"
    animation.save(glb, rig=rig)
    from_gltf = kmtalk.Rig.import_file(glb)
    assert from_gltf.shape_names == rig.shape_names
    np.testing.assert_allclose(from_gltf.vertices, rig.vertices, atol=1e-6)


def test_rig_import_refuses_bad_options_and_outside_files(lib, tmp_path):
    folder = _obj_folder(tmp_path / "head")
    with pytest.raises(kmtalk.KMTalkError) as info:
        kmtalk.Rig.import_file(folder, units="inch")
    assert info.value.status == kmtalk.Status.INVALID_ARGUMENT and "inch" in info.value.message
    with pytest.raises(kmtalk.KMTalkError) as info:
        kmtalk.Rig.import_file(tmp_path / "missing.glb")
    assert info.value.status == kmtalk.Status.IO
    # A shape OBJ that is a symbolic link out of the folder: refused unless allowed.
    outside = tmp_path / "elsewhere.obj"
    (folder / "jawOpen.obj").rename(outside)
    (folder / "jawOpen.obj").symlink_to(outside)
    with pytest.raises(kmtalk.KMTalkError) as info:
        kmtalk.Rig.import_file(folder, units="m")
    assert info.value.status == kmtalk.Status.INVALID_ARGUMENT and "outside the asset's folder" in info.value.message
    assert kmtalk.Rig.import_file(folder, units="m", allow_outside_files=True).shape_count == 2
