"""KMTalk: speech-driven 3D facial animation (Python bindings).

The friendly layer over :mod:`kmtalk._lib` (a 1:1 ctypes mirror of kmtalk.h)::

    import kmtalk

    with kmtalk.Model("models/kmtalk-tiny-random.safetensors") as model, \\
            kmtalk.Session(model, fps=60) as session:
        animation = session.animate_file("speech.wav")
        print(animation.frame_count, animation.fps, animation.weights.shape)

Objects own C handles. They are released deterministically by ``close()`` or
a ``with`` block, and otherwise when garbage-collected. A session keeps its
Python model object alive (and the C library keeps the model's memory alive
for as long as any session uses it), so closing a model early is safe.
"""

from __future__ import annotations

import ctypes
import enum
import json
import os
import threading
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple, Union

import numpy as np

from . import _lib
from ._lib import LibraryNotFoundError

__version__ = "1.0.0"

__all__ = [
    "Animation",
    "Audio",
    "KMTalkError",
    "InvalidArgumentError",
    "FileIOError",
    "UnsupportedFormatError",
    "InvalidAudioError",
    "CorruptModelError",
    "CorruptRigError",
    "IncompatibleModelError",
    "OutOfMemoryError",
    "BufferTooSmallError",
    "CancelledError",
    "InternalError",
    "MetadataKeyError",
    "LibraryNotFoundError",
    "ExportFormat",
    "LogLevel",
    "Model",
    "ProgressCallback",
    "Rig",
    "Session",
    "Status",
    "animate",
    "default_model_path",
    "load_audio",
    "push_many",
    "set_log_callback",
    "status_string",
    "version",
    "version_number",
]

PathLike = Union[str, "os.PathLike[str]", "os.PathLike[bytes]", bytes]

#: A progress callable: ``progress(fraction, stage)`` with the share of the call
#: done (0..1, never decreasing, 1.0 last) and the stage's name ("decode",
#: "features", "network", "export", "import"). Returning False, or raising,
#: cancels the call (see :class:`CancelledError`).
ProgressCallback = Callable[[float, str], Optional[bool]]


# --------------------------------------------------------------------------
# Status codes and errors
# --------------------------------------------------------------------------


class Status(enum.IntEnum):
    """kmt_status values."""

    OK = _lib.KMT_OK
    INVALID_ARGUMENT = _lib.KMT_ERR_INVALID_ARGUMENT
    IO = _lib.KMT_ERR_IO
    UNSUPPORTED_FORMAT = _lib.KMT_ERR_UNSUPPORTED_FORMAT
    INVALID_AUDIO = _lib.KMT_ERR_INVALID_AUDIO
    CORRUPT_MODEL = _lib.KMT_ERR_CORRUPT_MODEL
    INCOMPATIBLE_MODEL = _lib.KMT_ERR_INCOMPATIBLE_MODEL
    OUT_OF_MEMORY = _lib.KMT_ERR_OUT_OF_MEMORY
    BUFFER_TOO_SMALL = _lib.KMT_ERR_BUFFER_TOO_SMALL
    INTERNAL = _lib.KMT_ERR_INTERNAL
    CORRUPT_RIG = _lib.KMT_ERR_CORRUPT_RIG
    CANCELLED = _lib.KMT_ERR_CANCELLED

    @property
    def c_name(self) -> str:
        """The C enumerator name, e.g. "KMT_ERR_IO"."""
        return "KMT_OK" if self is Status.OK else "KMT_ERR_" + self.name


class LogLevel(enum.IntEnum):
    """kmt_log_level values."""

    DEBUG = _lib.KMT_LOG_DEBUG
    INFO = _lib.KMT_LOG_INFO
    WARNING = _lib.KMT_LOG_WARNING
    ERROR = _lib.KMT_LOG_ERROR


class ExportFormat(enum.IntEnum):
    """kmt_export_format values: the file formats of :meth:`Animation.save`."""

    AUTO = _lib.KMT_EXPORT_AUTO
    JSON = _lib.KMT_EXPORT_JSON
    CSV = _lib.KMT_EXPORT_CSV
    LIVE_LINK_CSV = _lib.KMT_EXPORT_LIVE_LINK_CSV
    NPY = _lib.KMT_EXPORT_NPY
    GLB = _lib.KMT_EXPORT_GLB
    OBJ = _lib.KMT_EXPORT_OBJ
    PLY = _lib.KMT_EXPORT_PLY
    #: Mouth cues for 2D characters, as Rhubarb Lip Sync's TSV (AUTO for .tsv).
    MOUTH_CUES_TSV = _lib.KMT_EXPORT_MOUTH_CUES_TSV
    #: The same mouth cues as Rhubarb Lip Sync's JSON (only chosen explicitly).
    MOUTH_CUES_JSON = _lib.KMT_EXPORT_MOUTH_CUES_JSON
    #: GLB with sparse morph targets (only the vertices each shape moves; ~6x
    #: smaller; only chosen explicitly).
    GLB_SPARSE = _lib.KMT_EXPORT_GLB_SPARSE
    #: The phones the model recognized: start, end, phone, confidence per line
    #: (key-motion models; only chosen explicitly).
    PHONES_TSV = _lib.KMT_EXPORT_PHONES_TSV
    #: The mouth cues as Rhubarb Lip Sync's XML (only chosen explicitly).
    MOUTH_CUES_XML = _lib.KMT_EXPORT_MOUTH_CUES_XML
    #: The mouth cues as a Moho switch-layer DAT at 24 fps (only chosen explicitly).
    MOUTH_CUES_DAT = _lib.KMT_EXPORT_MOUTH_CUES_DAT

    @classmethod
    def parse(cls, value: Union["ExportFormat", int, str]) -> "ExportFormat":
        """An ExportFormat from itself, its int value or a name ("glb", "glb-sparse",
        "livelink", "live_link_csv", "cues-tsv", "cues-json", "mouth_cues_json", any case)."""
        if isinstance(value, str):
            key = value.strip().lower().replace("-", "_")
            aliases = {"livelink": "live_link_csv", "live_link": "live_link_csv", "gltf": "glb",
                       "cues_tsv": "mouth_cues_tsv", "tsv": "mouth_cues_tsv",
                       "cues_json": "mouth_cues_json", "gltf_sparse": "glb_sparse", "phones": "phones_tsv",
                       "cues_xml": "mouth_cues_xml", "cues_dat": "mouth_cues_dat", "moho": "mouth_cues_dat"}
            key = aliases.get(key, key)
            try:
                return cls[key.upper()]
            except KeyError:
                raise InvalidArgumentError(
                    _lib.KMT_ERR_INVALID_ARGUMENT,
                    f"unknown export format {value!r} (one of {', '.join(m.name.lower() for m in cls)})") from None
        return cls(int(value))


class KMTalkError(Exception):
    """A failed KMTalk call. ``status`` is a :class:`Status` (or the raw int
    for a status this version does not know), ``message`` the library's
    detail from kmt_last_error()."""

    #: The status this class stands for (None for the base class).
    STATUS: Optional[Status] = None

    #: For an error of :func:`push_many`: every session's status, in the order of the
    #: sessions passed (:attr:`Status.OK` for those that were pushed); None otherwise.
    statuses: Optional[List[Union[Status, int]]] = None

    def __init__(self, status: int, message: str = ""):
        try:
            self.status: Union[Status, int] = Status(status)
        except ValueError:
            self.status = int(status)
        self.message = message
        super().__init__(int(status), message)

    @property
    def status_name(self) -> str:
        """The C enumerator name of the status, e.g. "KMT_ERR_IO"."""
        if isinstance(self.status, Status):
            return self.status.c_name
        return f"KMT_STATUS_{self.status}"

    def __str__(self) -> str:
        description = _status_description(int(self.status))
        if self.message:
            return f"{self.message} [{self.status_name}: {description}]"
        return f"{description} [{self.status_name}]"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.status_name}, {self.message!r})"

    @staticmethod
    def from_status(status: int, message: str = "") -> "KMTalkError":
        """The matching subclass instance for `status`."""
        cls = _ERROR_CLASSES.get(int(status), KMTalkError)
        return cls(status, message)


class InvalidArgumentError(KMTalkError, ValueError):
    STATUS = Status.INVALID_ARGUMENT


class FileIOError(KMTalkError, OSError):
    """KMT_ERR_IO; also an :class:`OSError`, so ``except OSError`` catches a
    missing or unreadable file as for any Python file API (``errno`` is None:
    the library reports its own status, with the path in ``message``)."""

    STATUS = Status.IO

    def __init__(self, status: int, message: str = ""):
        super().__init__(status, message)
        self.errno = None
        self.strerror = message


class UnsupportedFormatError(KMTalkError):
    STATUS = Status.UNSUPPORTED_FORMAT


class InvalidAudioError(KMTalkError):
    STATUS = Status.INVALID_AUDIO


class CorruptModelError(KMTalkError):
    STATUS = Status.CORRUPT_MODEL


class IncompatibleModelError(KMTalkError):
    STATUS = Status.INCOMPATIBLE_MODEL


class OutOfMemoryError(KMTalkError):
    STATUS = Status.OUT_OF_MEMORY


class BufferTooSmallError(KMTalkError):
    STATUS = Status.BUFFER_TOO_SMALL


class InternalError(KMTalkError):
    STATUS = Status.INTERNAL


class CorruptRigError(KMTalkError):
    STATUS = Status.CORRUPT_RIG


class CancelledError(KMTalkError):
    """KMT_ERR_CANCELLED: a progress callable returned False, so the call
    stopped and cleaned up (no animation, no file written or changed). When
    the callable raised instead, that exception is re-raised (a
    KeyboardInterrupt stays a KeyboardInterrupt), with this error as its
    context."""

    STATUS = Status.CANCELLED


class MetadataKeyError(InvalidArgumentError, KeyError):
    """The model (or rig) has no metadata under the requested key."""

    def __str__(self) -> str:  # KeyError.__str__ would repr() the args
        return KMTalkError.__str__(self)


_ERROR_CLASSES: Dict[int, type] = {
    int(cls.STATUS): cls
    for cls in (
        InvalidArgumentError,
        FileIOError,
        UnsupportedFormatError,
        InvalidAudioError,
        CorruptModelError,
        IncompatibleModelError,
        OutOfMemoryError,
        BufferTooSmallError,
        InternalError,
        CorruptRigError,
        CancelledError,
    )
}


def _status_description(status: int) -> str:
    try:
        return status_string(status)
    except LibraryNotFoundError:
        return Status(status).name.lower().replace("_", " ") if status in Status._value2member_map_ else "unknown"


def _check(status: int) -> None:
    """Raises the KMTalkError for a failed status, with kmt_last_error()."""
    if status != _lib.KMT_OK:
        detail = _lib.kmt_last_error()
        raise KMTalkError.from_status(status, _decode(detail))


def _default_params(struct_type: Any, init: Callable[[Any, int], int]) -> Any:
    """A parameter struct set up by its kmt_*_params_init function: the library's defaults,
    struct_size this module's ctypes size (the by-value kmt_*_default_params() are
    deprecated: a newer library's larger struct would overrun the ctypes buffer)."""
    params = struct_type()
    _check(init(ctypes.byref(params), ctypes.sizeof(struct_type)))
    return params


def _get(getter: Callable[..., int], *args: Any, ctype: Any = ctypes.c_size_t) -> Any:
    """The value a C getter writes into its out-parameter (kmtalk.h, "The one rule for
    reading values": ``kmt_status getter(object, ..., T *out)``): the number, the bytes of a
    string, or the pointer; raises the KMTalkError for a failed status."""
    out = ctype()
    _check(getter(*args, ctypes.byref(out)))
    return getattr(out, "value", out)


def _decode(value: Optional[bytes]) -> str:
    return "" if value is None else value.decode("utf-8", errors="replace")


def _fspath(path: PathLike) -> bytes:
    return os.fsencode(os.fspath(path))


# --------------------------------------------------------------------------
# Library-wide functions
# --------------------------------------------------------------------------


def version() -> str:
    """The library version at run time, "MAJOR.MINOR.PATCH"."""
    return _decode(_lib.kmt_version())


def version_number() -> int:
    """The library version as major * 10000 + minor * 100 + patch."""
    return int(_lib.kmt_version_number())


def status_string(status: int) -> str:
    """The library's short description of a status code."""
    return _decode(_lib.kmt_status_string(int(status)))


_log_lock = threading.Lock()
_log_trampoline: Optional[Any] = None  # keeps the installed C callback alive


def set_log_callback(callback: Optional[Callable[[LogLevel, str], None]],
                     min_level: Union[LogLevel, int] = LogLevel.WARNING) -> None:
    """Installs ``callback(level, message)`` for the library's log messages at
    `min_level` and above (process-wide); None silences the library. The
    callback may run on any thread that calls KMTalk; exceptions it raises are
    swallowed."""
    global _log_trampoline
    with _log_lock:
        if callback is None:
            _lib.kmt_log_set(_lib.kmt_log_callback(), int(min_level), None)
            _log_trampoline = None
            return

        def trampoline(level: int, message: Optional[bytes], _user_data: Any) -> None:
            try:
                try:
                    typed_level: Union[LogLevel, int] = LogLevel(level)
                except ValueError:
                    typed_level = level
                callback(typed_level, _decode(message))
            except BaseException:  # never let an exception cross into C
                pass

        c_callback = _lib.kmt_log_callback(trampoline)
        _lib.kmt_log_set(c_callback, int(min_level), None)
        _log_trampoline = c_callback


# --------------------------------------------------------------------------
# Progress
# --------------------------------------------------------------------------


class _ProgressRelay:
    """The library's kmt_progress_callback for one object, relaying to the
    Python callable of the call in progress (``active``). An exception the
    callable raises, or a False return, cancels the library call; after it,
    :meth:`check` re-raises that exception (or CancelledError). With no
    callable the relay only gives Python a chance to run, so Ctrl-C
    (KeyboardInterrupt) stops a long call too."""

    def __init__(self) -> None:
        self.active: Optional[ProgressCallback] = None
        self.error: Optional[BaseException] = None
        self.c_callback = _lib.kmt_progress_callback(self._call)

    def _call(self, fraction: float, stage: Optional[bytes], _user_data: Any) -> int:
        try:
            callback = self.active
            if callback is not None and callback(float(fraction), _decode(stage)) is False:
                return 1
            return 0
        except BaseException as error:  # never let an exception cross into C
            self.error = error
            return 1

    def start(self, callback: Optional[ProgressCallback]) -> None:
        if callback is not None and not callable(callback):
            raise TypeError(f"progress must be callable or None, not {type(callback).__name__}")
        self.active = callback
        self.error = None

    def check(self, status: int) -> None:
        """Ends the call: raises the callable's exception, or the call's error."""
        error, self.error, self.active = self.error, None, None
        if error is not None and status == _lib.KMT_ERR_CANCELLED:
            try:
                _check(status)
            except CancelledError as cancelled:
                raise error from cancelled
        _check(status)


# --------------------------------------------------------------------------
# Handle base class
# --------------------------------------------------------------------------


class _Handle:
    """Owns one C handle; frees it once, on close(), `with` exit or GC."""

    _handle: Optional[int] = None
    _free: Optional[Callable[[Any], None]] = None

    def _adopt(self, handle: Optional[int], free: Callable[[Any], None]) -> None:
        self._handle = handle
        self._free = free

    def close(self) -> None:
        """Releases the C object now. Safe to call more than once."""
        handle, self._handle = self._handle, None
        if handle is not None and self._free is not None:
            self._free(handle)

    @property
    def closed(self) -> bool:
        return self._handle is None

    def _ptr(self) -> int:
        if self._handle is None:
            raise ValueError(f"{type(self).__name__} is closed")
        return self._handle

    def __enter__(self):
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # interpreter shutdown: the library may be gone
            pass


# --------------------------------------------------------------------------
# Model
# --------------------------------------------------------------------------


class Model(_Handle):
    """A loaded KMTalk model (immutable, shareable across threads).

    ``source`` is a file path (str or PathLike) or the model's bytes
    (bytes, bytearray, memoryview or anything with the buffer protocol).
    """

    def __init__(self, source: Union[PathLike, bytes, bytearray, memoryview]):
        _lib.load()
        out = _lib.kmt_model_p()
        if isinstance(source, (str, os.PathLike)):
            self.path: Optional[str] = os.fsdecode(os.fspath(source))
            _check(_lib.kmt_model_load_file(_fspath(source), None, ctypes.byref(out)))
        else:
            self.path = None
            data: Any
            if isinstance(source, bytes):
                data, size = source, len(source)
            else:
                view = memoryview(source)
                if view.readonly or not view.c_contiguous or view.nbytes == 0:
                    data = view.tobytes()
                    size = len(data)
                else:
                    view = view.cast("B")
                    size = view.nbytes
                    data = (ctypes.c_ubyte * size).from_buffer(view)
            _check(_lib.kmt_model_load_memory(data, size, None, ctypes.byref(out)))
        self._adopt(out.value, _lib.kmt_model_free)

    @property
    def architecture(self) -> str:
        return _decode(_get(_lib.kmt_model_architecture, self._ptr(), ctype=ctypes.c_char_p))

    @property
    def motion_space(self) -> str:
        """What the channels are: "arkit" (the 52 ARKit weights), "rig" (a
        rig's named shapes) or "vertices" (offsets from the model's template)."""
        return _decode(_get(_lib.kmt_model_motion_space, self._ptr(), ctype=ctypes.c_char_p))

    @property
    def sample_rate(self) -> int:
        """The audio sample rate the model consumes (Hz)."""
        return int(_get(_lib.kmt_model_sample_rate, self._ptr(), ctype=ctypes.c_int32))

    @property
    def fps(self) -> float:
        """The model's native output frame rate."""
        return float(_get(_lib.kmt_model_fps, self._ptr(), ctype=ctypes.c_double))

    @property
    def channel_count(self) -> int:
        return int(_get(_lib.kmt_model_channel_count, self._ptr()))

    def channel_name(self, index: int) -> str:
        """The name of output channel `index`; InvalidArgumentError when it is not below
        :attr:`channel_count`."""
        return _decode(_get(_lib.kmt_model_channel_name, self._ptr(), index, ctype=ctypes.c_char_p))

    @property
    def channel_names(self) -> Tuple[str, ...]:
        return tuple(self.channel_name(i) for i in range(self.channel_count))

    @property
    def parameter_count(self) -> int:
        return int(_get(_lib.kmt_model_parameter_count, self._ptr(), ctype=ctypes.c_uint64))

    _MISSING = object()

    def metadata(self, key: str, default: Any = _MISSING) -> Any:
        """The model's ``__metadata__`` value for `key`. A missing key raises
        MetadataKeyError (a KeyError), or returns `default` when given."""
        handle = self._ptr()
        encoded = key.encode("utf-8")
        length = ctypes.c_size_t()
        status = _lib.kmt_model_metadata(handle, encoded, None, 0, ctypes.byref(length))
        if status == _lib.KMT_ERR_INVALID_ARGUMENT:
            message = _decode(_lib.kmt_last_error())
            if default is not Model._MISSING:
                return default
            raise MetadataKeyError(status, message)
        if status not in (_lib.KMT_OK, _lib.KMT_ERR_BUFFER_TOO_SMALL):
            _check(status)
        buffer = ctypes.create_string_buffer(length.value + 1)
        _check(_lib.kmt_model_metadata(handle, encoded, buffer, len(buffer), ctypes.byref(length)))
        return buffer.raw[: length.value].decode("utf-8", errors="replace")

    def __repr__(self) -> str:
        if self.closed:
            return "<kmtalk.Model (closed)>"
        return (f"<kmtalk.Model {self.architecture} {self.channel_count} channels "
                f"{self.fps:g} fps {self.parameter_count} parameters>")


# --------------------------------------------------------------------------
# Session
# --------------------------------------------------------------------------

_NONFINITE = {"reject": _lib.KMT_NONFINITE_REJECT, "zero": _lib.KMT_NONFINITE_ZERO}


class Session(_Handle):
    """Per-stream inference state over a model.

    threads: threads while computing: 0 or 1 the calling thread only
        (bit-identical results); N > 1 splits long sequences (offline animation)
        by rows over N threads started for the call (the same results).
    fps: output frame rate 1..240, or None for the model's native rate.
    nonfinite: "reject" (NaN/Inf samples raise InvalidAudioError) or "zero"
    (they become silence).
    progress: a :data:`ProgressCallback` for the offline calls
    (:meth:`animate_file`, :meth:`animate_pcm`; each may pass its own), or
    None. Ctrl-C stops a long offline call either way (KeyboardInterrupt).

    One session serves one thread at a time; this class serialises calls
    with a lock, so sharing it between threads is safe but not parallel.
    """

    def __init__(self, model: Model, threads: int = 0, fps: Optional[float] = None,
                 nonfinite: str = "reject", progress: Optional[ProgressCallback] = None):
        if not isinstance(model, Model):
            raise TypeError(f"model must be a kmtalk.Model, not {type(model).__name__}")
        if nonfinite not in _NONFINITE:
            raise InvalidArgumentError(
                _lib.KMT_ERR_INVALID_ARGUMENT, f"nonfinite must be 'reject' or 'zero', got {nonfinite!r}")
        params = _default_params(_lib.kmt_session_params, _lib.kmt_session_params_init)
        params.n_threads = int(threads)
        params.output_fps = 0.0 if fps is None else float(fps)
        params.nonfinite_policy = _NONFINITE[nonfinite]
        if progress is not None and not callable(progress):
            raise TypeError(f"progress must be callable or None, not {type(progress).__name__}")
        # The session keeps the C callback: the relay lives as long as this object.
        self._relay = _ProgressRelay()
        self.progress = progress
        params.progress = self._relay.c_callback
        out = _lib.kmt_session_p()
        _check(_lib.kmt_session_create(model._ptr(), ctypes.byref(params), ctypes.byref(out)))
        self._adopt(out.value, _lib.kmt_session_free)
        self.model = model  # keeps the Python model (and its handle) alive
        self.threads = int(threads)
        self.fps = model.fps if not fps else float(fps)  # 0 means native, as in C
        self.nonfinite = nonfinite
        self._lock = threading.Lock()

    def close(self) -> None:
        """Releases the session (waits for a call in progress on another thread)."""
        lock = getattr(self, "_lock", None)
        if lock is None:
            super().close()
        else:
            with lock:
                super().close()

    _DEFAULT = object()

    def animate_file(self, path: PathLike, progress: Any = _DEFAULT) -> "Animation":
        """Decodes and animates the audio file at `path` (any format
        libsndfile reads, any channel count and rate 8..192 kHz).
        ``progress``: a :data:`ProgressCallback` for this call (default: the
        session's; None for none). Returning False or raising cancels:
        CancelledError, or the exception raised."""
        encoded = _fspath(path)
        out = _lib.kmt_animation_p()
        with self._lock:
            self._relay.start(self.progress if progress is Session._DEFAULT else progress)
            status = _lib.kmt_animate_file(self._ptr(), encoded, ctypes.byref(out))
            self._relay.check(status)
        return Animation._from_handle(out.value)

    def animate_pcm(self, samples: Any, sample_rate: int, progress: Any = _DEFAULT) -> "Animation":
        """Animates PCM samples: a 1-D array is mono, a 2-D array is
        frames x channels. Converted to contiguous float32 (nominal -1..1);
        int16 samples are scaled by 1/32768, as :meth:`push` and 16-bit files.
        ``progress`` as for :meth:`animate_file`."""
        array = np.asarray(samples)
        if array.ndim == 1:
            channels = 1
        elif array.ndim == 2:
            channels = array.shape[1]
        else:
            raise InvalidArgumentError(
                _lib.KMT_ERR_INVALID_ARGUMENT,
                f"samples must be 1-D (mono) or 2-D (frames x channels), got shape {array.shape}")
        if array.dtype == np.int16:
            # As kmt_session_push_s16 (and libsndfile for 16-bit files) scale them.
            array = array.astype(np.float32) / 32768.0
        array = np.ascontiguousarray(array, dtype=np.float32)
        frames = array.shape[0]
        pointer = array.ctypes.data_as(ctypes.POINTER(ctypes.c_float))
        out = _lib.kmt_animation_p()
        with self._lock:
            self._relay.start(self.progress if progress is Session._DEFAULT else progress)
            status = _lib.kmt_animate_pcm(self._ptr(), pointer, frames, int(sample_rate), channels,
                                          ctypes.byref(out))
            self._relay.check(status)
        return Animation._from_handle(out.value)

    # -- streaming ---------------------------------------------------------

    @property
    def latency_ms(self) -> float:
        """Streaming latency in milliseconds: how long after its time a frame
        is final (default 150, or the model's full look-ahead when shorter).
        Set it (>= 20, before the first push of an utterance) to trade delay
        for fidelity: at :attr:`exact_latency_ms` or more the frames equal
        ``animate_pcm``; below it each frame is computed as if the audio
        ended there."""
        return float(_get(_lib.kmt_session_latency_ms, self._ptr(), ctype=ctypes.c_double))

    @property
    def exact_latency_ms(self) -> float:
        """The model's full look-ahead in milliseconds (296 for kmtalk-base):
        the smallest latency at which streamed frames equal ``animate_pcm``."""
        return float(_get(_lib.kmt_session_exact_latency_ms, self._ptr(), ctype=ctypes.c_double))

    @latency_ms.setter
    def latency_ms(self, value: float) -> None:
        with self._lock:
            _check(_lib.kmt_session_set_latency_ms(self._ptr(), float(value)))

    def push(self, samples: Any, sample_rate: int) -> None:
        """Pushes a chunk of PCM to the stream: 1-D (mono) or 2-D (frames x
        channels); int16 arrays go through kmt_session_push_s16, anything
        else is converted to float32."""
        array = np.asarray(samples)
        if array.ndim not in (1, 2):
            raise InvalidArgumentError(
                _lib.KMT_ERR_INVALID_ARGUMENT,
                f"samples must be 1-D (mono) or 2-D (frames x channels), got shape {array.shape}")
        channels = 1 if array.ndim == 1 else array.shape[1]
        with self._lock:
            if array.dtype == np.int16:
                array = np.ascontiguousarray(array)
                pointer = array.ctypes.data_as(ctypes.POINTER(ctypes.c_int16))
                _check(_lib.kmt_session_push_s16(self._ptr(), pointer, array.shape[0], int(sample_rate), channels))
            else:
                array = np.ascontiguousarray(array, dtype=np.float32)
                pointer = array.ctypes.data_as(ctypes.POINTER(ctypes.c_float))
                _check(_lib.kmt_session_push_f32(self._ptr(), pointer, array.shape[0], int(sample_rate), channels))

    def pull(self) -> Tuple[np.ndarray, float]:
        """The frames that became final, (frames x channels float32, time in
        seconds of the first one)."""
        channels = self.model.channel_count
        with self._lock:
            pending = ctypes.c_size_t()
            _check(_lib.kmt_session_pending_frames(self._ptr(), ctypes.byref(pending)))
            out = np.zeros((pending.value, channels), dtype=np.float32)
            frames, first = ctypes.c_size_t(), ctypes.c_double()
            if pending.value:
                _check(_lib.kmt_session_pull(self._ptr(), out.ctypes.data_as(ctypes.POINTER(ctypes.c_float)),
                                             out.size, ctypes.byref(frames), ctypes.byref(first)))
        return out[:frames.value], first.value

    def flush(self) -> None:
        """Ends the utterance: the remaining frames become final (pull them)."""
        with self._lock:
            _check(_lib.kmt_session_flush(self._ptr()))

    def reset(self) -> None:
        """Starts a new utterance (any rate and channel count)."""
        with self._lock:
            _check(_lib.kmt_session_reset(self._ptr()))

    def stream(self, chunks: Any, sample_rate: int):
        """Generator: pushes each chunk of `chunks` (arrays as for `push`) and
        yields (frames, first_time) whenever frames became final; flushes at
        the end and resets the session for the next utterance. The
        concatenated frames equal `animate_pcm` on the whole audio."""
        self.reset()
        for chunk in chunks:
            self.push(chunk, sample_rate)
            frames, first = self.pull()
            if len(frames):
                yield frames, first
        self.flush()
        frames, first = self.pull()
        if len(frames):
            yield frames, first
        self.reset()

    def __repr__(self) -> str:
        state = " (closed)" if self.closed else ""
        return f"<kmtalk.Session fps={self.fps:g} threads={self.threads} nonfinite={self.nonfinite}{state}>"


def _status_or_int(status: int) -> Union[Status, int]:
    try:
        return Status(status)
    except ValueError:
        return int(status)


def push_many(sessions: Any, blocks: Any, sample_rate: int, channels: Optional[int] = None) -> None:
    """Pushes ``blocks[i]`` to ``sessions[i]`` for every session in one call
    (kmt_sessions_push_f32 / _s16), with the outcome of ``sessions[i].push(blocks[i],
    sample_rate)``: the same frames, bit for bit. The sessions that share
    a model run each network layer together, one pass over its weights for all their new
    audio, where separate pushes make one pass per session: for a host that ticks many
    live streams. Pull each session's frames as usual.

    blocks: one array per session, as for :meth:`Session.push`: 1-D (mono) or 2-D
    (frames x channels), every block with the same channel count; an empty block pushes
    nothing to its session. With ``channels`` given, 1-D blocks are interleaved frames of
    that many channels (2-D blocks must have that many columns). When every non-empty
    block is int16 they go through kmt_sessions_push_s16; otherwise all are converted to
    float32 (int16 scaled by 1/32768, as the library does).

    Raises the :class:`KMTalkError` subclass of the first session that failed, with
    kmt_last_error()'s message (naming its index) and ``error.statuses``, every session's
    :class:`Status`: the others were pushed, and a failed one is left as a failed
    :meth:`Session.push` leaves it (a NaN block is dropped; the stream may go on). A
    session listed twice, or a rate or channel count out of range, pushes nothing (every
    status the same). Holds every session's lock for the call.
    """
    sessions = list(sessions)
    arrays = [np.asarray(block) for block in blocks]
    for session in sessions:
        if not isinstance(session, Session):
            raise TypeError(f"sessions must be kmtalk.Session objects, not {type(session).__name__}")
    if len(sessions) != len(arrays):
        raise InvalidArgumentError(
            _lib.KMT_ERR_INVALID_ARGUMENT, f"{len(sessions)} sessions but {len(arrays)} blocks")
    for index, array in enumerate(arrays):
        if array.ndim not in (1, 2):
            raise InvalidArgumentError(
                _lib.KMT_ERR_INVALID_ARGUMENT,
                f"blocks[{index}] must be 1-D (mono) or 2-D (frames x channels), got shape {array.shape}")
    filled = [array for array in arrays if array.size]
    if channels is None:
        counts = {1 if array.ndim == 1 else array.shape[1] for array in filled}
        if len(counts) > 1:
            raise InvalidArgumentError(
                _lib.KMT_ERR_INVALID_ARGUMENT,
                f"the blocks have different channel counts ({', '.join(map(str, sorted(counts)))})")
        channels = counts.pop() if counts else 1
    channels = int(channels)
    frames = []
    for index, array in enumerate(arrays):
        if array.ndim == 2 and array.size and array.shape[1] != channels:
            raise InvalidArgumentError(
                _lib.KMT_ERR_INVALID_ARGUMENT, f"blocks[{index}] has {array.shape[1]} channels, not {channels}")
        if array.ndim == 1 and channels > 0 and array.size % channels:
            raise InvalidArgumentError(
                _lib.KMT_ERR_INVALID_ARGUMENT,
                f"blocks[{index}]: {array.size} samples are not a whole number of {channels}-channel frames")
        frames.append(0 if not array.size else array.shape[0] if array.ndim == 2 else array.size // max(channels, 1))
    s16 = bool(filled) and all(array.dtype == np.int16 for array in filled)
    if s16:
        element, push = ctypes.c_int16, _lib.kmt_sessions_push_s16
        data = [np.ascontiguousarray(array, dtype=np.int16) for array in arrays]
    else:
        element, push = ctypes.c_float, _lib.kmt_sessions_push_f32
        data = [np.ascontiguousarray(array.astype(np.float32) / 32768.0 if array.dtype == np.int16 else array,
                                     dtype=np.float32) for array in arrays]
    count = len(sessions)
    if count == 0:
        return
    pointer = ctypes.POINTER(element)
    pcm = (pointer * count)(*[array.ctypes.data_as(pointer) if array.size else pointer() for array in data])
    frame_counts = (ctypes.c_size_t * count)(*frames)
    statuses = (_lib.kmt_status * count)()
    # Every session's lock, each once (a session listed twice is the library's to refuse),
    # in one global order so that two threads batching overlapping sessions cannot deadlock.
    locks = sorted({id(session): session._lock for session in sessions}.items())
    acquired = []
    try:
        for _, lock in locks:
            lock.acquire()
            acquired.append(lock)
        handles = (_lib.kmt_session_p * count)(*[session._ptr() for session in sessions])
        status = push(handles, count, pcm, frame_counts, int(sample_rate), channels, statuses)
        detail = _lib.kmt_last_error() if status != _lib.KMT_OK else None
    finally:
        for lock in reversed(acquired):
            lock.release()
    if status != _lib.KMT_OK:
        error = KMTalkError.from_status(status, _decode(detail))
        error.statuses = [_status_or_int(value) for value in statuses]
        raise error


# --------------------------------------------------------------------------
# Animation
# --------------------------------------------------------------------------


class Animation(_Handle):
    """An animation result: frame_count x channel_count float weights at fps.
    Frame i is at time i / fps."""

    def __init__(self) -> None:  # pragma: no cover - use Session.animate_*
        raise TypeError("Animation objects come from Session.animate_file / animate_pcm")

    @classmethod
    def _from_handle(cls, handle: Optional[int]) -> "Animation":
        if not handle:
            raise InternalError(_lib.KMT_ERR_INTERNAL, "library returned KMT_OK but no animation")
        self = cls.__new__(cls)
        self._adopt(handle, _lib.kmt_animation_free)
        self._weights: Optional[np.ndarray] = None
        return self

    @property
    def fps(self) -> float:
        return float(_get(_lib.kmt_animation_fps, self._ptr(), ctype=ctypes.c_double))

    def remap(self, channel_map: Any) -> "Animation":
        """A new animation for a character whose shapes are not the model's channels
        (``kmt_animation_remap``, docs/rig.md "Channel maps"): each target shape is a
        weighted sum of this animation's channels. ``channel_map`` is the map as a dict
        (``{"channels": {"jawOpen": "Mouth_Open", "mouthSmileLeft": {"Smile_L": 0.8}}}``),
        its JSON text, or the path of a JSON file (str or os.PathLike ending in .json)."""
        if isinstance(channel_map, dict):
            text = json.dumps(channel_map)
        elif isinstance(channel_map, os.PathLike) or (isinstance(channel_map, str) and channel_map.endswith(".json")):
            with open(channel_map, encoding="utf-8") as f:
                text = f.read()
        elif isinstance(channel_map, str):
            text = channel_map
        else:
            raise TypeError("channel_map must be a dict, JSON text or the path of a .json file")
        out = _lib.kmt_animation_p()
        _check(_lib.kmt_animation_remap(self._ptr(), text.encode("utf-8"), ctypes.byref(out)))
        return Animation._from_handle(out.value)

    @property
    def frame_count(self) -> int:
        return int(_get(_lib.kmt_animation_frame_count, self._ptr()))

    def __len__(self) -> int:
        return self.frame_count

    @property
    def channel_count(self) -> int:
        return int(_get(_lib.kmt_animation_channel_count, self._ptr()))

    def channel_name(self, index: int) -> str:
        """The name of channel `index`; InvalidArgumentError when it is not below
        :attr:`channel_count`."""
        return _decode(_get(_lib.kmt_animation_channel_name, self._ptr(), index, ctype=ctypes.c_char_p))

    @property
    def channel_names(self) -> Tuple[str, ...]:
        return tuple(self.channel_name(i) for i in range(self.channel_count))

    @property
    def duration(self) -> float:
        """frame_count / fps, in seconds."""
        fps = self.fps
        return self.frame_count / fps if fps else 0.0

    def read_frames(self, first_frame: int = 0, frame_count: Optional[int] = None) -> np.ndarray:
        """A new float32 array (frames x channels) of frames
        [first_frame, first_frame + frame_count); all remaining frames when
        frame_count is None."""
        handle = self._ptr()
        total = _get(_lib.kmt_animation_frame_count, handle)
        channels = _get(_lib.kmt_animation_channel_count, handle)
        if first_frame < 0 or (frame_count is not None and frame_count < 0):
            raise InvalidArgumentError(_lib.KMT_ERR_INVALID_ARGUMENT,
                                       f"negative frame range ({first_frame}, {frame_count})")
        if frame_count is None:
            frame_count = max(total - first_frame, 0)
        if first_frame + frame_count > total:
            # Checked here too: the library reads out of bounds for ranges whose
            # size_t arithmetic wraps (first_frame near SIZE_MAX).
            raise InvalidArgumentError(
                _lib.KMT_ERR_INVALID_ARGUMENT,
                f"frames [{first_frame}, {first_frame + frame_count}) lie outside the animation's {total} frames")
        out = np.empty((frame_count, channels), dtype=np.float32)
        written = ctypes.c_size_t()
        _check(_lib.kmt_animation_read_frames(
            handle, first_frame, frame_count, out.ctypes.data_as(ctypes.POINTER(ctypes.c_float)),
            out.size, ctypes.byref(written)))
        if written.value != out.size:
            raise InternalError(_lib.KMT_ERR_INTERNAL,
                                f"kmt_animation_read_frames wrote {written.value} floats, expected {out.size}")
        return out

    @property
    def weights(self) -> np.ndarray:
        """All frames as a read-only float32 array (frame_count x channel_count)."""
        if self._weights is None:
            weights = self.read_frames(0, None)
            weights.setflags(write=False)
            self._weights = weights
        return self._weights

    def channel(self, name: str) -> np.ndarray:
        """The weights of one channel over time (1-D view of `weights`)."""
        try:
            index = self.channel_names.index(name)
        except ValueError:
            raise KeyError(name) from None
        return self.weights[:, index]

    @property
    def vertex_count(self) -> int:
        """V of the template mesh an animation of a vertices-space model
        carries (its channels are the offsets v0.x, v0.y, v0.z, ...); 0 for an
        animation of blendshape weights."""
        return int(_get(_lib.kmt_animation_vertex_count, self._ptr()))

    def faces(self) -> np.ndarray:
        """The triangles of a vertices-space animation's template, a new int32
        array F x 3 (F = 0 when the model has none). Animations of weights
        raise InvalidArgumentError (a rig's faces: :meth:`Rig.faces`)."""
        handle = self._ptr()
        needed = ctypes.c_size_t()
        status = _lib.kmt_animation_read_faces(handle, None, 0, ctypes.byref(needed))
        if status != _lib.KMT_ERR_BUFFER_TOO_SMALL:
            _check(status)
        out = np.empty((needed.value // 3, 3), dtype=np.int32)
        _check(_lib.kmt_animation_read_faces(handle, out.ctypes.data_as(ctypes.POINTER(ctypes.c_int32)),
                                             out.size, None))
        return out

    def vertices(self, rig: Optional["Rig"] = None, first_frame: int = 0, frame_count: Optional[int] = None,
                 offsets: bool = False) -> np.ndarray:
        """Poses frames [first_frame, first_frame + frame_count) (all remaining
        when frame_count is None) on `rig`: a new float32 array frames x V x 3
        of positions, or of offsets from the neutral mesh when `offsets`.
        Channels drive the rig's shapes by name (see :meth:`Rig.shape_channels`).
        An animation of a vertices-space model poses its own template: leave
        `rig` None (a rig is refused); animations of weights need one."""
        if rig is not None and not isinstance(rig, Rig):
            raise TypeError(f"rig must be a kmtalk.Rig or None, not {type(rig).__name__}")
        handle = self._ptr()
        rig_handle = None if rig is None else rig._ptr()
        vertex_count = _get(_lib.kmt_rig_vertex_count, rig_handle) if rig is not None else self.vertex_count
        total = _get(_lib.kmt_animation_frame_count, handle)
        if first_frame < 0 or (frame_count is not None and frame_count < 0):
            raise InvalidArgumentError(_lib.KMT_ERR_INVALID_ARGUMENT,
                                       f"negative frame range ({first_frame}, {frame_count})")
        if frame_count is None:
            frame_count = max(total - first_frame, 0)
        if first_frame + frame_count > total:
            raise InvalidArgumentError(
                _lib.KMT_ERR_INVALID_ARGUMENT,
                f"frames [{first_frame}, {first_frame + frame_count}) lie outside the animation's {total} frames")
        out = np.empty((frame_count, vertex_count, 3), dtype=np.float32)
        mode = _lib.KMT_VERTICES_OFFSETS if offsets else _lib.KMT_VERTICES_ABSOLUTE
        written = ctypes.c_size_t()
        _check(_lib.kmt_animation_vertices(
            handle, rig_handle, first_frame, frame_count, mode, out.ctypes.data_as(ctypes.POINTER(ctypes.c_float)),
            out.size, ctypes.byref(written)))
        return out

    def save(self, path: PathLike, rig: Optional["Rig"] = None,
             format: Union[ExportFormat, int, str] = ExportFormat.AUTO, *,
             extended_shapes: Optional[str] = None, progress: Optional[ProgressCallback] = None) -> None:
        """Writes the animation to `path` (atomically) with kmt_animation_save.
        `format`: an :class:`ExportFormat` or its name ("json", "csv",
        "livelink", "npy", "glb", "glb-sparse", "obj", "ply", "cues-tsv",
        "cues-json", "phones"); AUTO picks it from the extension (.tsv: mouth cues,
        .glb: dense GLB). GLB, OBJ and PLY need a `rig`; with one, NPY holds vertices. Animations of
        vertices-space models take no rig: NPY, OBJ and PLY pose their own
        template, GLB refuses them. OBJ and PLY write one file per frame
        (name_000001.obj, ...). The mouth-cue formats write Rhubarb Lip Sync's
        TSV or JSON (shapes A-H and X for 2D characters, read from the ARKit
        mouth weights).

        ``extended_shapes``: for the mouth-cue formats, which of Rhubarb's
        extended shapes to use, letters of "GHX" (None: all; "": the basic
        shapes A-F only; others are drawn as Rhubarb does: G as B, H as C, X
        as A). ``progress``: a :data:`ProgressCallback` (stage "export");
        returning False or raising cancels, leaving no file and an existing
        one untouched (CancelledError, or the exception raised)."""
        chosen = ExportFormat.parse(format)
        rig_handle = None if rig is None else rig._ptr()
        with _export_params(extended_shapes, progress) as (params, relay):
            status = _lib.kmt_animation_save_with_params(self._ptr(), rig_handle, _fspath(path), int(chosen),
                                                         ctypes.byref(params))
            relay.check(status)

    def save_into(self, asset: PathLike, path: PathLike) -> None:
        """Writes the animation into the user's own character (kmt_animation_save_into_glb):
        a copy of the binary glTF ``asset`` is written to ``path`` (a .glb, atomically;
        it may be ``asset`` itself) with every mesh, material, skin, node and
        animation kept and a "speech" animation added first, driving the morph
        targets named like the channels (ARKit names, or :meth:`remap` first for
        other names); undriven targets keep their rest weights. Raises
        InvalidArgumentError when no target matches a channel (the message lists
        the asset's target names), UnsupportedFormatError for a file that is not GLB."""
        _check(_lib.kmt_animation_save_into_glb(self._ptr(), _fspath(asset), _fspath(path)))

    def to_bytes(self, format: Union[ExportFormat, int, str], rig: Optional["Rig"] = None, *,
                 extended_shapes: Optional[str] = None, progress: Optional[ProgressCallback] = None) -> bytes:
        """The bytes :meth:`save` would write for a single-file format (JSON,
        CSV, Live Link CSV, NPY, GLB, mouth cues), via
        kmt_animation_save_to_memory_with_params (``extended_shapes`` and
        ``progress`` as for :meth:`save`)."""
        chosen = ExportFormat.parse(format)
        handle = self._ptr()
        rig_handle = None if rig is None else rig._ptr()
        size = ctypes.c_size_t()
        with _export_params(extended_shapes, progress) as (params, relay):
            relay.start(None)  # the size query: Ctrl-C only; the progress is the second call's
            status = _lib.kmt_animation_save_to_memory_with_params(
                handle, rig_handle, int(chosen), ctypes.byref(params), None, 0, ctypes.byref(size))
            if status != _lib.KMT_ERR_BUFFER_TOO_SMALL:
                relay.check(status)
            relay.start(progress)
            buffer = ctypes.create_string_buffer(max(size.value, 1))
            status = _lib.kmt_animation_save_to_memory_with_params(
                handle, rig_handle, int(chosen), ctypes.byref(params), buffer, size.value, ctypes.byref(size))
            relay.check(status)
        return buffer.raw[: size.value]

    #: The dtype of :meth:`mouth_cues`: start and end in seconds, the Rhubarb shape letter.
    MOUTH_CUE_DTYPE = np.dtype([("start", "<f8"), ("end", "<f8"), ("shape", "U1")])
    #: The dtype of :meth:`phones`: start and end in seconds, the phone, its confidence.
    PHONE_DTYPE = np.dtype([("start", "<f8"), ("end", "<f8"), ("phone", "U8"), ("confidence", "<f4")])

    def mouth_cues(self, extended_shapes: Optional[str] = None) -> np.ndarray:
        """The mouth cues (Rhubarb Lip Sync's shapes A-H, X) as a structured array
        of ``MOUTH_CUE_DTYPE``, one row per cue, each ending where the next starts
        (the same cues as the TSV, JSON, XML and DAT exports). ``extended_shapes``
        as for :meth:`save` ("" for the basic shapes A-F only)."""
        lines = self.to_bytes(ExportFormat.MOUTH_CUES_TSV, extended_shapes=extended_shapes).decode().splitlines()
        starts = [(float(time), shape) for time, shape in (line.split("\t") for line in lines)]
        rows = [(start, starts[i + 1][0], shape) for i, (start, shape) in enumerate(starts[:-1])]
        return np.array(rows, dtype=self.MOUTH_CUE_DTYPE)

    def phones(self) -> np.ndarray:
        """The phones the model recognized as a structured array of
        ``PHONE_DTYPE`` (key-motion models; others raise InvalidArgumentError)."""
        lines = self.to_bytes(ExportFormat.PHONES_TSV).decode().splitlines()[1:]
        rows = []
        for line in lines:
            start, end, phone, confidence = line.split("\t")
            rows.append((float(start), float(end), phone, float(confidence)))
        return np.array(rows, dtype=self.PHONE_DTYPE)

    def to_dict(self) -> Dict[str, Any]:
        """A JSON-serialisable dict: fps, channel_names, frame_count, weights
        (a list of per-frame lists of floats)."""
        return {
            "fps": self.fps,
            "channel_names": list(self.channel_names),
            "frame_count": self.frame_count,
            "weights": self.weights.tolist(),
        }

    def __repr__(self) -> str:
        if self.closed:
            return "<kmtalk.Animation (closed)>"
        return f"<kmtalk.Animation {self.frame_count} frames x {self.channel_count} channels at {self.fps:g} fps>"


class _export_params:
    """``with _export_params(extended_shapes, progress) as (params, relay)``:
    a kmt_export_params carrying the options, and the relay that turns the
    progress callable's exception into the call's."""

    def __init__(self, extended_shapes: Optional[str], progress: Optional[ProgressCallback]):
        if extended_shapes is not None and not isinstance(extended_shapes, str):
            raise TypeError(f"extended_shapes must be a str of G, H, X or None, not {type(extended_shapes).__name__}")
        self.relay = _ProgressRelay()
        self.relay.start(progress)
        self.params = _default_params(_lib.kmt_export_params, _lib.kmt_export_params_init)
        self.params.progress = self.relay.c_callback
        if extended_shapes is not None:
            self.params.mouth_cue_extended_shapes = extended_shapes.encode("utf-8")

    def __enter__(self):
        return self.params, self.relay

    def __exit__(self, *exc_info: Any) -> None:
        self.relay.active = None


# --------------------------------------------------------------------------
# Rig
# --------------------------------------------------------------------------


def _buffer_argument(source: Any) -> Tuple[Any, int]:
    """(data, size) for passing bytes-like `source` to a C `const void *`."""
    if isinstance(source, bytes):
        return source, len(source)
    view = memoryview(source)
    if view.readonly or not view.c_contiguous or view.nbytes == 0:
        data = view.tobytes()
        return data, len(data)
    view = view.cast("B")
    return (ctypes.c_ubyte * view.nbytes).from_buffer(view), view.nbytes


class Rig(_Handle):
    """A character rig (neutral mesh plus named blendshapes, docs/rig.md);
    immutable, shareable across threads.

    ``source`` is a kmtalk-rig safetensors file path (str or PathLike) or the
    file's bytes.
    """

    def __init__(self, source: Union[PathLike, bytes, bytearray, memoryview]):
        _lib.load()
        out = _lib.kmt_rig_p()
        if isinstance(source, (str, os.PathLike)):
            self.path: Optional[str] = os.fsdecode(os.fspath(source))
            _check(_lib.kmt_rig_load_file(_fspath(source), ctypes.byref(out)))
        else:
            self.path = None
            data, size = _buffer_argument(source)
            _check(_lib.kmt_rig_load_memory(data, size, ctypes.byref(out)))
        self._adopt(out.value, _lib.kmt_rig_free)

    @classmethod
    def import_file(cls, path: PathLike, *, mesh: Optional[str] = None, neutral: Optional[str] = None,
                    units: Optional[str] = None, all_objs: bool = False,
                    allow_outside_files: bool = False, progress: Optional[ProgressCallback] = None) -> "Rig":
        """Imports a rig from a glTF 2.0 file (.gltf/.glb) whose mesh has morph
        targets, or from a folder of OBJ files (a neutral mesh plus one OBJ per
        shape). ``mesh``: the glTF mesh by name or index; ``neutral``: the
        neutral OBJ's file name; ``units``: "m", "cm" or "mm" for OBJs (default:
        guessed); ``all_objs``: ignore an ICT-FaceKit manifest;
        ``allow_outside_files``: follow references out of the asset's folder;
        ``progress``: a :data:`ProgressCallback` (stage "import"; returning
        False or raising cancels)."""
        _lib.load()
        relay = _ProgressRelay()
        relay.start(progress)
        params = _default_params(_lib.kmt_rig_import_params, _lib.kmt_rig_import_params_init)
        params.progress = relay.c_callback
        params.mesh = mesh.encode() if mesh is not None else None
        params.neutral = neutral.encode() if neutral is not None else None
        params.units = units.encode() if units is not None else None
        params.flags = ((_lib.KMT_RIG_IMPORT_ALL_OBJS if all_objs else 0)
                        | (_lib.KMT_RIG_IMPORT_ALLOW_OUTSIDE_FILES if allow_outside_files else 0))
        out = _lib.kmt_rig_p()
        relay.check(_lib.kmt_rig_import_file(_fspath(path), ctypes.byref(params), ctypes.byref(out)))
        rig = cls.__new__(cls)
        rig.path = os.fsdecode(os.fspath(path))
        rig._adopt(out.value, _lib.kmt_rig_free)
        return rig

    @classmethod
    def from_shape_names(cls, names: Any) -> "Rig":
        """A placeholder rig that has only shape names (one triangle, zero
        deltas), built in memory: for :meth:`shape_channels` and
        :meth:`unmatched_channels`, the library's channel-to-shape name matching
        (docs/rig.md), on a character whose mesh lives elsewhere (a Blender
        mesh's shape keys, a Unity SkinnedMeshRenderer's blendshapes). Names
        must be non-empty and unique."""
        import json
        import struct
        names = [str(name) for name in names]
        vertices = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0]], dtype="<f4")
        faces = np.array([[0, 1, 2]], dtype="<i4")
        deltas = np.zeros((len(names), 3, 3), dtype="<f4")
        header: Dict[str, Any] = {"__metadata__": {
            "format": "kmtalk-rig", "format_version": "1", "channels": json.dumps(names), "units": "m",
            "up_axis": "+y", "forward_axis": "+z", "description": "shape names only (Rig.from_shape_names)"}}
        offset, blobs = 0, []
        for key, dtype, array in (("vertices", "F32", vertices), ("faces", "I32", faces), ("deltas", "F32", deltas)):
            blob = array.tobytes()
            header[key] = {"dtype": dtype, "shape": list(array.shape), "data_offsets": [offset, offset + len(blob)]}
            offset += len(blob)
            blobs.append(blob)
        text = json.dumps(header).encode("utf-8")
        text += b" " * ((8 - len(text) % 8) % 8)
        return cls(struct.pack("<Q", len(text)) + text + b"".join(blobs))

    def unmatched_channels(self, animation: Animation) -> Tuple[str, ...]:
        """The names of the animation's channels that drive no shape of this rig."""
        driven = {int(index) for index in self.shape_channels(animation) if index >= 0}
        return tuple(name for i, name in enumerate(animation.channel_names) if i not in driven)

    def save(self, path: PathLike, *, half: bool = False) -> None:
        """Writes the rig as a kmtalk-rig safetensors file (atomically);
        ``half`` stores the deltas as float16 (refused when rounding exceeds
        0.1 mm)."""
        _check(_lib.kmt_rig_save(self._ptr(), _fspath(path), _lib.KMT_RIG_SAVE_HALF if half else 0))

    @property
    def vertex_count(self) -> int:
        return int(_get(_lib.kmt_rig_vertex_count, self._ptr()))

    @property
    def face_count(self) -> int:
        return int(_get(_lib.kmt_rig_face_count, self._ptr()))

    @property
    def shape_count(self) -> int:
        return int(_get(_lib.kmt_rig_shape_count, self._ptr()))

    def shape_name(self, index: int) -> str:
        """The name of blendshape `index`; InvalidArgumentError when it is not below
        :attr:`shape_count`."""
        return _decode(_get(_lib.kmt_rig_shape_name, self._ptr(), index, ctype=ctypes.c_char_p))

    @property
    def shape_names(self) -> Tuple[str, ...]:
        return tuple(self.shape_name(i) for i in range(self.shape_count))

    _MISSING = object()

    def metadata(self, key: str, default: Any = _MISSING) -> Any:
        """The rig's ``__metadata__`` value for `key` ("units", "description",
        ...). A missing key raises MetadataKeyError, or returns `default`."""
        handle = self._ptr()
        encoded = key.encode("utf-8")
        length = ctypes.c_size_t()
        status = _lib.kmt_rig_metadata(handle, encoded, None, 0, ctypes.byref(length))
        if status == _lib.KMT_ERR_INVALID_ARGUMENT:
            message = _decode(_lib.kmt_last_error())
            if default is not Rig._MISSING:
                return default
            raise MetadataKeyError(status, message)
        if status not in (_lib.KMT_OK, _lib.KMT_ERR_BUFFER_TOO_SMALL):
            _check(status)
        buffer = ctypes.create_string_buffer(length.value + 1)
        _check(_lib.kmt_rig_metadata(handle, encoded, buffer, len(buffer), ctypes.byref(length)))
        return buffer.raw[: length.value].decode("utf-8", errors="replace")

    @property
    def units(self) -> str:
        """The length unit of the positions: "m", "cm" or "mm"."""
        return self.metadata("units")

    @property
    def vertices(self) -> np.ndarray:
        """The neutral positions, a new float32 array V x 3."""
        out = np.empty((self.vertex_count, 3), dtype=np.float32)
        _check(_lib.kmt_rig_read_vertices(self._ptr(), out.ctypes.data_as(ctypes.POINTER(ctypes.c_float)),
                                          out.size, None))
        return out

    @property
    def faces(self) -> np.ndarray:
        """The triangles, a new int32 array F x 3 of vertex indices."""
        out = np.empty((self.face_count, 3), dtype=np.int32)
        _check(_lib.kmt_rig_read_faces(self._ptr(), out.ctypes.data_as(ctypes.POINTER(ctypes.c_int32)),
                                       out.size, None))
        return out

    def deltas(self, shape: Union[int, str]) -> np.ndarray:
        """A blendshape's deltas (by index or name): a new float32 array V x 3,
        each vertex's offset from the neutral mesh at weight 1."""
        if isinstance(shape, str):
            names = self.shape_names
            if shape not in names:
                raise KeyError(f"no shape named {shape!r} in this rig")
            shape = names.index(shape)
        if not 0 <= int(shape) < self.shape_count:
            raise IndexError(f"shape {shape} is out of range: the rig has {self.shape_count} shapes")
        out = np.empty((self.vertex_count, 3), dtype=np.float32)
        _check(_lib.kmt_rig_read_deltas(self._ptr(), int(shape), out.ctypes.data_as(ctypes.POINTER(ctypes.c_float)),
                                        out.size, None))
        return out

    def shape_channels(self, animation: Animation) -> np.ndarray:
        """For each rig shape, the index of the animation channel that drives
        it, or -1 (int32 array of shape_count)."""
        out = np.empty(self.shape_count, dtype=np.int32)
        _check(_lib.kmt_rig_shape_channels(self._ptr(), animation._ptr(),
                                           out.ctypes.data_as(ctypes.POINTER(ctypes.c_int32)), out.size, None))
        return out

    def __repr__(self) -> str:
        if self.closed:
            return "<kmtalk.Rig (closed)>"
        return f"<kmtalk.Rig {self.vertex_count} vertices {self.face_count} faces {self.shape_count} shapes>"


# --------------------------------------------------------------------------
# Audio decoding
# --------------------------------------------------------------------------


class Audio(_Handle):
    """Audio decoded by the library (kmt_audio_load_file / _memory): every
    format :meth:`Session.animate_file` reads (WAV, FLAC, Ogg, MP3, AIFF, ...),
    channels averaged to mono, resampled with libsoxr to ``sample_rate`` (None:
    the file's own rate). At the model's rate the samples are exactly those
    ``animate_file`` feeds the network, so ``session.stream`` on them gives the
    offline frames. Immutable, shareable across threads.

    ``source`` is a file path (str or PathLike) or the file's bytes.
    ``nonfinite``: "reject" (NaN/Inf samples raise InvalidAudioError) or
    "zero". ``progress``: a :data:`ProgressCallback` (stage "decode";
    returning False or raising cancels). Containers libsndfile does not read
    (MP4/M4A/AAC) raise UnsupportedFormatError.
    """

    def __init__(self, source: Union[PathLike, bytes, bytearray, memoryview],
                 sample_rate: Optional[int] = None, *, nonfinite: str = "reject",
                 progress: Optional[ProgressCallback] = None):
        _lib.load()
        if nonfinite not in _NONFINITE:
            raise InvalidArgumentError(
                _lib.KMT_ERR_INVALID_ARGUMENT, f"nonfinite must be 'reject' or 'zero', got {nonfinite!r}")
        relay = _ProgressRelay()
        relay.start(progress)
        params = _default_params(_lib.kmt_audio_params, _lib.kmt_audio_params_init)
        params.sample_rate = 0 if sample_rate is None else int(sample_rate)
        params.nonfinite_policy = _NONFINITE[nonfinite]
        params.progress = relay.c_callback
        out = _lib.kmt_audio_p()
        if isinstance(source, (str, os.PathLike)):
            self.path: Optional[str] = os.fsdecode(os.fspath(source))
            status = _lib.kmt_audio_load_file(_fspath(source), ctypes.byref(params), ctypes.byref(out))
        else:
            self.path = None
            data, size = _buffer_argument(source)
            status = _lib.kmt_audio_load_memory(data, size, ctypes.byref(params), ctypes.byref(out))
        relay.check(status)
        self._adopt(out.value, _lib.kmt_audio_free)

    @property
    def sample_rate(self) -> int:
        """The rate of :attr:`samples` in Hz."""
        return int(_get(_lib.kmt_audio_sample_rate, self._ptr(), ctype=ctypes.c_int32))

    @property
    def sample_count(self) -> int:
        return int(_get(_lib.kmt_audio_sample_count, self._ptr()))

    @property
    def samples(self) -> np.ndarray:
        """The mono samples as a float32 array (a copy: it outlives the handle)."""
        handle = self._ptr()
        count = int(_get(_lib.kmt_audio_sample_count, handle))
        samples = _get(_lib.kmt_audio_samples, handle, ctype=ctypes.POINTER(ctypes.c_float))
        return np.ctypeslib.as_array(samples, shape=(count,)).copy()

    @property
    def duration(self) -> float:
        """Seconds of audio."""
        return self.sample_count / self.sample_rate

    @property
    def source_rate(self) -> int:
        """The file's own sample rate."""
        return int(_get(_lib.kmt_audio_source_rate, self._ptr(), ctype=ctypes.c_int32))

    @property
    def source_channels(self) -> int:
        """The file's channel count before the mixdown."""
        return int(_get(_lib.kmt_audio_source_channels, self._ptr(), ctype=ctypes.c_int32))

    @property
    def format_name(self) -> str:
        """libsndfile's name for the container and encoding, e.g.
        "WAV (Microsoft) / Signed 16 bit PCM"."""
        return _decode(_get(_lib.kmt_audio_format_name, self._ptr(), ctype=ctypes.c_char_p))

    def __repr__(self) -> str:
        if self.closed:
            return "<kmtalk.Audio (closed)>"
        return (f"<kmtalk.Audio {self.sample_count} samples at {self.sample_rate} Hz from "
                f"{self.format_name!r}, {self.source_channels} ch {self.source_rate} Hz>")


def load_audio(source: Union[PathLike, bytes, bytearray, memoryview], sample_rate: Optional[int] = None, *,
               nonfinite: str = "reject", progress: Optional[ProgressCallback] = None) -> Tuple[np.ndarray, int]:
    """Decodes an audio file (a path, or its bytes) with the library:
    ``(samples, rate)``, mono float32 at ``sample_rate`` (None: the file's own
    rate). Options and errors as :class:`Audio`. For streaming a file, pass
    ``model.sample_rate``: the samples are then exactly those
    :meth:`Session.animate_file` feeds the network."""
    with Audio(source, sample_rate, nonfinite=nonfinite, progress=progress) as audio:
        return audio.samples, audio.sample_rate


# --------------------------------------------------------------------------
# Convenience
# --------------------------------------------------------------------------

MODEL_ENV = "KMTALK_MODEL"
# Preferred first: the trained default model, then the random-weight test model.
_REPOSITORY_MODELS = (Path("models") / "kmtalk-base.safetensors", Path("models") / "kmtalk-tiny-random.safetensors")


def default_model_path() -> Optional[str]:
    """$KMTALK_MODEL, else the model bundled in the package (a wheel's
    kmtalk/models/kmtalk-base.safetensors), else the repository's
    models/kmtalk-base.safetensors or models/kmtalk-tiny-random.safetensors found
    by walking up from this package; None when none exists."""
    env = os.environ.get(MODEL_ENV)
    if env:
        return env
    here = Path(__file__).resolve().parent
    if (here / _REPOSITORY_MODELS[0]).is_file():  # bundled: kmtalk/models/...
        return str(here / _REPOSITORY_MODELS[0])
    for directory in (here.parent, *here.parent.parents):
        for relative in _REPOSITORY_MODELS:
            candidate = directory / relative
            if candidate.is_file():
                return str(candidate)
    return None


def animate(path: PathLike, model: Union[Model, PathLike, bytes, None] = None, **session_options: Any) -> Animation:
    """Animates the audio file at `path` in one call.

    `model` is a Model, a model path or bytes, or None for
    :func:`default_model_path`. `session_options` go to :class:`Session`
    (threads, fps, nonfinite, progress)."""
    if isinstance(model, Model):
        with Session(model, **session_options) as session:
            return session.animate_file(path)
    if model is None:
        model = default_model_path()
        if model is None:
            raise FileNotFoundError(
                f"no model given: set {MODEL_ENV} or pass model=, "
                f"(none of {[str(p) for p in _REPOSITORY_MODELS]} was found above {Path(__file__).resolve().parent})")
    with Model(model) as loaded, Session(loaded, **session_options) as session:
        return session.animate_file(path)
