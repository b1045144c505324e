"""Progress callables and cancellation (Session.animate_*, Animation.save / to_bytes,
Rig.import_file), KMT_ERR_CANCELLED as CancelledError, and the mouth cues'
extended_shapes."""

from __future__ import annotations

import ctypes

import os
import threading

import numpy as np
import pytest

import kmtalk
from kmtalk import _lib

from conftest import REPO_ROOT, signal

#: A streaming-capable tiny model: audio over two minutes goes block by block.
STREAMING_MODEL = REPO_ROOT / "Tests" / "KMTalkEngineTests" / "Fixtures" / "kmtalk-tiny.safetensors"
HEAD_RIG = REPO_ROOT / "models" / "kmtalk-head.rig.safetensors"


@pytest.fixture(scope="module")
def streaming_model(lib):
    with kmtalk.Model(STREAMING_MODEL) as model:
        yield model


def speech(seconds: float, rate: int = 16000) -> np.ndarray:
    return signal(np.arange(int(seconds * rate)) / rate).astype(np.float32)


class Recorder:
    """A progress callable recording (fraction, stage, thread); returns False once the
    fraction reaches `stop_at`, or raises `error` there."""

    def __init__(self, stop_at: float = 2.0, error: BaseException = None):
        self.calls = []
        self.stop_at = stop_at
        self.error = error

    def __call__(self, fraction: float, stage: str):
        self.calls.append((fraction, stage, threading.get_ident()))
        if fraction >= self.stop_at:
            if self.error is not None:
                raise self.error
            return False
        return None

    @property
    def fractions(self):
        return [c[0] for c in self.calls]

    def check(self, finished: bool):
        fractions = self.fractions
        assert fractions, "no report"
        assert all(a <= b for a, b in zip(fractions, fractions[1:])), fractions
        assert all(0.0 <= f <= 1.0 for f in fractions)
        assert len(fractions) <= 110
        assert {c[2] for c in self.calls} == {threading.get_ident()}, "a report on another thread"
        if finished:
            assert fractions[-1] == 1.0 and fractions.count(1.0) == 1
        else:
            assert 1.0 not in fractions


def test_long_pcm_reports_monotonic_fractions_to_one(streaming_model):
    recorder = Recorder()
    with kmtalk.Session(streaming_model, threads=1, progress=recorder) as session:
        animation = session.animate_pcm(speech(150), 16000)
    assert abs(animation.frame_count - 7500) <= 2
    recorder.check(finished=True)
    assert {c[1] for c in recorder.calls} == {"network"}
    assert len(recorder.calls) >= 50


def test_a_call_may_bring_its_own_callable(streaming_model, tmp_path):
    session_wide, own = Recorder(), Recorder()
    with kmtalk.Session(streaming_model, threads=1, progress=session_wide) as session:
        session.animate_pcm(speech(1), 16000, progress=own)
        assert own.calls and not session_wide.calls
        session.animate_pcm(speech(1), 16000, progress=None)
        assert not session_wide.calls
        session.animate_pcm(speech(1), 16000)
        session_wide.check(finished=True)
        stages = []
        for _, stage, _ in session_wide.calls:
            if not stages or stages[-1] != stage:
                stages.append(stage)
        assert stages == ["decode", "features", "network"]


def test_returning_false_cancels_with_cancelled_error(streaming_model):
    recorder = Recorder(stop_at=0.5)
    with kmtalk.Session(streaming_model, threads=1) as session:
        with pytest.raises(kmtalk.CancelledError) as caught:
            session.animate_pcm(speech(150), 16000, progress=recorder)
        assert caught.value.status == kmtalk.Status.CANCELLED
        assert "cancelled by the progress callback during network" in caught.value.message
        recorder.check(finished=False)
        assert 0.5 <= recorder.fractions[-1] < 0.56
        # The session stays usable.
        assert session.animate_pcm(speech(1), 16000).frame_count > 40


def test_an_exception_in_the_callable_cancels_and_is_raised(streaming_model):
    class Stop(Exception):
        pass

    recorder = Recorder(stop_at=0.3, error=Stop("enough"))
    with kmtalk.Session(streaming_model, threads=1, progress=recorder) as session:
        with pytest.raises(Stop) as caught:
            session.animate_pcm(speech(150), 16000)
        assert isinstance(caught.value.__cause__, kmtalk.CancelledError)
        recorder.check(finished=False)
        # KeyboardInterrupt (Ctrl-C) stays a KeyboardInterrupt.
        with pytest.raises(KeyboardInterrupt):
            session.animate_pcm(speech(150), 16000, progress=Recorder(stop_at=0.2, error=KeyboardInterrupt()))


def test_progress_must_be_callable(streaming_model):
    with pytest.raises(TypeError):
        kmtalk.Session(streaming_model, progress="bar")
    with kmtalk.Session(streaming_model) as session:
        with pytest.raises(TypeError):
            session.animate_pcm(speech(1), 16000, progress=42)


def test_cancelled_export_leaves_the_old_sequence(streaming_model, tmp_path):
    rig = kmtalk.Rig(HEAD_RIG)
    with kmtalk.Session(streaming_model, threads=1, fps=25) as session:
        old = session.animate_pcm(speech(0.4), 16000)
        new = session.animate_pcm(speech(4), 16000)
    folder = tmp_path / "seq"
    folder.mkdir()
    old.save(folder / "face.ply", rig)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    recorder = Recorder(stop_at=0.5)
    with pytest.raises(kmtalk.CancelledError):
        new.save(folder / "face.ply", rig, progress=recorder)
    recorder.check(finished=False)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    # Not cancelled: written, progress to 1.0.
    recorder = Recorder()
    new.save(folder / "face.ply", rig, progress=recorder)
    recorder.check(finished=True)
    assert len(list(folder.iterdir())) == new.frame_count


def test_to_bytes_reports_once_from_zero_to_one(streaming_model):
    rig = kmtalk.Rig(HEAD_RIG)
    with kmtalk.Session(streaming_model, threads=1) as session:
        animation = session.animate_pcm(speech(3), 16000)
    recorder = Recorder()
    data = animation.to_bytes("npy", rig, progress=recorder)
    assert data == animation.to_bytes("npy", rig)
    recorder.check(finished=True)
    assert recorder.fractions[0] == 0.0


def test_extended_shapes(model, tmp_path):
    with kmtalk.Session(model, threads=1) as session:
        animation = session.animate_pcm(speech(3), 16000)
    everything = animation.mouth_cues()
    basic = animation.mouth_cues(extended_shapes="")
    assert set(basic["shape"]) <= set("ABCDEF")
    assert basic["start"][0] == 0.0 and basic["end"][-1] == everything["end"][-1]
    # Rhubarb's mapping, then equal neighbours joined.
    mapped = {"G": "B", "H": "C", "X": "A"}
    expected = []
    for start, end, shape in everything:
        shape = mapped.get(shape, shape)
        if expected and expected[-1][2] == shape:
            expected[-1][1] = end
        else:
            expected.append([start, end, shape])
    assert [tuple(row) for row in expected] == [tuple(row) for row in basic.tolist()]
    assert all(a != b for a, b in zip(basic["shape"], basic["shape"][1:]))
    # Files: the TSV's closing line is A without X.
    path = tmp_path / "cues.tsv"
    animation.save(path, extended_shapes="GH")
    assert path.read_text().endswith("\tA\n")
    animation.save(path)
    assert path.read_text().endswith("\tX\n")
    assert b'"X"' not in animation.to_bytes("cues-json", extended_shapes="gh")
    with pytest.raises(kmtalk.InvalidArgumentError, match="'Q' is not one of Rhubarb's extended shapes"):
        animation.to_bytes("cues-tsv", extended_shapes="GQ")
    with pytest.raises(TypeError):
        animation.save(path, extended_shapes=["G"])


def test_rig_import_reports_and_cancels(tmp_path):
    folder = tmp_path / "objs"
    folder.mkdir()
    triangle = "v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n"
    (folder / "neutral.obj").write_text(triangle)
    for index in range(8):
        (folder / f"shape{index}.obj").write_text(triangle.replace("v 0 1 0", f"v 0 1 0.{index + 1}"))
    recorder = Recorder()
    rig = kmtalk.Rig.import_file(folder, units="m", progress=recorder)
    assert rig.shape_count == 8
    recorder.check(finished=True)
    assert {c[1] for c in recorder.calls} == {"import"}
    with pytest.raises(kmtalk.CancelledError):
        kmtalk.Rig.import_file(folder, units="m", progress=Recorder(stop_at=0.5))


def test_low_level_declarations(lib):
    assert lib.KMT_ERR_CANCELLED == 11
    assert lib.kmt_status_string(lib.KMT_ERR_CANCELLED) == b"cancelled"
    assert ctypes.sizeof(lib.kmt_session_params) == 48
    assert ctypes.sizeof(lib.kmt_export_params) == 32
    assert ctypes.sizeof(lib.kmt_rig_import_params) == 56
    assert kmtalk.KMTalkError.from_status(lib.KMT_ERR_CANCELLED, "x").__class__ is kmtalk.CancelledError
