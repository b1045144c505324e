"""Low-level ctypes layer: every function of ``include/kmtalk.h``, 1:1.

This module mirrors the C header exactly. Each Python function below has the
same name, the same arguments and the same return value as its C counterpart
(the C prototype is written above it); nothing is converted, checked or
freed for you. Use the friendly layer in :mod:`kmtalk` unless you need the raw
API.

The shared library is located and loaded on first use (see :func:`load`), so
``import kmtalk`` works even where libKMTalk.so is missing; the first call
then raises :class:`LibraryNotFoundError` listing every place that was tried.

Library lookup order:

1. the environment variable ``KMTALK_LIBRARY`` (path to the .so);
2. the library bundled in the package, ``kmtalk/_native/libKMTalk.so`` (the
   wheel scripts/build-wheel.sh makes; absent in a repository checkout);
3. the repository build outputs, walking up from this package's directory:
   ``dist/lib/libKMTalk.so``, ``.build/release/libKMTalk.so``,
   ``.build/debug/libKMTalk.so``;
4. ``ctypes.util.find_library("KMTalk")``, then plain ``"libKMTalk.so"``
   (the dynamic loader's search path: LD_LIBRARY_PATH, ldconfig cache, ...).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
import threading
import warnings
from ctypes import (
    CFUNCTYPE,
    POINTER,
    Structure,
    c_char_p,
    c_double,
    c_float,
    c_int,
    c_int16,
    c_int32,
    c_size_t,
    c_uint32,
    c_uint64,
    c_void_p,
)
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence

# --------------------------------------------------------------------------
# Versions (compile-time values of the header this module mirrors)
# --------------------------------------------------------------------------

KMT_VERSION_MAJOR = 1
KMT_VERSION_MINOR = 0
KMT_VERSION_PATCH = 0
KMT_VERSION_STRING = "1.0.0"
KMT_VERSION_NUMBER = KMT_VERSION_MAJOR * 10000 + KMT_VERSION_MINOR * 100 + KMT_VERSION_PATCH

# --------------------------------------------------------------------------
# Enums (C enums are ints)
# --------------------------------------------------------------------------

# typedef enum kmt_status { ... } kmt_status;
kmt_status = c_int
KMT_OK = 0
KMT_ERR_INVALID_ARGUMENT = 1
KMT_ERR_IO = 2
KMT_ERR_UNSUPPORTED_FORMAT = 3
KMT_ERR_INVALID_AUDIO = 4
KMT_ERR_CORRUPT_MODEL = 5
KMT_ERR_INCOMPATIBLE_MODEL = 6
KMT_ERR_OUT_OF_MEMORY = 7
KMT_ERR_BUFFER_TOO_SMALL = 8
KMT_ERR_INTERNAL = 9
KMT_ERR_CORRUPT_RIG = 10
KMT_ERR_CANCELLED = 11

# typedef enum kmt_log_level { ... } kmt_log_level;
kmt_log_level = c_int
KMT_LOG_DEBUG = 0
KMT_LOG_INFO = 1
KMT_LOG_WARNING = 2
KMT_LOG_ERROR = 3

# typedef enum kmt_nonfinite_policy { ... } kmt_nonfinite_policy;
kmt_nonfinite_policy = c_int
KMT_NONFINITE_REJECT = 0
KMT_NONFINITE_ZERO = 1

# typedef enum kmt_vertex_mode { ... } kmt_vertex_mode;
kmt_vertex_mode = c_int
KMT_VERTICES_ABSOLUTE = 0
KMT_VERTICES_OFFSETS = 1

# typedef enum kmt_export_format { ... } kmt_export_format;
kmt_export_format = c_int
KMT_EXPORT_AUTO = 0
KMT_EXPORT_JSON = 1
KMT_EXPORT_CSV = 2
KMT_EXPORT_LIVE_LINK_CSV = 3
KMT_EXPORT_NPY = 4
KMT_EXPORT_GLB = 5
KMT_EXPORT_OBJ = 6
KMT_EXPORT_PLY = 7
KMT_EXPORT_MOUTH_CUES_TSV = 8
KMT_EXPORT_MOUTH_CUES_JSON = 9
KMT_EXPORT_GLB_SPARSE = 10
KMT_EXPORT_PHONES_TSV = 11
KMT_EXPORT_MOUTH_CUES_XML = 12
KMT_EXPORT_MOUTH_CUES_DAT = 13

# --------------------------------------------------------------------------
# Handles (opaque pointers) and callback type
# --------------------------------------------------------------------------

# typedef struct kmt_model kmt_model;
kmt_model_p = c_void_p
# typedef struct kmt_session kmt_session;
kmt_session_p = c_void_p
# typedef struct kmt_animation kmt_animation;
kmt_animation_p = c_void_p
# typedef struct kmt_rig kmt_rig;
kmt_rig_p = c_void_p
# typedef struct kmt_audio kmt_audio;
kmt_audio_p = c_void_p

# typedef void (*kmt_log_callback)(kmt_log_level level, const char *message,
#                                  void *user_data);
kmt_log_callback = CFUNCTYPE(None, kmt_log_level, c_char_p, c_void_p)

# typedef int (*kmt_progress_callback)(float fraction, const char *stage,
#                                      void *user_data);
kmt_progress_callback = CFUNCTYPE(c_int, c_float, c_char_p, c_void_p)

# --------------------------------------------------------------------------
# Parameter structs
# --------------------------------------------------------------------------


class kmt_model_params(Structure):
    """typedef struct kmt_model_params { size_t struct_size; uint32_t flags; }"""

    _fields_ = [
        ("struct_size", c_size_t),
        ("flags", c_uint32),
        ("reserved", c_uint32),
    ]


class kmt_rig_import_params(Structure):
    """typedef struct kmt_rig_import_params { size_t struct_size; const char *mesh;
    const char *neutral; const char *units; uint32_t flags; uint32_t reserved;
    kmt_progress_callback progress; void *progress_user_data; }"""

    _fields_ = [
        ("struct_size", c_size_t),
        ("mesh", c_char_p),
        ("neutral", c_char_p),
        ("units", c_char_p),
        ("flags", c_uint32),
        ("reserved", c_uint32),
        ("progress", kmt_progress_callback),
        ("progress_user_data", c_void_p),
    ]


KMT_RIG_IMPORT_ALL_OBJS = 1
KMT_RIG_IMPORT_ALLOW_OUTSIDE_FILES = 2
KMT_RIG_SAVE_HALF = 1


class kmt_session_params(Structure):
    """typedef struct kmt_session_params { size_t struct_size; int32_t n_threads;
    kmt_nonfinite_policy nonfinite_policy; double output_fps; double latency_ms;
    kmt_progress_callback progress; void *progress_user_data; }"""

    _fields_ = [
        ("struct_size", c_size_t),
        ("n_threads", c_int32),
        ("nonfinite_policy", kmt_nonfinite_policy),
        ("output_fps", c_double),
        ("latency_ms", c_double),
        ("progress", kmt_progress_callback),
        ("progress_user_data", c_void_p),
    ]


#: kmt_session_params.latency_ms: stream at the model's full look-ahead.
KMT_LATENCY_EXACT = -1


class kmt_stage_time(Structure):
    """typedef struct kmt_stage_time { const char *stage; double seconds; }"""

    _fields_ = [
        ("stage", c_char_p),
        ("seconds", c_double),
    ]


class kmt_audio_params(Structure):
    """typedef struct kmt_audio_params { size_t struct_size; int32_t sample_rate;
    kmt_nonfinite_policy nonfinite_policy; kmt_progress_callback progress;
    void *progress_user_data; }"""

    _fields_ = [
        ("struct_size", c_size_t),
        ("sample_rate", c_int32),
        ("nonfinite_policy", kmt_nonfinite_policy),
        ("progress", kmt_progress_callback),
        ("progress_user_data", c_void_p),
    ]


class kmt_export_params(Structure):
    """typedef struct kmt_export_params { size_t struct_size; kmt_progress_callback progress;
    void *progress_user_data; const char *mouth_cue_extended_shapes; }"""

    _fields_ = [
        ("struct_size", c_size_t),
        ("progress", kmt_progress_callback),
        ("progress_user_data", c_void_p),
        ("mouth_cue_extended_shapes", c_char_p),
    ]


# --------------------------------------------------------------------------
# Library lookup and loading
# --------------------------------------------------------------------------

LIBRARY_ENV = "KMTALK_LIBRARY"
LIBRARY_NAME = "libKMTalk.so"
#: The library a wheel carries, relative to the package directory.
BUNDLED_LIBRARY = os.path.join("_native", LIBRARY_NAME)
#: Build outputs looked for in every ancestor of the package directory.
REPOSITORY_OUTPUTS = (
    os.path.join("dist", "lib", LIBRARY_NAME),
    os.path.join(".build", "release", LIBRARY_NAME),
    os.path.join(".build", "debug", LIBRARY_NAME),
)


class LibraryNotFoundError(ImportError):
    """libKMTalk.so could not be found or loaded. ``tried`` lists
    ``(candidate, reason)`` pairs in the order they were tried."""

    def __init__(self, tried: Sequence[tuple]):
        self.tried = list(tried)
        lines = [f"  - {candidate}: {reason}" for candidate, reason in self.tried]
        super().__init__(
            "could not load the KMTalk shared library (libKMTalk.so). Tried:\n"
            + "\n".join(lines)
            + f"\nBuild it with `swift build` in the repository, or set {LIBRARY_ENV} "
            "to the path of libKMTalk.so."
        )


def candidate_paths() -> List[tuple]:
    """The library candidates in lookup order, as ``(what, path_or_name)``.
    ``what`` says where the candidate came from."""
    candidates: List[tuple] = []
    env = os.environ.get(LIBRARY_ENV)
    if env:
        candidates.append((f"${LIBRARY_ENV}", env))
    here = Path(__file__).resolve().parent
    bundled = here / BUNDLED_LIBRARY
    if bundled.is_file():
        candidates.append(("bundled with the package", str(bundled)))
    for directory in (here, *here.parents):
        for relative in REPOSITORY_OUTPUTS:
            candidates.append(("repository build", str(directory / relative)))
    found = ctypes.util.find_library("KMTalk")
    if found:
        candidates.append(("ctypes.util.find_library", found))
    candidates.append(("dynamic loader", LIBRARY_NAME))
    return candidates


_lock = threading.Lock()
_cdll: Optional[ctypes.CDLL] = None
_path: Optional[str] = None
_functions: Dict[str, Any] = {}
#: name -> (argtypes, restype), filled by the declarations below.
_signatures: Dict[str, tuple] = {}


def _suited_openblas_coretype(cpuinfo: str = "/proc/cpuinfo") -> Optional[str]:
    """The ``OPENBLAS_CORETYPE`` this CPU can run, from its flags: ``SkylakeX`` with
    AVX-512 (F, BW, DQ, VL), ``Haswell`` with AVX2 + FMA, else None (or when the flags
    cannot be read)."""
    try:
        with open(cpuinfo, encoding="utf-8", errors="replace") as file:
            line = next((line for line in file if line.startswith("flags")), "")
    except OSError:
        return None
    flags = set(line.partition(":")[2].split())
    if {"avx512f", "avx512bw", "avx512dq", "avx512vl"} <= flags:
        return "SkylakeX"
    if {"avx2", "fma"} <= flags:
        return "Haswell"
    return None


def _choose_openblas_kernels() -> None:
    """OpenBLAS picks its kernels from the CPU model when it loads, and on virtual
    machines that hide the model it falls back to SSE3 kernels a third as fast (the CLI
    does the same check: ``kmtalk bench`` prints the kernels). So, unless the user set
    ``OPENBLAS_CORETYPE`` or ``KMTALK_OPENBLAS_AUTO=0``, name the kernels the CPU's flags
    allow before libKMTalk.so (and the OpenBLAS it links) loads."""
    if "OPENBLAS_CORETYPE" in os.environ or os.environ.get("KMTALK_OPENBLAS_AUTO") == "0":
        return
    if not sys.platform.startswith("linux"):
        return
    suited = _suited_openblas_coretype()
    if suited is not None:
        os.environ["OPENBLAS_CORETYPE"] = suited


def _open() -> tuple:
    _choose_openblas_kernels()
    tried = []
    if not os.environ.get(LIBRARY_ENV):
        tried.append((f"${LIBRARY_ENV}", "not set"))
    env_failure = None
    for what, candidate in candidate_paths():
        if os.sep in candidate and not os.path.exists(candidate):
            reason = "no such file"
        else:
            try:
                cdll = ctypes.CDLL(candidate)
            except OSError as error:
                reason = str(error)
            else:
                if env_failure is not None:
                    warnings.warn(f"{LIBRARY_ENV}={env_failure[0]!r} did not load ({env_failure[1]}); "
                                  f"using {candidate} instead", RuntimeWarning, stacklevel=4)
                return cdll, candidate
        tried.append((f"{candidate} ({what})", reason))
        if what == f"${LIBRARY_ENV}":
            env_failure = (candidate, reason)
    raise LibraryNotFoundError(tried)


def load() -> ctypes.CDLL:
    """Finds, loads and declares libKMTalk.so (once); returns the CDLL.
    Raises LibraryNotFoundError when no candidate loads."""
    global _cdll, _path
    if _cdll is not None:
        return _cdll
    with _lock:
        if _cdll is None:
            cdll, path = _open()
            functions = {}
            missing = []
            for name, (argtypes, restype) in _signatures.items():
                try:
                    function = getattr(cdll, name)
                except AttributeError:
                    missing.append(name)
                    continue
                function.argtypes = argtypes
                function.restype = restype
                functions[name] = function
            if missing:
                raise LibraryNotFoundError(
                    [(path, "loaded, but lacks " + ", ".join(missing) + " (an older or different library?)")])
            _functions.update(functions)
            _path = path
            _cdll = cdll
    return _cdll


def library_path() -> str:
    """The path (or name) the library was loaded from; loads it if needed."""
    load()
    assert _path is not None
    return _path


def _c(name: str, argtypes: list, restype: Any) -> Callable:
    """Declares C function `name`; the decorated stub only supplies the docs."""
    _signatures[name] = (argtypes, restype)

    def decorator(stub: Callable) -> Callable:
        def call(*args):
            function = _functions.get(name)
            if function is None:
                load()
                function = _functions[name]
            return function(*args)

        call.__name__ = call.__qualname__ = name
        call.__doc__ = stub.__doc__
        call.__module__ = __name__
        call.argtypes = argtypes  # type: ignore[attr-defined]
        call.restype = restype  # type: ignore[attr-defined]
        return call

    return decorator


# --------------------------------------------------------------------------
# Versions
# --------------------------------------------------------------------------

# const char *kmt_version(void);
@_c("kmt_version", [], c_char_p)
def kmt_version() -> bytes:
    """The library version at run time, "MAJOR.MINOR.PATCH"."""


# int32_t kmt_version_number(void);
@_c("kmt_version_number", [], c_int32)
def kmt_version_number() -> int:
    """The library version as major * 10000 + minor * 100 + patch."""


# --------------------------------------------------------------------------
# Status codes and errors
# --------------------------------------------------------------------------

# const char *kmt_status_string(kmt_status status);
@_c("kmt_status_string", [kmt_status], c_char_p)
def kmt_status_string(status: int) -> bytes:
    """A short static description of a status code."""


# const char *kmt_last_error(void);
@_c("kmt_last_error", [], c_char_p)
def kmt_last_error() -> bytes:
    """The message of the last failed call on this thread ("" after success)."""


# void kmt_log_set(kmt_log_callback callback, kmt_log_level min_level,
#                  void *user_data);
@_c("kmt_log_set", [kmt_log_callback, kmt_log_level, c_void_p], None)
def kmt_log_set(callback: Any, min_level: int, user_data: Any) -> None:
    """Installs a process-wide log callback (None silences the library).
    Keep a reference to the kmt_log_callback object while it is installed."""


# --------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------

# kmt_status kmt_model_params_init(kmt_model_params *params, size_t struct_size);
@_c("kmt_model_params_init", [POINTER(kmt_model_params), c_size_t], kmt_status)
def kmt_model_params_init(params: Any, struct_size: int) -> int:
    """Fills `params` with the default model options, writing exactly `struct_size` bytes
    (pass ctypes.sizeof(kmt_model_params)): the replacement of the deprecated by-value
    kmt_*_default_params() of 0.1, which a newer library's larger struct would overrun."""




# kmt_status kmt_model_load_file(const char *path, const kmt_model_params *params,
#                                kmt_model **out_model);
@_c("kmt_model_load_file", [c_char_p, POINTER(kmt_model_params), POINTER(kmt_model_p)], kmt_status)
def kmt_model_load_file(path: bytes, params: Any, out_model: Any) -> int:
    """Loads a model from a safetensors file."""


# kmt_status kmt_model_load_memory(const void *data, size_t size,
#                                  const kmt_model_params *params,
#                                  kmt_model **out_model);
@_c("kmt_model_load_memory", [c_void_p, c_size_t, POINTER(kmt_model_params), POINTER(kmt_model_p)], kmt_status)
def kmt_model_load_memory(data: Any, size: int, params: Any, out_model: Any) -> int:
    """Loads a model from `size` bytes at `data` (copied as needed)."""


# void kmt_model_free(kmt_model *model);
@_c("kmt_model_free", [kmt_model_p], None)
def kmt_model_free(model: Any) -> None:
    """Releases the caller's reference to a model. Accepts NULL."""


# kmt_status kmt_model_architecture(const kmt_model *model, const char **out_name);
@_c("kmt_model_architecture", [kmt_model_p, POINTER(c_char_p)], kmt_status)
def kmt_model_architecture(model: Any, out_name: Any) -> int:
    """*out_name: the model's architecture name."""


# kmt_status kmt_model_motion_space(const kmt_model *model, const char **out_space);
@_c("kmt_model_motion_space", [kmt_model_p, POINTER(c_char_p)], kmt_status)
def kmt_model_motion_space(model: Any, out_space: Any) -> int:
    """*out_space: what the model's channels are: b"arkit", b"rig" or b"vertices"."""


# kmt_status kmt_model_sample_rate(const kmt_model *model, int32_t *out_rate);
@_c("kmt_model_sample_rate", [kmt_model_p, POINTER(c_int32)], kmt_status)
def kmt_model_sample_rate(model: Any, out_rate: Any) -> int:
    """*out_rate: the audio sample rate the model consumes (Hz)."""


# kmt_status kmt_model_fps(const kmt_model *model, double *out_fps);
@_c("kmt_model_fps", [kmt_model_p, POINTER(c_double)], kmt_status)
def kmt_model_fps(model: Any, out_fps: Any) -> int:
    """*out_fps: the model's native output frame rate."""


# kmt_status kmt_model_channel_count(const kmt_model *model, size_t *out_count);
@_c("kmt_model_channel_count", [kmt_model_p, POINTER(c_size_t)], kmt_status)
def kmt_model_channel_count(model: Any, out_count: Any) -> int:
    """*out_count: the number of output channels."""


# kmt_status kmt_model_channel_name(const kmt_model *model,
#                                   size_t index, const char **out_name);
@_c("kmt_model_channel_name", [kmt_model_p, c_size_t, POINTER(c_char_p)], kmt_status)
def kmt_model_channel_name(model: Any, index: int, out_name: Any) -> int:
    """*out_name: the name of output channel `index` (KMT_ERR_INVALID_ARGUMENT when out of range)."""


# kmt_status kmt_model_parameter_count(const kmt_model *model, uint64_t *out_count);
@_c("kmt_model_parameter_count", [kmt_model_p, POINTER(c_uint64)], kmt_status)
def kmt_model_parameter_count(model: Any, out_count: Any) -> int:
    """*out_count: the total number of weights in the model."""


# kmt_status kmt_model_metadata(const kmt_model *model, const char *key,
#                               char *buffer, size_t buffer_size,
#                               size_t *out_length);
@_c("kmt_model_metadata", [kmt_model_p, c_char_p, c_char_p, c_size_t, POINTER(c_size_t)], kmt_status)
def kmt_model_metadata(model: Any, key: bytes, buffer: Any, buffer_size: int, out_length: Any) -> int:
    """Copies the metadata value under `key` into `buffer` (NUL-terminated)."""


# kmt_status kmt_model_log_mel(const kmt_model *model, const float *samples,
#                              size_t sample_count, float *buffer,
#                              size_t buffer_length, size_t *out_written,
#                              size_t *out_bands);
@_c("kmt_model_log_mel", [kmt_model_p, POINTER(c_float), c_size_t, POINTER(c_float), c_size_t, POINTER(c_size_t),
                          POINTER(c_size_t)], kmt_status)
def kmt_model_log_mel(model: Any, samples: Any, sample_count: int, buffer: Any, buffer_length: int, out_written: Any,
                      out_bands: Any) -> int:
    """The model's log-mel spectrogram of mono samples at its rate: F x B floats."""


# --------------------------------------------------------------------------
# Sessions
# --------------------------------------------------------------------------

# kmt_status kmt_session_params_init(kmt_session_params *params, size_t struct_size);
@_c("kmt_session_params_init", [POINTER(kmt_session_params), c_size_t], kmt_status)
def kmt_session_params_init(params: Any, struct_size: int) -> int:
    """Fills `params` with the default session options (n_threads 0, native fps), writing exactly `struct_size` bytes
    (pass ctypes.sizeof(kmt_session_params)): the replacement of the deprecated by-value
    kmt_*_default_params() of 0.1, which a newer library's larger struct would overrun."""




# kmt_status kmt_session_create(const kmt_model *model,
#                               const kmt_session_params *params,
#                               kmt_session **out_session);
@_c("kmt_session_create", [kmt_model_p, POINTER(kmt_session_params), POINTER(kmt_session_p)], kmt_status)
def kmt_session_create(model: Any, params: Any, out_session: Any) -> int:
    """Creates a session on `model` (the session holds a model reference)."""


# void kmt_session_free(kmt_session *session);
@_c("kmt_session_free", [kmt_session_p], None)
def kmt_session_free(session: Any) -> None:
    """Releases a session. Accepts NULL."""


# --------------------------------------------------------------------------
# Offline animation
# --------------------------------------------------------------------------

# kmt_status kmt_animate_file(kmt_session *session, const char *path,
#                             kmt_animation **out_animation);
@_c("kmt_animate_file", [kmt_session_p, c_char_p, POINTER(kmt_animation_p)], kmt_status)
def kmt_animate_file(session: Any, path: bytes, out_animation: Any) -> int:
    """Decodes the audio file at `path` and animates all of it."""


# kmt_status kmt_animate_pcm(kmt_session *session, const float *samples,
#                            size_t frame_count, int32_t sample_rate,
#                            int32_t channels, kmt_animation **out_animation);
@_c("kmt_animate_pcm", [kmt_session_p, POINTER(c_float), c_size_t, c_int32, c_int32, POINTER(kmt_animation_p)],
    kmt_status)
def kmt_animate_pcm(session: Any, samples: Any, frame_count: int, sample_rate: int, channels: int,
                    out_animation: Any) -> int:
    """Animates `frame_count` frames of interleaved float PCM."""


# --------------------------------------------------------------------------
# Streaming
# --------------------------------------------------------------------------

# kmt_status kmt_session_push_f32(kmt_session *session, const float *pcm,
#                                 size_t frames, int32_t sample_rate, int32_t channels);
@_c("kmt_session_push_f32", [kmt_session_p, POINTER(c_float), c_size_t, c_int32, c_int32], kmt_status)
def kmt_session_push_f32(session: Any, pcm: Any, frames: int, sample_rate: int, channels: int) -> int:
    """Pushes interleaved float PCM to the session's stream."""


# kmt_status kmt_session_push_s16(kmt_session *session, const int16_t *pcm,
#                                 size_t frames, int32_t sample_rate, int32_t channels);
@_c("kmt_session_push_s16", [kmt_session_p, POINTER(c_int16), c_size_t, c_int32, c_int32], kmt_status)
def kmt_session_push_s16(session: Any, pcm: Any, frames: int, sample_rate: int, channels: int) -> int:
    """Pushes interleaved 16-bit PCM to the session's stream."""


# kmt_status kmt_sessions_push_f32(kmt_session *const *sessions, size_t count,
#                                  const float *const *pcm, const size_t *frames,
#                                  int32_t sample_rate, int32_t channels,
#                                  kmt_status *out_statuses);
@_c("kmt_sessions_push_f32", [POINTER(kmt_session_p), c_size_t, POINTER(POINTER(c_float)), POINTER(c_size_t),
                              c_int32, c_int32, POINTER(kmt_status)], kmt_status)
def kmt_sessions_push_f32(sessions: Any, count: int, pcm: Any, frames: Any, sample_rate: int, channels: int,
                          out_statuses: Any) -> int:
    """Pushes block pcm[i] (frames[i] frames of interleaved float PCM) to sessions[i] for
    each of `count` sessions in one call; out_statuses (NULL or `count` entries) receives
    each session's status."""


# kmt_status kmt_sessions_push_s16(kmt_session *const *sessions, size_t count,
#                                  const int16_t *const *pcm,
#                                  const size_t *frames, int32_t sample_rate,
#                                  int32_t channels, kmt_status *out_statuses);
@_c("kmt_sessions_push_s16", [POINTER(kmt_session_p), c_size_t, POINTER(POINTER(c_int16)), POINTER(c_size_t),
                              c_int32, c_int32, POINTER(kmt_status)], kmt_status)
def kmt_sessions_push_s16(sessions: Any, count: int, pcm: Any, frames: Any, sample_rate: int, channels: int,
                          out_statuses: Any) -> int:
    """As kmt_sessions_push_f32 for 16-bit PCM (scaled by 1/32768)."""


# kmt_status kmt_session_pull(kmt_session *session, float *buffer, size_t buffer_length,
#                             size_t *out_frames, double *out_first_time);
@_c("kmt_session_pull", [kmt_session_p, POINTER(c_float), c_size_t, POINTER(c_size_t), POINTER(c_double)],
    kmt_status)
def kmt_session_pull(session: Any, buffer: Any, buffer_length: int, out_frames: Any, out_first_time: Any) -> int:
    """Moves the final frames that fit into `buffer`."""


# kmt_status kmt_session_flush(kmt_session *session);
@_c("kmt_session_flush", [kmt_session_p], kmt_status)
def kmt_session_flush(session: Any) -> int:
    """Ends the utterance: the remaining frames become final."""


# kmt_status kmt_session_reset(kmt_session *session);
@_c("kmt_session_reset", [kmt_session_p], kmt_status)
def kmt_session_reset(session: Any) -> int:
    """Starts a new utterance with the same settings."""


# kmt_status kmt_session_pending_frames(kmt_session *session, size_t *out_frames);
@_c("kmt_session_pending_frames", [kmt_session_p, POINTER(c_size_t)], kmt_status)
def kmt_session_pending_frames(session: Any, out_frames: Any) -> int:
    """Number of final frames waiting to be pulled."""


# kmt_status kmt_session_latency_ms(const kmt_session *session, double *out_ms);
@_c("kmt_session_latency_ms", [kmt_session_p, POINTER(c_double)], kmt_status)
def kmt_session_latency_ms(session: Any, out_ms: Any) -> int:
    """*out_ms: the streaming latency in milliseconds (KMT_ERR_INCOMPATIBLE_MODEL for a model that cannot stream)."""


# kmt_status kmt_session_exact_latency_ms(const kmt_session *session, double *out_ms);
@_c("kmt_session_exact_latency_ms", [kmt_session_p, POINTER(c_double)], kmt_status)
def kmt_session_exact_latency_ms(session: Any, out_ms: Any) -> int:
    """*out_ms: the model's full look-ahead: the smallest latency with frames equal to animate_pcm."""


# kmt_status kmt_session_set_latency_ms(kmt_session *session, double latency_ms);
@_c("kmt_session_set_latency_ms", [kmt_session_p, c_double], kmt_status)
def kmt_session_set_latency_ms(session: Any, latency_ms: float) -> int:
    """Chooses the streaming latency (before the first push of an utterance)."""


# kmt_status kmt_session_output_fps(const kmt_session *session, double *out_fps);
@_c("kmt_session_output_fps", [kmt_session_p, POINTER(c_double)], kmt_status)
def kmt_session_output_fps(session: Any, out_fps: Any) -> int:
    """*out_fps: frames per second of the session's output."""


# kmt_status kmt_session_stage_times(const kmt_session *session,
#                                    kmt_stage_time *buffer,
#                                    size_t buffer_length, size_t *out_count);
@_c("kmt_session_stage_times", [kmt_session_p, POINTER(kmt_stage_time), c_size_t, POINTER(c_size_t)], kmt_status)
def kmt_session_stage_times(session: Any, buffer: Any, buffer_length: int, out_count: Any) -> int:
    """Where the time of the session's last offline call went, step by step."""


# --------------------------------------------------------------------------
# Audio decoding
# --------------------------------------------------------------------------

# kmt_status kmt_audio_params_init(kmt_audio_params *params, size_t struct_size);
@_c("kmt_audio_params_init", [POINTER(kmt_audio_params), c_size_t], kmt_status)
def kmt_audio_params_init(params: Any, struct_size: int) -> int:
    """Fills *params with the default audio options (the file's own rate, reject NaN)."""


# kmt_status kmt_audio_load_file(const char *path, const kmt_audio_params *params,
#                                kmt_audio **out_audio);
@_c("kmt_audio_load_file", [c_char_p, POINTER(kmt_audio_params), POINTER(kmt_audio_p)], kmt_status)
def kmt_audio_load_file(path: bytes, params: Any, out_audio: Any) -> int:
    """Decodes an audio file to mono float samples; params may be NULL."""


# kmt_status kmt_audio_load_memory(const void *data, size_t size,
#                                  const kmt_audio_params *params,
#                                  kmt_audio **out_audio);
@_c("kmt_audio_load_memory", [c_void_p, c_size_t, POINTER(kmt_audio_params), POINTER(kmt_audio_p)], kmt_status)
def kmt_audio_load_memory(data: Any, size: int, params: Any, out_audio: Any) -> int:
    """Decodes an audio file held in memory; params may be NULL."""


# void kmt_audio_free(kmt_audio *audio);
@_c("kmt_audio_free", [kmt_audio_p], None)
def kmt_audio_free(audio: Any) -> None:
    """Releases decoded audio. Accepts NULL."""


# kmt_status kmt_audio_sample_rate(const kmt_audio *audio, int32_t *out_rate);
@_c("kmt_audio_sample_rate", [kmt_audio_p, POINTER(c_int32)], kmt_status)
def kmt_audio_sample_rate(audio: Any, out_rate: Any) -> int:
    """*out_rate: the rate of the decoded samples in Hz."""


# kmt_status kmt_audio_sample_count(const kmt_audio *audio, size_t *out_count);
@_c("kmt_audio_sample_count", [kmt_audio_p, POINTER(c_size_t)], kmt_status)
def kmt_audio_sample_count(audio: Any, out_count: Any) -> int:
    """*out_count: the number of decoded mono samples."""


# kmt_status kmt_audio_samples(const kmt_audio *audio, const float **out_samples);
@_c("kmt_audio_samples", [kmt_audio_p, POINTER(POINTER(c_float))], kmt_status)
def kmt_audio_samples(audio: Any, out_samples: Any) -> int:
    """*out_samples: the decoded samples, owned by the audio (valid until kmt_audio_free)."""


# kmt_status kmt_audio_source_rate(const kmt_audio *audio, int32_t *out_rate);
@_c("kmt_audio_source_rate", [kmt_audio_p, POINTER(c_int32)], kmt_status)
def kmt_audio_source_rate(audio: Any, out_rate: Any) -> int:
    """*out_rate: the file's own sample rate."""


# kmt_status kmt_audio_source_channels(const kmt_audio *audio, int32_t *out_channels);
@_c("kmt_audio_source_channels", [kmt_audio_p, POINTER(c_int32)], kmt_status)
def kmt_audio_source_channels(audio: Any, out_channels: Any) -> int:
    """*out_channels: the file's channel count before the mixdown."""


# kmt_status kmt_audio_format_name(const kmt_audio *audio, const char **out_name);
@_c("kmt_audio_format_name", [kmt_audio_p, POINTER(c_char_p)], kmt_status)
def kmt_audio_format_name(audio: Any, out_name: Any) -> int:
    """*out_name: libsndfile's name for the file's container and encoding."""


# --------------------------------------------------------------------------
# Animations
# --------------------------------------------------------------------------

# void kmt_animation_free(kmt_animation *animation);
@_c("kmt_animation_free", [kmt_animation_p], None)
def kmt_animation_free(animation: Any) -> None:
    """Releases an animation. Accepts NULL."""


# kmt_status kmt_animation_frame_count(const kmt_animation *animation, size_t *out_count);
@_c("kmt_animation_frame_count", [kmt_animation_p, POINTER(c_size_t)], kmt_status)
def kmt_animation_frame_count(animation: Any, out_count: Any) -> int:
    """*out_count: the number of frames."""


# kmt_status kmt_animation_channel_count(const kmt_animation *animation, size_t *out_count);
@_c("kmt_animation_channel_count", [kmt_animation_p, POINTER(c_size_t)], kmt_status)
def kmt_animation_channel_count(animation: Any, out_count: Any) -> int:
    """*out_count: the number of channels per frame."""


# kmt_status kmt_animation_fps(const kmt_animation *animation, double *out_fps);
@_c("kmt_animation_fps", [kmt_animation_p, POINTER(c_double)], kmt_status)
def kmt_animation_fps(animation: Any, out_fps: Any) -> int:
    """*out_fps: the frame rate in frames per second."""


# kmt_status kmt_animation_channel_name(const kmt_animation *animation,
#                                       size_t index, const char **out_name);
@_c("kmt_animation_channel_name", [kmt_animation_p, c_size_t, POINTER(c_char_p)], kmt_status)
def kmt_animation_channel_name(animation: Any, index: int, out_name: Any) -> int:
    """*out_name: the name of channel `index` (KMT_ERR_INVALID_ARGUMENT when out of range)."""


# kmt_status kmt_animation_read_frames(const kmt_animation *animation,
#                                      size_t first_frame, size_t frame_count,
#                                      float *buffer, size_t buffer_length,
#                                      size_t *out_written);
@_c("kmt_animation_read_frames",
    [kmt_animation_p, c_size_t, c_size_t, POINTER(c_float), c_size_t, POINTER(c_size_t)], kmt_status)
def kmt_animation_read_frames(animation: Any, first_frame: int, frame_count: int, buffer: Any,
                              buffer_length: int, out_written: Any) -> int:
    """Copies frames [first_frame, first_frame + frame_count) into `buffer`."""


# kmt_status kmt_animation_remap(const kmt_animation *animation,
#                                const char *channel_map_json,
#                                kmt_animation **out_animation);
@_c("kmt_animation_remap", [kmt_animation_p, c_char_p, POINTER(kmt_animation_p)], kmt_status)
def kmt_animation_remap(animation: Any, channel_map_json: bytes, out_animation: Any) -> int:
    """A new animation of a character's own shapes from a JSON channel map."""


# kmt_status kmt_animation_save_into_glb(const kmt_animation *animation,
#                                        const char *asset_path,
#                                        const char *path);
@_c("kmt_animation_save_into_glb", [kmt_animation_p, c_char_p, c_char_p], kmt_status)
def kmt_animation_save_into_glb(animation: Any, asset_path: bytes, path: bytes) -> int:
    """Writes a copy of the GLB at asset_path to path with the animation added."""


# --------------------------------------------------------------------------
# Rigs
# --------------------------------------------------------------------------

# kmt_status kmt_rig_load_file(const char *path, kmt_rig **out_rig);
@_c("kmt_rig_load_file", [c_char_p, POINTER(kmt_rig_p)], kmt_status)
def kmt_rig_load_file(path: bytes, out_rig: Any) -> int:
    """Loads a rig from a kmtalk-rig safetensors file."""


# kmt_status kmt_rig_load_memory(const void *data, size_t size, kmt_rig **out_rig);
@_c("kmt_rig_load_memory", [c_void_p, c_size_t, POINTER(kmt_rig_p)], kmt_status)
def kmt_rig_load_memory(data: Any, size: int, out_rig: Any) -> int:
    """Loads a rig from `size` bytes at `data` (copied)."""


# kmt_status kmt_rig_import_params_init(kmt_rig_import_params *params, size_t struct_size);
@_c("kmt_rig_import_params_init", [POINTER(kmt_rig_import_params), c_size_t], kmt_status)
def kmt_rig_import_params_init(params: Any, struct_size: int) -> int:
    """Fills `params` with the default rig import options, writing exactly `struct_size` bytes
    (pass ctypes.sizeof(kmt_rig_import_params)): the replacement of the deprecated by-value
    kmt_*_default_params() of 0.1, which a newer library's larger struct would overrun."""




# kmt_status kmt_rig_import_file(const char *path, const kmt_rig_import_params *params,
#                                kmt_rig **out_rig);
@_c("kmt_rig_import_file", [c_char_p, POINTER(kmt_rig_import_params), POINTER(kmt_rig_p)], kmt_status)
def kmt_rig_import_file(path: Any, params: Any, out_rig: Any) -> int:
    """Imports a rig from a glTF/GLB file or a folder of OBJ files."""


# kmt_status kmt_rig_save(const kmt_rig *rig, const char *path, uint32_t flags);
@_c("kmt_rig_save", [kmt_rig_p, c_char_p, c_uint32], kmt_status)
def kmt_rig_save(rig: Any, path: Any, flags: int) -> int:
    """Writes a rig as a kmtalk-rig safetensors file."""


# void kmt_rig_free(kmt_rig *rig);
@_c("kmt_rig_free", [kmt_rig_p], None)
def kmt_rig_free(rig: Any) -> None:
    """Releases a rig. Accepts NULL."""


# kmt_status kmt_rig_vertex_count(const kmt_rig *rig, size_t *out_count);
@_c("kmt_rig_vertex_count", [kmt_rig_p, POINTER(c_size_t)], kmt_status)
def kmt_rig_vertex_count(rig: Any, out_count: Any) -> int:
    """*out_count: the number of vertices V of the neutral mesh."""


# kmt_status kmt_rig_face_count(const kmt_rig *rig, size_t *out_count);
@_c("kmt_rig_face_count", [kmt_rig_p, POINTER(c_size_t)], kmt_status)
def kmt_rig_face_count(rig: Any, out_count: Any) -> int:
    """*out_count: the number of triangles F."""


# kmt_status kmt_rig_shape_count(const kmt_rig *rig, size_t *out_count);
@_c("kmt_rig_shape_count", [kmt_rig_p, POINTER(c_size_t)], kmt_status)
def kmt_rig_shape_count(rig: Any, out_count: Any) -> int:
    """*out_count: the number of blendshapes S."""


# kmt_status kmt_rig_shape_name(const kmt_rig *rig, size_t index, const char **out_name);
@_c("kmt_rig_shape_name", [kmt_rig_p, c_size_t, POINTER(c_char_p)], kmt_status)
def kmt_rig_shape_name(rig: Any, index: int, out_name: Any) -> int:
    """*out_name: the name of blendshape `index` (KMT_ERR_INVALID_ARGUMENT when out of range)."""


# kmt_status kmt_rig_metadata(const kmt_rig *rig, const char *key, char *buffer,
#                             size_t buffer_size, size_t *out_length);
@_c("kmt_rig_metadata", [kmt_rig_p, c_char_p, c_char_p, c_size_t, POINTER(c_size_t)], kmt_status)
def kmt_rig_metadata(rig: Any, key: bytes, buffer: Any, buffer_size: int, out_length: Any) -> int:
    """Copies the rig's metadata value under `key` into `buffer` (NUL-terminated)."""


# kmt_status kmt_rig_read_vertices(const kmt_rig *rig, float *buffer,
#                                  size_t buffer_length, size_t *out_written);
@_c("kmt_rig_read_vertices", [kmt_rig_p, POINTER(c_float), c_size_t, POINTER(c_size_t)], kmt_status)
def kmt_rig_read_vertices(rig: Any, buffer: Any, buffer_length: int, out_written: Any) -> int:
    """Copies the neutral positions (V x 3 floats) into `buffer`."""


# kmt_status kmt_rig_read_faces(const kmt_rig *rig, int32_t *buffer,
#                               size_t buffer_length, size_t *out_written);
@_c("kmt_rig_read_faces", [kmt_rig_p, POINTER(c_int32), c_size_t, POINTER(c_size_t)], kmt_status)
def kmt_rig_read_faces(rig: Any, buffer: Any, buffer_length: int, out_written: Any) -> int:
    """Copies the triangles (F x 3 int32 indices) into `buffer`."""


# kmt_status kmt_rig_read_deltas(const kmt_rig *rig, size_t shape, float *buffer,
#                                size_t buffer_length, size_t *out_written);
@_c("kmt_rig_read_deltas", [kmt_rig_p, c_size_t, POINTER(c_float), c_size_t, POINTER(c_size_t)], kmt_status)
def kmt_rig_read_deltas(rig: Any, shape: int, buffer: Any, buffer_length: int, out_written: Any) -> int:
    """Copies blendshape `shape`'s deltas (V x 3 floats) into `buffer`."""


# kmt_status kmt_animation_vertices(const kmt_animation *animation,
#                                   const kmt_rig *rig, size_t first_frame,
#                                   size_t frame_count, kmt_vertex_mode mode,
#                                   float *buffer, size_t buffer_length,
#                                   size_t *out_written);
@_c("kmt_animation_vertices",
    [kmt_animation_p, kmt_rig_p, c_size_t, c_size_t, kmt_vertex_mode, POINTER(c_float), c_size_t,
     POINTER(c_size_t)], kmt_status)
def kmt_animation_vertices(animation: Any, rig: Any, first_frame: int, frame_count: int, mode: int,
                           buffer: Any, buffer_length: int, out_written: Any) -> int:
    """Poses frames of `animation` on `rig`, or on its own template for a
    vertices-space animation with rig None (frame_count x V x 3 floats)."""


# kmt_status kmt_animation_vertex_count(const kmt_animation *animation, size_t *out_count);
@_c("kmt_animation_vertex_count", [kmt_animation_p, POINTER(c_size_t)], kmt_status)
def kmt_animation_vertex_count(animation: Any, out_count: Any) -> int:
    """*out_count: V of a vertices-space animation's template; 0 for weights."""


# kmt_status kmt_animation_read_faces(const kmt_animation *animation,
#                                     int32_t *buffer, size_t buffer_length,
#                                     size_t *out_written);
@_c("kmt_animation_read_faces", [kmt_animation_p, POINTER(c_int32), c_size_t, POINTER(c_size_t)], kmt_status)
def kmt_animation_read_faces(animation: Any, buffer: Any, buffer_length: int, out_written: Any) -> int:
    """Copies a vertices-space animation's template triangles (F x 3 int32)."""


# kmt_status kmt_rig_unmatched_channels(const kmt_rig *rig,
#                                       const kmt_animation *animation,
#                                       size_t *buffer, size_t buffer_length,
#                                       size_t *out_count);
@_c("kmt_rig_unmatched_channels", [kmt_rig_p, kmt_animation_p, POINTER(c_size_t), c_size_t, POINTER(c_size_t)],
    kmt_status)
def kmt_rig_unmatched_channels(rig: Any, animation: Any, buffer: Any, buffer_length: int, out_count: Any) -> int:
    """Indices of the animation channels that drive no shape of `rig`."""


# kmt_status kmt_rig_unmatched_shapes(const kmt_rig *rig,
#                                     const kmt_animation *animation,
#                                     size_t *buffer, size_t buffer_length,
#                                     size_t *out_count);
@_c("kmt_rig_unmatched_shapes", [kmt_rig_p, kmt_animation_p, POINTER(c_size_t), c_size_t, POINTER(c_size_t)],
    kmt_status)
def kmt_rig_unmatched_shapes(rig: Any, animation: Any, buffer: Any, buffer_length: int, out_count: Any) -> int:
    """Indices of the rig shapes that no channel of `animation` drives."""


# kmt_status kmt_rig_shape_channels(const kmt_rig *rig,
#                                   const kmt_animation *animation,
#                                   int32_t *buffer, size_t buffer_length,
#                                   size_t *out_written);
@_c("kmt_rig_shape_channels", [kmt_rig_p, kmt_animation_p, POINTER(c_int32), c_size_t, POINTER(c_size_t)],
    kmt_status)
def kmt_rig_shape_channels(rig: Any, animation: Any, buffer: Any, buffer_length: int, out_written: Any) -> int:
    """Per rig shape, the index of the channel driving it, or -1."""


# kmt_status kmt_rig_match_names(const kmt_rig *rig, const char *const *names,
#                                size_t name_count, int32_t *buffer,
#                                size_t buffer_length, size_t *out_written);
@_c("kmt_rig_match_names", [kmt_rig_p, POINTER(c_char_p), c_size_t, POINTER(c_int32), c_size_t, POINTER(c_size_t)],
    kmt_status)
def kmt_rig_match_names(rig: Any, names: Any, name_count: int, buffer: Any, buffer_length: int, out_written: Any) -> int:
    """Per rig shape, the index into `names` of the name driving it, or -1."""


# --------------------------------------------------------------------------
# Export
# --------------------------------------------------------------------------

# kmt_status kmt_animation_save(const kmt_animation *animation,
#                               const kmt_rig *rig, const char *path,
#                               kmt_export_format format);
@_c("kmt_animation_save", [kmt_animation_p, kmt_rig_p, c_char_p, kmt_export_format], kmt_status)
def kmt_animation_save(animation: Any, rig: Any, path: bytes, format: int) -> int:
    """Saves `animation` to `path` in `format` (atomically; `rig` may be NULL for weight formats)."""


# kmt_status kmt_animation_save_to_memory(const kmt_animation *animation,
#                                         const kmt_rig *rig,
#                                         kmt_export_format format, void *buffer,
#                                         size_t buffer_size, size_t *out_size);
@_c("kmt_animation_save_to_memory",
    [kmt_animation_p, kmt_rig_p, kmt_export_format, c_void_p, c_size_t, POINTER(c_size_t)], kmt_status)
def kmt_animation_save_to_memory(animation: Any, rig: Any, format: int, buffer: Any, buffer_size: int,
                                 out_size: Any) -> int:
    """Encodes `animation` in a single-file `format` into the caller's `buffer`."""


# kmt_status kmt_export_params_init(kmt_export_params *params, size_t struct_size);
@_c("kmt_export_params_init", [POINTER(kmt_export_params), c_size_t], kmt_status)
def kmt_export_params_init(params: Any, struct_size: int) -> int:
    """Fills `params` with the default export options (no progress, all extended mouth shapes), writing exactly `struct_size` bytes
    (pass ctypes.sizeof(kmt_export_params)): the replacement of the deprecated by-value
    kmt_*_default_params() of 0.1, which a newer library's larger struct would overrun."""




# kmt_status kmt_animation_save_with_params(const kmt_animation *animation,
#                                           const kmt_rig *rig, const char *path,
#                                           kmt_export_format format,
#                                           const kmt_export_params *params);
@_c("kmt_animation_save_with_params",
    [kmt_animation_p, kmt_rig_p, c_char_p, kmt_export_format, POINTER(kmt_export_params)], kmt_status)
def kmt_animation_save_with_params(animation: Any, rig: Any, path: bytes, format: int, params: Any) -> int:
    """kmt_animation_save with options (progress, extended mouth shapes); params may be NULL."""


# kmt_status kmt_animation_save_to_memory_with_params(
#     const kmt_animation *animation, const kmt_rig *rig, kmt_export_format format,
#     const kmt_export_params *params, void *buffer, size_t buffer_size,
#     size_t *out_size);
@_c("kmt_animation_save_to_memory_with_params",
    [kmt_animation_p, kmt_rig_p, kmt_export_format, POINTER(kmt_export_params), c_void_p, c_size_t,
     POINTER(c_size_t)], kmt_status)
def kmt_animation_save_to_memory_with_params(animation: Any, rig: Any, format: int, params: Any, buffer: Any,
                                             buffer_size: int, out_size: Any) -> int:
    """kmt_animation_save_to_memory with options; params may be NULL."""


#: Every C function this module declares, in header order.
FUNCTIONS = tuple(_signatures)

__all__ = [name for name in dir(sys.modules[__name__]) if name.startswith(("kmt_", "KMT_"))] + [
    "LibraryNotFoundError", "load", "library_path", "candidate_paths", "FUNCTIONS",
]
