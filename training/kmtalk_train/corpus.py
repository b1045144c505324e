"""Builds the training corpus: synthetic multilingual speech with exact phone timings,
real recorded prompts aligned to phones, and the articulatory teacher's ARKit animation.

    python3 -m kmtalk_train.corpus OUT_DIR [--english-hours 6] [--other-minutes 30]
                                           [--seed 0] [--jobs N] [--augment-fraction 0.2]
    python3 -m kmtalk_train.corpus OUT_DIR --small      # a few minutes, for CI

Layout of OUT_DIR:
    manifest.jsonl            one JSON object per utterance (see `ManifestRow`)
    summary.json              hours by language / engine / voice / split, build time
    audio/LANG/ID.wav         16 kHz mono 16-bit PCM
    phones/LANG/ID.tsv        start, end, phone (inventory IPA, "_" = pause), raw engine symbol
    teacher/LANG/ID.npy       float16 [frames, 52] ARKit weights at 60 fps (frame k at k/60 s)

Splits are deterministic and disjoint in both voices and sentences: per language some
voices are held out for test; sentences are hashed into train (80%), validation (10%)
and test (10%). Train utterances pair train voices with train sentences, validation
pairs train voices with validation sentences, test pairs test voices with test
sentences, so test speech is unseen in voice and in text. Augmented copies (noise,
reverb, babble of other synthetic talkers, telephone band, codecs, speed/pitch) are made
of train utterances only; their teacher is the clean utterance's teacher, time-scaled
when the speed changed.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import os
import sys
import time
import wave
from dataclasses import asdict, dataclass, field
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np

from .types import Segment, Utterance

SAMPLE_RATE = 16000
TEACHER_FPS = 60.0
LANGUAGES = ["en", "es", "fr", "de", "it", "pt", "ru", "cmn", "ja"]
# Languages with recorded prompts (Debian asterisk sound packages); English is aligned.
REAL_SPEECH_LANGUAGES = ["en", "es", "fr", "it", "ru"]


# --------------------------------------------------------------------------------------
# Voices
# --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Voice:
    """A synthetic speaker: engine + voice name (+ language for the engine)."""
    engine: str
    name: str
    language: str
    test: bool = False  # held out: only speaks test sentences

    @property
    def speaker(self) -> str:
        return f"{self.engine}:{self.name}"


def english_voices() -> List[Voice]:
    """English voices of every installed engine: espeak-ng's English accents (plus two
    variants of en-us), every Flite voice and Festival's English voices. One voice per
    engine is held out for test."""
    from .tts import espeak, festival, flite
    voices: List[Voice] = []
    espeak_names = espeak.available_voices("en") + [v for v in ("en-us+f2", "en-us+m3") if v in espeak.english_voices()]
    voices += [Voice("espeak-ng", name, "en") for name in espeak_names]
    voices += [Voice("flite", name, "en") for name in flite.available_voices()]
    voices += [Voice("festival", name, "en") for name in festival.available_voices(language="en")]
    return _hold_out(voices, HELD_OUT_ENGLISH)


# Held-out test voices (when installed): one per engine.
HELD_OUT_ENGLISH = {("flite", "awb"), ("festival", "ked_diphone"), ("espeak-ng", "en-gb-scotland")}
# Share of English speech time per engine (Festival is the slowest to synthesize).
ENGLISH_ENGINE_SHARES = {"espeak-ng": 0.35, "flite": 0.40, "festival": 0.25}


def other_voices(language: str) -> List[Voice]:
    from .tts import espeak
    voices = [Voice("espeak-ng", name, language) for name in espeak.voices_for_language(language)]
    # Hold out the last variant of each language (the list is ordered).
    if len(voices) >= 3:
        voices[-1] = Voice(voices[-1].engine, voices[-1].name, language, test=True)
    return voices


def _hold_out(voices: List[Voice], held: set) -> List[Voice]:
    return [Voice(v.engine, v.name, v.language, test=(v.engine, v.name) in held) for v in voices]


# --------------------------------------------------------------------------------------
# Splits and planning
# --------------------------------------------------------------------------------------

def sentence_split(sentence: str, seed: int) -> str:
    """train / validation / test for a sentence, from a stable hash."""
    digest = hashlib.sha1(f"{seed}:{sentence}".encode()).digest()
    bucket = digest[0] % 10
    return "test" if bucket == 0 else "validation" if bucket == 1 else "train"


@dataclass
class Job:
    utt_id: str
    voice: Voice
    text: str
    sentence_id: int
    split: str
    rate: float
    pitch: float
    augment_seed: Optional[int] = None  # an augmented copy when set


# Plans aim this much above the target: durations are estimated from a calibration on a
# few sentences per voice, which misjudged some voices (French) by up to ~15%.
PLAN_MARGIN = 1.2
CALIBRATION_SENTENCES = 8


def plan_jobs(language: str, voices: List[Voice], sentences: List[str], target_seconds: float,
              seconds_per_char: Dict[str, float], seed: int, augment_fraction: float) -> List[Job]:
    """Deterministic job list reaching at least `target_seconds` of clean speech
    (augmented copies come on top)."""
    rng = np.random.default_rng([seed, LANGUAGES.index(language)])
    by_split: Dict[str, List[Tuple[int, str]]] = {"train": [], "validation": [], "test": []}
    for i, s in enumerate(sentences):
        by_split[sentence_split(s, seed)].append((i, s))
    train_voices = [v for v in voices if not v.test] or voices
    test_voices = [v for v in voices if v.test] or voices[-1:]
    # Share of time per split: about 80/10/10.
    shares = {"train": 0.8, "validation": 0.1, "test": 0.1}
    jobs: List[Job] = []
    for split, share in shares.items():
        pool = by_split[split] or by_split["train"]
        split_voices = test_voices if split == "test" else train_voices
        budget = target_seconds * share * PLAN_MARGIN
        cursor = int(rng.integers(len(pool)))
        families = sorted({v.engine for v in split_voices})
        weights = np.array([ENGLISH_ENGINE_SHARES.get(f, 1.0) for f in families])
        turn = {f: 0 for f in families}
        while budget > 0 and pool:
            family = families[int(rng.choice(len(families), p=weights / weights.sum()))]
            members = [v for v in split_voices if v.engine == family]
            voice = members[turn[family] % len(members)]
            turn[family] += 1
            sentence_id, text = pool[cursor % len(pool)]
            cursor += 1
            rate = float(rng.choice([0.85, 1.0, 1.0, 1.15, 1.3]))
            pitch = float(rng.uniform(0.85, 1.2))
            estimate = len(text) * seconds_per_char.get(voice.speaker, 0.07) / rate
            budget -= estimate
            utt_id = f"{language}-{split[:2]}-{len(jobs):06d}"
            jobs.append(Job(utt_id, voice, text, sentence_id, split, rate, pitch))
            if split == "train" and rng.uniform() < augment_fraction:
                jobs.append(Job(utt_id + "-aug", voice, text, sentence_id, split, rate, pitch,
                                augment_seed=int(rng.integers(1 << 31))))
    return jobs


# --------------------------------------------------------------------------------------
# Synthesis and mapping to the inventory
# --------------------------------------------------------------------------------------

def synthesize(voice: Voice, text: str, rate: float, pitch: float) -> Utterance:
    from .tts import espeak, festival, flite
    engine = {"espeak-ng": espeak, "flite": flite, "festival": festival}[voice.engine]
    return engine.synthesize(text, voice.name, rate=rate, pitch=pitch, language=voice.language)


def to_inventory(utterance: Utterance) -> List[Segment]:
    """Maps the engine's raw phone symbols to the universal inventory.

    espeak-ng symbols are looked up in the language espeak used for that segment (it
    switches to another language's rules for foreign words; `params["segment_languages"]`),
    with the voice name as the default (so en-us and pt-br get their own vowels). A symbol
    mapping to several phones splits its segment evenly; one mapping to nothing (a marker,
    not a sound) is absorbed by the previous segment; adjacent pauses merge."""
    from . import phones
    from .tts import is_pause
    notation = utterance.params.get("notation", "")
    languages = utterance.params.get("segment_languages") or [utterance.voice] * len(utterance.segments)
    out: List[Segment] = []
    for seg, language in zip(utterance.segments, languages):
        raw = seg.raw or seg.phone
        if is_pause(raw):
            mapped = ["_"]
        elif notation.startswith("espeak"):
            mapped = phones.from_espeak(raw, language, ipa=notation == "espeak-ipa")
        else:  # flite / festival (English) / pocketsphinx: ARPAbet-like symbols
            mapped = phones.from_arpabet(raw)
        if not mapped:
            if out:
                out[-1] = Segment(out[-1].start, seg.end, out[-1].phone, out[-1].raw)
            else:
                out.append(Segment(seg.start, seg.end, "_", raw))
            continue
        step = (seg.end - seg.start) / len(mapped)
        for k, phone in enumerate(mapped):
            start, end = seg.start + k * step, seg.start + (k + 1) * step
            if out and phone == "_" and out[-1].phone == "_":
                out[-1] = Segment(out[-1].start, end, "_", out[-1].raw)
            else:
                out.append(Segment(start, end, phone, raw))
    return out


def resample_to(samples: np.ndarray, rate: int, target: int = SAMPLE_RATE) -> np.ndarray:
    if rate == target:
        return samples.astype(np.float32)
    from math import gcd
    from scipy.signal import resample_poly
    g = gcd(rate, target)
    return resample_poly(samples.astype(np.float64), target // g, rate // g).astype(np.float32)


def write_wav(path: str, samples: np.ndarray, rate: int = SAMPLE_RATE) -> None:
    pcm = np.clip(np.round(samples * 32767), -32768, 32767).astype("<i2")
    with wave.open(path, "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(rate)
        f.writeframes(pcm.tobytes())


def write_segments(path: str, segments: Sequence[Segment], language: str, source: str) -> None:
    with open(path, "w") as f:
        f.write("start\tend\tphone\tlanguage\tsource\traw\n")
        for s in segments:
            f.write(f"{s.start:.4f}\t{s.end:.4f}\t{s.phone}\t{language}\t{source}\t{s.raw}\n")


def read_segments(path: str) -> List[Segment]:
    rows = [line.rstrip("\n").split("\t") for line in open(path)][1:]
    return [Segment(float(r[0]), float(r[1]), r[2], r[5] if len(r) > 5 else "") for r in rows]


def time_scale_frames(frames: np.ndarray, factor: float, count: int) -> np.ndarray:
    """Frames of a clip whose time axis was multiplied by `factor`, resampled to `count`."""
    source = np.arange(len(frames))
    position = np.clip(np.arange(count) / factor, 0, len(frames) - 1)
    return np.stack([np.interp(position, source, frames[:, c]) for c in range(frames.shape[1])], axis=1)


# Babble noise for augmentation: other talkers, synthesized once per process from fixed
# sentences and voices (so the build stays deterministic).
BABBLE_TALKERS = [("flite", "slt"), ("flite", "rms"), ("espeak-ng", "en-us+f2"), ("espeak-ng", "en-gb"),
                  ("festival", "kal_diphone"), ("flite", "kal16")]
BABBLE_TEXT = ("Well, I told them we would be there by nine, but the traffic on the bridge was terrible, "
               "and by the time we found a place to park everyone had already ordered.")
_BABBLE: Optional[List[np.ndarray]] = None


def babble_pool() -> List[np.ndarray]:
    global _BABBLE
    if _BABBLE is None:
        pool = []
        for k, (engine, name) in enumerate(BABBLE_TALKERS):
            try:
                utt = synthesize(Voice(engine, name, "en"), BABBLE_TEXT, 0.9 + 0.05 * k, 1.0)
                pool.append(resample_to(utt.samples, utt.sample_rate))
            except Exception:
                continue
        _BABBLE = pool
    return _BABBLE


# --------------------------------------------------------------------------------------
# Manifest rows and the worker
# --------------------------------------------------------------------------------------

@dataclass
class ManifestRow:
    id: str
    language: str
    split: str
    engine: str
    voice: str
    speaker: str
    text: str
    sentence_id: int
    duration: float
    audio: str
    phones: Optional[str]
    teacher: Optional[str]
    frames: int
    phone_count: int
    source: str
    params: dict = field(default_factory=dict)


def _paths(out: str, language: str, utt_id: str) -> Tuple[str, str, str]:
    return (os.path.join("audio", language, utt_id + ".wav"), os.path.join("phones", language, utt_id + ".tsv"),
            os.path.join("teacher", language, utt_id + ".npy"))


def run_job(args: Tuple[str, Job]) -> Tuple[Optional[dict], Optional[str]]:
    """Synthesizes one job; returns (manifest row, None) or (None, error text)."""
    out, job = args
    from . import teacher
    try:
        utt = synthesize(job.voice, job.text, job.rate, job.pitch)
        samples = resample_to(utt.samples, utt.sample_rate)
        segments = to_inventory(utt)
        if len([s for s in segments if s.phone != "_"]) < 2:
            return None, f"{job.utt_id}: fewer than two phones"
        result = teacher.animate(segments, samples, SAMPLE_RATE)
        frames = result.frames
        description: dict = {}
        if job.augment_seed is not None:
            from . import augment
            rng = np.random.default_rng(job.augment_seed)
            clean = samples
            for _ in range(8):  # a chain may draw no step at all: draw again
                samples, factor, description = augment.random_chain(clean, rng, babble_pool=babble_pool() or None)
                if description:
                    break
            segments = [Segment(s.start * factor, s.end * factor, s.phone, s.raw) for s in segments]
            count = int(np.floor(len(samples) / SAMPLE_RATE * TEACHER_FPS + 1e-9)) + 1
            frames = time_scale_frames(frames, factor, count)
        audio_rel, phones_rel, teacher_rel = _paths(out, job.voice.language, job.utt_id)
        write_wav(os.path.join(out, audio_rel), samples)
        write_segments(os.path.join(out, phones_rel), segments, job.voice.language, job.voice.engine)
        np.save(os.path.join(out, teacher_rel), frames.astype(np.float16))
        row = ManifestRow(
            id=job.utt_id, language=job.voice.language, split=job.split, engine=job.voice.engine,
            voice=job.voice.name, speaker=job.voice.speaker, text=job.text, sentence_id=job.sentence_id,
            duration=round(len(samples) / SAMPLE_RATE, 4), audio=audio_rel, phones=phones_rel, teacher=teacher_rel,
            frames=len(frames), phone_count=sum(1 for s in segments if s.phone != "_"),
            source="synthetic", params={"rate": job.rate, "pitch": job.pitch, "augment": description,
                                        "notation": utt.params.get("notation", "")})
        return asdict(row), None
    except Exception as error:  # a bad sentence must not stop the build
        return None, f"{job.utt_id} ({job.voice.speaker}): {type(error).__name__}: {error}"


def real_speech_rows(out: str, seed: int, limit: Optional[int]) -> Tuple[List[dict], List[str]]:
    """Recorded prompts: English aligned to phones (with teacher), others with transcripts."""
    from . import real_speech, teacher
    rows, errors = [], []
    for language in REAL_SPEECH_LANGUAGES:
        try:
            utterances = real_speech.load_prompts(language, align=language == "en", limit=limit)
        except Exception as error:
            errors.append(f"real speech {language}: {error}")
            continue
        for k, utt in enumerate(utterances):
            utt_id = f"{language}-human-{k:05d}"
            samples = resample_to(utt.samples, utt.sample_rate)
            audio_rel, phones_rel, teacher_rel = _paths(out, language, utt_id)
            write_wav(os.path.join(out, audio_rel), samples)
            phones_path = teacher_path = None
            frames = phone_count = 0
            if utt.segments:
                try:
                    segments = to_inventory(utt)
                    result = teacher.animate(segments, samples, SAMPLE_RATE)
                except Exception as error:
                    errors.append(f"{utt_id}: {error}")
                    continue
                write_segments(os.path.join(out, phones_rel), segments, language, "human")
                np.save(os.path.join(out, teacher_rel), result.frames.astype(np.float16))
                phones_path, teacher_path = phones_rel, teacher_rel
                frames, phone_count = len(result.frames), sum(1 for s in segments if s.phone != "_")
            split = sentence_split(utt.text, seed)
            rows.append(asdict(ManifestRow(
                id=utt_id, language=language, split=split, engine="human", voice=utt.voice, speaker=utt.speaker,
                text=utt.text, sentence_id=-1, duration=round(len(samples) / SAMPLE_RATE, 4), audio=audio_rel,
                phones=phones_path, teacher=teacher_path, frames=frames, phone_count=phone_count, source="human",
                params={"aligned": bool(utt.segments), **{k: v for k, v in utt.params.items() if isinstance(v, (str, int, float, bool))}})))
    return rows, errors


# --------------------------------------------------------------------------------------
# Build
# --------------------------------------------------------------------------------------

def calibrate(voices: List[Voice], sentences: List[str]) -> Dict[str, float]:
    """Seconds of speech per character for each voice, from a few sentences (deterministic)."""
    sample = sentences[:CALIBRATION_SENTENCES]
    rates = {}
    for voice in voices:
        seconds = chars = 0.0
        for text in sample:
            try:
                utt = synthesize(voice, text, 1.0, 1.0)
            except Exception:
                continue
            seconds += utt.duration
            chars += len(text)
        rates[voice.speaker] = seconds / chars if chars else 0.07
    return rates


def build(out: str, english_hours: float, other_minutes: float, seed: int, jobs: int,
          augment_fraction: float, languages: Sequence[str] = LANGUAGES, real_speech_limit: Optional[int] = None,
          log=print) -> dict:
    from . import text_sources
    started = time.time()
    os.makedirs(out, exist_ok=True)
    for language in set(languages) | set(REAL_SPEECH_LANGUAGES):
        for kind in ("audio", "phones", "teacher"):
            os.makedirs(os.path.join(out, kind, language), exist_ok=True)
    all_jobs: List[Job] = []
    for language in languages:
        voices = english_voices() if language == "en" else other_voices(language)
        if not voices:
            log(f"{language}: no voices installed, skipped")
            continue
        # espeak-ng's Japanese voice reads kana only (it spells kanji out in English).
        sentences = (text_sources.sentences(language, seed=seed, script="kana") if language == "ja"
                     else text_sources.sentences(language, seed=seed))
        target = english_hours * 3600 if language == "en" else other_minutes * 60
        per_char = calibrate(voices, sentences)
        language_jobs = plan_jobs(language, voices, sentences, target, per_char, seed, augment_fraction)
        log(f"{language}: {len(voices)} voices ({sum(v.test for v in voices)} held out), {len(sentences)} sentences, "
            f"{len(language_jobs)} jobs for {target / 60:.1f} min")
        all_jobs.extend(language_jobs)

    rows: List[dict] = []
    errors: List[str] = []
    context = multiprocessing.get_context("fork")
    with context.Pool(jobs) as pool:
        done = 0
        for row, error in pool.imap(run_job, [(out, job) for job in all_jobs], chunksize=8):
            done += 1
            if row:
                rows.append(row)
            if error:
                errors.append(error)
            if done % 500 == 0:
                log(f"  {done}/{len(all_jobs)} utterances, {time.time() - started:.0f} s")
    human_rows, human_errors = real_speech_rows(out, seed, real_speech_limit)
    rows.extend(human_rows)
    errors.extend(human_errors)

    rows.sort(key=lambda r: r["id"])
    with open(os.path.join(out, "manifest.jsonl"), "w") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    summary = summarize(rows)
    summary.update({"build_seconds": round(time.time() - started, 1), "jobs": jobs, "seed": seed,
                    "errors": len(errors), "error_examples": errors[:20]})
    with open(os.path.join(out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=2, ensure_ascii=False)
    return summary


def summarize(rows: Iterable[dict]) -> dict:
    def hours(key) -> Dict[str, float]:
        table: Dict[str, float] = {}
        for r in rows:
            k = key(r)
            table[k] = table.get(k, 0.0) + r["duration"] / 3600
        return {k: round(v, 4) for k, v in sorted(table.items())}
    rows = list(rows)
    return {
        "utterances": len(rows),
        "hours": round(sum(r["duration"] for r in rows) / 3600, 3),
        "hours_by_language": hours(lambda r: r["language"]),
        "hours_by_split": hours(lambda r: f'{r["language"]}/{r["split"]}'),
        "hours_by_engine": hours(lambda r: r["engine"]),
        "hours_by_voice": hours(lambda r: f'{r["language"]}/{r["speaker"]}'),
        "english_voices": sorted({r["speaker"] for r in rows if r["language"] == "en" and r["source"] == "synthetic"}),
    }


def load_manifest(out: str) -> List[dict]:
    with open(os.path.join(out, "manifest.jsonl")) as f:
        return [json.loads(line) for line in f]


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m kmtalk_train.corpus", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", help="output directory")
    parser.add_argument("--english-hours", type=float, default=6.0)
    parser.add_argument("--other-minutes", type=float, default=30.0, help="minutes for each other language")
    parser.add_argument("--languages", default=",".join(LANGUAGES))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--augment-fraction", type=float, default=0.2)
    parser.add_argument("--real-speech-limit", type=int, default=None, help="prompts per language (default all)")
    parser.add_argument("--small", action="store_true", help="a few minutes in total (CI)")
    args = parser.parse_args(argv)
    if args.small:
        args.english_hours, args.other_minutes, args.real_speech_limit = 0.05, 0.5, 10
    summary = build(args.out, args.english_hours, args.other_minutes, args.seed, args.jobs, args.augment_fraction,
                    [l for l in args.languages.split(",") if l], args.real_speech_limit)
    print(json.dumps({k: summary[k] for k in ("utterances", "hours", "hours_by_language", "build_seconds", "errors")},
                     indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
