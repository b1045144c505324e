"""espeak-ng through its C library (libespeak-ng.so.1, ctypes), with sample-exact phone times.

How the timings are obtained: espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, ...,
espeakINITIALIZE_PHONEME_EVENTS [| espeakINITIALIZE_PHONEME_IPA]) makes the synth callback
receive an espeakEVENT_PHONEME event at the start of every phoneme together with the audio.
The event's `sample` field is the sample index (at the native rate, 22050 Hz) counted from
the start of the current espeak_Synth call; `audio_position` is the same instant in
milliseconds (truncated), so `sample` is used. A phone lasts until the next phoneme event;
the last one until the end of the audio. Audio before the first event (espeak's lead-in)
becomes a "_" segment with raw "". espeak's own pause phonemes produce events too: "_:",
"_" ... in mnemonics and "" in IPA mode; they are kept raw (see tts.is_pause).
Zero-length events (espeak emits a "_" at the very end, and one at each sentence start that
coincides with the next phoneme) are dropped.

Notation: notation="mnemonic" (default) gives espeak's ASCII phoneme mnemonics (as
`espeak-ng -x`), params["notation"] == "espeak-mnemonic". notation="ipa" gives IPA
(params["notation"] == "espeak-ipa"): IPA events are chosen at espeak_Initialize time and
re-initialising leaks memory, so IPA comes from a second library instance (a private copy
of libespeak-ng loaded with its own globals) initialised with
espeakINITIALIZE_PHONEME_IPA, synthesizing the same text: the audio and times are those
of the mnemonic run and each event takes the IPA name of the same event index. This is
needed because espeak's IPA names are empty both for pauses and for a few real phonemes
(";" linking, "@-" short schwa, measured voiced): the mnemonics tell them apart. Pauses
become "_" with raw ""; unnamed non-pauses are merged into the phone before them
(params["ipa_merged"] counts them).

Determinism: espeak-ng's wave generator carries state from one utterance to the next
(the pitch-flutter phase is a function-static), so a long-lived instance produces a few
samples more or less for the same text depending on what it spoke before. By default
(deterministic=True) every call therefore loads a private copy of the library afresh,
initialises it, synthesizes, calls espeak_Terminate and dlcloses it (about 4 ms, no leak):
the same input always gives the same samples. deterministic=False reuses one instance.

Threading: libespeak-ng is process-global and not thread-safe. Every call is serialised
by one process-wide lock (shared even if this package is imported under two names), so
threads work but do not run in parallel: use processes for parallel synthesis (a forked
child may use the inherited state). The persistent instances: mnemonics on the system
library, IPA on a private copy; the callback is re-registered before every synthesis.

Voices: espeak voice names ("en-us", "en-gb", "fr-fr", "pt-br", "cmn", ...) optionally
with a variant ("en-us+f3", "en+m3", "de+klatt2"). rate: multiplier of espeak's normal
175 words/min (clamped to espeak's 80..450). pitch: multiplier of the voice's base F0,
converted to espeak's 0..100 pitch parameter with a table measured on this espeak-ng
(see _PITCH_TABLE); pitch_range: multiplier of the intonation range (espeak range 50 =
1.0, linear).
"""
from __future__ import annotations

import atexit
import ctypes
import ctypes.util
import os
import re
import shutil
import sys
import tempfile
import threading
import types
from typing import Dict, List, Optional, Tuple

import numpy as np

from ..types import Segment, Utterance
from . import finish, is_pause, pcm16_to_float, segments_from_starts

ENGINE = "espeak-ng"

# espeak_AUDIO_OUTPUT / events / options / parameters (speak_lib.h, API revision 12).
AUDIO_OUTPUT_SYNCHRONOUS = 2
espeakEVENT_LIST_TERMINATED = 0
espeakEVENT_WORD = 1
espeakEVENT_SENTENCE = 2
espeakEVENT_END = 5
espeakEVENT_MSG_TERMINATED = 6
espeakEVENT_PHONEME = 7
espeakEVENT_SAMPLERATE = 8
espeakINITIALIZE_PHONEME_EVENTS = 0x0001
espeakINITIALIZE_PHONEME_IPA = 0x0002
espeakCHARS_UTF8 = 1
POS_CHARACTER = 1
espeakRATE, espeakVOLUME, espeakPITCH, espeakRANGE, espeakWORDGAP = 1, 2, 3, 4, 7
RATE_NORMAL, RATE_MIN, RATE_MAX = 175, 80, 450

# Corpus language -> espeak base voices (first is the default for the language).
LANGUAGE_VOICES: Dict[str, List[str]] = {
    "en": ["en-us", "en-gb", "en-gb-x-rp", "en-gb-scotland", "en-gb-x-gbclan", "en-gb-x-gbcwmd",
           "en-us-nyc", "en-029"],
    "es": ["es", "es-419"],
    "fr": ["fr-fr", "fr-be", "fr-ch"],
    "de": ["de"],
    "it": ["it"],
    "pt": ["pt-br", "pt"],
    "ru": ["ru", "ru-lv"],
    # Debian's espeak-ng 1.51 "cmn" voice reads Hanzi as pinyin spelled with English rules;
    # "cmn-latn-pinyin" reads them as Mandarin, so it comes first.
    "cmn": ["cmn-latn-pinyin", "cmn"],
    # Kana only: kanji are spelled out as English ("chinese letter").
    "ja": ["ja"],
}

# Names that espeak_SetVoiceByName does not accept (it matches voice file names) -> file name.
ALIASES = {"en-gb": "en", "fr-fr": "fr"}


def _engine_name(voice: str) -> str:
    base, plus, variant = voice.partition("+")
    return ALIASES.get(base.lower(), base) + plus + variant


# Voice variants (espeak-ng-data/voices/!v) used to multiply speakers: natural-sounding
# male/female formant variants and the Klatt synthesiser. Whisper/croak/robot ones left out.
VARIANTS = ["m1", "m2", "m3", "m4", "m5", "m6", "m7", "f1", "f2", "f3", "f4", "f5", "klatt", "klatt2", "klatt3"]
OTHER_LANGUAGE_VARIANTS = ["m1", "m3", "f2", "f3", "f5", "klatt"]

# espeak pitch parameter (0..100, 50 = the voice's own base) -> median F0 relative to the
# value at 50, measured on espeak-ng 1.51 (en-us; en+f3, de+m3 and en-us+klatt agree within
# 3%) with an autocorrelation F0 tracker. Used to turn a pitch multiplier into the
# parameter: the reachable range is about 0.70 .. 1.66; values outside are clamped.
_PITCH_TABLE: List[Tuple[int, float]] = [
    (0, 0.70), (10, 0.74), (20, 0.78), (30, 0.84), (40, 0.91), (50, 1.0), (60, 1.10),
    (70, 1.22), (80, 1.35), (90, 1.51), (100, 1.66),
]


class _EspeakEvent(ctypes.Structure):
    class _Id(ctypes.Union):
        _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]

    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", _Id),
    ]


class _EspeakVoice(ctypes.Structure):
    _fields_ = [
        ("name", ctypes.c_char_p),
        ("languages", ctypes.c_void_p),
        ("identifier", ctypes.c_char_p),
        ("gender", ctypes.c_ubyte),
        ("age", ctypes.c_ubyte),
        ("variant", ctypes.c_ubyte),
        ("xx1", ctypes.c_ubyte),
        ("score", ctypes.c_int),
        ("spare", ctypes.c_void_p),
    ]


_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int,
                             ctypes.POINTER(_EspeakEvent))


class EspeakError(RuntimeError):
    pass


def _library_path() -> str:
    for candidate in ("libespeak-ng.so.1", ctypes.util.find_library("espeak-ng")):
        if not candidate:
            continue
        try:
            ctypes.CDLL(candidate)
            return candidate
        except OSError:
            continue
    raise EspeakError("libespeak-ng not found (install libespeak-ng1)")


class _Espeak:
    """One initialised libespeak-ng instance, with phoneme events in mnemonics or IPA.
    Access under the module lock."""

    def __init__(self, ipa: bool, private: Optional[str] = None) -> None:
        """private: None loads the system library (shared by everything in the process
        that uses libespeak-ng); a name loads this process's private copy of the library
        file under that name (a new inode, so a separate instance with its own globals,
        RTLD_DEEPBIND so that its internal calls bind to itself)."""
        if private is None:
            self.lib = ctypes.CDLL(_library_path())
        else:
            self.lib = ctypes.CDLL(_private_copy(private), mode=os.RTLD_LOCAL | getattr(os, "RTLD_DEEPBIND", 0))
        lib = self.lib
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_SetSynthCallback.argtypes = [_CALLBACK]
        lib.espeak_SetSynthCallback.restype = None
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetVoiceByName.restype = ctypes.c_int
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_SetParameter.restype = ctypes.c_int
        lib.espeak_Synth.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int, ctypes.c_uint,
                                     ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p]
        lib.espeak_Synth.restype = ctypes.c_int
        lib.espeak_ListVoices.argtypes = [ctypes.c_void_p]
        lib.espeak_ListVoices.restype = ctypes.POINTER(ctypes.POINTER(_EspeakVoice))
        lib.espeak_Info.argtypes = [ctypes.POINTER(ctypes.c_char_p)]
        lib.espeak_Info.restype = ctypes.c_char_p
        lib.espeak_Terminate.restype = ctypes.c_int
        self.ipa = ipa
        self._chunks: List[np.ndarray] = []
        self._events: List[Tuple[int, int, int, int, object]] = []
        self._callback = _CALLBACK(self._on_synth)  # keep a reference for the library's lifetime
        options = espeakINITIALIZE_PHONEME_EVENTS | (espeakINITIALIZE_PHONEME_IPA if ipa else 0)
        rate = lib.espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, None, options)
        if rate <= 0:
            raise EspeakError("espeak_Initialize failed")
        self.sample_rate = rate
        lib.espeak_SetSynthCallback(self._callback)
        data_path = ctypes.c_char_p()
        self.version = lib.espeak_Info(ctypes.byref(data_path)).decode("utf-8", "replace")
        self.data_path = (data_path.value or b"").decode("utf-8", "replace")

    def close(self) -> None:
        """Terminates espeak and unloads a private copy (its static state goes with it)."""
        self.lib.espeak_Terminate()
        import _ctypes
        _ctypes.dlclose(self.lib._handle)
        self.lib = None

    def _on_synth(self, wav, numsamples, events) -> int:
        if wav and numsamples > 0:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(numsamples,)).copy())
        if events:
            i = 0
            while True:
                e = events[i]
                if e.type == espeakEVENT_LIST_TERMINATED:
                    break
                name = bytes(e.id.string) if e.type == espeakEVENT_PHONEME else b""
                number = e.id.number if e.type in (espeakEVENT_WORD, espeakEVENT_SENTENCE, espeakEVENT_END) else 0
                self._events.append((e.type, e.sample, e.text_position, e.length,
                                     name if e.type == espeakEVENT_PHONEME else number))
                i += 1
        return 0

    def list_voices(self) -> List[Tuple[str, str, List[str]]]:
        """(name, identifier, languages) of every voice espeak knows."""
        out = []
        arr = self.lib.espeak_ListVoices(None)
        i = 0
        while arr[i]:
            v = arr[i].contents
            langs: List[str] = []
            p = v.languages
            while p:
                priority = ctypes.c_ubyte.from_address(p).value
                if priority == 0:
                    break
                s = ctypes.string_at(p + 1)
                langs.append(s.decode("utf-8", "replace"))
                p += 1 + len(s) + 1
            out.append((v.name.decode("utf-8", "replace"), v.identifier.decode("utf-8", "replace"), langs))
            i += 1
        return out

    def synth(self, text: str, voice: str, rate_wpm: int, pitch: int,
              pitch_range: int) -> Tuple[np.ndarray, List[Tuple[int, int, int, int, object]], int]:
        self.lib.espeak_SetSynthCallback(self._callback)  # in case anything else replaced it
        if self.lib.espeak_SetVoiceByName(voice.encode("utf-8")) != 0:
            raise ValueError(f"espeak-ng voice {voice!r} not found")
        for param, value in ((espeakRATE, rate_wpm), (espeakPITCH, pitch), (espeakRANGE, pitch_range),
                             (espeakVOLUME, 100), (espeakWORDGAP, 0)):
            self.lib.espeak_SetParameter(param, int(value), 0)
        self._chunks, self._events = [], []
        data = text.encode("utf-8") + b"\0"
        buf = ctypes.create_string_buffer(data, len(data))
        err = self.lib.espeak_Synth(buf, len(data), 0, POS_CHARACTER, 0, espeakCHARS_UTF8, None, None)
        if err != 0:
            raise EspeakError(f"espeak_Synth failed ({err})")
        pcm = np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.int16)
        events = self._events
        self._chunks, self._events = [], []
        return pcm, events, self.sample_rate


def _loaded_path(soname: str) -> str:
    """Absolute path of an already loaded shared library (from /proc/self/maps)."""
    with open("/proc/self/maps") as f:
        for line in f:
            path = line.split()[-1] if len(line.split()) >= 6 else ""
            if os.path.basename(path).startswith(soname.split(".so")[0] + ".so"):
                return os.path.realpath(path)
    found = ctypes.util.find_library("espeak-ng")
    raise EspeakError(f"cannot locate {soname} on disk ({found})")


def _process_state():
    """The lock and instances, shared by every copy of this module in the process (the
    package can be imported under two names, e.g. kmtalk_train and training.kmtalk_train,
    but libespeak-ng.so.1 is loaded once: a second initialisation would take its callback)."""
    state = sys.modules.get("_kmtalk_espeak_state")
    if state is None:
        state = types.ModuleType("_kmtalk_espeak_state")
        state.lock = threading.RLock()
        state.instances = {}
        state = sys.modules.setdefault("_kmtalk_espeak_state", state)
    return state


# All espeak calls (both instances) are serialised by this lock.
_lock = _process_state().lock
_instances: Dict[bool, "_Espeak"] = _process_state().instances


def _espeak(ipa: bool = False) -> _Espeak:
    """The persistent instance for a notation (mnemonics: the system library; IPA: a
    private copy, since the notation is fixed at initialisation and re-initialising leaks)."""
    with _lock:
        if ipa not in _instances:
            _instances[ipa] = _Espeak(ipa, private="ipa" if ipa else None)
        return _instances[ipa]


def _private_copy(name: str) -> str:
    """Path of this process's private copy of the libespeak-ng file called `name`
    (created on first use in a temporary directory, removed at exit)."""
    state = _process_state()
    copies = state.__dict__.setdefault("copies", {})
    if name not in copies:
        tmpdir = state.__dict__.get("tmpdir")
        if tmpdir is None:
            tmpdir = tempfile.mkdtemp(prefix="kmt-espeak-")
            state.tmpdir = tmpdir
            owner = os.getpid()
            atexit.register(lambda: os.getpid() == owner and shutil.rmtree(tmpdir, ignore_errors=True))
        path = _library_path()
        real = path if os.path.isabs(path) else _loaded_path(path)
        copy = os.path.join(tmpdir, f"libespeak-ng-{name}.so.1")
        shutil.copyfile(real, copy)
        copies[name] = copy
    return copies[name]


def _synth_once(ipa: bool, deterministic: bool, *args):
    """One synthesis, from a fresh private instance (deterministic) or a persistent one.
    espeak-ng's wave generator keeps state from one utterance to the next (e.g. the pitch
    flutter phase, a function-static), so a persistent instance gives slightly different
    audio (a few samples) for the same input depending on what it spoke before; a fresh
    instance (load a private copy, initialise, synthesize, espeak_Terminate, dlclose:
    about 4 ms) always gives the same audio."""
    if not deterministic:
        return _espeak(ipa).synth(*args)
    fresh = _Espeak(ipa, private="fresh")
    try:
        return fresh.synth(*args)
    finally:
        fresh.close()


def is_available() -> bool:
    try:
        _espeak()
        return True
    except Exception:
        return False


def pitch_parameter(pitch: float) -> int:
    """Pitch multiplier -> espeak pitch parameter 0..100 (interpolated in _PITCH_TABLE)."""
    xs = np.log([r for _, r in _PITCH_TABLE])
    ys = [p for p, _ in _PITCH_TABLE]
    return int(round(float(np.interp(np.log(max(pitch, 1e-3)), xs, ys))))


def rate_parameter(rate: float) -> int:
    return int(round(min(max(RATE_NORMAL * rate, RATE_MIN), RATE_MAX)))


def voice_language(voice: str) -> str:
    """Corpus language code of an espeak voice name ("pt-br+f3" -> "pt")."""
    base = voice.split("+")[0].lower()
    for language, names in LANGUAGE_VOICES.items():
        if base in names:
            return language
    head = base.split("-")[0]
    return {"zh": "cmn", "yue": "yue"}.get(head, head)


def available_voices(language: Optional[str] = None) -> List[str]:
    """Base voices (no variants) of the corpus languages that this espeak-ng has, in the
    LANGUAGE_VOICES order; `language` restricts to one corpus language."""
    known = {ident.split("/")[-1].lower() for ident, _, _ in _voice_table()}
    known |= {alias for alias, name in ALIASES.items() if name in known}
    languages = [language] if language else list(LANGUAGE_VOICES)
    out = []
    for lang in languages:
        for name in LANGUAGE_VOICES.get(lang, []):
            if name.lower() in known:
                out.append(name)
    return out


def _voice_table() -> List[Tuple[str, str, List[str]]]:
    """(identifier, language name, languages) for all voices; cached."""
    global _voice_cache
    if _voice_cache is None:
        e = _espeak()
        with _lock:
            table = []
            for name, ident, langs in e.list_voices():
                table.append((ident, langs[0] if langs else name, langs))
            _voice_cache = table
    return _voice_cache


_voice_cache: Optional[List[Tuple[str, str, List[str]]]] = None


def available_variants() -> List[str]:
    """Variant names usable after '+' that exist in this espeak-ng (from VARIANTS)."""
    root = _espeak().data_path
    return [v for v in VARIANTS if os.path.isfile(os.path.join(root, "voices", "!v", v))]


def english_voices() -> List[str]:
    """English speakers: every English base voice plain and with each variant."""
    variants = available_variants()
    return [f"{base}{'+' + v if v else ''}" for base in available_voices("en") for v in [""] + variants]


def voices_for_language(language: str) -> List[str]:
    """Speakers for a non-English corpus language: base voices plain and with a few
    variants (deterministic order)."""
    if language == "en":
        return english_voices()
    variants = [v for v in OTHER_LANGUAGE_VARIANTS if v in available_variants()]
    return [f"{base}{'+' + v if v else ''}" for base in available_voices(language) for v in [""] + variants]


_SWITCH = re.compile(r"^\(([a-z]{2,3}(?:-[a-z0-9]+)*)\)$", re.I)


def _event_name(payload) -> str:
    return payload.split(b"\0")[0].decode("utf-8", "replace") if isinstance(payload, bytes) else ""


def _segments(starts: List[Tuple[float, str]], duration: float, language: str) -> Tuple[List[Segment], List[str]]:
    """Phoneme-event starts -> contiguous segments plus the espeak language in force for each.
    A language switch event "(en)" is not a sound: it becomes part of a pause (espeak leaves
    a few ms of silence there) and sets the language of what follows. Adjacent pauses (a
    clause-final "_:" and the next sentence's short "_" lead-in) merge into one segment with
    the first one's symbol."""
    points: List[Tuple[float, str, str]] = []
    current = language
    for t, raw in starts:
        m = _SWITCH.match(raw)
        if m:
            current = m.group(1).lower()
            raw = ""
        points.append((t, raw, current))
    segs: List[Segment] = []
    langs: List[str] = []
    for seg in segments_from_starts([(t, raw) for t, raw, _ in points], duration):
        # language of the event that starts this segment (lead-in: the voice's language)
        lang = language
        for t, _, l in points:
            if t <= seg.start + 1e-12:
                lang = l
            else:
                break
        if segs and is_pause(seg.phone) and is_pause(segs[-1].phone):
            segs[-1] = Segment(segs[-1].start, seg.end, segs[-1].phone, segs[-1].raw)
        else:
            segs.append(seg)
            langs.append(lang)
    return segs, langs


def synthesize(text: str, voice: str = "en-us", rate: float = 1.0, pitch: float = 1.0,
               language: Optional[str] = None, *, sample_rate: Optional[int] = 16000,
               notation: str = "mnemonic", pitch_range: float = 1.0, deterministic: bool = True) -> Utterance:
    """Synthesizes `text` with espeak-ng; returns the Utterance with phone segments.
    notation: "mnemonic" or "ipa" (raw symbols of the phoneme events).
    deterministic: True (default) synthesizes with a freshly loaded library instance so the
    same input always gives the same samples (about 4 ms extra per call); False reuses
    one instance (audio then varies by a few samples with what was spoken before; the
    timings are exact either way).

    params: notation, the espeak parameter values used, "words" [(start s, word)] from the
    word events, "language_switches" (count of espeak switching to another language's
    rules for foreign words) and "segment_languages" (espeak language per segment: after a
    switch the raw symbols are the other language's)."""
    if notation not in ("mnemonic", "ipa"):
        raise ValueError("notation must be 'mnemonic' or 'ipa'")
    if not text or not text.strip():
        raise ValueError("empty text")
    ipa = notation == "ipa"
    wpm, pitch_param = rate_parameter(rate), pitch_parameter(pitch)
    range_param = int(round(min(max(50 * pitch_range, 0), 100)))
    name = _engine_name(voice)
    with _lock:
        version = _espeak(False).version
        pcm, events, native_rate = _synth_once(False, deterministic, text, name, wpm, pitch_param, range_param)
        ipa_names: Optional[List[str]] = None
        if ipa:
            _, ipa_events, _ = _synth_once(True, deterministic, text, name, wpm, pitch_param, range_param)
            ipa_names = [_event_name(p) for t, _, _, _, p in ipa_events if t == espeakEVENT_PHONEME]
    samples = pcm16_to_float(pcm)
    duration = len(samples) / native_rate
    starts: List[Tuple[float, str]] = []
    words: List[Tuple[float, str]] = []
    last = 0
    phonemes = [(sample, _event_name(p)) for t, sample, _, _, p in events if t == espeakEVENT_PHONEME]
    if ipa_names is not None and len(ipa_names) != len(phonemes):
        raise EspeakError(f"IPA and mnemonic phoneme events differ for {text!r}")
    merged = 0
    for k, (sample, mnemonic) in enumerate(phonemes):
        sample = max(sample, last)  # guard: events are non-decreasing
        last = sample
        raw = mnemonic
        if ipa_names is not None and not (is_pause(mnemonic) or _SWITCH.match(mnemonic)):
            raw = ipa_names[k]
            if not raw:
                # A phoneme without an IPA name (";" linking, "@-" short schwa): not a pause,
                # so it is merged into the phone before it.
                merged += 1
                continue
        elif ipa_names is not None and is_pause(mnemonic):
            raw = ""
        starts.append((sample / native_rate, raw))
    for etype, sample, text_pos, length, _ in events:
        if etype == espeakEVENT_WORD:
            # text_position is 1-based, in characters.
            k = max(text_pos - 1, 0)
            words.append((sample / native_rate, text[k:k + length]))
    voice_lang = voice.split("+")[0].lower()
    segments, langs = _segments(starts, duration, voice_lang)
    switches = sum(1 for _, raw in starts if _SWITCH.match(raw))
    params = {
        "notation": "espeak-ipa" if ipa else "espeak-mnemonic",
        "rate": rate, "pitch": pitch, "pitch_range": pitch_range,
        "espeak_rate_wpm": wpm, "espeak_pitch": pitch_param, "espeak_range": range_param,
        "words": words, "language_switches": switches, "segment_languages": langs,
        "engine_version": version,
    }
    if ipa:
        params["ipa_merged"] = merged
    utt = finish(samples, native_rate, segments, sample_rate, text=text,
                 language=language or voice_language(voice), engine=ENGINE, voice=voice,
                 speaker=f"{ENGINE}:{voice}", params=params)
    del langs[len(utt.segments):]  # finish() may drop a segment past the resampled end
    return utt
