"""Augmentation: each function's measured effect on synthetic signals, output hygiene, and
determinism of random_chain."""
import numpy as np
import pytest

from kmtalk_train import augment as A

SR = A.SR


def harmonic_tone(f0=150.0, seconds=2.0, n_harm=14, amp=0.2):
    t = np.arange(int(seconds * SR)) / SR
    return (amp * sum(np.sin(2 * np.pi * k * f0 * t) / k for k in range(1, n_harm + 1))
            ).astype(np.float32)


def speechlike(seconds=2.0, seed=0):
    """Harmonic source with a wandering pitch, syllable-rate envelope and two formant-like
    resonances, plus some noise: broadband, non-stationary."""
    from scipy.signal import lfilter

    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    t = np.arange(n) / SR
    f0 = 140 + 30 * np.sin(2 * np.pi * 0.7 * t)
    phase = 2 * np.pi * np.cumsum(f0) / SR
    src = sum(np.sin(k * phase) / k for k in range(1, 30)) + 0.05 * rng.standard_normal(n)
    y = src
    for fc, bw in ((700, 120), (1800, 200)):
        r = np.exp(-np.pi * bw / SR)
        y = lfilter([1 - r], [1, -2 * r * np.cos(2 * np.pi * fc / SR), r * r], y)
    env = 0.5 + 0.5 * np.sin(2 * np.pi * 4 * t) ** 2
    y = y * env
    return (0.5 * y / np.max(np.abs(y))).astype(np.float32)


def f0_autocorr(x, lo=60.0, hi=500.0):
    x = np.asarray(x, dtype=np.float64)
    x = x[len(x) // 8: -len(x) // 8] - np.mean(x)
    c = np.fft.irfft(np.abs(np.fft.rfft(x, 2 * len(x))) ** 2)[: len(x)]
    a, b = int(SR / hi), int(SR / lo)
    k = a + int(np.argmax(c[a:b]))
    p, q, r = c[k - 1], c[k], c[k + 1]
    return SR / (k + 0.5 * (p - r) / (p - 2 * q + r))


def band_fraction_db(y, lo, hi):
    p = np.abs(np.fft.rfft(np.asarray(y, dtype=np.float64))) ** 2
    f = np.fft.rfftfreq(len(y), 1 / SR)
    return 10 * np.log10(p[(f >= lo) & (f < hi)].sum() / p.sum())


def assert_clean(y, n=None):
    assert y.dtype == np.float32 and y.ndim == 1
    assert np.all(np.isfinite(y)) and np.max(np.abs(y), initial=0.0) <= 1.0
    if n is not None:
        assert len(y) == n


# ------------------------------------------------------------------------ channel


def test_telephone_band_limits():
    w = (0.1 * np.random.default_rng(0).standard_normal(2 * SR)).astype(np.float32)
    assert band_fraction_db(w, 4000, 8000) > -4  # white: half the power above 4 kHz
    for mu in (True, False):
        y = A.telephone(w, mu_law=mu)
        assert_clean(y, len(w))
        assert band_fraction_db(y, 4000, 8000) < -40      # measured -54 dB (mu-law)
        assert band_fraction_db(y, 0, 200) < -25          # measured -46 dB
        assert band_fraction_db(y, 400, 3200) > -1        # the voice band is what is left
    # a voice-band tone passes almost unchanged (zero phase: no delay)
    t = np.arange(SR) / SR
    tone = (0.5 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32)
    y = A.telephone(tone, mu_law=False)
    assert np.corrcoef(tone[800:-800], y[800:-800])[0, 1] > 0.99


# ------------------------------------------------------------------------ noise


@pytest.mark.parametrize("kind", ["white", "pink", "babble"])
@pytest.mark.parametrize("snr", [0.0, 10.0, 25.0])
def test_noise_reaches_snr(kind, snr):
    x = speechlike()
    pool = [speechlike(1.3, seed=s) for s in (1, 2, 3)]
    y = A.add_noise(x, snr, np.random.default_rng(5), kind, babble_pool=pool)
    assert_clean(y, len(x))
    noise = y.astype(np.float64) - x
    measured = 10 * np.log10(np.mean(x.astype(np.float64) ** 2) / np.mean(noise ** 2))
    assert abs(measured - snr) < 0.5


def test_noise_clipping_protection_keeps_snr():
    x = np.clip(speechlike() * 2, -1, 1).astype(np.float32)  # peak 1
    y = A.add_noise(x, 0.0, np.random.default_rng(1), "white")
    assert np.max(np.abs(y)) <= 1.0
    # speech and noise scaled together: the SNR relative to the scaled speech stays 0 dB
    g = np.dot(y, x) / np.dot(x, x)
    noise = y.astype(np.float64) - g * x
    assert abs(10 * np.log10(np.mean((g * x) ** 2) / np.mean(noise ** 2))) < 0.5


def test_noise_colours():
    rng = np.random.default_rng(2)
    pink = A.pink_noise(4 * SR, rng)
    white = A.white_noise(4 * SR, rng)
    # pink: equal power per octave; white: 8x more in an octave three octaves up
    low, high = (200, 400), (1600, 3200)
    assert abs(band_fraction_db(pink, *low) - band_fraction_db(pink, *high)) < 1.5
    assert abs(band_fraction_db(white, *high) - band_fraction_db(white, *low) - 9.03) < 1.0
    with pytest.raises(ValueError):
        A.add_noise(speechlike(), 10, rng, "babble", babble_pool=None)


# ------------------------------------------------------------------------ reverb


@pytest.mark.parametrize("rt60", [0.2, 0.4, 0.8])
def test_room_impulse_response_rt60(rt60):
    h = A.room_impulse_response(rt60, np.random.default_rng(3))
    assert h[0] == 1.0 and np.argmax(np.abs(h)) == 0  # direct path first and strongest
    assert abs(A.estimate_rt60(h) - rt60) < 0.1 * rt60


def test_reverb_lengthens_decay():
    t = np.arange(int(0.8 * SR)) / SR
    burst = (0.5 * np.sin(2 * np.pi * 440 * t) * (t < 0.3)).astype(np.float32)
    end = int(0.3 * SR)

    def tail_db(y):  # energy 50-250 ms after the burst re the burst
        return 10 * np.log10(np.mean(y[end + 800: end + 4000].astype(np.float64) ** 2)
                             / np.mean(y[:end].astype(np.float64) ** 2) + 1e-20)

    dry = tail_db(burst)
    short = A.reverb(burst, 0.2, np.random.default_rng(4))
    long = A.reverb(burst, 0.8, np.random.default_rng(4))
    assert_clean(short, len(burst))
    assert dry < -100 and tail_db(short) > -45 and tail_db(long) > tail_db(short) + 10
    # level kept: output RMS = input RMS
    assert np.sqrt(np.mean(long ** 2)) == pytest.approx(np.sqrt(np.mean(burst ** 2)), rel=1e-3)
    # timing kept: the onset does not move (direct path at 0)
    assert abs(int(np.argmax(np.abs(long) > 0.05)) - int(np.argmax(np.abs(burst) > 0.05))) <= 16


# ------------------------------------------------------------------------ gain, speed, pitch


def test_gain_and_clipping_protection():
    x = speechlike() * 0.2
    y = A.gain(x, 6.0)
    assert np.allclose(y, x * 10 ** (6 / 20), atol=1e-6)
    z = A.gain(x, 30.0)
    assert_clean(z, len(x))
    assert np.max(np.abs(z)) == pytest.approx(0.99, abs=1e-6)
    assert np.corrcoef(x, z)[0, 1] > 0.99999  # scaled down, never clipped


@pytest.mark.parametrize("factor", [0.9, 1.1, 1.25])
def test_speed_changes_duration_and_pitch(factor):
    x = harmonic_tone()
    y, tf = A.speed(x, factor)
    assert_clean(y)
    assert tf == pytest.approx(len(y) / len(x)) and tf == pytest.approx(1 / factor, rel=2e-3)
    assert f0_autocorr(y) == pytest.approx(150.0 * factor, rel=0.01)


@pytest.mark.parametrize("semitones", [-3.0, -1.0, 2.0, 3.0])
def test_pitch_shift_keeps_duration(semitones):
    x = harmonic_tone()
    y = A.pitch_shift(x, semitones)
    assert_clean(y, len(x))
    assert f0_autocorr(y) == pytest.approx(150.0 * 2 ** (semitones / 12), rel=0.02)
    # no drop-outs or doubled frames: a steady tone keeps a steady envelope
    mid = y[SR // 4: -SR // 4]
    rms = np.sqrt(np.mean(mid[: len(mid) // 320 * 320].reshape(-1, 320) ** 2, axis=1))
    assert rms.std() / rms.mean() < 0.1


def test_pitch_shift_keeps_timing():
    t = np.arange(2 * SR) / SR
    x = harmonic_tone() * ((t > 0.5) & (t < 1.5))
    y = A.pitch_shift(x, ratio=1.1)
    on = np.nonzero(np.abs(y) > 0.05)[0]
    assert abs(on[0] / SR - 0.5) < 0.02 and abs(on[-1] / SR - 1.5) < 0.02
    assert f0_autocorr(y[int(0.6 * SR):int(1.4 * SR)]) == pytest.approx(165.0, rel=0.02)


# ------------------------------------------------------------------------ codecs


@pytest.mark.parametrize("kind,level", [("mp3", 0.5), ("mp3", 0.95), ("opus", 0.5),
                                        ("opus", 0.95), ("vorbis", 0.9)])
def test_codec_round_trip(kind, level):
    if not A.codec_available(kind):
        pytest.skip(f"libsndfile without {kind}")
    x = speechlike()
    y = A.codec(x, kind, compression_level=level)
    assert_clean(y, len(x))
    assert np.corrcoef(x, y)[0, 1] > 0.9  # measured 0.99+ at these levels: aligned in time
    assert not np.array_equal(x, y)       # and actually lossy


def test_codec_opus_at_48k():
    if not A.codec_available("opus"):
        pytest.skip("libsndfile without Opus")
    x = speechlike()
    y = A.codec(x, "opus", compression_level=0.9, opus_rate=48000)
    assert_clean(y, len(x))
    assert np.corrcoef(x, y)[0, 1] > 0.9


# ------------------------------------------------------------------------ hygiene, chain


def test_outputs_clean_on_loud_input():
    rng = np.random.default_rng(0)
    x = np.clip(speechlike() * 3, -1, 1).astype(np.float32)
    outs = [A.telephone(x), A.add_noise(x, 0, rng, "pink"), A.reverb(x, 0.6, rng),
            A.gain(x, 12), A.speed(x, 0.9)[0], A.pitch_shift(x, 2)]
    if A.codec_available("mp3"):
        outs.append(A.codec(x, "mp3"))
    for y in outs:
        assert_clean(y)
    assert_clean(A.telephone(np.zeros(0, np.float32)), 0)


def test_chain_table_is_complete():
    assert set(A.CHAIN) == set(A.CHAIN_ORDER)
    assert all(0 <= spec["p"] <= 1 for spec in A.CHAIN.values())


def test_random_chain_deterministic():
    x = speechlike()
    pool = [speechlike(1.0, seed=s) for s in (7, 8)]
    seen = set()
    for seed in range(12):
        y1, tf1, d1 = A.random_chain(x, np.random.default_rng(seed), babble_pool=pool)
        y2, tf2, d2 = A.random_chain(x, np.random.default_rng(seed), babble_pool=pool)
        assert np.array_equal(y1, y2) and tf1 == tf2 and d1 == d2
        assert_clean(y1)
        assert len(y1) == pytest.approx(len(x) * tf1, abs=1)
        assert tf1 == (d1["speed"]["time_factor"] if "speed" in d1 else 1.0)
        assert set(d1) <= set(A.CHAIN_ORDER)
        seen |= set(d1)
    assert len(seen) >= 5  # the subsets vary with the seed
