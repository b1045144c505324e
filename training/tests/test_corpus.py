"""Builds a small corpus (as CI does) and checks what lands on disk: audio, phone
segments, teacher frames, a manifest with disjoint splits, determinism."""
import json
import os
import wave

import numpy as np
import pytest

from kmtalk_train import corpus, phones
from kmtalk_train.arkit import INDEX


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("corpus"))
    summary = corpus.build(out, english_hours=0.02, other_minutes=0.25, seed=3, jobs=2, augment_fraction=0.3,
                           languages=["en", "es", "ru", "cmn"], real_speech_limit=4, log=lambda *_: None)
    return out, summary, corpus.load_manifest(out)


def test_summary_and_manifest_agree(small):
    out, summary, rows = small
    assert summary["utterances"] == len(rows) > 20
    assert summary["errors"] <= 0.05 * len(rows), summary["error_examples"]
    assert abs(summary["hours"] - sum(r["duration"] for r in rows) / 3600) < 1e-3
    assert set(summary["hours_by_language"]) >= {"en", "es", "ru", "cmn"}
    # English comes from several engines and voices.
    engines = {r["engine"] for r in rows if r["language"] == "en"}
    assert {"espeak-ng", "flite", "festival"} <= engines, engines
    assert len(summary["english_voices"]) >= 8


def test_files_are_consistent(small):
    out, _, rows = small
    for row in rows:
        with wave.open(os.path.join(out, row["audio"])) as w:
            assert w.getframerate() == 16000 and w.getnchannels() == 1 and w.getsampwidth() == 2
            assert abs(w.getnframes() / 16000 - row["duration"]) < 1e-3
        if row["teacher"] is None:
            assert row["source"] == "human" and not row["params"]["aligned"]
            continue
        frames = np.load(os.path.join(out, row["teacher"]))
        assert frames.shape == (row["frames"], 52) and frames.dtype == np.float16
        assert np.all(np.isfinite(frames)) and frames.min() >= 0 and frames.max() <= 1
        assert abs(frames.shape[0] - (np.floor(row["duration"] * 60) + 1)) <= 1
        segments = corpus.read_segments(os.path.join(out, row["phones"]))
        assert segments[0].start == pytest.approx(0, abs=0.03)
        assert segments[-1].end == pytest.approx(row["duration"], abs=0.05)
        for a, b in zip(segments, segments[1:]):
            assert b.start == pytest.approx(a.end, abs=1e-3)
        assert all(s.phone in phones.INVENTORY for s in segments)


def test_bilabials_close_in_the_corpus(small):
    out, _, rows = small
    checked = 0
    for row in rows:
        if row["teacher"] is None:
            continue
        frames = np.load(os.path.join(out, row["teacher"])).astype(np.float32)
        for s in corpus.read_segments(os.path.join(out, row["phones"])):
            if phones.features(s.phone).bilabial_closure >= 0.5:
                k = min(int(round((s.start + s.end) / 2 * 60)), len(frames) - 1)
                assert frames[k, INDEX["jawOpen"]] - frames[k, INDEX["mouthClose"]] < 0.02, (row["id"], s)
                checked += 1
    assert checked > 20


def test_splits_are_disjoint_in_voices_and_sentences(small):
    _, _, rows = small
    synthetic = [r for r in rows if r["source"] == "synthetic"]
    for language in {r["language"] for r in synthetic}:
        def voices(split):
            return {r["speaker"] for r in synthetic if r["language"] == language and r["split"] == split}

        def sentences(split):
            return {r["text"] for r in synthetic if r["language"] == language and r["split"] == split}
        assert voices("train") and voices("test")
        assert not voices("train") & voices("test"), language
        assert not sentences("train") & sentences("test"), language
        assert not sentences("train") & sentences("validation"), language
    augmented = [r for r in synthetic if r["id"].endswith("-aug")]
    assert augmented and all(r["split"] == "train" and r["params"]["augment"] for r in augmented)


def test_build_is_deterministic(small, tmp_path):
    out, _, rows = small
    again = str(tmp_path / "again")
    corpus.build(again, english_hours=0.02, other_minutes=0.25, seed=3, jobs=1, augment_fraction=0.3,
                 languages=["en", "es", "ru", "cmn"], real_speech_limit=4, log=lambda *_: None)
    rows_again = corpus.load_manifest(again)
    assert [r["id"] for r in rows] == [r["id"] for r in rows_again]
    assert [r["text"] for r in rows] == [r["text"] for r in rows_again]
    first = next(r for r in rows if r["teacher"])
    a = np.load(os.path.join(out, first["teacher"]))
    b = np.load(os.path.join(again, first["teacher"]))
    np.testing.assert_array_equal(a, b)
