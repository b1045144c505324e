"""Trains the `kmtalk` model (docs/model.md) on a corpus built by `kmtalk_train.corpus`
and exports it in the engine's format.

    cd training && python -m kmtalk_train.train CORPUS --out model.safetensors --minutes 60

Data (per manifest row with phones and teacher frames):
- audio -> log-mel (the model's `LogMel`, identical to the engine's front-end);
- teacher ARKit frames (60 fps, frame k at k/60 s) linearly resampled to the native rate
  (frame t at t / fps, fps = 50 for the default config);
- per-frame phone labels (the phone at t / fps, `metrics.frame_labels`) and their visible
  features (`phones.features`), in the config's phone / feature order;
- ground-truth key frames at phone boundaries (frames where the label changes), thinned
  and padded with the locator's own min_gap / max_gap rule.
Long utterances are cropped at random to `--max-seconds`.

Losses (weights in LOSS_WEIGHTS): phone cross-entropy + feature BCE (LKMA heads),
key-pose L1 + L2 against the teacher at the key frames, full-sequence motion position L2
and velocity L2 (first differences). Key frames: ground truth early, then a scheduled
switch to the model's own KeyFrameLocator (the probability of using predicted key frames
rises linearly from 0 to 1 between SWITCH_START and SWITCH_END of training), so the CMC
learns to complete motion around the keys it will see at inference.

AdamW, linear warm-up then cosine decay, gradient clipping; deterministic for a seed on
CPU. Training stops after `--minutes` (wall clock) or `--steps`, whichever comes first;
the schedule follows whichever budget is given (the larger progress of the two). Validation
(predicted key frames, as at inference) prints losses, phone accuracy, boundary F1 and
motion errors; the best checkpoint by validation motion MAE is exported.
"""
from __future__ import annotations

import argparse
import copy
import json
import math
import os
import random
import sys
import time
import wave
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from . import metrics, phones as phone_table
from .arkit import INDEX as ARKIT_INDEX
from .corpus import load_manifest, read_segments
from .model import KMTalkModel, LogMel, default_config, native_lengths, tiny_config

LOSS_WEIGHTS = {"phone": 1.0, "feature": 1.0, "key_l1": 1.0, "key_l2": 10.0, "position": 20.0, "velocity": 1000.0}
SWITCH_START, SWITCH_END = 0.3, 0.7
CLOSED_APERTURE = 0.02  # jawOpen - mouthClose at most this on bilabial frames (closure loss)
BILABIAL_FEATURE = phone_table.FEATURE_NAMES.index("bilabial_closure")
LABIODENTAL_FEATURE = phone_table.FEATURE_NAMES.index("labiodental")
LABIODENTAL_ROLL = metrics.LABIODENTAL_ROLL_MIN + 0.05  # mouthRollLower at least this on f v frames ...
LABIODENTAL_JAW = metrics.LABIODENTAL_JAW_MAX            # ... with jawOpen at most this (labiodental loss)
WARMUP = 0.03
TEACHER_FPS = 60.0


# --------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------

@dataclass
class Item:
    id: str
    split: str
    language: str
    mel: np.ndarray                   # float32 [T_mel, n_mels]
    motion: np.ndarray                # float32 [T, M] teacher at the native rate
    phones: Optional[np.ndarray]      # int64 [T] (None without LKMA)
    features: Optional[np.ndarray]    # float32 [T, F]
    keys: List[int]                   # ground-truth key frames
    labels: List[str]                 # phone name per native frame
    engine: str = ""                  # manifest engine ("human" for recorded speech)
    supervised: Optional[np.ndarray] = None  # bool [M]: channels the target really measures (None: all)

    @property
    def frames(self) -> int:
        return len(self.motion)


def read_wav(path: str):
    """(float32 samples in -1..1, sample rate) of a 16-bit mono WAV."""
    with wave.open(path) as w:
        if w.getsampwidth() != 2 or w.getnchannels() != 1:
            raise ValueError(f"{path}: expected 16-bit mono PCM")
        rate = w.getframerate()
        data = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float32) / 32768.0
    return data, rate


def resample_teacher(frames: np.ndarray, count: int, fps: float, teacher_fps: float = TEACHER_FPS) -> np.ndarray:
    """Teacher frames (frame k at k / teacher_fps) at times t / fps, t < count; held at the
    ends."""
    source = np.arange(len(frames)) / teacher_fps
    times = np.arange(count) / fps
    return np.stack([np.interp(times, source, frames[:, c]) for c in range(frames.shape[1])], axis=1).astype(np.float32)


def ground_truth_keys(labels: Sequence, min_gap: int, max_gap: int) -> List[int]:
    """Frame 0, frames where the phone label changes (at least min_gap after the previous
    key), and a key after max_gap frames without one: the locator's rule on true labels."""
    if not len(labels):
        return []
    keys, last = [0], 0
    for t in range(1, len(labels)):
        if (labels[t] != labels[t - 1] and t - last >= min_gap) or t - last >= max_gap:
            keys.append(t)
            last = t
    return keys


def load_item(corpus: str, row: dict, config: dict, logmel: LogMel) -> Item:
    samples, rate = read_wav(os.path.join(corpus, row["audio"]))
    if rate != config["frontend"]["sample_rate"]:
        raise ValueError(f"{row['id']}: {rate} Hz audio, the model expects {config['frontend']['sample_rate']}")
    with torch.no_grad():
        mel = logmel(torch.from_numpy(samples)).numpy()
    fps = float(config["motion"]["fps"])
    count = int(native_lengths(torch.tensor([mel.shape[0]]), config)[0])
    teacher = np.load(os.path.join(corpus, row["teacher"])).astype(np.float32)
    motion = resample_teacher(teacher, count, fps)
    segments = read_segments(os.path.join(corpus, row["phones"]))
    labels = metrics.frame_labels(segments, count, fps)
    phone_ids = features = None
    keys: List[int] = []
    if "lkma" in config:
        lk = config["lkma"]
        index = {name: i for i, name in enumerate(lk["phones"])}
        phone_ids = np.array([index[p] for p in labels], dtype=np.int64)
        table = {p: np.array([float(getattr(phone_table.features(p), f)) for f in lk["features"]], dtype=np.float32)
                 for p in set(labels)}
        features = np.stack([table[p] for p in labels]) if labels else np.zeros((0, len(lk["features"])), np.float32)
        keys = ground_truth_keys(labels, lk["min_gap"], lk["max_gap"])
    return Item(row["id"], row["split"], row["language"], mel, motion, phone_ids, features, keys, labels,
                row.get("engine", ""))


def load_corpus(corpus: str, config: dict, splits: Sequence[str] = ("train", "validation"),
                languages: Optional[Sequence[str]] = None, limit: Optional[int] = None,
                log: Callable = print) -> Dict[str, List[Item]]:
    """Items per split; rows without phones or teacher frames (unaligned recordings) are
    skipped, as are rows with phones outside the config's inventory."""
    rows = [r for r in load_manifest(corpus) if r["split"] in splits and r.get("phones") and r.get("teacher")]
    if languages:
        rows = [r for r in rows if r["language"] in languages]
    if limit:
        rows = rows[:limit]
    logmel = LogMel(config["frontend"])
    out: Dict[str, List[Item]] = {s: [] for s in splits}
    skipped = 0
    started = time.time()
    for n, row in enumerate(rows):
        try:
            item = load_item(corpus, row, config, logmel)
        except (KeyError, ValueError, phone_table.UnknownPhoneError) as error:
            skipped += 1
            if skipped <= 5:
                log(f"  skipped {row['id']}: {error!r}")
            continue
        if item.frames >= 2:
            out[row["split"]].append(item)
        if (n + 1) % 2000 == 0:
            log(f"  loaded {n + 1}/{len(rows)} utterances, {time.time() - started:.0f} s")
    hours = {s: sum(i.frames for i in items) / config["motion"]["fps"] / 3600 for s, items in out.items()}
    log("corpus: " + ", ".join(f"{s} {len(out[s])} utterances {hours[s]:.2f} h" for s in splits)
        + f" ({skipped} skipped, {time.time() - started:.0f} s)")
    return out


@dataclass
class Batch:
    mel: torch.Tensor          # [B, T_mel, n_mels]
    mel_lengths: torch.Tensor  # [B]
    lengths: torch.Tensor      # [B] native frames
    mask: torch.Tensor         # [B, T] valid frames
    motion: torch.Tensor       # [B, T, M]
    phones: Optional[torch.Tensor]
    features: Optional[torch.Tensor]
    keys: List[List[int]]
    channels: Optional[torch.Tensor] = None  # [B, M] 1 where the target is measured (None: all)

    def to(self, device) -> "Batch":
        move = lambda t: None if t is None else t.to(device, non_blocking=True)  # noqa: E731
        return Batch(move(self.mel), self.mel_lengths, move(self.lengths), move(self.mask), move(self.motion),
                     move(self.phones), move(self.features), self.keys, move(self.channels))


def stretched(item: Item, factor: float, config: dict) -> Item:
    """The item at another tempo (mel_augment.stretch_item); phone ids and features follow
    the nearest frame, key frames are recomputed from the stretched labels."""
    from .mel_augment import stretch_item
    count = lambda t_mel: int(native_lengths(torch.tensor([t_mel]), config)[0])  # noqa: E731
    labels = list(range(item.frames)) if item.phones is not None else None
    mel, motion, nearest = stretch_item(item.mel, item.motion, labels, factor, count)
    phones = features = None
    keys: List[int] = []
    names: List[str] = []
    if nearest is not None:
        phones = item.phones[nearest]
        features = item.features[nearest] if item.features is not None else None
        names = [item.labels[i] for i in nearest] if item.labels else []
        if "lkma" in config:
            lk = config["lkma"]
            keys = ground_truth_keys(list(phones), lk["min_gap"], lk["max_gap"])
    return Item(item.id, item.split, item.language, mel, motion, phones, features, keys, names, item.engine,
                item.supervised)


def crop(item: Item, max_frames: int, rng: random.Random, config: dict, min_gap: int, max_gap: int):
    """(mel, motion, phones, features, keys) of a random window of at most max_frames native
    frames (the whole item when shorter)."""
    if item.frames <= max_frames:
        return item.mel, item.motion, item.phones, item.features, item.keys
    stride = int(np.prod([c["stride"] for c in config["encoder"]["conv"]]))
    start = rng.randrange(0, item.frames - max_frames + 1)
    mel = item.mel[start * stride:(start + max_frames) * stride]
    count = min(int(native_lengths(torch.tensor([mel.shape[0]]), config)[0]), item.frames - start)
    window = slice(start, start + count)
    keys = ground_truth_keys(list(item.phones[window]), min_gap, max_gap) if item.phones is not None else []
    return (mel, item.motion[window], None if item.phones is None else item.phones[window],
            None if item.features is None else item.features[window], keys)


def collate(items: Sequence[Item], config: dict, max_frames: int, rng: random.Random,
            stretch: Optional[Callable[[random.Random], Optional[float]]] = None) -> Batch:
    """A padded batch of random crops. `stretch(rng)` gives a tempo factor per item (or
    None for none): on-the-fly tempo augmentation before cropping."""
    lk = config.get("lkma", {})
    if stretch is not None:
        items = [item if (factor := stretch(rng)) is None else stretched(item, factor, config) for item in items]
    parts = [crop(item, max_frames, rng, config, lk.get("min_gap", 1), lk.get("max_gap", 1 << 30)) for item in items]
    mel_lengths = torch.tensor([p[0].shape[0] for p in parts])
    lengths = native_lengths(mel_lengths, config)
    # A crop's targets can be a frame shorter than its mel implies: trim the mel to match.
    for i, p in enumerate(parts):
        if int(lengths[i]) > len(p[1]):
            raise ValueError("targets shorter than the encoder output")
    batch, t_mel, t = len(parts), int(mel_lengths.max()), int(lengths.max())
    mel = torch.zeros(batch, t_mel, config["frontend"]["n_mels"])
    motion = torch.zeros(batch, t, len(config["motion"]["channels"]))
    has_keys = parts[0][2] is not None
    phone_ids = torch.zeros(batch, t, dtype=torch.long) if has_keys else None
    features = torch.zeros(batch, t, len(lk["features"])) if has_keys else None
    for i, (m, mo, ph, fe, _) in enumerate(parts):
        n = int(lengths[i])
        mel[i, :m.shape[0]] = torch.from_numpy(m)
        motion[i, :n] = torch.from_numpy(mo[:n])
        if has_keys:
            phone_ids[i, :n] = torch.from_numpy(ph[:n])
            features[i, :n] = torch.from_numpy(fe[:n])
    mask = torch.arange(t)[None, :] < lengths[:, None]
    keys = [[k for k in p[4] if k < int(lengths[i])] for i, p in enumerate(parts)]
    channels = None
    if any(item.supervised is not None for item in items):
        m = len(config["motion"]["channels"])
        channels = torch.stack([torch.ones(m) if item.supervised is None else torch.from_numpy(
            item.supervised.astype(np.float32)) for item in items])
    return Batch(mel, mel_lengths, lengths, mask, motion, phone_ids, features, keys, channels)


def restrict_supervision(items: Sequence[Item], channels: Sequence[str]) -> None:
    """Keeps only `channels` (ARKit names) of each capture item's supervised mask, in place:
    the other channels then learn from the teacher alone."""
    unknown = [c for c in channels if c not in ARKIT_INDEX]
    if unknown:
        raise ValueError(f"unknown ARKit channels: {', '.join(unknown)}")
    keep = np.zeros(len(ARKIT_INDEX), dtype=bool)
    keep[[ARKIT_INDEX[c] for c in channels]] = True
    for item in items:
        item.supervised = item.supervised & keep


def teach_unsupervised_capture(items: Sequence[Item], curves: Dict[str, np.ndarray],
                               measured: Dict[str, np.ndarray]) -> None:
    """In place: each capture item's channels that its rig measures (`measured[id]`) but its
    supervision no longer holds (after `restrict_supervision`) take their target from the
    teacher curve `curves[id]` ([T, 52] at the item's rate) and are supervised again."""
    for item in items:
        if item.id not in curves:
            raise ValueError(f"no teacher curve for capture take {item.id}")
        curve = curves[item.id]
        if abs(len(curve) - len(item.motion)) > 2 or curve.shape[1] != item.motion.shape[1]:
            raise ValueError(f"teacher curve of {item.id}: {curve.shape}, capture {item.motion.shape}")
        taught = measured[item.id] & ~item.supervised
        n = min(len(curve), len(item.motion))
        motion = item.motion.copy()
        motion[:n, taught] = curve[:n, taught]
        motion[n:, taught] = curve[n - 1, taught]
        item.motion = motion
        item.supervised = item.supervised | taught


def batches(items: List[Item], batch_size: int, rng: random.Random):
    """Endless: shuffled, grouped by similar length (less padding), batches shuffled."""
    while True:
        order = list(range(len(items)))
        rng.shuffle(order)
        group = batch_size * 32
        chunks = []
        for g in range(0, len(order), group):
            part = sorted(order[g:g + group], key=lambda i: items[i].frames)
            chunks += [part[i:i + batch_size] for i in range(0, len(part), batch_size)]
        rng.shuffle(chunks)
        for chunk in chunks:
            yield [items[i] for i in chunk]


# --------------------------------------------------------------------------------------
# Losses
# --------------------------------------------------------------------------------------

def dynamic_range_loss(motion: torch.Tensor, target: torch.Tensor, mask: torch.Tensor,
                       channels: Optional[torch.Tensor] = None) -> torch.Tensor:
    """Squared difference of the per-item, per-channel standard deviation over valid frames
    (predicted vs target), averaged over measured channels: punishes damped, mushy curves
    that a position loss alone rewards."""
    weight = mask.float()[..., None]
    count = weight.sum(1).clamp(min=1.0)
    def std(x):
        mean = (x * weight).sum(1) / count
        return (((x - mean[:, None]) ** 2 * weight).sum(1) / count + 1e-8).sqrt()
    difference = (std(motion) - std(target)).square()
    if channels is None:
        return difference.mean()
    return (difference * channels).sum() / channels.sum().clamp(min=1.0)


# Channels whose target moves less than this (std over an item) are left out of the
# log-ratio range loss: the ratio of two near-constant curves is noise.
RANGE_LOG_MIN_STD = 0.01


def dynamic_range_log_loss(motion: torch.Tensor, target: torch.Tensor, mask: torch.Tensor,
                           channels: Optional[torch.Tensor] = None) -> torch.Tensor:
    """Squared log ratio of the per-item, per-channel standard deviation (predicted /
    target) over the channels whose target moves (std > RANGE_LOG_MIN_STD): unlike
    `dynamic_range_loss`, a lip channel of std 0.04 damped to 0.014 costs as much as a jaw
    of std 0.12 damped to 0.04 (the squared difference makes the lips' shortfall ~10x
    cheaper)."""
    weight = mask.float()[..., None]
    count = weight.sum(1).clamp(min=1.0)
    def std(x):
        mean = (x * weight).sum(1) / count
        return (((x - mean[:, None]) ** 2 * weight).sum(1) / count + 1e-8).sqrt()
    target_std = std(target)
    moving = (target_std > RANGE_LOG_MIN_STD).float()
    if channels is not None:
        moving = moving * channels
    ratio = (torch.log(std(motion) + 1e-4) - torch.log(target_std + 1e-4)).square()
    return (ratio * moving).sum() / moving.sum().clamp(min=1.0)


def correlation_loss(motion: torch.Tensor, target: torch.Tensor, mask: torch.Tensor,
                     channels: Optional[torch.Tensor] = None) -> torch.Tensor:
    """Mean (1 - Pearson r) per item and channel over the valid frames, over the channels
    whose target moves (std > RANGE_LOG_MIN_STD): the shape of a curve, whatever its scale,
    which is what the real-speech benchmark scores. Position and velocity losses alone let a
    model trade the timing of real speech's peaks for a smaller mean error; the range losses
    then fix the scale."""
    weight = mask.float()[..., None]
    count = weight.sum(1).clamp(min=1.0)
    predicted = (motion - (motion * weight).sum(1)[:, None] / count[:, None]) * weight
    wanted = (target - (target * weight).sum(1)[:, None] / count[:, None]) * weight
    covariance = (predicted * wanted).sum(1)
    r = covariance / ((predicted.square().sum(1) + 1e-8).sqrt() * (wanted.square().sum(1) + 1e-8).sqrt())
    moving = ((wanted.square().sum(1) / count).sqrt() > RANGE_LOG_MIN_STD).float()
    if channels is not None:
        moving = moving * channels
    return ((1.0 - r) * moving).sum() / moving.sum().clamp(min=1.0)


def closure_loss(motion: torch.Tensor, bilabial: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean squared excess lip aperture (jawOpen - mouthClose above CLOSED_APERTURE) over
    the valid frames `bilabial` marks (float [B, T], 0/1): lips must seal on p b m however
    far the jaw opens, which ARKit expresses with mouthClose cancelling jawOpen. Real
    capture supervises the jaw but not mouthClose, so without this term a model that learns
    the captured jaw leaves bilabials open.

    Plus, over every valid frame, the squared excess of mouthClose over jawOpen: ARKit's
    mouthClose only means "lips together while the jaw is open", on a rig it pushes the lips
    through each other when it exceeds jawOpen (ICT-FaceKit: 0.47 cm apart at mouthClose
    0.12, jawOpen 0.01). The teacher never does it; without this side the term above is
    cheapest to meet by raising mouthClose on capture, where nothing supervises it."""
    jaw, close = motion[..., ARKIT_INDEX["jawOpen"]], motion[..., ARKIT_INDEX["mouthClose"]]
    aperture = (jaw - close - CLOSED_APERTURE).clamp(min=0.0)
    valid = mask.float()
    weight = bilabial * valid
    sealed = (aperture.square() * weight).sum() / weight.sum().clamp(min=1.0)
    over = ((close - jaw).clamp(min=0.0).square() * valid).sum() / valid.sum().clamp(min=1.0)
    return sealed + over


def labiodental_loss(motion: torch.Tensor, labiodental: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean squared shortfall of lower-lip contact over the valid frames `labiodental` marks
    (float [B, T], 0/1): on f v the lower lip rolls in to the upper teeth (mouthRollLower at
    least LABIODENTAL_ROLL) with the jaw nearly closed (jawOpen at most LABIODENTAL_JAW).
    These phones are short, so a smooth model undershoots them; the teacher meets both on
    85% of its f v frames, the base model on about half of the phone centres."""
    roll = (LABIODENTAL_ROLL - motion[..., ARKIT_INDEX["mouthRollLower"]]).clamp(min=0.0)
    jaw = (motion[..., ARKIT_INDEX["jawOpen"]] - LABIODENTAL_JAW).clamp(min=0.0)
    weight = labiodental * mask.float()
    return ((roll.square() + jaw.square()) * weight).sum() / weight.sum().clamp(min=1.0)


def _feature_frames(batch: Batch, out: Dict[str, torch.Tensor], feature: int,
                    use_keys: bool) -> Optional[torch.Tensor]:
    """float [B, T] 0/1: frames whose phone has `feature` (labelled items: the labels;
    captured takes: the model's own detached feature detector; None without one)."""
    if batch.phones is not None:
        return (batch.features[..., feature] >= 0.5).float()
    if use_keys:
        return (out["feature_prob"][..., feature].detach() >= 0.5).float()
    return None


def losses(model: KMTalkModel, batch: Batch, predicted_keys: bool, weights: Dict[str, float] = LOSS_WEIGHTS):
    """(total, {name: value}, model output). Items without phone labels (captured takes)
    use the model's own key frames and no phone/feature loss; a batch's channel mask limits
    the motion losses to the channels its targets measure."""
    labelled = batch.phones is not None
    use_truth = model.use_keys and labelled and not predicted_keys
    out = model(batch.mel, key_frames=batch.keys if use_truth else None, lengths=batch.mel_lengths)
    mask = batch.mask
    parts: Dict[str, torch.Tensor] = {}
    target = batch.motion
    motion = out["motion"].float()
    channels = batch.channels
    per_channel = channels[:, None, :] if channels is not None else None

    def channel_mean(x: torch.Tensor) -> torch.Tensor:  # [B, T, M] -> [B, T]
        if per_channel is None:
            return x.mean(-1)
        return (x * per_channel).sum(-1) / per_channel.sum(-1).clamp(min=1.0)

    parts["position"] = channel_mean((motion - target).square())[mask].mean()
    velocity_mask = mask[:, 1:] & mask[:, :-1]
    velocity = channel_mean(((motion[:, 1:] - motion[:, :-1]) - (target[:, 1:] - target[:, :-1])).square())
    parts["velocity"] = velocity[velocity_mask].mean() if bool(velocity_mask.any()) else velocity.sum() * 0
    if weights.get("range", 0.0):
        parts["range"] = dynamic_range_loss(motion, target, mask, channels)
    if weights.get("range_log", 0.0):
        parts["range_log"] = dynamic_range_log_loss(motion, target, mask, channels)
    if weights.get("correlation", 0.0):
        parts["correlation"] = correlation_loss(motion, target, mask, channels)
    for name, feature, contact_loss in (("closure", BILABIAL_FEATURE, closure_loss),
                                        ("labiodental", LABIODENTAL_FEATURE, labiodental_loss)):
        if weights.get(name, 0.0):
            frames = _feature_frames(batch, out, feature, model.use_keys)
            if frames is not None:
                parts[name] = contact_loss(motion, frames, mask)
    if model.use_keys:
        if labelled:
            parts["phone"] = F.cross_entropy(out["phone_logits"][mask].float(), batch.phones[mask])
            parts["feature"] = F.binary_cross_entropy_with_logits(out["feature_logits"][mask].float(),
                                                                  batch.features[mask])
        if out["key_poses_flat"].shape[0]:
            key_target = target[out["key_batch"], out["key_index"]]
            difference = out["key_poses_flat"].float() - key_target
            key_channels = channels[out["key_batch"]] if channels is not None else None
            def key_mean(x):
                return x.mean() if key_channels is None else (x * key_channels).sum() / key_channels.sum().clamp(min=1)
            parts["key_l1"] = key_mean(difference.abs())
            parts["key_l2"] = key_mean(difference.square())
    total = sum(weights.get(name, 0.0) * value for name, value in parts.items())
    return total, {name: float(value.detach()) for name, value in parts.items()}, out


def progress_fraction(step: int, steps: Optional[int], elapsed: float, seconds: Optional[float]) -> float:
    fractions = [step / steps if steps else 0.0, elapsed / seconds if seconds else 0.0]
    return min(1.0, max(fractions))


def predicted_key_probability(progress: float) -> float:
    return min(1.0, max(0.0, (progress - SWITCH_START) / (SWITCH_END - SWITCH_START)))


def learning_rate(base: float, progress: float) -> float:
    if progress < WARMUP:
        return base * max(progress / WARMUP, 0.01)
    return base * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * (progress - WARMUP) / (1 - WARMUP))))


# --------------------------------------------------------------------------------------
# Evaluation
# --------------------------------------------------------------------------------------

@torch.no_grad()
def evaluate(model: KMTalkModel, items: List[Item], config: dict, device, batch_size: int = 16,
             predicted_keys: bool = True, max_frames: int = 1 << 30) -> Dict[str, float]:
    """Mean losses and metrics over `items` (whole utterances, predicted key frames as at
    inference unless predicted_keys=False)."""
    if not items:
        return {}
    was_training = model.training
    model.eval()
    rng = random.Random(0)
    totals: Dict[str, float] = {}
    frames = 0
    phone_hits = boundary_hits = boundary_predicted = boundary_reference = 0
    motion_abs = velocity_abs = 0.0
    fps = float(config["motion"]["fps"])
    for start in range(0, len(items), batch_size):
        chunk = items[start:start + batch_size]
        batch = collate(chunk, config, max_frames, rng).to(device)
        total, parts, out = losses(model, batch, predicted_keys)
        n = int(batch.mask.sum())
        frames += n
        for name, value in dict(parts, total=float(total.detach())).items():
            totals[name] = totals.get(name, 0.0) + value * n
        motion = out["motion"].float()
        motion_abs += float((motion - batch.motion).abs().mean(-1)[batch.mask].sum())
        dv = (motion[:, 1:] - motion[:, :-1]) - (batch.motion[:, 1:] - batch.motion[:, :-1])
        velocity_abs += float(dv.abs().mean(-1)[batch.mask[:, 1:] & batch.mask[:, :-1]].sum())
        if model.use_keys:
            phone_hits += int((out["phone_logits"].argmax(-1) == batch.phones)[batch.mask].sum())
            for i in range(len(chunk)):
                predicted = [k / fps for k in out["key_frames"][i] if k > 0]
                reference = [k / fps for k in batch.keys[i] if k > 0]
                scores = metrics.boundary_f1(predicted, reference, tolerance=0.02)
                boundary_hits += scores["hits"]
                boundary_predicted += len(predicted)
                boundary_reference += len(reference)
    result = {name: value / max(frames, 1) for name, value in totals.items()}
    result["motion_mae"] = motion_abs / max(frames, 1)
    result["velocity_mae"] = velocity_abs / max(frames, 1)
    if model.use_keys:
        result["phone_accuracy"] = phone_hits / max(frames, 1)
        precision = boundary_hits / boundary_predicted if boundary_predicted else 0.0
        recall = boundary_hits / boundary_reference if boundary_reference else 0.0
        result["boundary_f1"] = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    model.train(was_training)
    return result


def _fmt(values: Dict[str, float]) -> str:
    return " ".join(f"{k} {v:.4g}" for k, v in values.items())


# --------------------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------------------

def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


class WeightAverage:
    """An exponential moving average of a model's floating-point parameters and buffers.
    Early steps weigh more (decay min(d, (1 + step) / (10 + step))), so the average does not
    remember the random initialisation."""

    def __init__(self, model: torch.nn.Module, decay: float):
        if not 0.0 < decay < 1.0:
            raise ValueError(f"weight average decay must be in (0, 1), got {decay}")
        self.decay = decay
        self.state = {k: v.detach().clone() for k, v in model.state_dict().items()}

    @torch.no_grad()
    def update(self, model: torch.nn.Module, step: int) -> None:
        d = min(self.decay, (1 + step) / (10 + step))
        for name, value in model.state_dict().items():
            kept = self.state[name]
            if kept.is_floating_point():
                kept.mul_(d).add_(value.detach(), alpha=1 - d)
            else:
                kept.copy_(value)

    def copy_to(self, model: torch.nn.Module) -> None:
        model.load_state_dict(self.state)


def raw_path(out: str) -> str:
    """Where `--ema` writes the last trained (not averaged) weights next to `out`."""
    stem = out[:-len(".safetensors")] if out.endswith(".safetensors") else out
    return stem + ".raw.safetensors"


def train(corpus: str, out: Optional[str], minutes: Optional[float] = None, steps: Optional[int] = None,
          config: Optional[dict] = None, seed: int = 0, batch_size: int = 16, lr: float = 1e-3,
          weight_decay: float = 0.01, max_seconds: float = 8.0, val_every: int = 500, val_limit: int = 400,
          device: Optional[str] = None, amp: bool = False, languages: Optional[Sequence[str]] = None,
          limit: Optional[int] = None, data: Optional[Dict[str, List[Item]]] = None,
          log: Callable = print, init: Optional[str] = None, capture: Optional[List[Item]] = None,
          capture_fraction: float = 0.0, augment: bool = False, recorded_fraction: Optional[float] = None,
          loss_weights: Optional[Dict[str, float]] = None, select_best: bool = True,
          ema_decay: float = 0.0) -> dict:
    """Trains and (when `out` is set) exports the best model. Returns a summary with the
    loss history. `data` (from load_corpus or pack.load) skips loading the corpus again.

    `init`: start from this exported model's weights (its config replaces `config`).
    `capture`: items of real captured motion (each with its `supervised` channel mask, no
    phone labels); a step is a capture step with probability `capture_fraction` (the
    model's own key frames, masked motion losses, no phone loss).
    `recorded_fraction`: the share of the other (non-capture) steps drawn from the
    recorded (engine "human") utterances, the rest from the synthetic ones (None: every
    training utterance alike, whatever made it). `augment`: on-the-fly
    mel-domain augmentation (mel_augment: gain, noise, reverb, band limits, VTLP, tempo)
    of every batch. `select_best`: export the checkpoint with the best validation motion
    MAE (else the last). `ema_decay` > 0: keep an exponential moving average of the weights
    (decay ramped in as (1 + step) / (10 + step) early on) and export it instead of the
    trained weights; the last trained weights are also written to `<out>.raw.safetensors`,
    so one run gives a paired comparison with the same seed and data order."""
    if minutes is None and steps is None:
        raise ValueError("give minutes or steps")
    weights = dict(LOSS_WEIGHTS, **(loss_weights or {}))
    initial = None
    if init:
        from .export import load
        initial, init_config, _ = load(init)
        config = init_config
    config = copy.deepcopy(config or default_config())
    seed_everything(seed)
    device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    if data is None:
        data = load_corpus(corpus, config, languages=languages, limit=limit, log=log)
    train_items = data.get("train", [])
    if not train_items:
        raise ValueError(f"{corpus}: no training utterances")
    validation = data.get("validation", [])[:val_limit]
    model = KMTalkModel(config)
    if initial is not None:
        model.load_state_dict(initial.state_dict())
    model.to(device)
    log(f"model: {model.parameter_count():,} parameters, device {device}, batch {batch_size}, lr {lr}"
        + (f", from {init}" if init else "") + (f", {len(capture)} capture takes at {capture_fraction:.0%} of steps"
                                               if capture else "") + (", on-the-fly augmentation" if augment else ""))
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2 and "positions" not in n]
    no_decay = [p for n, p in model.named_parameters() if not (p.dim() >= 2 and "positions" not in n)]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": weight_decay},
                                   {"params": no_decay, "weight_decay": 0.0}], lr=lr, betas=(0.9, 0.98))
    rng = random.Random(seed)
    stream = batches(train_items, batch_size, rng)
    recorded_stream = None
    if recorded_fraction is not None:
        recorded = [item for item in train_items if item.engine == "human"]
        synthetic = [item for item in train_items if item.engine != "human"]
        if not 0.0 <= recorded_fraction <= 1.0:
            raise ValueError(f"recorded_fraction {recorded_fraction} is not in 0..1")
        if (recorded_fraction > 0 and not recorded) or (recorded_fraction < 1 and not synthetic):
            raise ValueError(f"recorded_fraction {recorded_fraction}: the data hold {len(recorded)} recorded "
                             f"and {len(synthetic)} synthetic training utterances")
        log(f"recorded speech on {recorded_fraction:.0%} of the other steps: {len(recorded)} recorded, "
            f"{len(synthetic)} synthetic utterances")
        stream = batches(synthetic, batch_size, rng) if synthetic else None
        recorded_stream = batches(recorded, batch_size, rng) if recorded else None
    capture_stream = batches(list(capture), batch_size, rng) if capture and capture_fraction > 0 else None
    augmenter = stretch = None
    if augment:
        from .mel_augment import MelAugment
        augmenter = MelAugment(config["frontend"], seed=seed)
        settings = augmenter.settings
        stretch = lambda r: r.uniform(*settings.stretch) if r.random() < settings.p_stretch else None  # noqa: E731
    max_frames = int(max_seconds * config["motion"]["fps"])
    seconds = minutes * 60 if minutes is not None else None
    history: List[dict] = []
    validations: List[dict] = []
    best = (float("inf"), None, None)
    averaged = WeightAverage(model, ema_decay) if ema_decay > 0 else None
    started = time.time()
    step = 0
    running: Dict[str, float] = {}
    model.train()
    while True:
        elapsed = time.time() - started
        progress = progress_fraction(step, steps, elapsed, seconds)
        if (steps is not None and step >= steps) or (seconds is not None and elapsed >= seconds):
            break
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(lr, progress)
        on_capture = capture_stream is not None and rng.random() < capture_fraction
        use_predicted = model.use_keys and (on_capture or (init is not None) or
                                            rng.random() < predicted_key_probability(progress))
        source = capture_stream if on_capture else stream
        if not on_capture and recorded_stream is not None and (stream is None or rng.random() < recorded_fraction):
            source = recorded_stream
        batch = collate(next(source), config, max_frames, rng, stretch).to(device)
        if augmenter is not None:
            batch.mel = augmenter(batch.mel, batch.mel_lengths)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
            total, parts, _ = losses(model, batch, use_predicted, weights)
        optimizer.zero_grad(set_to_none=True)
        total.backward()
        grad_norm = float(torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0))
        optimizer.step()
        step += 1
        if averaged is not None:
            averaged.update(model, step)
        record = dict(parts, total=float(total.detach()), step=step, lr=optimizer.param_groups[0]["lr"],
                      predicted_keys=use_predicted, grad_norm=grad_norm, capture=on_capture)
        history.append(record)
        for name, value in dict(parts, total=float(total.detach())).items():
            running[("capture " if on_capture else "") + name] = running.get(
                ("capture " if on_capture else "") + name, 0.0) + value
        report = max(1, min(100, val_every // 5 if val_every else 100))
        if step % report == 0:
            counts = sum(1 for r in history[-report:] if r["capture"])
            log(f"step {step} {time.time() - started:.0f}s lr {record['lr']:.2e} p_pred "
                f"{predicted_key_probability(progress):.2f} " + _fmt(
                    {k: v / (counts if k.startswith("capture") else report - counts or 1)
                     for k, v in running.items()}))
            running = {}
        if validation and val_every and step % val_every == 0:
            scores = evaluate(model, validation, config, device, batch_size)
            scores["step"] = step
            validations.append(scores)
            log(f"validation step {step}: " + _fmt({k: v for k, v in scores.items() if k != "step"}))
            if select_best and scores["motion_mae"] < best[0]:
                best = (scores["motion_mae"], step, {k: v.detach().cpu().clone() for k, v in model.state_dict().items()})
    final = evaluate(model, validation, config, device, batch_size) if validation else {}
    if final:
        final["step"] = step
        validations.append(final)
        log(f"validation (final, step {step}): " + _fmt({k: v for k, v in final.items() if k != "step"}))
        if final["motion_mae"] <= best[0] or not select_best:
            best = (final["motion_mae"], step, None)
    if best[2] is not None:
        model.load_state_dict(best[2])
        log(f"best validation motion MAE {best[0]:.4f} at step {best[1]}")
    raw_state = None
    if averaged is not None:
        raw_state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
        averaged.copy_to(model)
        if validation:
            scores = evaluate(model, validation, config, device, batch_size)
            scores["step"] = step
            scores["averaged"] = 1.0
            validations.append(scores)
            log(f"validation (weight average, decay {ema_decay}): "
                + _fmt({k: v for k, v in scores.items() if k not in ("step", "averaged")}))
    summary = {"steps": step, "seconds": round(time.time() - started, 1), "history": history,
               "validation": validations, "best_step": best[1] if best[1] is not None else step,
               "parameters": model.parameter_count()}
    if out:
        from .export import export
        meta = {"description": "kmtalk model trained by kmtalk_train.train on the generated corpus"
                + (" and real capture" if capture else ""),
                "generator": "training/kmtalk_train/train.py",
                # The corpus's name only: no machine's paths in a shipped file.
                "corpus": os.path.basename(os.path.normpath(corpus)) if corpus else "",
                "steps": str(step), "best_step": str(summary["best_step"]), "seed": str(seed),
                "train_seconds": str(summary["seconds"]),
                # SPDX: the corpus trains on CC-BY-SA-3.0 recorded prompts (models/CARDS.md).
                "license": "CC-BY-SA-4.0"}
        if init:
            meta["init"] = os.path.basename(init)
        if capture:
            meta["capture_takes"] = ",".join(item.id for item in capture)
        if augment:
            meta["augment"] = "on-the-fly mel-domain (kmtalk_train.mel_augment)"
        if averaged is not None:
            meta["weight_average"] = f"exponential moving average, decay {ema_decay}"
        meta["loss_weights"] = json.dumps(weights)
        if validations:
            best_scores = next((v for v in validations if v["step"] == summary["best_step"]), validations[-1])
            meta["validation"] = json.dumps({k: round(v, 5) for k, v in best_scores.items()})
        export(model.cpu(), config, out, meta)
        log(f"wrote {out}")
        if raw_state is not None:
            averaged_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            model.load_state_dict(raw_state)
            raw_meta = {k: v for k, v in meta.items() if k != "weight_average"}
            raw_out = raw_path(out)
            export(model.cpu(), config, raw_out, raw_meta)
            model.load_state_dict(averaged_state)
            log(f"wrote {raw_out} (the last trained weights, not averaged)")
        model.to(device)
    summary["model"] = model
    return summary


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kmtalk_train.train", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", help="corpus directory (manifest.jsonl), or a pack (.npz, kmtalk_train.pack)")
    parser.add_argument("--out", required=True, help="output .safetensors")
    parser.add_argument("--minutes", type=float, default=None, help="wall-clock training budget")
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--size", choices=["default", "tiny"], default="default")
    parser.add_argument("--no-keys", action="store_true", help="the direct-regression baseline (cmc.use_keys=false)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--weight-decay", type=float, default=0.01)
    parser.add_argument("--max-seconds", type=float, default=8.0, help="random crop length")
    parser.add_argument("--val-every", type=int, default=500)
    parser.add_argument("--val-limit", type=int, default=400, help="validation utterances")
    parser.add_argument("--languages", default=None, help="comma-separated (default all)")
    parser.add_argument("--limit", type=int, default=None, help="at most this many utterances (debugging)")
    parser.add_argument("--device", default=None)
    parser.add_argument("--amp", action="store_true", help="bfloat16 autocast")
    parser.add_argument("--band-ahead", type=int, default=None,
                        help="encoder look-ahead per layer in native frames (default config: 2)")
    parser.add_argument("--cmc-band-ahead", type=int, default=None,
                        help="CMC look-ahead per layer in native frames (default config: 2); with --band-ahead "
                             "this sets the streaming latency (docs/model.md section 4)")
    parser.add_argument("--init", help="start from this exported model (its architecture replaces --size)")
    parser.add_argument("--capture-fraction", type=float, default=0.0,
                        help="share of steps on the pack's real capture takes (masked losses)")
    parser.add_argument("--recorded-fraction", type=float, default=None,
                        help="share of the non-capture steps on recorded (human) utterances, the rest on "
                             "synthetic ones (default: all training utterances alike)")
    parser.add_argument("--capture-channels", default=None, metavar="NAMES",
                        help="comma-separated ARKit channels the capture supervises (default: every channel its "
                             "rig measures); the others learn from the teacher alone")
    parser.add_argument("--capture-teacher", default=None, metavar="NPZ",
                        help="with --capture-channels: teacher curves per take (python -m kmtalk_train.self_targets) "
                             "that supervise the capture's other measured channels")
    parser.add_argument("--exclude-take", action="append", default=[],
                        help="leave this capture take out of training (a held-out fold); repeatable")
    parser.add_argument("--augment", action="store_true", help="on-the-fly mel-domain augmentation")
    parser.add_argument("--closure-weight", type=float, default=0.0,
                        help="weight of the bilabial closure loss (jawOpen - mouthClose on p b m frames)")
    parser.add_argument("--labiodental-weight", type=float, default=0.0,
                        help="weight of the labiodental contact loss (mouthRollLower up, jawOpen down on f v frames)")
    parser.add_argument("--range-weight", type=float, default=0.0,
                        help="weight of the dynamic-range loss (per-channel std, predicted vs target)")
    parser.add_argument("--range-log-weight", type=float, default=0.0,
                        help="weight of the log-ratio dynamic-range loss (moving channels weigh alike)")
    parser.add_argument("--correlation-weight", type=float, default=0.0,
                        help="weight of the correlation loss (1 - Pearson r per moving channel)")
    parser.add_argument("--shallow", action="store_true",
                        help="add the shallow path (conv features -> motion logits, cmc.shallow)")
    parser.add_argument("--loudness", action="store_true",
                        help="add the loudness path (relative loudness -> CMC input and motion logits, cmc.loudness)")
    parser.add_argument("--last", action="store_true",
                        help="export the last step instead of the best validation MAE")
    parser.add_argument("--ema", type=float, default=0.0, metavar="DECAY",
                        help="export an exponential moving average of the weights (e.g. 0.998); the last "
                             "trained weights go to OUT.raw.safetensors")
    args = parser.parse_args(argv)
    if args.minutes is None and args.steps is None:
        parser.error("give --minutes or --steps")
    config = (tiny_config if args.size == "tiny" else default_config)(use_keys=not args.no_keys,
                                                                      shallow=args.shallow,
                                                                      loudness=args.loudness)
    if args.init:
        from .export import load
        config = load(args.init)[1]
    if args.band_ahead is not None:
        config["encoder"]["band_ahead"] = args.band_ahead
    if args.cmc_band_ahead is not None:
        config["cmc"]["band_ahead"] = args.cmc_band_ahead
    data = capture = None
    if args.corpus.endswith(".npz"):
        from . import pack
        data = pack.load(args.corpus, config)
        capture = [item for item in data.pop("capture", []) if item.id not in args.exclude_take]
        unknown = set(args.exclude_take) - {item.id for item in pack.load(args.corpus, config).get("capture", [])}
        if unknown:
            parser.error(f"--exclude-take: no such take in the pack: {', '.join(sorted(unknown))}")
        if args.capture_teacher and not args.capture_channels:
            parser.error("--capture-teacher needs --capture-channels")
        if args.capture_channels:
            measured = {item.id: item.supervised.copy() for item in capture}
            try:
                restrict_supervision(capture, args.capture_channels.split(","))
                if args.capture_teacher:
                    curves = np.load(args.capture_teacher)
                    teach_unsupervised_capture(capture, {k: curves[k] for k in curves.files}, measured)
            except ValueError as error:
                parser.error(f"--capture-channels / --capture-teacher: {error}")
    elif args.capture_fraction:
        parser.error("--capture-fraction needs a pack with capture takes")
    summary = train(args.corpus, args.out, args.minutes, args.steps, config, args.seed, args.batch_size, args.lr,
                    args.weight_decay, args.max_seconds, args.val_every, args.val_limit, args.device, args.amp,
                    args.languages.split(",") if args.languages else None, args.limit, data=data,
                    init=args.init, capture=capture, capture_fraction=args.capture_fraction, augment=args.augment,
                    recorded_fraction=args.recorded_fraction,
                    loss_weights={"range": args.range_weight, "range_log": args.range_log_weight,
                                  "correlation": args.correlation_weight,
                                  "closure": args.closure_weight, "labiodental": args.labiodental_weight},
                    select_best=not args.last, ema_decay=args.ema)
    print(json.dumps({"steps": summary["steps"], "seconds": summary["seconds"], "best_step": summary["best_step"],
                      "validation": summary["validation"][-1] if summary["validation"] else None}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
