"""Evaluation metrics: perfect and perturbed predictions, on teacher animation."""
import numpy as np

from kmtalk_train import metrics, phones, teacher
from kmtalk_train.arkit import INDEX
from kmtalk_train.types import Segment


def speech():
    segments, t = [], 0.0
    for phone, duration in [("_", 0.4), ("b", 0.08), ("a", 0.16), ("m", 0.08), ("u", 0.2), ("_", 0.4), ("p", 0.07),
                            ("o", 0.18), ("_", 0.3)]:
        segments.append(Segment(t, t + duration, phone))
        t += duration
    rate = 16000
    time = np.arange(int(t * rate)) / rate
    samples = (0.2 * np.sin(2 * np.pi * 150 * time)).astype(np.float32)
    for s in segments:
        if s.phone == "_":
            samples[int(s.start * rate):int(s.end * rate)] = 0
    return segments, samples, rate


def test_teacher_passes_its_own_lip_sync_checks():
    segments, samples, rate = speech()
    r = teacher.animate(segments, samples, rate)
    checks = metrics.lip_sync_checks(r.frames, r.fps, segments, phones.features)
    assert checks["bilabial_closed_pct"] == 100 and checks["bilabials"] == 3
    assert checks["rounded_vowel_pct"] == 100 and checks["rounded_vowels"] == 2
    assert checks["pause_rest_pct"] == 100 and checks["pauses"] == 3
    # An always-open mouth fails the closure and rest checks.
    open_mouth = r.frames.copy()
    open_mouth[:, INDEX["jawOpen"]] = 0.5
    bad = metrics.lip_sync_checks(open_mouth, r.fps, segments, phones.features)
    assert bad["bilabial_closed_pct"] == 0 and bad["pause_rest_pct"] == 0


def test_motion_errors_by_group_and_velocity():
    segments, samples, rate = speech()
    r = teacher.animate(segments, samples, rate)
    perfect = metrics.motion_errors(r.frames, r.frames)
    assert perfect["mae_all"] == 0 and perfect["velocity_mae"] == 0
    shifted = r.frames.copy()
    shifted[:, INDEX["jawOpen"]] += 0.1
    errors = metrics.motion_errors(shifted, r.frames)
    assert abs(errors["mae_jaw"] - 0.1 / 4) < 1e-6 and errors["mae_lips"] == 0 and errors["velocity_mae"] < 1e-9
    mask = np.zeros(52, bool)
    mask[INDEX["mouthPucker"]] = True
    assert metrics.motion_errors(shifted, r.frames, mask)["mae_all"] == 0


def test_boundary_f1_and_accuracies():
    assert metrics.boundary_f1([0.1, 0.5], [0.11, 0.5, 0.9])["f1"] == 0.8
    assert metrics.boundary_f1([0.2], [0.25])["hits"] == 0
    segments, _, _ = speech()
    labels = metrics.frame_labels(segments, 100, 50)
    assert labels[0] == "_" and labels[21] == "b" and metrics.phone_accuracy(labels, labels) == 1.0
    assert metrics.feature_accuracy(np.array([[0.9, 0.1]]), np.array([[1.0, 0.0]])) == 1.0


def test_resample_keeps_the_time_span():
    motion = np.arange(61, dtype=float)[:, None] / 60  # 1 s at 60 fps
    down = metrics.resample(motion, 60, 50)
    assert down.shape == (51, 1) and abs(down[-1, 0] - 1.0) < 1e-9
