"""Fine-tune a KMTalk model on your own captured takes, in one command.

    cd training && ../.venv-torch/bin/python -m kmtalk_train.finetune \\
        ../models/kmtalk-base.safetensors MY_TAKES/ --out my-face.safetensors [--report my-face-report] \\
        [--held-out 1 | --held-out-take NAME ...] [--steps 600] [--seed 0] [--device cpu]

TAKES (one form per folder; docs/finetune.md):

* **Live Link Face take folders**, as the iPhone app writes them: one folder per take with
  `<name>.csv` (the blendshape CSV, `Timecode,BlendShapeCount,...`) and `<name>.mov` (the
  video, whose audio track is extracted with ffmpeg) or `<name>.wav`. `<name>_cal.csv` /
  `<name>_raw.csv` are taken when there is no plain `<name>.csv` (calibrated first).
* **Live Link CSV + WAV pairs** directly in the folder: `<name>.csv` beside `<name>.wav`
  (or `.mov`).
* **FACEGOOD** takes: `channels.txt`, `bs_value_<take>.npy` and `<take>.wav` (mapped to
  the 16 ARKit mouth/jaw channels of facegood_arkit.MAPPING).
* **Vertex sequences**: `template.npy|obj|ply` and `<name>.npy` (frames x V x 3) with
  `<name>.wav`, for a vertices-space base model only (the frame rate comes from
  `--vertex-fps` or from frames / audio duration).

What it does: holds out takes (default the first one in name order), fine-tunes with
facegood_eval's recipe (facegood_eval.fine_tune: batch 16, 8 s crops, lr 5e-4, AdamW,
cosine; the audio encoder and the LKMA phone/feature heads frozen, the KeyMotionDecoder
and the CMC learning) with losses masked to the channels the capture really moves
(`supervised_channels`): by default the base model's own objective (its `loss_weights`
metadata: for kmtalk-base v3 position, velocity, key poses, correlation, range and
closure), `--objective recipe` for facegood_eval's position / velocity / key-pose losses
(`objective_weights`; docs/finetune.md compares the two), scores the base and the
fine-tuned model on the held-out takes and on the training takes (labelled as such) with
real_bench's metrics, and writes the model (same config and tensors as the base, with
provenance metadata) plus REPORT/report.md, report.json and curves.png.

Refusals (a one-line message and exit status 2): no usable takes, a take without audio
(or with a silent or non-finite one), motion and audio durations differing by more than
`--tolerance` seconds, NaN/inf in the capture, channel names that map to no model channel,
vertex data for a model that is not vertices-space, too little data (under `--min-seconds`
of training audio, fewer than 2 takes when a held-out split is asked for), an OUT that is
the base model or that exists (without `--overwrite`).

Discovery and the refusals need only NumPy (tests run them without PyTorch); training
imports torch.
"""
from __future__ import annotations

import argparse
import csv
import fnmatch
import hashlib
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from . import capture
from .arkit import ARKIT_52, INDEX

DEFAULT_STEPS = 600
DEFAULT_BATCH = 16
DEFAULT_LR = 5e-4
MAX_SECONDS = 8.0                 # crop length (as facegood_eval.fine_tune)
TOLERANCE_S = 0.25                # motion vs audio duration: largest difference accepted
MIN_TRAIN_SECONDS = 20.0          # least training audio after the held-out split
SILENT_RMS = 1e-4                 # audio with a smaller RMS counts as silent (no speech)
MEDIA = (".wav", ".mov", ".mp4")  # audio files (WAV read directly; the others through ffmpeg)
VIDEO = (".mov", ".mp4")
SUFFIX_PREFERENCE = ("", "_cal", "_raw")  # which blendshape CSV of a take to use
TEMPLATE_NAMES = ("template.npy", "template.obj", "template.ply")
STANDARD_FPS = (24.0, 25.0, 30.0, 50.0, 60.0, 100.0, 120.0)
# Eye gaze and blinks follow where the performer looks, not what they say: not supervised
# unless --include-eyes.
EYE_PATTERNS = ("eyeBlink*", "eyeLook*")
# FACEGOOD controls with no ARKit counterpart (facegood_arkit's docstring, "NOT mappable"):
# known, so not "unknown", but unused.
FACEGOOD_UNMAPPED_PATTERNS = ("tongue_*", "tooth_*", "cheek_suck_*", "cheek_UP", "brow_raise_d", "mouth_chew_c",
                              "eye_downLidRaise_*", "eye_shutTight_*", "mouth_stretch_u", "*Fix_*", "nose_out_*")


class FinetuneError(Exception):
    """A clear refusal: main prints the message on one line and exits with status 2."""


@dataclass
class CaptureTake:
    """One usable take in the model's motion space."""
    name: str
    form: str                  # "livelink-folder", "livelink-pair", "facegood", "vertices"
    samples: np.ndarray        # float32 mono at `rate` (the model's sample rate), trimmed to the motion
    rate: int
    motion: np.ndarray         # float32 [frames, M]: ARKit-52 weights (ARKIT_52 order) or 3V vertex offsets
    fps: float
    measured: np.ndarray       # bool [M]: channels the source records
    files: List[str]
    mismatch_s: float = 0.0    # motion duration - audio duration before trimming

    @property
    def seconds(self) -> float:
        return len(self.samples) / self.rate


@dataclass
class Discovery:
    takes: List[CaptureTake]
    form: str
    notes: List[str] = field(default_factory=list)


# ----------------------------------------------------------------------------- base model (no torch)

def read_header(path: str) -> Tuple[dict, Dict[str, str]]:
    """(tensor entries {name: {dtype, shape, data_offsets}}, metadata) of a safetensors file."""
    try:
        with open(path, "rb") as f:
            (length,) = struct.unpack("<Q", f.read(8))
            if length > 1 << 28:
                raise ValueError("header too large")
            header = json.loads(f.read(length))
    except (OSError, ValueError, struct.error) as error:
        raise FinetuneError(f"{path}: not a readable safetensors model ({error})") from None
    meta = header.pop("__metadata__", {}) or {}
    return header, meta


def base_config(path: str) -> Tuple[dict, Dict[str, str]]:
    """(config, metadata) of an exported kmtalk model, read without PyTorch."""
    if not os.path.isfile(path):
        raise FinetuneError(f"{path}: no such base model")
    _, meta = read_header(path)
    if meta.get("format") != "kmtalk" or meta.get("architecture") != "kmtalk" or "config" not in meta:
        raise FinetuneError(f"{path}: not a kmtalk-architecture model (architecture "
                            f"{meta.get('architecture')!r}); fine-tuning needs one exported by kmtalk_train")
    config = json.loads(meta["config"])
    space = config["motion"]["space"]
    if space == "arkit" and sorted(config["motion"]["channels"]) != sorted(ARKIT_52):
        raise FinetuneError(f"{path}: an ARKit model without the 52 ARKit channels")
    if space not in ("arkit", "vertices"):
        raise FinetuneError(f"{path}: motion space {space!r}; fine-tuning supports ARKit and vertices-space models")
    return config, meta


def model_channels(config: dict) -> List[str]:
    return list(config["motion"]["channels"])


def arkit_in_model_order(weights: np.ndarray, config: dict) -> np.ndarray:
    """[T, 52] in ARKIT_52 order -> the model's channel order (any order is allowed)."""
    order = [INDEX[name] for name in model_channels(config)]
    return weights[:, order]


# ----------------------------------------------------------------------------- audio

def extract_audio(path: str, rate: int) -> np.ndarray:
    """Mono float32 samples of `path` at `rate`: WAVs through soundfile, MOV/MP4 through
    `ffmpeg -i X -vn -ac 1 -ar RATE -f wav` into a temporary file."""
    if path.lower().endswith(VIDEO):
        ffmpeg = shutil.which("ffmpeg")
        if ffmpeg is None:
            raise FinetuneError(f"{path}: reading the audio of a video needs ffmpeg (not found on PATH); "
                                "install it or put a WAV beside the CSV")
        with tempfile.TemporaryDirectory(prefix="kmtalk-finetune-") as tmp:
            wav = os.path.join(tmp, "audio.wav")
            result = subprocess.run([ffmpeg, "-nostdin", "-v", "error", "-y", "-i", path, "-vn", "-ac", "1",
                                     "-ar", str(rate), "-f", "wav", wav], capture_output=True, text=True)
            if result.returncode != 0 or not os.path.isfile(wav) or os.path.getsize(wav) <= 44:
                message = (result.stderr or "").strip()
                if "does not contain any stream" in message or "matches no streams" in message or \
                        (result.returncode == 0 and (not os.path.isfile(wav) or os.path.getsize(wav) <= 44)):
                    raise FinetuneError(f"{path}: no audio track (the take needs its speech)")
                last = message.splitlines()[-1] if message else f"exit status {result.returncode}"
                raise FinetuneError(f"{path}: ffmpeg could not read its audio: {last}")
            samples, got = capture.read_wav_mono(wav)
    else:
        try:
            samples, got = capture.read_wav_mono(path)
        except Exception as error:  # soundfile / scipy errors: one line
            raise FinetuneError(f"{path}: cannot read the audio ({str(error).splitlines()[0]})") from None
    if got != rate:
        from .corpus import resample_to
        samples = resample_to(samples, got, rate)
    return np.asarray(samples, dtype=np.float32)


def check_audio(samples: np.ndarray, where: str) -> None:
    if len(samples) == 0:
        raise FinetuneError(f"{where}: empty audio (the take needs its speech)")
    if not np.all(np.isfinite(samples)):
        raise FinetuneError(f"{where}: NaN or infinite audio samples")
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))
    if rms < SILENT_RMS:
        raise FinetuneError(f"{where}: the audio is silent (RMS {rms:.2g}); the take needs its speech")


def _fit_durations(name: str, samples: np.ndarray, rate: int, motion: np.ndarray, fps: float,
                   tolerance: float) -> Tuple[np.ndarray, float]:
    """Checks motion vs audio duration and trims the audio to the frames the motion covers."""
    audio_s, motion_s = len(samples) / rate, len(motion) / fps
    mismatch = motion_s - audio_s
    if abs(mismatch) > tolerance:
        raise FinetuneError(f"take {name}: {len(motion)} motion frames at {fps:g} fps last {motion_s:.2f} s but the "
                            f"audio lasts {audio_s:.2f} s (difference {mismatch:+.2f} s, tolerance {tolerance:g} s); "
                            "the capture and the audio do not belong together or were cut differently")
    return samples[:min(len(samples), int(round(motion_s * rate)))], float(mismatch)


# ----------------------------------------------------------------------------- Live Link Face

def _csv_header(path: str) -> List[str]:
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            return [cell.strip() for cell in next(csv.reader(f), [])]
    except (OSError, UnicodeDecodeError):
        return []


def is_blendshape_csv(path: str) -> bool:
    """A Live Link Face blendshape CSV: a Timecode column and BlendShapeCount or an ARKit name."""
    lower = [h.lower() for h in _csv_header(path)]
    arkit = {n.lower() for n in ARKIT_52}
    return "timecode" in lower and ("blendshapecount" in lower or any(h in arkit for h in lower))


def _strip_suffix(stem: str) -> Tuple[str, str]:
    for suffix in ("_cal", "_raw", "_neutral"):
        if stem.endswith(suffix):
            return stem[: -len(suffix)], suffix
    return stem, ""


def live_link_pairs(folder: str) -> Tuple[List[Tuple[str, str, Optional[str]]], List[str]]:
    """([(take stem, CSV path, audio path or None)], notes) for the blendshape CSVs in `folder`."""
    names = sorted(os.listdir(folder))
    files = [n for n in names if os.path.isfile(os.path.join(folder, n))]
    csvs = [n for n in files if n.lower().endswith(".csv") and is_blendshape_csv(os.path.join(folder, n))]
    media: Dict[str, str] = {}
    for n in files:
        stem, ext = os.path.splitext(n)
        if ext.lower() in MEDIA and (stem not in media or ext.lower() == ".wav"):
            media[stem] = n  # a WAV beats a video of the same name (no extraction)
    notes: List[str] = []
    by_take: Dict[str, Dict[str, str]] = {}
    for n in csvs:
        base, suffix = _strip_suffix(os.path.splitext(n)[0])
        if suffix == "_neutral":
            notes.append(f"{os.path.join(folder, n)}: a neutral-pose calibration, not a take (skipped)")
            continue
        by_take.setdefault(base, {})[suffix] = n
    pairs = []
    for base, variants in sorted(by_take.items()):
        suffix = next(s for s in SUFFIX_PREFERENCE if s in variants)
        chosen = variants[suffix]
        for other in sorted(set(variants.values()) - {chosen}):
            notes.append(f"{os.path.join(folder, other)}: another version of take {base} (using {chosen})")
        audio = media.get(base + suffix) or media.get(base)
        if audio is None and len(by_take) == 1 and len(media) == 1:
            audio = next(iter(media.values()))   # one capture, one recording: they belong together
        pairs.append((base, os.path.join(folder, chosen), os.path.join(folder, audio) if audio else None))
    return pairs, notes


def load_live_link_take(name: str, form: str, csv_path: str, audio_path: Optional[str], config: dict,
                        tolerance: float) -> CaptureTake:
    if audio_path is None:
        stem = os.path.splitext(csv_path)[0]
        raise FinetuneError(f"take {name}: no audio for {csv_path} (expected {os.path.basename(stem)}.mov or "
                            f"{os.path.basename(stem)}.wav beside it)")
    try:
        take = capture.load_live_link_csv(csv_path)
    except ValueError as error:
        message = str(error)
        if "non-finite" in message:
            message = f"{csv_path}: NaN or infinite values in the capture"
        raise FinetuneError(f"take {name}: {message}") from None
    unknown = [c for c in take.meta.get("ignored_columns", []) if c]
    if unknown:
        raise FinetuneError(f"take {name}: {csv_path} has channels that map to no model channel: "
                            + ", ".join(unknown))
    rate = int(config["frontend"]["sample_rate"])
    samples = extract_audio(audio_path, rate)
    check_audio(samples, f"take {name}: {audio_path}")
    samples, mismatch = _fit_durations(name, samples, rate, take.motion, take.fps, tolerance)
    measured = np.array([n not in take.meta.get("missing_channels", []) for n in ARKIT_52])
    return CaptureTake(name, form, samples, rate, take.motion.astype(np.float32), take.fps, measured,
                       [csv_path, audio_path], mismatch)


# ----------------------------------------------------------------------------- FACEGOOD

def _facegood_unknown(channels: Sequence[str]) -> List[str]:
    from . import facegood_arkit
    known = {c for rule in facegood_arkit.MAPPING + facegood_arkit.RIG_ONLY for c, _ in rule.sources}
    return [c for c in channels if c not in known
            and not any(fnmatch.fnmatchcase(c, p) for p in FACEGOOD_UNMAPPED_PATTERNS)]


def load_facegood_takes(folder: str, config: dict, tolerance: float) -> List[CaptureTake]:
    from . import facegood_arkit
    fps = capture.FACEGOOD_FPS
    # Missing audio first (the loader would only name the first).
    for n in sorted(os.listdir(folder)):
        if n.startswith("bs_value_") and n.endswith(".npy"):
            take = n[len("bs_value_"):-len(".npy")]
            if not os.path.isfile(os.path.join(folder, take + ".wav")):
                raise FinetuneError(f"take {take}: no audio ({take}.wav is missing beside {n})")
    try:
        rig = capture.load_facegood(folder, tolerance_frames=tolerance * fps)
    except (ValueError, FileNotFoundError) as error:
        message = str(error)
        if "non-finite" in message:
            message += " (NaN or infinite values in the capture)"
        raise FinetuneError(f"{folder}: {message}") from None
    unknown = _facegood_unknown(rig[0].channels)
    if unknown:
        raise FinetuneError(f"{folder}/channels.txt: channels that map to no model channel: " + ", ".join(unknown))
    rate = int(config["frontend"]["sample_rate"])
    takes = []
    for t in rig:
        samples = t.samples if t.sample_rate == rate else extract_audio(t.meta["audio_path"], rate)
        check_audio(samples, f"take {t.take}: {t.meta['audio_path']}")
        weights, mask = facegood_arkit.to_arkit(t)
        samples, mismatch = _fit_durations(t.take, samples, rate, weights, fps, tolerance)
        takes.append(CaptureTake(t.take, "facegood", samples, rate, weights, fps, mask,
                                 [t.source, t.meta["audio_path"]], mismatch))
    if not any(t.measured.any() for t in takes):
        raise FinetuneError(f"{folder}: none of the FACEGOOD controls the ARKit mapping needs are in channels.txt")
    return takes


# ----------------------------------------------------------------------------- vertex sequences

def _template_path(folder: str) -> Optional[str]:
    found = [n for n in TEMPLATE_NAMES if os.path.isfile(os.path.join(folder, n))]
    if len(found) > 1:
        raise FinetuneError(f"{folder}: several templates ({', '.join(found)}); keep one")
    return os.path.join(folder, found[0]) if found else None


def load_vertex_takes(folder: str, config: dict, model_template: Optional[np.ndarray], tolerance: float,
                      vertex_fps: Optional[float]) -> List[CaptureTake]:
    template_path = _template_path(folder)
    if config["motion"]["space"] != "vertices":
        raise FinetuneError(
            f"{folder}: vertex sequences, but the base model predicts {config['motion']['space']} weights; "
            "vertex data can only fine-tune a vertices-space model (turning vertex offsets into blendshape "
            "weights needs the captured face's rig, which is not here)")
    template = capture.load_template(template_path)
    count = len(config["motion"]["channels"]) // 3
    if len(template) != count:
        raise FinetuneError(f"{template_path}: {len(template)} vertices, the model animates {count}")
    if model_template is not None:
        size = lambda v: float(np.linalg.norm(v.max(axis=0) - v.min(axis=0)))  # noqa: E731
        ratio = size(template) / max(size(model_template), 1e-12)
        if not 0.5 <= ratio <= 2.0:
            raise FinetuneError(f"{template_path}: the template is {ratio:.3g} times the size of the model's "
                                f"(different units? the model's are {config['motion'].get('units', 'm')})")
    rate = int(config["frontend"]["sample_rate"])
    sequences = sorted(n for n in os.listdir(folder) if n.endswith(".npy") and n not in TEMPLATE_NAMES)
    takes = []
    for n in sequences:
        name = n[:-4]
        npy = os.path.join(folder, n)
        wav = next((os.path.join(folder, name + e) for e in MEDIA if os.path.isfile(os.path.join(folder, name + e))),
                   None)
        if wav is None:
            raise FinetuneError(f"take {name}: no audio ({name}.wav beside {n})")
        samples = extract_audio(wav, rate)
        check_audio(samples, f"take {name}: {wav}")
        try:
            frames = len(capture.load_npy(npy, pickle_fallback=False))
            fps = vertex_fps or _infer_fps(name, frames, len(samples) / rate)
            take = capture.load_vertex_sequence(npy, template, None, fps, tolerance_frames=None, take=name)
        except ValueError as error:
            message = str(error)
            if "NaN" in message or "infinite" in message:
                message = message.replace(npy + ": ", "")
            raise FinetuneError(f"take {name}: {message}") from None
        samples, mismatch = _fit_durations(name, samples, rate, take.motion, fps, tolerance)
        takes.append(CaptureTake(name, "vertices", samples, rate, take.motion, fps,
                                 np.ones(take.motion.shape[1], dtype=bool), [npy, wav], mismatch))
    return takes


def _infer_fps(name: str, frames: int, audio_seconds: float) -> float:
    """The standard frame rate closest to frames / audio duration, if within 2 %."""
    if audio_seconds <= 0:
        raise FinetuneError(f"take {name}: empty audio")
    raw = frames / audio_seconds
    best = min(STANDARD_FPS, key=lambda f: abs(f - raw))
    if abs(best - raw) > 0.02 * best:
        raise FinetuneError(f"take {name}: {frames} frames over {audio_seconds:.2f} s of audio is {raw:.2f} fps, "
                            "no standard rate; give --vertex-fps (or the capture and audio do not match)")
    return best


# ----------------------------------------------------------------------------- discovery

def discover(directory: str, config: dict, tolerance: float = TOLERANCE_S, vertex_fps: Optional[float] = None,
             model_template: Optional[np.ndarray] = None) -> Discovery:
    """Every usable take in `directory`, in the model's motion space, sorted by name.
    Raises FinetuneError for anything it cannot use (module docstring)."""
    if not os.path.isdir(directory):
        raise FinetuneError(f"{directory}: no such folder")
    forms: Dict[str, Callable[[], List[CaptureTake]]] = {}
    notes: List[str] = []
    entries = sorted(os.listdir(directory))
    if os.path.isfile(os.path.join(directory, "channels.txt")) and any(
            n.startswith("bs_value_") and n.endswith(".npy") for n in entries):
        forms["facegood"] = lambda: load_facegood_takes(directory, config, tolerance)
    if _template_path(directory) is not None:
        forms["vertices"] = lambda: load_vertex_takes(directory, config, model_template, tolerance, vertex_fps)
    flat, flat_notes = live_link_pairs(directory)
    folders = []
    for n in entries:
        sub = os.path.join(directory, n)
        if os.path.isdir(sub) and not n.startswith("."):
            pairs, sub_notes = live_link_pairs(sub)
            if pairs:
                folders.append((n, pairs))
                notes += sub_notes
    if flat:
        notes += flat_notes
        forms["livelink-pair"] = lambda: [load_live_link_take(stem, "livelink-pair", c, a, config, tolerance)
                                          for stem, c, a in flat]
    if folders:
        def load_folders() -> List[CaptureTake]:
            out = []
            for folder, pairs in folders:
                for stem, c, a in pairs:
                    name = folder if len(pairs) == 1 else f"{folder}/{stem}"
                    out.append(load_live_link_take(name, "livelink-folder", c, a, config, tolerance))
            return out
        forms["livelink-folder"] = load_folders
    if config["motion"]["space"] == "vertices" and forms and "vertices" not in forms:
        raise FinetuneError(f"{directory}: the base model is vertices-space; it needs vertex sequences with a "
                            "template, not blendshape captures")
    if not forms:
        raise FinetuneError(f"{directory}: no usable takes (expected Live Link Face take folders with <name>.csv and "
                            "<name>.mov or .wav, Live Link CSV + WAV pairs, FACEGOOD bs_value_*.npy with channels.txt "
                            "and WAVs, or vertex sequences with template.npy|obj|ply; docs/finetune.md)")
    if len(forms) > 1 and set(forms) != {"livelink-pair", "livelink-folder"}:
        raise FinetuneError(f"{directory}: mixes take forms ({', '.join(sorted(forms))}); put each form in its own "
                            "folder and fine-tune on one")
    takes: List[CaptureTake] = []
    for loader in forms.values():
        takes += loader()
    if not takes:
        raise FinetuneError(f"{directory}: no usable takes")
    names = [t.name for t in takes]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise FinetuneError(f"{directory}: several takes named {', '.join(duplicates)}; rename them")
    takes.sort(key=lambda t: t.name)
    return Discovery(takes, "livelink" if "livelink-pair" in forms or "livelink-folder" in forms else
                     next(iter(forms)), notes)


def split(takes: Sequence[CaptureTake], held_out: int = 1, held_out_names: Sequence[str] = (),
          min_seconds: float = MIN_TRAIN_SECONDS) -> Tuple[List[CaptureTake], List[CaptureTake]]:
    """(training takes, held-out takes): the named ones, else the first `held_out` in name
    order. Refuses fewer than 2 takes for a split, all takes held out, unknown names and
    under `min_seconds` of training audio."""
    names = [t.name for t in takes]
    if held_out_names:
        unknown = [n for n in held_out_names if n not in names]
        if unknown:
            raise FinetuneError(f"--held-out-take: no take named {', '.join(unknown)} (takes: {', '.join(names)})")
        chosen = list(dict.fromkeys(held_out_names))
    else:
        if held_out < 0:
            raise FinetuneError("--held-out must be 0 or more")
        chosen = names[:held_out]
    if chosen and len(takes) < 2:
        raise FinetuneError(f"only {len(takes)} take; a held-out split needs at least 2 (or pass --held-out 0 "
                            "and report on the training take only)")
    if len(chosen) >= len(takes):
        raise FinetuneError(f"all {len(takes)} takes would be held out; nothing is left to train on")
    train = [t for t in takes if t.name not in chosen]
    held = [t for t in takes if t.name in chosen]
    seconds = sum(t.seconds for t in train)
    if seconds < min_seconds:
        raise FinetuneError(f"too little data: {seconds:.1f} s of training audio in {len(train)} take(s) after holding "
                            f"out {len(held)}; need at least {min_seconds:g} s (record more, or hold out less)")
    return train, held


def supervised_channels(takes: Sequence[CaptureTake], config: dict, include_eyes: bool = False) -> np.ndarray:
    """bool [M] in the model's channel order: channels every take records, that move in the
    takes (max - min over all of them > capture.MOVING_THRESHOLD; vertices: all), minus eye
    gaze and blinks (EYE_PATTERNS) unless `include_eyes`."""
    measured = np.logical_and.reduce([t.measured for t in takes])
    if config["motion"]["space"] == "vertices":
        return measured
    pooled = np.concatenate([t.motion for t in takes], axis=0)
    moving = set(capture.moving_channels(pooled, list(ARKIT_52)))
    mask = np.array([measured[i] and n in moving and (include_eyes or not any(fnmatch.fnmatchcase(n, p)
                                                                              for p in EYE_PATTERNS))
                     for i, n in enumerate(ARKIT_52)])
    if not mask.any():
        raise FinetuneError("the captured takes move none of the channels the model predicts (every recorded "
                            f"channel stays within {capture.MOVING_THRESHOLD:g})")
    return arkit_in_model_order(mask[None, :], config)[0]


def check_output(base: str, out: str, overwrite: bool) -> None:
    """Refuses OUT == BASE (same path, or the same file through links) and an existing OUT
    without `overwrite`."""
    if os.path.realpath(out) == os.path.realpath(base) or (
            os.path.exists(out) and os.path.exists(base) and os.path.samefile(out, base)):
        raise FinetuneError(f"--out {out} is the base model; the base is never overwritten: choose another file")
    if os.path.isdir(out):
        raise FinetuneError(f"--out {out} is a folder; give a .safetensors file name")
    if os.path.exists(out) and not overwrite:
        raise FinetuneError(f"--out {out} exists; pass --overwrite to replace it")


# ----------------------------------------------------------------------------- training and scores (torch)

def _eval_take(take: CaptureTake, config: dict, supervised: np.ndarray):
    """A facegood_eval.Take (mel + targets at the native rate, pause frames)."""
    from . import facegood_eval, real_bench
    from .train import Item, resample_teacher
    fps = float(config["motion"]["fps"])
    mel = real_bench.log_mel(config, take.samples)
    count = real_bench.native_count(config, mel)
    motion = take.motion
    if config["motion"]["space"] == "arkit":
        motion = arkit_in_model_order(motion, config)
    target = resample_teacher(motion, count, fps, teacher_fps=take.fps)
    rms = capture.frame_rms(take.samples, take.rate, fps, count, window=real_bench.PAUSE_WINDOW_FRAMES)
    item = Item(take.name, "capture", "", mel, target, None, None, [], [])
    return facegood_eval.Take(take.name, item, supervised.copy(), facegood_eval.pause_frames(rms, fps))


def _to_arkit_order(motion: np.ndarray, config: dict) -> np.ndarray:
    out = np.zeros((len(motion), len(ARKIT_52)), dtype=motion.dtype)
    for j, name in enumerate(model_channels(config)):
        out[:, INDEX[name]] = motion[:, j]
    return out


def closures(phone_logits: np.ndarray, config: dict, motions: Dict[str, np.ndarray]) -> Dict[str, dict]:
    """Bilabials closed (jawOpen - mouthClose <= 0.05 at the phone's centre) in each of
    `motions` ([T, 52] ARKit order), at the bilabials the model's phone head recognises in
    the take's audio (`phone_logits` [T, P]; the head is frozen, so the phones are the same
    before and after fine-tuning)."""
    from . import real_bench
    fps = float(config["motion"]["fps"])
    segments = real_bench.phone_segments(phone_logits.argmax(-1), config["lkma"]["phones"], fps)
    out = {}
    for label, motion in motions.items():
        checks = real_bench.lip_checks(motion, fps, segments)
        out[label] = {"closed_pct": checks["bilabial_closed_pct"], "bilabials": checks["bilabials"]}
    return out


def predict(model, take, device) -> Tuple[np.ndarray, Optional[np.ndarray]]:
    """(motion [T, M], phone logits [T, P] or None) of `model` on a whole take."""
    import torch
    model.eval()
    with torch.no_grad():
        out = model(torch.from_numpy(take.item.mel).to(device))
    logits = out.get("phone_logits")
    return out["motion"].float().cpu().numpy(), None if logits is None else logits.float().cpu().numpy()


def score_vertices(pred: np.ndarray, captured: np.ndarray, fps: float, pause: Optional[np.ndarray]) -> dict:
    """Vertex-offset scores [T, 3V]: MAE per coordinate, mean vertex error (Euclidean), velocity
    MAE (per second), r and DR (std ratio) averaged over the moving coordinates (captured std
    above 10 % of the largest), offset magnitude in pauses predicted vs captured."""
    from . import real_bench
    n = min(len(pred), len(captured))
    pred, captured = np.asarray(pred[:n], np.float64), np.asarray(captured[:n], np.float64)
    std = captured.std(axis=0)
    moving = np.flatnonzero(std > 0.1 * std.max()) if std.max() > 0 else np.zeros(0, int)
    r = [real_bench.pearson(pred[:, c], captured[:, c]) for c in moving]
    dr = [pred[:, c].std() / std[c] for c in moving]
    error = np.linalg.norm((pred - captured).reshape(n, -1, 3), axis=2)
    summary = {"mae": float(np.abs(pred - captured).mean()), "vertex_error": float(error.mean()),
               "velocity_mae": float(np.abs(np.diff(pred, axis=0) - np.diff(captured, axis=0)).mean() * fps),
               "mean_r_moving": real_bench._nanmean([x if np.isfinite(x) else 0.0 for x in r]),
               "dr_moving": real_bench._nanmean(dr), "moving_channels": int(len(moving)),
               "pause_offset": float("nan"), "pause_offset_captured": float("nan"), "frames": n, "seconds": n / fps}
    if pause is not None and np.any(pause[:n]):
        p = np.asarray(pause[:n], bool)
        summary["pause_offset"] = float(np.linalg.norm(pred[p].reshape(int(p.sum()), -1, 3), axis=2).mean())
        summary["pause_offset_captured"] = float(np.linalg.norm(captured[p].reshape(int(p.sum()), -1, 3),
                                                                axis=2).mean())
    return {"summary": summary, "channels": {}}


def _mean_vertex_scores(per_take: Dict[str, dict]) -> dict:
    from . import real_bench
    keys = next(iter(per_take.values()))["summary"].keys()
    return {"summary": {k: (float(sum(s["summary"][k] for s in per_take.values())) if k in real_bench.COUNT_KEYS
                            else real_bench._nanmean([s["summary"][k] for s in per_take.values()])) for k in keys},
            "channels": {}}


def evaluate(models: Dict[str, object], takes, config: dict, supervised: np.ndarray, device) -> Tuple[dict, dict]:
    """({label: {"per_take", "mean", "closures"}}, curves of the first take) for `models` on `takes`."""
    from . import real_bench
    fps = float(config["motion"]["fps"])
    arkit = config["motion"]["space"] == "arkit"
    per_take: Dict[str, Dict[str, dict]] = {label: {} for label in models}
    hits: Dict[str, List[float]] = {label: [0.0, 0] for label in list(models) + ["captured"]}
    example: dict = {}
    for k, take in enumerate(takes):
        outputs = {label: predict(m, take, device) for label, m in models.items()}
        predicted = {label: motion for label, (motion, _) in outputs.items()}
        phone_logits = next(iter(outputs.values()))[1]  # the first model's (all share the frozen head)
        captured = take.item.motion
        for label, motion in predicted.items():
            if arkit:
                per_take[label][take.name] = real_bench.score(_to_arkit_order(motion, config),
                                                              _to_arkit_order(captured, config),
                                                              _to_arkit_order(supervised[None], config)[0], fps,
                                                              take.pause)
            else:
                per_take[label][take.name] = score_vertices(motion, captured, fps, take.pause)
        if arkit:
            curves = {label: _to_arkit_order(m, config) for label, m in predicted.items()}
            jaw = INDEX["jawOpen"]
            sup = _to_arkit_order(supervised[None], config)[0]
            if sup[jaw]:  # the capture's own closures, for reference
                curves["captured"] = _to_arkit_order(captured, config)
            for label, c in (closures(phone_logits, config, curves) if phone_logits is not None else {}).items():
                if np.isfinite(c["closed_pct"]):
                    hits[label][0] += c["closed_pct"] * c["bilabials"] / 100.0
                hits[label][1] += c["bilabials"]
        if k == 0:
            example = {"take": take.name, "fps": fps, "captured": captured, "predictions": predicted}
    results = {}
    for label in models:
        mean = real_bench.mean_scores(per_take[label]) if arkit else _mean_vertex_scores(per_take[label])
        results[label] = {"per_take": per_take[label], "mean": mean}
        if arkit and hits[label][1]:
            results[label]["closures"] = {"closed_pct": 100.0 * hits[label][0] / hits[label][1],
                                          "bilabials": int(hits[label][1])}
    if arkit and hits["captured"][1]:
        results["captured"] = {"closures": {"closed_pct": 100.0 * hits["captured"][0] / hits["captured"][1],
                                            "bilabials": int(hits["captured"][1])}}
    return results, example


def plot_curves(example: dict, config: dict, supervised: np.ndarray, path: str, seconds: float = 15.0) -> List[str]:
    """captured vs base vs fine-tuned on the first held-out take (without one, the first
    training take): jawOpen and the three supervised lip (mouth*) channels that move most
    (vertices: the four coordinates that move most). Returns the channels drawn."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    names = model_channels(config)
    captured = example["captured"]
    std = captured.std(axis=0)
    if config["motion"]["space"] == "arkit":
        lips = sorted((j for j, n in enumerate(names) if supervised[j] and n.startswith("mouth")),
                      key=lambda j: -std[j])[:3]
        jaw = names.index("jawOpen")
        chosen = ([jaw] if supervised[jaw] else []) + lips
    else:
        chosen = list(np.argsort(-std)[:4])
    fps = example["fps"]
    count = min(len(captured), int(seconds * fps))
    t = np.arange(count) / fps
    fig, axes = plt.subplots(len(chosen), 1, figsize=(12, 1.9 * len(chosen)), sharex=True, squeeze=False,
                             constrained_layout=True)
    styles = {"base": dict(color="tab:blue", lw=1.0, ls="--"), "fine-tuned": dict(color="tab:red", lw=1.1)}
    for ax, j in zip(axes[:, 0], chosen):
        ax.plot(t, captured[:count, j], color="black", lw=1.6, label="captured")
        for label, motion in example["predictions"].items():
            n = min(count, len(motion))
            ax.plot(t[:n], motion[:n, j], label=label, **styles.get(label, {}))
        ax.set_ylabel(names[j], fontsize=8)
        if config["motion"]["space"] == "arkit":
            ax.set_ylim(0, max(0.2, float(captured[:count, j].max()) * 1.15))
    axes[0, 0].set_title(f"{example.get('group', 'held-out')} take {example['take']}: captured vs base vs fine-tuned",
                         fontsize=9)
    axes[0, 0].legend(fontsize=7, loc="upper right", ncol=3)
    axes[-1, 0].set_xlabel("seconds")
    fig.savefig(path, dpi=72)
    plt.close(fig)
    return [names[j] for j in chosen]


def _fmt(value, spec: str) -> str:
    return "-" if value is None or not np.isfinite(value) else format(value, spec)


def table(results: Dict[str, dict], space: str) -> List[str]:
    """Markdown rows: one per (takes, model)."""
    if space == "arkit":
        lines = ["| takes | model | jaw r | mean r moving | jaw DR | lips DR (in range / n) | MAE | vel. MAE /s | "
                 "bilabials closed % (n) | pause rest % |", "|---" * 10 + "|"]
    else:
        lines = ["| takes | model | mean r moving | DR moving | MAE | vertex error | vel. MAE /s | "
                 "pause offset (captured) |", "|---" * 8 + "|"]
    for group, title in (("held_out", "held-out"), ("train", "training takes (seen in fine-tuning: not a test)")):
        if group not in results:
            continue
        r = results[group]
        label_takes = f"{title}: {', '.join(r['takes'])}"
        for model in ("base", "fine-tuned"):
            s = r["models"][model]["mean"]["summary"]
            if space == "arkit":
                lips = "-" if not np.isfinite(s["lips_dr_mean"]) else \
                    f"{s['lips_dr_mean']:.2f} ({s['lips_in_range']:.0f}/{s['lips_channels']:.0f})"
                c = r["models"][model].get("closures")
                closed = "-" if not c else f"{_fmt(c['closed_pct'], '.1f')} ({c['bilabials']})"
                lines.append(f"| {label_takes} | {model} | {_fmt(s['jaw_r'], '.3f')} | "
                             f"{_fmt(s['mean_r_moving'], '.3f')} | {_fmt(s['jaw_dr'], '.2f')} | {lips} | "
                             f"{_fmt(s['mae'], '.4f')} | {_fmt(s['velocity_mae'], '.3f')} | {closed} | "
                             f"{_fmt(s['pause_rest_pct'], '.1f')} |")
            else:
                lines.append(f"| {label_takes} | {model} | {_fmt(s['mean_r_moving'], '.3f')} | "
                             f"{_fmt(s['dr_moving'], '.2f')} | {_fmt(s['mae'], '.4g')} | "
                             f"{_fmt(s['vertex_error'], '.4g')} | {_fmt(s['velocity_mae'], '.4g')} | "
                             f"{_fmt(s['pause_offset'], '.3g')} ({_fmt(s['pause_offset_captured'], '.3g')}) |")
        captured = r["models"].get("captured", {}).get("closures")
        if captured:
            lines.append(f"| {label_takes} | captured (reference) | | | | | | | "
                         f"{_fmt(captured['closed_pct'], '.1f')} ({captured['bilabials']}) | |")
    return lines


def objective_weights(meta: Dict[str, str], config: dict, objective: str) -> Optional[Dict[str, float]]:
    """Loss weights for facegood_eval.fine_tune: None for "recipe" (its masked position,
    velocity and key-pose losses); for "base", the base model's own `loss_weights` metadata
    (train.py writes it: kmtalk-base v3 adds the correlation, range and closure losses), the
    phone/feature terms dropped (captures have no phone labels) and, for a model that is not
    ARKit, the ARKit-only closure and labiodental terms. A base without that metadata gets
    the recipe."""
    if objective == "recipe" or "loss_weights" not in meta:
        return None
    weights = {k: float(v) for k, v in json.loads(meta["loss_weights"]).items() if k not in ("phone", "feature")}
    if config["motion"]["space"] != "arkit":
        weights = {k: v for k, v in weights.items() if k not in ("closure", "labiodental")}
    return weights


def sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def stored_dtype(path: str) -> str:
    """F16 / BF16 when every floating tensor of the base is stored so, else F32."""
    header, _ = read_header(path)
    dtypes = {e["dtype"] for name, e in header.items() if name not in ("motion.template", "motion.faces")}
    return next(iter(dtypes)) if len(dtypes) == 1 and dtypes <= {"F16", "BF16"} else "F32"


def run(base: str, discovery: Discovery, train_takes: Sequence[CaptureTake], held: Sequence[CaptureTake],
        supervised: np.ndarray, out: str, report_dir: str, steps: int = DEFAULT_STEPS, seed: int = 0,
        device: Optional[str] = None, batch_size: int = DEFAULT_BATCH, lr: float = DEFAULT_LR,
        objective: str = "base", log: Callable = print) -> dict:
    """Fine-tunes, scores, writes OUT (atomically) and the report; returns the report dict."""
    import torch
    from . import facegood_eval, real_bench
    from .export import export, load
    from .train import LOSS_WEIGHTS
    started = time.time()
    device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    base_hash = sha256(base)
    model, config, meta = load(base)
    model.to(device).eval()
    train_eval = [_eval_take(t, config, supervised) for t in train_takes]
    held_eval = [_eval_take(t, config, supervised) for t in held]
    names = model_channels(config)
    log(f"fine-tuning {os.path.basename(base)} on {len(train_eval)} take(s), "
        f"{sum(t.seconds for t in train_takes):.1f} s ({', '.join(t.name for t in train_takes)}); held out: "
        f"{', '.join(t.name for t in held) or 'none'}; {int(supervised.sum())} supervised channels; "
        f"{steps} steps on {device}")
    weights = objective_weights(meta, config, objective)
    log("objective: " + ("facegood_eval's masked position, velocity and key-pose losses" if weights is None else
                         "the base's own loss weights " + json.dumps(weights)))
    tune_started = time.time()
    tuned = facegood_eval.fine_tune(model, train_eval, steps, device, seed, batch_size, lr,
                                    max_seconds=MAX_SECONDS, log=log, loss_weights=weights)
    tune_seconds = time.time() - tune_started
    frozen = sorted({name.split(".")[0] for name, p in tuned.named_parameters() if not p.requires_grad})
    learned = sorted({name.split(".")[0] for name, p in tuned.named_parameters() if p.requires_grad})
    space = config["motion"]["space"]
    models = {"base": model, "fine-tuned": tuned}
    results: Dict[str, dict] = {}
    example: dict = {}
    for group, takes in (("held_out", held_eval), ("train", train_eval)):
        if takes:
            scores, ex = evaluate(models, takes, config, supervised, device)
            results[group] = {"takes": [t.name for t in takes], "models": scores}
            if not example:
                example = dict(ex, group="held-out" if group == "held_out" else "training (seen in fine-tuning)")
    # The model: the base's config and metadata, provenance added; written next to OUT, then renamed.
    extra = {k: v for k, v in meta.items() if k not in ("format", "format_version", "architecture", "config")}
    extra.update({
        "description": f"{meta.get('description', 'kmtalk model')}; fine-tuned by kmtalk_train.finetune on "
                       f"{len(train_takes)} captured take(s)",
        "finetuned_from": os.path.basename(base), "finetuned_from_sha256": base_hash,
        "finetune_generator": "training/kmtalk_train/finetune.py",
        "finetune_takes": ",".join(t.name for t in train_takes),
        "finetune_held_out": ",".join(t.name for t in held),
        "finetune_form": discovery.form, "finetune_steps": str(steps), "finetune_seed": str(seed),
        "finetune_batch_size": str(batch_size), "finetune_lr": str(lr),
        "finetune_loss_weights": json.dumps(weights if weights is not None else
                                            {k: v for k, v in LOSS_WEIGHTS.items() if k not in ("phone", "feature")}),
        "finetune_audio_seconds": f"{sum(t.seconds for t in train_takes):.1f}",
        "finetune_supervised": ",".join(n for n, s in zip(names, supervised) if s) if space == "arkit"
        else f"{int(supervised.sum())} vertex coordinates",
        "finetune_frozen": ",".join(frozen), "finetune_learned": ",".join(learned)})
    directory = os.path.dirname(os.path.abspath(out))
    os.makedirs(directory, exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=".finetune-", suffix=".safetensors", dir=directory)
    os.close(handle)
    try:
        export(tuned.cpu(), config, tmp, extra, dtype=stored_dtype(base),
               template=getattr(model, "motion_template", None), faces=getattr(model, "motion_faces", None))
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    if sha256(base) != base_hash:  # never expected: the base is only read
        raise RuntimeError(f"{base} changed during fine-tuning")
    report = {"base": base, "base_sha256": base_hash, "out": out, "takes_dir_form": discovery.form,
              "steps": steps, "seed": seed, "batch_size": batch_size, "lr": lr, "device": str(device),
              "objective": objective, "loss_weights": weights,
              "fine_tune_seconds": tune_seconds, "seconds": time.time() - started,
              "train_takes": {t.name: t.seconds for t in train_takes},
              "held_out_takes": {t.name: t.seconds for t in held},
              "duration_mismatch_s": {t.name: t.mismatch_s for t in list(train_takes) + list(held)},
              "supervised": [n for n, s in zip(names, supervised) if s] if space == "arkit"
              else int(supervised.sum()),
              "frozen": frozen, "learned": learned, "notes": discovery.notes, "space": space,
              "results": results}
    os.makedirs(report_dir, exist_ok=True)
    if example:
        report["plot_channels"] = plot_curves(example, config, supervised, os.path.join(report_dir, "curves.png"))
    lines = [f"# Fine-tuning report: {os.path.basename(out)}", "",
             f"Base `{os.path.basename(base)}` (sha256 {base_hash[:12]}), {steps} steps on {device}, seed {seed}, "
             f"{tune_seconds:.0f} s of fine-tuning ({report['seconds']:.0f} s in all).", "",
             f"Training takes ({sum(t.seconds for t in train_takes):.1f} s): "
             + ", ".join(f"{t.name} ({t.seconds:.1f} s)" for t in train_takes) + ".",
             "Held-out takes: " + (", ".join(f"{t.name} ({t.seconds:.1f} s)" for t in held) or "none") + ".",
             f"Supervised channels ({int(supervised.sum())}): "
             + (", ".join(report["supervised"]) if space == "arkit" else "all vertex coordinates") + ".",
             f"Frozen: {', '.join(frozen)}; learning: {', '.join(learned)}.", ""]
    lines += table(results, space)
    lines += ["", "Scores as `kmtalk_train.real_bench` (docs/finetune.md): r = Pearson correlation with the capture, "
              "DR = predicted std / captured std (1 = same amount of motion), MAE and velocity MAE over the "
              "supervised channels, bilabials closed at the phones the frozen phone head recognises, pause frames "
              "with every mouth/jaw weight <= 0.1."]
    if example:
        lines += ["", "![captured vs base vs fine-tuned](curves.png)"]
    if discovery.notes:
        lines += ["", "Notes:"] + [f"- {n}" for n in discovery.notes]
    text = "\n".join(lines) + "\n"
    report["markdown"] = text
    with open(os.path.join(report_dir, "report.md"), "w") as f:
        f.write(text)
    with open(os.path.join(report_dir, "report.json"), "w") as f:
        json.dump(real_bench._jsonable({k: v for k, v in report.items() if k != "markdown"}), f, indent=1)
    return report


# ----------------------------------------------------------------------------- CLI

def _default_report(out: str) -> str:
    stem = out[: -len(".safetensors")] if out.endswith(".safetensors") else out
    return stem + "-report"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kmtalk_train.finetune", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("base", help="the model to start from (an exported .safetensors; never modified)")
    parser.add_argument("takes", help="folder of captured takes (one form; see above)")
    parser.add_argument("--out", required=True, help="the fine-tuned model to write (.safetensors)")
    parser.add_argument("--held-out", type=int, default=1, metavar="N",
                        help="hold out the first N takes in name order (default 1; 0: none)")
    parser.add_argument("--held-out-take", action="append", default=[], metavar="NAME",
                        help="hold out this take (repeatable; replaces --held-out)")
    parser.add_argument("--steps", type=int, default=DEFAULT_STEPS)
    parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH)
    parser.add_argument("--lr", type=float, default=DEFAULT_LR)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default=None, help="cpu, cuda, ... (default: CUDA if available)")
    parser.add_argument("--report", metavar="DIR", help="report folder (default: OUT without .safetensors + '-report')")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing OUT (never the base)")
    parser.add_argument("--tolerance", type=float, default=TOLERANCE_S,
                        help=f"largest motion vs audio duration difference in seconds (default {TOLERANCE_S})")
    parser.add_argument("--min-seconds", type=float, default=MIN_TRAIN_SECONDS,
                        help=f"least training audio after the split (default {MIN_TRAIN_SECONDS:g} s)")
    parser.add_argument("--vertex-fps", type=float, help="frame rate of vertex sequences (default: inferred)")
    parser.add_argument("--include-eyes", action="store_true", help="also supervise eye blinks and gaze")
    parser.add_argument("--objective", choices=("base", "recipe"), default="base",
                        help="base: the base model's own loss weights (its metadata), masked to the supervised "
                             "channels; recipe: facegood_eval's position/velocity/key-pose losses (default base)")
    args = parser.parse_args(argv)
    log = lambda *a: print(*a, file=sys.stderr, flush=True)  # noqa: E731
    try:
        if args.steps < 1:
            raise FinetuneError("--steps must be at least 1")
        check_output(args.base, args.out, args.overwrite)
        config, _ = base_config(args.base)
        template = None
        if config["motion"]["space"] == "vertices":
            from kmtalk_ref import safetensors_io
            template = safetensors_io.load(args.base)[0].get("motion.template")
        found = discover(args.takes, config, args.tolerance, args.vertex_fps, template)
        for note in found.notes:
            log(f"note: {note}")
        log(f"{args.takes}: {len(found.takes)} take(s) ({found.form}), "
            f"{sum(t.seconds for t in found.takes):.1f} s: " + ", ".join(t.name for t in found.takes))
        train_takes, held = split(found.takes, args.held_out, args.held_out_take, args.min_seconds)
        supervised = supervised_channels(train_takes, config, args.include_eyes)
        try:
            import torch  # noqa: F401
        except ImportError:
            raise FinetuneError("fine-tuning needs PyTorch (use .venv-torch; training/README.md)") from None
        report_dir = args.report or _default_report(args.out)
        report = run(args.base, found, train_takes, held, supervised, args.out, report_dir, args.steps, args.seed,
                     args.device, args.batch_size, args.lr, args.objective, log=log)
    except FinetuneError as error:
        print(f"finetune: error: {error}", file=sys.stderr)
        return 2
    print(report["markdown"])
    log(f"wrote {args.out} and {report_dir}/report.md, report.json, curves.png ({report['seconds']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
