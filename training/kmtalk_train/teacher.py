"""The articulatory teacher: timed phones (+ the audio's loudness and pitch) -> per-frame
ARKit-52 blendshape weights, the training target of the default model.

How it works
------------
1. **Targets.** Every phone of the universal inventory (phones.py) has visible
   articulatory features (bilabial closure, labiodental contact, rounding, spreading, jaw
   opening, visible tongue tip, close teeth, pause). `TARGETS` turns features into a target
   value for each mouth/jaw channel: a weighted sum of features (and of a few feature
   products, e.g. rounding x openness -> funnel), then `OVERRIDES` that pin channels for
   strong constrictions (a bilabial sets jaw and mouthClose so the lips meet). Pauses
   target the relaxed neutral face (all zeros). Diphthongs move from the nucleus target to
   the `glide_to` target within the segment.
2. **Coarticulation by dominance functions** (Cohen & Massaro 1993). Each segment has, per
   channel group, a dominance alpha that is flat over the segment's core and decays
   exponentially outside it (separate rates before and after). The value of a channel at
   time t is the dominance-weighted mean of the segment targets. Consonants have weak
   dominance on the rounding group, and rounded phones spread their rounding far ahead
   (slow anticipatory decay): lips round during the consonants before a rounded vowel.
3. **Amplitude.** Jaw and lip-opening deviations are scaled by the local loudness
   (RMS dB against the utterance's loud frames) and by the speaking rate (fast speech
   undershoots), within bounds in `PARAMS`.
4. **Guarantees.** After a light temporal smoothing, every bilabial reaches full closure
   (lips meet: mouthClose == jawOpen, jaw nearly shut) over the middle of its segment, and
   every labiodental reaches lower-lip contact (mouthRollLower, jaw nearly shut), each with a short
   raised-cosine ramp so the motion stays smooth. Long pauses settle to the neutral face.
5. **Brows.** Pitch accents (peaks of the F0 z-score over voiced frames, from an
   autocorrelation pitch tracker) raise the inner and outer brows a little.
All numbers live in the tables below (`PARAMS`, `TARGETS`, `OVERRIDES`, `DOMINANCE`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from .arkit import ARKIT_52, INDEX

# --------------------------------------------------------------------------------------
# Parameters: every tunable number of the teacher.
# --------------------------------------------------------------------------------------

PARAMS = {
    "fps": 60.0,
    # Core of a segment where its dominance is flat, as a fraction of its duration.
    "core_fraction": 0.5,
    # Temporal smoothing before the guarantees (Gaussian sigma, seconds).
    "smooth_sigma_s": 0.012,
    # Loudness: gain = 1 + slope * (dB - reference dB), clipped.
    "loudness_slope_per_db": 0.015,
    "loudness_gain_range": (0.75, 1.12),
    "loudness_reference_percentile": 90,
    # Speaking rate (phones per second, pauses excluded): gain = 1 - slope * (rate - ref).
    "rate_reference": 12.0,
    "rate_slope": 0.025,
    "rate_gain_range": (0.75, 1.1),
    # Bilabial / labiodental guarantee: held over this fraction of the segment's middle,
    # with a raised-cosine ramp of this many seconds on each side.
    "closure_hold_fraction": 0.4,
    "closure_ramp_s": 0.035,
    # Lips closed: jawOpen at most this much, mouthClose equal to jawOpen.
    "closure_jaw": 0.06,
    "labiodental_roll_lower": 0.45,
    # Lower-lip contact: the jaw nearly shut so the lip reaches the upper teeth.
    "labiodental_jaw": 0.07,
    # Pauses longer than this fully relax to neutral over their middle.
    "long_pause_s": 0.25,
    # Pitch tracker and brow accents.
    "f0_range_hz": (60.0, 400.0),
    "f0_window_s": 0.040,
    "f0_hop_s": 0.010,
    "voicing_threshold": 0.45,
    "accent_z": 1.0,
    # An accent must also rise this much above the median F0 (log ratio, ~1.4 semitones),
    # and the z-score uses at least this spread, so monotone speech has no accents.
    "accent_min_rise": 0.08,
    "accent_min_spread": 0.06,
    "accent_min_gap_s": 0.7,
    "accent_width_s": 0.35,
    "brow_inner_gain": 0.25,
    "brow_outer_gain": 0.12,
    # Calibration knobs (teacher_fit.py fits them to real capture; 1 = the tables as written):
    # gains on each group's blended targets, and a scale on every dominance decay rate
    # (> 1 = narrower coarticulation, crisper motion).
    "jaw_gain": 1.0,
    "round_gain": 1.0,
    "spread_gain": 1.0,
    "closure_gain": 1.0,
    "decay_scale": 1.0,
    # Added to jawOpen through connected speech (runs of phones joined across pauses shorter
    # than long_pause_s), ramped in and out over closure_ramp_s: a real jaw does not close
    # between the syllables of a phrase as far as the phones' targets say (0 = the tables).
    "speech_jaw_offset": 0.0,
}

# Channel groups share dominance parameters.
GROUPS = {
    "jaw": ["jawOpen", "mouthLowerDownLeft", "mouthLowerDownRight", "mouthUpperUpLeft", "mouthUpperUpRight",
            "mouthShrugLower", "mouthShrugUpper"],
    "round": ["mouthPucker", "mouthFunnel"],
    "spread": ["mouthStretchLeft", "mouthStretchRight", "mouthSmileLeft", "mouthSmileRight",
               "mouthDimpleLeft", "mouthDimpleRight"],
    "closure": ["mouthClose", "mouthPressLeft", "mouthPressRight", "mouthRollLower", "mouthRollUpper"],
    "tongue": ["tongueOut"],
}
MOUTH_CHANNELS = [name for group in GROUPS.values() for name in group]

# Target of each channel = sum of gain x feature (a feature name or a product of two).
TARGETS: Dict[str, Dict[str, float]] = {
    "jawOpen": {"base": 0.04, "jaw_open": 0.55, "tongue_tip_visible": 0.06},
    "mouthLowerDownLeft": {"jaw_open": 0.22, "teeth_close": 0.12, "spreading": 0.05},
    "mouthLowerDownRight": {"jaw_open": 0.22, "teeth_close": 0.12, "spreading": 0.05},
    "mouthUpperUpLeft": {"jaw_open": 0.06, "teeth_close": 0.12, "labiodental": 0.15},
    "mouthUpperUpRight": {"jaw_open": 0.06, "teeth_close": 0.12, "labiodental": 0.15},
    "mouthShrugUpper": {"rounding": 0.10},
    "mouthShrugLower": {"rounding": 0.08},
    "mouthPucker": {"rounding": 0.65, "rounding*jaw_open": -0.45},
    "mouthFunnel": {"rounding": 0.20, "rounding*jaw_open": 0.70},
    "mouthStretchLeft": {"spreading": 0.28, "teeth_close": 0.12},
    "mouthStretchRight": {"spreading": 0.28, "teeth_close": 0.12},
    "mouthSmileLeft": {"spreading": 0.14},
    "mouthSmileRight": {"spreading": 0.14},
    "mouthDimpleLeft": {"spreading": 0.05},
    "mouthDimpleRight": {"spreading": 0.05},
    "mouthClose": {},
    "mouthPressLeft": {"bilabial_closure": 0.22},
    "mouthPressRight": {"bilabial_closure": 0.22},
    "mouthRollLower": {"labiodental": 0.45, "bilabial_closure": 0.08},
    "mouthRollUpper": {"bilabial_closure": 0.08},
    "tongueOut": {"tongue_tip_visible": 0.25},
}

# Strong constrictions pin channels: value = (1 - f) * value + f * pinned, f = the feature.
OVERRIDES: Dict[str, Dict[str, float]] = {
    "bilabial_closure": {"jawOpen": 0.06, "mouthClose": 0.06, "mouthLowerDownLeft": 0.0, "mouthLowerDownRight": 0.0,
                         "mouthFunnel": 0.0},
    "labiodental": {"jawOpen": 0.07, "mouthLowerDownLeft": 0.0, "mouthLowerDownRight": 0.0},
    "teeth_close": {"jawOpen": 0.04},
}

# Dominance per phone class and channel group: (alpha, decay before, decay after) with the
# decays in 1/s (exp(-rate * distance outside the segment core)). Small "before" decay =
# long anticipation.
DOMINANCE: Dict[str, Dict[str, Tuple[float, float, float]]] = {
    "vowel": {"jaw": (1.0, 14, 14), "round": (1.0, 6, 10), "spread": (1.0, 10, 12),
              "closure": (0.4, 20, 20), "tongue": (0.3, 20, 20)},
    "consonant": {"jaw": (0.6, 20, 20), "round": (0.12, 20, 20), "spread": (0.3, 20, 20),
                  "closure": (0.6, 25, 25), "tongue": (0.8, 25, 25)},
    "rounded_consonant": {"jaw": (0.6, 20, 20), "round": (1.0, 6, 10), "spread": (0.4, 20, 20),
                          "closure": (0.6, 25, 25), "tongue": (0.6, 25, 25)},
    "bilabial": {"jaw": (2.5, 25, 25), "round": (0.3, 20, 20), "spread": (0.4, 20, 20),
                 "closure": (4.0, 30, 30), "tongue": (0.5, 25, 25)},
    "labiodental": {"jaw": (2.0, 25, 25), "round": (0.3, 20, 20), "spread": (0.4, 20, 20),
                    "closure": (3.0, 30, 30), "tongue": (0.5, 25, 25)},
    "pause": {"jaw": (0.8, 8, 8), "round": (0.8, 8, 8), "spread": (0.8, 8, 8),
              "closure": (0.8, 8, 8), "tongue": (0.8, 8, 8)},
}

def param_value(params: dict, name: str) -> float:
    """A fitted parameter's value; `loudness_gain_low` / `_high` are the ends of
    `loudness_gain_range`, every other name is a PARAMS key (gains default to 1)."""
    if name == "loudness_gain_low":
        return params["loudness_gain_range"][0]
    if name == "loudness_gain_high":
        return params["loudness_gain_range"][1]
    return params.get(name, 1.0)


def with_values(params: dict, values: Dict[str, float]) -> dict:
    """A copy of `params` with fitted values set (names as `param_value`)."""
    out = dict(params)
    for name, value in values.items():
        if name == "loudness_gain_low":
            out["loudness_gain_range"] = (value, out["loudness_gain_range"][1])
        elif name == "loudness_gain_high":
            out["loudness_gain_range"] = (out["loudness_gain_range"][0], value)
        else:
            out[name] = value
    return out


def calibrated_params(path: Optional[str] = None) -> dict:
    """PARAMS with the values teacher_fit.py fitted to real capture (the committed
    teacher_calibrated.json next to this file, or `path`)."""
    import json
    import os
    path = path or os.path.join(os.path.dirname(os.path.abspath(__file__)), "teacher_calibrated.json")
    with open(path) as f:
        return with_values(PARAMS, json.load(f)["parameters"])


FEATURE_NAMES = ("bilabial_closure", "labiodental", "rounding", "spreading", "jaw_open",
                 "tongue_tip_visible", "teeth_close")


# --------------------------------------------------------------------------------------
# Phone targets
# --------------------------------------------------------------------------------------

def _feature_values(features) -> Dict[str, float]:
    values = {name: float(getattr(features, name)) for name in FEATURE_NAMES}
    values["base"] = 0.0 if features.pause else 1.0
    return values


def phone_target(features) -> np.ndarray:
    """The 52-channel target of one phone (zeros for a pause)."""
    target = np.zeros(len(ARKIT_52), dtype=np.float64)
    if features.pause:
        return target
    values = _feature_values(features)
    for channel, gains in TARGETS.items():
        total = 0.0
        for term, gain in gains.items():
            if "*" in term:
                a, b = term.split("*")
                total += gain * values[a] * values[b]
            else:
                total += gain * values[term]
        target[INDEX[channel]] = total
    for feature, pinned in OVERRIDES.items():
        f = values[feature]
        if f <= 0:
            continue
        for channel, value in pinned.items():
            i = INDEX[channel]
            target[i] = (1 - f) * target[i] + f * value
    return np.clip(target, 0.0, 1.0)


def phone_class(features) -> str:
    """The DOMINANCE row of a phone."""
    if features.pause:
        return "pause"
    if features.bilabial_closure >= 0.5:
        return "bilabial"
    if features.labiodental >= 0.5:
        return "labiodental"
    if features.kind == "vowel":
        return "vowel"
    return "rounded_consonant" if features.rounding >= 0.5 else "consonant"


# --------------------------------------------------------------------------------------
# Audio analysis: loudness and pitch
# --------------------------------------------------------------------------------------

def frame_loudness_db(samples: np.ndarray, sample_rate: int, times: np.ndarray, window_s: float = 0.05) -> np.ndarray:
    """RMS level in dB of a window centred at each time."""
    half = int(window_s * sample_rate / 2)
    power = np.concatenate([[0.0], np.cumsum(samples.astype(np.float64) ** 2)])
    centres = np.clip((times * sample_rate).astype(int), 0, len(samples))
    lo = np.clip(centres - half, 0, len(samples))
    hi = np.clip(centres + half, 0, len(samples))
    mean = (power[hi] - power[lo]) / np.maximum(hi - lo, 1)
    return 10 * np.log10(mean + 1e-10)


def track_f0(samples: np.ndarray, sample_rate: int, params=PARAMS) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Autocorrelation pitch tracker. Returns (times, f0 in Hz with 0 where unvoiced,
    voicing strength = normalised autocorrelation peak)."""
    window = int(params["f0_window_s"] * sample_rate)
    hop = int(params["f0_hop_s"] * sample_rate)
    if len(samples) < window:
        return np.zeros(0), np.zeros(0), np.zeros(0)
    count = 1 + (len(samples) - window) // hop
    index = np.arange(count)[:, None] * hop + np.arange(window)[None, :]
    frames = samples[index].astype(np.float64)
    frames -= frames.mean(axis=1, keepdims=True)
    frames *= np.hanning(window)
    size = 1 << int(np.ceil(np.log2(2 * window)))
    spectrum = np.fft.rfft(frames, size, axis=1)
    autocorrelation = np.fft.irfft(np.abs(spectrum) ** 2, size, axis=1)[:, :window]
    energy = autocorrelation[:, :1] + 1e-12
    normalised = autocorrelation / energy
    lo_hz, hi_hz = params["f0_range_hz"]
    min_lag, max_lag = int(sample_rate / hi_hz), min(int(sample_rate / lo_hz), window - 1)
    lags = np.argmax(normalised[:, min_lag:max_lag], axis=1) + min_lag
    strength = normalised[np.arange(count), lags]
    loud = 10 * np.log10(energy[:, 0] / window + 1e-12)
    voiced = (strength > params["voicing_threshold"]) & (loud > loud.max() - 40)
    f0 = np.where(voiced, sample_rate / lags, 0.0)
    times = (np.arange(count) * hop + window / 2) / sample_rate
    return times, f0, strength


def pitch_accents(samples: np.ndarray, sample_rate: int, params=PARAMS) -> List[Tuple[float, float]]:
    """(time, z-score) of pitch accents: local F0 maxima with z > accent_z over voiced frames."""
    times, f0, _ = track_f0(samples, sample_rate, params)
    voiced = f0 > 0
    if voiced.sum() < 10:
        return []
    log_f0 = np.log(f0[voiced])
    z = np.zeros_like(f0)
    rise = np.zeros_like(f0)
    rise[voiced] = log_f0 - np.median(log_f0)
    z[voiced] = rise[voiced] / max(float(np.std(log_f0)), params["accent_min_spread"])
    accents: List[Tuple[float, float]] = []
    for i in range(1, len(z) - 1):
        if (voiced[i] and z[i] >= params["accent_z"] and rise[i] >= params["accent_min_rise"]
                and z[i] >= z[i - 1] and z[i] >= z[i + 1]):
            if accents and times[i] - accents[-1][0] < params["accent_min_gap_s"]:
                if z[i] > accents[-1][1]:
                    accents[-1] = (float(times[i]), float(z[i]))
                continue
            accents.append((float(times[i]), float(z[i])))
    return accents


# --------------------------------------------------------------------------------------
# The teacher
# --------------------------------------------------------------------------------------

@dataclass
class TeacherResult:
    """Frames [K, 52] at `fps` (frame k at k / fps) plus what the teacher decided."""
    frames: np.ndarray
    fps: float
    loudness_gain: np.ndarray
    rate_gain: float
    accents: List[Tuple[float, float]]


def _raised_cosine_weight(times: np.ndarray, hold_start: float, hold_end: float, ramp: float) -> np.ndarray:
    """1 on [hold_start, hold_end], raised-cosine ramps of `ramp` seconds, 0 beyond."""
    w = np.zeros_like(times)
    inside = (times >= hold_start) & (times <= hold_end)
    w[inside] = 1.0
    before = (times < hold_start) & (times > hold_start - ramp)
    w[before] = 0.5 + 0.5 * np.cos(np.pi * (hold_start - times[before]) / ramp)
    after = (times > hold_end) & (times < hold_end + ramp)
    w[after] = 0.5 + 0.5 * np.cos(np.pi * (times[after] - hold_end) / ramp)
    return w


def speech_weight(info: Sequence, times: np.ndarray, params: dict) -> np.ndarray:
    """1 through connected speech, 0 in pauses of at least `long_pause_s` and before the
    first / after the last phone, with raised-cosine ramps of `closure_ramp_s` into the
    pauses. `info`: (segment, features, class) per segment, in order, as in `animate`."""
    phrases: List[Tuple[float, float]] = []
    start = end = None
    for seg, _, cls in info:
        if cls == "pause":
            if start is not None and seg.end - seg.start >= params["long_pause_s"]:
                phrases.append((start, end))
                start = None
            continue
        if start is None:
            start = float(seg.start)
        end = float(seg.end)
    if start is not None:
        phrases.append((start, end))
    weight = np.zeros_like(times)
    for a, b in phrases:
        weight = np.maximum(weight, _raised_cosine_weight(times, a, b, params["closure_ramp_s"]))
    return weight


def _gaussian_smooth(frames: np.ndarray, sigma_frames: float) -> np.ndarray:
    if sigma_frames <= 0:
        return frames
    radius = max(1, int(np.ceil(3 * sigma_frames)))
    kernel = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma_frames) ** 2)
    kernel /= kernel.sum()
    padded = np.pad(frames, ((radius, radius), (0, 0)), mode="edge")
    out = np.empty_like(frames)
    for c in range(frames.shape[1]):
        out[:, c] = np.convolve(padded[:, c], kernel, mode="valid")
    return out


def animate(segments: Sequence, samples: np.ndarray, sample_rate: int,
            features: Optional[Callable] = None, params: dict = PARAMS,
            accents: Optional[List[Tuple[float, float]]] = None) -> TeacherResult:
    """Teacher animation for an utterance.

    segments: objects with .start, .end (seconds) and .phone (an inventory phone, "_" for
    pauses), in order. samples: mono float audio at sample_rate (for loudness and pitch).
    features: phone -> PhoneFeatures (default phones.features). accents: precomputed
    `pitch_accents(samples, sample_rate, params)` (computed here when None).
    """
    if features is None:
        from . import phones
        features = phones.features
    fps = params["fps"]
    duration = max(len(samples) / sample_rate, segments[-1].end if segments else 0.0)
    count = int(np.floor(duration * fps + 1e-9)) + 1
    times = np.arange(count) / fps

    # 1-2. Targets blended by dominance, per channel group.
    numerator = np.zeros((count, len(ARKIT_52)))
    denominator = np.zeros((count, len(ARKIT_52)))
    group_of = np.full(len(ARKIT_52), "", dtype=object)
    for group, names in GROUPS.items():
        for name in names:
            group_of[INDEX[name]] = group
    mouth = np.array([INDEX[n] for n in MOUTH_CHANNELS])
    info = []
    for seg in segments:
        f = features(seg.phone)
        cls = phone_class(f)
        start, end = float(seg.start), float(seg.end)
        glide = getattr(f, "glide_to", None)
        pieces = [(start, end, f)]
        if glide and not f.pause:
            split = start + 0.6 * (end - start)
            pieces = [(start, split, f), (split, end, features(glide))]
        for p_start, p_end, p_features in pieces:
            target = phone_target(p_features)
            length = p_end - p_start
            core = params["core_fraction"] * length
            core_start = p_start + (length - core) / 2
            core_end = core_start + core
            # Dominance below exp(-30) of its peak is left out: only a window around the
            # segment is computed (the teacher is linear in the segment count, not quadratic).
            slowest = min(min(d[1], d[2]) for d in DOMINANCE[cls].values()) * params.get("decay_scale", 1.0)
            reach = 30.0 / max(slowest, 1e-3)
            lo = int(np.searchsorted(times, core_start - reach))
            hi = int(np.searchsorted(times, core_end + reach, side="right"))
            window = times[lo:hi]
            before = np.maximum(core_start - window, 0.0)
            after = np.maximum(window - core_end, 0.0)
            for group, names in GROUPS.items():
                alpha, decay_before, decay_after = DOMINANCE[cls][group]
                decay_before *= params.get("decay_scale", 1.0)
                decay_after *= params.get("decay_scale", 1.0)
                if cls == "pause":
                    alpha *= min(1.0, length / params["long_pause_s"])
                dominance = alpha * np.exp(-decay_before * before - decay_after * after)
                idx = [INDEX[n] for n in names]
                numerator[lo:hi, idx] += dominance[:, None] * target[idx][None, :]
                denominator[lo:hi, idx] += dominance[:, None]
        info.append((seg, f, cls))
    frames = np.zeros((count, len(ARKIT_52)))
    valid = denominator > 1e-12
    frames[valid] = numerator[valid] / denominator[valid]
    for group in ("jaw", "round", "spread", "closure"):
        gain = params.get(group + "_gain", 1.0)
        if gain != 1.0:
            frames[:, [INDEX[n] for n in GROUPS[group]]] *= gain

    # 3. Amplitude from loudness and speaking rate (jaw and opening channels).
    loud_db = frame_loudness_db(samples, sample_rate, times)
    speech_db = loud_db[loud_db > loud_db.max() - 45]
    reference = np.percentile(speech_db, params["loudness_reference_percentile"]) if speech_db.size else 0.0
    lo, hi = params["loudness_gain_range"]
    loudness_gain = np.clip(1 + params["loudness_slope_per_db"] * (loud_db - reference), lo, hi)
    spoken = [s for s, f, c in info if c != "pause"]
    spoken_time = sum(s.end - s.start for s in spoken)
    rate = len(spoken) / spoken_time if spoken_time > 0 else params["rate_reference"]
    lo, hi = params["rate_gain_range"]
    rate_gain = float(np.clip(1 - params["rate_slope"] * (rate - params["rate_reference"]), lo, hi))
    for name in GROUPS["jaw"] + GROUPS["round"]:
        frames[:, INDEX[name]] *= loudness_gain * rate_gain
    offset = params.get("speech_jaw_offset", 0.0)
    if offset != 0.0:
        frames[:, INDEX["jawOpen"]] += offset * speech_weight(info, times, params)

    frames[:, mouth] = _gaussian_smooth(frames[:, mouth], params["smooth_sigma_s"] * fps)

    # 4. Guarantees: closures, labiodental contact, relaxed long pauses.
    ramp = params["closure_ramp_s"]
    for seg, f, cls in info:
        start, end = float(seg.start), float(seg.end)
        middle, half = (start + end) / 2, params["closure_hold_fraction"] * (end - start) / 2
        if cls == "bilabial":
            w = _raised_cosine_weight(times, middle - half, middle + half, ramp)
            jaw = np.minimum(frames[:, INDEX["jawOpen"]], params["closure_jaw"])
            frames[:, INDEX["jawOpen"]] = (1 - w) * frames[:, INDEX["jawOpen"]] + w * jaw
            frames[:, INDEX["mouthClose"]] = (1 - w) * frames[:, INDEX["mouthClose"]] + w * frames[:, INDEX["jawOpen"]]
            for name in ("mouthLowerDownLeft", "mouthLowerDownRight", "mouthFunnel"):
                frames[:, INDEX[name]] *= 1 - w
        elif cls == "labiodental":
            w = _raised_cosine_weight(times, middle - half, middle + half, ramp)
            roll = np.maximum(frames[:, INDEX["mouthRollLower"]], params["labiodental_roll_lower"])
            frames[:, INDEX["mouthRollLower"]] = (1 - w) * frames[:, INDEX["mouthRollLower"]] + w * roll
            jaw = np.minimum(frames[:, INDEX["jawOpen"]], params["labiodental_jaw"])
            frames[:, INDEX["jawOpen"]] = (1 - w) * frames[:, INDEX["jawOpen"]] + w * jaw
            for name in ("mouthLowerDownLeft", "mouthLowerDownRight", "mouthFunnel"):
                frames[:, INDEX[name]] *= 1 - w
        elif cls == "pause" and end - start >= params["long_pause_s"]:
            hold = (end - start) / 2 - params["long_pause_s"] / 2
            if hold > 0:
                w = _raised_cosine_weight(times, middle - hold, middle + hold, params["long_pause_s"] / 2)
                frames[:, mouth] *= (1 - w)[:, None]

    # 5. Brows on pitch accents.
    if accents is None:
        accents = pitch_accents(samples, sample_rate, params)
    width = params["accent_width_s"]
    for time, z in accents:
        strength = float(np.clip((z - 0.5) / 1.5, 0, 1))
        bump = _raised_cosine_weight(times, time - width / 4, time + width / 4, width / 4) * strength
        frames[:, INDEX["browInnerUp"]] = np.maximum(frames[:, INDEX["browInnerUp"]], params["brow_inner_gain"] * bump)
        for name in ("browOuterUpLeft", "browOuterUpRight"):
            frames[:, INDEX[name]] = np.maximum(frames[:, INDEX[name]], params["brow_outer_gain"] * bump)

    return TeacherResult(frames=np.clip(frames, 0, 1).astype(np.float32), fps=fps, loudness_gain=loudness_gain,
                         rate_gain=rate_gain, accents=accents)
