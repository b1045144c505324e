"""Festival through a persistent `festival --pipe` subprocess, with phone times.

How the timings are obtained: for each text the Scheme code
    (set! utt (utt.synth (Utterance Text "...")))
    (utt.save.segs utt "<tmp>.segs") (utt.save.wave utt "<tmp>.wav" 'riff)
writes the utterance's Segment relation (ESPS label format: a "#" line, then one
"<end time> <color> <phone>" line per segment) and the wave the segments were synthesized
into. Phone names are Festival's phone set of the voice, kept raw; params["notation"] is
"festival-<phoneset>" with the phone set name Festival reports: "festival-radio" (US
English radio set, ARPAbet-like lowercase, "pau" pause) for kal/ked/cmu_us_slt_arctic_hts,
"festival-italian" ("#" pause, stressed vowels marked "a1") for the Italian voices,
"festival-msu_ru" for Russian ("pau" pause, palatalised consonants doubled "tt").
Diphone voices' waves can end a little before the final pause's target end: the last
segment is cut to the audio.

The process: one `festival --pipe` per Python process (restarted after a fork, a crash or
a timeout), fed expressions on stdin; every request ends by writing a sentinel line to
stderr (unbuffered, so it can be read back synchronously). A Scheme error aborts only that
request's (begin ...) block, so no stale files are picked up; it is reported as
FestivalError. Calls are serialised by a lock.

Voices (whichever are installed): kal_diphone, ked_diphone (US English diphone, 16 kHz),
cmu_us_slt_arctic_hts (US English HTS, 32 kHz), pc_diphone, lp_diphone
(Italian, Latin-1 text), msu_ru_nsh_clunits (Russian unit selection, UTF-8 text).

rate: multiplier of the speaking rate: Duration_Stretch = (voice default)/rate for diphone
and unit-selection voices, the hts_engine "-r" speed factor for HTS voices. Unit selection
(clunits, msu_ru_nsh_clunits) ignores Duration_Stretch: the units keep their recorded
durations, so rate has no effect there (params["rate_applied"] False).
pitch: diphone voices with LR intonation targets (kal, ked): int_lr_params target_f0_mean
and target_f0_std times pitch; not supported (params["pitch_applied"] False) for HTS
(Festival's HTS module passes only "-m" and "-r" to hts_engine), Italian and Russian.

HTS segment times: Festival's HTS module copies the end times of the generated state
durations back into the Segment relation when the engine's labels match the segments
(5 ms frames); on "Output segment mismatch" the times would be Festival's predictions, not
the audio's, so that is raised as FestivalError.

Text normalisation before synthesis (Festival's tokenizers fail on some input): runs of
dots/ellipses become one ".", punctuation-only tokens and quote characters are removed,
and the text is encoded for the voice (ASCII transliteration for English, Latin-1 for
Italian, UTF-8 for Russian).
"""
from __future__ import annotations

import os
import re
import select
import shutil
import subprocess
import tempfile
import threading
import unicodedata
import wave
from typing import Dict, List, Optional, Tuple

import numpy as np

from ..types import Utterance
from . import finish, pcm16_to_float, segments_from_ends

ENGINE = "festival"

# Voice-location directory (voices/<dir>/<voice>) -> corpus language and text encoding.
_DIR_LANGUAGE = {"english": "en", "us": "en", "british": "en", "italian": "it", "russian": "ru",
                 "spanish": "es", "german": "de", "french": "fr"}
_ENCODING = {"en": "ascii", "it": "latin-1", "es": "latin-1", "ru": "utf-8"}
# Preferred order of voices in listings.
_ORDER = ["kal_diphone", "ked_diphone", "cmu_us_slt_arctic_hts"]

_SENTINEL = "KMT_FESTIVAL_DONE"


class FestivalError(RuntimeError):
    pass


def _scheme_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


class _Festival:
    def __init__(self, binary: str = "festival", timeout: float = 60.0) -> None:
        path = shutil.which(binary)
        if not path:
            raise FestivalError("festival not found (install festival)")
        self.binary = path
        self.timeout = timeout
        self.lock = threading.RLock()
        self.proc: Optional[subprocess.Popen] = None
        self.pid = 0
        self.counter = 0
        self.current_voice: Optional[str] = None
        self.voice_info: Dict[str, dict] = {}
        self.tmpdir = ""
        self.version = ""

    # -- process ------------------------------------------------------------------
    def _start(self) -> None:
        self.proc = subprocess.Popen([self.binary, "--pipe"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, bufsize=0)
        self.pid = os.getpid()
        self.current_voice = None
        self.tmpdir = tempfile.mkdtemp(prefix="kmt-festival-")
        self._buffer = b""

    def _alive(self) -> bool:
        return self.proc is not None and self.pid == os.getpid() and self.proc.poll() is None

    def close(self) -> None:
        if self.proc is not None and self.pid == os.getpid():
            try:
                self.proc.stdin.close()
                self.proc.wait(timeout=5)
            except Exception:
                self.proc.kill()
            shutil.rmtree(self.tmpdir, ignore_errors=True)
        self.proc = None

    def run(self, code: bytes) -> str:
        """Sends Scheme code, waits for the sentinel; returns what Festival wrote to stderr."""
        if not self._alive():
            if self.proc is not None and self.pid == os.getpid():
                self.close()
            self._start()
        self.counter += 1
        tag = f"{_SENTINEL}_{self.counter}"
        payload = code + f'\n(format stderr "\\n{tag}\\n")\n'.encode("ascii")
        try:
            self.proc.stdin.write(payload)
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError) as exc:
            self.close()
            raise FestivalError(f"festival died: {exc}") from exc
        fd = self.proc.stderr.fileno()
        marker = ("\n" + tag + "\n").encode("ascii")
        out = self._buffer
        while marker not in out:
            ready, _, _ = select.select([fd], [], [], self.timeout)
            if not ready:
                self.proc.kill()
                self.close()
                raise FestivalError(f"festival timed out after {self.timeout} s")
            chunk = os.read(fd, 65536)
            if not chunk:
                self.close()
                raise FestivalError("festival exited: " + out.decode("utf-8", "replace")[-500:])
            out += chunk
        head, _, self._buffer = out.partition(marker)
        return head.decode("utf-8", "replace")

    # -- voices -------------------------------------------------------------------
    def locations(self) -> Dict[str, str]:
        text = self.run(b'(format stderr "KMT_LOC %l\\n" voice-locations)')
        m = re.search(r"KMT_LOC (.*)", text, re.S)
        if not m:
            raise FestivalError("could not list voices: " + text[-300:])
        return dict(re.findall(r'\(([^\s()]+) \. "([^"]*)"\)', m.group(1)))

    def select(self, voice: str) -> dict:
        if self.current_voice == voice and self._alive():
            return self.voice_info[voice]
        if not re.fullmatch(r"[A-Za-z0-9_]+", voice):
            raise ValueError(f"bad festival voice name {voice!r}")
        code = f"""(begin
  (voice_{voice})
  (set! kmt_base_stretch (Parameter.get 'Duration_Stretch))
  (if (not kmt_base_stretch) (set! kmt_base_stretch 1.0))
  (set! kmt_base_lr int_lr_params)
  (set! kmt_base_hts (if (boundp 'hts_engine_params) hts_engine_params nil))
  (format stderr "KMT_VOICE %l\\n"
    (list (cadr (assoc 'name (PhoneSet.description '(name)))) (Parameter.get 'Synth_Method) kmt_base_stretch)))
(define (kmt_scale_lr params k)
  (mapcar (lambda (p) (if (or (eq? (car p) 'target_f0_mean) (eq? (car p) 'target_f0_std))
                          (list (car p) (* k (cadr p))) p)) params))
"""
        text = self.run(code.encode("ascii"))
        m = re.search(r"KMT_VOICE \((\S+) (\S+) (\S+)\)", text)
        if not m:
            self.current_voice = None
            raise ValueError(f"festival voice {voice!r} failed to load: {text.strip()[-300:]}")
        info = {"phoneset": m.group(1), "synth_method": m.group(2), "stretch": float(m.group(3))}
        self.voice_info[voice] = info
        self.current_voice = voice
        return info


_instance: Optional[_Festival] = None
_instance_lock = threading.Lock()
_voice_cache: Optional[Dict[str, str]] = None


def _festival() -> _Festival:
    global _instance
    with _instance_lock:
        if _instance is None:
            _instance = _Festival()
        return _instance


def is_available() -> bool:
    return shutil.which("festival") is not None


def _voice_languages() -> Dict[str, str]:
    """voice name -> corpus language, from Festival's voice-locations (cached)."""
    global _voice_cache
    if _voice_cache is None:
        f = _festival()
        with f.lock:
            locations = f.locations()
        table = {}
        for name, path in locations.items():
            parent = os.path.basename(os.path.dirname(path.rstrip("/")))
            table[name] = _DIR_LANGUAGE.get(parent, parent)
        _voice_cache = table
    return _voice_cache


def voice_language(voice: str) -> str:
    return _voice_languages().get(voice, "en")


def available_voices(language: Optional[str] = None) -> List[str]:
    """Installed Festival voices (optionally of one corpus language), English ones first."""
    if not is_available():
        return []
    try:
        table = _voice_languages()
    except FestivalError:
        return []
    names = [v for v in _ORDER if v in table] + sorted(v for v in table if v not in _ORDER)
    return [v for v in names if language is None or table[v] == language]


_DOTS = re.compile(r"(?:\.\s*){2,}|…")
_QUOTES = re.compile(r"[\"«»„“”‘’‚‹›`]")
_PUNCT_TOKEN = re.compile(r"(?<!\S)[^\w\s]+(?!\S)")


def normalize_text(text: str, language: str) -> bytes:
    """Text -> bytes Festival's tokenizer for `language` accepts (see module doc)."""
    t = unicodedata.normalize("NFC", text.replace("\n", " "))
    t = _DOTS.sub(". ", t)
    t = _QUOTES.sub(" ", t)
    t = t.replace("—", ", ").replace("–", ", ")
    t = _PUNCT_TOKEN.sub(" ", t)
    t = re.sub(r"\s+", " ", t).strip()
    encoding = _ENCODING.get(language, "utf-8")
    if encoding == "ascii":
        t = unicodedata.normalize("NFKD", t).encode("ascii", "ignore").decode("ascii")
    data = t.encode(encoding, "replace")
    if not data.strip():
        raise ValueError("text is empty after normalisation")
    return data


def _read_segs(path: str) -> List[Tuple[float, str]]:
    ends = []
    with open(path, "rb") as f:
        lines = f.read().decode("utf-8", "replace").splitlines()
    body = False
    for line in lines:
        if not body:
            body = line.strip() == "#"
            continue
        parts = line.split()
        if len(parts) >= 3:
            ends.append((float(parts[0]), parts[2]))
    return ends


def _read_wav(path: str) -> Tuple[np.ndarray, int]:
    with wave.open(path, "rb") as w:
        if w.getsampwidth() != 2:
            raise FestivalError(f"unexpected sample width {w.getsampwidth()}")
        rate, channels = w.getframerate(), w.getnchannels()
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    if channels > 1:
        pcm = pcm.reshape(-1, channels)[:, 0]
    return pcm, rate


def synthesize(text: str, voice: str = "kal_diphone", rate: float = 1.0, pitch: float = 1.0,
               language: Optional[str] = None, *, sample_rate: Optional[int] = 16000) -> Utterance:
    """Synthesizes `text` with a Festival voice; returns the Utterance with phone segments."""
    if not text or not text.strip():
        raise ValueError("empty text")
    if rate <= 0 or pitch <= 0:
        raise ValueError("rate and pitch must be positive")
    voice_lang = voice_language(voice)
    data = normalize_text(text, voice_lang)
    f = _festival()
    with f.lock:
        info = f.select(voice)
        hts = info["synth_method"].upper() == "HTS"
        base = os.path.join(f.tmpdir, f"u{f.counter + 1}")
        segs_path, wav_path = base + ".segs", base + ".wav"
        for p in (segs_path, wav_path):
            if os.path.exists(p):
                os.remove(p)
        pitch_applied = True
        setup = []
        if hts:
            # Festival's HTS module reads only "-m" and "-r" from hts_engine_params.
            setup.append(f'(set! hts_engine_params (append kmt_base_hts (list (list "-r" {rate:.6f}))))')
            pitch_applied = False
        else:
            setup.append(f"(Parameter.set 'Duration_Stretch (/ kmt_base_stretch {rate:.6f}))")
            if info["phoneset"] == "radio":
                setup.append(f"(set! int_lr_params (kmt_scale_lr kmt_base_lr {pitch:.6f}))")
            else:
                pitch_applied = False
        code = ("\n".join(setup) + "\n(begin (set! utt (utt.synth (Utterance Text ").encode("ascii") \
            + _scheme_string(data.decode("latin-1")).encode("latin-1") \
            + f")))\n (utt.save.segs utt {_scheme_string(segs_path)})\n (utt.save.wave utt {_scheme_string(wav_path)} 'riff))".encode("utf-8")
        log = f.run(code)
        if not (os.path.exists(segs_path) and os.path.exists(wav_path)):
            raise FestivalError(f"festival failed on {text!r} with {voice}: {log.strip()[-400:]}")
        if "segment mismatch" in log:
            # HTS: the engine's phone labels did not match Festival's segments, so the
            # segment times were not updated from the generated durations (misaligned).
            raise FestivalError(f"festival HTS segment mismatch on {text!r}: times would not match the audio")
        try:
            ends = _read_segs(segs_path)
            pcm, native_rate = _read_wav(wav_path)
        finally:
            for p in (segs_path, wav_path):
                if os.path.exists(p):
                    os.remove(p)
    samples = pcm16_to_float(pcm)
    duration = len(samples) / native_rate
    segments = segments_from_ends(ends, duration)
    params = {
        "notation": f"festival-{info['phoneset']}", "rate": rate, "pitch": pitch,
        "pitch_applied": pitch_applied, "rate_applied": info["synth_method"] != "Cluster",
        "synth_method": info["synth_method"],
        "engine_segment_end": ends[-1][0] if ends else 0.0, "festival_text": data.decode(_ENCODING.get(voice_lang, "utf-8"), "replace"),
    }
    return finish(samples, native_rate, segments, sample_rate, text=text, language=language or voice_lang,
                  engine=ENGINE, voice=voice, speaker=f"{ENGINE}:{voice}", params=params)
