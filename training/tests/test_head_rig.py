"""The default head rig (kmtalk_train/head_rig.py, models/kmtalk-head.rig.safetensors): a
deterministic build, a docs/rig.md file that round-trips and a reader that refuses broken
files, and shapes that do what their ARKit names say (NumPy only)."""
import json
import os
import struct

import numpy as np
import pytest

from kmtalk_ref import safetensors_io
from kmtalk_train import head_rig
from kmtalk_train.arkit import ARKIT_52

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHIPPED = os.path.join(ROOT, "models", "kmtalk-head.rig.safetensors")
MM = 0.001


@pytest.fixture(scope="module")
def rig():
    return head_rig.build_head()


def posed(rig, **weights):
    return head_rig.pose(rig, weights)


def delta(rig, name):
    return rig.deltas[ARKIT_52.index(name)].astype(np.float64)


# --- build ------------------------------------------------------------------------------------

def test_build_is_deterministic(rig, tmp_path):
    again = head_rig.build_head()
    for field in ("vertices", "faces", "uvs", "normals", "deltas"):
        assert np.array_equal(getattr(rig, field), getattr(again, field)), field
    assert rig.landmarks == again.landmarks and rig.parts == again.parts
    head_rig.save_rig(tmp_path / "a.rig.safetensors", rig)
    head_rig.save_rig(tmp_path / "b.rig.safetensors", again)
    assert (tmp_path / "a.rig.safetensors").read_bytes() == (tmp_path / "b.rig.safetensors").read_bytes()


def test_mesh_size_units_and_orientation(rig):
    v = rig.vertices
    assert 4000 <= len(v) <= 12000
    assert rig.channels == ARKIT_52 and rig.deltas.shape == (52, len(v), 3)
    assert rig.vertices.dtype == np.float32 and rig.faces.dtype == np.int32 and rig.deltas.dtype == np.float32
    height = v[:, 1].max() - v[:, 1].min()
    assert 0.20 < height < 0.24                                   # metres, +y up
    assert np.abs(v.min(axis=0) + v.max(axis=0)).max() / 2 < 0.02  # origin near the head centre
    nose = v[rig.landmarks["nose_tip"]]
    assert nose[2] == pytest.approx(v[:, 2].max(), abs=0.01)      # the face looks to +z
    assert np.allclose(np.linalg.norm(rig.normals, axis=1), 1.0, atol=1e-5)
    assert rig.uvs.shape == (len(v), 2) and rig.uvs.min() >= 0.0 and rig.uvs.max() <= 1.0


def test_head_surface_is_closed_and_outward(rig):
    """The skin + mouth sheet is watertight and consistently oriented (every directed edge
    once, its reverse once), and its normals point out (positive enclosed volume)."""
    end = rig.parts["skin"][1]
    faces = rig.faces[np.all(rig.faces < end, axis=1)]
    edges = np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]]).astype(np.int64)
    keys = edges[:, 0] * end + edges[:, 1]
    assert len(np.unique(keys)) == len(keys)
    reverse = edges[:, 1] * end + edges[:, 0]
    assert np.isin(reverse, keys).all()
    v = rig.vertices.astype(np.float64)
    volume = np.einsum("ij,ij->i", v[faces[:, 0]], np.cross(v[faces[:, 1]], v[faces[:, 2]])).sum() / 6.0
    assert 0.002 < volume < 0.006                                 # m^3: a head, inside out would be < 0
    # Front of the face: normals face the viewer.
    assert rig.normals[rig.landmarks["nose_tip"], 2] > 0.5 and rig.normals[rig.landmarks["chin"], 2] > 0.3


# --- file format --------------------------------------------------------------------------------

def test_round_trip(rig, tmp_path):
    path = tmp_path / "head.rig.safetensors"
    assert head_rig.save_rig(path, rig) == "F16"
    back = head_rig.load_rig(path)
    assert back.channels == rig.channels
    assert np.array_equal(back.vertices, rig.vertices) and np.array_equal(back.faces, rig.faces)
    assert np.array_equal(back.uvs, rig.uvs) and np.array_equal(back.normals, rig.normals)
    assert np.abs(back.deltas - rig.deltas).max() < 1e-4
    assert back.landmarks == rig.landmarks and back.parts == rig.parts
    tensors, metadata = safetensors_io.load(path)
    assert metadata["format"] == "kmtalk-rig" and metadata["format_version"] == "1"
    assert metadata["units"] == "m" and metadata["up_axis"] == "+y" and metadata["forward_axis"] == "+z"
    assert json.loads(metadata["channels"]) == ARKIT_52
    # The same rig in millimetres loads as the same metres.
    head_rig.save_rig(tmp_path / "mm.rig.safetensors", rig, units="mm")
    mm = head_rig.load_rig(tmp_path / "mm.rig.safetensors")
    assert np.allclose(mm.vertices, rig.vertices, atol=1e-7)
    assert np.abs(mm.deltas - rig.deltas).max() < 1e-4


def test_shipped_rig_matches_the_build(rig, tmp_path):
    """models/kmtalk-head.rig.safetensors is what the code builds (regenerate it with
    `python scripts/make_default_rig.py` after changing head_rig.py)."""
    assert os.path.getsize(SHIPPED) < 6 * 2 ** 20
    shipped = head_rig.load_rig(SHIPPED)
    assert shipped.channels == ARKIT_52
    assert np.array_equal(shipped.vertices, rig.vertices) and np.array_equal(shipped.faces, rig.faces)
    assert np.abs(shipped.deltas - rig.deltas).max() < 1e-4
    head_rig.save_rig(tmp_path / "fresh.rig.safetensors", rig)
    # Same metadata and bit-identical tensors (the header's byte layout may differ with
    # the numpy version that writes it: compared by content, not by bytes).
    committed, committed_meta = safetensors_io.load(SHIPPED)
    fresh, fresh_meta = safetensors_io.load(str(tmp_path / "fresh.rig.safetensors"))
    assert committed_meta == fresh_meta
    assert committed.keys() == fresh.keys()
    for name in committed:
        assert committed[name].dtype == fresh[name].dtype and np.array_equal(committed[name], fresh[name]), name


def _encode(rig, metadata=None, **tensors):
    base = {"vertices": rig.vertices, "faces": rig.faces, "deltas": rig.deltas, "normals": rig.normals}
    base.update(tensors)
    meta = {"format": "kmtalk-rig", "format_version": "1", "channels": json.dumps(rig.channels),
            "units": "m", "up_axis": "+y", "forward_axis": "+z"}
    meta.update(metadata or {})
    dtypes = {k: ("I32" if k == "faces" else "F32") for k in base}
    return safetensors_io.encode(base, meta, dtypes)


@pytest.fixture(scope="module")
def small():
    """A tiny valid rig (a tetrahedron with two shapes) for corruption tests."""
    v = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]], dtype=np.float32) * 0.1
    f = np.array([[0, 2, 1], [0, 1, 3], [0, 3, 2], [1, 2, 3]], dtype=np.int32)
    d = np.zeros((2, 4, 3), dtype=np.float32)
    d[0, 3, 2] = 0.01
    return head_rig.HeadRig(v, f, None, head_rig.vertex_normals(v, f).astype(np.float32), ["jawOpen", "mouthClose"], d)


def test_small_valid_rig_loads(small):
    rig = head_rig.parse_rig(_encode(small))
    assert rig.channels == ["jawOpen", "mouthClose"] and len(rig.vertices) == 4


@pytest.mark.parametrize("change, message", [
    (lambda r: _encode(r, {"format": "kmtalk-model"}), "format"),
    (lambda r: _encode(r, {"format_version": "2"}), "format_version"),
    (lambda r: _encode(r, {"up_axis": "+z"}), "up_axis"),
    (lambda r: _encode(r, {"units": "inch"}), "units"),
    (lambda r: _encode(r, faces=np.array([[0, 1, 4]] * 2, dtype=np.int32)), "out of range"),
    (lambda r: _encode(r, faces=np.array([[0, -1, 2]], dtype=np.int32)), "out of range"),
    (lambda r: _encode(r, vertices=np.where(np.arange(12).reshape(4, 3) == 5, np.nan, r.vertices)), "non-finite"),
    (lambda r: _encode(r, deltas=np.full((2, 4, 3), np.inf, dtype=np.float32)), "non-finite"),
    (lambda r: _encode(r, {"channels": json.dumps(["jawOpen"])}), "channels"),
    (lambda r: _encode(r, {"channels": json.dumps(["jawOpen", "jawOpen"])}), "duplicate"),
    (lambda r: _encode(r, {"channels": json.dumps(["jawOpen", ""])}), "non-empty"),
    (lambda r: _encode(r, vertices=r.vertices[:2], deltas=r.deltas[:, :2], normals=r.normals[:2],
                       faces=np.array([[0, 1, 1]], dtype=np.int32)), "at least 3"),
    (lambda r: _encode(r, deltas=r.deltas[:, :3]), "vertices"),
    (lambda r: _encode(r, normals=r.normals * 2), "unit"),
    (lambda r: _encode(r, colours=np.zeros((4, 3), dtype=np.float32)), "unknown tensor"),
    (lambda r: _encode(r)[:-4], "data section"),
    (lambda r: _encode(r) + b"\0" * 8, "data section"),
    (lambda r: b"\x10\0\0\0\0\0\0\0{not json}      ", "JSON"),
    (lambda r: struct.pack("<Q", 1 << 40) + b"{}", "header length"),
])
def test_corrupt_files_are_rejected(small, tmp_path, change, message):
    path = tmp_path / "bad.rig.safetensors"
    path.write_bytes(change(small))
    with pytest.raises(ValueError, match=message):
        head_rig.load_rig(path)


def test_wrong_dtype_and_missing_tensor_rejected(small):
    meta = {"format": "kmtalk-rig", "format_version": "1", "channels": json.dumps(small.channels),
            "units": "m", "up_axis": "+y", "forward_axis": "+z"}
    as_float = safetensors_io.encode({"vertices": small.vertices, "faces": small.faces, "deltas": small.deltas},
                                     meta, {"vertices": "F32", "faces": "F32", "deltas": "F32"})
    with pytest.raises(ValueError, match="faces"):
        head_rig.parse_rig(as_float)
    no_deltas = safetensors_io.encode({"vertices": small.vertices, "faces": small.faces}, meta,
                                      {"vertices": "F32", "faces": "I32"})
    with pytest.raises(ValueError, match="deltas"):
        head_rig.parse_rig(no_deltas)


# --- mouth ------------------------------------------------------------------------------------

def test_mouth_closed_at_rest_and_opens_with_the_jaw(rig):
    assert abs(head_rig.lip_gap(rig, rig.vertices)) < 2 * MM
    assert head_rig.lip_gap(rig, posed(rig, jawOpen=1.0)) > 15 * MM
    half = head_rig.lip_gap(rig, posed(rig, jawOpen=0.5))
    assert 6 * MM < half < head_rig.lip_gap(rig, posed(rig, jawOpen=1.0))
    # The chin goes down and back; the upper lip and nose stay.
    d = delta(rig, "jawOpen")
    assert d[rig.landmarks["chin"], 1] < -15 * MM and d[rig.landmarks["chin"], 2] < 0
    assert np.abs(d[rig.landmarks["lip_upper_inner"]]).max() < 0.5 * MM
    assert np.abs(d[rig.landmarks["nose_tip"]]).max() == 0.0


def test_mouth_close_closes_the_jaw_opening(rig):
    closed = posed(rig, jawOpen=1.0, mouthClose=1.0)
    assert abs(head_rig.lip_gap(rig, closed)) < 3 * MM
    # Whole inner lip line, not only the centre: upper/lower contact pairs meet.
    s, e = rig.parts["skin"]
    contact = np.arange(s, s + (e - s) // 80)                     # the first skin ring is the lip line
    contact = contact[np.abs(rig.vertices[contact, 1] - rig.vertices[rig.landmarks["lip_upper_inner"], 1]) < 3 * MM]
    open_ = posed(rig, jawOpen=1.0)
    assert np.ptp(open_[contact, 1]) > 15 * MM                     # opened by the jaw
    neutral_pairs = np.linalg.norm(rig.vertices[contact][:, None] - rig.vertices[contact][None], axis=-1) < 1e-6
    closed_pairs = np.linalg.norm(closed[contact][:, None] - closed[contact][None], axis=-1) < 1e-5
    assert np.array_equal(neutral_pairs, closed_pairs)
    # Halfway closing gives half the gap.
    half = head_rig.lip_gap(rig, posed(rig, jawOpen=1.0, mouthClose=0.5))
    assert half == pytest.approx(0.5 * head_rig.lip_gap(rig, open_), rel=0.05)


@pytest.mark.parametrize("name, min_forward, min_narrow, gap", [
    ("mouthPucker", 8 * MM, 12 * MM, (-1 * MM, 1 * MM)),
    ("mouthFunnel", 6 * MM, 8 * MM, (4 * MM, 15 * MM)),
])
def test_rounding_moves_lips_forward_and_narrows(rig, name, min_forward, min_narrow, gap):
    v = posed(rig, **{name: 1.0})
    assert head_rig.lip_protrusion(rig, v) - head_rig.lip_protrusion(rig, rig.vertices) > min_forward
    assert head_rig.mouth_width(rig, rig.vertices) - head_rig.mouth_width(rig, v) > min_narrow
    assert gap[0] < head_rig.lip_gap(rig, v) < gap[1]              # pucker closed, funnel open and round
    # Symmetric about the midline.
    corners = v[[rig.landmarks["mouth_corner_left"], rig.landmarks["mouth_corner_right"]]]
    assert corners[0, 0] == pytest.approx(-corners[1, 0], abs=1e-6)


def test_smile_frown_and_corners(rig):
    left, right = rig.landmarks["mouth_corner_left"], rig.landmarks["mouth_corner_right"]
    both = posed(rig, mouthSmileLeft=1.0, mouthSmileRight=1.0)
    assert head_rig.corner_height(rig, both) - head_rig.corner_height(rig, rig.vertices) > 4 * MM
    assert head_rig.mouth_width(rig, both) > head_rig.mouth_width(rig, rig.vertices)
    assert abs(head_rig.lip_gap(rig, both)) < 1 * MM
    d = delta(rig, "mouthSmileLeft")
    assert d[left, 1] > 5 * MM and abs(d[right, 1]) < 0.5 * MM and d[left, 0] > 0
    assert delta(rig, "mouthFrownLeft")[left, 1] < -4 * MM
    assert delta(rig, "mouthStretchLeft")[left, 0] > 4 * MM
    assert delta(rig, "mouthDimpleLeft")[left, 2] < -3 * MM


def test_lip_specific_shapes(rig):
    up, low = rig.landmarks["lip_upper_inner"], rig.landmarks["lip_lower_inner"]
    rest = head_rig.lip_gap(rig, rig.vertices)
    assert head_rig.lip_gap(rig, posed(rig, mouthLowerDownLeft=1.0, mouthLowerDownRight=1.0)) - rest > 3 * MM
    assert head_rig.lip_gap(rig, posed(rig, mouthUpperUpLeft=1.0, mouthUpperUpRight=1.0)) - rest > 3 * MM
    assert delta(rig, "mouthRollLower")[rig.landmarks["lip_lower_outer"], 2] < -3 * MM
    assert delta(rig, "mouthRollUpper")[rig.landmarks["lip_upper_outer"], 2] < -3 * MM
    assert np.abs(delta(rig, "mouthRollLower")[up]).max() < 1e-9
    assert delta(rig, "mouthShrugLower")[low, 1] > 2 * MM
    assert delta(rig, "mouthShrugUpper")[up, 1] > 2 * MM
    press = posed(rig, mouthPressLeft=1.0, mouthPressRight=1.0)
    for outer in ("lip_upper_outer", "lip_lower_outer"):            # lips thin towards the lip line
        i = rig.landmarks[outer]
        assert abs(press[i, 1] - rig.vertices[up, 1]) < abs(rig.vertices[i, 1] - rig.vertices[up, 1]) - 1 * MM
    assert delta(rig, "mouthLeft")[up, 0] > 5 * MM and delta(rig, "mouthRight")[up, 0] < -5 * MM
    assert delta(rig, "jawLeft")[rig.landmarks["chin"], 0] > 4 * MM
    assert delta(rig, "jawRight")[rig.landmarks["chin"], 0] < -4 * MM
    assert delta(rig, "jawForward")[rig.landmarks["chin"], 2] > 4 * MM
    tongue = slice(*rig.parts["tongue"])
    d = delta(rig, "tongueOut")
    assert d[tongue, 2].max() > 15 * MM and np.abs(np.delete(d, np.r_[tongue], axis=0)).max() == 0.0
    tip = rig.vertices[tongue][np.argmax(rig.vertices[tongue, 2])] + d[tongue][np.argmax(rig.vertices[tongue, 2])]
    assert tip[2] > rig.vertices[low, 2] + 5 * MM                   # out past the lips


# --- eyes and brows ----------------------------------------------------------------------------

@pytest.mark.parametrize("side", ["left", "right"])
def test_blink_closes_the_eye(rig, side):
    suffix = side.capitalize()
    rest = head_rig.eye_opening(rig, rig.vertices, side)
    assert rest > 6 * MM
    assert head_rig.eye_opening(rig, posed(rig, **{"eyeBlink" + suffix: 1.0}), side) < 0.5 * MM
    half = head_rig.eye_opening(rig, posed(rig, **{"eyeBlink" + suffix: 0.5}), side)
    assert 0.3 * rest < half < 0.7 * rest
    assert head_rig.eye_opening(rig, posed(rig, **{"eyeWide" + suffix: 1.0}), side) > rest + 2 * MM
    assert head_rig.eye_opening(rig, posed(rig, **{"eyeSquint" + suffix: 1.0}), side) < rest - 2 * MM
    # The other eye does not move.
    other = "right" if side == "left" else "left"
    assert head_rig.eye_opening(rig, posed(rig, **{"eyeBlink" + suffix: 1.0}), other) == pytest.approx(
        head_rig.eye_opening(rig, rig.vertices, other), abs=1e-9)


@pytest.mark.parametrize("side, sign", [("left", 1.0), ("right", -1.0)])
def test_eye_look_directions(rig, side, sign):
    suffix = side.capitalize()
    pupil = rig.landmarks["pupil_" + side]
    assert delta(rig, "eyeLookUp" + suffix)[pupil, 1] > 3 * MM
    assert delta(rig, "eyeLookDown" + suffix)[pupil, 1] < -3 * MM
    assert sign * delta(rig, "eyeLookOut" + suffix)[pupil, 0] > 3 * MM      # out = away from the nose
    assert sign * delta(rig, "eyeLookIn" + suffix)[pupil, 0] < -3 * MM


def test_brows(rig):
    for side in ("left", "right"):
        inner, outer = rig.landmarks["brow_inner_" + side], rig.landmarks["brow_outer_" + side]
        suffix = side.capitalize()
        assert delta(rig, "browInnerUp")[inner, 1] > 4 * MM
        assert delta(rig, "browDown" + suffix)[inner, 1] < -3 * MM
        assert delta(rig, "browOuterUp" + suffix)[outer, 1] > 4 * MM
        assert delta(rig, "browOuterUp" + suffix)[outer, 1] > 2 * delta(rig, "browOuterUp" + suffix)[inner, 1]


# --- every shape ---------------------------------------------------------------------------------

MOUTH_SHAPES = [n for n in ARKIT_52 if n.startswith(("mouth", "jaw"))] + ["tongueOut"]
UPPER_FACE_SHAPES = [n for n in ARKIT_52 if n.startswith(("eye", "brow"))]


@pytest.mark.parametrize("name", ARKIT_52)
def test_every_shape_moves_something(rig, name):
    assert np.abs(delta(rig, name)).max() > 1 * MM
    assert np.abs(delta(rig, name)).max() < 40 * MM


@pytest.mark.parametrize("name", MOUTH_SHAPES)
def test_mouth_shapes_stay_below_the_eyes(rig, name):
    moving = np.linalg.norm(delta(rig, name), axis=1) > 1e-6
    assert rig.vertices[moving, 1].max() < 0.012                   # lower lids end at y = +19 mm
    brow = [rig.landmarks[k] for k in rig.landmarks if k.startswith(("brow", "pupil", "lid"))]
    assert np.abs(delta(rig, name)[brow]).max() == 0.0


@pytest.mark.parametrize("name", UPPER_FACE_SHAPES)
def test_eye_and_brow_shapes_stay_above_the_mouth(rig, name):
    moving = np.linalg.norm(delta(rig, name), axis=1) > 1e-6
    assert rig.vertices[moving, 1].min() > -0.010                   # the mouth is at y = -51 mm
    assert not moving[slice(*rig.parts["mouth_inner"])].any()


@pytest.mark.parametrize("name", ["cheekPuff", "cheekSquintLeft", "noseSneerLeft"])
def test_mid_face_shapes_are_local(rig, name):
    d = np.linalg.norm(delta(rig, name), axis=1)
    assert d[rig.landmarks["head_top"]] == 0.0 and d[rig.landmarks["chin"]] < 0.5 * MM
    assert not (d[slice(*rig.parts["eyeball_left"])] > 0).any()


PAIRED = [n[:-4] for n in ARKIT_52 if n.endswith("Left") and n not in ("jawLeft", "mouthLeft")]


@pytest.mark.parametrize("stem", PAIRED)
def test_left_is_plus_x_and_right_mirrors_it(rig, stem):
    x = rig.vertices[:, 0]
    left = np.linalg.norm(delta(rig, stem + "Left"), axis=1)
    right = np.linalg.norm(delta(rig, stem + "Right"), axis=1)
    pos, neg = x > 1e-6, x < -1e-6
    assert left[pos].sum() > 5 * left[neg].sum()
    assert right[neg].sum() > 5 * right[pos].sum()
    assert left[pos].sum() == pytest.approx(right[neg].sum(), rel=1e-3)


def test_sideways_shapes_move_towards_their_side(rig):
    for name, sign in (("jawLeft", 1), ("jawRight", -1), ("mouthLeft", 1), ("mouthRight", -1)):
        d = delta(rig, name)
        moving = np.linalg.norm(d, axis=1) > 1 * MM
        assert sign * d[moving, 0].mean() > 2 * MM, name


def test_pose_accepts_batches_and_names(rig):
    w = np.zeros((3, 52))
    w[1, ARKIT_52.index("jawOpen")] = 1.0
    frames = head_rig.pose(rig, w)
    assert frames.shape == (3,) + rig.vertices.shape
    assert np.allclose(frames[1], posed(rig, jawOpen=1.0))
    assert np.allclose(head_rig.lip_gap(rig, frames)[[0, 2]], 0.0, atol=2 * MM)
    with pytest.raises(ValueError):
        head_rig.pose(rig, np.zeros(51))
