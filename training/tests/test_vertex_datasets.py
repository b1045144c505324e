"""Tests of the VOCASET / BIWI loaders (training/kmtalk_train/vertex_datasets.py).

Each test writes a small dataset in FaceFormer's layout (wav/, vertices_npy/,
templates.pkl, FLAME_masks.pkl or regions/*.txt) with tiny meshes (30 and 24 vertices,
so nothing may assume 5023 or 23370) and 16 kHz WAVs written with the stdlib `wave`
module, lasting as long as the motion at the dataset's native rate."""
import os
import pickle
import struct
import wave
from collections import OrderedDict

import numpy as np
import pytest

from kmtalk_train import vertex_datasets as vd
from kmtalk_train.capture import MotionTake

RATE = 16000
VOCA_V = 30
BIWI_V = 24

A, B = "FaceTalk_170728_03272_TA", "FaceTalk_170725_00137_TA"   # VOCASET train
C = "FaceTalk_170811_03275_TA"                                  # val
D = "FaceTalk_170809_00138_TA"                                  # test
X = "FaceTalk_999999_00000_TA"                                  # no template


# ----------------------------------------------------------------------------- writers

def write_wav(path, seconds):
    count = int(round(seconds * RATE))
    t = np.arange(count) / RATE
    samples = (0.3 * np.sin(2 * np.pi * 220 * t) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(RATE)
        f.writeframes(samples.tobytes())


def write_take(root, stem, template, frames, fps, seed, audio_seconds=None, vertices=None, nan=False, wav=True):
    """vertices_npy/<stem>.npy as frames x 3V float32 positions near `template`, and
    wav/<stem>.wav lasting frames / fps (or audio_seconds). Returns the positions."""
    rng = np.random.default_rng(seed)
    count = vertices if vertices is not None else len(template)
    base = template[:count] if count <= len(template) else np.vstack([template, template[:count - len(template)]])
    positions = (base[None] + rng.normal(0, 0.002, (frames, count, 3))).astype(np.float32)
    if nan:
        positions[3, 1, 2] = np.nan
    os.makedirs(os.path.join(root, "vertices_npy"), exist_ok=True)
    os.makedirs(os.path.join(root, "wav"), exist_ok=True)
    np.save(os.path.join(root, "vertices_npy", stem + ".npy"), positions.reshape(frames, -1))
    if wav:
        write_wav(os.path.join(root, "wav", stem + ".wav"), frames / fps if audio_seconds is None else audio_seconds)
    return positions


def write_pickle(path, obj, protocol=2):
    with open(path, "wb") as f:
        pickle.dump(obj, f, protocol=protocol)


def template_for(seed, vertices):
    return np.random.default_rng(seed).uniform(-0.1, 0.1, (vertices, 3))


def make_vocaset(root):
    """Good takes: A 01 02 21, B 01 22, C 01 21, D 21 40. Bad: A 03 (audio half as long),
    A 04 (no wav), B 03 (29 vertices), C 22 (NaN), X 01 (no template), wav D 05 (no npy)."""
    templates = {s: template_for(i, VOCA_V) for i, s in enumerate((A, B, C, D, "FaceTalk_170731_00024_TA"))}
    positions = {}
    good = [(A, 1), (A, 2), (A, 21), (B, 1), (B, 22), (C, 1), (C, 21), (D, 21), (D, 40)]
    for k, (subject, sentence) in enumerate(good):
        stem = f"{subject}_sentence{sentence:02d}"
        positions[stem] = write_take(root, stem, templates[subject], 50 + 3 * k, 60.0, seed=100 + k)
    write_take(root, f"{A}_sentence03", templates[A], 60, 60.0, seed=1, audio_seconds=0.5)
    write_take(root, f"{A}_sentence04", templates[A], 60, 60.0, seed=2, wav=False)
    write_take(root, f"{B}_sentence03", templates[B], 60, 60.0, seed=3, vertices=VOCA_V - 1)
    write_take(root, f"{C}_sentence22", templates[C], 60, 60.0, seed=4, nan=True)
    write_take(root, f"{X}_sentence01", templates[A], 60, 60.0, seed=5)
    write_wav(os.path.join(root, "wav", f"{D}_sentence05.wav"), 1.0)
    write_pickle(os.path.join(root, "templates.pkl"), templates)
    masks = {"lips": np.arange(0, 5), "forehead": np.arange(20, 25), "eye_region": np.arange(22, 28),
             "nose": np.arange(10, 12)}
    write_pickle(os.path.join(root, "FLAME_masks.pkl"), masks)
    return templates, positions


def make_biwi(root):
    """Good takes: F2 e01 e02 e33 e37, M3 e01 e38, F1 e37 (a Test-B subject)."""
    templates = {s: template_for(10 + i, BIWI_V) for i, s in enumerate(("F2", "M3", "F1"))}
    positions = {}
    for k, stem in enumerate(["F2_e01", "F2_e02", "F2_e33", "F2_e37", "M3_e01", "M3_e38", "F1_e37"]):
        positions[stem] = write_take(root, stem, templates[stem.split("_")[0]], 40 + k, 25.0, seed=200 + k)
    write_pickle(os.path.join(root, "templates.pkl"), templates)
    os.makedirs(os.path.join(root, "regions"))
    with open(os.path.join(root, "regions", "lve.txt"), "w") as f:
        f.write("0, 1, 2, 3")
    with open(os.path.join(root, "regions", "fdd.txt"), "w") as f:
        f.write("10\n11\n12\n")
    return templates, positions


@pytest.fixture
def vocaset(tmp_path):
    root = str(tmp_path / "vocaset")
    templates, positions = make_vocaset(root)
    return root, templates, positions


@pytest.fixture
def biwi(tmp_path):
    root = str(tmp_path / "BIWI")
    templates, positions = make_biwi(root)
    return root, templates, positions


def names(dataset):
    return [t.take for t in dataset.takes]


def reasons(dataset):
    return {os.path.basename(f): r for f, r in dataset.skipped}


# ----------------------------------------------------------------------------- VOCASET

def test_vocaset_splits(vocaset):
    root, _, _ = vocaset
    train = vd.load_vocaset(root, split="train")
    assert names(train) == [f"{B}_sentence01", f"{B}_sentence22", f"{A}_sentence01",
                            f"{A}_sentence02", f"{A}_sentence21"]
    assert train.subjects == sorted([A, B]) and train.split == "train"
    assert sorted(reasons(train)) == sorted([f"{A}_sentence03.npy", f"{A}_sentence04.npy", f"{B}_sentence03.npy"])
    val = vd.load_vocaset(root, split="val")
    assert names(val) == [f"{C}_sentence21"]                  # sentence 1 is not a val sentence
    assert list(reasons(val)) == [f"{C}_sentence22.npy"]
    test = vd.load_vocaset(root, split="test")
    assert names(test) == [f"{D}_sentence21", f"{D}_sentence40"] and test.skipped == []
    everything = vd.load_vocaset(root)
    assert len(everything.takes) == 9
    assert sorted(reasons(everything)) == sorted(
        [f"{A}_sentence03.npy", f"{A}_sentence04.npy", f"{B}_sentence03.npy", f"{C}_sentence22.npy",
         f"{X}_sentence01.npy", f"{D}_sentence05.wav"])
    only_c = vd.load_vocaset(root, subjects=[C])
    assert names(only_c) == [f"{C}_sentence01", f"{C}_sentence21"]
    assert names(vd.load_vocaset(root, split="test", subjects=[A])) == [f"{A}_sentence21"]


def test_vocaset_takes(vocaset):
    root, templates, positions = vocaset
    dataset = vd.load_vocaset(root, split="train")
    assert dataset.name == "vocaset" and dataset.fps == 30.0 and dataset.units == "m"
    take = dataset.takes[2]
    stem = f"{A}_sentence01"
    assert isinstance(take, MotionTake) and take.take == stem and take.speaker == A
    assert take.space == "vertices" and take.fps == 30.0 and take.sample_rate == RATE
    sequence = positions[stem]                                   # 60 fps, frames x V x 3 float32
    expected = (sequence[::2].astype(np.float64) - templates[A][None]).reshape(len(sequence[::2]), -1)
    assert take.motion.dtype == np.float32 and take.motion.shape == (25, 3 * VOCA_V)
    assert np.array_equal(take.motion, expected.astype(np.float32))
    assert np.array_equal(take.template, templates[A].astype(np.float32))
    assert take.channels[:4] == ["v0.x", "v0.y", "v0.z", "v1.x"] and len(take.channels) == 3 * VOCA_V
    assert abs(take.audio_duration - 50 / 60) <= 1 / RATE and abs(take.duration - 25 / 30) < 1e-9
    assert take.meta["units"] == "m" and take.meta["subject"] == A and take.meta["sentence"] == 1
    assert take.meta["frame_stride"] == 2 and take.meta["source_fps"] == 60.0
    assert abs(take.meta["frame_mismatch"]) <= 0.5
    assert take.meta["audio_path"] == os.path.join(root, "wav", stem + ".wav")
    assert set(dataset.templates) == {A, B, C, D, "FaceTalk_170731_00024_TA"}
    np.testing.assert_array_equal(dataset.lip_vertices, np.arange(5))
    np.testing.assert_array_equal(dataset.upper_face_vertices, np.arange(20, 28))
    assert dataset.lip_vertices.dtype == np.int64


def test_vocaset_skipped_reasons(vocaset):
    root, _, _ = vocaset
    why = reasons(vd.load_vocaset(root))
    assert "audio lasts 15.00 frames" in why[f"{A}_sentence03.npy"]
    assert "wav/" in why[f"{A}_sentence04.npy"] and "missing" in why[f"{A}_sentence04.npy"]
    assert "vertex count mismatch" in why[f"{B}_sentence03.npy"]
    assert "NaN" in why[f"{C}_sentence22.npy"]
    assert f"no template for subject '{X}'" in why[f"{X}_sentence01.npy"]
    assert "vertices_npy/" in why[f"{D}_sentence05.wav"]


def test_vocaset_stride_tolerance_and_mm(vocaset):
    root, templates, positions = vocaset
    full = vd.load_vocaset(root, split="test", frame_stride=1)
    assert full.fps == 60.0 and full.takes[0].fps == 60.0
    stem = f"{D}_sentence21"
    assert full.takes[0].num_frames == len(positions[stem])
    lax = vd.load_vocaset(root, split="train", tolerance_frames=None)
    assert f"{A}_sentence03" in names(lax) and len(lax.takes) == 6

    mm = vd.load_vocaset(root, split="test", scale_to_mm=True)
    assert mm.units == "mm" and mm.takes[0].meta["units"] == "mm"
    sequence = positions[stem][::2].astype(np.float64)
    expected = ((sequence - templates[D][None]) * 1000).reshape(len(sequence), -1)
    np.testing.assert_allclose(mm.takes[0].motion, expected, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(mm.takes[0].template, templates[D] * 1000, rtol=1e-6)
    np.testing.assert_allclose(mm.templates[D], templates[D] * 1000)


def test_vocaset_without_masks(vocaset):
    root, _, _ = vocaset
    os.remove(os.path.join(root, "FLAME_masks.pkl"))
    dataset = vd.load_vocaset(root, split="test")
    assert dataset.lip_vertices is None and dataset.upper_face_vertices is None


def test_pickled_object_npy_is_refused(vocaset):
    root, templates, _ = vocaset
    stem = f"{D}_sentence30"
    write_take(root, stem, templates[D], 40, 60.0, seed=9)
    objects = np.empty(2, dtype=object)
    objects[:] = [np.zeros(3), np.zeros(3)]
    np.save(os.path.join(root, "vertices_npy", stem + ".npy"), objects, allow_pickle=True)
    dataset = vd.load_vocaset(root, split="test")
    assert "pickled object array" in reasons(dataset)[stem + ".npy"]
    assert len(dataset.takes) == 2


# ----------------------------------------------------------------------------- BIWI

def test_biwi(biwi):
    root, templates, positions = biwi
    train = vd.load_biwi(root, split="train")
    assert names(train) == ["F2_e01", "F2_e02", "M3_e01"] and train.fps == 25.0
    assert names(vd.load_biwi(root, split="val")) == ["F2_e33"]
    assert names(vd.load_biwi(root, split="test")) == ["F2_e37", "M3_e38"]
    assert names(vd.load_biwi(root, split="test", subjects=vd.BIWI_TEST_B_SUBJECTS)) == ["F1_e37"]
    everything = vd.load_dataset(root, "BIWI")
    assert len(everything.takes) == 7 and everything.skipped == []
    take = train.takes[2]
    assert take.speaker == "M3" and take.take == "M3_e01" and take.fps == 25.0
    expected = (positions["M3_e01"].astype(np.float64) - templates["M3"][None]).reshape(44, -1)
    assert np.array_equal(take.motion, expected.astype(np.float32))
    assert take.meta["units"] == "normalised" and take.meta["frame_stride"] == 1
    np.testing.assert_array_equal(train.lip_vertices, [0, 1, 2, 3])
    np.testing.assert_array_equal(train.upper_face_vertices, [10, 11, 12])
    with pytest.raises(ValueError, match="scale_to_mm needs data in metres"):
        vd.load_biwi(root, scale_to_mm=True)
    assert vd.load_biwi(root, split="val", units="m", scale_to_mm=True).units == "mm"


def test_biwi_bad_region_file(biwi):
    root, _, _ = biwi
    with open(os.path.join(root, "regions", "lve.txt"), "w") as f:
        f.write("1, 2, x")
    with pytest.raises(ValueError, match="'x' is not a vertex index"):
        vd.load_biwi(root)
    with open(os.path.join(root, "regions", "lve.txt"), "w") as f:
        f.write(f"1, {BIWI_V}")
    with pytest.raises(ValueError, match="outside 0..23"):
        vd.load_biwi(root)


# ----------------------------------------------------------------------------- layout errors

def test_layout_errors(tmp_path, vocaset):
    root, _, _ = vocaset
    with pytest.raises(FileNotFoundError, match="does not exist.*templates.pkl"):
        vd.load_vocaset(str(tmp_path / "nowhere"))
    with pytest.raises(ValueError, match="split must be one of"):
        vd.load_vocaset(root, split="validation")
    with pytest.raises(ValueError, match="frame_stride"):
        vd.load_vocaset(root, frame_stride=0)
    with pytest.raises(ValueError, match="unknown vertex dataset 'meshtalk'"):
        vd.load_dataset(root, "meshtalk")
    assert len(vd.load_dataset(root, "VOCASET", split="test").takes) == 2
    with pytest.raises(ValueError, match="no usable take in split 'test' \\(subjects FaceTalk_nobody\\)"):
        vd.load_vocaset(root, split="test", subjects=["FaceTalk_nobody"])

    os.rename(os.path.join(root, "templates.pkl"), os.path.join(root, "t.pkl"))
    with pytest.raises(FileNotFoundError, match=r"templates\.pkl is missing; expected <root>/wav/"):
        vd.load_vocaset(root)
    os.rename(os.path.join(root, "t.pkl"), os.path.join(root, "templates.pkl"))
    os.rename(os.path.join(root, "vertices_npy"), os.path.join(root, "npy"))
    with pytest.raises(FileNotFoundError, match="vertices_npy is missing"):
        vd.load_vocaset(root)

    empty = tmp_path / "empty"
    (empty / "wav").mkdir(parents=True)
    (empty / "vertices_npy").mkdir()
    write_pickle(str(empty / "templates.pkl"), {"F2": np.zeros((4, 3))})
    with pytest.raises(ValueError, match="no usable take in the dataset: 0 .npy file"):
        vd.load_biwi(str(empty))


def test_bad_template_shape_skips_its_subject(vocaset):
    root, templates, _ = vocaset
    broken = dict(templates)
    broken[D] = np.zeros((VOCA_V, 2))
    write_pickle(os.path.join(root, "templates.pkl"), broken)
    with pytest.raises(ValueError, match=r"no usable take.*has shape \(30, 2\)"):
        vd.load_vocaset(root, split="test")


# ----------------------------------------------------------------------------- pickles

class Exploit:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_malicious_pickle_is_refused(tmp_path, vocaset):
    root, _, _ = vocaset
    marker = tmp_path / "pwned"
    write_pickle(os.path.join(root, "templates.pkl"), {A: Exploit(marker)})
    with pytest.raises(ValueError, match=r"refuses to unpickle (posix|nt)\.system: only numpy arrays are allowed"):
        vd.load_vocaset(root)
    assert not marker.exists()
    write_pickle(os.path.join(root, "FLAME_masks.pkl"), {"lips": np.load})
    with pytest.raises(ValueError, match=r"refuses to unpickle numpy\.load"):
        vd.load_pickle(os.path.join(root, "FLAME_masks.pkl"))
    codec = tmp_path / "codec.pkl"
    codec.write_bytes(b"\x80\x02c_codecs\nencode\nX\x03\x00\x00\x00abcX\x06\x00\x00\x00base64\x86R.")
    with pytest.raises(ValueError, match="only latin-1"):
        vd.load_pickle(str(codec))
    (tmp_path / "cut.pkl").write_bytes(pickle.dumps({"a": np.zeros(3)})[:20])
    with pytest.raises(ValueError, match="not a readable pickle"):
        vd.load_pickle(str(tmp_path / "cut.pkl"))


@pytest.mark.parametrize("protocol", [0, 2, 4, 5])
def test_pickles_of_arrays_load(tmp_path, protocol):
    data = {"a": np.arange(12, dtype=np.float32).reshape(4, 3), "b": np.arange(5), "c": np.float64(2.5),
            "d": OrderedDict(x=np.ones((2, 3))), "e": [1, "two", (3.0,)]}
    path = str(tmp_path / "arrays.pkl")
    write_pickle(path, data, protocol=protocol)
    loaded = vd.load_pickle(path)
    assert np.array_equal(loaded["a"], data["a"]) and loaded["a"].dtype == np.float32
    assert np.array_equal(loaded["b"], data["b"]) and loaded["c"] == 2.5
    assert np.array_equal(loaded["d"]["x"], np.ones((2, 3))) and loaded["e"] == [1, "two", (3.0,)]


def python2_pickle(arrays):
    """A dict of float64 arrays as Python 2's pickle (protocol 2) with numpy 1.x wrote
    VOCA's templates.pkl: byte-string keys and data (SHORT_BINSTRING / BINSTRING),
    numpy.core.multiarray._reconstruct, dtype state version 3."""
    def string(b):
        return b"U" + bytes([len(b)]) + b if len(b) < 256 else b"T" + struct.pack("<I", len(b)) + b

    def integer(n):
        return b"J" + struct.pack("<i", n)

    def tuple_of(items):
        return b"(" + b"".join(items) + b"t"

    out = [b"\x80\x02}("]
    for key, array in arrays.items():
        array = np.ascontiguousarray(array, dtype="<f8")
        dtype = (b"cnumpy\ndtype\n" + tuple_of([string(b"f8"), integer(0), integer(1)]) + b"R"
                 + tuple_of([integer(3), string(b"<"), b"N", b"N", b"N", integer(-1), integer(-1), integer(0)])
                 + b"b")
        out.append(string(key.encode("ascii"))
                   + b"cnumpy.core.multiarray\n_reconstruct\n"
                   + tuple_of([b"cnumpy\nndarray\n", tuple_of([integer(0)]), string(b"b")]) + b"R"
                   + tuple_of([integer(1), tuple_of([integer(n) for n in array.shape]), dtype, b"\x89",
                               string(array.tobytes())]) + b"b")
    out.append(b"u.")
    return b"".join(out)


def test_python2_templates_pickle(vocaset):
    root, templates, positions = vocaset
    with open(os.path.join(root, "templates.pkl"), "wb") as f:
        f.write(python2_pickle(templates))
    dataset = vd.load_vocaset(root, split="test")
    np.testing.assert_array_equal(dataset.templates[D], templates[D])
    sequence = positions[f"{D}_sentence21"][::2].astype(np.float64)
    expected = (sequence - templates[D][None]).reshape(len(sequence), -1).astype(np.float32)
    assert np.array_equal(dataset.takes[0].motion, expected)


def test_split_stem():
    assert vd.split_stem("FaceTalk_170725_00137_TA_sentence01") == ("FaceTalk_170725_00137_TA", 1)
    assert vd.split_stem("F2_e01") == ("F2", 1) and vd.split_stem("F2_40") == ("F2", 40)
    assert vd.split_stem("M3_neutral") == ("M3", None) and vd.split_stem("single") is None
    assert len(vd.VOCASET_SUBJECTS["train"]) == 8 and vd.VOCASET_SENTENCES["val"] == range(21, 41)
    assert vd.BIWI_SENTENCES["test"] == range(37, 41)
