"""kmtalk.batch: a folder or manifest of a few hundred generated WAVs (and corrupt
files) animated in this process, by a local process pool and by a local Dask
cluster; outputs equal the single-file API's, failures are reported, reruns
skip what is done, a crash mid-batch is resumed exactly, no temp files stay."""

from __future__ import annotations

import json
import os
import signal as signals
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import kmtalk
from kmtalk import batch

from conftest import signal, write_wav

GOOD = 240
CORRUPT = ("trunc.wav", "random.wav", "empty.wav", "folder.wav", "text.mp3")


def _make_corpus(root: Path) -> None:
    rng = np.random.default_rng(15)
    for i in range(GOOD):
        rate = (16000, 22050, 44100)[i % 3]
        seconds = 0.2 + 0.3 * (i % 17) / 16.0
        t = np.arange(int(seconds * rate)) / rate
        x = signal(t * (0.8 + 0.004 * i)) * (0.4 + 0.5 * rng.random())
        if i % 5 == 0:  # some stereo
            x = np.stack([x, 0.9 * x], axis=1)
        folder = root / f"scene{i % 4}" if i % 2 else root  # odd lines one level down
        folder.mkdir(exist_ok=True)
        write_wav(folder / f"line{i:03d}.wav", x, rate)
    head = (root / "line000.wav").read_bytes()
    (root / "trunc.wav").write_bytes(head[:30])
    (root / "random.wav").write_bytes(rng.integers(0, 256, 4000, dtype=np.uint8).tobytes())
    (root / "empty.wav").write_bytes(b"")
    (root / "folder.wav").mkdir()
    (root / "text.mp3").write_text("not audio at all\n" * 20)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, model_path):
    """The input folder and, per good file, the bytes the single-process API gives for it."""
    root = tmp_path_factory.mktemp("batch_in")
    _make_corpus(root)
    expected = {}
    with kmtalk.Model(model_path) as model:
        for path in sorted(root.rglob("*.wav")):
            if path.is_file() and path.name not in CORRUPT:
                expected[path.relative_to(root).with_suffix(".json")] = kmtalk.animate(
                    path, model=model, threads=1).to_bytes("json")
    assert len(expected) == GOOD
    return root, expected


def _outputs(out: Path):
    return {p.relative_to(out): p for p in out.rglob("*") if p.is_file()}


def _temps(out: Path):
    return [p for p in out.rglob("*") if "kmtalk-tmp" in p.name]


def _check_complete(out: Path, summary, expected):
    outputs = _outputs(out)
    assert set(outputs) == set(expected), "exactly the good files have outputs"
    for relative, data in expected.items():
        assert outputs[relative].read_bytes() == data, relative
    assert not _temps(out)


def _check_failures(summary, root: Path):
    failed = {Path(r.input).name: r for r in summary.failures}
    assert set(failed) == set(CORRUPT)
    assert "empty" in failed["empty.wav"].error
    assert failed["folder.wav"].error_type == "FileIOError" and "directory" in failed["folder.wav"].error
    assert failed["random.wav"].error_type == "UnsupportedFormatError"
    assert failed["trunc.wav"].error_type in ("UnsupportedFormatError", "InvalidAudioError")
    for result in failed.values():
        assert result.error.startswith(result.input) and not Path(result.output).exists()


def test_one_worker_matches_api_reports_and_reruns(corpus, model_path, tmp_path):
    root, expected = corpus
    out, report = tmp_path / "out", tmp_path / "report.jsonl"
    seen = []
    summary = batch.animate_many(root, out, model=model_path, workers=1, report=report,
                                 progress=lambda done, total, result, s: seen.append((done, total)))
    assert (summary.ok, summary.skipped, summary.failed) == (GOOD, 0, len(CORRUPT))
    _check_complete(out, summary, expected)
    _check_failures(summary, root)
    assert seen[-1] == (GOOD + len(CORRUPT),) * 2 and [d for d, _ in seen] == list(range(1, len(seen) + 1))
    rows = [json.loads(line) for line in report.read_text().splitlines()]
    assert len(rows) == GOOD + len(CORRUPT)
    ok = [r for r in rows if r["status"] == "ok"]
    assert all(0.19 < r["audio_seconds"] <= 0.5 + 1 / 50 and r["seconds"] > 0 and r["frames"] > 0 for r in ok)
    assert summary.audio_seconds == pytest.approx(sum(r["audio_seconds"] for r in ok))
    assert summary.files_per_second > 0 and summary.audio_hours_per_hour > 0
    assert "240 ok, 0 skipped, 5 failed" in str(summary)

    stamps = {p: p.stat().st_mtime_ns for p in _outputs(out).values()}
    again = batch.animate_many(root, out, model=model_path, workers=1)
    assert (again.ok, again.skipped, again.failed) == (0, GOOD, len(CORRUPT))
    assert {p: p.stat().st_mtime_ns for p in _outputs(out).values()} == stamps


def test_two_workers_match_api(corpus, model_path, tmp_path):
    root, expected = corpus
    out = tmp_path / "out"
    summary = batch.animate_many(root, out, model=model_path, workers=2)
    assert (summary.ok, summary.failed) == (GOOD, len(CORRUPT))
    _check_complete(out, summary, expected)
    _check_failures(summary, root)
    assert len({r.worker for r in summary.results if r.status == "ok"}) == 2
    assert str(os.getpid()) not in {r.worker.split(":")[-1] for r in summary.results if r.worker}


class Crash(Exception):
    pass


def test_crash_in_progress_callback_then_resume(corpus, model_path, tmp_path):
    root, expected = corpus
    out = tmp_path / "out"

    def stop_after(done, total, result, summary):
        if summary.ok == 60:
            raise Crash()

    with pytest.raises(Crash):
        batch.animate_many(root, out, model=model_path, workers=2, progress=stop_after)
    done_before = set(_outputs(out))
    assert 60 <= len(done_before) < GOOD
    # A crash mid-write leaves a temp file; the rerun removes it.
    missing = sorted(set(expected) - done_before, key=lambda p: (len(p.parts), p))[-1]  # one in a subfolder
    stale = out / missing.parent / f".{missing.name}.999.deadbeef.kmtalk-tmp"
    stale.parent.mkdir(parents=True, exist_ok=True)
    stale.write_bytes(b"half")
    summary = batch.animate_many(root, out, model=model_path, workers=2)
    assert {Path(r.output).relative_to(out) for r in summary.results if r.status == "ok"} == set(expected) - done_before
    assert {Path(r.output).relative_to(out) for r in summary.results if r.status == "skipped"} == done_before
    _check_complete(out, summary, expected)


def test_killed_worker_then_resume(corpus, model_path, tmp_path):
    root, expected = corpus
    out = tmp_path / "out"
    killed = []

    def kill_one(done, total, result, summary):
        if summary.ok == 40 and not killed and result.worker:
            killed.append(int(result.worker.split(":")[-1]))
            os.kill(killed[0], signals.SIGKILL)

    summary = batch.animate_many(root, out, model=model_path, workers=2, progress=kill_one)
    assert killed
    lost = [r for r in summary.failures if Path(r.input).name not in CORRUPT]
    assert lost and all(r.error.startswith("worker failed") for r in lost)
    # A worker killed while writing leaves its temp file (a crash cannot clean up); the
    # rerun removes it and it is not an output.
    done_before = {p for p in _outputs(out) if "kmtalk-tmp" not in p.name}
    assert len(done_before) < GOOD
    rerun = batch.animate_many(root, out, model=model_path, workers=2)
    assert {Path(r.output).relative_to(out) for r in rerun.results if r.status == "ok"} == set(expected) - done_before
    assert rerun.skipped == len(done_before)
    _check_complete(out, rerun, expected)


def test_dask_local_cluster(corpus, model_path, tmp_path):
    distributed = pytest.importorskip("distributed")
    root, expected = corpus
    out = tmp_path / "out"
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=2, dashboard_address=None,
                                  silence_logs=40) as cluster, distributed.Client(cluster) as client:
        summary = batch.animate_many(root, out, model=model_path, executor=client)
        assert (summary.ok, summary.failed) == (GOOD, len(CORRUPT))
        _check_complete(out, summary, expected)
        _check_failures(summary, root)
        pids = {r.worker.split(":")[-1] for r in summary.results if r.status == "ok"}
        assert len(pids) == 2 and str(os.getpid()) not in pids

        (out / "line000.json").unlink()
        again = batch.animate_many(root, out, model=model_path, executor=cluster.scheduler_address)
        assert (again.ok, again.skipped, again.failed) == (1, GOOD - 1, len(CORRUPT))
        _check_complete(out, again, expected)


def test_manifest_csv_and_jsonl_with_row_options(corpus, model_path, tmp_path):
    root, _ = corpus
    lines = [root / "line000.wav", root / "scene1" / "line001.wav", root / "line002.wav"]
    manifest = tmp_path / "lines.csv"
    manifest.write_text("input,output,format,fps\n"
                        f"{lines[0]},a/first.json,,\n"
                        f"{lines[1]},b/second.csv,csv,30\n"
                        f"{lines[2]},third.npy,npy,\n"
                        f"{root / 'empty.wav'},empty.json,,\n")
    summary = batch.animate_many(manifest, tmp_path / "out", model=model_path, workers=1)
    assert (summary.ok, summary.failed) == (3, 1)
    with kmtalk.Model(model_path) as model:
        assert (tmp_path / "out/a/first.json").read_bytes() == kmtalk.animate(lines[0], model=model).to_bytes("json")
        assert (tmp_path / "out/b/second.csv").read_bytes() == kmtalk.animate(lines[1], model=model, fps=30).to_bytes("csv")
        assert (tmp_path / "out/third.npy").read_bytes() == kmtalk.animate(lines[2], model=model).to_bytes("npy")
    assert not (tmp_path / "out/empty.json").exists()

    jsonl = tmp_path / "lines.jsonl"
    jsonl.write_text("\n".join(json.dumps({"input": str(p), "format": "cues-tsv"}) for p in lines) + "\n")
    summary = batch.animate_many(jsonl, tmp_path / "cues", model=model_path, workers=1)
    assert summary.ok == 3 and sorted(p.name for p in (tmp_path / "cues").iterdir()) == [
        "line000.tsv", "line001.tsv", "line002.tsv"]


def test_plan_rejects_collisions_and_multi_file_formats(tmp_path):
    with pytest.raises(ValueError, match="both write"):
        batch.plan({"a.wav": "x.json", "b.wav": "x.json"})
    with pytest.raises(ValueError, match="single-file"):
        batch.plan(["a.wav"], tmp_path, format="obj")
    (tmp_path / "in" / "x").mkdir(parents=True)
    (tmp_path / "in" / "x" / "a.wav").write_bytes(b"")
    (tmp_path / "in" / "x" / "a.flac").write_bytes(b"")
    with pytest.raises(ValueError, match="both write"):
        batch.plan(tmp_path / "in", tmp_path / "out")


def test_cli(corpus, model_path, tmp_path):
    root, expected = corpus
    small = tmp_path / "in"
    small.mkdir()
    for name in ("line000.wav", "line002.wav", "empty.wav", "random.wav"):
        (small / name).write_bytes((root / name).read_bytes())
    command = [sys.executable, "-m", "kmtalk.batch", str(small), "-o", str(tmp_path / "out"), "--format", "json",
               "--workers", "1", "--model", str(model_path), "--report", str(tmp_path / "r.jsonl")]
    run = subprocess.run(command, capture_output=True, text=True, env=os.environ.copy())
    assert run.returncode == 1, run.stderr
    assert "2 ok, 0 skipped, 2 failed" in run.stdout
    assert "FAILED" in run.stderr and "empty.wav" in run.stderr
    written, wanted = (json.loads(b) for b in ((tmp_path / "out/line000.json").read_bytes(),
                                                expected[Path("line000.json")]))
    assert written.pop("source") == str(small / "line000.wav")  # a copy of the corpus's file
    wanted.pop("source")
    assert written == wanted
    assert len((tmp_path / "r.jsonl").read_text().splitlines()) == 4
    rerun = subprocess.run(command[:-2], capture_output=True, text=True, env=os.environ.copy())
    assert "0 ok, 2 skipped, 2 failed" in rerun.stdout
