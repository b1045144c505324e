"""Audio augmentation for 16 kHz mono float32 speech.

Every function returns new audio (float32, finite, peak <= 1); randomness comes only from the
numpy Generator passed in, so a seed reproduces a result exactly. Only `speed` changes the
time axis: it returns the factor by which phone times must be multiplied (new duration / old
duration). Everything else keeps the length and the timing of the input (zero-phase filters,
reverb with the direct path at t = 0, codec delay removed).

Methods:
  telephone   G.711-like channel: 300-3400 Hz band-pass (4th-order Butterworth, zero phase),
              decimation to 8 kHz, optional 8-bit mu-law companding, back up to 16 kHz.
  add_noise   white, pink (1/f power, FFT-shaped) or babble (3-7 other utterances summed at
              equal RMS), scaled to the requested SNR over the whole signal (exact: the SNR is
              computed from the same powers it is scaled with; clipping protection scales
              speech and noise together and so keeps it).
  reverb      synthetic room impulse response: direct path at 0, sparse early reflections
              (2-50 ms, random sign, decaying), exponentially decaying Gaussian tail with
              60 dB decay after `rt60` seconds, low-passed progressively (air absorption);
              output rescaled to the input RMS.
  gain        dB gain; if the result would exceed `ceiling`, it is scaled down to it
              (clipping protection: nothing is ever hard-clipped).
  speed       resampling (scipy.signal.resample_poly, rational approximation of the factor):
              factor 1.1 = 10 % faster; duration / 1.1, pitch x 1.1.
  pitch_shift WSOLA time-stretch by the ratio (waveform-similarity overlap-add: 32 ms Hann
              frames, 50 % overlap, +-8 ms search for the best-correlated continuation), then
              resampling by the inverse ratio: duration kept exactly, pitch and formants move
              together (like speed perturbation without the tempo change). Quality: clean on
              voiced speech for +-3 semitones (tested within 2 % on a harmonic tone); larger
              shifts give audible frame repetition/skipping on transients, as all WSOLA does.
  codec       encode/decode through libsndfile (the `soundfile` package): MP3 (MPEG-1/2
              layer III, LAME/mpg123) and Ogg Opus, both at 16 kHz directly (libsndfile's Opus
              accepts 8/12/16/24/48 kHz; the 48 kHz route is available with opus_rate=48000);
              the decoded signal is aligned to the input by cross-correlation and cut/padded
              to the input length. compression_level 0..1 maps to bitrate (measured on speech:
              MP3 VBR 0.0 -> 78 kb/s, 0.5 -> 32, 0.9 -> 24; Opus 0.5 -> 135, 0.9 -> 27,
              1.0 -> 8 kb/s).

random_chain applies a random, plausible subset with the ranges of CHAIN (the one table).
"""
from __future__ import annotations

import io
from fractions import Fraction
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

SR = 16000

# ---------------------------------------------------------------------------------------------
# The one table of random_chain: probability of each step and its parameter ranges
# (uniform within (lo, hi); tuples of names are chosen uniformly).
CHAIN = {
    "speed":     {"p": 0.3, "factor": (0.9, 1.1)},
    "pitch":     {"p": 0.2, "semitones": (-2.0, 2.0)},
    "reverb":    {"p": 0.3, "rt60": (0.15, 0.8), "early": (3, 10)},
    "noise":     {"p": 0.5, "snr_db": (5.0, 30.0), "kind": ("white", "pink", "babble"),
                  "babble_talkers": (3, 7)},
    "telephone": {"p": 0.15, "mu_law": (True, False)},
    "codec":     {"p": 0.2, "kind": ("mp3", "opus"), "compression_level": (0.3, 0.95)},
    "gain":      {"p": 0.5, "db": (-12.0, 6.0)},
}
CHAIN_ORDER = ("speed", "pitch", "reverb", "noise", "telephone", "codec", "gain")


def _f32(x: np.ndarray, ceiling: float = 1.0) -> np.ndarray:
    """float32, non-finite samples zeroed, scaled down (never clipped) to peak <= ceiling."""
    y = np.nan_to_num(np.asarray(x, dtype=np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    peak = float(np.max(np.abs(y))) if y.size else 0.0
    if peak > ceiling:
        y = y * (ceiling / peak)
    return y.astype(np.float32)


def _check(audio: np.ndarray) -> np.ndarray:
    x = np.asarray(audio)
    if x.ndim != 1:
        raise ValueError("mono audio expected (1-D array)")
    return x.astype(np.float64)


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x)))) if len(x) else 0.0


def _resample(x: np.ndarray, up: int, down: int) -> np.ndarray:
    from scipy.signal import resample_poly

    if up == down:
        return np.array(x, dtype=np.float64)
    return resample_poly(x, up, down)


def _fit_length(x: np.ndarray, n: int) -> np.ndarray:
    if len(x) >= n:
        return x[:n]
    return np.concatenate([x, np.zeros(n - len(x))])


# ---------------------------------------------------------------------------------------------
# Channel


def telephone(audio: np.ndarray, sr: int = SR, low: float = 300.0, high: float = 3400.0,
              mu_law: bool = True) -> np.ndarray:
    """Telephone channel: band-pass low..high Hz, down to 8 kHz, optional 8-bit mu-law
    (G.711) quantisation, back up to `sr`. Same length, zero phase."""
    from scipy.signal import butter, sosfiltfilt

    x = _check(audio)
    n = len(x)
    if n == 0:
        return _f32(x)
    g = np.gcd(8000, sr)
    y = _resample(x, 8000 // g, sr // g)
    if len(y) > 27:
        sos = butter(4, [low, high], btype="bandpass", fs=8000, output="sos")
        y = sosfiltfilt(sos, y)
    if mu_law:
        mu = 255.0
        peak = max(float(np.max(np.abs(y))) if len(y) else 0.0, 1e-9)
        scale = max(peak, 1.0)
        c = np.sign(y) * np.log1p(mu * np.minimum(np.abs(y) / scale, 1.0)) / np.log1p(mu)
        c = np.round(c * 127.0) / 127.0
        y = np.sign(c) * np.expm1(np.abs(c) * np.log1p(mu)) / mu * scale
    z = _resample(y, sr // g, 8000 // g)
    return _f32(_fit_length(z, n))


# ---------------------------------------------------------------------------------------------
# Noise


def white_noise(n: int, rng: np.random.Generator) -> np.ndarray:
    return rng.standard_normal(n)


def pink_noise(n: int, rng: np.random.Generator) -> np.ndarray:
    """1/f power spectrum (-3 dB/octave), shaped in the frequency domain, DC removed."""
    if n == 0:
        return np.zeros(0)
    spec = rng.standard_normal(n // 2 + 1) + 1j * rng.standard_normal(n // 2 + 1)
    f = np.arange(n // 2 + 1, dtype=np.float64)
    f[0] = 1.0
    spec /= np.sqrt(f)
    spec[0] = 0.0
    y = np.fft.irfft(spec, n)
    return y / (np.std(y) + 1e-12)


def babble_noise(n: int, rng: np.random.Generator, pool: Sequence[np.ndarray],
                 talkers: int = 5) -> np.ndarray:
    """Sum of `talkers` random excerpts of the utterances in `pool` (16 kHz arrays), each at
    the same RMS, looped when shorter than n, with random start offsets."""
    pool = [np.asarray(p, dtype=np.float64) for p in pool if len(p) > 0 and _rms(p) > 0]
    if not pool:
        raise ValueError("babble needs a non-empty pool of utterances")
    out = np.zeros(n)
    for _ in range(talkers):
        src = pool[int(rng.integers(len(pool)))]
        src = src / _rms(src)
        start = int(rng.integers(len(src)))
        reps = int(np.ceil((n + start) / len(src)))
        out += np.tile(src, reps)[start:start + n]
    return out


def add_noise(audio: np.ndarray, snr_db: float, rng: np.random.Generator,
              kind: str = "white", babble_pool: Optional[Sequence[np.ndarray]] = None,
              talkers: int = 5) -> np.ndarray:
    """Additive noise at `snr_db` = 10 log10(mean speech power / mean noise power) over the
    whole signal. kind: "white", "pink" or "babble" (needs babble_pool)."""
    x = _check(audio)
    n = len(x)
    if kind == "white":
        noise = white_noise(n, rng)
    elif kind == "pink":
        noise = pink_noise(n, rng)
    elif kind == "babble":
        noise = babble_noise(n, rng, babble_pool or [], talkers)
    else:
        raise ValueError(f"unknown noise kind {kind!r}")
    ps, pn = np.mean(x ** 2) if n else 0.0, np.mean(noise ** 2) if n else 0.0
    if ps <= 0 or pn <= 0:
        return _f32(x)
    noise *= np.sqrt(ps / (pn * 10 ** (snr_db / 10)))
    return _f32(x + noise)


# ---------------------------------------------------------------------------------------------
# Reverb


def room_impulse_response(rt60: float, rng: np.random.Generator, sr: int = SR,
                          early: int = 6, drr_db: float = 3.0) -> np.ndarray:
    """Synthetic room impulse response, direct path at sample 0 with amplitude 1.

    early: number of sparse early reflections between 2 and 50 ms (random sign, amplitude
    falling with delay); tail: Gaussian noise from 5 ms on with envelope
    exp(-6.908 t / rt60) (60 dB energy decay after rt60 s), its high frequencies decaying
    faster (one-pole low-pass sweeping 7.5 kHz -> 1.5 kHz); the tail is scaled so that the
    direct-to-reverberant energy ratio is drr_db. Length 1.2 * rt60."""
    from scipy.signal import lfilter

    rt60 = max(float(rt60), 0.05)
    n = max(int(1.2 * rt60 * sr), int(0.06 * sr))
    t = np.arange(n) / sr
    h = np.zeros(n)
    h[0] = 1.0
    env = np.exp(-6.908 * t / rt60)
    tail = rng.standard_normal(n) * env
    tail[: int(0.005 * sr)] = 0.0
    # air absorption: low-pass the tail with a cut-off that falls over time (split in blocks)
    blocks = np.array_split(np.arange(n), 8)
    shaped = np.zeros(n)
    for i, idx in enumerate(blocks):
        fc = 7500.0 - 6000.0 * i / max(len(blocks) - 1, 1)
        a = np.exp(-2 * np.pi * fc / sr)
        # divide by the filter's white-noise power gain (1-a)/(1+a): colour, not level
        shaped[idx] = lfilter([1 - a], [1, -a], tail)[idx] / np.sqrt((1 - a) / (1 + a))
    tail = shaped
    for _ in range(int(early)):
        d = rng.uniform(0.002, 0.05)
        k = int(d * sr)
        if k < n:
            tail[k] += rng.choice([-1.0, 1.0]) * rng.uniform(0.3, 0.8) * np.exp(-6.908 * d / rt60)
    e_tail = float(np.sum(tail ** 2))
    if e_tail > 0:
        tail *= np.sqrt(1.0 / (e_tail * 10 ** (drr_db / 10)))
    return h + tail


def reverb(audio: np.ndarray, rt60: float, rng: np.random.Generator, sr: int = SR,
           early: int = 6, drr_db: float = 3.0) -> np.ndarray:
    """Convolve with room_impulse_response; same length (the decay past the end is cut), output
    RMS equal to the input RMS (then peak-limited to 1)."""
    from scipy.signal import fftconvolve

    x = _check(audio)
    if len(x) == 0:
        return _f32(x)
    h = room_impulse_response(rt60, rng, sr, early, drr_db)
    y = fftconvolve(x, h)[: len(x)]
    r_in, r_out = _rms(x), _rms(y)
    if r_out > 0:
        y *= r_in / r_out
    return _f32(y)


def estimate_rt60(h: np.ndarray, sr: int = SR) -> float:
    """RT60 from an impulse response: Schroeder backward integration, line fit over the
    -5..-25 dB range, extrapolated to -60 dB (T20)."""
    e = np.cumsum(np.asarray(h, dtype=np.float64)[::-1] ** 2)[::-1]
    edc = 10 * np.log10(e / e[0] + 1e-300)
    i5, i25 = np.argmax(edc <= -5), np.argmax(edc <= -25)
    if i25 <= i5:
        return float("nan")
    t = np.arange(i5, i25) / sr
    slope = np.polyfit(t, edc[i5:i25], 1)[0]
    return float(-60.0 / slope)


# ---------------------------------------------------------------------------------------------
# Level, speed, pitch


def gain(audio: np.ndarray, db: float, ceiling: float = 0.99) -> np.ndarray:
    """Multiply by 10^(db/20); if the peak would exceed `ceiling`, scale to it instead."""
    x = _check(audio) * 10 ** (db / 20)
    return _f32(x, ceiling)


def _ratio(factor: float, max_den: int = 200) -> Fraction:
    return Fraction(float(factor)).limit_denominator(max_den)


def speed(audio: np.ndarray, factor: float) -> Tuple[np.ndarray, float]:
    """Speed perturbation by resampling: factor > 1 is faster and higher. Returns
    (audio, time_factor) with time_factor = new length / old length (about 1/factor):
    multiply phone start/end times by it."""
    x = _check(audio)
    if factor <= 0:
        raise ValueError("factor must be positive")
    r = _ratio(factor)
    y = _resample(x, r.denominator, r.numerator)
    return _f32(y), (len(y) / len(x) if len(x) else 1.0 / factor)


def wsola(audio: np.ndarray, stretch: float, sr: int = SR, frame: float = 0.032,
          tolerance: float = 0.008) -> np.ndarray:
    """Time-stretch by `stretch` (output length = round(stretch * input length)) keeping the
    pitch: waveform-similarity overlap-add (Verhelst & Roelands 1993). Hann frames of `frame`
    s at 50 % overlap; each analysis frame is taken within +-`tolerance` s of its nominal
    position where it best continues (normalised cross-correlation) the previous one."""
    x = _check(audio)
    n_out = int(round(stretch * len(x)))
    N = int(frame * sr) // 2 * 2
    hs = N // 2
    ha = hs / stretch
    tol = int(tolerance * sr)
    if len(x) < N or n_out < N:
        return _fit_length(_resample(x, max(n_out, 1), max(len(x), 1)), n_out)
    win = np.hanning(N + 1)[:N]          # periodic Hann: overlap-adds to 1 at hop N/2
    xp = np.concatenate([np.zeros(tol), x, np.zeros(N + tol + int(np.ceil(ha)) + hs)])
    frames = int(np.ceil(n_out / hs)) + 1
    out = np.zeros(frames * hs + N)
    norm = np.zeros_like(out)
    prev = tol  # position in xp of the previous chosen frame
    for k in range(frames):
        nominal = int(round(k * ha)) + tol
        if k == 0:
            pos = nominal
        else:
            target = xp[prev + hs: prev + hs + N]
            lo = max(nominal - tol, 0)
            region = xp[lo: nominal + tol + N]
            if len(region) < N or not np.any(target):
                pos = nominal
            else:
                c = np.correlate(region, target, mode="valid")
                energy = np.convolve(region ** 2, np.ones(N), mode="valid")
                c = c / np.sqrt(energy + 1e-12)
                pos = lo + int(np.argmax(c))
        seg = xp[pos: pos + N]
        if len(seg) < N:
            seg = np.concatenate([seg, np.zeros(N - len(seg))])
        out[k * hs: k * hs + N] += seg * win
        norm[k * hs: k * hs + N] += win
        prev = pos
    out = out / np.maximum(norm, 1e-3) * (norm > 1e-3)
    return out[:n_out]


def pitch_shift(audio: np.ndarray, semitones: float = 0.0, ratio: Optional[float] = None,
                sr: int = SR) -> np.ndarray:
    """Shift the pitch by `semitones` (or a frequency `ratio`) keeping the duration: WSOLA
    stretch by the ratio, then resampling by 1/ratio; output length = input length."""
    x = _check(audio)
    r = float(ratio) if ratio is not None else 2.0 ** (semitones / 12.0)
    if r <= 0:
        raise ValueError("ratio must be positive")
    if abs(r - 1.0) < 1e-6 or len(x) == 0:
        return _f32(x)
    q = _ratio(r)
    stretched = wsola(x, q.numerator / q.denominator, sr)
    y = _resample(stretched, q.denominator, q.numerator)
    return _f32(_fit_length(y, len(x)))


# ---------------------------------------------------------------------------------------------
# Codecs


CODECS = {"mp3": ("MP3", "MPEG_LAYER_III"), "opus": ("OGG", "OPUS"), "vorbis": ("OGG", "VORBIS")}


def codec_available(kind: str) -> bool:
    """Whether the installed libsndfile can encode `kind` ("mp3", "opus", "vorbis")."""
    try:
        import soundfile as sf
    except ImportError:
        return False
    fmt, sub = CODECS[kind]
    return fmt in sf.available_formats() and sub in sf.available_subtypes(fmt)


def _align_to(y: np.ndarray, x: np.ndarray, max_lag: int) -> np.ndarray:
    """Shift y by the lag that best matches x (cross-correlation within +-max_lag), then
    cut/pad to len(x)."""
    n = len(x) + len(y)
    size = 1 << int(np.ceil(np.log2(max(n, 2))))
    c = np.fft.irfft(np.fft.rfft(y, size) * np.conj(np.fft.rfft(x, size)), size)
    max_lag = min(max_lag, size // 2 - 1)
    lags = np.concatenate([np.arange(0, max_lag + 1), np.arange(-max_lag, 0)])
    vals = np.concatenate([c[: max_lag + 1], c[size - max_lag:]])
    lag = int(lags[int(np.argmax(vals))])
    if lag >= 0:
        y = y[lag:]
    else:
        y = np.concatenate([np.zeros(-lag), y])
    return _fit_length(y, len(x))


def codec(audio: np.ndarray, kind: str = "mp3", sr: int = SR,
          compression_level: Optional[float] = 0.5, bitrate_mode: Optional[str] = None,
          opus_rate: Optional[int] = None) -> np.ndarray:
    """Lossy round trip through libsndfile: encode to `kind` ("mp3", "opus", "vorbis") in
    memory, decode, align to the input (encoder delay and padding) and keep its length.
    compression_level: 0 (best) .. 1 (smallest; MP3 accepts < 1). opus_rate: encode Opus at
    this rate (e.g. 48000) instead of `sr`."""
    import soundfile as sf

    x = _check(audio)
    if len(x) == 0:
        return _f32(x)
    if kind not in CODECS:
        raise ValueError(f"unknown codec {kind!r}; have {sorted(CODECS)}")
    fmt, sub = CODECS[kind]
    rate = opus_rate if (kind == "opus" and opus_rate) else sr
    g = np.gcd(rate, sr)
    enc_in = _resample(x, rate // g, sr // g) if rate != sr else x
    peak = float(np.max(np.abs(enc_in)))
    scale = 1.0 / peak * 0.99 if peak > 0.99 else 1.0
    if kind == "mp3" and compression_level is not None:
        compression_level = min(compression_level, 0.99)
    buf = io.BytesIO()
    sf.write(buf, (enc_in * scale).astype(np.float32), rate, format=fmt, subtype=sub,
             compression_level=compression_level, bitrate_mode=bitrate_mode)
    buf.seek(0)
    y, r = sf.read(buf, dtype="float64", always_2d=True)
    y = y.mean(axis=1) / scale
    if r != sr:
        g2 = np.gcd(r, sr)
        y = _resample(y, sr // g2, r // g2)
    return _f32(_align_to(y, x, max_lag=int(0.2 * sr)))


# ---------------------------------------------------------------------------------------------
# Random chain


def _uniform(rng: np.random.Generator, lo_hi) -> float:
    lo, hi = lo_hi
    return float(rng.uniform(lo, hi))


def _choice(rng: np.random.Generator, options):
    return options[int(rng.integers(len(options)))]


def random_chain(audio: np.ndarray, rng: np.random.Generator,
                 babble_pool: Optional[Sequence[np.ndarray]] = None, sr: int = SR,
                 table: Optional[Dict[str, dict]] = None
                 ) -> Tuple[np.ndarray, float, Dict[str, dict]]:
    """Apply a random subset of the steps of `table` (default CHAIN) in CHAIN_ORDER, each with
    its probability and parameters drawn from its ranges. Returns (audio, time_factor,
    description) where time_factor multiplies phone times (only speed changes it) and
    description maps each applied step to its parameters. Babble is only drawn when a pool
    is given; codecs only when libsndfile has them."""
    table = CHAIN if table is None else table
    x = np.asarray(audio, dtype=np.float32)
    time_factor = 1.0
    desc: Dict[str, dict] = {}
    for step in CHAIN_ORDER:
        spec = table.get(step)
        if not spec or rng.random() >= spec["p"]:
            continue
        if step == "speed":
            f = _uniform(rng, spec["factor"])
            x, tf = speed(x, f)
            time_factor *= tf
            desc[step] = {"factor": f, "time_factor": tf}
        elif step == "pitch":
            st = _uniform(rng, spec["semitones"])
            x = pitch_shift(x, st, sr=sr)
            desc[step] = {"semitones": st}
        elif step == "reverb":
            rt60 = _uniform(rng, spec["rt60"])
            early = int(rng.integers(spec["early"][0], spec["early"][1] + 1))
            x = reverb(x, rt60, rng, sr, early=early)
            desc[step] = {"rt60": rt60, "early": early}
        elif step == "noise":
            kinds = [k for k in spec["kind"] if k != "babble" or babble_pool]
            kind = _choice(rng, kinds)
            snr = _uniform(rng, spec["snr_db"])
            talkers = int(rng.integers(spec["babble_talkers"][0], spec["babble_talkers"][1] + 1))
            x = add_noise(x, snr, rng, kind, babble_pool, talkers)
            desc[step] = {"kind": kind, "snr_db": snr}
            if kind == "babble":
                desc[step]["talkers"] = talkers
        elif step == "telephone":
            mu = bool(_choice(rng, spec["mu_law"]))
            x = telephone(x, sr, mu_law=mu)
            desc[step] = {"mu_law": mu}
        elif step == "codec":
            kinds = [k for k in spec["kind"] if codec_available(k)]
            if not kinds:
                continue
            kind = _choice(rng, kinds)
            level = _uniform(rng, spec["compression_level"])
            x = codec(x, kind, sr, compression_level=level)
            desc[step] = {"kind": kind, "compression_level": level}
        elif step == "gain":
            db = _uniform(rng, spec["db"])
            x = gain(x, db)
            desc[step] = {"db": db}
    return _f32(x), time_factor, desc
