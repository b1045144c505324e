"""Batch animation: a folder or a manifest of audio files into outputs, in
parallel on one machine (a process pool) or on a Dask cluster.

    from kmtalk.batch import animate_many
    summary = animate_many("dialogue/", "anim/", format="json", workers=4)
    print(summary)            # 2981 ok, 19 skipped, 3 failed ...

    # the same code on a Dask cluster (inputs and outputs on a shared filesystem):
    from distributed import Client
    animate_many("dialogue/", "anim/", executor=Client("tcp://scheduler:8786"))

Command line: ``python -m kmtalk.batch INPUT_DIR_OR_MANIFEST -o OUT_DIR --format json``.

* Idempotent: every output is written to a temporary file in its own directory
  and renamed into place, so an existing output is a complete one; outputs that
  exist are skipped (``overwrite=True`` redoes them).
* Resumable: after a crash (a killed worker, Ctrl-C, a power cut) a rerun does
  exactly the files whose outputs are missing; stale temporary files of the
  pending outputs are removed.
* Failures (corrupt, empty, unsupported audio, ...) are reported per file with
  the library's message and never stop the rest.
* Each worker process loads the model once; each worker thread has its own
  session (a model is shared between threads; a session serves one thread at a
  time, include/kmtalk.h "THREAD SAFETY").

Any executor with the ``concurrent.futures.Executor`` interface works: pass a
``distributed.Client`` (its ``get_executor()`` is used), a scheduler address
string, or your own executor.
"""

from __future__ import annotations

import concurrent.futures
import csv
import json
import os
import socket
import sys
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

__all__ = [
    "AUDIO_EXTENSIONS", "FORMAT_EXTENSIONS", "Job", "Result", "Summary",
    "find_audio", "read_manifest", "plan", "animate_many", "animate_one", "main",
]

PathLike = Union[str, "os.PathLike[str]"]

#: File extensions (lower case) collected from an input folder.
AUDIO_EXTENSIONS = (".wav", ".wave", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".aif", ".aiff", ".aifc",
                    ".caf", ".au", ".snd", ".w64", ".rf64", ".m4a", ".mp4", ".aac")

#: Output extension per single-file format (OBJ and PLY write one file per frame: not batched).
FORMAT_EXTENSIONS = {
    "json": ".json", "csv": ".csv", "livelink": ".csv", "npy": ".npy", "glb": ".glb", "glb-sparse": ".glb",
    "cues-tsv": ".tsv", "cues-json": ".json", "cues-xml": ".xml", "cues-dat": ".dat", "phones": ".tsv",
}

#: Per-row options a manifest may set (other columns are ignored).
ROW_OPTIONS = ("format", "fps", "nonfinite", "extended_shapes")

_TMP_MARK = ".kmtalk-tmp"


# --------------------------------------------------------------------------
# Jobs and results
# --------------------------------------------------------------------------


@dataclass
class Job:
    """One input file, its output path and its per-file options."""

    input: str
    output: str
    format: str = "json"
    fps: Optional[float] = None
    nonfinite: str = "reject"
    extended_shapes: Optional[str] = None


@dataclass
class Result:
    """What became of one job. ``status``: "ok", "skipped" or "failed";
    ``error``: the library's message (failed only), ``error_type`` its class
    (``InvalidAudioError``, ...); ``seconds``: wall time of the worker's call;
    ``audio_seconds``: the animation's length, frames / fps, within one frame
    of the audio's duration (ok only)."""

    input: str
    output: str
    status: str
    error: Optional[str] = None
    error_type: Optional[str] = None
    seconds: float = 0.0
    audio_seconds: Optional[float] = None
    frames: Optional[int] = None
    worker: Optional[str] = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)


@dataclass
class Summary:
    """The results of :func:`animate_many`, in completion order, and their totals."""

    results: List[Result] = field(default_factory=list)
    wall_seconds: float = 0.0

    def _count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)

    @property
    def ok(self) -> int:
        return self._count("ok")

    @property
    def skipped(self) -> int:
        return self._count("skipped")

    @property
    def failed(self) -> int:
        return self._count("failed")

    @property
    def failures(self) -> List[Result]:
        return [r for r in self.results if r.status == "failed"]

    @property
    def audio_seconds(self) -> float:
        """Seconds of audio animated (ok files)."""
        return sum(r.audio_seconds or 0.0 for r in self.results if r.status == "ok")

    @property
    def files_per_second(self) -> float:
        """Files animated (ok) per wall-clock second."""
        return self.ok / self.wall_seconds if self.wall_seconds > 0 else 0.0

    @property
    def audio_hours_per_hour(self) -> float:
        """Hours of audio animated per hour of wall-clock time (= the real-time factor)."""
        return self.audio_seconds / self.wall_seconds if self.wall_seconds > 0 else 0.0

    def __str__(self) -> str:
        return (f"{self.ok} ok, {self.skipped} skipped, {self.failed} failed in {self.wall_seconds:.1f} s: "
                f"{self.files_per_second:.2f} files/s, {self.audio_seconds / 3600.0:.3f} h of audio, "
                f"{self.audio_hours_per_hour:.1f} audio hours per hour")


# --------------------------------------------------------------------------
# Planning: folder or manifest -> jobs
# --------------------------------------------------------------------------


def _format_name(fmt: str) -> str:
    name = str(fmt).strip().lower().replace("_", "-")
    if name not in FORMAT_EXTENSIONS:
        raise ValueError(f"format {fmt!r} is not a single-file format for batches "
                         f"(one of {', '.join(FORMAT_EXTENSIONS)})")
    return name


def find_audio(folder: PathLike, extensions: Sequence[str] = AUDIO_EXTENSIONS,
               exclude: Optional[PathLike] = None) -> List[Path]:
    """Every path under ``folder`` (recursively, sorted) whose extension is an
    audio extension: files, and anything else so named (a directory called
    ``x.wav`` is a job that fails, not one silently dropped). Hidden names and
    everything under ``exclude`` (the output folder) are left out."""
    root = Path(folder)
    wanted = {e.lower() for e in extensions}
    skip = Path(exclude).resolve() if exclude is not None else None
    found = []
    for directory, dirnames, filenames in os.walk(root):
        here = Path(directory)
        if skip is not None and (here.resolve() == skip or skip in here.resolve().parents):
            dirnames[:] = []
            continue
        dirnames.sort()
        for name in list(dirnames) + filenames:
            if not name.startswith(".") and os.path.splitext(name)[1].lower() in wanted:
                found.append(here / name)
        dirnames[:] = [d for d in dirnames if not d.startswith(".") and os.path.splitext(d)[1].lower() not in wanted]
    return sorted(found)


def read_manifest(path: PathLike) -> List[Dict[str, Any]]:
    """The rows of a CSV (with a header) or JSONL manifest: dicts with
    ``input``, optionally ``output`` and the :data:`ROW_OPTIONS`. Empty
    cells are absent options."""
    path = Path(path)
    rows: List[Dict[str, Any]] = []
    if path.suffix.lower() in (".jsonl", ".ndjson", ".json"):
        with open(path, encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                if line.strip():
                    row = json.loads(line)
                    if not isinstance(row, dict):
                        raise ValueError(f"{path}:{number}: each line must be a JSON object")
                    rows.append(row)
    else:
        with open(path, newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                rows.append({k.strip(): v for k, v in row.items() if k and v not in (None, "")})
    for number, row in enumerate(rows, 1):
        if not row.get("input"):
            raise ValueError(f"{path}: row {number} has no 'input'")
    return rows


def plan(inputs: Union[PathLike, Iterable[Any]], out_dir: Optional[PathLike] = None, *,
         format: str = "json", fps: Optional[float] = None, nonfinite: str = "reject",
         extended_shapes: Optional[str] = None) -> List[Job]:
    """The jobs for ``inputs``: a folder (every audio file under it; outputs
    mirror its tree under ``out_dir`` with the format's extension), a manifest
    file (.csv or .jsonl; relative inputs are relative to the manifest,
    relative outputs to ``out_dir`` or else the manifest; rows without an
    output go to ``out_dir``), a mapping {input: output}, or a list of input
    paths, row dicts or :class:`Job` objects. Raises ValueError when two jobs
    would write the same output."""
    defaults = {"format": _format_name(format), "fps": fps, "nonfinite": nonfinite,
                "extended_shapes": extended_shapes}
    out = Path(out_dir) if out_dir is not None else None
    rows: List[Dict[str, Any]] = []
    base_in = base_out = Path(".")
    tree_root: Optional[Path] = None
    if isinstance(inputs, (str, os.PathLike)):
        source = Path(inputs)
        if source.is_dir():
            tree_root = source
            rows = [{"input": str(p)} for p in find_audio(source, exclude=out)]
        elif source.is_file():
            rows = read_manifest(source)
            base_in = source.parent
            base_out = out if out is not None else source.parent
        else:
            raise FileNotFoundError(f"{source}: no such folder or manifest")
    elif isinstance(inputs, Mapping):
        rows = [{"input": str(k), "output": str(v)} for k, v in inputs.items()]
        base_out = out if out is not None else Path(".")
    else:
        for item in inputs:
            if isinstance(item, Job):
                rows.append(asdict(item))
            elif isinstance(item, Mapping):
                rows.append(dict(item))
            else:
                rows.append({"input": str(item)})
        base_out = out if out is not None else Path(".")

    jobs: List[Job] = []
    for row in rows:
        options = dict(defaults)
        for key in ROW_OPTIONS:
            if row.get(key) not in (None, ""):
                options[key] = row[key]
        options["format"] = _format_name(options["format"])
        if options["fps"] not in (None, ""):
            options["fps"] = float(options["fps"])
        src = Path(row["input"])
        if not src.is_absolute():
            src = base_in / src
        if row.get("output"):
            dst = Path(row["output"])
            if not dst.is_absolute():
                dst = base_out / dst
        else:
            if out is None:
                raise ValueError(f"{row['input']}: no output given and no out_dir")
            relative = src.relative_to(tree_root) if tree_root is not None else Path(src.name)
            dst = out / relative.with_suffix(FORMAT_EXTENSIONS[options["format"]])
        jobs.append(Job(input=str(src), output=str(dst), **options))

    seen: Dict[str, str] = {}
    for job in jobs:
        key = os.path.normcase(os.path.abspath(job.output))
        if key in seen:
            raise ValueError(f"{seen[key]} and {job.input} would both write {job.output}")
        seen[key] = job.input
    return jobs


# --------------------------------------------------------------------------
# The worker side
# --------------------------------------------------------------------------

_models: Dict[Tuple[str, Optional[str]], Tuple[Any, Any]] = {}
_models_lock = threading.Lock()
_local = threading.local()


def _worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _load(model_path: str, rig_path: Optional[str]) -> Tuple[Any, Any]:
    """This process's (Model, Rig) for the paths: loaded once per process."""
    import kmtalk

    key = (model_path, rig_path)
    with _models_lock:
        if key not in _models:
            model = kmtalk.Model(model_path)
            rig = kmtalk.Rig(rig_path) if rig_path else None
            _models[key] = (model, rig)
        return _models[key]


def _session(model_path: str, rig_path: Optional[str], fps: Optional[float], nonfinite: str, threads: int):
    """This thread's session for the options (one per thread: a session serves one thread at a time)."""
    import kmtalk

    sessions = getattr(_local, "sessions", None)
    if sessions is None:
        sessions = _local.sessions = {}
    key = (model_path, rig_path, fps, nonfinite, threads)
    if key not in sessions:
        model, rig = _load(model_path, rig_path)
        sessions[key] = (kmtalk.Session(model, threads=threads, fps=fps, nonfinite=nonfinite), rig)
    return sessions[key]


def warm(model_path: str, rig_path: Optional[str] = None) -> str:
    """Loads the model (and rig) in this process; a pool initializer. Returns the worker's name."""
    _load(model_path, rig_path)
    return _worker_name()


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}{_TMP_MARK}"
    try:
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def animate_one(job: Job, model_path: str, rig_path: Optional[str] = None, threads: int = 1,
                overwrite: bool = False) -> Result:
    """Animates one job in this process and writes its output atomically.
    Never raises for a bad input: failures come back as a "failed" Result."""
    import kmtalk

    output = Path(job.output)
    start = time.perf_counter()
    if not overwrite and output.is_file():
        return Result(job.input, job.output, "skipped", worker=_worker_name())
    try:
        session, rig = _session(model_path, rig_path, job.fps, job.nonfinite, threads)
        with session.animate_file(job.input) as animation:  # the exports then name their source file
            data = animation.to_bytes(job.format, rig=rig, extended_shapes=job.extended_shapes)
            frames, duration = animation.frame_count, animation.frame_count / animation.fps
        _write_atomic(output, data)
    except Exception as error:  # noqa: BLE001 - every failure is reported, none stops the batch
        message = getattr(error, "message", None) or str(error) or type(error).__name__
        return Result(job.input, job.output, "failed", error=message, error_type=type(error).__name__,
                      seconds=time.perf_counter() - start, worker=_worker_name())
    return Result(job.input, job.output, "ok", seconds=time.perf_counter() - start,
                  audio_seconds=duration, frames=frames, worker=_worker_name())


# --------------------------------------------------------------------------
# The driver
# --------------------------------------------------------------------------


def _clean_stale_temps(jobs: Sequence[Job]) -> int:
    """Removes the temporary files a crashed run left for these outputs (one scan per directory)."""
    by_dir: Dict[str, set] = {}
    for job in jobs:
        path = Path(job.output)
        by_dir.setdefault(str(path.parent), set()).add(path.name)
    removed = 0
    for directory, names in by_dir.items():
        try:
            entries = list(os.scandir(directory))
        except OSError:
            continue
        for entry in entries:
            name = entry.name
            if name.startswith(".") and name.endswith(_TMP_MARK):
                target = name[1:-len(_TMP_MARK)].rsplit(".", 2)[0]
                if target in names:
                    try:
                        os.unlink(entry.path)
                        removed += 1
                    except OSError:
                        pass
    return removed


class _ProgressLine:
    """A one-line progress display on a terminal (stderr)."""

    def __init__(self, stream: Any = None):
        self.stream = stream or sys.stderr
        self.start = time.perf_counter()
        self.last = 0.0

    def __call__(self, done: int, total: int, result: Result, summary: Summary) -> None:
        now = time.perf_counter()
        if done < total and now - self.last < 0.2:
            return
        self.last = now
        elapsed = max(now - self.start, 1e-9)
        rate = summary.ok / elapsed
        eta = f"{(total - done) / rate:.0f} s" if rate > 0 else "?"
        line = (f"\r{done}/{total} ({100.0 * done / max(total, 1):.0f}%) ok {summary.ok} "
                f"skipped {summary.skipped} failed {summary.failed}  {rate:.1f} files/s  eta {eta} ")
        self.stream.write(line)
        if done == total:
            self.stream.write("\n")
        self.stream.flush()


def _executor_for(executor: Any) -> Tuple[Any, Optional[Callable[[], None]]]:
    """(a concurrent.futures-style executor, what closes it when we opened it)."""
    if isinstance(executor, str):
        from distributed import Client  # a scheduler address

        client = Client(executor)
        return client.get_executor(), client.close
    if hasattr(executor, "get_executor") and hasattr(executor, "scheduler"):
        return executor.get_executor(), None  # a distributed.Client: its executor's futures are concurrent.futures'
    return executor, None


def animate_many(inputs: Union[PathLike, Iterable[Any]], out_dir: Optional[PathLike] = None, *,
                 format: str = "json", model: Optional[PathLike] = None, rig: Optional[PathLike] = None,
                 workers: Optional[int] = None, executor: Any = None, fps: Optional[float] = None,
                 nonfinite: str = "reject", extended_shapes: Optional[str] = None, threads: int = 1,
                 overwrite: bool = False, report: Optional[PathLike] = None,
                 progress: Optional[Callable[[int, int, Result, Summary], Any]] = None,
                 progress_line: Optional[bool] = None) -> Summary:
    """Animates every input (see :func:`plan`: a folder, a manifest, a
    mapping or a list) into its output, in parallel, and returns a
    :class:`Summary`.

    ``model``: a model path (default: ``kmtalk.default_model_path()``); each
    worker process loads it once. ``rig``: a rig path for GLB. ``workers``:
    local worker processes (default: the CPU count; 1 runs in this process).
    ``executor``: instead of a local pool, a ``concurrent.futures.Executor``,
    a ``distributed.Client`` or a Dask scheduler address ("tcp://host:8786");
    its workers must see the same paths (a shared filesystem). ``threads``:
    compute threads per session (1: bit-identical results). ``overwrite``:
    redo outputs that exist (default: skip them). ``report``: a JSONL file
    that gets one line per file as it finishes. ``progress``:
    ``fn(done, total, result, summary)`` after each file; an exception it
    raises stops the batch (pending files are cancelled, running ones finish,
    completed outputs stay: a rerun does the rest) and is re-raised.
    ``progress_line``: a progress line on stderr (default: when it is a TTY).
    """
    import kmtalk

    jobs = plan(inputs, out_dir, format=format, fps=fps, nonfinite=nonfinite, extended_shapes=extended_shapes)
    if model is None:
        model = kmtalk.default_model_path()
        if model is None:
            raise FileNotFoundError(f"no model given: pass model= or set {kmtalk.MODEL_ENV}")
    model_path = os.path.abspath(os.fspath(model))
    rig_path = os.path.abspath(os.fspath(rig)) if rig is not None else None
    if not os.path.isfile(model_path):
        raise FileNotFoundError(f"{model_path}: no such model")

    summary = Summary()
    start = time.perf_counter()
    total = len(jobs)
    callbacks = []
    if progress is not None:
        callbacks.append(progress)
    if progress_line or (progress_line is None and sys.stderr.isatty()):
        callbacks.append(_ProgressLine())
    report_handle = open(report, "w", encoding="utf-8") if report is not None else None

    def record(result: Result) -> None:
        summary.results.append(result)
        summary.wall_seconds = time.perf_counter() - start
        if report_handle is not None:
            report_handle.write(result.to_json() + "\n")
            report_handle.flush()
        for callback in callbacks:
            callback(len(summary.results), total, result, summary)

    try:
        pending: List[Job] = []
        for job in jobs:  # skip finished outputs here, without a round trip to a worker
            if not overwrite and os.path.isfile(job.output):
                record(Result(job.input, job.output, "skipped"))
            else:
                pending.append(job)
        _clean_stale_temps(pending)
        if workers is None:
            workers = os.cpu_count() or 1
        if executor is None and workers <= 1:
            for job in pending:
                record(animate_one(job, model_path, rig_path, threads, overwrite))
        elif pending:
            _run_parallel(pending, model_path, rig_path, threads, overwrite, workers, executor, record)
    finally:
        summary.wall_seconds = time.perf_counter() - start
        if report_handle is not None:
            report_handle.close()
    return summary


def _run_parallel(pending: List[Job], model_path: str, rig_path: Optional[str], threads: int, overwrite: bool,
                  workers: int, executor: Any, record: Callable[[Result], None]) -> None:
    close: Optional[Callable[[], None]] = None
    if executor is None:
        import multiprocessing

        # spawn: a fork of a process that already runs the library's (OpenBLAS) threads is unsafe.
        pool = concurrent.futures.ProcessPoolExecutor(
            max_workers=min(workers, len(pending)), mp_context=multiprocessing.get_context("spawn"),
            initializer=warm, initargs=(model_path, rig_path))
        if sys.version_info >= (3, 9):
            close = lambda: pool.shutdown(wait=True, cancel_futures=True)  # noqa: E731
        else:  # the futures are cancelled below when the batch stops early
            close = lambda: pool.shutdown(wait=True)  # noqa: E731
    else:
        pool, close = _executor_for(executor)
    futures: Dict[Any, Job] = {}
    try:
        for job in pending:
            futures[pool.submit(animate_one, job, model_path, rig_path, threads, overwrite)] = job
        for future in concurrent.futures.as_completed(futures):
            job = futures[future]
            try:
                result = future.result()
            except Exception as error:  # noqa: BLE001 - a worker died (BrokenProcessPool, KilledWorker, ...)
                result = Result(job.input, job.output, "failed", error=f"worker failed: {error}".strip(),
                                error_type=type(error).__name__)
            record(result)
    except BaseException:
        for future in futures:
            future.cancel()
        raise
    finally:
        if close is not None:
            close()


# --------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------


def main(argv: Optional[Sequence[str]] = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m kmtalk.batch",
        description="Animate a folder or a manifest (CSV/JSONL: input, output, format, fps, nonfinite, "
                    "extended_shapes) of audio files. Skips outputs that exist; a rerun after a crash "
                    "does only what is missing.")
    parser.add_argument("inputs", help="a folder (searched recursively for audio files) or a .csv/.jsonl manifest")
    parser.add_argument("-o", "--out-dir", help="output folder (mirrors the input folder's tree)")
    parser.add_argument("-f", "--format", default="json", help="json, csv, livelink, npy, glb, glb-sparse, "
                        "cues-tsv, cues-json, cues-xml, cues-dat, phones (default json)")
    parser.add_argument("-m", "--model", help="model path (default: $KMTALK_MODEL or the repository's)")
    parser.add_argument("--rig", help="rig for GLB output")
    parser.add_argument("-w", "--workers", type=int, default=None, help="local worker processes (default: CPUs)")
    parser.add_argument("--scheduler", help="Dask scheduler address (tcp://host:8786) instead of local workers")
    parser.add_argument("--fps", type=float, help="output frame rate (default: the model's)")
    parser.add_argument("--threads", type=int, default=1, help="compute threads per session (default 1)")
    parser.add_argument("--overwrite", action="store_true", help="redo outputs that exist")
    parser.add_argument("--report", help="write one JSON line per file here")
    parser.add_argument("--quiet", action="store_true", help="no progress line")
    args = parser.parse_args(argv)

    try:
        summary = animate_many(args.inputs, args.out_dir, format=args.format, model=args.model, rig=args.rig,
                               workers=args.workers, executor=args.scheduler, fps=args.fps, threads=args.threads,
                               overwrite=args.overwrite, report=args.report,
                               progress_line=False if args.quiet else None)
    except KeyboardInterrupt:
        print("\nbatch: interrupted; rerun to finish the rest", file=sys.stderr)
        return 130
    except (ValueError, FileNotFoundError) as error:
        print(f"batch: {error}", file=sys.stderr)
        return 2
    for failure in summary.failures[:20]:
        detail = failure.error or ""
        print(f"FAILED {detail if detail.startswith(failure.input) else failure.input + ': ' + detail}",
              file=sys.stderr)
    if summary.failed > 20:
        print(f"... and {summary.failed - 20} more failures" + (f" (see {args.report})" if args.report else ""),
              file=sys.stderr)
    print(summary)
    return 1 if summary.failed else 0


if __name__ == "__main__":
    sys.exit(main())
