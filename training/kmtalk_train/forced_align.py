"""Phone alignment of recorded speech from its transcript and a model's phone head.

The recorded prompts of the other languages (real_speech.py: es, fr, it, ru; six speakers,
about 3,400 prompts) come with transcripts but no phone timing, so until now only the
English ones (aligned by PocketSphinx) could be taught. This module aligns any of them:

1. the transcript is phonemised word by word by espeak-ng in the prompt's language (the
   same phone notation the synthetic corpus and the model's phone head use), and mapped to
   the universal inventory (`corpus.to_inventory`);
2. a key-motion model's phone head gives per-frame log posteriors over the inventory;
3. a Viterbi pass finds the best monotonic path through [pause?] word1 [pause?] word2 ...
   [pause?]: every phone at least one frame, pauses optional and only between words.

Each alignment carries a confidence, the mean over frames of log p(aligned phone) minus
log p(best phone) (0 when the alignment is what the head recognises freely; a wrong or
inexact transcript drives it far below). `align_corpus` writes phone segments and the
teacher's animation for every unaligned recorded prompt of a corpus whose confidence
passes a threshold, so `pack` and `train` use them like any other utterance.

    cd training && ../.venv-torch/bin/python -m kmtalk_train.forced_align CORPUS \\
        --model ../models/kmtalk-base.safetensors [--check-english]

`--check-english` measures the aligner where a reference exists: the English prompts'
PocketSphinx alignments (validation and test sentences) against this aligner fed the same
transcripts, and against the head's free recognition (docs/results.md).
"""
from __future__ import annotations

import argparse
import functools
import json
import os
import sys
import time
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from .types import Segment

PAUSE = "_"
# Mean log-posterior gap (aligned - best phone) per frame below which a prompt is skipped.
DEFAULT_MIN_CONFIDENCE = -3.0
# Shortest phone, in frames of the phone head (20 ms at 50 fps).
DEFAULT_MIN_FRAMES = 2


# ----------------------------------------------------------------------------- transcripts

@functools.lru_cache(maxsize=None)
def _voice(language: str):
    from .corpus import Voice, other_voices
    if language == "en":
        return Voice("espeak-ng", "en-us", "en")
    voices = other_voices(language)
    if not voices:
        raise ValueError(f"espeak-ng has no voice for {language}")
    return voices[0]


@functools.lru_cache(maxsize=20000)
def word_phones(word: str, language: str) -> Tuple[str, ...]:
    """Inventory phones of one word as espeak-ng reads it in `language` (pauses dropped)."""
    from .corpus import synthesize, to_inventory
    utterance = synthesize(_voice(language), word, 1.0, 1.0)
    return tuple(s.phone for s in to_inventory(utterance) if s.phone != PAUSE)


def transcript_words(text: str) -> List[str]:
    """Words of a transcript: split on white space, punctuation stripped from the edges."""
    words = []
    for token in text.replace("—", " ").replace("/", " ").split():
        word = token.strip(".,;:!?¿¡\"'«»()[]…-")
        if word:
            words.append(word)
    return words


def transcript_phones(text: str, language: str) -> List[Tuple[str, ...]]:
    """Per word, the inventory phones of `text` in `language`; words that read as nothing
    are dropped."""
    return [p for p in (word_phones(w, language) for w in transcript_words(text)) if p]


# ----------------------------------------------------------------------------- Viterbi

@dataclass
class Alignment:
    """Per-frame phone labels (inventory symbols) and the alignment's confidence."""
    labels: List[str]
    confidence: float
    fps: float

    def segments(self, duration: float = 0.0) -> List[Segment]:
        """Runs of equal labels as segments; the last one is stretched to `duration`
        seconds (the end of the audio) when that is later than the last frame."""
        from .metrics import segments_from_labels
        segments = segments_from_labels(self.labels, self.fps)
        last = segments[-1]
        segments[-1] = Segment(last.start, max(last.end, duration), last.phone)
        return segments


def state_sequence(words: Sequence[Sequence[str]]) -> Tuple[List[str], List[bool]]:
    """The alignment's left-to-right states: an optional pause before, between and after
    the words, one state per phone. Returns (symbols, optional flags)."""
    symbols, optional = [PAUSE], [True]
    for word in words:
        for phone in word:
            symbols.append(phone)
            optional.append(False)
        symbols.append(PAUSE)
        optional.append(True)
    return symbols, optional


def viterbi(log_probs: np.ndarray, state_ids: Sequence[int], optional: Sequence[bool]) -> Optional[np.ndarray]:
    """Best path through the left-to-right states for frames of `log_probs` [T, P]: each
    frame stays in its state or moves to the next one, or skips one optional state. Starts
    in the first or the first non-optional state, ends in the last or the last non-optional
    one. Returns the state index per frame, or None when the states do not fit in T frames."""
    T = log_probs.shape[0]
    S = len(state_ids)
    required = sum(1 for o in optional if not o)
    if S == 0 or required > T:
        return None
    emit = log_probs[:, np.asarray(state_ids)]           # [T, S]
    skippable = np.zeros(S, dtype=bool)                  # s -> s + 2 is allowed when s + 1 is optional
    skippable[:-2] = np.asarray(optional[1:-1], dtype=bool)
    neg = -np.inf
    score = np.full(S, neg)
    score[0] = emit[0, 0]
    if optional[0] and S > 1:
        score[1] = emit[0, 1]
    back = np.zeros((T, S), dtype=np.int32)
    back[0] = np.arange(S)
    for t in range(1, T):
        stay = score
        step = np.full(S, neg)
        step[1:] = score[:-1]
        skip = np.full(S, neg)
        skip[2:] = np.where(skippable[:-2], score[:-2], neg)
        best = np.maximum(np.maximum(stay, step), skip)
        choice = np.where(best == stay, 0, np.where(best == step, 1, 2))
        back[t] = np.arange(S) - choice
        score = best + emit[t]
    ends = [S - 1] + ([S - 2] if optional[-1] and S > 1 else [])
    end = max(ends, key=lambda s: score[s])
    if not np.isfinite(score[end]):
        return None
    path = np.empty(T, dtype=np.int64)
    path[-1] = end
    for t in range(T - 1, 0, -1):
        path[t - 1] = back[t, path[t]]
    return path


def align(log_probs: np.ndarray, inventory: Sequence[str], words: Sequence[Sequence[str]],
          fps: float, min_frames: int = 1) -> Optional[Alignment]:
    """Aligns the words' phones to per-frame log posteriors [T, len(inventory)]. Every
    phone lasts at least `min_frames` frames (fewer where the utterance is too short for
    that), so a phone head that does not hear the start of a word cannot squeeze its
    phones into a frame each."""
    index = {p: k for k, p in enumerate(inventory)}
    symbols, optional = state_sequence(words)
    if any(s not in index for s in symbols):
        missing = sorted({s for s in symbols if s not in index})
        raise ValueError(f"phones outside the model's inventory: {' '.join(missing)}")
    phone_count = sum(1 for o in optional if not o)
    repeat = max(1, min(min_frames, log_probs.shape[0] // max(1, phone_count)))
    # A phone of at least `repeat` frames is `repeat` chained copies of its state.
    expanded, expanded_optional, owner = [], [], []
    for k, (symbol, is_optional) in enumerate(zip(symbols, optional)):
        for _ in range(1 if is_optional else repeat):
            expanded.append(index[symbol])
            expanded_optional.append(is_optional)
            owner.append(k)
    ids = [index[s] for s in symbols]
    path = viterbi(log_probs, expanded, expanded_optional)
    if path is None:
        return None
    path = np.asarray(owner)[path]
    chosen = np.asarray(ids)[path]
    frames = np.arange(len(path))
    confidence = float(np.mean(log_probs[frames, chosen] - log_probs.max(axis=1)))
    return Alignment([symbols[s] for s in path], confidence, fps)


# ----------------------------------------------------------------------------- model

class PhoneHead:
    """A key-motion model's phone head as per-frame log posteriors of 16 kHz audio."""

    def __init__(self, model_path: str, device: str = "cpu"):
        import torch
        from .export import load
        self.model, self.config, _ = load(model_path)
        if "lkma" not in self.config:
            raise ValueError(f"{model_path}: no phone head (a direct-regression model)")
        self.model = self.model.to(device).eval()
        self.inventory = list(self.config["lkma"]["phones"])
        self.fps = float(self.config["motion"]["fps"])
        self.sample_rate = int(self.config["frontend"]["sample_rate"])
        self._torch = torch

    def log_probs(self, samples: np.ndarray) -> np.ndarray:
        from .real_bench import log_mel
        torch = self._torch
        mel = log_mel(self.config, samples)
        with torch.no_grad():
            logits = self.model(torch.from_numpy(mel))["phone_logits"]
            return torch.log_softmax(logits, dim=-1).numpy().astype(np.float64)

    def align_text(self, samples: np.ndarray, text: str, language: str,
                   min_frames: int = 1) -> Optional[Alignment]:
        words = transcript_phones(text, language)
        if not words:
            return None
        return align(self.log_probs(samples), self.inventory, words, self.fps, min_frames)

    def recognise(self, samples: np.ndarray) -> Alignment:
        """Free recognition: the argmax phone per frame (what real_bench's teacher uses)."""
        lp = self.log_probs(samples)
        return Alignment([self.inventory[k] for k in lp.argmax(axis=1)], 0.0, self.fps)


# ----------------------------------------------------------------------------- corpus

def align_corpus(corpus: str, model_path: str, min_confidence: float = DEFAULT_MIN_CONFIDENCE,
                 languages: Optional[Sequence[str]] = None, min_frames: int = DEFAULT_MIN_FRAMES, log=print) -> Dict[str, dict]:
    """Aligns every recorded prompt in `corpus` that has a transcript but no phones, writes
    its phone segments and the teacher's animation next to the others, and rewrites the
    manifest (rows gain phones, teacher, frames, phone_count and params["aligner"] /
    ["alignment_confidence"]). Returns per-language counts."""
    from . import teacher
    from .corpus import _paths, load_manifest, write_segments
    from .train import read_wav
    head = PhoneHead(model_path)
    rows = load_manifest(corpus)
    stats: Dict[str, dict] = {}
    started = time.time()
    for row in rows:
        if row.get("source") != "human" or row.get("phones") or not row.get("text"):
            continue
        language = row["language"]
        if languages and language not in languages:
            continue
        st = stats.setdefault(language, {"prompts": 0, "aligned": 0, "low_confidence": 0, "failed": 0,
                                         "seconds": 0.0})
        st["prompts"] += 1
        samples, rate = read_wav(os.path.join(corpus, row["audio"]))
        if rate != head.sample_rate:
            st["failed"] += 1
            continue
        try:
            alignment = head.align_text(samples, row["text"], language, min_frames)
        except ValueError as error:
            log(f"  {row['id']}: {error}")
            alignment = None
        if alignment is None:
            st["failed"] += 1
            continue
        row.setdefault("params", {})["alignment_confidence"] = round(alignment.confidence, 4)
        if alignment.confidence < min_confidence:
            st["low_confidence"] += 1
            continue
        segments = alignment.segments(len(samples) / rate)
        result = teacher.animate(segments, samples, rate)
        _, phones_rel, teacher_rel = _paths(corpus, language, row["id"])
        write_segments(os.path.join(corpus, phones_rel), segments, language, "forced")
        np.save(os.path.join(corpus, teacher_rel), result.frames.astype(np.float16))
        row.update(phones=phones_rel, teacher=teacher_rel, frames=len(result.frames),
                   phone_count=sum(1 for s in segments if s.phone != PAUSE))
        row["params"]["aligner"] = f"forced_align {os.path.basename(model_path)}"
        st["aligned"] += 1
        st["seconds"] += len(samples) / rate
    path = os.path.join(corpus, "manifest.jsonl")
    with open(path + ".tmp", "w") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    os.replace(path + ".tmp", path)
    for language, st in sorted(stats.items()):
        log(f"{language}: {st['aligned']} of {st['prompts']} prompts aligned ({st['seconds'] / 60:.1f} min), "
            f"{st['low_confidence']} below confidence {min_confidence}, {st['failed']} failed")
    log(f"{time.time() - started:.0f} s")
    return stats


# ----------------------------------------------------------------------------- check

def check_english(corpus: str, model_path: str, splits: Sequence[str] = ("validation", "test"),
                  limit: Optional[int] = None, min_frames: int = DEFAULT_MIN_FRAMES, log=print) -> dict:
    """On English recorded prompts with PocketSphinx alignments: this aligner (espeak-ng
    phones of the transcript) and the head's free recognition, each against the reference.
    Scores: frames whose phone agrees in pause / bilabial closure / rounding with the
    reference's, and the teacher's jawOpen and lip channels driven by each alignment, as
    Pearson r against the teacher on the reference alignment."""
    from . import phones, teacher
    from .arkit import ARKIT_52
    from .corpus import load_manifest, read_segments
    from .train import read_wav
    head = PhoneHead(model_path)
    rows = [r for r in load_manifest(corpus) if r.get("source") == "human" and r["language"] == "en"
            and r.get("phones") and r["split"] in splits]
    rows = rows[:limit] if limit else rows
    lip_names = ["jawOpen", "mouthClose", "mouthFunnel", "mouthPucker", "mouthLowerDownLeft", "mouthUpperUpLeft",
                 "mouthStretchLeft", "mouthRollLower"]
    lips = [ARKIT_52.index(n) for n in lip_names]
    totals = {k: {"frames": 0, "pause": 0, "bilabial": 0, "rounded": 0, "motion": [[], []]}
              for k in ("forced", "free")}
    confidences = []
    for row in rows:
        samples, rate = read_wav(os.path.join(corpus, row["audio"]))
        reference = read_segments(os.path.join(corpus, row["phones"]))
        forced = head.align_text(samples, row["text"], "en", min_frames)
        if forced is None:
            continue
        confidences.append(forced.confidence)
        free = head.recognise(samples)
        T = len(forced.labels)
        ref_labels = _labels_at(reference, T, head.fps)
        ref_motion = teacher.animate(reference, samples, rate).frames
        for name, alignment in (("forced", forced), ("free", free)):
            tot = totals[name]
            feats = [(phones.features(p), phones.features(q)) for p, q in zip(alignment.labels, ref_labels)]
            tot["frames"] += T
            tot["pause"] += sum(a.pause == b.pause for a, b in feats)
            tot["bilabial"] += sum((a.bilabial_closure >= 0.5) == (b.bilabial_closure >= 0.5) for a, b in feats)
            tot["rounded"] += sum((a.rounding >= 0.5) == (b.rounding >= 0.5) for a, b in feats)
            segments = alignment.segments(reference[-1].end)
            motion = teacher.animate(segments, samples, rate).frames
            n = min(len(motion), len(ref_motion))
            tot["motion"][0].append(motion[:n, lips])
            tot["motion"][1].append(ref_motion[:n, lips])
    result = {"utterances": len(confidences), "confidence_median": float(np.median(confidences)) if confidences else None,
              "confidence_p05": float(np.percentile(confidences, 5)) if confidences else None}
    for name, tot in totals.items():
        pred = np.concatenate(tot["motion"][0])
        ref = np.concatenate(tot["motion"][1])
        rs = {n: float(np.corrcoef(pred[:, k], ref[:, k])[0, 1]) if ref[:, k].std() > 1e-6 else float("nan")
              for k, n in enumerate(lip_names)}
        result[name] = {"pause_agreement": tot["pause"] / tot["frames"],
                        "bilabial_agreement": tot["bilabial"] / tot["frames"],
                        "rounded_agreement": tot["rounded"] / tot["frames"],
                        "teacher_r": rs,
                        "teacher_mean_r": float(np.nanmean(list(rs.values())))}
    log(json.dumps(result, indent=2))
    return result


def _labels_at(segments: Sequence[Segment], count: int, fps: float) -> List[str]:
    """The phone at each frame centre."""
    out, k = [], 0
    for t in range(count):
        centre = (t + 0.5) / fps
        while k < len(segments) - 1 and segments[k].end <= centre:
            k += 1
        out.append(segments[k].phone)
    return out


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kmtalk_train.forced_align", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus")
    parser.add_argument("--model", required=True, help="a key-motion model whose phone head aligns")
    parser.add_argument("--min-confidence", type=float, default=DEFAULT_MIN_CONFIDENCE)
    parser.add_argument("--languages", default="", help="comma-separated (default: every unaligned language)")
    parser.add_argument("--check-english", action="store_true",
                        help="only measure the aligner against the English prompts' PocketSphinx alignments")
    parser.add_argument("--min-frames", type=int, default=DEFAULT_MIN_FRAMES, help="shortest phone in frames")
    parser.add_argument("--limit", type=int, default=None, help="with --check-english: first N prompts")
    args = parser.parse_args(argv)
    if args.check_english:
        check_english(args.corpus, args.model, limit=args.limit, min_frames=args.min_frames)
        return 0
    align_corpus(args.corpus, args.model, args.min_confidence,
                 [l for l in args.languages.split(",") if l] or None, args.min_frames)
    return 0


if __name__ == "__main__":
    sys.exit(main())
