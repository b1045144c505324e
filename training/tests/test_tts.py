"""Synthesis engines with phone timings (training/kmtalk_train/tts): the segmentations
must cover the audio contiguously AND be aligned with it (silence where the engine says
pause, energy where it says vowel, and worse when the times are shifted). Engines that are
not installed are skipped (espeak-ng: libespeak-ng1; flite: libflite1; festival: festival
and its voices)."""
import os
import threading

import numpy as np
import pytest

from kmtalk_train import tts
from kmtalk_train.tts import check_segments, is_pause, resample, segments_from_ends, segments_from_starts
from kmtalk_train.types import Segment, Utterance

espeak = pytest.importorskip("kmtalk_train.tts.espeak")
flite = pytest.importorskip("kmtalk_train.tts.flite")
festival = pytest.importorskip("kmtalk_train.tts.festival")

HAVE_ESPEAK = espeak.is_available()
HAVE_FLITE = flite.is_available() and bool(flite.available_voices())
HAVE_FESTIVAL = festival.is_available() and bool(festival.available_voices())

needs_espeak = pytest.mark.skipif(not HAVE_ESPEAK, reason="libespeak-ng not installed")
needs_flite = pytest.mark.skipif(not HAVE_FLITE, reason="flite libraries not installed")
needs_festival = pytest.mark.skipif(not HAVE_FESTIVAL, reason="festival not installed")

# A sentence with clear pauses for every engine (Festival's phrasing ignores a lone
# "Hello." but breaks after "mat." and at the comma).
PAUSED = "The cat sat on the mat. Then, it slept."
LONG = "The quick brown fox jumps over the lazy dog while we are reading a long sentence aloud."


def _engine_voices():
    cases = []
    if HAVE_ESPEAK:
        cases += [("espeak-ng", "en-us"), ("espeak-ng", "en-gb-x-rp+m3"), ("espeak-ng", "en-us+klatt")]
    if HAVE_FLITE:
        cases += [("flite", v) for v in flite.available_voices()]
    if HAVE_FESTIVAL:
        cases += [("festival", v) for v in festival.available_voices("en")]
    return cases


ENGLISH = _engine_voices()


# ---------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------

_VOWEL_FIRST = {
    "espeak": set("aeiouAEIOUV@3"),
    "flite": None, "festival-radio": None,
}
_ARPA_VOWELS = {"aa", "ae", "ah", "ao", "aw", "ax", "axr", "ay", "eh", "er", "ey", "ih", "ix", "iy", "ow", "oy",
                "uh", "uw"}


def is_vowel(raw: str, notation: str) -> bool:
    if notation.startswith("espeak-mnemonic"):
        return bool(raw) and raw[0] in "aeiouAEIOUV@3" and len(raw) <= 3
    if notation in ("flite-cmu", "festival-radio"):
        return raw in _ARPA_VOWELS
    if notation == "festival-italian":
        return raw.rstrip("1") in {"a", "e", "i", "o", "u", "E", "O"}
    if notation == "festival-msu_ru":
        return bool(raw) and raw[0] in "aeiouy"
    if notation == "espeak-ipa":
        return bool(raw) and raw[0] in "aeiouæɑɐɒəɛɜɪʊʌɔøœɵɤɯyɨ"
    raise AssertionError(notation)


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) if len(x) else 0.0


def energy_ratio(utt: Utterance, shift: float = 0.0, trim: float = 0.01) -> float:
    """Mean RMS inside pauses / mean RMS inside vowels (segment interiors, `trim` s off each
    side), with all segment times moved by `shift` seconds."""
    notation = utt.params["notation"]
    sr = utt.sample_rate
    pauses, vowels = [], []
    for seg in utt.segments:
        a, b = seg.start + shift + trim, seg.end + shift - trim
        if b - a < 0.01:
            continue
        x = utt.samples[max(int(a * sr), 0):max(int(b * sr), 0)]
        if len(x) == 0:
            continue
        if is_pause(seg.phone):
            pauses.append(rms(x))
        elif is_vowel(seg.raw, notation):
            vowels.append(rms(x))
    assert pauses and vowels, "need both pauses and vowels"
    return float(np.mean(pauses) / np.mean(vowels))


def best_shift(utt: Utterance, max_shift: float = 0.1, step: float = 0.005) -> float:
    """The shift of all segment times (s) that best separates speech from pause frames by
    log energy (mean dB in phones minus mean dB in pauses); 0 when the times are aligned.
    (Vowels alone would not do: espeak's vowels fade out long before the next stop.)"""
    sr = utt.sample_rate
    hop = int(step * sr)
    frames = len(utt.samples) // hop
    x = utt.samples[:frames * hop].reshape(frames, hop).astype(np.float64)
    db = 10 * np.log10(np.mean(x * x, axis=1) + 1e-10)
    t = (np.arange(frames) + 0.5) * step
    best, best_score = 0.0, -np.inf
    for shift in np.arange(-max_shift, max_shift + step / 2, step):
        vowel = np.zeros(frames, bool)
        pause = np.zeros(frames, bool)
        for seg in utt.segments:
            inside = (t >= seg.start + shift) & (t < seg.end + shift)
            if is_pause(seg.phone):
                pause |= inside
            else:
                vowel |= inside
        if not vowel.any() or not pause.any():
            continue
        score = db[vowel].mean() - db[pause].mean()
        if score > best_score:
            best, best_score = float(shift), score
    return best


def median_f0(x: np.ndarray, sr: int, fmin: float = 60, fmax: float = 500) -> float:
    """Median F0 over voiced 40 ms frames (normalised autocorrelation peak > 0.5)."""
    n, hop = int(0.04 * sr), int(0.01 * sr)
    level = rms(x)
    lo, hi = int(sr / fmax), int(sr / fmin)
    f0 = []
    for i in range(0, len(x) - n, hop):
        fr = x[i:i + n].astype(np.float64)
        fr = fr - fr.mean()
        if rms(fr) < 0.3 * level:
            continue
        ac = np.correlate(fr, fr, "full")[n - 1:]
        ac /= ac[0] + 1e-12
        k = lo + int(np.argmax(ac[lo:hi]))
        if ac[k] > 0.5:
            f0.append(sr / k)
    return float(np.median(f0)) if f0 else float("nan")


def check_utterance(utt: Utterance, text: str, sample_rate=16000) -> None:
    assert utt.text == text
    assert utt.sample_rate == sample_rate
    x = utt.samples
    assert x.dtype == np.float32 and x.ndim == 1 and len(x) > sample_rate // 10
    assert np.all(np.isfinite(x))
    peak = float(np.max(np.abs(x)))
    assert 0.01 < peak < 1.0
    check_segments(utt)  # contiguous, in order, non-empty, [0, duration] to 1 sample
    segs = utt.segments
    assert segs[0].start == 0.0
    assert abs(segs[-1].end - utt.duration) < 0.02
    for a, b in zip(segs, segs[1:]):
        assert a.start < a.end <= b.start + 1e-9
    for seg in segs:
        assert seg.raw == seg.phone or (seg.phone == "_" and seg.raw == "")
        if not is_pause(seg.phone):
            assert 0.010 <= seg.duration <= 1.5, seg
    assert utt.params["notation"]
    assert utt.speaker == f"{utt.engine}:{utt.voice}"


def phones(utt: Utterance):
    return [s for s in utt.segments if not is_pause(s.phone)]


def letters(text: str) -> int:
    return sum(ch.isalpha() for ch in text)


# ---------------------------------------------------------------------------------------
# Pure helpers
# ---------------------------------------------------------------------------------------

def test_segments_from_ends_cuts_and_fills():
    segs = segments_from_ends([(0.1, "pau"), (0.1, "x"), (0.3, "a"), (0.9, "pau")], 0.5)
    assert [(s.start, s.end, s.phone) for s in segs] == [(0.0, 0.1, "pau"), (0.1, 0.3, "a"), (0.3, 0.5, "pau")]
    segs = segments_from_ends([(0.2, "pau"), (0.4, "a")], 0.5)
    assert [(s.start, s.end, s.phone, s.raw) for s in segs][-1] == (0.4, 0.5, "_", "")
    segs = segments_from_ends([(0.2, "pau"), (0.497, "a")], 0.5)  # < 5 ms rest: extended
    assert segs[-1].phone == "a" and segs[-1].end == 0.5


def test_segments_from_starts_lead_in_and_zero_length():
    segs = segments_from_starts([(0.05, "h"), (0.1, "@"), (0.1, "_"), (0.2, "l")], 0.3)
    assert [(s.start, s.end, s.phone, s.raw) for s in segs] == [
        (0.0, 0.05, "_", ""), (0.05, 0.1, "h", "h"), (0.1, 0.2, "_", "_"), (0.2, 0.3, "l", "l")]


def test_is_pause():
    for p in ["_", "", "pau", "#", "_:", "_!"]:
        assert is_pause(p)
    for p in ["a", "@", "hh", "_^_", "(en)"]:
        assert not is_pause(p)


def test_resample_and_check_segments():
    x = (0.5 * np.sin(np.arange(22050) / 10)).astype(np.float32)
    y, rate = resample(x, 22050, 16000)
    assert rate == 16000 and abs(len(y) - 16000) <= 1 and y.dtype == np.float32
    same, rate = resample(x, 22050, None)
    assert rate == 22050 and len(same) == len(x)
    utt = Utterance(y, 16000, [Segment(0, 0.5, "a", "a"), Segment(0.6, len(y) / 16000, "b", "b")], "", "en", "x", "v", "x:v")
    with pytest.raises(ValueError):
        check_segments(utt)


def test_unknown_engine():
    with pytest.raises(ValueError):
        tts.engine_module("nope")


# ---------------------------------------------------------------------------------------
# Every English engine/voice: structure, alignment, rate, phone count
# ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("engine,voice", ENGLISH)
def test_structure_and_alignment(engine, voice):
    utt = tts.synthesize(engine, PAUSED, voice)
    check_utterance(utt, PAUSED)
    assert utt.engine == engine and utt.voice == voice and utt.language == "en"
    # An internal pause exists, and the timings are aligned with the audio: pauses are
    # near-silent compared with vowels ...
    assert any(is_pause(s.phone) for s in utt.segments[1:-1])
    ratio = energy_ratio(utt)
    assert ratio < 0.1, ratio
    # ... and no shift of all the times within +-100 ms separates speech from pauses
    # better than the engine's own times, give or take 25 ms (1.5 frames at 60 fps;
    # measured: 0..15 ms, the rest is acoustics, e.g. a weak /h/ after a pause).
    assert abs(best_shift(utt)) <= 0.025, best_shift(utt)
    # Phone count plausible for the text (29 letters).
    n = len(phones(utt))
    assert 0.6 * letters(PAUSED) <= n <= 1.3 * letters(PAUSED), n


@pytest.mark.parametrize("engine,voice", ENGLISH)
def test_rate_changes_duration(engine, voice):
    slow = tts.synthesize(engine, LONG, voice, rate=0.75)
    normal = tts.synthesize(engine, LONG, voice, rate=1.0)
    fast = tts.synthesize(engine, LONG, voice, rate=1.5)
    assert slow.duration > normal.duration > fast.duration
    speech = [sum(s.duration for s in phones(u)) for u in (slow, normal, fast)]
    assert 1.15 < speech[0] / speech[1] < 1.6, speech
    assert 0.5 < speech[2] / speech[1] < 0.85, speech
    # same phones, whatever the rate
    assert [s.phone for s in phones(slow)] == [s.phone for s in phones(fast)]


@pytest.mark.parametrize("engine,voice", ENGLISH)
def test_pitch_changes_f0(engine, voice):
    low = tts.synthesize(engine, LONG, voice, pitch=0.8)
    high = tts.synthesize(engine, LONG, voice, pitch=1.25)
    if not high.params.get("pitch_applied", True):
        pytest.skip(f"{engine}:{voice} has no pitch control")
    f_low, f_high = median_f0(low.samples, 16000), median_f0(high.samples, 16000)
    assert 1.3 < f_high / f_low < 2.0, (f_low, f_high)


# ---------------------------------------------------------------------------------------
# espeak-ng
# ---------------------------------------------------------------------------------------

@needs_espeak
def test_espeak_hello_world_pause_and_native_rate():
    text = "Hello. ... World."
    utt = espeak.synthesize(text, "en-us", sample_rate=None)
    assert utt.sample_rate == 22050 and utt.params["native_sample_rate"] == 22050
    check_utterance(utt, text, sample_rate=22050)
    assert utt.params["notation"] == "espeak-mnemonic"
    assert [s.phone for s in phones(utt)] == ["h", "@", "l", "oU", "w", "3:", "l", "d"]
    assert energy_ratio(utt) < 0.05
    # the long pause of "..." lies between the words
    gap = [s for s in utt.segments if is_pause(s.phone) and s.start > 0.1 and s.end < utt.duration - 0.05]
    assert gap and max(s.duration for s in gap) > 0.2
    # 16 kHz version has the same times (seconds), the last end moved to the new length
    utt16 = espeak.synthesize(text, "en-us")
    assert [s.phone for s in utt16.segments] == [s.phone for s in utt.segments]
    for a, b in zip(utt.segments[:-1], utt16.segments[:-1]):
        assert abs(a.end - b.end) < 1e-9
    assert utt.params["words"][0][1] == "Hello" and utt.params["words"][1][1] == "World"


@needs_espeak
def test_espeak_ipa_notation_same_timing():
    a = espeak.synthesize(PAUSED, "en-us", notation="mnemonic")
    b = espeak.synthesize(PAUSED, "en-us", notation="ipa")
    assert b.params["notation"] == "espeak-ipa"
    check_utterance(b, PAUSED)
    assert any(ord(ch) > 127 for s in b.segments for ch in s.raw)  # ð, ə, ...
    assert all(s.raw.isascii() for s in a.segments)
    # pauses are "_" (raw ""), every other segment has an IPA name
    assert all(s.raw or s.phone == "_" for s in b.segments)
    assert [is_pause(s.phone) for s in a.segments] == [is_pause(s.phone) for s in b.segments]
    assert [s.start for s in a.segments] == [s.start for s in b.segments]
    assert np.array_equal(a.samples, b.samples)  # the audio is the mnemonic run's
    assert energy_ratio(b) < 0.1 and abs(best_shift(b)) <= 0.025
    # espeak's unnamed ";" (linking, voiced) is merged, not turned into a pause
    c = espeak.synthesize("We are here.", "en-us", notation="ipa")
    m = espeak.synthesize("We are here.", "en-us")
    if ";" in [s.raw for s in m.segments]:
        assert c.params["ipa_merged"] >= 1
        assert sum(is_pause(s.phone) for s in c.segments) == sum(is_pause(s.phone) for s in m.segments)
    # mnemonics again afterwards
    d = espeak.synthesize(PAUSED, "en-us")
    assert [s.raw for s in d.segments] == [s.raw for s in a.segments]


@needs_espeak
def test_espeak_voices_and_variants():
    voices = espeak.available_voices()
    assert "en-us" in voices and "en-gb" in voices
    variants = espeak.available_variants()
    assert "m3" in variants and "f3" in variants
    english = espeak.english_voices()
    assert "en-gb-x-rp+m3" in english and len(english) == len(set(english))
    assert espeak.voices_for_language("ru")[0] == "ru"
    with pytest.raises(ValueError):
        espeak.synthesize("hello", "xx-nonexistent")
    with pytest.raises(ValueError):
        espeak.synthesize("   ", "en-us")


# A native-script sentence per language: no switch to English rules, script-appropriate
# phone count, aligned pauses.
NATIVE = {
    "es": "El perro come pan. Luego, duerme en la casa.",
    "fr": "Le chat mange du pain. Ensuite, il dort à la maison.",
    "de": "Der Hund frisst Brot. Danach schläft er im Haus.",
    "it": "Il cane mangia il pane. Poi, dorme nella casa.",
    "pt": "O cão come pão. Depois, dorme na casa.",
    "ru": "Собака ест хлеб. Потом, она спит в доме.",
    "cmn": "狗在吃面包。然后，它在家里睡觉。",
    "ja": "いぬが パンを たべます。 それから、 いえで ねます。",
}


@needs_espeak
@pytest.mark.parametrize("language", sorted(NATIVE))
def test_espeak_languages(language):
    text = NATIVE[language]
    voice = espeak.voices_for_language(language)[0]
    utt = espeak.synthesize(text, voice)
    check_utterance(utt, text)
    assert utt.language == language
    assert utt.params["language_switches"] == 0, [s.raw for s in utt.segments]
    assert len(utt.params["segment_languages"]) == len(utt.segments)
    n = len(phones(utt))
    per_char = 2.5 if language in ("cmn", "ja") else 1.3  # a Hanzi is about 2-3 phones
    assert 0.5 * letters(text) <= n <= per_char * letters(text), n
    assert any(is_pause(s.phone) for s in utt.segments[1:-1])
    assert energy_ratio(utt) < 0.1


@needs_espeak
def test_espeak_language_switch_is_recorded():
    utt = espeak.synthesize("Привет, computer.", "ru")
    check_utterance(utt, "Привет, computer.")
    assert utt.params["language_switches"] >= 1
    assert "en" in utt.params["segment_languages"]
    assert not any(s.raw.startswith("(") for s in utt.segments)  # markers are not phones


@needs_espeak
def test_espeak_threads_serialised():
    texts = [f"Number {w} is here." for w in ["one", "two", "three", "four", "five", "six"]]
    serial = {t: espeak.synthesize(t, "en-us") for t in texts}
    results = {}

    def work(t):
        results[t] = espeak.synthesize(t, "en-us")

    threads = [threading.Thread(target=work, args=(t,)) for t in texts]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    for t in texts:  # each thread got its own text's audio and phones, bit-exact
        check_utterance(results[t], t)
        assert np.array_equal(results[t].samples, serial[t].samples)
        assert results[t].segments == serial[t].segments


@needs_espeak
def test_espeak_deterministic_whatever_came_before():
    first = espeak.synthesize(PAUSED, "en-us")
    espeak.synthesize(LONG, "en-us", deterministic=False)  # moves the persistent instance's state
    espeak.synthesize(LONG, "de+m3")
    again = espeak.synthesize(PAUSED, "en-us")
    assert np.array_equal(first.samples, again.samples) and first.segments == again.segments
    # the persistent instance: same phones, times within a few samples
    loose = [espeak.synthesize(PAUSED, "en-us", deterministic=False) for _ in range(2)]
    for u in loose:
        check_utterance(u, PAUSED)
        assert [s.phone for s in u.segments] == [s.phone for s in first.segments]
        assert np.allclose([s.start for s in u.segments], [s.start for s in first.segments], atol=0.002)


@needs_espeak
def test_espeak_pitch_table_monotonic():
    values = [espeak.pitch_parameter(p) for p in (0.5, 0.7, 0.85, 1.0, 1.2, 1.5, 2.0)]
    assert values == sorted(values) and values[3] == 50 and values[0] == 0 and values[-1] == 100


# ---------------------------------------------------------------------------------------
# flite
# ---------------------------------------------------------------------------------------

@needs_flite
def test_flite_notation_and_pauses():
    utt = flite.synthesize("Hello. ... World.", "slt")
    check_utterance(utt, "Hello. ... World.")
    assert utt.params["notation"] == "flite-cmu"
    assert [s.phone for s in utt.segments] == ["pau", "hh", "ax", "l", "ow", "pau", "w", "er", "l", "d", "pau"]
    assert energy_ratio(utt) < 0.05


@needs_flite
def test_flite_kal_is_8k_resampled():
    if "kal" not in flite.available_voices():
        pytest.skip("kal not installed")
    utt = flite.synthesize(PAUSED, "kal", sample_rate=None)
    assert utt.sample_rate == 8000
    # the diphone wave ends before the last "pau" target: cut to the audio
    assert utt.params["engine_segment_end"] >= utt.segments[-1].end - 1e-6
    check_utterance(utt, PAUSED, sample_rate=8000)
    assert flite.synthesize(PAUSED, "kal").sample_rate == 16000


@needs_flite
def test_flite_unknown_voice():
    with pytest.raises(ValueError):
        flite.synthesize("hello", "nobody")


# ---------------------------------------------------------------------------------------
# festival
# ---------------------------------------------------------------------------------------

def test_festival_normalize_text():
    assert festival.normalize_text("Hello. ... World «x» — y…", "en") == b"Hello. World x y."
    assert festival.normalize_text("perché città", "it") == "perché città".encode("latin-1")
    assert festival.normalize_text("Привет. ... мир", "ru") == "Привет. мир".encode("utf-8")
    assert festival.normalize_text("naïve café", "en") == b"naive cafe"
    with pytest.raises(ValueError):
        festival.normalize_text(" ... ", "en")


@needs_festival
def test_festival_other_languages():
    cases = {"it": "Il cane mangia il pane. Poi, dorme nella casa, perché è stanco.",
             "ru": "Собака ест хлеб. ... Потом она спит в доме."}
    found = 0
    for language, text in cases.items():
        for voice in festival.available_voices(language):
            utt = festival.synthesize(text, voice)
            check_utterance(utt, text)
            assert utt.language == language
            assert utt.params["notation"] in ("festival-italian", "festival-msu_ru")
            assert any(is_pause(s.phone) for s in utt.segments[1:-1])
            assert energy_ratio(utt) < 0.1
            n = len(phones(utt))
            assert 0.6 * letters(text) <= n <= 1.3 * letters(text)
            found += 1
    if not found:
        pytest.skip("no Italian/Russian festival voices")


@needs_festival
def test_festival_errors_and_restart():
    with pytest.raises(ValueError):
        festival.synthesize("hello", "no_such_voice")
    voice = festival.available_voices("en")[0]
    a = festival.synthesize("Good morning.", voice)
    proc = festival._festival().proc
    proc.kill()
    proc.wait()
    b = festival.synthesize("Good morning.", voice)  # a new process is started
    assert np.array_equal(a.samples, b.samples)
    assert [s.phone for s in a.segments] == [s.phone for s in b.segments]


@needs_festival
def test_festival_hts_timing_not_predicted():
    if "cmu_us_slt_arctic_hts" not in festival.available_voices():
        pytest.skip("HTS voice not installed")
    utt = festival.synthesize(LONG, "cmu_us_slt_arctic_hts")
    # HTS writes the generated durations back: 5 ms frames
    for s in utt.segments[:-1]:
        assert abs(s.end * 200 - round(s.end * 200)) < 1e-3
