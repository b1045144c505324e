"""kmtalk.push_many (kmt_sessions_push_f32 / _s16): one block to each of many sessions in
one call, equal to a push per session."""

from __future__ import annotations

import threading
import wave

import numpy as np
import pytest

import kmtalk

from conftest import REPO_ROOT

HELLO = REPO_ROOT / "examples" / "audio" / "hello.wav"
GAINS = (1.0, 0.5, -0.8)


@pytest.fixture(scope="module")
def hello():
    """examples/audio/hello.wav as (int16 mono samples, rate)."""
    with wave.open(str(HELLO), "rb") as source:
        assert source.getnchannels() == 1 and source.getsampwidth() == 2
        rate = source.getframerate()
        pcm = np.frombuffer(source.readframes(source.getnframes()), dtype="<i2").astype(np.int16)
    return pcm, rate


def sessions(model, count, latency=None):
    made = [kmtalk.Session(model, threads=1) for _ in range(count)]
    if latency is not None:
        for session in made:
            session.latency_ms = latency
    return made


def drain(targets, outputs):
    for session, out in zip(targets, outputs):
        frames, _ = session.pull()
        out.append(frames)


def finish(targets, outputs):
    for session in targets:
        session.flush()
    drain(targets, outputs)
    return [np.concatenate(parts) for parts in outputs]


def stream_both(model, tracks, rate, block, latency=None, corrupt=None):
    """Streams tracks[i] to two sets of sessions in `block`-sample blocks: one set through
    push_many (one call per block), the other through Session.push. `corrupt`: (block
    index, session index) whose block gets a NaN. Returns (batched, separate, errors)."""
    batch, single = sessions(model, len(tracks), latency), sessions(model, len(tracks), latency)
    batch_out, single_out = [[] for _ in tracks], [[] for _ in tracks]
    errors = []
    for number, start in enumerate(range(0, len(tracks[0]), block)):
        blocks = [track[start:start + block] for track in tracks]
        if corrupt is not None and number == corrupt[0]:
            blocks = [b.copy() for b in blocks]
            blocks[corrupt[1]][7] = np.nan
        try:
            kmtalk.push_many(batch, blocks, rate)
        except kmtalk.KMTalkError as error:
            errors.append(error)
        for index, (session, samples) in enumerate(zip(single, blocks)):
            try:
                session.push(samples, rate)
            except kmtalk.InvalidAudioError:
                assert corrupt is not None and (number, index) == corrupt
        drain(batch, batch_out)
        drain(single, single_out)
    return finish(batch, batch_out), finish(single, single_out), errors


def test_batched_frames_equal_separate_pushes(model, hello):
    pcm, rate = hello
    audio = pcm.astype(np.float32) / 32768.0
    tracks = [(audio * gain).astype(np.float32) for gain in GAINS]
    batched, separate, errors = stream_both(model, tracks, rate, rate // 100)
    assert not errors
    expected_frames = kmtalk.Session(model, threads=1).animate_pcm(audio, rate).frame_count
    for got, want in zip(batched, separate):
        assert got.shape == want.shape == (expected_frames, model.channel_count)
        assert np.abs(got - want).max() < 1e-4
    assert np.abs(batched[0] - batched[1]).max() > 1e-3  # the sessions were fed different audio


def test_batched_at_the_exact_latency(model, hello):
    pcm, rate = hello
    audio = pcm[: rate * 2].astype(np.float32) / 32768.0
    tracks = [(audio * gain).astype(np.float32) for gain in GAINS]
    exact = kmtalk.Session(model).exact_latency_ms
    batched, separate, _ = stream_both(model, tracks, rate, rate // 100, latency=exact)
    for got, want in zip(batched, separate):
        assert got.shape == want.shape
        assert np.abs(got - want).max() < 1e-4


def test_nan_block_fails_only_its_session(model, hello):
    pcm, rate = hello
    audio = pcm[: rate * 2].astype(np.float32) / 32768.0
    tracks = [(audio * gain).astype(np.float32) for gain in GAINS]
    batched, separate, errors = stream_both(model, tracks, rate, rate // 100, corrupt=(50, 1))
    assert len(errors) == 1
    error = errors[0]
    assert isinstance(error, kmtalk.InvalidAudioError)
    assert error.status == kmtalk.Status.INVALID_AUDIO
    assert error.statuses == [kmtalk.Status.OK, kmtalk.Status.INVALID_AUDIO, kmtalk.Status.OK]
    assert "sessions[1]" in error.message and "non-finite" in error.message
    # The block was dropped for session 1 only, as Session.push drops it; all streams went on.
    for got, want in zip(batched, separate):
        assert got.shape == want.shape
        assert np.abs(got - want).max() < 1e-4


def test_int16_blocks(model, hello):
    pcm, rate = hello
    starts = (0, 4000, 8000)
    length = rate * 3 // 2
    tracks = [pcm[start:start + length].copy() for start in starts]
    batched, separate, errors = stream_both(model, tracks, rate, rate // 100)
    assert not errors
    for got, want in zip(batched, separate):
        assert len(got) > 0 and got.shape == want.shape
        assert np.abs(got - want).max() < 1e-4
    # Mixed int16 and float blocks go through the float call, int16 scaled by 1/32768.
    mixed, single = sessions(model, 2), sessions(model, 2)
    for start in range(0, length, 160):
        a, b = tracks[0][start:start + 160], tracks[1][start:start + 160]
        kmtalk.push_many(mixed, [a, b.astype(np.float32) / 32768.0], rate)
        single[0].push(a, rate)
        single[1].push(b, rate)
    mixed_frames = finish(mixed, [[] for _ in mixed])
    single_frames = finish(single, [[] for _ in single])
    for got, want in zip(mixed_frames, single_frames):
        assert got.shape == want.shape and np.abs(got - want).max() < 1e-4


def test_stereo_blocks_and_channels_argument(model, hello):
    pcm, rate = hello
    audio = pcm[:rate].astype(np.float32) / 32768.0
    stereo = np.stack([audio, 0.5 * audio], axis=1)
    by_shape, interleaved, single = sessions(model, 2), sessions(model, 2), sessions(model, 2)
    for start in range(0, rate, 441):
        block = stereo[start:start + 441]
        kmtalk.push_many(by_shape, [block, block[::-1]], rate)
        kmtalk.push_many(interleaved, [block.ravel(), block[::-1].ravel()], rate, channels=2)
        single[0].push(block, rate)
        single[1].push(block[::-1], rate)
    results = [finish(group, [[] for _ in group]) for group in (by_shape, interleaved, single)]
    for index in range(2):
        assert results[0][index].shape == results[2][index].shape
        assert np.abs(results[0][index] - results[2][index]).max() < 1e-4
        assert np.abs(results[1][index] - results[2][index]).max() < 1e-4


def test_empty_blocks_and_no_sessions(model, hello):
    pcm, rate = hello
    kmtalk.push_many([], [], rate)
    batch = sessions(model, 2)
    kmtalk.push_many(batch, [pcm[:160], np.zeros(0, np.float32)], rate)
    kmtalk.push_many(batch, [np.zeros(0, np.int16), np.zeros((0, 2), np.float32)], rate)


def test_arguments_refused(model, hello):
    pcm, rate = hello
    a, b = sessions(model, 2)
    block = pcm[:160]
    with pytest.raises(kmtalk.InvalidArgumentError, match="listed twice") as twice:
        kmtalk.push_many([a, a], [block, block], rate)
    assert twice.value.statuses == [kmtalk.Status.INVALID_ARGUMENT] * 2
    a.push(pcm[:441], 44100)  # nothing was pushed: the utterance's rate is not fixed yet
    a.reset()
    with pytest.raises(kmtalk.InvalidArgumentError, match="2 sessions but 1 blocks"):
        kmtalk.push_many([a, b], [block], rate)
    with pytest.raises(TypeError):
        kmtalk.push_many([a, "b"], [block, block], rate)
    with pytest.raises(kmtalk.InvalidArgumentError, match="different channel counts"):
        kmtalk.push_many([a, b], [block, np.zeros((160, 2), np.int16)], rate)
    with pytest.raises(kmtalk.InvalidArgumentError, match="whole number"):
        kmtalk.push_many([a, b], [block, pcm[:161]], rate, channels=2)
    with pytest.raises(kmtalk.InvalidAudioError) as low:
        kmtalk.push_many([a, b], [block, block], 7999)
    assert low.value.statuses == [kmtalk.Status.INVALID_AUDIO] * 2
    # A session at another rate than its utterance's fails alone; the other is pushed.
    a.push(pcm[:441], 44100)
    with pytest.raises(kmtalk.InvalidArgumentError) as other_rate:
        kmtalk.push_many([a, b], [block, block], rate)
    assert other_rate.value.statuses == [kmtalk.Status.INVALID_ARGUMENT, kmtalk.Status.OK]
    assert "sessions[0]" in other_rate.value.message
    with pytest.raises(kmtalk.InvalidArgumentError):
        b.push(pcm[:441], 44100)  # b's utterance is at `rate` now: it was pushed
    b.close()
    with pytest.raises(ValueError, match="closed"):
        kmtalk.push_many([a, b], [block, block], rate)
    a.push(pcm[:441], 44100)  # the locks were released


def test_threads_batching_overlapping_sessions(model, hello):
    """Two threads batching overlapping sets of sessions (in opposite orders) neither
    deadlock nor interleave inside a session."""
    pcm, rate = hello
    shared = sessions(model, 3)
    failures = []

    def run(order):
        try:
            for start in range(0, rate // 2, 160):
                kmtalk.push_many([shared[i] for i in order], [pcm[start:start + 160]] * len(order), rate)
        except BaseException as error:  # noqa: BLE001 - reported below
            failures.append(error)

    threads = [threading.Thread(target=run, args=(order,)) for order in ((0, 1, 2), (2, 1))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not any(thread.is_alive() for thread in threads)
    assert not failures
