"""Flite through its C library (libflite.so.1 and the voice libraries, ctypes).

How the timings are obtained: flite_synth_text(text, voice) returns a cst_utterance whose
"Segment" relation lists every phone (Flite's US English phone set: CMU/ARPAbet-like
lowercase symbols, "pau" for pauses) with its end time in seconds (item feature "end").
The same utterance holds the synthesized wave (utt_wave -> cst_wave {type, sample_rate,
num_samples, num_channels, short *samples}, see flite/cst_wave.h), so the segment times
are the ones the waveform was generated from. Symbols are kept raw in Segment.raw and
Segment.phone (params["notation"] == "flite-cmu"). Diphone voices (kal, kal16) produce a
wave slightly shorter than their final "pau" target: the last segment is cut to the audio.

Voices: "slt" (female), "rms", "awb" (male, Scottish English) -- clustergen statistical
parametric voices, 16 kHz -- and "kal16" (16 kHz) / "kal" (8 kHz) diphone voices, all US
English; whichever voice libraries are installed. kal is 8 kHz audio: resampling it to 16
kHz cannot add the missing band above 4 kHz.

rate: multiplier of the speaking rate, applied as the voice feature duration_stretch =
1/rate. pitch: multiplier of the voice's F0: clustergen voices scale the generated F0 by
the "f0_shift" feature; diphone voices take it through int_f0_target_mean (their
intonation model's target mean, 100 Hz for kal), multiplied by `pitch`. rms generates
F0 with Flite's SPAM model, which reads neither feature: pitch has no effect on rms
(params["pitch_applied"] is False there). Measured median F0 for pitch 0.8 / 1.0 / 1.25:
slt 136/170/213 Hz, awb 105/130/164, kal16 73/87/110, rms 102 for all.

Threading: voices are shared objects whose features are set per call, so calls are
serialised with a module lock. Flite itself keeps no other global state that matters here.
"""
from __future__ import annotations

import ctypes
import sys
import threading
import types
from typing import Dict, List, Optional

import numpy as np

from ..types import Utterance
from . import finish, pcm16_to_float, segments_from_ends

ENGINE = "flite"
NOTATION = "flite-cmu"

# voice name -> (library, register function, kind)
VOICES = {
    "slt": ("libflite_cmu_us_slt.so.1", "register_cmu_us_slt", "cg"),
    "rms": ("libflite_cmu_us_rms.so.1", "register_cmu_us_rms", "spamf0"),
    "awb": ("libflite_cmu_us_awb.so.1", "register_cmu_us_awb", "cg"),
    "kal16": ("libflite_cmu_us_kal16.so.1", "register_cmu_us_kal16", "diphone"),
    "kal": ("libflite_cmu_us_kal.so.1", "register_cmu_us_kal", "diphone"),
}


class _Wave(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_char_p),
        ("sample_rate", ctypes.c_int),
        ("num_samples", ctypes.c_int),
        ("num_channels", ctypes.c_int),
        ("samples", ctypes.POINTER(ctypes.c_short)),
    ]


class _Voice(ctypes.Structure):
    _fields_ = [
        ("name", ctypes.c_char_p),
        ("features", ctypes.c_void_p),
        ("ffunctions", ctypes.c_void_p),
        ("utt_init", ctypes.c_void_p),
    ]


class FliteError(RuntimeError):
    pass


class _Flite:
    def __init__(self) -> None:
        mode = ctypes.RTLD_GLOBAL
        try:
            self.lib = ctypes.CDLL("libflite.so.1", mode=mode)
            for dep in ("libflite_usenglish.so.1", "libflite_cmulex.so.1"):
                ctypes.CDLL(dep, mode=mode)
        except OSError as exc:
            raise FliteError(f"Flite libraries not found ({exc}); install libflite1") from exc
        lib = self.lib
        vp, cp = ctypes.c_void_p, ctypes.c_char_p
        for name, args, res in [
            ("flite_init", [], ctypes.c_int),
            ("flite_synth_text", [cp, vp], vp),
            ("utt_relation", [vp, cp], vp),
            ("relation_head", [vp], vp),
            ("item_next", [vp], vp),
            ("item_feat_float", [vp, cp], ctypes.c_float),
            ("item_feat_string", [vp, cp], cp),
            ("item_feat_present", [vp, cp], ctypes.c_int),
            ("utt_wave", [vp], ctypes.POINTER(_Wave)),
            ("delete_utterance", [vp], None),
            ("flite_feat_set_float", [vp, cp, ctypes.c_float], None),
            ("flite_get_param_float", [vp, cp, ctypes.c_float], ctypes.c_float),
            ("feat_present", [vp, cp], ctypes.c_int),
            ("flite_feat_remove", [vp, cp], ctypes.c_int),
        ]:
            fn = getattr(lib, name)
            fn.argtypes = args
            fn.restype = res
        lib.flite_init()
        self.lock = threading.RLock()
        self.voices: Dict[str, ctypes.POINTER(_Voice)] = {}
        self.defaults: Dict[str, Dict[str, float]] = {}
        self._libs: Dict[str, ctypes.CDLL] = {}

    def voice(self, name: str):
        if name in self.voices:
            return self.voices[name]
        if name not in VOICES:
            raise ValueError(f"unknown flite voice {name!r}; known: {sorted(VOICES)}")
        libname, register, _ = VOICES[name]
        try:
            vlib = ctypes.CDLL(libname, mode=ctypes.RTLD_GLOBAL)
        except OSError as exc:
            raise ValueError(f"flite voice {name!r} is not installed ({libname})") from exc
        fn = getattr(vlib, register)
        fn.argtypes = [ctypes.c_char_p]
        fn.restype = ctypes.POINTER(_Voice)
        voice = fn(None)
        if not voice:
            raise FliteError(f"{register} failed")
        feats = voice.contents.features
        self.defaults[name] = {
            "duration_stretch": self.lib.flite_get_param_float(feats, b"duration_stretch", 1.0),
            "int_f0_target_mean": self.lib.flite_get_param_float(feats, b"int_f0_target_mean", 100.0),
            "f0_shift": self.lib.flite_get_param_float(feats, b"f0_shift", 1.0),
        }
        self._libs[name] = vlib
        self.voices[name] = voice
        return voice


def _process_state():
    """Shared by every copy of this module in the process (the package can be imported
    under two names): Flite's register_* functions return the same voice object each time,
    so two copies would read each other's per-call features as their defaults."""
    state = sys.modules.get("_kmtalk_flite_state")
    if state is None:
        state = types.ModuleType("_kmtalk_flite_state")
        state.lock = threading.Lock()
        state.instance = None
        state = sys.modules.setdefault("_kmtalk_flite_state", state)
    return state


def _flite() -> _Flite:
    state = _process_state()
    with state.lock:
        if state.instance is None:
            state.instance = _Flite()
        return state.instance


def is_available() -> bool:
    try:
        _flite()
        return True
    except Exception:
        return False


def available_voices(language: Optional[str] = None) -> List[str]:
    """Installed voices (all US English): a subset of slt, rms, awb, kal16, kal."""
    if language not in (None, "en"):
        return []
    try:
        f = _flite()
    except FliteError:
        return []
    out = []
    with f.lock:
        for name in VOICES:
            try:
                f.voice(name)
                out.append(name)
            except (ValueError, FliteError, AttributeError):
                pass
    return out


def synthesize(text: str, voice: str = "slt", rate: float = 1.0, pitch: float = 1.0,
               language: Optional[str] = None, *, sample_rate: Optional[int] = 16000) -> Utterance:
    """Synthesizes `text` with a Flite voice; returns the Utterance with phone segments."""
    if not text or not text.strip():
        raise ValueError("empty text")
    if rate <= 0 or pitch <= 0:
        raise ValueError("rate and pitch must be positive")
    f = _flite()
    lib = f.lib
    with f.lock:
        v = f.voice(voice)
        feats = v.contents.features
        base = f.defaults[voice]
        kind = VOICES[voice][2]
        lib.flite_feat_set_float(feats, b"duration_stretch", base["duration_stretch"] / rate)
        if kind in ("cg", "spamf0"):
            lib.flite_feat_set_float(feats, b"f0_shift", base["f0_shift"] * pitch)
        else:
            lib.flite_feat_set_float(feats, b"int_f0_target_mean", base["int_f0_target_mean"] * pitch)
        utt = lib.flite_synth_text(text.encode("utf-8"), v)
        if not utt:
            raise FliteError("flite_synth_text failed")
        try:
            wave = lib.utt_wave(utt)
            if not wave:
                raise FliteError("utterance has no wave")
            w = wave.contents
            n, channels, native_rate = w.num_samples, max(w.num_channels, 1), w.sample_rate
            pcm = np.ctypeslib.as_array(w.samples, shape=(n * channels,)).copy() if n > 0 else np.zeros(0, np.int16)
            if channels > 1:
                pcm = pcm.reshape(-1, channels)[:, 0]
            ends = []
            item = lib.relation_head(lib.utt_relation(utt, b"Segment"))
            while item:
                name = lib.item_feat_string(item, b"name").decode("utf-8", "replace")
                ends.append((float(lib.item_feat_float(item, b"end")), name))
                item = lib.item_next(item)
        finally:
            lib.delete_utterance(utt)
    samples = pcm16_to_float(pcm)
    duration = len(samples) / native_rate
    segments = segments_from_ends(ends, duration)
    params = {
        "notation": NOTATION, "rate": rate, "pitch": pitch, "pitch_applied": kind != "spamf0",
        "engine_segment_end": ends[-1][0] if ends else 0.0,
    }
    return finish(samples, native_rate, segments, sample_rate, text=text, language=language or "en",
                  engine=ENGINE, voice=voice, speaker=f"{ENGINE}:{voice}", params=params)
