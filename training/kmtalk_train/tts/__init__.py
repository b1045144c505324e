"""Speech synthesis engines that return audio together with their exact phone segmentation.

Engines (one module each, same call signature):

* `espeak` -- espeak-ng through libespeak-ng.so.1 (ctypes); phone times from the
  library's phoneme events (sample-exact). Many languages and voice variants.
* `flite` -- Flite through libflite*.so (ctypes); phone times from the utterance's
  Segment relation. US English voices only (slt, rms, awb, kal16, kal).
* `festival` -- Festival through a persistent `festival --pipe` subprocess; phone times
  from `utt.save.segs`. English diphone/HTS voices, Italian and Russian where installed.

Common API of every engine module::

    synthesize(text, voice, rate=1.0, pitch=1.0, language=None, *, sample_rate=16000) -> Utterance
    available_voices(language=None) -> list[str]

* `rate` is a speaking-rate multiplier: 2.0 speaks twice as fast (shorter audio).
* `pitch` is a multiplier of the voice's mean F0 (approximate; see each engine).
* `language` (None: from the voice) is stored in Utterance.language (corpus codes: en, es,
  fr, de, it, pt, ru, cmn, ja).
* `sample_rate`: the audio is resampled to 16 kHz by default (the corpus rate) with
  scipy.signal.resample_poly; pass None to keep the engine's native rate (espeak-ng
  22050 Hz, flite 16 kHz or 8 kHz for kal, festival 16 kHz / 32 kHz for HTS). Segment times
  are in seconds, so they do not depend on the rate.

Returned Utterance: float32 mono samples in [-1, 1]; `segments` cover [0, duration]
contiguously in order (first start 0, each end is the next start, last end == duration).
Segment.raw and Segment.phone are both the engine's RAW symbol (no mapping here: see
phones.py); silences not covered by any engine symbol (e.g. the lead-in before espeak's
first phoneme event) are segments with phone "_" and raw "". The engine's own pause
symbols stay raw ("pau" for flite/festival English, "#" for festival Italian, "_:" / "_"
for espeak mnemonics, "" for espeak IPA): use `is_pause` to test a segment.
`params["notation"]` names the symbol set: "espeak-mnemonic", "espeak-ipa", "flite-cmu",
"festival-<phoneset>" (e.g. festival-radio, festival-italian, festival-msu_ru).
"""
from __future__ import annotations

from math import gcd
from typing import Iterable, List, Optional, Sequence, Tuple

import numpy as np

from ..types import Segment, Utterance

TARGET_SAMPLE_RATE = 16000

ENGINES = ("espeak-ng", "flite", "festival")

# Engine pause symbols (raw). espeak mnemonics: every symbol starting with "_" is a pause
# ("_", "_:", "_!", ...) except the language-switch marker "_^_".
_PAUSES = {"", "_", "pau", "#", "sil", "h#", "SIL", "sp"}


def is_pause(phone: str) -> bool:
    """True for a pause/silence symbol of any engine here (raw or mapped "_")."""
    if phone in _PAUSES:
        return True
    return phone.startswith("_") and phone != "_^_"


def engine_module(engine: str):
    """The module implementing `engine` ("espeak-ng", "flite" or "festival")."""
    if engine in ("espeak-ng", "espeak"):
        from . import espeak
        return espeak
    if engine == "flite":
        from . import flite
        return flite
    if engine == "festival":
        from . import festival
        return festival
    raise ValueError(f"unknown engine {engine!r}; expected one of {ENGINES}")


def synthesize(engine: str, text: str, voice: str, rate: float = 1.0, pitch: float = 1.0,
               language: Optional[str] = None, **kwargs) -> Utterance:
    """Dispatches to `engine_module(engine).synthesize`."""
    return engine_module(engine).synthesize(text, voice, rate=rate, pitch=pitch, language=language, **kwargs)


def available_voices(engine: str, language: Optional[str] = None) -> List[str]:
    try:
        return engine_module(engine).available_voices(language=language)
    except Exception:
        return []


# --------------------------------------------------------------------------------------
# Shared helpers for the engine modules
# --------------------------------------------------------------------------------------

def pcm16_to_float(pcm: np.ndarray) -> np.ndarray:
    return (np.asarray(pcm, dtype=np.int16).astype(np.float32) / 32768.0).reshape(-1)


def resample(samples: np.ndarray, rate: int, target: Optional[int]) -> Tuple[np.ndarray, int]:
    """float32 samples at `rate` -> (samples at `target`, target). None keeps the rate.
    The result is clipped to [-1, 1) (polyphase filtering can overshoot full-scale peaks)."""
    samples = np.asarray(samples, dtype=np.float32)
    if target is None or target == rate:
        out, out_rate = samples, rate
    else:
        from scipy.signal import resample_poly
        g = gcd(int(rate), int(target))
        out = resample_poly(samples.astype(np.float64), int(target) // g, int(rate) // g)
        out_rate = int(target)
    out = np.clip(out, -1.0, 32767.0 / 32768.0).astype(np.float32)
    return out, out_rate


def segments_from_ends(ends: Iterable[Tuple[float, str]], duration: float, tail: float = 0.005) -> List[Segment]:
    """Engine segments given as (end time, raw symbol) in order (flite, festival .segs) ->
    contiguous segments covering [0, duration]. Ends past the audio are cut to it (a diphone
    engine's last pause can be longer than its wave); zero-length segments are dropped.
    Audio after the last end is added to the last segment when that is a pause or the rest
    is shorter than `tail`, else it becomes a "_" segment (raw "")."""
    segs: List[Segment] = []
    t = 0.0
    for end, raw in ends:
        end = min(float(end), duration)
        if end - t > 1e-9:
            segs.append(Segment(t, end, raw, raw))
            t = end
    if duration - t > 1e-9:
        if segs and (is_pause(segs[-1].raw) or duration - t < tail):
            segs[-1] = Segment(segs[-1].start, duration, segs[-1].phone, segs[-1].raw)
        else:
            segs.append(Segment(t, duration, "_", ""))
    return segs


def segments_from_starts(starts: Sequence[Tuple[float, str]], duration: float, lead_in: bool = True) -> List[Segment]:
    """Phones given by their start times (espeak phoneme events) -> contiguous segments:
    each phone lasts until the next start, the last one until `duration`. Silence before the
    first start becomes "_" (raw "") when `lead_in`. Zero-length and out-of-range phones are
    dropped; starts must be non-decreasing."""
    segs: List[Segment] = []
    points = [(min(max(float(t), 0.0), duration), raw) for t, raw in starts]
    if lead_in and (not points or points[0][0] > 0.0):
        points.insert(0, (0.0, None))
    elif points:
        points[0] = (0.0, points[0][1])
    for k, (t, raw) in enumerate(points):
        end = points[k + 1][0] if k + 1 < len(points) else duration
        if end - t <= 1e-9:
            continue
        if not raw:  # lead-in silence, or an espeak IPA pause (an empty name)
            segs.append(Segment(t, end, "_", ""))
        else:
            segs.append(Segment(t, end, raw, raw))
    if not segs and duration > 0:
        segs.append(Segment(0.0, duration, "_", ""))
    return segs


def check_segments(utt: Utterance, tolerance: float = 1e-6) -> None:
    """Raises ValueError unless the segments cover [0, duration] contiguously in order."""
    segs = utt.segments
    if not segs:
        raise ValueError("no segments")
    if abs(segs[0].start) > tolerance:
        raise ValueError(f"first segment starts at {segs[0].start}")
    for a, b in zip(segs, segs[1:]):
        if abs(a.end - b.start) > tolerance:
            raise ValueError(f"gap/overlap between {a} and {b}")
    for s in segs:
        if s.end - s.start <= 0:
            raise ValueError(f"empty segment {s}")
    if abs(segs[-1].end - utt.duration) > max(tolerance, 1.0 / utt.sample_rate):
        raise ValueError(f"last segment ends at {segs[-1].end}, audio at {utt.duration}")


def finish(pcm_float: np.ndarray, native_rate: int, segments: List[Segment], sample_rate: Optional[int],
           **fields) -> Utterance:
    """Resamples and makes the last segment end exactly at the resampled duration."""
    samples, rate = resample(pcm_float, native_rate, sample_rate)
    duration = len(samples) / rate
    segs = [s for s in segments if s.start < duration - 1e-9]
    if segs:
        last = segs[-1]
        segs[-1] = Segment(last.start, duration, last.phone, last.raw)
    elif duration > 0:
        segs = [Segment(0.0, duration, "_", "")]
    params = dict(fields.pop("params", {}))
    params.setdefault("native_sample_rate", native_rate)
    return Utterance(samples=samples, sample_rate=rate, segments=segs, params=params, **fields)
