"""Loaders for real captured facial motion, all returning one common type, `MotionTake`.

Formats:

* FACEGOOD takes (`load_facegood`): `<take>.wav` (16 kHz mono int16) next to
  `bs_value_<take>.npy` (float64 frames x 116 rig-control weights at 30 fps, saved by
  Python 2) and `channels.txt` (the 116 control names). Space "rig"; facegood_arkit.py maps
  it to ARKit.
* Live Link Face CSV (`load_live_link_csv`, `write_live_link_csv`): the iPhone app's
  export. Space "arkit".
* VOCASET/BIWI-style vertex sequences (`load_vertex_sequence`): a `.npy` of frames x V x 3
  (or frames x 3V) positions, a template mesh and a WAV. Space "vertices".

Live Link Face CSV, as written by the app and read by Epic's own importer
(LiveLinkFaceImporterFactory.cpp in Unreal Engine):

    Timecode,BlendShapeCount,EyeBlinkLeft,EyeLookDownLeft,...,TongueOut,HeadYaw,HeadPitch,
    HeadRoll,LeftEyeYaw,LeftEyePitch,LeftEyeRoll,RightEyeYaw,RightEyePitch,RightEyeRoll
    14:03:52:28.207,61,0.0123,...

* Column 1 is exactly `Timecode`, column 2 exactly `BlendShapeCount` (capital S; the
  per-row value is 61 = 52 blendshapes + 9 rotations).
* The blendshape names are ARKit's with a capital first letter, in Apple's order EXCEPT
  that the app writes `JawRight,JawLeft` and `MouthRight,MouthLeft` (right before left;
  every public header we checked, including Unreal's importer samples, shows this). The
  reader matches columns by name (case-insensitively, ignoring unknown columns and
  accepting files with only the 52 blendshapes); the writer reproduces the app's order.
* `Timecode` is `hh:mm:ss:ff.fff`, where `ff.fff` counts 60ths of a second whatever the
  recording rate: time = h*3600 + m*60 + s + ff/60 (Epic's LiveLinkFaceImporterFactory
  divides by 60; a 30 fps take steps 2 per row). No column states the recording rate: it
  is the rate of the rows' timecodes (see `_infer_row_fps`), or the caller's.
* The head / eye rotations are kept apart from the 52 weights (`MotionTake.rotations`).
"""
from __future__ import annotations

import csv
import os
import re
import warnings
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from .arkit import ARKIT_52

SPACES = ("rig", "arkit", "vertices")

FACEGOOD_FPS = 30.0
# Channels whose range (max - min over a take) exceeds this count as "moving".
MOVING_THRESHOLD = 0.01

LIVE_LINK_ROTATIONS = [
    "HeadYaw", "HeadPitch", "HeadRoll", "LeftEyeYaw", "LeftEyePitch", "LeftEyeRoll",
    "RightEyeYaw", "RightEyePitch", "RightEyeRoll",
]


def _live_link_blendshape_order() -> List[str]:
    names = [n[0].upper() + n[1:] for n in ARKIT_52]
    for left, right in (("JawLeft", "JawRight"), ("MouthLeft", "MouthRight")):
        i, j = names.index(left), names.index(right)
        names[i], names[j] = names[j], names[i]
    return names


# The 52 blendshape columns exactly as the app names and orders them.
LIVE_LINK_BLENDSHAPES = _live_link_blendshape_order()
LIVE_LINK_HEADER = ["Timecode", "BlendShapeCount"] + LIVE_LINK_BLENDSHAPES + LIVE_LINK_ROTATIONS


@dataclass
class MotionTake:
    """One captured take: speech audio and the facial motion recorded with it.

    samples: float32 mono in -1..1 at `sample_rate` (empty when the take has no audio).
    motion: float32 frames x channels at `fps`; frame k is the pose at time k / fps from
        the start of the audio.
    channels: one name per motion column. For space "arkit" these are `arkit.ARKIT_52`
        in that order; "rig": the capture rig's control names; "vertices": "v<i>.<x|y|z>",
        and motion is the offset from `template` (vertices x 3) flattened per frame.
    rotations / rotation_names: head and eye rotations (Live Link Face), frames x 9, kept
        separately from the blendshape weights; None when the source has none.
    meta: loader facts (moving channels, missing or ignored columns, dropped frames...).
    """
    samples: np.ndarray
    sample_rate: int
    motion: np.ndarray
    fps: float
    channels: List[str]
    space: str
    template: Optional[np.ndarray] = None
    source: str = ""
    take: str = ""
    speaker: str = ""
    rotations: Optional[np.ndarray] = None
    rotation_names: List[str] = field(default_factory=list)
    meta: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.space not in SPACES:
            raise ValueError(f"space must be one of {SPACES}, not {self.space!r}")
        if self.motion.ndim != 2 or self.motion.shape[1] != len(self.channels):
            raise ValueError(f"motion shape {self.motion.shape} does not match "
                             f"{len(self.channels)} channel names")
        if self.space == "vertices":
            if self.template is None or self.template.ndim != 2 or self.template.shape[1] != 3:
                raise ValueError("vertex takes need a template of shape (vertices, 3)")
            if self.motion.shape[1] != self.template.size:
                raise ValueError("vertex motion must have 3 x template-vertices columns")
        if self.rotations is not None and self.rotations.shape != (len(self.motion), len(self.rotation_names)):
            raise ValueError("rotations must be frames x len(rotation_names)")
        if self.fps <= 0:
            raise ValueError("fps must be positive")

    @property
    def num_frames(self) -> int:
        return int(self.motion.shape[0])

    @property
    def duration(self) -> float:
        """Duration of the motion in seconds."""
        return self.num_frames / self.fps

    @property
    def audio_duration(self) -> float:
        return len(self.samples) / self.sample_rate if self.sample_rate else 0.0

    def channel(self, name: str) -> np.ndarray:
        return self.motion[:, self.channels.index(name)]


# ----------------------------------------------------------------------------- helpers

def read_wav_mono(path: str) -> Tuple[np.ndarray, int]:
    """Read a WAV (or anything soundfile reads) as float32 mono in -1..1."""
    try:
        import soundfile
        data, rate = soundfile.read(path, dtype="float32", always_2d=True)
    except ImportError:
        from scipy.io import wavfile
        rate, data = wavfile.read(path)
        if data.dtype.kind == "i":
            data = data.astype(np.float32) / float(-np.iinfo(data.dtype).min)
        elif data.dtype.kind == "u":
            data = (data.astype(np.float32) - 128.0) / 128.0
        data = np.asarray(data, dtype=np.float32)
        if data.ndim == 1:
            data = data[:, None]
    samples = data.mean(axis=1).astype(np.float32)
    return samples, int(rate)


def load_npy(path: str, pickle_fallback: bool = True) -> np.ndarray:
    """np.load without pickles where possible. Files saved by Python 2 numpy (header
    `'shape': (1472L, 116L)`) load fine that way; numpy's warning about them is
    silenced. Only an object array needs pickles; then, if `pickle_fallback`, it is
    loaded with encoding='latin1' (Python 2 strings) and converted to float64. Pickles
    can run code: only use the fallback on files you trust."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*created on Python 2.*")
        try:
            return np.load(path, allow_pickle=False)
        except ValueError as error:
            if not pickle_fallback or "allow_pickle" not in str(error):
                raise
            array = np.load(path, allow_pickle=True, encoding="latin1")
    return np.asarray(array.tolist() if array.dtype == object else array, dtype=np.float64)


def moving_channels(motion: np.ndarray, channels: Sequence[str],
                    threshold: float = MOVING_THRESHOLD) -> List[str]:
    """Names of the channels whose range (max - min) exceeds `threshold`."""
    if len(motion) == 0:
        return []
    span = motion.max(axis=0) - motion.min(axis=0)
    return [name for name, s in zip(channels, span) if s > threshold]


def frame_rms(samples: np.ndarray, sample_rate: int, fps: float, num_frames: int,
              window: float = 1.0) -> np.ndarray:
    """RMS of the audio around each motion frame: frame k is the pose at time k / fps, so
    its window is centred there and is `window` frame periods long (exact, non-integer
    hops; clipped at the ends of the audio)."""
    samples = np.asarray(samples, dtype=np.float64)
    power = np.concatenate([[0.0], np.cumsum(samples * samples)])
    centres = np.arange(num_frames) / fps * sample_rate
    half = 0.5 * window / fps * sample_rate
    lo = np.clip(np.round(centres - half).astype(np.int64), 0, len(samples))
    hi = np.clip(np.round(centres + half).astype(np.int64), 0, len(samples))
    count = np.maximum(hi - lo, 1)
    return np.sqrt((power[hi] - power[lo]) / count).astype(np.float32)


# ----------------------------------------------------------------------------- FACEGOOD

def load_facegood(directory: str, tolerance_frames: float = 2.0) -> List[MotionTake]:
    """Load every FACEGOOD take in `directory` (one `MotionTake` per `bs_value_<take>.npy`
    with its `<take>.wav`), sorted by take id.

    Checks: 116-column float arrays matching channels.txt, finite values, an audio file
    for every take, and frames == audio duration x 30 within `tolerance_frames`
    (ValueError otherwise). meta["moving_channels"] lists the controls that move in the
    take (range > MOVING_THRESHOLD); meta["frame_mismatch"] is frames - duration x 30.
    """
    channels_path = os.path.join(directory, "channels.txt")
    if not os.path.isfile(channels_path):
        raise FileNotFoundError(f"{channels_path} is missing")
    with open(channels_path, encoding="utf-8") as f:
        channels = [line.strip() for line in f if line.strip()]
    if len(set(channels)) != len(channels):
        raise ValueError(f"{channels_path} has duplicate channel names")

    names = sorted(n for n in os.listdir(directory)
                   if n.startswith("bs_value_") and n.endswith(".npy"))
    if not names:
        raise FileNotFoundError(f"no bs_value_*.npy takes in {directory}")
    takes = []
    for name in names:
        take_id = name[len("bs_value_"):-len(".npy")]
        npy_path = os.path.join(directory, name)
        wav_path = os.path.join(directory, take_id + ".wav")
        if not os.path.isfile(wav_path):
            raise FileNotFoundError(f"take {take_id}: {wav_path} is missing")
        motion = load_npy(npy_path)
        if motion.ndim != 2 or motion.shape[1] != len(channels):
            raise ValueError(f"take {take_id}: array shape {motion.shape}, expected "
                             f"(frames, {len(channels)}) to match channels.txt")
        if not np.all(np.isfinite(motion)):
            raise ValueError(f"take {take_id}: non-finite rig values")
        samples, rate = read_wav_mono(wav_path)
        expected = len(samples) / rate * FACEGOOD_FPS
        mismatch = len(motion) - expected
        if abs(mismatch) > tolerance_frames:
            raise ValueError(f"take {take_id}: {len(motion)} motion frames but the audio lasts "
                             f"{expected:.2f} frames at {FACEGOOD_FPS:g} fps "
                             f"(tolerance {tolerance_frames:g})")
        motion = motion.astype(np.float32)
        takes.append(MotionTake(
            samples=samples, sample_rate=rate, motion=motion, fps=FACEGOOD_FPS,
            channels=list(channels), space="rig", source=npy_path, take=take_id,
            speaker="facegood",
            meta={"audio_path": wav_path, "frame_mismatch": float(mismatch),
                  "moving_channels": moving_channels(motion, channels)}))
    return takes


# ----------------------------------------------------------------------------- Live Link Face

_TIMECODE = re.compile(r"^\s*(\d+):(\d+):(\d+)[:;](\d+(?:\.\d*)?)\s*$")
# The frame part of a timecode counts this many per second at every recording rate.
TIMECODE_FPS = 60
# Row rates a take may have; 60 is the app's default (a take of one row).
_CANDIDATE_FPS = (60, 30, 50, 25, 24, 120, 48)


def parse_timecode(text: str) -> Tuple[int, int, int, float]:
    """'hh:mm:ss:ff.fff' -> (hours, minutes, seconds, fractional frames)."""
    match = _TIMECODE.match(text)
    if not match:
        raise ValueError(f"malformed Live Link Face timecode {text!r} (expected hh:mm:ss:ff.fff)")
    h, m, s, ff = match.groups()
    return int(h), int(m), int(s), float(ff)


def _timecode_seconds(parts: Sequence[Tuple[int, int, int, float]]) -> np.ndarray:
    t = np.array([h * 3600 + m * 60 + s + ff / TIMECODE_FPS for h, m, s, ff in parts], dtype=np.float64)
    # A take running past midnight wraps to 00:00:00.
    wraps = np.concatenate([[0], np.cumsum(np.diff(t) < -12 * 3600)])
    return t + wraps * 86400.0


def _infer_row_fps(times: np.ndarray) -> float:
    """The recording rate: the candidate rate nearest 1 / (median step between rows),
    within 5 %. Dropped frames make a few steps longer, not the median."""
    if len(times) < 2:
        return float(_CANDIDATE_FPS[0])
    step = float(np.median(np.diff(times)))
    if step > 0:
        for fps in sorted(_CANDIDATE_FPS, key=lambda f: abs(f * step - 1)):
            if abs(fps * step - 1) <= 0.05:
                return float(fps)
    raise ValueError(f"cannot infer the recording rate from the timecodes (median step {step * 1000:.1f} ms); "
                     f"pass fps=")


def load_live_link_csv(csv_path: str, wav_path: Optional[str] = None,
                       fps: Optional[float] = None) -> MotionTake:
    """Load a Live Link Face CSV as an "arkit" MotionTake (motion columns in ARKIT_52 order).

    Columns are matched by name, case-insensitively; unknown columns are ignored
    (meta["ignored_columns"]) and ARKit channels absent from the file are zero
    (meta["missing_channels"]). The rate comes from the timecodes unless `fps` is given.
    Rows must have increasing timecodes; gaps (dropped frames) are filled by linear
    interpolation onto the uniform grid t0 + k / fps (meta["dropped_frames"]). The
    rotations (HeadYaw ... RightEyeRoll, as written by the app) go to `rotations`.
    The WAV, if given, is assumed to start at the first row's timecode.
    """
    with open(csv_path, newline="", encoding="utf-8-sig") as f:
        rows = [row for row in csv.reader(f) if row and any(cell.strip() for cell in row)]
    if len(rows) < 2:
        raise ValueError(f"{csv_path}: no data rows")
    header = [cell.strip() for cell in rows[0]]
    lower = [h.lower() for h in header]
    if "timecode" not in lower:
        raise ValueError(f"{csv_path}: no Timecode column (not a Live Link Face CSV?)")
    time_col = lower.index("timecode")

    arkit_lower = {n.lower(): i for i, n in enumerate(ARKIT_52)}
    rot_lower = {n.lower(): i for i, n in enumerate(LIVE_LINK_ROTATIONS)}
    shape_cols: Dict[int, int] = {}
    rot_cols: Dict[int, int] = {}
    ignored = []
    for col, key in enumerate(lower):
        if col == time_col or key == "blendshapecount":
            continue
        if key in arkit_lower and arkit_lower[key] not in shape_cols.values():
            shape_cols[col] = arkit_lower[key]
        elif key in rot_lower and rot_lower[key] not in rot_cols.values():
            rot_cols[col] = rot_lower[key]
        else:
            ignored.append(header[col])
    if not shape_cols:
        raise ValueError(f"{csv_path}: no ARKit blendshape columns in the header")

    body = rows[1:]
    parts, weights = [], np.zeros((len(body), len(ARKIT_52)), dtype=np.float64)
    rotations = np.zeros((len(body), len(LIVE_LINK_ROTATIONS)), dtype=np.float64)
    for r, row in enumerate(body):
        if len(row) < len(header):
            raise ValueError(f"{csv_path}: row {r + 2} has {len(row)} columns, the header {len(header)}")
        parts.append(parse_timecode(row[time_col]))
        try:
            for col, k in shape_cols.items():
                weights[r, k] = float(row[col])
            for col, k in rot_cols.items():
                rotations[r, k] = float(row[col])
        except ValueError as error:
            raise ValueError(f"{csv_path}: row {r + 2}: {error}") from None
    if not (np.all(np.isfinite(weights)) and np.all(np.isfinite(rotations))):
        raise ValueError(f"{csv_path}: non-finite values")

    times = _timecode_seconds(parts)
    if np.any(np.diff(times) <= 0):
        raise ValueError(f"{csv_path}: timecodes do not increase")
    if fps is None:
        fps = _infer_row_fps(times)
    relative = (times - times[0]) * fps
    num_frames = int(np.round(relative[-1])) + 1
    dropped = num_frames - len(body)
    if dropped > 0 or np.max(np.abs(relative - np.round(relative))) > 1e-3:
        grid = np.arange(num_frames, dtype=np.float64)
        weights = np.stack([np.interp(grid, relative, w) for w in weights.T], axis=1)
        rotations = np.stack([np.interp(grid, relative, w) for w in rotations.T], axis=1)

    if wav_path is not None:
        samples, rate = read_wav_mono(wav_path)
    else:
        samples, rate = np.zeros(0, dtype=np.float32), 0
    h, m, s, ff = parts[0]
    base = os.path.splitext(os.path.basename(csv_path))[0]
    return MotionTake(
        samples=samples, sample_rate=rate, motion=weights.astype(np.float32), fps=float(fps),
        channels=list(ARKIT_52), space="arkit", source=csv_path, take=base,
        speaker=_live_link_subject(base),
        rotations=rotations.astype(np.float32) if rot_cols else None,
        rotation_names=list(LIVE_LINK_ROTATIONS) if rot_cols else [],
        meta={"start_timecode": f"{h:02d}:{m:02d}:{s:02d}:{ff:06.3f}",
              "start_seconds": float(times[0]),
              "dropped_frames": int(max(dropped, 0)),
              "missing_channels": [n for i, n in enumerate(ARKIT_52) if i not in shape_cols.values()],
              "ignored_columns": ignored,
              "audio_path": wav_path})


def _live_link_subject(base: str) -> str:
    """The app names takes <Slate>_<Take>_<Subject>[_cal|_raw|_neutral]; like Epic's
    importer, drop the suffix, the slate and everything up to the first numeric token (the
    take). Falls back to the whole name."""
    for suffix in ("_cal", "_raw", "_neutral"):
        if base.endswith(suffix):
            base = base[: -len(suffix)]
    tokens = base.split("_")
    if len(tokens) >= 3:
        rest = tokens[1:]
        while rest:
            numeric = rest.pop(0).isdigit()
            if numeric:
                break
        if rest:
            return "_".join(rest)
    return base


def format_timecode(seconds: float, fps: int = TIMECODE_FPS) -> str:
    """Seconds -> 'hh:mm:ss:ff.fff' with ff counting 1/`fps` s (0..fps-1, three decimals;
    the app's files count 60ths at every recording rate)."""
    ticks = int(round(seconds * fps * 1000))  # thousandths of a frame
    per_second = fps * 1000
    whole, rest = divmod(ticks, per_second)
    h, rem = divmod(whole, 3600)
    m, s = divmod(rem, 60)
    return f"{h % 24:02d}:{m:02d}:{s:02d}:{rest // 1000:02d}.{rest % 1000:03d}"


def write_live_link_csv(path: str, weights: np.ndarray, fps: int,
                        names: Sequence[str] = ARKIT_52,
                        start_timecode: Union[str, float] = "00:00:00:00.000",
                        rotations: Optional[np.ndarray] = None) -> None:
    """Write weights (frames x len(names), ARKit channel names) as a Live Link Face CSV
    with the app's exact header (LIVE_LINK_HEADER: 61 value columns, JawRight/JawLeft and
    MouthRight/MouthLeft in the app's order). Channels not in `names` are written as 0;
    `rotations` (frames x 9, LIVE_LINK_ROTATIONS order) default to 0. `start_timecode` is
    a 'hh:mm:ss:ff.fff' string (ff in 60ths of a second, as the app writes at every rate) or
    seconds since midnight; row k is stamped start + k / fps. Values are written with 9
    significant digits, so float32 round-trips exactly (the app and the engine write 10
    decimals; readers take either)."""
    weights = np.asarray(weights, dtype=np.float64)
    if weights.ndim != 2 or weights.shape[1] != len(names):
        raise ValueError(f"weights shape {weights.shape} does not match {len(names)} names")
    if not np.all(np.isfinite(weights)):
        raise ValueError("non-finite weights")
    if abs(fps - round(fps)) > 1e-9 or fps <= 0:
        raise ValueError("Live Link Face timecodes need a positive integer fps")
    fps = int(round(fps))
    index = {n.lower(): i for i, n in enumerate(ARKIT_52)}
    full = np.zeros((len(weights), len(ARKIT_52)))
    for j, name in enumerate(names):
        if name.lower() not in index:
            raise ValueError(f"{name!r} is not an ARKit blendshape name")
        full[:, index[name.lower()]] = weights[:, j]
    if rotations is None:
        rotations = np.zeros((len(weights), len(LIVE_LINK_ROTATIONS)))
    rotations = np.asarray(rotations, dtype=np.float64)
    if rotations.shape != (len(weights), len(LIVE_LINK_ROTATIONS)):
        raise ValueError(f"rotations must be frames x {len(LIVE_LINK_ROTATIONS)}")
    if isinstance(start_timecode, str):
        h, m, s, ff = parse_timecode(start_timecode)
        if ff >= TIMECODE_FPS:
            raise ValueError(f"start timecode frame {ff:g} is not below {TIMECODE_FPS}")
        start = h * 3600 + m * 60 + s + ff / TIMECODE_FPS
    else:
        start = float(start_timecode)
    order = [index[n.lower()] for n in LIVE_LINK_BLENDSHAPES]
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(LIVE_LINK_HEADER)
        start_frames = start * fps
        for k in range(len(weights)):
            stamp = format_timecode((start_frames + k) / fps)
            values = [f"{v:.9g}" for v in full[k, order]] + [f"{v:.9g}" for v in rotations[k]]
            writer.writerow([stamp, str(len(LIVE_LINK_BLENDSHAPES) + len(LIVE_LINK_ROTATIONS))] + values)


# ----------------------------------------------------------------------------- vertex sequences

def read_obj_vertices(path: str) -> np.ndarray:
    """Vertex positions ('v x y z [w | r g b]' lines) of a Wavefront OBJ, V x 3 float64."""
    vertices = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for number, line in enumerate(f, 1):
            if line.startswith("v ") or line.startswith("v\t"):
                fields = line.split()
                if len(fields) < 4:
                    raise ValueError(f"{path}:{number}: vertex line with fewer than 3 coordinates")
                vertices.append([float(x) for x in fields[1:4]])
    if not vertices:
        raise ValueError(f"{path}: no vertices")
    return np.array(vertices, dtype=np.float64)


_PLY_TYPES = {"char": "i1", "int8": "i1", "uchar": "u1", "uint8": "u1", "short": "i2",
              "int16": "i2", "ushort": "u2", "uint16": "u2", "int": "i4", "int32": "i4",
              "uint": "u4", "uint32": "u4", "float": "f4", "float32": "f4", "double": "f8",
              "float64": "f8"}


def read_ply_vertices(path: str) -> np.ndarray:
    """x, y, z of the `vertex` element of a PLY (ascii or binary), V x 3 float64. The vertex
    element must come first or follow only fixed-size elements (the usual layout)."""
    with open(path, "rb") as f:
        if f.readline().strip() != b"ply":
            raise ValueError(f"{path}: not a PLY file")
        fmt, elements = None, []
        while True:
            line = f.readline()
            if not line:
                raise ValueError(f"{path}: PLY header has no end_header")
            words = line.decode("ascii", "replace").split()
            if not words or words[0] in ("comment", "obj_info"):
                continue
            if words[0] == "format":
                fmt = words[1]
            elif words[0] == "element":
                elements.append((words[1], int(words[2]), []))
            elif words[0] == "property":
                if not elements:
                    raise ValueError(f"{path}: property before any element")
                if words[1] == "list":
                    elements[-1][2].append((words[4], None))
                elif words[1] in _PLY_TYPES:
                    elements[-1][2].append((words[2], _PLY_TYPES[words[1]]))
                else:
                    raise ValueError(f"{path}: unknown PLY property type {words[1]!r}")
            elif words[0] == "end_header":
                break
        body = f.read()
    names = [e[0] for e in elements]
    if "vertex" not in names:
        raise ValueError(f"{path}: no vertex element")
    _, count, props = elements[names.index("vertex")]
    prop_names = [p[0] for p in props]
    if not all(axis in prop_names for axis in "xyz"):
        raise ValueError(f"{path}: vertex element lacks x, y or z")
    if fmt == "ascii":
        if any(t is None for _, t in props):
            raise ValueError(f"{path}: list properties in the vertex element are not supported")
        lines = body.decode("ascii", "replace").splitlines()
        skip = sum(e[1] for e in elements[:names.index("vertex")])
        rows = [line.split() for line in lines[skip:skip + count]]
        if len(rows) < count or any(len(r) < len(props) for r in rows):
            raise ValueError(f"{path}: truncated vertex data")
        table = np.array([[float(x) for x in r[:len(props)]] for r in rows])
        return table[:, [prop_names.index(a) for a in "xyz"]].astype(np.float64)
    if fmt not in ("binary_little_endian", "binary_big_endian"):
        raise ValueError(f"{path}: unknown PLY format {fmt!r}")
    endian = "<" if fmt == "binary_little_endian" else ">"
    offset = 0
    for name, n, element_props in elements:
        if any(t is None for _, t in element_props):
            raise ValueError(f"{path}: list properties in or before the vertex element are not supported")
        dtype = np.dtype([(p, endian + t) for p, t in element_props])
        if name != "vertex":
            offset += dtype.itemsize * n
            continue
        if len(body) < offset + dtype.itemsize * n:
            raise ValueError(f"{path}: truncated vertex data")
        table = np.frombuffer(body, dtype=dtype, count=n, offset=offset)
        return np.stack([table[a].astype(np.float64) for a in "xyz"], axis=1)
    raise AssertionError("unreachable: the vertex element exists")


def load_template(path: str) -> np.ndarray:
    """A template mesh as V x 3 float64: .npy (V x 3 or 3V), .obj or .ply."""
    ext = os.path.splitext(path)[1].lower()
    if ext == ".npy":
        array = load_npy(path)
        if array.ndim == 1 and array.size % 3 == 0:
            array = array.reshape(-1, 3)
        if array.ndim != 2 or array.shape[1] != 3:
            raise ValueError(f"{path}: template shape {array.shape}, expected (vertices, 3)")
        return array.astype(np.float64)
    if ext == ".obj":
        return read_obj_vertices(path)
    if ext == ".ply":
        return read_ply_vertices(path)
    raise ValueError(f"{path}: unsupported template format {ext!r} (use .npy, .obj or .ply)")


def load_vertex_sequence(npy_path: str, template: Union[str, np.ndarray], wav_path: Optional[str],
                         fps: float, tolerance_frames: Optional[float] = 2.0,
                         take: str = "", speaker: str = "") -> MotionTake:
    """Load a VOCASET/BIWI-style vertex take: `npy_path` holds frames x V x 3 (or
    frames x 3V) positions at `fps`; `template` is the speaker's neutral mesh (a path to
    .npy/.obj/.ply, or a V x 3 array). Returns space "vertices" with motion = positions -
    template, flattened to frames x 3V float32 (x, y, z per vertex).

    Errors (ValueError): vertex count mismatch, NaN/inf in sequence or template, an empty
    sequence, a sequence that is not in the template's frame/scale (median vertex offset
    over a quarter of the template's bounding-box diagonal, e.g. mm vs m), and, when
    `tolerance_frames` is not None and there is audio, frames differing from audio
    duration x fps by more than that."""
    sequence = load_npy(npy_path)
    if isinstance(template, str):
        template_path = template
        template = load_template(template)
    else:
        template_path = ""
        template = np.asarray(template, dtype=np.float64)
        if template.ndim != 2 or template.shape[1] != 3:
            raise ValueError(f"template shape {template.shape}, expected (vertices, 3)")
    vertices = template.shape[0]
    if sequence.ndim == 2 and sequence.shape[1] % 3 == 0:
        sequence = sequence.reshape(len(sequence), -1, 3)
    if sequence.ndim != 3 or sequence.shape[2] != 3:
        raise ValueError(f"{npy_path}: sequence shape {sequence.shape}, expected (frames, vertices, 3)")
    if len(sequence) == 0:
        raise ValueError(f"{npy_path}: empty sequence")
    if sequence.shape[1] != vertices:
        raise ValueError(f"vertex count mismatch: sequence has {sequence.shape[1]} vertices, "
                         f"template {vertices}")
    if not np.all(np.isfinite(template)):
        raise ValueError("template has NaN or infinite coordinates")
    bad = ~np.all(np.isfinite(sequence), axis=(1, 2))
    if np.any(bad):
        raise ValueError(f"{npy_path}: NaN or infinite positions in {int(bad.sum())} frame(s), "
                         f"first at frame {int(np.argmax(bad))}")
    offsets = sequence - template[None]
    diagonal = float(np.linalg.norm(template.max(axis=0) - template.min(axis=0)))
    typical = float(np.median(np.linalg.norm(offsets, axis=2)))
    if diagonal > 0 and typical > 0.25 * diagonal:
        raise ValueError(f"sequence does not fit the template: median vertex offset {typical:.4g} "
                         f"vs template size {diagonal:.4g} (different units or alignment?)")

    if wav_path is not None:
        samples, rate = read_wav_mono(wav_path)
        mismatch = len(sequence) - len(samples) / rate * fps
        if tolerance_frames is not None and abs(mismatch) > tolerance_frames:
            raise ValueError(f"{npy_path}: {len(sequence)} frames but the audio lasts "
                             f"{len(samples) / rate * fps:.2f} frames at {fps:g} fps")
    else:
        samples, rate, mismatch = np.zeros(0, dtype=np.float32), 0, None
    channels = [f"v{i}.{axis}" for i in range(vertices) for axis in "xyz"]
    return MotionTake(
        samples=samples, sample_rate=rate,
        motion=offsets.reshape(len(sequence), -1).astype(np.float32), fps=float(fps),
        channels=channels, space="vertices", template=template.astype(np.float32),
        source=npy_path, take=take or os.path.splitext(os.path.basename(npy_path))[0],
        speaker=speaker,
        meta={"template_path": template_path, "audio_path": wav_path,
              "frame_mismatch": mismatch})
