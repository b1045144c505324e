#!/usr/bin/env python3
"""The bad-input table: every case of bad input the C API must refuse, run through the
low-level ctypes layer (kmtalk._lib, one-to-one with include/kmtalk.h), with the status
each call returns and the message kmt_last_error() gives.

The table is committed as docs/bad-input.md. The test below regenerates it and fails when
it differs from the committed file (printing a unified diff). It also checks each case on
its own: the status is the one the case declares (mostly what kmtalk.h documents), no case
that expects an error gets KMT_OK, no error message is empty, nothing is KMT_ERR_INTERNAL,
handle out-parameters are NULL after a failure, and the calls that must return at once
(FIFOs, sparse files, huge sizes) do.

Regenerate the document after a deliberate change of a status or message:

    KMTALK_LIBRARY=$PWD/.build/debug/libKMTalk.so \\
        .venv-test/bin/python bindings/python/tests/test_bad_input.py --update

Without --update the script only compares (exit status 1 on a difference).

Messages are normalised so that the document is stable: the temporary directory becomes
$TMP, the repository root $REPO; newlines are folded and `|` escaped for markdown.
"""

from __future__ import annotations

import argparse
import ctypes
import difflib
import json
import math
import os
import re
import shutil
import struct
import sys
import tempfile
import threading
import time
from ctypes import POINTER, byref, c_char_p, c_double, c_float, c_int16, c_int32, c_size_t, c_uint64
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import numpy as np

from kmtalk import _lib as L

REPO_ROOT = Path(__file__).resolve().parents[3]
DOC = REPO_ROOT / "docs" / "bad-input.md"
TINY_MODEL = REPO_ROOT / "models" / "kmtalk-tiny-random.safetensors"
HEAD_RIG = REPO_ROOT / "models" / "kmtalk-head.rig.safetensors"
VERTICES_MODEL = REPO_ROOT / "Tests" / "KMTalkEngineTests" / "Fixtures" / "kmtalk-vertices.safetensors"

SIZE_MAX = ctypes.c_size_t(-1).value
GIB = 1 << 30
#: Sentinel written into handle out-parameters before a call: a failing call must NULL it.
SENTINEL = 0xBADC0FFEE

STATUS_NAMES = {getattr(L, name): name for name in dir(L)
                if name == "KMT_OK" or name.startswith("KMT_ERR_")}

# Expected outcomes (status names, or the value of a call that returns no status).
OK = "KMT_OK"
ARG = "KMT_ERR_INVALID_ARGUMENT"
IO = "KMT_ERR_IO"
FORMAT = "KMT_ERR_UNSUPPORTED_FORMAT"
AUDIO = "KMT_ERR_INVALID_AUDIO"
MODEL = "KMT_ERR_CORRUPT_MODEL"
INCOMPATIBLE = "KMT_ERR_INCOMPATIBLE_MODEL"
OOM = "KMT_ERR_OUT_OF_MEMORY"
SMALL = "KMT_ERR_BUFFER_TOO_SMALL"
RIG = "KMT_ERR_CORRUPT_RIG"
# What a call that returns no status gives (every per-object getter returns a status since
# the one getter convention; only kmt_version/kmt_status_string/kmt_last_error return
# values): never expected by a case, reported when a call returns no status.
RETURNS_NULL = "returns NULL"
RETURNS_MINUS_ONE = "returns -1"


# --------------------------------------------------------------------------
# Files: safetensors, WAV
# --------------------------------------------------------------------------

def st_split(data: bytes) -> Tuple[dict, bytes]:
    """A safetensors file as (header dict, data section)."""
    (length,) = struct.unpack("<Q", data[:8])
    return json.loads(data[8:8 + length]), data[8 + length:]


def st_join(header: Any, body: bytes) -> bytes:
    """A safetensors file from a header (dict, or raw JSON text) and a data section."""
    text = header if isinstance(header, (str, bytes)) else json.dumps(header, separators=(",", ":"))
    raw = text.encode() if isinstance(text, str) else text
    raw += b" " * (-len(raw) % 8)
    return struct.pack("<Q", len(raw)) + raw + body


def st_edit(data: bytes, edit: Callable[[dict], Any]) -> bytes:
    header, body = st_split(data)
    edit(header)
    return st_join(header, body)


def st_config_edit(data: bytes, edit: Callable[[dict], Any]) -> bytes:
    def apply(header: dict) -> None:
        config = json.loads(header["__metadata__"]["config"])
        edit(config)
        header["__metadata__"]["config"] = json.dumps(config)
    return st_edit(data, apply)


def st_map_tensors(data: bytes, change: Callable[[str, np.ndarray], Optional[np.ndarray]]) -> bytes:
    """Rewrites the F32 tensors' values: change(name, array) returns the new array (same
    shape) or None to keep it."""
    header, body = st_split(data)
    out = bytearray(body)
    for name, info in header.items():
        if name == "__metadata__" or info["dtype"] != "F32":
            continue
        start, end = info["data_offsets"]
        array = np.frombuffer(body[start:end], "<f4").reshape(info["shape"]).copy()
        changed = change(name, array)
        if changed is not None:
            out[start:end] = np.asarray(changed, "<f4").tobytes()
    return st_join(header, bytes(out))


def tiny_rig(**changes: Any) -> bytes:
    """A minimal valid rig (3 vertices, 1 triangle, 1 shape "jawOpen"), with metadata or
    tensors replaced by `changes` (a tensor as (dtype, shape, bytes); None drops it)."""
    metadata = {"format": "kmtalk-rig", "format_version": "1", "channels": '["jawOpen"]',
                "units": "m", "up_axis": "+y", "forward_axis": "+z"}
    tensors = {
        "vertices": ("F32", [3, 3], np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0]], "<f4").tobytes()),
        "faces": ("I32", [1, 3], np.array([[0, 1, 2]], "<i4").tobytes()),
        "deltas": ("F32", [1, 3, 3], np.full((1, 3, 3), 0.01, "<f4").tobytes()),
    }
    for key, value in changes.items():
        target = tensors if key in ("vertices", "faces", "deltas", "uvs", "normals") else metadata
        if value is None:
            target.pop(key, None)
        else:
            target[key] = value
    header: Dict[str, Any] = {"__metadata__": metadata}
    body = b""
    for name, (dtype, shape, raw) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(body), len(body) + len(raw)]}
        body += raw
    return st_join(header, body)


def speech(seconds: float, rate: int = 16000) -> np.ndarray:
    """A deterministic speech-like test signal (as conftest.signal), float32 mono."""
    t = np.arange(int(seconds * rate)) / float(rate)
    tone = 0.25 * np.sin(2 * np.pi * 220.0 * t)
    chirp = 0.2 * np.sin(2 * np.pi * (300.0 + 400.0 * t) * t) * (0.5 + 0.5 * np.sin(2 * np.pi * 3.0 * t))
    return (tone + chirp + 0.1 * np.sin(2 * np.pi * 90.0 * t)).astype(np.float32)


def wav_bytes(samples: np.ndarray, rate: int, channels: int = 1, float32: bool = False,
              claim_data: Optional[int] = None, header_channels: Optional[int] = None) -> bytes:
    """A RIFF/WAVE file written by hand (16-bit PCM or 32-bit float), so that impossible
    headers can be written: `claim_data` overrides the data chunk's size, `header_channels`
    the channel count in the fmt chunk."""
    if float32:
        data = np.asarray(samples, "<f4").tobytes()
        tag, bits = 3, 32
    else:
        data = np.clip(np.round(np.asarray(samples) * 32767.0), -32768, 32767).astype("<i2").tobytes()
        tag, bits = 1, 16
    nch = channels if header_channels is None else header_channels
    block = max(nch, 1) * bits // 8
    fmt = struct.pack("<HHIIHH", tag, nch, rate, rate * block, block, bits)
    size = len(data) if claim_data is None else claim_data
    chunks = b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", size) + data
    return b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WAVE" + chunks


def random_bytes(size: int, seed: int) -> bytes:
    return np.random.default_rng(seed).integers(0, 256, size, dtype=np.uint8).tobytes()


# --------------------------------------------------------------------------
# The context every case runs in: temporary files and valid objects to misuse
# --------------------------------------------------------------------------

class Context:
    """Valid objects (the tiny model, sessions, an animation, rigs) and the temporary
    directory the cases write their files into."""

    def __init__(self, tmp: Path):
        self.tmp = Path(tmp)
        self.outs: List[Any] = []
        self.values: List[Tuple[Any, int]] = []
        self._owned: List[Tuple[Callable, Any]] = []
        self.model_bytes = TINY_MODEL.read_bytes()
        self.rig_bytes = HEAD_RIG.read_bytes()
        self.model = self._make(L.kmt_model_free, L.kmt_model_load_file, str(TINY_MODEL).encode(), None)
        self.session = self.new_session()
        self.pcm = speech(1.0)
        self.anim = self.animate(self.session, self.pcm)
        self.rig = self._make(L.kmt_rig_free, L.kmt_rig_load_file, str(HEAD_RIG).encode())
        self.small_rig = self._make(L.kmt_rig_free, lambda *a: L.kmt_rig_load_memory(*a),
                                    *self.buffer(tiny_rig()))
        self.odd_rig = self._make(L.kmt_rig_free, lambda *a: L.kmt_rig_load_memory(*a),
                                  *self.buffer(tiny_rig(channels='["notAChannel"]')))
        self.clear_buffer = ctypes.create_string_buffer(64)
        fractional = initialized(L.kmt_session_params, L.kmt_session_params_init)
        fractional.n_threads = 1
        fractional.output_fps = 29.97
        self.anim_29_97 = self.animate(self.new_session(fractional), self.pcm)
        self.vertices_model = self._make(L.kmt_model_free, L.kmt_model_load_file,
                                         str(VERTICES_MODEL).encode(), None)
        self.vertices_anim = self.animate(self.new_session(model=self.vertices_model), self.pcm)
        self.audio = self._make(L.kmt_audio_free, L.kmt_audio_load_memory,
                                *self.buffer(wav_bytes(speech(0.1), 16000)), None)
        self.vertex_count = got(L.kmt_rig_vertex_count, self.rig)
        self.channel_count = got(L.kmt_animation_channel_count, self.anim)
        self.frame_count = got(L.kmt_animation_frame_count, self.anim)
        self.model_channel_count = got(L.kmt_model_channel_count, self.model)
        self.shape_count = got(L.kmt_rig_shape_count, self.rig)

    # -- object helpers ---------------------------------------------------------------
    def _make(self, free: Callable, create: Callable, *args: Any) -> Any:
        handle = ctypes.c_void_p()
        status = create(*args, byref(handle))
        if status != L.KMT_OK:
            raise RuntimeError(f"setup failed: {create.__name__}: {STATUS_NAMES.get(status)}: "
                               f"{L.kmt_last_error().decode(errors='replace')}")
        self._owned.append((free, handle))
        return handle

    def new_session(self, params: Any = None, model: Any = None) -> Any:
        if params is None:
            params = initialized(L.kmt_session_params, L.kmt_session_params_init)
            params.n_threads = 1
        return self._make(L.kmt_session_free, L.kmt_session_create, model or self.model, byref(params))

    def animate(self, session: Any, pcm: np.ndarray) -> Any:
        return self._make(L.kmt_animation_free, L.kmt_animate_pcm, session, floats(pcm), len(pcm), 16000, 1)

    def buffer(self, data: bytes) -> Tuple[Any, int]:
        """(pointer, size) of a copy of `data` that lives as long as the context."""
        raw = ctypes.create_string_buffer(data, len(data))
        self._owned.append((lambda _: None, raw))
        return ctypes.cast(raw, ctypes.c_void_p), len(data)

    def out(self) -> Any:
        """A handle out-parameter preset to a sentinel; checked to be NULL after a failure."""
        handle = ctypes.c_void_p(SENTINEL)
        self.outs.append(handle)
        return byref(handle)

    def value_out(self, ctype: Any) -> Any:
        """A getter's out-parameter of `ctype` (a number or a pointer) preset to a sentinel;
        checked to be 0 / NULL after a failure (kmtalk.h: "set to 0 or NULL first")."""
        raw = ctypes.c_uint64(SENTINEL)  # 8 bytes hold every getter's out type
        self.values.append((raw, ctypes.sizeof(ctype)))
        return ctypes.cast(ctypes.pointer(raw), POINTER(ctype))

    # -- file helpers -----------------------------------------------------------------
    def path(self, name: str) -> bytes:
        return str(self.tmp / name).encode()

    def file(self, name: str, data: bytes) -> bytes:
        (self.tmp / name).write_bytes(data)
        return self.path(name)

    def dir(self, name: str) -> bytes:
        (self.tmp / name).mkdir(exist_ok=True)
        return self.path(name)

    def sparse(self, name: str, size: int) -> bytes:
        with open(self.tmp / name, "wb") as handle:
            handle.truncate(size)
        return self.path(name)

    def fifo(self, name: str) -> bytes:
        path = self.tmp / name
        if not path.exists():
            os.mkfifo(path)
        return self.path(name)

    def close(self) -> None:
        for free, handle in reversed(self._owned):
            free(handle)
        self._owned.clear()


def got(getter: Callable[..., int], *args: Any, ctype: Any = c_size_t) -> Any:
    """The value a getter writes into its out-parameter (kmt_status plus out-parameter),
    for setting up the context."""
    out = ctype()
    status = getter(*args, byref(out))
    if status != L.KMT_OK:
        raise RuntimeError(f"setup failed: {getter.__name__}: {STATUS_NAMES.get(status)}: "
                           f"{L.kmt_last_error().decode(errors='replace')}")
    return out.value


def initialized(struct_type: Any, init: Callable[[Any, int], int]) -> Any:
    """A parameter struct set up by its kmt_*_params_init function, as hosts do."""
    params = struct_type()
    assert init(byref(params), ctypes.sizeof(struct_type)) == L.KMT_OK
    return params


def floats(array: np.ndarray) -> Any:
    return np.ascontiguousarray(array, np.float32).ctypes.data_as(POINTER(c_float))


class FifoWatchdog:
    """Unblocks a call that (wrongly) blocks opening or reading a FIFO: after `delay`
    seconds it opens the FIFO for writing and closes it, so a reader sees end of file and
    the test fails on time instead of hanging."""

    def __init__(self, path: bytes, delay: float = 5.0):
        self.path, self.delay = path, delay
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        if self.done.wait(self.delay):
            return
        while not self.done.is_set():
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_NONBLOCK)
            except OSError:
                time.sleep(0.05)  # no reader yet
                continue
            os.close(fd)
            self.done.wait(0.2)

    def __enter__(self) -> "FifoWatchdog":
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.done.set()
        self.thread.join()


# --------------------------------------------------------------------------
# The cases
# --------------------------------------------------------------------------

@dataclass
class Case:
    call: str
    case: str
    expect: str
    run: Callable[[Context], Any]
    #: Calls that must return at once (no read of a FIFO or of gigabytes, no huge loop).
    max_seconds: float = 10.0
    #: Where the outcome departs from kmtalk.h or looks wrong: listed under the table.
    note: str = ""
    #: (regex, replacement) for a part of the message that is not deterministic.
    scrub: Optional[Tuple[str, str]] = None


def build_cases() -> List[Case]:
    cases: List[Case] = []

    def case(call: str, description: str, expect: str, max_seconds: float = 10.0):
        def register(run: Callable[[Context], Any]) -> Callable[[Context], Any]:
            cases.append(Case(call, description, expect, run, max_seconds))
            return run
        return register

    def add(call: str, description: str, expect: str, run: Callable[[Context], Any], max_seconds: float = 10.0,
            **extra: Any) -> None:
        cases.append(Case(call, description, expect, run, max_seconds, **extra))

    def getters(kind: str, attribute: str, table: List[Tuple[str, Tuple[int, ...], str, Any]]) -> None:
        """Each getter of a kind of object (name, index arguments, out-parameter, its ctype):
        a NULL object and a NULL out-parameter (kmt_status plus out-parameter, kmtalk.h's
        one rule for reading values)."""
        for name, index, out_name, ctype in table:
            function = getattr(L, name)
            add(name, f"{kind} NULL", ARG, lambda c, f=function, i=index, t=ctype: f(None, *i, c.value_out(t)))
            add(name, f"{out_name} NULL", ARG, lambda c, f=function, i=index, a=attribute: f(getattr(c, a), *i, None))


    # ---- models: arguments ------------------------------------------------------------
    load = L.kmt_model_load_file
    add("kmt_model_load_file", "path NULL", ARG, lambda c: load(None, None, c.out()))
    add("kmt_model_load_file", "out_model NULL", ARG, lambda c: load(str(TINY_MODEL).encode(), None, None))
    add("kmt_model_load_file", "empty path \"\"", ARG, lambda c: load(b"", None, c.out()))

    def params(**fields: int) -> Callable[[Context], Any]:
        def run(c: Context) -> Any:
            p = initialized(L.kmt_model_params, L.kmt_model_params_init)
            for key, value in fields.items():
                setattr(p, key, value)
            return load(str(TINY_MODEL).encode(), byref(p), c.out())
        return run

    add("kmt_model_load_file", "params.struct_size 0", ARG, params(struct_size=0))
    add("kmt_model_load_file", "params.struct_size 4 (smaller than the first fields)", ARG, params(struct_size=4))
    add("kmt_model_load_file", "params.flags 1 (reserved flags must be 0)", ARG, params(flags=1))
    add("kmt_model_load_file", "params.reserved 7 (must be 0)", ARG, params(reserved=7))

    loadm = L.kmt_model_load_memory
    add("kmt_model_load_memory", "data NULL, size 100", ARG, lambda c: loadm(None, 100, None, c.out()))
    add("kmt_model_load_memory", "out_model NULL", ARG, lambda c: loadm(*c.buffer(c.model_bytes), None, None))
    add("kmt_model_load_memory", "size 0 (data not NULL)", MODEL, lambda c: loadm(c.buffer(b"x")[0], 0, None, c.out()))
    add("kmt_model_load_memory", "data NULL, size 0", ARG, lambda c: loadm(None, 0, None, c.out()))
    add("kmt_model_load_memory", "4096 random bytes", MODEL, lambda c: loadm(*c.buffer(random_bytes(4096, 1)), None, c.out()))
    add("kmt_model_load_memory", "first half of the tiny model", MODEL,
        lambda c: loadm(*c.buffer(c.model_bytes[: len(c.model_bytes) // 2]), None, c.out()))
    add("kmt_model_load_memory", "the head rig given as a model", FORMAT,
        lambda c: loadm(*c.buffer(c.rig_bytes), None, c.out()))

    @case("kmt_model_load_memory", "params.struct_size 0", ARG)
    def _(c: Context) -> Any:
        p = initialized(L.kmt_model_params, L.kmt_model_params_init)
        p.struct_size = 0
        return loadm(*c.buffer(c.model_bytes), byref(p), c.out())

    # ---- models: files ----------------------------------------------------------------
    def load_file(make: Callable[[Context], bytes]) -> Callable[[Context], Any]:
        return lambda c: load(make(c), None, c.out())

    def load_bytes(name: str, data: Callable[[Context], bytes]) -> Callable[[Context], Any]:
        return lambda c: load(c.file(name, data(c)), None, c.out())

    add("kmt_model_load_file", "missing file", IO, load_file(lambda c: c.path("missing.safetensors")))
    add("kmt_model_load_file", "a directory", IO, load_file(lambda c: c.dir("model-dir.safetensors")))

    @case("kmt_model_load_file", "a FIFO (must not block)", IO, max_seconds=2.0)
    def _(c: Context) -> Any:
        path = c.fifo("model.fifo")
        with FifoWatchdog(path):
            return load(path, None, c.out())

    add("kmt_model_load_file", "/dev/zero (character device)", IO, lambda c: load(b"/dev/zero", None, c.out()), 2.0)
    add("kmt_model_load_file", "/dev/null (empty character device)", IO, lambda c: load(b"/dev/null", None, c.out()), 2.0)
    add("kmt_model_load_file", "empty file", MODEL, load_bytes("empty.safetensors", lambda c: b""))
    add("kmt_model_load_file", "7 bytes (shorter than the length prefix)", MODEL,
        load_bytes("seven.safetensors", lambda c: b"\x10\x00\x00\x00\x00\x00\x00"))
    add("kmt_model_load_file", "header length 1000 in a 16-byte file", MODEL,
        load_bytes("short-header.safetensors", lambda c: struct.pack("<Q", 1000) + b"{}      "))
    add("kmt_model_load_file", "header length 2^63", MODEL,
        load_bytes("huge-header.safetensors", lambda c: struct.pack("<Q", 1 << 63) + b"{}      "), 2.0)
    add("kmt_model_load_file", "header length 0", MODEL,
        load_bytes("zero-header.safetensors", lambda c: struct.pack("<Q", 0) + b"\0" * 8))
    add("kmt_model_load_file", "header not JSON", MODEL,
        load_bytes("not-json.safetensors", lambda c: st_join("this is not JSON", b"")))
    add("kmt_model_load_file", "header JSON not an object (array)", MODEL,
        load_bytes("array.safetensors", lambda c: st_join("[1, 2, 3]", b"")))
    add("kmt_model_load_file", "header not UTF-8", MODEL,
        load_bytes("latin1.safetensors", lambda c: st_join(b'{"\xff\xfe": 1}', b"")))
    add("kmt_model_load_file", "2 GiB sparse file of zeros (must be refused at once)", MODEL,
        lambda c: load(c.sparse("zeros-2g.safetensors", 2 * GIB), None, c.out()), 2.0)
    add("kmt_model_load_file", "sparse file of 4 GiB + 1 byte", OOM,
        lambda c: load(c.sparse("zeros-4g.safetensors", 4 * GIB + 1), None, c.out()), 2.0)

    def model_file(name: str, make: Callable[[bytes], bytes]) -> Callable[[Context], Any]:
        return lambda c: load(c.file(name, make(c.model_bytes)), None, c.out())

    def set_tensor(name: str, **fields: Any) -> Callable[[bytes], bytes]:
        return lambda data: st_edit(data, lambda h: h[name].update(fields))

    add("kmt_model_load_file", "tensor data_offsets past the end of the file", MODEL,
        model_file("offsets-past-end.safetensors", set_tensor("head.bias", data_offsets=[103168, 10 ** 9])))
    add("kmt_model_load_file", "tensor data_offsets reversed (end < start)", MODEL,
        model_file("offsets-reversed.safetensors", set_tensor("head.bias", data_offsets=[103376, 103168])))
    add("kmt_model_load_file", "tensor shape disagrees with its data_offsets", MODEL,
        model_file("shape-mismatch.safetensors", set_tensor("head.bias", shape=[53])))
    add("kmt_model_load_file", "unknown dtype \"Q7\"", MODEL,
        model_file("dtype.safetensors", set_tensor("head.bias", dtype="Q7")))
    add("kmt_model_load_file", "required tensor missing (head.weight)", MODEL,
        model_file("no-head.safetensors", lambda d: st_edit(d, lambda h: h.pop("head.weight"))))
    add("kmt_model_load_file", "tensor of the wrong shape (head.weight [32, 52])", MODEL,
        model_file("head-transposed.safetensors", set_tensor("head.weight", shape=[32, 52])))
    add("kmt_model_load_file", "no __metadata__", FORMAT,
        model_file("no-metadata.safetensors", lambda d: st_edit(d, lambda h: h.pop("__metadata__"))))
    add("kmt_model_load_file", "__metadata__ without config", MODEL,
        model_file("no-config.safetensors", lambda d: st_edit(d, lambda h: h["__metadata__"].pop("config"))))
    add("kmt_model_load_file", "config JSON malformed", MODEL,
        model_file("bad-config.safetensors", lambda d: st_edit(d, lambda h: h["__metadata__"].update(config='{"frontend": '))))
    add("kmt_model_load_file", "config: encoder.heads 0", MODEL,
        model_file("zero-heads.safetensors", lambda d: st_config_edit(d, lambda cfg: cfg["encoder"].update(heads=0))))
    add("kmt_model_load_file", "config: unknown activation", MODEL,
        model_file("activation.safetensors",
                   lambda d: st_config_edit(d, lambda cfg: cfg["encoder"].update(activation="swish3"))))
    add("kmt_model_load_file", "format \"pytorch\" (not a KMTalk file)", FORMAT,
        model_file("format.safetensors", lambda d: st_edit(d, lambda h: h["__metadata__"].update(format="pytorch"))),)
    add("kmt_model_load_file", "format_version 99", INCOMPATIBLE,
        model_file("version.safetensors", lambda d: st_edit(d, lambda h: h["__metadata__"].update(format_version="99"))))
    add("kmt_model_load_file", "unknown architecture \"kmtalk-v9\"", INCOMPATIBLE,
        model_file("arch.safetensors",
                   lambda d: st_edit(d, lambda h: h["__metadata__"].update(architecture="kmtalk-v9"))))
    add("kmt_model_load_file", "every weight 3e38 (overflows when run)", MODEL,
        model_file("huge-weights.safetensors", lambda d: st_map_tensors(d, lambda n, a: np.full_like(a, 3e38))))
    add("kmt_model_load_file", "every weight 3e38, one 3.3e38 in head.weight", MODEL,
        model_file("huge-weights-max.safetensors", lambda d: st_map_tensors(
            d, lambda n, a: np.where(np.arange(a.size).reshape(a.shape) == (5 if n == "head.weight" else -1),
                                     3.3e38, 3e38))))

    def one_value(value: float) -> Callable[[bytes], bytes]:
        def change(name: str, array: np.ndarray) -> Optional[np.ndarray]:
            if name != "encoder.conv.0.weight":
                return None
            array.flat[7] = value
            return array
        return lambda d: st_map_tensors(d, change)

    add("kmt_model_load_file", "one NaN weight", MODEL, model_file("nan-weight.safetensors", one_value(math.nan)))
    add("kmt_model_load_file", "one +Inf weight", MODEL, model_file("inf-weight.safetensors", one_value(math.inf)))
    add("kmt_model_load_file", "the tiny model truncated by 100 bytes", MODEL,
        model_file("truncated.safetensors", lambda d: d[:-100]))
    add("kmt_model_load_file", "the tiny model cut inside its header", MODEL,
        model_file("cut-header.safetensors", lambda d: d[:1000]))
    add("kmt_model_load_file", "the head rig given as a model", FORMAT, lambda c: load(str(HEAD_RIG).encode(), None, c.out()),)

    # ---- models: queries --------------------------------------------------------------
    meta = L.kmt_model_metadata
    length = lambda: byref(c_size_t())  # noqa: E731
    add("kmt_model_metadata", "model NULL", ARG, lambda c: meta(None, b"seed", None, 0, length()))
    add("kmt_model_metadata", "key NULL", ARG, lambda c: meta(c.model, None, None, 0, length()))
    add("kmt_model_metadata", "missing key", ARG, lambda c: meta(c.model, b"no-such-key", None, 0, length()))
    add("kmt_model_metadata", "buffer NULL with buffer_size 64", ARG, lambda c: meta(c.model, b"seed", None, 64, length()))
    add("kmt_model_metadata", "buffer of 2 bytes for \"1234\"", SMALL,
        lambda c: meta(c.model, b"seed", ctypes.create_string_buffer(2), 2, length()))
    add("kmt_model_metadata", "buffer of 4 bytes for \"1234\" (no room for the NUL)", SMALL,
        lambda c: meta(c.model, b"seed", ctypes.create_string_buffer(4), 4, length()))
    getters("model", "model", [
        ("kmt_model_architecture", (), "out_name", c_char_p),
        ("kmt_model_motion_space", (), "out_space", c_char_p),
        ("kmt_model_sample_rate", (), "out_rate", c_int32),
        ("kmt_model_fps", (), "out_fps", c_double),
        ("kmt_model_channel_count", (), "out_count", c_size_t),
        ("kmt_model_channel_name", (0,), "out_name", c_char_p),
        ("kmt_model_parameter_count", (), "out_count", c_uint64),
    ])
    add("kmt_model_channel_name", "index = channel count", ARG,
        lambda c: L.kmt_model_channel_name(c.model, c.model_channel_count, c.value_out(c_char_p)))
    add("kmt_model_channel_name", "index SIZE_MAX", ARG,
        lambda c: L.kmt_model_channel_name(c.model, SIZE_MAX, c.value_out(c_char_p)))

    # ---- sessions ---------------------------------------------------------------------
    create = L.kmt_session_create
    add("kmt_session_create", "model NULL", ARG, lambda c: create(None, None, c.out()))
    add("kmt_session_create", "out_session NULL", ARG, lambda c: create(c.model, None, None))

    def session_params(**fields: Any) -> Callable[[Context], Any]:
        def run(c: Context) -> Any:
            p = initialized(L.kmt_session_params, L.kmt_session_params_init)
            for key, value in fields.items():
                setattr(p, key, value)
            return create(c.model, byref(p), c.out())
        return run

    add("kmt_session_create", "params.struct_size 0", ARG, session_params(struct_size=0))
    add("kmt_session_create", "params.output_fps -25", ARG, session_params(output_fps=-25.0))
    add("kmt_session_create", "params.output_fps 1000", ARG, session_params(output_fps=1000.0))
    add("kmt_session_create", "params.output_fps 240.5", ARG, session_params(output_fps=240.5))
    add("kmt_session_create", "params.output_fps 0.5", ARG, session_params(output_fps=0.5))
    add("kmt_session_create", "params.output_fps NaN", ARG, session_params(output_fps=math.nan))
    add("kmt_session_create", "params.n_threads -1", ARG, session_params(n_threads=-1))
    add("kmt_session_create", "params.nonfinite_policy 7 (unknown)", ARG, session_params(nonfinite_policy=7))
    add("kmt_session_create", "params.latency_ms 5 (below 20 ms)", ARG, session_params(latency_ms=5.0))
    add("kmt_session_create", "params.latency_ms -2 (neither 0 nor KMT_LATENCY_EXACT)", ARG, session_params(latency_ms=-2.0))
    add("kmt_session_create", "params.latency_ms NaN", ARG, session_params(latency_ms=math.nan))
    add("kmt_session_create", "params.latency_ms inf", ARG, session_params(latency_ms=math.inf))
    add("kmt_session_create", "params.struct_size 36 (inside the progress pointer)", ARG,
        session_params(struct_size=36))

    # ---- offline animation: arguments -------------------------------------------------
    afile = L.kmt_animate_file
    wav = lambda c: c.file("ok.wav", wav_bytes(speech(0.5), 16000))  # noqa: E731
    add("kmt_animate_file", "session NULL", ARG, lambda c: afile(None, wav(c), c.out()))
    add("kmt_animate_file", "path NULL", ARG, lambda c: afile(c.session, None, c.out()))
    add("kmt_animate_file", "out_animation NULL", ARG, lambda c: afile(c.session, wav(c), None))

    # ---- offline animation: files -----------------------------------------------------
    def audio_file(name: str, data: Callable[[], bytes]) -> Callable[[Context], Any]:
        return lambda c: afile(c.session, c.file(name, data()), c.out())

    add("kmt_animate_file", "missing file", IO, lambda c: afile(c.session, c.path("missing.wav"), c.out()))
    add("kmt_animate_file", "empty path \"\"", ARG, lambda c: afile(c.session, b"", c.out()))
    add("kmt_animate_file", "a directory", IO, lambda c: afile(c.session, c.dir("audio-dir.wav"), c.out()))

    @case("kmt_animate_file", "a FIFO (must not block)", IO, max_seconds=2.0)
    def _(c: Context) -> Any:
        path = c.fifo("audio.fifo.wav")
        with FifoWatchdog(path):
            return afile(c.session, path, c.out())

    add("kmt_animate_file", "/dev/zero (character device)", IO, lambda c: afile(c.session, b"/dev/zero", c.out()), 2.0)
    add("kmt_animate_file", "empty file .wav", AUDIO, audio_file("empty.wav", lambda: b""))
    add("kmt_animate_file", "plain text renamed .wav", FORMAT,
        audio_file("notes.wav", lambda: b"this is plain text, not RIFF audio\n" * 20))
    add("kmt_animate_file", "WAV cut inside its header (20 bytes)", FORMAT,
        audio_file("cut-header.wav", lambda: wav_bytes(speech(0.5), 16000)[:20]))
    add("kmt_animate_file", "WAV whose data chunk claims 10x the bytes present", AUDIO,
        audio_file("short-data.wav", lambda: wav_bytes(speech(0.5), 16000, claim_data=160000)))
    add("kmt_animate_file", "WAV at 4000 Hz", AUDIO, audio_file("rate4000.wav", lambda: wav_bytes(speech(0.5, 4000), 4000)))
    add("kmt_animate_file", "WAV at 400000 Hz", AUDIO,
        audio_file("rate400k.wav", lambda: wav_bytes(speech(0.1, 400000), 400000)))
    add("kmt_animate_file", "WAV with 0 channels in its header", FORMAT,
        audio_file("zero-channels.wav", lambda: wav_bytes(speech(0.5), 16000, header_channels=0)))
    add("kmt_animate_file", "WAV with 0 frames", AUDIO, audio_file("no-frames.wav", lambda: wav_bytes(np.zeros(0), 16000)))

    def float_wav(value: float) -> Callable[[], bytes]:
        def make() -> bytes:
            samples = speech(0.5)
            samples[1000] = value
            return wav_bytes(samples, 16000, float32=True)
        return make

    add("kmt_animate_file", "float WAV with a NaN sample", AUDIO, audio_file("nan.wav", float_wav(math.nan)))
    add("kmt_animate_file", "float WAV with a +Inf sample", AUDIO, audio_file("inf.wav", float_wav(math.inf)))
    add("kmt_animate_file", "float WAV with a sample of 1e6", AUDIO, audio_file("loud.wav", float_wav(1e6)))
    add("kmt_animate_file", "4096 random bytes named .flac", FORMAT, audio_file("random.flac", lambda: random_bytes(4096, 2)))
    add("kmt_animate_file", "4096 random bytes named .ogg", FORMAT, audio_file("random.ogg", lambda: random_bytes(4096, 3)))
    add("kmt_animate_file", "4096 random bytes named .mp3", FORMAT, audio_file("random.mp3", lambda: random_bytes(4096, 4)),
        note="libsndfile's reason is misleading (the file is a regular file), and its MP3 decoder prints "
             "\"Note: Illegal Audio-MPEG-Header ...\" lines on the process's stderr")
    add("kmt_animate_file", "4096 random bytes named .xyz", FORMAT, audio_file("random.xyz", lambda: random_bytes(4096, 5)))
    add("kmt_animate_file", "the tiny model named .wav", FORMAT, audio_file("model.wav", lambda: TINY_MODEL.read_bytes()))
    add("kmt_animate_file", "2 GiB sparse file of zeros named .wav", FORMAT,
        lambda c: afile(c.session, c.sparse("zeros-2g.wav", 2 * GIB), c.out()), 5.0)

    # ---- offline animation: PCM -------------------------------------------------------
    pcm = L.kmt_animate_pcm

    def animate(frames: Optional[int] = None, rate: int = 16000, channels: int = 1,
                samples: Optional[Callable[[], np.ndarray]] = None, null: bool = False,
                out: bool = True) -> Callable[[Context], Any]:
        def run(c: Context) -> Any:
            data = samples() if samples else c.pcm
            n = len(data) // max(channels, 1) if frames is None else frames
            ptr = None if null else floats(data)
            return pcm(c.session, ptr, n, rate, channels, c.out() if out else None)
        return run

    def with_value(value: float) -> Callable[[], np.ndarray]:
        def make() -> np.ndarray:
            data = speech(0.5)
            data[1234] = value
            return data
        return make

    add("kmt_animate_pcm", "session NULL", ARG, lambda c: pcm(None, floats(c.pcm), len(c.pcm), 16000, 1, c.out()))
    add("kmt_animate_pcm", "samples NULL, frame_count 16000", ARG, animate(frames=16000, null=True))
    add("kmt_animate_pcm", "out_animation NULL", ARG, animate(out=False))
    add("kmt_animate_pcm", "frame_count 0", AUDIO, animate(frames=0))
    add("kmt_animate_pcm", "channels 0", ARG, animate(channels=0))
    add("kmt_animate_pcm", "channels -1", ARG, animate(channels=-1))
    add("kmt_animate_pcm", "channels 2000", ARG, animate(channels=2000, samples=lambda: np.zeros(2000 * 800, np.float32)))
    add("kmt_animate_pcm", "sample_rate 0", AUDIO, animate(rate=0))
    add("kmt_animate_pcm", "sample_rate -16000", AUDIO, animate(rate=-16000))
    add("kmt_animate_pcm", "sample_rate 7999", AUDIO, animate(rate=7999))
    add("kmt_animate_pcm", "sample_rate 192001", AUDIO, animate(rate=192001))
    add("kmt_animate_pcm", "a NaN sample (default policy rejects)", AUDIO, animate(samples=with_value(math.nan)))
    add("kmt_animate_pcm", "a -Inf sample", AUDIO, animate(samples=with_value(-math.inf)))
    add("kmt_animate_pcm", "a sample of 1e6", AUDIO, animate(samples=with_value(1e6)))
    add("kmt_animate_pcm", "frame_count SIZE_MAX", OOM, animate(frames=SIZE_MAX), 2.0)
    add("kmt_animate_pcm", "frame_count x channels overflows size_t", OOM, animate(frames=SIZE_MAX // 2 + 1, channels=2), 2.0)

    # ---- streaming --------------------------------------------------------------------
    push, push16, pull = L.kmt_session_push_f32, L.kmt_session_push_s16, L.kmt_session_pull

    def stream(run: Callable[[Context, Any], Any]) -> Callable[[Context], Any]:
        """Runs `run` on a fresh session (streaming cases change a session's state)."""
        return lambda c: run(c, c.new_session())

    def push_case(frames: Optional[int] = None, rate: int = 16000, channels: int = 1, null: bool = False,
                  samples: Optional[Callable[[], np.ndarray]] = None) -> Callable[[Context], Any]:
        def run(c: Context, s: Any) -> Any:
            data = samples() if samples else c.pcm[:1600]
            n = len(data) // max(channels, 1) if frames is None else frames
            return push(s, None if null else floats(data), n, rate, channels)
        return stream(run)

    def push16_case(frames: Optional[int] = None, rate: int = 16000, channels: int = 1,
                    null: bool = False) -> Callable[[Context], Any]:
        def run(c: Context, s: Any) -> Any:
            data = np.zeros(1600, np.int16)
            n = len(data) // max(channels, 1) if frames is None else frames
            return push16(s, None if null else data.ctypes.data_as(POINTER(c_int16)), n, rate, channels)
        return stream(run)

    add("kmt_session_push_f32", "session NULL", ARG, lambda c: push(None, floats(c.pcm), 160, 16000, 1))
    add("kmt_session_push_f32", "pcm NULL, frames 160", ARG, push_case(frames=160, null=True))
    add("kmt_session_push_f32", "channels 0", ARG, push_case(channels=0))
    add("kmt_session_push_f32", "channels -1", ARG, push_case(channels=-1))
    add("kmt_session_push_f32", "channels 2000", ARG, push_case(channels=2000, samples=lambda: np.zeros(2000 * 80, np.float32)))
    add("kmt_session_push_f32", "sample_rate 0", AUDIO, push_case(rate=0))
    add("kmt_session_push_f32", "sample_rate 7999", AUDIO, push_case(rate=7999))
    add("kmt_session_push_f32", "sample_rate 192001", AUDIO, push_case(rate=192001))
    add("kmt_session_push_f32", "a NaN sample (default policy rejects)", AUDIO,
        push_case(samples=lambda: np.where(np.arange(1600) == 100, np.nan, 0.0).astype(np.float32)))
    add("kmt_session_push_f32", "a sample of 1e6", AUDIO,
        push_case(samples=lambda: np.where(np.arange(1600) == 100, 1e6, 0.0).astype(np.float32)))
    add("kmt_session_push_f32", "frames SIZE_MAX", OOM, push_case(frames=SIZE_MAX), 2.0)
    add("kmt_session_push_f32", "frames x channels overflows size_t", OOM, push_case(frames=SIZE_MAX // 2 + 1, channels=2), 2.0)
    add("kmt_session_push_s16", "session NULL", ARG, lambda c: push16(None, None, 0, 16000, 1))
    add("kmt_session_push_s16", "pcm NULL, frames 160", ARG, push16_case(frames=160, null=True))
    add("kmt_session_push_s16", "channels 0", ARG, push16_case(channels=0))
    add("kmt_session_push_s16", "sample_rate 7999", AUDIO, push16_case(rate=7999))
    add("kmt_session_push_s16", "sample_rate 192001", AUDIO, push16_case(rate=192001))
    add("kmt_session_push_s16", "frames SIZE_MAX", OOM, push16_case(frames=SIZE_MAX), 2.0)

    def then(first: Callable[[Context, Any], Any], second: Callable[[Context, Any], Any]) -> Callable[[Context], Any]:
        def run(c: Context, s: Any) -> Any:
            status = first(c, s)
            if status != L.KMT_OK:
                raise RuntimeError(f"setup step failed: {STATUS_NAMES.get(status)}: {L.kmt_last_error()!r}")
            return second(c, s)
        return stream(run)

    first_push = lambda c, s: push(s, floats(c.pcm), 1600, 16000, 1)  # noqa: E731
    add("kmt_session_push_f32", "sample_rate 44100 after a push at 16000", ARG,
        then(first_push, lambda c, s: push(s, floats(c.pcm), 1600, 44100, 1)))
    add("kmt_session_push_f32", "channels 2 after a push of 1", ARG,
        then(first_push, lambda c, s: push(s, floats(c.pcm), 800, 16000, 2)))
    add("kmt_session_push_s16", "sample_rate 8000 after a push_f32 at 16000", ARG,
        then(first_push, lambda c, s: push16(s, np.zeros(160, np.int16).ctypes.data_as(POINTER(c_int16)), 160, 8000, 1)))

    def flushed(c: Context, s: Any) -> Any:
        status = first_push(c, s)
        return status if status != L.KMT_OK else L.kmt_session_flush(s)

    add("kmt_session_push_f32", "push after flush (no reset)", ARG,
        then(flushed, lambda c, s: push(s, floats(c.pcm), 160, 16000, 1)))

    def pending(c: Context, s: Any) -> Any:
        """A whole second pushed and flushed: frames are pending."""
        status = push(s, floats(c.pcm), len(c.pcm), 16000, 1)
        return status if status != L.KMT_OK else L.kmt_session_flush(s)

    frames_out = lambda: byref(c_size_t())  # noqa: E731
    add("kmt_session_pull", "session NULL", ARG, lambda c: pull(None, None, 0, frames_out(), None))
    add("kmt_session_pull", "out_frames NULL", ARG, stream(lambda c, s: pull(s, (c_float * 52)(), 52, None, None)))
    add("kmt_session_pull", "buffer NULL, buffer_length 52", ARG, stream(lambda c, s: pull(s, None, 52, frames_out(), None)))
    add("kmt_session_pull", "buffer of 51 floats (< one frame) while frames are pending", SMALL,
        then(pending, lambda c, s: pull(s, (c_float * 51)(), 51, frames_out(), byref(c_double()))))
    add("kmt_session_pull", "buffer NULL, length 0 while frames are pending", SMALL,
        then(pending, lambda c, s: pull(s, None, 0, frames_out(), None)))
    add("kmt_session_flush", "session NULL", ARG, lambda c: L.kmt_session_flush(None))
    add("kmt_session_reset", "session NULL", ARG, lambda c: L.kmt_session_reset(None))
    add("kmt_session_pending_frames", "session NULL", ARG, lambda c: L.kmt_session_pending_frames(None, frames_out()))
    add("kmt_session_pending_frames", "out_frames NULL", ARG, stream(lambda c, s: L.kmt_session_pending_frames(s, None)))
    latency = L.kmt_session_set_latency_ms
    add("kmt_session_set_latency_ms", "session NULL", ARG, lambda c: latency(None, 150.0))
    add("kmt_session_set_latency_ms", "-10 ms", ARG, stream(lambda c, s: latency(s, -10.0)))
    add("kmt_session_set_latency_ms", "19 ms (minimum is 20)", ARG, stream(lambda c, s: latency(s, 19.0)))
    add("kmt_session_set_latency_ms", "NaN", ARG, stream(lambda c, s: latency(s, math.nan)))
    add("kmt_session_set_latency_ms", "+Inf", ARG, stream(lambda c, s: latency(s, math.inf)))
    add("kmt_session_set_latency_ms", "after the first push of the utterance", ARG,
        then(first_push, lambda c, s: latency(s, 200.0)))
    getters("session", "session", [
        ("kmt_session_latency_ms", (), "out_ms", c_double),
        ("kmt_session_exact_latency_ms", (), "out_ms", c_double),
        ("kmt_session_output_fps", (), "out_fps", c_double),
    ])

    def full_attention(c: Context) -> Any:
        """A session on the tiny model with encoder.band_back null (cannot stream)."""
        data = st_config_edit(c.model_bytes, lambda cfg: cfg["encoder"].update(band_back=None))
        model = c._make(L.kmt_model_free, L.kmt_model_load_memory, *c.buffer(data), None)
        return c.new_session(model=model)

    add("kmt_session_push_f32", "model with full attention (band_back null)", INCOMPATIBLE,
        lambda c: push(full_attention(c), floats(c.pcm), 160, 16000, 1))
    add("kmt_session_set_latency_ms", "model with full attention (band_back null)", INCOMPATIBLE,
        lambda c: latency(full_attention(c), 200.0))
    add("kmt_session_latency_ms", "model with full attention (band_back null)", INCOMPATIBLE,
        lambda c: L.kmt_session_latency_ms(full_attention(c), c.value_out(c_double)))
    add("kmt_session_exact_latency_ms", "model with full attention (band_back null)", INCOMPATIBLE,
        lambda c: L.kmt_session_exact_latency_ms(full_attention(c), c.value_out(c_double)))

    # ---- many sessions in one push ------------------------------------------------------
    def sessions_push(s16: bool = False, rate: int = 16000, channels: int = 1, null: Tuple[str, ...] = (),
                      twice: bool = False, null_session: Optional[int] = None, null_block: Optional[int] = None,
                      nan_block: Optional[int] = None, frames: Optional[int] = None,
                      first_rate: Optional[int] = None, full_attention_session: Optional[int] = None,
                      statuses: Optional[List[str]] = None) -> Callable[[Context], Any]:
        """kmt_sessions_push_f32 (or _s16) of a 1600-frame block to each of 2 fresh sessions.
        null: the arrays passed as NULL ("sessions", "pcm", "frames"); twice: sessions[0]
        listed twice; null_session / null_block / nan_block: the index of a NULL session, a
        NULL block with frames, a block with a NaN; frames: each block's frame count;
        first_rate: sessions[1] pushed at that rate first; full_attention_session: the index
        of a session on a model that cannot stream. out_statuses must read `statuses`
        (default: every entry the status returned, as for refused arguments); otherwise the
        case returns what it read instead of the status."""
        def run(c: Context) -> Any:
            count = 2
            handles = [c.new_session() for _ in range(count)]
            if twice:
                handles[1] = handles[0]
            if null_session is not None:
                handles[null_session] = None
            if full_attention_session is not None:
                handles[full_attention_session] = full_attention(c)
            if first_rate is not None:
                status = push(handles[1], floats(c.pcm), 441, first_rate, 1)
                if status != L.KMT_OK:
                    raise RuntimeError(f"setup push failed: {STATUS_NAMES.get(status)}: {L.kmt_last_error()!r}")
            element = c_int16 if s16 else c_float
            data = [np.zeros(1600, np.int16) if s16 else c.pcm[:1600].copy() for _ in range(count)]
            if nan_block is not None:
                data[nan_block][100] = np.nan
            blocks = (POINTER(element) * count)(*[d.ctypes.data_as(POINTER(element)) for d in data])
            if null_block is not None:
                blocks[null_block] = POINTER(element)()
            counts = (c_size_t * count)(*[len(d) // max(channels, 1) if frames is None else frames for d in data])
            out = (L.kmt_status * count)(*([-1] * count))
            call = L.kmt_sessions_push_s16 if s16 else L.kmt_sessions_push_f32
            status = call(None if "sessions" in null else (L.kmt_session_p * count)(*handles), count,
                          None if "pcm" in null else blocks, None if "frames" in null else counts,
                          rate, channels, out)
            want = [getattr(L, name) for name in statuses] if statuses else [status] * count
            if list(out) != want:
                return "out_statuses " + ", ".join(STATUS_NAMES.get(v, str(v)) for v in out)
            return status
        return run

    many, many16 = "kmt_sessions_push_f32", "kmt_sessions_push_s16"
    add(many, "sessions NULL, count 2", ARG, sessions_push(null=("sessions",)))
    add(many, "pcm NULL, count 2", ARG, sessions_push(null=("pcm",)))
    add(many, "frames NULL, count 2", ARG, sessions_push(null=("frames",)))
    add(many, "sessions[1] NULL", ARG, sessions_push(null_session=1))
    add(many, "sessions[0] listed twice", ARG, sessions_push(twice=True))
    add(many, "pcm[1] NULL, frames 1600", ARG, sessions_push(null_block=1))
    add(many, "channels 0", ARG, sessions_push(channels=0))
    add(many, "sample_rate 7999", AUDIO, sessions_push(rate=7999))
    add(many, "frames SIZE_MAX", OOM, sessions_push(frames=SIZE_MAX), 2.0)
    add(many, "a NaN in block 1 (block 0 is pushed; out_statuses OK, INVALID_AUDIO)", AUDIO,
        sessions_push(nan_block=1, statuses=[OK, AUDIO]))
    add(many, "sessions[1] at 16000 after a push at 44100 (out_statuses OK, INVALID_ARGUMENT)", ARG,
        sessions_push(first_rate=44100, statuses=[OK, ARG]))
    add(many, "sessions[1] on a model with full attention (band_back null; out_statuses OK, INCOMPATIBLE_MODEL)",
        INCOMPATIBLE, sessions_push(full_attention_session=1, statuses=[OK, INCOMPATIBLE]))
    add(many16, "sessions NULL, count 2", ARG, sessions_push(s16=True, null=("sessions",)))
    add(many16, "sessions[0] listed twice", ARG, sessions_push(s16=True, twice=True))
    add(many16, "pcm[1] NULL, frames 1600", ARG, sessions_push(s16=True, null_block=1))
    add(many16, "sample_rate 192001", AUDIO, sessions_push(s16=True, rate=192001))

    # ---- animations ---------------------------------------------------------------------
    read = L.kmt_animation_read_frames
    written = lambda: byref(c_size_t())  # noqa: E731
    add("kmt_animation_read_frames", "animation NULL", ARG, lambda c: read(None, 0, 1, (c_float * 52)(), 52, written()))
    add("kmt_animation_read_frames", "first_frame = frame count, 1 frame (past the end)", ARG,
        lambda c: read(c.anim, c.frame_count, 1, (c_float * 52)(), 52, written()))
    add("kmt_animation_read_frames", "frames [frame count - 1, +2) (past the end)", ARG,
        lambda c: read(c.anim, c.frame_count - 1, 2, (c_float * 104)(), 104, written()))
    add("kmt_animation_read_frames", "frame_count SIZE_MAX", ARG, lambda c: read(c.anim, 1, SIZE_MAX, (c_float * 52)(), 52, written()))
    add("kmt_animation_read_frames", "first_frame SIZE_MAX - 9 (wraps around)", ARG,
        lambda c: read(c.anim, SIZE_MAX - 9, 10, (c_float * 52)(), 52, written()))
    add("kmt_animation_read_frames", "buffer of 51 floats for one frame of 52", SMALL,
        lambda c: read(c.anim, 0, 1, (c_float * 51)(), 51, written()))
    add("kmt_animation_read_frames", "buffer NULL, buffer_length 52", ARG, lambda c: read(c.anim, 0, 1, None, 52, written()))
    getters("animation", "anim", [
        ("kmt_animation_frame_count", (), "out_count", c_size_t),
        ("kmt_animation_channel_count", (), "out_count", c_size_t),
        ("kmt_animation_fps", (), "out_fps", c_double),
        ("kmt_animation_channel_name", (0,), "out_name", c_char_p),
        ("kmt_animation_vertex_count", (), "out_count", c_size_t),
    ])
    add("kmt_animation_channel_name", "index = channel count", ARG,
        lambda c: L.kmt_animation_channel_name(c.anim, c.channel_count, c.value_out(c_char_p)))
    add("kmt_animation_channel_name", "index SIZE_MAX", ARG,
        lambda c: L.kmt_animation_channel_name(c.anim, SIZE_MAX, c.value_out(c_char_p)))

    # ---- rigs: arguments and files ------------------------------------------------------
    rload, rloadm = L.kmt_rig_load_file, L.kmt_rig_load_memory
    add("kmt_rig_load_file", "path NULL", ARG, lambda c: rload(None, c.out()))
    add("kmt_rig_load_file", "out_rig NULL", ARG, lambda c: rload(str(HEAD_RIG).encode(), None))
    add("kmt_rig_load_file", "empty path \"\"", ARG, lambda c: rload(b"", c.out()))
    add("kmt_rig_load_file", "missing file", IO, lambda c: rload(c.path("missing.rig.safetensors"), c.out()))
    add("kmt_rig_load_file", "a directory", IO, lambda c: rload(c.dir("rig-dir.safetensors"), c.out()))

    @case("kmt_rig_load_file", "a FIFO (must not block)", IO, max_seconds=2.0)
    def _(c: Context) -> Any:
        path = c.fifo("rig.fifo")
        with FifoWatchdog(path):
            return rload(path, c.out())

    add("kmt_rig_load_file", "/dev/zero (character device)", IO, lambda c: rload(b"/dev/zero", c.out()), 2.0)
    add("kmt_rig_load_file", "empty file", RIG, lambda c: rload(c.file("empty.rig.safetensors", b""), c.out()))
    add("kmt_rig_load_file", "7 bytes", RIG, lambda c: rload(c.file("seven.rig.safetensors", b"\x10" + b"\0" * 6), c.out()))
    add("kmt_rig_load_file", "header length 1000 in a 16-byte file", RIG,
        lambda c: rload(c.file("short.rig.safetensors", struct.pack("<Q", 1000) + b"{}      "), c.out()))
    add("kmt_rig_load_file", "header not JSON", RIG,
        lambda c: rload(c.file("not-json.rig.safetensors", st_join("not JSON at all", b"")), c.out()))
    add("kmt_rig_load_file", "2 GiB sparse file of zeros", RIG,
        lambda c: rload(c.sparse("zeros-2g.rig.safetensors", 2 * GIB), c.out()), 2.0)
    add("kmt_rig_load_file", "sparse file of 4 GiB + 1 byte", OOM,
        lambda c: rload(c.sparse("zeros-4g.rig.safetensors", 4 * GIB + 1), c.out()), 2.0)
    add("kmt_rig_load_file", "the tiny model given as a rig", FORMAT, lambda c: rload(str(TINY_MODEL).encode(), c.out()))
    add("kmt_rig_load_file", "the head rig truncated by 1000 bytes", RIG,
        lambda c: rload(c.file("truncated.rig.safetensors", c.rig_bytes[:-1000]), c.out()))

    def rig_case(description: str, expect: str, data: Callable[[Context], bytes]) -> None:
        add("kmt_rig_load_memory", description, expect, lambda c: rloadm(*c.buffer(data(c)), c.out()))

    add("kmt_rig_load_memory", "data NULL, size 100", ARG, lambda c: rloadm(None, 100, c.out()))
    add("kmt_rig_load_memory", "out_rig NULL", ARG, lambda c: rloadm(*c.buffer(tiny_rig()), None))
    add("kmt_rig_load_memory", "size 0 (data not NULL)", RIG, lambda c: rloadm(c.buffer(b"x")[0], 0, c.out()))
    rig_case("4096 random bytes", RIG, lambda c: random_bytes(4096, 6))
    rig_case("7 bytes", RIG, lambda c: b"\x10" + b"\0" * 6)
    rig_case("header length 1000 in 16 bytes", RIG, lambda c: struct.pack("<Q", 1000) + b"{}      ")
    rig_case("header not JSON", RIG, lambda c: st_join("not JSON at all", b""))
    rig_case("header JSON not an object (array)", RIG, lambda c: st_join("[1, 2, 3]", b""))
    rig_case("tensor data_offsets past the end", RIG, lambda c: st_edit(
        tiny_rig(), lambda h: h["deltas"].update(data_offsets=[h["deltas"]["data_offsets"][0], 10 ** 6])))
    rig_case("first half of the head rig", RIG, lambda c: c.rig_bytes[: len(c.rig_bytes) // 2])
    rig_case("the tiny model given as a rig", FORMAT, lambda c: c.model_bytes)
    rig_case("format_version 2", FORMAT, lambda c: tiny_rig(format_version="2"))
    rig_case("no format key", FORMAT, lambda c: tiny_rig(format=None))
    rig_case("face index 3 with 3 vertices", RIG,
             lambda c: tiny_rig(faces=("I32", [1, 3], np.array([[0, 1, 3]], "<i4").tobytes())))
    rig_case("face index -1", RIG, lambda c: tiny_rig(faces=("I32", [1, 3], np.array([[0, 1, -1]], "<i4").tobytes())))
    rig_case("a NaN vertex coordinate", RIG,
             lambda c: tiny_rig(vertices=("F32", [3, 3], np.array([[0, 0, 0], [1, 0, 0], [0, np.nan, 0]], "<f4").tobytes())))
    rig_case("an +Inf delta", RIG, lambda c: tiny_rig(deltas=("F32", [1, 3, 3], np.full((1, 3, 3), np.inf, "<f4").tobytes())))
    rig_case("2 channel names for 1 shape", RIG, lambda c: tiny_rig(channels='["jawOpen", "jawLeft"]'))
    rig_case("duplicate channel names", RIG, lambda c: tiny_rig(
        channels='["jawOpen", "jawOpen"]', deltas=("F32", [2, 3, 3], np.zeros((2, 3, 3), "<f4").tobytes())))
    rig_case("an empty channel name", RIG, lambda c: tiny_rig(channels='[""]'))
    rig_case("channels not JSON", RIG, lambda c: tiny_rig(channels="jawOpen"))
    rig_case("no deltas tensor", RIG, lambda c: tiny_rig(deltas=None))
    rig_case("no faces tensor", RIG, lambda c: tiny_rig(faces=None))
    rig_case("deltas of the wrong shape [1, 4, 3]", RIG,
             lambda c: tiny_rig(deltas=("F32", [1, 4, 3], np.zeros((1, 4, 3), "<f4").tobytes())))
    rig_case("vertices as F64", RIG, lambda c: tiny_rig(vertices=("F64", [3, 3], np.eye(3, dtype="<f8").tobytes())))
    rig_case("2 vertices (V >= 3 required)", RIG, lambda c: tiny_rig(
        vertices=("F32", [2, 3], np.zeros((2, 3), "<f4").tobytes()),
        faces=("I32", [1, 3], np.array([[0, 1, 1]], "<i4").tobytes()),
        deltas=("F32", [1, 2, 3], np.zeros((1, 2, 3), "<f4").tobytes())))
    rig_case("units \"ft\"", RIG, lambda c: tiny_rig(units="ft"))
    rig_case("up_axis \"-y\"", RIG, lambda c: tiny_rig(up_axis="-y"))

    # ---- rigs: queries -------------------------------------------------------------------
    rmeta = L.kmt_rig_metadata
    add("kmt_rig_metadata", "rig NULL", ARG, lambda c: rmeta(None, b"units", None, 0, length()))
    add("kmt_rig_metadata", "key NULL", ARG, lambda c: rmeta(c.rig, None, None, 0, length()))
    add("kmt_rig_metadata", "missing key", ARG, lambda c: rmeta(c.rig, b"no-such-key", None, 0, length()))
    add("kmt_rig_metadata", "buffer of 1 byte for \"m\"", SMALL,
        lambda c: rmeta(c.rig, b"units", ctypes.create_string_buffer(1), 1, length()))
    getters("rig", "rig", [
        ("kmt_rig_vertex_count", (), "out_count", c_size_t),
        ("kmt_rig_face_count", (), "out_count", c_size_t),
        ("kmt_rig_shape_count", (), "out_count", c_size_t),
        ("kmt_rig_shape_name", (0,), "out_name", c_char_p),
    ])
    add("kmt_rig_shape_name", "index = shape count", ARG,
        lambda c: L.kmt_rig_shape_name(c.rig, c.shape_count, c.value_out(c_char_p)))
    add("kmt_rig_shape_name", "index SIZE_MAX", ARG,
        lambda c: L.kmt_rig_shape_name(c.rig, SIZE_MAX, c.value_out(c_char_p)))
    rverts, rfaces = L.kmt_rig_read_vertices, L.kmt_rig_read_faces
    add("kmt_rig_read_vertices", "rig NULL", ARG, lambda c: rverts(None, None, 0, written()))
    add("kmt_rig_read_vertices", "buffer NULL, buffer_length 9", ARG, lambda c: rverts(c.small_rig, None, 9, written()))
    add("kmt_rig_read_vertices", "buffer of 8 floats for 3 vertices", SMALL,
        lambda c: rverts(c.small_rig, (c_float * 8)(), 8, written()))
    add("kmt_rig_read_faces", "rig NULL", ARG, lambda c: rfaces(None, None, 0, written()))
    add("kmt_rig_read_faces", "buffer NULL, buffer_length 3", ARG, lambda c: rfaces(c.small_rig, None, 3, written()))
    add("kmt_rig_read_faces", "buffer of 2 indices for 1 triangle", SMALL,
        lambda c: rfaces(c.small_rig, (c_int32 * 2)(), 2, written()))
    rdeltas = L.kmt_rig_read_deltas
    add("kmt_rig_read_deltas", "rig NULL", ARG, lambda c: rdeltas(None, 0, None, 0, written()))
    add("kmt_rig_read_deltas", "shape = shape count", ARG,
        lambda c: rdeltas(c.small_rig, got(L.kmt_rig_shape_count, c.small_rig), (c_float * 9)(), 9, written()))
    add("kmt_rig_read_deltas", "shape = SIZE_MAX", ARG, lambda c: rdeltas(c.small_rig, 2 ** 64 - 1, (c_float * 9)(), 9, written()))
    add("kmt_rig_read_deltas", "buffer of 8 floats for 3 vertices", SMALL,
        lambda c: rdeltas(c.small_rig, 0, (c_float * 8)(), 8, written()))

    verts = L.kmt_animation_vertices

    def pose(rig: str = "rig", first: int = 0, count: int = 1, mode: int = L.KMT_VERTICES_ABSOLUTE,
             floats_: Optional[int] = None, null_buffer: bool = False, anim: str = "anim") -> Callable[[Context], Any]:
        def run(c: Context) -> Any:
            r = getattr(c, rig) if rig else None
            a = getattr(c, anim) if anim else None
            n = 3 * c.vertex_count * count if floats_ is None else floats_
            buffer = None if null_buffer else (c_float * max(n, 1))()
            return verts(a, r, first, count, mode, buffer, n, written())
        return run

    add("kmt_animation_vertices", "animation NULL", ARG, pose(anim=""))
    add("kmt_animation_vertices", "rig NULL for an animation of weights", ARG, pose(rig=""))
    add("kmt_animation_vertices", "a rig for a vertices-space animation", ARG, pose(anim="vertices_anim", floats_=0))
    add("kmt_animation_vertices", "first_frame = frame count (past the end)", ARG, pose(first=10 ** 6))
    add("kmt_animation_vertices", "frame_count SIZE_MAX", ARG, pose(count=SIZE_MAX, floats_=16))
    add("kmt_animation_vertices", "mode 2 (unknown)", ARG, pose(mode=2))
    add("kmt_animation_vertices", "buffer one float short", SMALL,
        lambda c: pose(floats_=3 * c.vertex_count - 1)(c))
    add("kmt_animation_vertices", "buffer NULL, buffer_length V x 3", ARG, pose(null_buffer=True))
    add("kmt_animation_read_faces", "animation NULL", ARG, lambda c: L.kmt_animation_read_faces(None, None, 0, written()))
    add("kmt_animation_read_faces", "an animation of weights (no template)", ARG,
        lambda c: L.kmt_animation_read_faces(c.anim, None, 0, written()))

    for name in ("kmt_rig_unmatched_channels", "kmt_rig_unmatched_shapes"):
        function = getattr(L, name)
        add(name, "rig NULL", ARG, lambda c, f=function: f(None, c.anim, None, 0, written()))
        add(name, "animation NULL", ARG, lambda c, f=function: f(c.rig, None, None, 0, written()))
    add("kmt_rig_unmatched_channels", "buffer of 1 for the 51 channels the 1-shape rig leaves", SMALL,
        lambda c: L.kmt_rig_unmatched_channels(c.small_rig, c.anim, (c_size_t * 1)(), 1, written()))
    add("kmt_rig_unmatched_shapes", "buffer NULL, buffer_length 4, 1 shape unmatched", ARG,
        lambda c: L.kmt_rig_unmatched_shapes(c.odd_rig, c.anim, None, 4, written()))
    add("kmt_rig_unmatched_shapes", "buffer NULL, buffer_length 4, no shape unmatched", ARG,
        lambda c: L.kmt_rig_unmatched_shapes(c.rig, c.anim, None, 4, written()))
    add("kmt_rig_unmatched_channels", "buffer NULL, buffer_length 64, 51 channels unmatched", ARG,
        lambda c: L.kmt_rig_unmatched_channels(c.small_rig, c.anim, None, 64, written()))
    shape_channels = L.kmt_rig_shape_channels
    add("kmt_rig_shape_channels", "rig NULL", ARG, lambda c: shape_channels(None, c.anim, None, 0, written()))
    add("kmt_rig_shape_channels", "animation NULL", ARG, lambda c: shape_channels(c.rig, None, None, 0, written()))
    add("kmt_rig_shape_channels", "buffer of 51 for 52 shapes", SMALL,
        lambda c: shape_channels(c.rig, c.anim, (c_int32 * 51)(), 51, written()))

    # ---- export ----------------------------------------------------------------------------
    save = L.kmt_animation_save

    def save_case(name: str, fmt: int, rig: str = "", anim: str = "anim") -> Callable[[Context], Any]:
        return lambda c: save(getattr(c, anim), getattr(c, rig) if rig else None, c.path(name), fmt)

    add("kmt_animation_save", "animation NULL", ARG, lambda c: save(None, None, c.path("null.json"), L.KMT_EXPORT_JSON))
    add("kmt_animation_save", "path NULL", ARG, lambda c: save(c.anim, None, None, L.KMT_EXPORT_JSON))
    add("kmt_animation_save", "empty path \"\"", ARG, lambda c: save(c.anim, None, b"", L.KMT_EXPORT_JSON))
    add("kmt_animation_save", "format 99 (unknown)", ARG, save_case("unknown.json", 99))
    add("kmt_animation_save", "format -1", ARG, save_case("negative.json", -1))
    add("kmt_animation_save", "AUTO with extension .xyz", ARG, save_case("anim.xyz", L.KMT_EXPORT_AUTO))
    add("kmt_animation_save", "AUTO without an extension", ARG, save_case("anim", L.KMT_EXPORT_AUTO))
    add("kmt_animation_save", "GLB without a rig", ARG, save_case("anim.glb", L.KMT_EXPORT_GLB))
    add("kmt_animation_save", "GLB_SPARSE without a rig", ARG, save_case("anim-sparse.glb", L.KMT_EXPORT_GLB_SPARSE))
    add("kmt_animation_save", "OBJ without a rig", ARG, save_case("face.obj", L.KMT_EXPORT_OBJ))
    add("kmt_animation_save", "PLY without a rig", ARG, save_case("face.ply", L.KMT_EXPORT_PLY))
    add("kmt_animation_save", "AUTO .glb without a rig", ARG, save_case("auto.glb", L.KMT_EXPORT_AUTO))
    add("kmt_animation_save", "Live Link CSV at 29.97 fps", ARG,
        save_case("livelink.csv", L.KMT_EXPORT_LIVE_LINK_CSV, anim="anim_29_97"))
    add("kmt_animation_save", "phones of a model without a phone head", ARG, save_case("phones.tsv", L.KMT_EXPORT_PHONES_TSV))
    add("kmt_animation_save", "GLB of a vertices-space animation with a rig", ARG,
        save_case("vertices.glb", L.KMT_EXPORT_GLB, rig="rig", anim="vertices_anim"))
    add("kmt_animation_save", "OBJ of a vertices-space animation with a rig", ARG,
        save_case("vertices.obj", L.KMT_EXPORT_OBJ, rig="rig", anim="vertices_anim"))
    add("kmt_animation_save", "Live Link CSV of a vertices-space animation", ARG,
        save_case("vertices-livelink.csv", L.KMT_EXPORT_LIVE_LINK_CSV, anim="vertices_anim"))
    add("kmt_animation_save", "mouth cues of a vertices-space animation (no jawOpen)", ARG,
        save_case("vertices.tsv", L.KMT_EXPORT_MOUTH_CUES_TSV, anim="vertices_anim"))
    add("kmt_animation_save", "a path in a missing directory", IO,
        lambda c: save(c.anim, None, c.path("no-such-dir/anim.json"), L.KMT_EXPORT_JSON))
    add("kmt_animation_save", "a path that is a directory", IO,
        lambda c: save(c.anim, None, c.dir("out-dir.json"), L.KMT_EXPORT_JSON))
    add("kmt_animation_save", "a path below a regular file", IO,
        lambda c: save(c.anim, None, c.file("plain-file", b"x") + b"/anim.json", L.KMT_EXPORT_JSON))
    add("kmt_animation_save", "OBJ sequence into a missing directory", IO,
        lambda c: save(c.anim, c.rig, c.path("no-such-dir/face.obj"), L.KMT_EXPORT_OBJ))

    memory = L.kmt_animation_save_to_memory
    size_out = lambda: byref(c_size_t())  # noqa: E731
    add("kmt_animation_save_to_memory", "animation NULL", ARG, lambda c: memory(None, None, L.KMT_EXPORT_JSON, None, 0, size_out()))
    add("kmt_animation_save_to_memory", "format AUTO", ARG, lambda c: memory(c.anim, None, L.KMT_EXPORT_AUTO, None, 0, size_out()))
    add("kmt_animation_save_to_memory", "format OBJ", ARG, lambda c: memory(c.anim, c.rig, L.KMT_EXPORT_OBJ, None, 0, size_out()))
    add("kmt_animation_save_to_memory", "format PLY", ARG, lambda c: memory(c.anim, c.rig, L.KMT_EXPORT_PLY, None, 0, size_out()))
    add("kmt_animation_save_to_memory", "format 99 (unknown)", ARG, lambda c: memory(c.anim, None, 99, None, 0, size_out()))
    add("kmt_animation_save_to_memory", "GLB without a rig", ARG, lambda c: memory(c.anim, None, L.KMT_EXPORT_GLB, None, 0, size_out()))
    # NPY: its size depends only on the frame and channel counts. The text formats' sizes
    # depend on the digits of each value, which differ in the last bits between OpenBLAS's
    # kernels for different CPUs (and JSON names the model file, whose path varies).
    add("kmt_animation_save_to_memory", "NPY into 16 bytes", SMALL,
        lambda c: memory(c.anim, None, L.KMT_EXPORT_NPY, ctypes.create_string_buffer(16), 16, size_out()))
    add("kmt_animation_save_to_memory", "buffer NULL, buffer_size 1 MiB", ARG,
        lambda c: memory(c.anim, None, L.KMT_EXPORT_JSON, None, 1 << 20, size_out()))
    add("kmt_animation_save_to_memory", "Live Link CSV at 29.97 fps", ARG,
        lambda c: memory(c.anim_29_97, None, L.KMT_EXPORT_LIVE_LINK_CSV, None, 0, size_out()))

    save_params = L.kmt_animation_save_with_params

    def export_params(**fields: Any) -> Any:
        p = initialized(L.kmt_export_params, L.kmt_export_params_init)
        for key, value in fields.items():
            setattr(p, key, value)
        return byref(p)

    add("kmt_animation_save_with_params", "animation NULL", ARG,
        lambda c: save_params(None, None, c.path("null.tsv"), L.KMT_EXPORT_MOUTH_CUES_TSV, None))
    add("kmt_animation_save_with_params", "params.struct_size 0", ARG,
        lambda c: save_params(c.anim, None, c.path("zero.tsv"), L.KMT_EXPORT_MOUTH_CUES_TSV, export_params(struct_size=0)))
    add("kmt_animation_save_with_params", "params.struct_size 12 (inside the progress pointer)", ARG,
        lambda c: save_params(c.anim, None, c.path("cut.tsv"), L.KMT_EXPORT_MOUTH_CUES_TSV, export_params(struct_size=12)))
    add("kmt_animation_save_with_params", "mouth_cue_extended_shapes \"GQ\"", ARG,
        lambda c: save_params(c.anim, None, c.path("gq.tsv"), L.KMT_EXPORT_MOUTH_CUES_TSV,
                              export_params(mouth_cue_extended_shapes=b"GQ")))
    add("kmt_animation_save_with_params", "mouth_cue_extended_shapes \"ABC\" (basic shapes)", ARG,
        lambda c: save_params(c.anim, None, c.path("abc.tsv"), L.KMT_EXPORT_MOUTH_CUES_TSV,
                              export_params(mouth_cue_extended_shapes=b"ABC")))
    add("kmt_animation_save_with_params", "GLB without a rig", ARG,
        lambda c: save_params(c.anim, None, c.path("params.glb"), L.KMT_EXPORT_GLB, export_params()))
    memory_params = L.kmt_animation_save_to_memory_with_params
    add("kmt_animation_save_to_memory_with_params", "animation NULL", ARG,
        lambda c: memory_params(None, None, L.KMT_EXPORT_JSON, None, None, 0, size_out()))
    add("kmt_animation_save_to_memory_with_params", "mouth_cue_extended_shapes \"gx!\"", ARG,
        lambda c: memory_params(c.anim, None, L.KMT_EXPORT_MOUTH_CUES_JSON, export_params(mouth_cue_extended_shapes=b"gx!"),
                                None, 0, size_out()))

    # ---- audio decoding (kmt_audio_*): the file errors of kmt_animate_file ------------
    aload = L.kmt_audio_load_file
    aloadm = L.kmt_audio_load_memory

    def audio_params(**fields: Any) -> Any:
        p = L.kmt_audio_params()
        L.kmt_audio_params_init(byref(p), ctypes.sizeof(p))
        for key, value in fields.items():
            setattr(p, key, value)
        return byref(p)

    def decode_file(name: str, data: Callable[[], bytes]) -> Callable[[Context], Any]:
        return lambda c: aload(c.file(name, data()), None, c.out())

    def decode_bytes(data: Callable[[], bytes], params: Any = None) -> Callable[[Context], Any]:
        return lambda c: aloadm(*c.buffer(data()), params, c.out())

    add("kmt_audio_load_file", "path NULL", ARG, lambda c: aload(None, None, c.out()))
    add("kmt_audio_load_file", "out_audio NULL", ARG, lambda c: aload(wav(c), None, None))
    add("kmt_audio_load_file", "empty path \"\"", ARG, lambda c: aload(b"", None, c.out()))
    add("kmt_audio_load_file", "params.struct_size 4", ARG, lambda c: aload(wav(c), audio_params(struct_size=4), c.out()))
    add("kmt_audio_load_file", "params.struct_size 20 (inside the progress pointer)", ARG,
        lambda c: aload(wav(c), audio_params(struct_size=20), c.out()))
    add("kmt_audio_load_file", "params.sample_rate 4000", ARG, lambda c: aload(wav(c), audio_params(sample_rate=4000), c.out()))
    add("kmt_audio_load_file", "params.sample_rate -16000", ARG,
        lambda c: aload(wav(c), audio_params(sample_rate=-16000), c.out()))
    add("kmt_audio_load_file", "params.nonfinite_policy 2", ARG,
        lambda c: aload(wav(c), audio_params(nonfinite_policy=2), c.out()))
    add("kmt_audio_load_file", "missing file", IO, lambda c: aload(c.path("missing.wav"), None, c.out()))
    add("kmt_audio_load_file", "a directory", IO, lambda c: aload(c.dir("decode-dir.wav"), None, c.out()))

    @case("kmt_audio_load_file", "a FIFO (must not block)", IO, max_seconds=2.0)
    def _(c: Context) -> Any:
        path = c.fifo("decode.fifo.wav")
        with FifoWatchdog(path):
            return aload(path, None, c.out())

    add("kmt_audio_load_file", "/dev/zero (character device)", IO, lambda c: aload(b"/dev/zero", None, c.out()), 2.0)
    add("kmt_audio_load_file", "empty file .wav", AUDIO, decode_file("decode-empty.wav", lambda: b""))
    add("kmt_audio_load_file", "plain text renamed .wav", FORMAT,
        decode_file("decode-notes.wav", lambda: b"this is plain text, not RIFF audio\n" * 20))
    add("kmt_audio_load_file", "WAV cut inside its header (20 bytes)", FORMAT,
        decode_file("decode-cut.wav", lambda: wav_bytes(speech(0.5), 16000)[:20]))
    add("kmt_audio_load_file", "WAV whose data chunk claims 10x the bytes present", AUDIO,
        decode_file("decode-short.wav", lambda: wav_bytes(speech(0.5), 16000, claim_data=160000)))
    add("kmt_audio_load_file", "WAV at 4000 Hz", AUDIO,
        decode_file("decode-4000.wav", lambda: wav_bytes(speech(0.5, 4000), 4000)))
    add("kmt_audio_load_file", "WAV with 0 frames", AUDIO, decode_file("decode-none.wav", lambda: wav_bytes(np.zeros(0), 16000)))
    add("kmt_audio_load_file", "float WAV with a NaN sample", AUDIO, decode_file("decode-nan.wav", float_wav(math.nan)))
    add("kmt_audio_load_file", "float WAV with a NaN sample, nonfinite_policy ZERO", OK,
        lambda c: aload(c.file("decode-nan0.wav", float_wav(math.nan)()), audio_params(nonfinite_policy=L.KMT_NONFINITE_ZERO),
                        c.out()))
    add("kmt_audio_load_file", "4096 random bytes named .flac", FORMAT,
        decode_file("decode-random.flac", lambda: random_bytes(4096, 2)))
    add("kmt_audio_load_file", "an MP4 (ftyp) header named .m4a", FORMAT,
        decode_file("decode.m4a", lambda: b"\0\0\0\x20ftypM4A \0\0\0\0" + bytes(64)))
    add("kmt_audio_load_file", "2 GiB sparse file of zeros named .wav", FORMAT,
        lambda c: aload(c.sparse("decode-zeros-2g.wav", 2 * GIB), None, c.out()), 5.0)
    add("kmt_audio_load_memory", "data NULL, size 100", ARG, lambda c: aloadm(None, 100, None, c.out()))
    add("kmt_audio_load_memory", "out_audio NULL", ARG,
        lambda c: aloadm(*c.buffer(wav_bytes(speech(0.1), 16000)), None, None))
    add("kmt_audio_load_memory", "size 0 (data not NULL)", AUDIO, lambda c: aloadm(c.buffer(b"x")[0], 0, None, c.out()))
    add("kmt_audio_load_memory", "plain text", FORMAT, decode_bytes(lambda: b"this is plain text, not RIFF audio\n" * 20))
    add("kmt_audio_load_memory", "WAV whose data chunk claims 10x the bytes present", AUDIO,
        decode_bytes(lambda: wav_bytes(speech(0.5), 16000, claim_data=160000)))
    add("kmt_audio_load_memory", "float WAV with a +Inf sample", AUDIO, decode_bytes(float_wav(math.inf)))
    add("kmt_audio_load_memory", "an MP4 (ftyp) header", FORMAT, decode_bytes(lambda: b"\0\0\0\x20ftypM4A \0\0\0\0" + bytes(64)))
    getters("audio", "audio", [
        ("kmt_audio_sample_rate", (), "out_rate", c_int32),
        ("kmt_audio_sample_count", (), "out_count", c_size_t),
        ("kmt_audio_samples", (), "out_samples", POINTER(c_float)),
        ("kmt_audio_source_rate", (), "out_rate", c_int32),
        ("kmt_audio_source_channels", (), "out_channels", c_int32),
        ("kmt_audio_format_name", (), "out_name", c_char_p),
    ])

    # ---- parameter struct set-up (kmt_*_params_init) ----------------------------------
    def init_case(struct: Any, init: Callable[[Any, int], int], size: Optional[int]) -> Callable[[Context], Any]:
        """`init` on a fresh struct with `size` (None: params NULL); a refused call writes nothing."""
        def run(c: Context) -> Any:
            if size is None:
                return init(None, ctypes.sizeof(struct))
            params = struct()
            status = init(byref(params), size)
            assert bytes(params) == bytes(ctypes.sizeof(struct)), "a refused init wrote into params"
            return status
        return run

    inits = [("kmt_model_params_init", L.kmt_model_params, L.kmt_model_params_init, None),
             ("kmt_session_params_init", L.kmt_session_params, L.kmt_session_params_init, (36, "progress")),
             ("kmt_rig_import_params_init", L.kmt_rig_import_params, L.kmt_rig_import_params_init, (12, "mesh")),
             ("kmt_export_params_init", L.kmt_export_params, L.kmt_export_params_init, (20, "progress_user_data")),
             ("kmt_audio_params_init", L.kmt_audio_params, L.kmt_audio_params_init, (20, "progress"))]
    for name, struct_type, init, split in inits:
        add(name, "params NULL", ARG, init_case(struct_type, init, None))
        add(name, "struct_size 4 (smaller than struct_size itself)", ARG, init_case(struct_type, init, 4))
        if split is not None:
            add(name, f"struct_size {split[0]} (inside the {split[1]} pointer)", ARG, init_case(struct_type, init, split[0]))
    add("kmt_session_params_init", "struct_size 0", ARG, init_case(L.kmt_session_params, L.kmt_session_params_init, 0))
    add("kmt_session_params_init", "struct_size 65537 (beyond any struct)", ARG,
        init_case(L.kmt_session_params, L.kmt_session_params_init, 65537))
    add("kmt_session_params_init", "struct_size SIZE_MAX", ARG,
        init_case(L.kmt_session_params, L.kmt_session_params_init, SIZE_MAX))
    return cases


# --------------------------------------------------------------------------
# Running and rendering
# --------------------------------------------------------------------------

@dataclass
class Row:
    case: Case
    status: str
    message: str
    raw_message: str
    seconds: float
    problems: List[str]


def outcome(result: Any) -> str:
    if isinstance(result, int) and not isinstance(result, bool) and result in STATUS_NAMES:
        return STATUS_NAMES[result]
    if result is None:
        return RETURNS_NULL
    if isinstance(result, float) and result == -1.0 or result == -1:
        return RETURNS_MINUS_ONE
    if isinstance(result, int):
        return f"unknown status {result}"
    return f"returns {result!r}"


def normalise(message: str, tmp: Path) -> str:
    for directory in {str(tmp), os.path.realpath(tmp)}:
        message = message.replace(directory, "$TMP")
    message = message.replace(str(REPO_ROOT), "$REPO")
    message = re.sub(r"0x[0-9a-fA-F]{6,}", "0x…", message)
    return message


FREES = (("kmt_model_", L.kmt_model_free), ("kmt_session_", L.kmt_session_free),
         ("kmt_animate_", L.kmt_animation_free), ("kmt_rig_", L.kmt_rig_free),
         ("kmt_audio_", L.kmt_audio_free))


def clear_last_error(ctx: Context) -> None:
    """A call that succeeds, so the thread's kmt_last_error() is "" when the case starts."""
    status = L.kmt_model_metadata(ctx.model, b"seed", ctx.clear_buffer, 64, None)
    if status != L.KMT_OK or L.kmt_last_error() != b"":
        raise RuntimeError(f"a successful call did not clear kmt_last_error(): {L.kmt_last_error()!r}")


def run_case(ctx: Context, case: Case) -> Row:
    ctx.outs = []
    ctx.values = []
    clear_last_error(ctx)
    start = time.monotonic()
    result = case.run(ctx)
    seconds = time.monotonic() - start
    raw = L.kmt_last_error().decode("utf-8", errors="replace")
    status = outcome(result)
    problems = []
    if status != case.expect:
        problems.append(f"expected {case.expect}, got {status}")
    if status == "KMT_OK" and case.expect != "KMT_OK":
        problems.append("returned KMT_OK for bad input")
    if status == "KMT_ERR_INTERNAL":
        problems.append("returned KMT_ERR_INTERNAL (a bug)")
    if status.startswith("KMT_ERR_") and not raw.strip():
        problems.append("empty kmt_last_error() message")
    if status.startswith("KMT_ERR_"):
        for handle in ctx.outs:
            if handle.value is not None:
                problems.append(f"out-parameter not NULL after failure ({handle.value:#x})")
        for value, size in ctx.values:
            if value.value & ((1 << (8 * size)) - 1):
                problems.append(f"out-parameter not 0/NULL after failure ({value.value:#x})")
    if status == "KMT_OK":  # release what an unexpected success returned
        free = next((f for prefix, f in FREES if case.call.startswith(prefix)), None)
        for handle in ctx.outs:
            if free and handle.value not in (None, SENTINEL):
                free(handle)
    if seconds > case.max_seconds:
        problems.append(f"took {seconds:.2f} s (limit {case.max_seconds} s)")
    message = normalise(raw, ctx.tmp) if raw else "(no message)"
    if case.scrub:
        message = re.sub(case.scrub[0], case.scrub[1], message)
    return Row(case, status, message, raw, seconds, problems)


def run_all(tmp: Path) -> List[Row]:
    ctx = Context(tmp)
    try:
        rows = [run_case(ctx, case) for case in build_cases()]
        # Same input, same answer: run every case a second time and compare.
        for row in rows:
            again = run_case(ctx, row.case)
            if (again.status, again.message) != (row.status, row.message):
                row.problems.append(f"second run differs: {again.status}: {again.message}")
        return rows
    finally:
        ctx.close()


def one_line(text: str) -> str:
    return re.sub(r"\r\n|\r|\n", " ⏎ ", text).replace("|", "\\|")


def case_cell(text: str) -> str:
    """A case description: identifiers with underscores (struct_size, __metadata__) as code."""
    return re.sub(r"[\w.]*_[\w.]*", lambda m: f"`{m.group(0)}`", one_line(text))


def message_cell(row: "Row") -> str:
    """A message as a code span (no markdown inside), "(no message)" when empty."""
    if not row.raw_message:
        return "(no message)"
    text = one_line(row.message)
    fence = "``" if "`" in text else "`"
    return f"{fence}{text}{fence}" if fence == "`" else f"{fence} {text} {fence}"


INTRO = """\
# Bad input: what each call returns

Generated by `bindings/python/tests/test_bad_input.py`; do not edit by hand.

Every row is a call of the C API (through the one-to-one ctypes layer,
`bindings/python/kmtalk/_lib.py`) with one bad argument or bad file, the status it returns
and the message `kmt_last_error()` gives right after it (each case starts after a call that
succeeded, so the message is the case's own). Every call in the table returns a status:
the getters too, which write their value into an out-parameter (set to 0 or NULL when they
fail). Paths in messages are written as `$TMP` (the test's
temporary directory) and `$REPO` (the repository root), newlines as ⏎. The model is the
tiny random one (`models/kmtalk-tiny-random.safetensors`), the rig
`models/kmtalk-head.rig.safetensors` or a 3-vertex rig built by the test.

The test (run by `scripts/test-python.sh` with the rest of the Python suite) fails when the
table below differs from what the library does, and checks each row against the status the
case expects. After a deliberate change of a status or a message, regenerate this file:

    KMTALK_LIBRARY=$PWD/.build/debug/libKMTalk.so \\
        .venv-test/bin/python bindings/python/tests/test_bad_input.py --update
"""


def render(rows: List[Row]) -> str:
    lines = [INTRO, f"{len(rows)} cases; rows marked † have a note below the table.", "",
             "| # | call | case | status | message |", "|---|---|---|---|---|"]
    notes: Dict[str, List[str]] = {}
    for index, row in enumerate(rows, 1):
        mark = " †" if row.case.note else ""
        lines.append(f"| {index} | `{row.case.call}` | {case_cell(row.case.case)}{mark} | {row.status} | {message_cell(row)} |")
        if row.case.note:
            notes.setdefault(row.case.note, []).append(str(index))
    if notes:
        lines += ["", "## Notes", "", "Where the outcome departs from kmtalk.h, or the message is off (row numbers):", ""]
        lines += [f"- {', '.join(indices)}: {note}." for note, indices in notes.items()]
    return "\n".join(lines) + "\n"


def diff(expected: str, actual: str) -> str:
    return "".join(difflib.unified_diff(expected.splitlines(True), actual.splitlines(True),
                                        fromfile=str(DOC.relative_to(REPO_ROOT)), tofile="generated"))


def problems_report(rows: List[Row]) -> List[str]:
    return [f"#{i} {row.case.call} ({row.case.case}): {p} [message: {row.raw_message!r}]"
            for i, row in enumerate(rows, 1) for p in row.problems]


# --------------------------------------------------------------------------
# pytest
# --------------------------------------------------------------------------

def test_bad_input_table(lib, tmp_path):
    work = tmp_path / "cases"
    work.mkdir()
    try:
        rows = run_all(work)
    finally:  # pytest keeps recent tmp_path folders: drop the sparse files and FIFOs now
        shutil.rmtree(work, ignore_errors=True)
    assert len(rows) >= 110
    failures = problems_report(rows)
    text = render(rows)
    committed = DOC.read_text() if DOC.is_file() else ""
    if text != committed:
        print(diff(committed, text))
        failures.append(f"{DOC.relative_to(REPO_ROOT)} is out of date (diff above); regenerate it with "
                        f"`{Path(__file__).relative_to(REPO_ROOT)} --update`")
    assert not failures, "\n".join(failures)


# --------------------------------------------------------------------------
# Script mode
# --------------------------------------------------------------------------

def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--update", action="store_true", help=f"write {DOC.relative_to(REPO_ROOT)}")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="kmtalk-bad-input-") as tmp:
        start = time.monotonic()
        rows = run_all(Path(tmp))
        elapsed = time.monotonic() - start
    text = render(rows)
    for line in problems_report(rows):
        print("problem:", line, file=sys.stderr)
    print(f"{len(rows)} cases in {elapsed:.1f} s", file=sys.stderr)
    if args.update:
        DOC.write_text(text)
        print(f"wrote {DOC}", file=sys.stderr)
        return 0
    committed = DOC.read_text() if DOC.is_file() else ""
    if text != committed:
        sys.stdout.write(diff(committed, text))
        return 1
    print(f"{DOC.relative_to(REPO_ROOT)} is up to date", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
