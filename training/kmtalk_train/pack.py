"""A compact, self-contained training pack: log-mel features and targets of a corpus
subset plus real capture takes in one .npz, so training can run where the corpus (and the
speech engines that made it) are not, e.g. on a GPU machine with a small upload limit.

    cd training && ../.venv-torch/bin/python -m kmtalk_train.pack CORPUS --out pack.npz \\
        --hours 1.0 --validation 300 --facegood ../../shared/data/facegood --teacher calibrated

- log-mel is stored as uint8 (`MEL_LOW` + q * `MEL_STEP`, natural log, 0.086 per step =
  0.37 dB, below what the model resolves), targets as uint8 (1/255 steps), phone ids as
  uint8 indices into the config's inventory;
- `--teacher calibrated` recomputes every utterance's targets with the teacher fitted to
  real capture (`teacher.calibrated_params`, from the utterance's audio and exact phones)
  instead of the corpus's stored ones;
- FACEGOOD takes go in with their supervised channel mask (`facegood_arkit`);
- `--human-first` packs every recorded prompt that has phones before the synthetic
  utterances fill the hours (otherwise they are drawn with them at random).

`load(path, config)` gives {"train": [...], "validation": [...], "capture": [...]} of
`train.Item`s.
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import time
from typing import Dict, List, Optional

import numpy as np
import torch

MEL_LOW = float(np.log(1e-6))
MEL_STEP = 0.086


def _quantize_mel(mel: np.ndarray) -> np.ndarray:
    return np.clip(np.round((mel - MEL_LOW) / MEL_STEP), 0, 255).astype(np.uint8)


def _motion_u8(motion: np.ndarray) -> np.ndarray:
    return np.clip(np.round(motion * 255), 0, 255).astype(np.uint8)


def save(path: str, splits: Dict[str, list], config: dict) -> None:
    """Writes items ({split: [train.Item]}) to one compressed .npz."""
    arrays: Dict[str, np.ndarray] = {}
    for split, items in splits.items():
        if not items:
            continue
        mel_lengths = np.array([len(i.mel) for i in items], dtype=np.int64)
        lengths = np.array([len(i.motion) for i in items], dtype=np.int64)
        arrays[f"{split}/mel"] = _quantize_mel(np.concatenate([i.mel for i in items]))
        arrays[f"{split}/motion"] = _motion_u8(np.concatenate([i.motion for i in items]))
        arrays[f"{split}/mel_lengths"] = mel_lengths
        arrays[f"{split}/lengths"] = lengths
        arrays[f"{split}/ids"] = np.array([i.id for i in items])
        arrays[f"{split}/languages"] = np.array([i.language for i in items])
        arrays[f"{split}/engines"] = np.array([i.engine for i in items])
        if items[0].phones is not None:
            arrays[f"{split}/phones"] = np.concatenate([i.phones for i in items]).astype(np.uint8)
        if items[0].supervised is not None:
            arrays[f"{split}/supervised"] = np.stack([i.supervised for i in items])
    arrays["inventory"] = np.array(config["lkma"]["phones"]) if "lkma" in config else np.array([])
    np.savez_compressed(path, **arrays)


def load(path: str, config: dict) -> Dict[str, list]:
    """{split: [train.Item]} from a pack; phone features follow the config's feature list."""
    from . import phones as phone_table
    from .train import Item, ground_truth_keys
    data = np.load(path)
    splits = sorted({k.split("/")[0] for k in data.files if "/" in k})
    out: Dict[str, list] = {}
    lk = config.get("lkma")
    table = None
    if lk is not None:
        inventory = list(data["inventory"])
        if inventory != list(lk["phones"]):
            raise ValueError(f"{path}: the pack's phone inventory differs from the model's")
        table = np.stack([np.array([float(getattr(phone_table.features(p), f)) for f in lk["features"]],
                                   dtype=np.float32) for p in inventory])
    for split in splits:
        mel = data[f"{split}/mel"].astype(np.float32) * MEL_STEP + MEL_LOW
        motion = data[f"{split}/motion"].astype(np.float32) / 255
        phones = data[f"{split}/phones"].astype(np.int64) if f"{split}/phones" in data.files else None
        supervised = data[f"{split}/supervised"] if f"{split}/supervised" in data.files else None
        engines = data[f"{split}/engines"] if f"{split}/engines" in data.files else None  # older packs: none
        mel_ends = np.cumsum(data[f"{split}/mel_lengths"])
        ends = np.cumsum(data[f"{split}/lengths"])
        items = []
        for n, (mel_end, end) in enumerate(zip(mel_ends, ends)):
            mel_start = mel_end - data[f"{split}/mel_lengths"][n]
            start = end - data[f"{split}/lengths"][n]
            ph = phones[start:end] if phones is not None and lk is not None else None  # no LKMA: no labels
            features = table[ph] if (ph is not None and table is not None) else None
            keys = ground_truth_keys(list(ph), lk["min_gap"], lk["max_gap"]) if ph is not None and lk else []
            labels = [str(data["inventory"][p]) for p in ph] if ph is not None else []
            items.append(Item(str(data[f"{split}/ids"][n]), split, str(data[f"{split}/languages"][n]),
                              mel[mel_start:mel_end], motion[start:end], ph, features, keys, labels,
                              "capture" if supervised is not None else
                              (str(engines[n]) if engines is not None else ""),
                              None if supervised is None else supervised[n].astype(bool)))
        out[split] = items
    return out


def retaught(corpus: str, row: dict, item, params: dict, fps: float):
    """The item with targets recomputed by the teacher with `params` (from the row's audio
    and phone segments)."""
    from . import teacher
    from .corpus import read_segments
    from .phones import features as phone_features
    from .train import read_wav, resample_teacher
    samples, rate = read_wav(os.path.join(corpus, row["audio"]))
    segments = read_segments(os.path.join(corpus, row["phones"]))
    frames = teacher.animate(segments, samples, rate, features=phone_features, params=params).frames
    item.motion = resample_teacher(frames, item.frames, fps, teacher_fps=params["fps"])
    return item


def build(corpus: str, out: str, hours: float, validation: int, facegood: Optional[str], teacher_mode: str,
          seed: int = 0, log=print, teacher_params: Optional[str] = None, human_first: bool = False) -> None:
    from . import teacher
    from .corpus import load_manifest
    from .facegood_eval import prepare
    from .model import LogMel, default_config
    from .train import load_item
    from . import capture
    config = default_config()
    fps = float(config["motion"]["fps"])
    params = teacher.calibrated_params(teacher_params) if teacher_mode == "calibrated" else teacher.PARAMS
    rows = [r for r in load_manifest(corpus) if r.get("phones") and r.get("teacher")]
    rng = random.Random(seed)
    rng.shuffle(rows)
    if human_first:  # every recorded (human) utterance before the synthetic ones fill the hours
        rows.sort(key=lambda r: r.get("source") != "human")
    logmel = LogMel(config["frontend"])
    splits: Dict[str, List] = {"train": [], "validation": []}
    seconds = {"train": 0.0, "validation": 0.0}
    started = time.time()
    for row in rows:
        split = row["split"]
        if split not in splits:
            continue
        if (split == "train" and seconds["train"] >= hours * 3600) or (split == "validation" and
                                                                     len(splits["validation"]) >= validation):
            continue
        try:
            item = load_item(corpus, row, config, logmel)
        except (KeyError, ValueError) as error:
            log(f"  skipped {row['id']}: {error!r}")
            continue
        if teacher_mode == "calibrated":
            item = retaught(corpus, row, item, params, fps)
        splits[split].append(item)
        seconds[split] += item.frames / fps
        if len(splits["train"]) % 500 == 0 and split == "train":
            log(f"  {len(splits['train'])} train items, {seconds['train'] / 3600:.2f} h, {time.time() - started:.0f} s")
    if facegood:
        takes = prepare(capture.load_facegood(facegood), config)
        for take in takes:
            take.item.supervised = take.supervised
            take.item.split = "capture"
        splits["capture"] = [t.item for t in takes]
    save(out, splits, config)
    log(f"wrote {out}: " + ", ".join(f"{k} {len(v)}" for k, v in splits.items())
        + f", {os.path.getsize(out) / 2**20:.1f} MiB, {time.time() - started:.0f} s")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kmtalk_train.pack", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus")
    parser.add_argument("--out", required=True)
    parser.add_argument("--hours", type=float, default=1.0, help="training audio to pack")
    parser.add_argument("--validation", type=int, default=300, help="validation utterances")
    parser.add_argument("--facegood", help="FACEGOOD directory: pack its takes as capture items")
    parser.add_argument("--teacher", choices=["corpus", "calibrated"], default="corpus",
                        help="targets: the corpus's stored teacher, or recomputed by the calibrated one")
    parser.add_argument("--teacher-params", help="with --teacher calibrated: a teacher_fit JSON other than the "
                        "committed kmtalk_train/teacher_calibrated.json (e.g. one fitted with a fold's take held out)")
    parser.add_argument("--human-first", action="store_true",
                        help="pack every recorded utterance with phones (English by PocketSphinx, the others by "
                        "forced_align) before synthetic ones fill the hours")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.teacher_params and args.teacher != "calibrated":
        parser.error("--teacher-params needs --teacher calibrated")
    build(args.corpus, args.out, args.hours, args.validation, args.facegood, args.teacher, args.seed,
          teacher_params=args.teacher_params, human_first=args.human_first)
    return 0


if __name__ == "__main__":
    sys.exit(main())
