"""Loaders for VOCASET and BIWI as speech-driven 3D face animation research prepares them
(FaceFormer's layout, also used by CodeTalker and most later work), returning the
project's `capture.MotionTake` (space "vertices": motion = positions - the subject's
template, frames x 3V float32, channels "v0.x", "v0.y", "v0.z", "v1.x", ...).

VOCASET (`load_vocaset`), as FaceFormer's `vocaset/process_voca_data.py` writes it:

    <root>/wav/<Subject>_<sentenceNN>.wav        e.g. FaceTalk_170725_00137_TA_sentence01.wav
    <root>/vertices_npy/<same stem>.npy          frames x 15069 (5023 x 3) float, 60 fps
    <root>/templates.pkl                         pickle: dict subject -> (5023, 3) array, metres
    <root>/FLAME_masks.pkl                       optional pickle: dict region -> vertex indices
                                                 ("lips", "forehead", "eye_region", ...)

  FaceFormer keeps every 2nd frame (`[::2]`), i.e. 30 fps: `frame_stride` (default 2)
  does the same, starting at frame 0, and the takes report 60 / frame_stride fps. With
  FLAME_masks.pkl the lip vertices are masks["lips"] and the upper-face vertices the
  union of masks["forehead"] and masks["eye_region"] (CodeTalker's LVE / FDD regions).

BIWI (`load_biwi`), FaceFormer's layout:

    <root>/wav/<Subject>_<eNN>.wav               e.g. F2_e01.wav (F2_01.wav is read as sentence 1 too)
    <root>/vertices_npy/<same stem>.npy          frames x 70110 (23370 x 3) float, 25 fps
    <root>/templates.pkl                         pickle: dict subject -> (23370, 3) array
    <root>/regions/lve.txt                       optional: lip vertex indices
    <root>/regions/fdd.txt                       optional: upper-face vertex indices

  Region files hold integers separated by commas, spaces or newlines (CodeTalker writes
  "1, 2, 3"). FaceFormer's BIWI meshes are not in metres or millimetres: each subject was
  rescaled (about 1/180 to 1/200 of the capture's millimetres, FaceFormer issue #45), so
  the units recorded default to "normalised".

A take is `<root>/vertices_npy/<stem>.npy` with `<root>/wav/<stem>.wav`; the subject is
the stem without its last `_<part>` (`FaceTalk_170725_00137_TA` from
`FaceTalk_170725_00137_TA_sentence01`, `F2` from `F2_e01`), the sentence number the digits
that end the stem (as FaceFormer's `int(name[-2:])`). MotionTake.speaker is the subject,
MotionTake.take the stem, MotionTake.template templates[subject].

Splits are FaceFormer's (`data_loader.py` and its README commands): VOCASET 8 training
subjects with sentences 1-40, 2 validation and 2 test subjects with sentences 21-40;
BIWI subjects F2 F3 F4 M3 M4 M5 in every split, sentences 1-32 / 33-36 / 37-40 (the
"BIWI-Test-A" protocol; `BIWI_TEST_B_SUBJECTS` are the 8 unseen subjects of Test-B).

Per-file problems (an npy without its wav, a vertex count unlike the template's, motion
and audio durations apart by more than `tolerance_frames`, NaN, a subject without a
template, a name that is not `<Subject>_<sentence>`, a pickled object .npy) skip the file
into `VertexDataset.skipped` with the reason. A missing root, templates.pkl, wav/ or
vertices_npy/ folder, or no usable take at all, raise (FileNotFoundError / ValueError)
naming the path and the layout.

templates.pkl and FLAME_masks.pkl are pickles (VOCA's are Python 2 pickles): they are
read with `load_pickle`, an unpickler that only builds numpy arrays, dicts, lists and
scalars and refuses any other global (pickles can otherwise run code), with
encoding="latin1". A .npy holding a pickled object array is refused too.

Memory: every take is loaded (audio and motion as float32), as FaceFormer does: about
7 MB per VOCASET sentence at 30 fps, about 30 MB per BIWI sentence. Takes of one dataset
share one channel-name list per vertex count; do not mutate it.
"""
from __future__ import annotations

import collections
import dataclasses
import importlib
import os
import pickle
import re
import warnings
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np

from .capture import MotionTake, load_vertex_sequence

SPLITS = ("train", "val", "test")

VOCASET_SOURCE_FPS = 60.0
VOCASET_FRAME_STRIDE = 2            # FaceFormer's [::2]: 30 fps
VOCASET_TOLERANCE_FRAMES = 6.0      # at the output rate: 0.2 s at 30 fps
BIWI_FPS = 25.0
BIWI_TOLERANCE_FRAMES = 5.0         # 0.2 s at 25 fps

VOCASET_SUBJECTS: Dict[str, Tuple[str, ...]] = {
    "train": ("FaceTalk_170728_03272_TA", "FaceTalk_170904_00128_TA", "FaceTalk_170725_00137_TA",
              "FaceTalk_170915_00223_TA", "FaceTalk_170811_03274_TA", "FaceTalk_170913_03279_TA",
              "FaceTalk_170904_03276_TA", "FaceTalk_170912_03278_TA"),
    "val": ("FaceTalk_170811_03275_TA", "FaceTalk_170908_03277_TA"),
    "test": ("FaceTalk_170809_00138_TA", "FaceTalk_170731_00024_TA"),
}
VOCASET_SENTENCES: Dict[str, range] = {"train": range(1, 41), "val": range(21, 41), "test": range(21, 41)}

_BIWI_A = ("F2", "F3", "F4", "M3", "M4", "M5")
BIWI_SUBJECTS: Dict[str, Tuple[str, ...]] = {"train": _BIWI_A, "val": _BIWI_A, "test": _BIWI_A}
BIWI_SENTENCES: Dict[str, range] = {"train": range(1, 33), "val": range(33, 37), "test": range(37, 41)}
BIWI_TEST_B_SUBJECTS = ("F1", "F5", "F6", "F7", "F8", "M1", "M2", "M6")

VOCASET_LAYOUT = ("<root>/wav/<Subject>_sentenceNN.wav, <root>/vertices_npy/<Subject>_sentenceNN.npy "
                  "(frames x 15069 at 60 fps), <root>/templates.pkl (subject -> (5023, 3)), "
                  "optional <root>/FLAME_masks.pkl")
BIWI_LAYOUT = ("<root>/wav/<Subject>_eNN.wav, <root>/vertices_npy/<Subject>_eNN.npy (frames x 70110 at 25 fps), "
               "<root>/templates.pkl (subject -> (23370, 3)), optional <root>/regions/lve.txt and fdd.txt")


@dataclass
class VertexDataset:
    """A loaded dataset.

    name: "vocaset" or "biwi"; root: the folder given; fps: the takes' frame rate.
    takes: one MotionTake per usable file, sorted by take name.
    templates: subject -> (V, 3) float64 neutral mesh, every valid one in templates.pkl
        (scaled like the takes).
    lip_vertices / upper_face_vertices: int64 vertex indices for LVE / FDD, None when the
        dataset folder has no region file.
    skipped: (file relative to root, reason) for each file of the selection not loaded.
    split: the split asked for (None: every file); units: the takes' units.
    """
    name: str
    root: str
    fps: float
    takes: List[MotionTake]
    templates: Dict[str, np.ndarray]
    lip_vertices: Optional[np.ndarray] = None
    upper_face_vertices: Optional[np.ndarray] = None
    skipped: List[Tuple[str, str]] = field(default_factory=list)
    split: Optional[str] = None
    units: str = ""

    @property
    def subjects(self) -> List[str]:
        """The subjects with at least one take, sorted."""
        return sorted({t.speaker for t in self.takes})


# ----------------------------------------------------------------------------- safe pickles

def _numpy_core(submodule: str):
    """numpy._core.<submodule> (numpy 2) or numpy.core.<submodule> (numpy 1)."""
    for base in ("numpy._core", "numpy.core"):
        try:
            return importlib.import_module(f"{base}.{submodule}")
        except ImportError:
            continue
    raise ImportError(f"numpy has no core.{submodule}")


def _latin1_encode(text, encoding="utf-8", errors="strict"):
    """`_codecs.encode` as Python 3 pickles (protocol < 3) use it for bytes, limited to latin-1."""
    if str(encoding).lower().replace("_", "-") not in ("latin1", "latin-1", "iso-8859-1"):
        raise ValueError(f"refuses _codecs.encode with encoding {encoding!r}: only latin-1 is allowed")
    return text.encode("latin-1", errors)


class _UnsafePickle(ValueError):
    pass


class _ArraysOnlyUnpickler(pickle.Unpickler):
    """Resolves only the globals numpy arrays are pickled with (Python 2 and 3, protocols
    0-5, numpy 1 and 2 module names); everything else raises."""

    _NUMPY_CORE = {("multiarray", "_reconstruct"), ("multiarray", "scalar"), ("numeric", "_frombuffer")}

    def find_class(self, module, name):
        prefix, _, submodule = module.rpartition(".")
        if prefix in ("numpy.core", "numpy._core") and (submodule, name) in self._NUMPY_CORE:
            return getattr(_numpy_core(submodule), name)
        if module == "numpy" and name in ("ndarray", "dtype"):
            return getattr(np, name)
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if (module, name) == ("_codecs", "encode"):
            return _latin1_encode
        raise _UnsafePickle(f"refuses to unpickle {module}.{name}: only numpy arrays are allowed")


def load_pickle(path: str):
    """Unpickle `path` (encoding="latin1", for Python 2 pickles) allowing only numpy arrays,
    numpy scalars and plain containers (dict, list, tuple, OrderedDict, str, numbers).
    Any other global, which could run code, raises ValueError("<path>: refuses to
    unpickle <module>.<name>: only numpy arrays are allowed")."""
    with open(path, "rb") as f:
        try:
            return _ArraysOnlyUnpickler(f, encoding="latin1").load()
        except _UnsafePickle as error:
            raise ValueError(f"{path}: {error}") from None
        except (pickle.UnpicklingError, EOFError, AttributeError, ImportError, IndexError,
                TypeError, ValueError) as error:
            raise ValueError(f"{path}: not a readable pickle of numpy arrays ({error})") from None


# ----------------------------------------------------------------------------- helpers

def split_stem(stem: str) -> Optional[Tuple[str, Optional[int]]]:
    """'FaceTalk_170725_00137_TA_sentence01' -> ('FaceTalk_170725_00137_TA', 1);
    'F2_e01' -> ('F2', 1); a stem without '_' -> None. The sentence is None when the stem
    does not end in digits."""
    subject, sep, part = stem.rpartition("_")
    if not sep or not subject or not part:
        return None
    digits = re.search(r"(\d+)$", part)
    return subject, int(digits.group(1)) if digits else None


def _load_templates(path: str) -> Tuple[Dict[str, np.ndarray], Dict[str, str]]:
    """templates.pkl -> ({subject: (V, 3) float64}, {subject: why its template is unusable})."""
    data = load_pickle(path)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a dict subject -> (vertices, 3) array, found {type(data).__name__}")
    templates, problems = {}, {}
    for key, value in data.items():
        key = key.decode("latin-1") if isinstance(key, bytes) else str(key)
        try:
            array = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            problems[key] = f"the template of {key} in templates.pkl is not numeric"
            continue
        if array.ndim == 1 and array.size % 3 == 0:
            array = array.reshape(-1, 3)
        if array.ndim != 2 or array.shape[1] != 3 or len(array) == 0:
            problems[key] = f"the template of {key} in templates.pkl has shape {array.shape}, expected (vertices, 3)"
        elif not np.all(np.isfinite(array)):
            problems[key] = f"the template of {key} in templates.pkl has NaN or infinite coordinates"
        else:
            templates[key] = array
    if not templates and not problems:
        raise ValueError(f"{path}: no templates in the file")
    return templates, problems


def _indices(values, source: str, vertex_count: Optional[int]) -> np.ndarray:
    """Vertex indices as a 1-D int64 array, checked against 0..vertex_count-1."""
    array = np.asarray(values).reshape(-1)
    if array.size == 0:
        raise ValueError(f"{source}: no vertex indices")
    if array.dtype.kind == "f":
        if not np.all(np.isfinite(array)) or np.any(array != np.round(array)):
            raise ValueError(f"{source}: vertex indices must be integers")
    elif array.dtype.kind not in "iu":
        raise ValueError(f"{source}: vertex indices must be integers, found {array.dtype}")
    array = array.astype(np.int64)
    if array.min() < 0 or (vertex_count is not None and array.max() >= vertex_count):
        raise ValueError(f"{source}: vertex indices outside 0..{(vertex_count or 1) - 1}")
    return array


def read_index_file(path: str, vertex_count: Optional[int] = None) -> np.ndarray:
    """A region file (BIWI's regions/lve.txt, fdd.txt): integers separated by commas,
    whitespace or newlines (brackets ignored) -> int64 array."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    tokens = [t for t in re.split(r"[\s,;\[\]]+", text) if t]
    try:
        values = [int(t) for t in tokens]
    except ValueError:
        bad = next(t for t in tokens if not re.fullmatch(r"[+-]?\d+", t))
        raise ValueError(f"{path}: {bad!r} is not a vertex index (expected integers separated by "
                         f"commas, spaces or newlines)") from None
    return _indices(np.array(values, dtype=np.int64), path, vertex_count)


def _flame_regions(path: str, vertex_count: Optional[int]) -> Tuple[np.ndarray, np.ndarray]:
    """FLAME_masks.pkl -> (lips, forehead U eye_region)."""
    masks = load_pickle(path)
    if not isinstance(masks, dict):
        raise ValueError(f"{path}: expected a dict region -> vertex indices, found {type(masks).__name__}")
    masks = {k.decode("latin-1") if isinstance(k, bytes) else str(k): v for k, v in masks.items()}
    missing = [k for k in ("lips", "forehead", "eye_region") if k not in masks]
    if missing:
        raise ValueError(f"{path}: no {', '.join(missing)} region (has {', '.join(sorted(masks))})")
    lips = _indices(masks["lips"], f"{path}['lips']", vertex_count)
    upper = np.union1d(_indices(masks["forehead"], f"{path}['forehead']", vertex_count),
                       _indices(masks["eye_region"], f"{path}['eye_region']", vertex_count))
    return lips, upper.astype(np.int64)


def _npy_holds_objects(path: str) -> bool:
    """True when the .npy header declares a dtype with Python objects (a pickle)."""
    with open(path, "rb") as f, warnings.catch_warnings():
        warnings.filterwarnings("ignore")
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            _, _, dtype = np.lib.format.read_array_header_1_0(f)
        else:
            _, _, dtype = np.lib.format.read_array_header_2_0(f)
    return bool(dtype.hasobject)


def _visible(folder: str, extension: str) -> List[str]:
    return sorted(n for n in os.listdir(folder) if n.lower().endswith(extension) and not n.startswith("."))


# ----------------------------------------------------------------------------- loaders

def _load(name: str, layout: str, root: str, split: Optional[str], subjects: Optional[Iterable[str]],
          split_subjects: Dict[str, Tuple[str, ...]], split_sentences: Dict[str, range],
          source_fps: float, frame_stride: int, tolerance_frames: Optional[float], units: str,
          scale_to_mm: bool, regions) -> VertexDataset:
    if split is not None and split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS} or None, not {split!r}")
    if isinstance(frame_stride, bool) or not isinstance(frame_stride, (int, np.integer)) or frame_stride < 1:
        raise ValueError(f"frame_stride must be a positive integer, not {frame_stride!r}")
    frame_stride = int(frame_stride)
    if scale_to_mm:
        if units != "m":
            raise ValueError(f"scale_to_mm needs data in metres; these are in {units!r}")
        units, scale = "mm", 1000.0
    else:
        scale = 1.0
    if isinstance(subjects, str):
        subjects = [subjects]

    root = os.fspath(root)
    if not os.path.isdir(root):
        raise FileNotFoundError(f"{name} root {root} does not exist or is not a folder; expected {layout}")
    templates_path = os.path.join(root, "templates.pkl")
    vertices_dir = os.path.join(root, "vertices_npy")
    wav_dir = os.path.join(root, "wav")
    if not os.path.isfile(templates_path):
        raise FileNotFoundError(f"{templates_path} is missing; expected {layout}")
    for path in (vertices_dir, wav_dir):
        if not os.path.isdir(path):
            raise FileNotFoundError(f"{path} is missing or not a folder; expected {layout}")

    templates, template_problems = _load_templates(templates_path)
    counts = {t.shape[0] for t in templates.values()}
    lips, upper = regions(root, min(counts) if counts else None)

    wanted_subjects = set(subjects) if subjects is not None else (
        set(split_subjects[split]) if split is not None else None)
    sentences = split_sentences[split] if split is not None else None

    def selected(parsed) -> bool:
        subject, sentence = parsed
        if wanted_subjects is not None and subject not in wanted_subjects:
            return False
        return sentences is None or sentence is None or sentence in sentences

    fps = source_fps / frame_stride
    skipped: List[Tuple[str, str]] = []
    takes: List[MotionTake] = []
    channel_lists: Dict[int, List[str]] = {}
    npy_names = _visible(vertices_dir, ".npy")
    npy_stems = {os.path.splitext(n)[0] for n in npy_names}
    for file_name in npy_names:
        stem = os.path.splitext(file_name)[0]
        relative = os.path.join("vertices_npy", file_name)
        parsed = split_stem(stem)
        if parsed is None:
            skipped.append((relative, f"the name is not <Subject>_<sentence> ({stem!r})"))
            continue
        if not selected(parsed):
            continue
        if sentences is not None and parsed[1] is None:
            skipped.append((relative, f"no sentence number at the end of {stem!r}, so no split"))
            continue
        subject, sentence = parsed
        if subject not in templates:
            skipped.append((relative, template_problems.get(
                subject, f"no template for subject {subject!r} in templates.pkl")))
            continue
        wav_path = os.path.join(wav_dir, stem + ".wav")
        if not os.path.isfile(wav_path):
            skipped.append((relative, f"no audio: wav/{stem}.wav is missing"))
            continue
        npy_path = os.path.join(vertices_dir, file_name)
        try:
            if _npy_holds_objects(npy_path):
                skipped.append((relative, "a pickled object array; only plain numeric .npy files are read"))
                continue
            raw = load_vertex_sequence(npy_path, templates[subject], wav_path, fps=source_fps,
                                       tolerance_frames=None, take=stem, speaker=subject)
        except (ValueError, OSError, RuntimeError, EOFError) as error:
            skipped.append((relative, str(error).replace(npy_path + ": ", "")))
            continue
        motion = raw.motion[::frame_stride]
        audio_frames = raw.audio_duration * fps
        mismatch = len(motion) - audio_frames
        if tolerance_frames is not None and abs(mismatch) > tolerance_frames:
            skipped.append((relative, f"{len(motion)} frames at {fps:g} fps but the audio lasts "
                                      f"{audio_frames:.2f} frames ({raw.audio_duration:.3f} s; "
                                      f"tolerance {tolerance_frames:g} frames)"))
            continue
        template = templates[subject]
        if scale != 1.0:
            motion = (motion.astype(np.float64) * scale).astype(np.float32)
        else:
            motion = np.ascontiguousarray(motion)
        vertex_count = template.shape[0]
        channels = channel_lists.setdefault(vertex_count, raw.channels)
        meta = dict(raw.meta)
        meta.update({"dataset": name, "subject": subject, "sentence": sentence, "split": split,
                     "units": units, "frame_stride": frame_stride, "source_fps": source_fps,
                     "frame_mismatch": float(mismatch), "template_path": templates_path})
        takes.append(dataclasses.replace(
            raw, motion=motion, fps=fps, channels=channels,
            template=(template * scale).astype(np.float32), meta=meta))

    for file_name in _visible(wav_dir, ".wav"):
        stem = os.path.splitext(file_name)[0]
        parsed = split_stem(stem)
        if stem not in npy_stems and parsed is not None and selected(parsed) and \
                (sentences is None or parsed[1] is not None):
            skipped.append((os.path.join("wav", file_name), f"no motion: vertices_npy/{stem}.npy is missing"))

    if not takes:
        what = f"split {split!r}" if split is not None else "the dataset"
        if subjects is not None:
            what += f" (subjects {', '.join(sorted(set(subjects)))})"
        details = "; ".join(f"{f}: {r}" for f, r in skipped[:5])
        raise ValueError(f"{root}: no usable take in {what}: {len(npy_names)} .npy file(s), "
                         f"{len(skipped)} skipped{': ' + details if details else ''}; expected {layout}")
    scaled = {k: v * scale for k, v in templates.items()} if scale != 1.0 else templates
    return VertexDataset(name=name, root=root, fps=fps, takes=takes, templates=scaled,
                         lip_vertices=lips, upper_face_vertices=upper, skipped=skipped,
                         split=split, units=units)


def _vocaset_regions(root: str, vertex_count: Optional[int]):
    path = os.path.join(root, "FLAME_masks.pkl")
    if not os.path.isfile(path):
        return None, None
    return _flame_regions(path, vertex_count)


def _biwi_regions(root: str, vertex_count: Optional[int]):
    found = []
    for name in ("lve.txt", "fdd.txt"):
        path = os.path.join(root, "regions", name)
        found.append(read_index_file(path, vertex_count) if os.path.isfile(path) else None)
    return found[0], found[1]


def load_vocaset(root: str, split: Optional[str] = None, subjects: Optional[Sequence[str]] = None,
                 frame_stride: int = VOCASET_FRAME_STRIDE,
                 tolerance_frames: Optional[float] = VOCASET_TOLERANCE_FRAMES,
                 units: str = "m", scale_to_mm: bool = False) -> VertexDataset:
    """Load VOCASET in FaceFormer's layout (module docstring).

    split: "train" | "val" | "test" (FaceFormer's subjects and sentences,
        VOCASET_SUBJECTS / VOCASET_SENTENCES) or None for every file.
    subjects: load only these subjects (with a split: instead of the split's subjects,
        keeping its sentence range).
    frame_stride: keep every n-th frame of the 60 fps sequences from frame 0; the takes'
        fps is 60 / frame_stride (default 2: 30 fps, as FaceFormer).
    tolerance_frames: largest |motion frames - audio duration x fps|, in frames at the
        output rate (default 6 = 0.2 s at 30 fps; VOCA's frames / audio run at 59-61 fps);
        None: no check.
    units: what the data is in, recorded in MotionTake.meta["units"] (VOCASET: metres).
    scale_to_mm: multiply motion, templates and template meshes by 1000 (units "mm").
    """
    return _load("vocaset", VOCASET_LAYOUT, root, split, subjects, VOCASET_SUBJECTS, VOCASET_SENTENCES,
                 VOCASET_SOURCE_FPS, frame_stride, tolerance_frames, units, scale_to_mm, _vocaset_regions)


def load_biwi(root: str, split: Optional[str] = None, subjects: Optional[Sequence[str]] = None,
              frame_stride: int = 1, tolerance_frames: Optional[float] = BIWI_TOLERANCE_FRAMES,
              units: str = "normalised", scale_to_mm: bool = False) -> VertexDataset:
    """Load BIWI in FaceFormer's layout (module docstring): 25 fps, regions/lve.txt and
    regions/fdd.txt as lip / upper-face vertices when present.

    split: "train" | "val" | "test" (FaceFormer's BIWI-Test-A: subjects BIWI_SUBJECTS,
        sentences 1-32 / 33-36 / 37-40) or None for every file; for Test-B pass
        subjects=BIWI_TEST_B_SUBJECTS.
    subjects, frame_stride, tolerance_frames: as load_vocaset (tolerance default 5 frames =
        0.2 s at 25 fps).
    units: recorded in meta["units"]; FaceFormer's BIWI data is rescaled per subject, so
        the default is "normalised". scale_to_mm needs units="m".
    """
    return _load("biwi", BIWI_LAYOUT, root, split, subjects, BIWI_SUBJECTS, BIWI_SENTENCES,
                 BIWI_FPS, frame_stride, tolerance_frames, units, scale_to_mm, _biwi_regions)


LOADERS = {"vocaset": load_vocaset, "biwi": load_biwi}


def load_dataset(root: str, name: str, **options) -> VertexDataset:
    """load_vocaset or load_biwi by name ("vocaset" | "biwi", any case); `options` are
    passed on (split, subjects, frame_stride, tolerance_frames, units, scale_to_mm)."""
    key = str(name).lower()
    if key not in LOADERS:
        raise ValueError(f"unknown vertex dataset {name!r}; known: {', '.join(LOADERS)}")
    return LOADERS[key](root, **options)
