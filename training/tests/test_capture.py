"""Tests of the capture loaders (training/kmtalk_train/capture.py) and of the FACEGOOD ->
ARKit mapping (facegood_arkit.py).

Each loader is tested on small files written here in the real formats. The FACEGOOD tests
marked `real data` use the third-party takes in ../shared/data/facegood (relative to the
repository root) and skip with a message when that folder is absent."""
import csv
import os
import struct
import subprocess
import sys
import warnings

import numpy as np
import pytest
from scipy.io import wavfile

HERE = os.path.dirname(os.path.abspath(__file__))
TRAINING = os.path.dirname(HERE)
ROOT = os.path.dirname(TRAINING)
sys.path.insert(0, TRAINING)

from kmtalk_train import capture, facegood_arkit  # noqa: E402
from kmtalk_train.arkit import ARKIT_52, INDEX  # noqa: E402
from kmtalk_train.capture import MotionTake  # noqa: E402

FACEGOOD_DIR = os.path.normpath(os.path.join(ROOT, "..", "shared", "data", "facegood"))
needs_facegood = pytest.mark.skipif(
    not os.path.isdir(FACEGOOD_DIR),
    reason=f"real data: third-party FACEGOOD takes not found at {FACEGOOD_DIR} "
           "(../shared/data is not part of the repository)")

# The header the Live Link Face app writes, spelled out independently of capture.py.
APP_HEADER = (
    "Timecode,BlendShapeCount,EyeBlinkLeft,EyeLookDownLeft,EyeLookInLeft,EyeLookOutLeft,"
    "EyeLookUpLeft,EyeSquintLeft,EyeWideLeft,EyeBlinkRight,EyeLookDownRight,EyeLookInRight,"
    "EyeLookOutRight,EyeLookUpRight,EyeSquintRight,EyeWideRight,JawForward,JawRight,JawLeft,"
    "JawOpen,MouthClose,MouthFunnel,MouthPucker,MouthRight,MouthLeft,MouthSmileLeft,"
    "MouthSmileRight,MouthFrownLeft,MouthFrownRight,MouthDimpleLeft,MouthDimpleRight,"
    "MouthStretchLeft,MouthStretchRight,MouthRollLower,MouthRollUpper,MouthShrugLower,"
    "MouthShrugUpper,MouthPressLeft,MouthPressRight,MouthLowerDownLeft,MouthLowerDownRight,"
    "MouthUpperUpLeft,MouthUpperUpRight,BrowDownLeft,BrowDownRight,BrowInnerUp,"
    "BrowOuterUpLeft,BrowOuterUpRight,CheekPuff,CheekSquintLeft,CheekSquintRight,"
    "NoseSneerLeft,NoseSneerRight,TongueOut,HeadYaw,HeadPitch,HeadRoll,LeftEyeYaw,"
    "LeftEyePitch,LeftEyeRoll,RightEyeYaw,RightEyePitch,RightEyeRoll").split(",")


# ----------------------------------------------------------------------------- helpers

def write_py2_npy(path, array):
    """An .npy exactly as Python 2 numpy wrote it: format 1.0, `L` suffixes on the shape,
    header padded to 16 bytes."""
    array = np.ascontiguousarray(array, dtype="<f8")
    shape = "(" + "".join(f"{n}L, " for n in array.shape).rstrip(" ") + ")"
    if array.ndim > 1:
        shape = shape.replace(", )", ")")
    header = "{'descr': '<f8', 'fortran_order': False, 'shape': %s, }" % shape
    total = 10 + len(header) + 1
    header += " " * ((16 - total % 16) % 16) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode("latin1"))
        f.write(array.tobytes())


def write_wav(path, samples, rate=16000):
    wavfile.write(path, rate, np.round(np.clip(samples, -1, 1) * 32767).astype(np.int16))


def speechlike(seconds, rate=16000, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * 3 * t) ** 2 * rng.standard_normal(len(t))).clip(-1, 1)


FG_CHANNELS = ["brow_lower_l", "mouth_stretch_c", "mouth_oh_c", "mouth_pucker_l",
               "mouth_pucker_r", "tongue_u"]


def make_facegood_dir(root, takes=(("1114_9_01", 2.0), ("1114_9_00", 1.5)), frame_error=0):
    os.makedirs(root, exist_ok=True)
    with open(os.path.join(root, "channels.txt"), "w") as f:
        f.write("\n".join(FG_CHANNELS) + "\n")
    arrays = {}
    for i, (take, seconds) in enumerate(takes):
        frames = int(round(seconds * 30)) + frame_error
        rng = np.random.default_rng(i)
        array = np.zeros((frames, len(FG_CHANNELS)))
        array[:, 1] = rng.uniform(0, 0.8, frames)           # mouth_stretch_c moves
        array[:, 3] = array[:, 4] = rng.uniform(0, 0.5, frames)
        array[:, 5] = 0.004                                 # constant: not moving
        write_py2_npy(os.path.join(root, f"bs_value_{take}.npy"), array)
        write_wav(os.path.join(root, f"{take}.wav"), speechlike(seconds, seed=i))
        arrays[take] = array
    return arrays


# ----------------------------------------------------------------------------- MotionTake

def test_motion_take_validates_shapes_and_space():
    ok = MotionTake(np.zeros(160, np.float32), 16000, np.zeros((3, 2), np.float32), 30.0,
                    ["a", "b"], "rig")
    assert ok.num_frames == 3 and ok.duration == pytest.approx(0.1)
    assert ok.audio_duration == pytest.approx(0.01)
    with pytest.raises(ValueError, match="space"):
        MotionTake(np.zeros(0, np.float32), 16000, np.zeros((3, 2), np.float32), 30.0, ["a", "b"], "blend")
    with pytest.raises(ValueError, match="channel names"):
        MotionTake(np.zeros(0, np.float32), 16000, np.zeros((3, 2), np.float32), 30.0, ["a"], "rig")
    with pytest.raises(ValueError, match="template"):
        MotionTake(np.zeros(0, np.float32), 16000, np.zeros((3, 6), np.float32), 30.0,
                   list("abcdef"), "vertices")


# ----------------------------------------------------------------------------- npy / FACEGOOD

def test_py2_npy_loads_without_pickle_and_without_warning(tmp_path):
    array = np.arange(12, dtype=np.float64).reshape(4, 3) / 7
    path = str(tmp_path / "py2.npy")
    write_py2_npy(path, array)
    assert b"4L, 3L" in open(path, "rb").read(80)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loaded = capture.load_npy(path, pickle_fallback=False)
    np.testing.assert_array_equal(loaded, array)


def test_object_npy_needs_the_pickle_fallback(tmp_path):
    path = str(tmp_path / "objects.npy")
    np.save(path, np.array([[0.5, 1.0], [0.25, 0.0]], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError):
        capture.load_npy(path, pickle_fallback=False)
    loaded = capture.load_npy(path)
    assert loaded.dtype == np.float64
    np.testing.assert_array_equal(loaded, [[0.5, 1.0], [0.25, 0.0]])


def test_load_facegood_sample(tmp_path):
    arrays = make_facegood_dir(str(tmp_path))
    takes = capture.load_facegood(str(tmp_path))
    assert [t.take for t in takes] == ["1114_9_00", "1114_9_01"]  # sorted
    for take in takes:
        expected = arrays[take.take]
        assert take.space == "rig" and take.fps == 30.0 and take.channels == FG_CHANNELS
        assert take.motion.dtype == np.float32 and take.motion.shape == expected.shape
        np.testing.assert_allclose(take.motion, expected, atol=1e-7)
        assert take.samples.dtype == np.float32 and take.sample_rate == 16000
        assert take.num_frames == round(take.audio_duration * 30)
        assert take.meta["moving_channels"] == ["mouth_stretch_c", "mouth_pucker_l", "mouth_pucker_r"]
        assert take.speaker == "facegood" and take.source.endswith(f"bs_value_{take.take}.npy")
    samples = wavfile.read(str(tmp_path / "1114_9_01.wav"))[1]
    np.testing.assert_allclose(takes[1].samples, samples / 32768.0, atol=1e-6)


def test_load_facegood_tolerates_two_frames_and_rejects_three(tmp_path):
    make_facegood_dir(str(tmp_path / "two"), frame_error=2)
    takes = capture.load_facegood(str(tmp_path / "two"))
    assert all(t.meta["frame_mismatch"] == pytest.approx(2.0) for t in takes)
    make_facegood_dir(str(tmp_path / "three"), frame_error=-3)
    with pytest.raises(ValueError, match="motion frames"):
        capture.load_facegood(str(tmp_path / "three"))


def test_load_facegood_errors(tmp_path):
    make_facegood_dir(str(tmp_path))
    os.remove(str(tmp_path / "1114_9_00.wav"))
    with pytest.raises(FileNotFoundError, match="1114_9_00.wav"):
        capture.load_facegood(str(tmp_path))
    make_facegood_dir(str(tmp_path / "cols"))
    with open(str(tmp_path / "cols" / "channels.txt"), "a") as f:
        f.write("extra_channel\n")
    with pytest.raises(ValueError, match="channels.txt"):
        capture.load_facegood(str(tmp_path / "cols"))
    with pytest.raises(FileNotFoundError):
        capture.load_facegood(str(tmp_path / "nowhere"))


def test_frame_rms_of_a_sine():
    rate, fps = 16000, 30.0
    t = np.arange(rate * 2) / rate
    x = 0.5 * np.sin(2 * np.pi * 300 * t)
    x[rate:] = 0.0  # second half silent
    rms = capture.frame_rms(x, rate, fps, 60)
    np.testing.assert_allclose(rms[2:28], 0.5 / np.sqrt(2), rtol=0.02)
    np.testing.assert_allclose(rms[32:], 0.0, atol=1e-7)


# ----------------------------------------------------------------------------- mapping

def synthetic_rig_take(values, frames=4):
    """A rig take whose channels are every FACEGOOD control named in the tables."""
    names = sorted({c for rule in facegood_arkit.MAPPING + facegood_arkit.RIG_ONLY for c, _ in rule.sources})
    motion = np.zeros((frames, len(names)), np.float32)
    for name, column in values.items():
        motion[:, names.index(name)] = column
    return MotionTake(np.zeros(0, np.float32), 16000, motion, 30.0, names, "rig")


def test_mapping_tables_are_consistent():
    mapped = [r.arkit for r in facegood_arkit.MAPPING]
    rig_only = [r.arkit for r in facegood_arkit.RIG_ONLY]
    assert len(set(mapped)) == len(mapped) and len(set(rig_only)) == len(rig_only)
    assert not set(mapped) & set(rig_only)
    assert set(mapped) | set(rig_only) <= set(ARKIT_52)
    for rule in facegood_arkit.MAPPING + facegood_arkit.RIG_ONLY:
        assert rule.sources and all(w > 0 for _, w in rule.sources)
    # Honestly unavailable from this rig: documented, never silently supervised.
    assert facegood_arkit.NOT_MAPPED == ["mouthClose", "tongueOut"]
    for name in ("jawOpen", "mouthFunnel", "mouthPucker", "mouthPressLeft", "mouthRollLower",
                 "mouthLowerDownLeft", "mouthUpperUpRight", "mouthSmileLeft", "mouthStretchRight"):
        assert name in facegood_arkit.SUPERVISED
    table = facegood_arkit.mapping_table()
    assert "| jawOpen | mouth_stretch_c (1), mouth_oh_c (0.25) |" in table


def test_to_arkit_values_and_mask():
    frames = 4
    take = synthetic_rig_take({
        "mouth_stretch_c": [0.0, 0.5, 0.9, 1.0],
        "mouth_oh_c": [0.0, 0.4, 0.8, 0.0],
        "mouth_funnel_ul": [0.2] * frames, "mouth_funnel_ur": [0.2] * frames,
        "mouth_funnel_dl": [0.6] * frames, "mouth_funnel_dr": [0.6] * frames,
        "mouth_pucker_l": [0.3] * frames, "mouth_pucker_r": [0.5] * frames,
        "mouth_lowerLipDepress_l": [0.25] * frames,
        "mouth_press_r": [0.7] * frames,
        "eye_blink1_l": [0.9] * frames,
    })
    weights, mask = facegood_arkit.to_arkit(take)
    assert weights.shape == (frames, 52) and weights.dtype == np.float32
    assert weights.min() >= 0.0 and weights.max() <= 1.0
    assert [ARKIT_52[i] for i in np.flatnonzero(mask)] == [n for n in ARKIT_52 if n in facegood_arkit.SUPERVISED]
    np.testing.assert_allclose(weights[:, INDEX["jawOpen"]], [0.0, 0.6, 1.0, 1.0], atol=1e-6)  # 1.1 clips
    np.testing.assert_allclose(weights[:, INDEX["mouthFunnel"]], [0.4, 0.7, 1.0, 0.4], atol=1e-6)
    np.testing.assert_allclose(weights[:, INDEX["mouthPucker"]], 0.4, atol=1e-6)
    np.testing.assert_allclose(weights[:, INDEX["mouthLowerDownLeft"]], 0.25, atol=1e-6)
    np.testing.assert_allclose(weights[:, INDEX["mouthLowerDownRight"]], 0.0)
    np.testing.assert_allclose(weights[:, INDEX["mouthPressRight"]], 0.7, atol=1e-6)
    # Eyes are rig-only: unsupervised and zero unless asked for.
    assert not mask[INDEX["eyeBlinkLeft"]] and np.all(weights[:, INDEX["eyeBlinkLeft"]] == 0)
    assert not mask[INDEX["mouthClose"]] and not mask[INDEX["tongueOut"]]
    weights_all, mask_all = facegood_arkit.to_arkit(take, include_rig_only=True)
    assert mask_all[INDEX["eyeBlinkLeft"]]
    np.testing.assert_allclose(weights_all[:, INDEX["eyeBlinkLeft"]], 0.9, atol=1e-6)
    np.testing.assert_array_equal(weights_all[:, mask], weights[:, mask])
    assert mask_all.sum() == 50


def test_to_arkit_skips_rules_without_controls_and_checks_space():
    take = MotionTake(np.zeros(0, np.float32), 16000, np.full((2, 1), 0.3, np.float32), 30.0,
                      ["mouth_stretch_c"], "rig")
    weights, mask = facegood_arkit.to_arkit(take)
    assert [ARKIT_52[i] for i in np.flatnonzero(mask)] == ["jawOpen"]
    np.testing.assert_allclose(weights[:, INDEX["jawOpen"]], 0.3, atol=1e-6)
    arkit_take = facegood_arkit.to_arkit_take(take)
    assert arkit_take.space == "arkit" and arkit_take.channels == ARKIT_52
    with pytest.raises(ValueError, match="rig"):
        facegood_arkit.to_arkit(arkit_take)


# ----------------------------------------------------------------------------- Live Link Face

def write_app_csv(path, rows, header=APP_HEADER):
    with open(path, "w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def app_rows(timecodes, seed=0, columns=61):
    rng = np.random.default_rng(seed)
    values = rng.uniform(0, 1, (len(timecodes), columns))
    rows = [[tc, "61"] + [f"{v:.8f}" for v in values[i]] for i, tc in enumerate(timecodes)]
    return rows, values


def test_live_link_header_constant_is_the_app_header():
    assert capture.LIVE_LINK_HEADER == APP_HEADER
    assert len(APP_HEADER) == 2 + 61
    assert sorted(h.lower() for h in APP_HEADER[2:54]) == sorted(n.lower() for n in ARKIT_52)


def test_load_live_link_csv_60fps_across_a_second(tmp_path):
    # 12:34:56:50 .. 12:34:57:09 at 60 fps: 20 rows crossing a seconds boundary.
    timecodes = [f"12:34:{56 + (50 + k) // 60}:{(50 + k) % 60:02d}.000" for k in range(20)]
    rows, values = app_rows(timecodes)
    path = str(tmp_path / "Slate1_3_iPhone.csv")
    write_app_csv(path, rows)
    wav = str(tmp_path / "audio.wav")
    write_wav(wav, speechlike(20 / 60 + 0.01), 48000)
    take = capture.load_live_link_csv(path, wav)
    assert take.space == "arkit" and take.fps == 60.0 and take.channels == ARKIT_52
    assert take.motion.shape == (20, 52) and take.motion.dtype == np.float32
    for column, name in enumerate(APP_HEADER[2:54]):
        arkit = name[0].lower() + name[1:]
        np.testing.assert_allclose(take.motion[:, INDEX[arkit]], values[:, column], atol=1e-7)
    # JawLeft is the 19th header column (after JawRight) but lands on ARKit's jawLeft.
    np.testing.assert_allclose(take.channel("jawLeft"), values[:, APP_HEADER.index("JawLeft") - 2], atol=1e-7)
    assert take.rotation_names == APP_HEADER[54:]
    np.testing.assert_allclose(take.rotations, values[:, 52:], atol=1e-7)
    assert take.meta["start_timecode"] == "12:34:56:50.000"
    assert take.meta["start_seconds"] == pytest.approx(12 * 3600 + 34 * 60 + 56 + 50 / 60)
    assert take.meta["dropped_frames"] == 0 and take.meta["missing_channels"] == []
    assert take.sample_rate == 48000 and take.samples.dtype == np.float32
    assert take.speaker == "iPhone" and take.take == "Slate1_3_iPhone"
    assert capture._live_link_subject("Scene_12_Mary_Jane_cal") == "Mary_Jane"
    assert capture._live_link_subject("take") == "take"


def test_load_live_link_csv_30fps_rows_count_60ths(tmp_path):
    # A 30 fps take as the app writes it: the frame part counts 60ths, stepping 2 per row
    # (Epic's importer: time = h:m:s + ff / 60), here across a seconds boundary.
    timecodes = [f"01:00:{(50 + 2 * k) // 60:02d}:{(50 + 2 * k) % 60:02d}.500" for k in range(12)]
    rows, _ = app_rows(timecodes)
    write_app_csv(str(tmp_path / "thirty.csv"), rows)
    take = capture.load_live_link_csv(str(tmp_path / "thirty.csv"))
    assert take.fps == 30.0 and take.num_frames == 12 and take.meta["dropped_frames"] == 0
    assert take.meta["start_seconds"] == pytest.approx(3600 + 50.5 / 60)
    assert take.sample_rate == 0 and len(take.samples) == 0
    # One row: no step to measure; the app's default (60) wins, an explicit rate overrides it.
    rows, _ = app_rows(["00:00:01:07.000"])
    write_app_csv(str(tmp_path / "one.csv"), rows)
    assert capture.load_live_link_csv(str(tmp_path / "one.csv")).fps == 60.0
    assert capture.load_live_link_csv(str(tmp_path / "one.csv"), fps=30).fps == 30.0
    # Rows 70 ms apart match no rate the app records at.
    rows, _ = app_rows([f"00:00:01:{4.2 * k:06.3f}" for k in range(5)])
    write_app_csv(str(tmp_path / "odd.csv"), rows)
    with pytest.raises(ValueError, match="recording rate"):
        capture.load_live_link_csv(str(tmp_path / "odd.csv"))


def test_load_live_link_csv_is_tolerant(tmp_path):
    # Only the 52 blendshapes, in ARKit order, lower-case names, one unknown extra column.
    header = ["Timecode", "BlendShapeCount"] + ARKIT_52 + ["Confidence"]
    timecodes = [f"00:00:00:{k:02d}.000" for k in range(40)]
    rows, values = app_rows(timecodes, columns=53)
    write_app_csv(str(tmp_path / "plain.csv"), rows, header)
    take = capture.load_live_link_csv(str(tmp_path / "plain.csv"))
    np.testing.assert_allclose(take.motion, values[:, :52], atol=1e-7)
    assert take.rotations is None and take.rotation_names == []
    assert take.meta["ignored_columns"] == ["Confidence"]
    # A subset of blendshapes: the others are zero and reported missing.
    header = ["Timecode", "BlendShapeCount", "JawOpen", "MouthClose"]
    rows, values = app_rows(timecodes, columns=2)
    write_app_csv(str(tmp_path / "subset.csv"), rows, header)
    take = capture.load_live_link_csv(str(tmp_path / "subset.csv"))
    np.testing.assert_allclose(take.channel("jawOpen"), values[:, 0], atol=1e-7)
    assert len(take.meta["missing_channels"]) == 50 and np.all(take.channel("tongueOut") == 0)


def test_load_live_link_csv_fills_dropped_frames(tmp_path):
    frames = [k for k in range(70) if k != 33]  # frame 33 never arrived
    timecodes = [f"00:00:{k // 60:02d}:{k % 60:02d}.000" for k in frames]
    rows, values = app_rows(timecodes)
    write_app_csv(str(tmp_path / "drop.csv"), rows)
    take = capture.load_live_link_csv(str(tmp_path / "drop.csv"))
    assert take.fps == 60.0 and take.num_frames == 70 and take.meta["dropped_frames"] == 1
    np.testing.assert_allclose(take.motion[33, 0], 0.5 * (values[32, 0] + values[33, 0]), atol=1e-6)
    np.testing.assert_allclose(take.motion[34, 0], values[33, 0], atol=1e-6)


def test_load_live_link_csv_errors(tmp_path):
    rows, _ = app_rows(["00:00:00:01.000", "garbage"])
    write_app_csv(str(tmp_path / "bad_tc.csv"), rows)
    with pytest.raises(ValueError, match="timecode"):
        capture.load_live_link_csv(str(tmp_path / "bad_tc.csv"))
    rows, _ = app_rows(["00:00:00:05.000", "00:00:00:04.000"])
    write_app_csv(str(tmp_path / "backwards.csv"), rows)
    with pytest.raises(ValueError):
        capture.load_live_link_csv(str(tmp_path / "backwards.csv"), fps=60)
    write_app_csv(str(tmp_path / "empty.csv"), [])
    with pytest.raises(ValueError, match="no data"):
        capture.load_live_link_csv(str(tmp_path / "empty.csv"))
    write_app_csv(str(tmp_path / "other.csv"), [["1", "2"]], ["frame", "value"])
    with pytest.raises(ValueError, match="Timecode"):
        capture.load_live_link_csv(str(tmp_path / "other.csv"))


def test_format_timecode():
    assert capture.format_timecode(0.0, 60) == "00:00:00:00.000"
    assert capture.format_timecode(3600 + 61 + 59 / 60, 60) == "01:01:01:59.000"
    assert capture.format_timecode(1 / 60 * 1.5, 60) == "00:00:00:01.500"
    assert capture.format_timecode(59.99999999, 30) == "00:01:00:00.000"  # carries


def test_write_live_link_csv_round_trip(tmp_path):
    rng = np.random.default_rng(3)
    weights = rng.uniform(0, 1, (130, 52)).astype(np.float32)
    rotations = rng.uniform(-0.5, 0.5, (130, 9)).astype(np.float32)
    path = str(tmp_path / "export.csv")
    capture.write_live_link_csv(path, weights, 60, start_timecode="10:59:59:30.000", rotations=rotations)
    with open(path, newline="") as f:
        lines = list(csv.reader(f))
    assert lines[0] == APP_HEADER
    assert lines[1][:2] == ["10:59:59:30.000", "61"] and lines[31][0] == "11:00:00:00.000"
    assert all(len(line) == 63 and line[1] == "61" for line in lines[1:])
    assert float(lines[1][APP_HEADER.index("JawLeft")]) == weights[0, INDEX["jawLeft"]]
    take = capture.load_live_link_csv(path)
    assert take.fps == 60.0 and take.meta["dropped_frames"] == 0
    np.testing.assert_array_equal(take.motion, weights)  # 9 significant digits: exact float32
    np.testing.assert_array_equal(take.rotations, rotations)
    assert take.meta["start_timecode"] == "10:59:59:30.000"


def test_write_live_link_csv_subset_and_errors(tmp_path):
    weights = np.array([[0.2, 0.7], [0.4, 0.1]], np.float32)
    path = str(tmp_path / "subset.csv")
    capture.write_live_link_csv(path, weights, 30, names=["jawOpen", "mouthPucker"], start_timecode=2.0)
    with open(path) as f:
        assert [line.split(",")[0] for line in f.read().splitlines()[1:]] == ["00:00:02:00.000", "00:00:02:02.000"]
    take = capture.load_live_link_csv(path)
    assert take.fps == 30.0
    np.testing.assert_array_equal(take.channel("jawOpen"), weights[:, 0])
    np.testing.assert_array_equal(take.channel("mouthPucker"), weights[:, 1])
    assert np.count_nonzero(take.motion) == 4 and take.meta["start_timecode"] == "00:00:02:00.000"
    with pytest.raises(ValueError, match="ARKit"):
        capture.write_live_link_csv(path, weights, 30, names=["jawOpen", "mouthOpen"])
    with pytest.raises(ValueError, match="integer fps"):
        capture.write_live_link_csv(path, weights, 29.97, names=["jawOpen", "mouthPucker"])
    with pytest.raises(ValueError, match="shape"):
        capture.write_live_link_csv(path, weights, 30)


# ----------------------------------------------------------------------------- vertex sequences

TEMPLATE = np.array([[0.0, 0.0, 0.0], [0.1, 0.0, 0.0], [0.0, 0.1, 0.0], [0.1, 0.1, 0.02]])


def write_obj(path, vertices):
    with open(path, "w") as f:
        f.write("# tiny mesh\nmtllib none.mtl\no face\n")
        for v in vertices:
            f.write("v %.6f %.6f %.6f\n" % tuple(v))
        f.write("vt 0 0\nvt 1 0\nvt 0 1\nvt 1 1\nvn 0 0 1\n")
        f.write("f 1/1/1 2/2/1 4/4/1\nf 1/1/1 4/4/1 3/3/1\n")


def write_ply(path, vertices, binary):
    header = ("ply\nformat %s 1.0\ncomment tiny\nelement vertex %d\nproperty float x\n"
              "property float y\nproperty float z\nproperty uchar red\nelement face 2\n"
              "property list uchar int vertex_indices\nend_header\n"
              % ("binary_little_endian" if binary else "ascii", len(vertices)))
    with open(path, "wb") as f:
        f.write(header.encode("ascii"))
        if binary:
            for v in vertices:
                f.write(struct.pack("<fffB", *v, 200))
            f.write(struct.pack("<Biii", 3, 0, 1, 3) + struct.pack("<Biii", 3, 0, 3, 2))
        else:
            for v in vertices:
                f.write(("%g %g %g 200\n" % tuple(v)).encode())
            f.write(b"3 0 1 3\n3 0 3 2\n")


def vertex_take_files(tmp_path, frames=45, fps=30.0):
    rng = np.random.default_rng(5)
    offsets = rng.normal(0, 0.003, (frames, 4, 3))
    sequence = TEMPLATE[None] + offsets
    npy = str(tmp_path / "seq.npy")
    np.save(npy, sequence)
    wav = str(tmp_path / "seq.wav")
    write_wav(wav, speechlike(frames / fps), 16000)
    return npy, wav, sequence, offsets


@pytest.mark.parametrize("kind", ["npy", "obj", "ply-ascii", "ply-binary", "array"])
def test_load_vertex_sequence(tmp_path, kind):
    npy, wav, sequence, offsets = vertex_take_files(tmp_path)
    if kind == "npy":
        template = str(tmp_path / "template.npy")
        np.save(template, TEMPLATE)
    elif kind == "obj":
        template = str(tmp_path / "template.obj")
        write_obj(template, TEMPLATE)
    elif kind.startswith("ply"):
        template = str(tmp_path / "template.ply")
        write_ply(template, TEMPLATE, binary=kind == "ply-binary")
    else:
        template = TEMPLATE
    take = capture.load_vertex_sequence(npy, template, wav, fps=30.0, speaker="FaceTalk_x")
    assert take.space == "vertices" and take.fps == 30.0 and take.speaker == "FaceTalk_x"
    assert take.motion.shape == (45, 12) and take.motion.dtype == np.float32
    assert take.channels[:4] == ["v0.x", "v0.y", "v0.z", "v1.x"] and len(take.channels) == 12
    np.testing.assert_allclose(take.template, TEMPLATE, atol=1e-6)
    np.testing.assert_allclose(take.motion, offsets.reshape(45, 12), atol=1e-6)
    np.testing.assert_allclose(take.motion.reshape(45, 4, 3) + take.template, sequence, atol=1e-6)
    assert take.sample_rate == 16000 and take.take == "seq"


def test_load_vertex_sequence_flattened_and_no_audio(tmp_path):
    _, _, sequence, offsets = vertex_take_files(tmp_path)
    flat = str(tmp_path / "flat.npy")
    np.save(flat, sequence.reshape(45, 12).astype(np.float32))  # FaceFormer-style (frames, 3V)
    take = capture.load_vertex_sequence(flat, TEMPLATE.reshape(-1, 3), None, fps=25.0)
    np.testing.assert_allclose(take.motion, offsets.reshape(45, 12), atol=1e-6)
    assert take.sample_rate == 0 and take.meta["frame_mismatch"] is None


def test_load_vertex_sequence_errors(tmp_path):
    npy, wav, sequence, _ = vertex_take_files(tmp_path)
    template = str(tmp_path / "template.obj")
    write_obj(template, TEMPLATE[:3])
    with pytest.raises(ValueError, match="vertex count mismatch"):
        capture.load_vertex_sequence(npy, template, wav, fps=30.0)
    bad = sequence.copy()
    bad[7, 2, 1] = np.nan
    np.save(str(tmp_path / "nan.npy"), bad)
    with pytest.raises(ValueError, match="NaN.*frame 7"):
        capture.load_vertex_sequence(str(tmp_path / "nan.npy"), TEMPLATE, wav, fps=30.0)
    nan_template = TEMPLATE.copy()
    nan_template[0, 0] = np.nan
    with pytest.raises(ValueError, match="template has NaN"):
        capture.load_vertex_sequence(npy, nan_template, wav, fps=30.0)
    np.save(str(tmp_path / "mm.npy"), sequence * 1000.0)  # millimetres vs a template in metres
    with pytest.raises(ValueError, match="does not fit the template"):
        capture.load_vertex_sequence(str(tmp_path / "mm.npy"), TEMPLATE, wav, fps=30.0)
    with pytest.raises(ValueError, match="audio lasts"):
        capture.load_vertex_sequence(npy, TEMPLATE, wav, fps=60.0)
    capture.load_vertex_sequence(npy, TEMPLATE, wav, fps=60.0, tolerance_frames=None)
    with pytest.raises(ValueError, match="unsupported template"):
        capture.load_vertex_sequence(npy, str(tmp_path / "template.stl"), wav, fps=30.0)
    with open(str(tmp_path / "empty.obj"), "w") as f:
        f.write("# nothing\n")
    with pytest.raises(ValueError, match="no vertices"):
        capture.load_template(str(tmp_path / "empty.obj"))


# ----------------------------------------------------------------------------- real data

@pytest.fixture(scope="module")
def facegood_takes():
    if not os.path.isdir(FACEGOOD_DIR):
        pytest.skip(f"real data: {FACEGOOD_DIR} absent")
    return capture.load_facegood(FACEGOOD_DIR)


@needs_facegood
def test_real_facegood_takes(facegood_takes):
    takes = facegood_takes
    assert [t.take for t in takes] == ["1114_2_01", "1114_2_02", "1114_2_03", "1114_2_04", "1114_3_15"]
    total = sum(t.duration for t in takes) / 60
    assert 8.0 < total < 8.8, total  # measured 8.26 min
    for take in takes:
        assert take.motion.shape[1] == 116 and len(take.channels) == 116
        assert take.sample_rate == 16000 and take.fps == 30.0
        assert abs(take.meta["frame_mismatch"]) < 1.0  # measured -0.88 .. -0.06
        assert take.motion.min() >= 0.0 and take.motion.max() <= 1.0
        assert "mouth_stretch_c" in take.meta["moving_channels"]
    moving = set().union(*(t.meta["moving_channels"] for t in takes))
    assert 18 <= len(moving) <= 30, sorted(moving)  # measured 27 (7 are exact L/R copies)
    assert all(name.startswith(("mouth_", "tooth_", "nose_")) for name in moving)


@needs_facegood
def test_real_mapping_matches_what_moves(facegood_takes):
    channels = facegood_takes[0].channels
    peak = np.max([t.motion.max(axis=0) for t in facegood_takes], axis=0)
    peak = dict(zip(channels, peak))
    for rule in facegood_arkit.MAPPING + facegood_arkit.RIG_ONLY:
        for control, _ in rule.sources:
            assert control in peak, f"{rule.arkit}: {control} is not a FACEGOOD channel"
    for rule in facegood_arkit.MAPPING:  # supervised: something really moves
        assert max(peak[c] for c, _ in rule.sources) >= 0.05, rule.arkit
    for rule in facegood_arkit.RIG_ONLY:  # not supervised: nothing is animated
        assert max(peak[c] for c, _ in rule.sources) < 0.05, rule.arkit


@needs_facegood
def test_real_jaw_open_follows_speech_energy(facegood_takes):
    jaws, energies = [], []
    for take in facegood_takes:
        weights, mask = facegood_arkit.to_arkit(take)
        assert weights.min() >= 0.0 and weights.max() <= 1.0
        assert mask.sum() == len(facegood_arkit.SUPERVISED) == 16
        jaw = weights[:, INDEX["jawOpen"]]
        rms = capture.frame_rms(take.samples, take.sample_rate, take.fps, take.num_frames)
        # Measured 0.727, 0.739, 0.794, 0.740, 0.636: require a clear margin above chance
        # yet below the weakest take.
        assert np.corrcoef(jaw, rms)[0, 1] > 0.55, take.take
        jaws.append(jaw)
        energies.append(rms)
    jaw, rms = np.concatenate(jaws), np.concatenate(energies)
    assert np.corrcoef(jaw, rms)[0, 1] > 0.65  # measured 0.730
    # Mouth closed in silence, open in speech (measured means 0.013 vs 0.26).
    assert jaw[rms < 0.01].mean() < 0.05 and jaw[rms > 0.05].mean() > 0.15
    # Aligned: zero lag beats a 3-frame shift either way.
    at = lambda lag: np.corrcoef(np.roll(jaw, lag), rms)[0, 1]  # noqa: E731
    assert at(0) > at(3) + 0.2 and at(0) > at(-3) + 0.2


@needs_facegood
def test_plot_script_writes_a_png(tmp_path):
    pytest.importorskip("matplotlib")
    out = str(tmp_path / "facegood.png")
    result = subprocess.run([sys.executable, os.path.join(TRAINING, "scripts", "plot_facegood.py"),
                             "--take", "1114_3_15", "--start", "5", "--out", out],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    with open(out, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    assert "correlation" in result.stdout
