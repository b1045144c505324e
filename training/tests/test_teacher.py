"""The teacher's guarantees: closure on bilabials, lower-lip contact on labiodentals,
anticipatory rounding, open vowels, rest in pauses, values in 0..1, smoothness; and, on the
real ICT-FaceKit mesh when ../shared/data is present, that closures close and vowels open."""
import os

import numpy as np
import pytest

from kmtalk_train import teacher
from kmtalk_train.arkit import INDEX
from kmtalk_train.types import Segment


def utterance(phones_and_durations, rate=16000, seed=0):
    """Segments from (phone, seconds) pairs and matching audio: a harmonic voice with
    vowel-like loudness during phones and silence in pauses."""
    segments, t = [], 0.0
    for phone, duration in phones_and_durations:
        segments.append(Segment(t, t + duration, phone))
        t += duration
    n = int(round(t * rate))
    time = np.arange(n) / rate
    rng = np.random.default_rng(seed)
    voice = sum(np.sin(2 * np.pi * 140 * k * time) / k for k in range(1, 6)) * 0.2 + 0.01 * rng.normal(size=n)
    envelope = np.zeros(n)
    for seg in segments:
        if seg.phone != "_":
            envelope[int(seg.start * rate):int(seg.end * rate)] = 1.0
    return segments, (voice * envelope).astype(np.float32), rate


WORDS = [("_", 0.4), ("m", 0.08), ("a", 0.16), ("p", 0.07), ("a", 0.14), ("_", 0.35), ("f", 0.09), ("i", 0.12),
         ("v", 0.07), ("s", 0.1), ("t", 0.06), ("u", 0.18), ("_", 0.3), ("b", 0.07), ("i", 0.15), ("_", 0.5)]


@pytest.fixture(scope="module")
def result():
    segments, samples, rate = utterance(WORDS)
    return segments, teacher.animate(segments, samples, rate)


def centre_frame(seg, fps):
    return int(round((seg.start + seg.end) / 2 * fps))


def test_shape_range_and_frame_rate(result):
    segments, r = result
    assert r.fps == 60
    assert r.frames.shape == (int(np.floor(segments[-1].end * 60 + 1e-9)) + 1, 52)
    assert r.frames.dtype == np.float32
    assert np.all(np.isfinite(r.frames)) and r.frames.min() >= 0 and r.frames.max() <= 1


def test_bilabials_always_close(result):
    segments, r = result
    for seg in segments:
        if seg.phone in ("m", "p", "b"):
            k = centre_frame(seg, r.fps)
            jaw, close = r.frames[k, INDEX["jawOpen"]], r.frames[k, INDEX["mouthClose"]]
            assert jaw <= teacher.PARAMS["closure_jaw"] + 1e-6, (seg.phone, jaw)
            assert abs(jaw - close) < 0.01, (seg.phone, jaw, close)


def test_labiodentals_reach_lower_lip_contact(result):
    segments, r = result
    for seg in segments:
        if seg.phone in ("f", "v"):
            k = centre_frame(seg, r.fps)
            assert r.frames[k, INDEX["mouthRollLower"]] >= teacher.PARAMS["labiodental_roll_lower"] - 1e-6
            assert r.frames[k, INDEX["jawOpen"]] <= teacher.PARAMS["labiodental_jaw"] + 1e-6


def test_vowels_open_and_rounded_vowels_round(result):
    segments, r = result
    jaw = {seg.phone: r.frames[centre_frame(seg, r.fps), INDEX["jawOpen"]] for seg in segments}
    assert jaw["a"] > 0.3 and jaw["a"] > 2 * jaw["i"]
    u = next(s for s in segments if s.phone == "u")
    i = next(s for s in segments if s.phone == "i")
    assert r.frames[centre_frame(u, r.fps), INDEX["mouthPucker"]] > 0.35
    assert r.frames[centre_frame(u, r.fps), INDEX["mouthPucker"]] > 3 * r.frames[centre_frame(i, r.fps), INDEX["mouthPucker"]]
    assert r.frames[centre_frame(i, r.fps), INDEX["mouthStretchLeft"]] > r.frames[centre_frame(u, r.fps), INDEX["mouthStretchLeft"]]


def test_anticipatory_rounding(result):
    # In "s t u" the lips round already during /s/ and /t/, before the vowel starts.
    segments, r = result
    s = next(seg for seg in segments if seg.phone == "s")
    u = next(seg for seg in segments if seg.phone == "u")
    pucker_s = r.frames[centre_frame(s, r.fps), INDEX["mouthPucker"]]
    pucker_u = r.frames[centre_frame(u, r.fps), INDEX["mouthPucker"]]
    assert pucker_s > 0.2 * pucker_u
    # ... and more than the same /s/ would have before an unrounded vowel.
    segs, samples, rate = utterance([("_", 0.3), ("s", 0.1), ("t", 0.06), ("i", 0.18), ("_", 0.3)])
    other = teacher.animate(segs, samples, rate)
    assert pucker_s > 2 * other.frames[centre_frame(segs[1], 60), INDEX["mouthPucker"]]


def test_rest_in_pauses(result):
    segments, r = result
    mouth = [INDEX[n] for n in teacher.MOUTH_CHANNELS]
    for seg in segments:
        if seg.phone == "_" and seg.duration >= teacher.PARAMS["long_pause_s"]:
            k = centre_frame(seg, r.fps)
            assert r.frames[k, mouth].max() < 0.02, seg


def test_smooth_motion(result):
    _, r = result
    velocity = np.abs(np.diff(r.frames, axis=0))
    # No channel jumps by more than 0.2 between 60 fps frames (17 ms).
    assert velocity.max() < 0.2, velocity.max()
    # Accelerations stay bounded too.
    assert np.abs(np.diff(r.frames, n=2, axis=0)).max() < 0.15


def test_speech_jaw_offset_lifts_connected_speech_only():
    segments, samples, rate = utterance(WORDS)
    plain = teacher.animate(segments, samples, rate)
    lifted = teacher.animate(segments, samples, rate, params=dict(teacher.PARAMS, speech_jaw_offset=0.08))
    jaw, fps = INDEX["jawOpen"], plain.fps
    mouth = [INDEX[n] for n in teacher.MOUTH_CHANNELS]
    for seg in segments:
        k = centre_frame(seg, fps)
        if seg.phone == "_" and seg.duration >= teacher.PARAMS["long_pause_s"]:
            # Pauses stay at rest.
            assert lifted.frames[k, mouth].max() < 0.02, seg
        elif seg.phone in ("s", "t", "i"):
            # Inside a phrase the jaw is the offset higher (before the clip at 1).
            assert lifted.frames[k, jaw] - plain.frames[k, jaw] == pytest.approx(0.08, abs=0.01), seg
        elif seg.phone in ("m", "p", "b"):
            # Bilabials still close: the lips follow the jaw.
            assert lifted.frames[k, jaw] - lifted.frames[k, INDEX["mouthClose"]] <= 0.05, seg
    # Brows and eyes do not move.
    others = [i for i in range(plain.frames.shape[1]) if i != jaw and i not in mouth]
    np.testing.assert_array_equal(lifted.frames[:, others], plain.frames[:, others])


def test_louder_speech_opens_wider():
    segs, samples, rate = utterance([("_", 0.3), ("a", 0.2), ("_", 0.1), ("a", 0.2), ("_", 0.3)])
    quiet = samples.copy()
    quiet[int(0.6 * rate):] *= 0.2  # the second /a/ is 14 dB quieter
    r = teacher.animate(segs, quiet, rate)
    first, second = centre_frame(segs[1], 60), centre_frame(segs[3], 60)
    assert r.frames[first, INDEX["jawOpen"]] > r.frames[second, INDEX["jawOpen"]] * 1.1


def test_pitch_accent_raises_brows():
    rate = 16000
    t = np.arange(int(2.0 * rate)) / rate
    f0 = 120 + 80 * np.exp(-((t - 1.0) / 0.15) ** 2)  # a rise-fall accent at 1 s
    phase = 2 * np.pi * np.cumsum(f0) / rate
    samples = (0.3 * sum(np.sin(k * phase) / k for k in range(1, 6))).astype(np.float32)
    segs = [Segment(0.0, 2.0, "a")]
    r = teacher.animate(segs, samples, rate)
    assert r.accents and abs(r.accents[0][0] - 1.0) < 0.1
    brow = r.frames[:, INDEX["browInnerUp"]]
    assert brow[60] > 0.05 and brow[60] > 5 * brow[10]


def test_monotone_speech_has_no_accents(result):
    _, r = result
    assert r.accents == []
    assert r.frames[:, INDEX["browInnerUp"]].max() == 0


def test_f0_tracker_finds_a_known_pitch():
    rate = 16000
    t = np.arange(rate) / rate
    samples = sum(np.sin(2 * np.pi * 150 * k * t) / k for k in range(1, 4)).astype(np.float32) * 0.3
    _, f0, _ = teacher.track_f0(samples, rate)
    voiced = f0[f0 > 0]
    assert len(voiced) > 0.9 * len(f0)
    assert abs(np.median(voiced) - 150) < 3


ICT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared", "data", "ict-facekit")


@pytest.mark.skipif(not os.path.isdir(ICT), reason="../shared/data/ict-facekit is absent (third-party data, not in the repo)")
def test_on_the_ict_mesh_closures_close_and_vowels_open(result):
    from kmtalk_train import ict_rig
    segments, r = result
    rig = ict_rig.load(ICT)
    metrics = rig.lip_metrics(rig.vertices(r.frames))
    aperture, width = metrics["aperture"], metrics["width"]
    for seg in segments:
        k = centre_frame(seg, r.fps)
        if seg.phone in ("m", "p", "b"):
            assert aperture[k] < 0.15, (seg.phone, aperture[k])  # lips touch (cm)
        if seg.phone == "a":
            assert aperture[k] > 1.0, aperture[k]
    u = next(s for s in segments if s.phone == "u")
    i = next(s for s in segments if s.phone == "i")
    assert width[centre_frame(u, r.fps)] < width[centre_frame(i, r.fps)] - 0.3
