"""The ctypes layer: 1:1 with kmtalk.h, struct layouts, library lookup."""

from __future__ import annotations

import ctypes
import re
import subprocess
import sys

import pytest

from kmtalk import _lib

from conftest import HEADER


def header_functions() -> list:
    text = HEADER.read_text()
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return re.findall(r"\b(kmt_[a-z0-9_]+)\s*\(", text.replace("(*kmt_log_callback)", ""))


def header_prototypes() -> dict:
    """name -> (return type, [parameter types]) of every function kmtalk.h declares, types
    as written with `const` and parameter names dropped."""
    text = re.sub(r"/\*.*?\*/|//[^\n]*", "", HEADER.read_text(), flags=re.S)
    text = re.sub(r"^\s*#.*$", "", text, flags=re.M)
    prototypes = {}
    for result, name, params in re.findall(r"([A-Za-z_][\w\s\*]*?)\b(kmt_[a-z0-9_]+)\s*\(([^()]*)\)\s*;", text):
        def clean(declaration: str, named: bool) -> str:
            declaration = re.sub(r"\bconst\b|\bKMT_API\b", "", declaration)
            if named:  # drop the parameter's name
                declaration = re.sub(r"\b[A-Za-z_]\w*\s*$", "", declaration.strip())
            return re.sub(r"\s+", "", declaration.split("}")[-1].split(";")[-1])
        args = [] if params.strip() in ("", "void") else [clean(p, True) for p in params.split(",")]
        prototypes[name] = (clean(result, False), args)
    return prototypes


def expected_ctype(c_type: str):
    """The ctypes type(s) a C type may be declared with in _lib (a tuple of candidates)."""
    if c_type in ("char*",):
        return (ctypes.c_char_p,)
    if c_type.endswith("**") or c_type.endswith("*"):
        return "pointer"
    scalars = {"void": (None,), "size_t": (ctypes.c_size_t,), "double": (ctypes.c_double,),
               "float": (ctypes.c_float,), "int32_t": (ctypes.c_int32,), "int16_t": (ctypes.c_int16,),
               "uint64_t": (ctypes.c_uint64,), "uint32_t": (ctypes.c_uint32,), "int": (ctypes.c_int,)}
    if c_type in scalars:
        return scalars[c_type]
    if c_type in ("kmt_status", "kmt_log_level", "kmt_nonfinite_policy", "kmt_vertex_mode", "kmt_export_format"):
        return (ctypes.c_int, ctypes.c_int32, getattr(_lib, c_type))
    return (getattr(_lib, c_type),)  # structs by value, the callback type


def matches(declared, c_type: str) -> bool:
    expected = expected_ctype(c_type)
    if expected == "pointer":
        return declared in (ctypes.c_void_p, ctypes.c_char_p) or (
            isinstance(declared, type) and issubclass(declared, (ctypes._Pointer, ctypes.c_void_p)))
    return any(declared is e or declared == e for e in expected)


def test_every_header_function_is_declared():
    if not HEADER.is_file():
        pytest.skip(f"header not found at {HEADER}")
    declared = header_functions()
    assert sorted(declared) == sorted(_lib.FUNCTIONS)
    for name in declared:
        assert callable(getattr(_lib, name)), name


def test_every_signature_matches_the_header():
    """Each ctypes declaration has the header's parameter count and compatible types, so a
    changed prototype fails here instead of corrupting the stack at run time."""
    if not HEADER.is_file():
        pytest.skip(f"header not found at {HEADER}")
    prototypes = header_prototypes()
    assert sorted(prototypes) == sorted(_lib.FUNCTIONS)
    for name, (result, params) in prototypes.items():
        argtypes, restype = _lib._signatures[name]
        assert len(argtypes) == len(params), f"{name}: header has {len(params)} parameters, _lib {len(argtypes)}"
        for index, (declared, c_type) in enumerate(zip(argtypes, params)):
            assert matches(declared, c_type), f"{name} parameter {index}: header {c_type}, _lib {declared}"
        assert matches(restype, result), f"{name} returns: header {result}, _lib {restype}"


def test_every_function_resolves_in_library(lib):
    cdll = lib.load()
    for name in lib.FUNCTIONS:
        assert hasattr(cdll, name), name


def test_status_constants_match_header():
    if not HEADER.is_file():
        pytest.skip(f"header not found at {HEADER}")
    text = HEADER.read_text()
    for name, value in re.findall(r"\b(KMT_(?:OK|ERR_[A-Z_]+|LOG_[A-Z]+|NONFINITE_[A-Z]+|VERTICES_[A-Z]+|EXPORT_[A-Z_]+))\s*=\s*(\d+)", text):
        assert getattr(_lib, name) == int(value), name
    assert _lib.KMT_VERSION_STRING == re.search(r'KMT_VERSION_STRING "([^"]+)"', text).group(1)


def initialized(lib, name):
    """kmt_<name>_params set up by its _init function, as hosts do."""
    struct = getattr(lib, f"kmt_{name}_params")
    params = struct()
    assert getattr(lib, f"kmt_{name}_params_init")(ctypes.byref(params), ctypes.sizeof(struct)) == lib.KMT_OK
    return params


def test_struct_layout_matches_library(lib):
    model_params = initialized(lib, "model")
    assert isinstance(model_params, lib.kmt_model_params)
    assert model_params.struct_size == ctypes.sizeof(lib.kmt_model_params)
    assert model_params.flags == 0
    session_params = initialized(lib, "session")
    assert session_params.struct_size == ctypes.sizeof(lib.kmt_session_params) == 48
    assert (session_params.n_threads, session_params.output_fps, session_params.nonfinite_policy,
            session_params.latency_ms) == (0, 0.0, 0, 0.0)
    assert [f[0] for f in lib.kmt_session_params._fields_][0] == "struct_size"
    assert [f[0] for f in lib.kmt_model_params._fields_][0] == "struct_size"


def test_raw_calls_and_null_handling(lib, model_path):
    assert lib.kmt_version() == b"1.0.0"
    assert lib.kmt_version_number() == lib.KMT_VERSION_NUMBER == 10000
    assert lib.kmt_status_string(lib.KMT_ERR_IO) == b"I/O error"
    assert lib.kmt_status_string(999) == b"unknown status"
    # Getters return a status and write an out-parameter: a NULL handle is refused (the
    # out-parameter set to 0 first), never a crash.
    rate, fps, count = ctypes.c_int32(7), ctypes.c_double(7), ctypes.c_size_t(7)
    name = ctypes.c_char_p(b"x")
    assert lib.kmt_model_sample_rate(None, ctypes.byref(rate)) == lib.KMT_ERR_INVALID_ARGUMENT
    assert rate.value == 0 and lib.kmt_last_error() == b"model is NULL"
    assert lib.kmt_model_fps(None, ctypes.byref(fps)) == lib.KMT_ERR_INVALID_ARGUMENT and fps.value == 0.0
    assert lib.kmt_model_channel_count(None, ctypes.byref(count)) == lib.KMT_ERR_INVALID_ARGUMENT
    assert count.value == 0
    assert lib.kmt_model_channel_name(None, 0, ctypes.byref(name)) == lib.KMT_ERR_INVALID_ARGUMENT
    assert name.value is None
    count.value = 7
    assert lib.kmt_animation_frame_count(None, ctypes.byref(count)) == lib.KMT_ERR_INVALID_ARGUMENT
    assert count.value == 0 and lib.kmt_last_error() == b"animation is NULL"
    lib.kmt_model_free(None)
    lib.kmt_session_free(None)
    lib.kmt_animation_free(None)
    # Out-parameters are NULLed on failure.
    out = lib.kmt_model_p(12345)
    status = lib.kmt_model_load_file(b"/nonexistent/model.safetensors", None, ctypes.byref(out))
    assert status == lib.KMT_ERR_IO
    assert out.value is None
    assert b"/nonexistent/model.safetensors" in lib.kmt_last_error()
    # Success clears the last error.
    status = lib.kmt_model_load_file(str(model_path).encode(), None, ctypes.byref(out))
    assert status == lib.KMT_OK and out.value
    assert lib.kmt_last_error() == b""
    length = ctypes.c_size_t()
    assert lib.kmt_model_metadata(out, b"seed", None, 0, ctypes.byref(length)) == lib.KMT_ERR_BUFFER_TOO_SMALL
    assert length.value == 4
    buffer = ctypes.create_string_buffer(5)
    assert lib.kmt_model_metadata(out, b"seed", buffer, 5, None) == lib.KMT_OK
    assert buffer.value == b"1234"
    # On a live model: the values, and a NULL out-parameter or an index out of range refused.
    assert lib.kmt_model_channel_count(out, ctypes.byref(count)) == lib.KMT_OK and count.value == 52
    assert lib.kmt_model_channel_name(out, 17, ctypes.byref(name)) == lib.KMT_OK and name.value == b"jawOpen"
    assert lib.kmt_model_channel_name(out, 52, ctypes.byref(name)) == lib.KMT_ERR_INVALID_ARGUMENT
    assert name.value is None
    assert lib.kmt_last_error() == b"channel index 52 is not below the channel count 52"
    assert lib.kmt_model_fps(out, None) == lib.KMT_ERR_INVALID_ARGUMENT
    assert lib.kmt_last_error() == b"out_fps is NULL"
    lib.kmt_model_free(out)


def test_struct_size_too_small_is_rejected(lib, model):
    params = initialized(lib, "session")
    params.struct_size = 0
    out = lib.kmt_session_p()
    status = lib.kmt_session_create(model._ptr(), ctypes.byref(params), ctypes.byref(out))
    assert status == lib.KMT_ERR_INVALID_ARGUMENT
    assert out.value is None
    assert b"struct_size" in lib.kmt_last_error()


@pytest.mark.parametrize("name, older_size, split_size", [
    ("model", 8, None), ("session", 32, 36), ("rig_import", 40, 12), ("export", 24, 20)])
def test_params_init_writes_the_callers_size_only(lib, name, older_size, split_size):
    """kmt_*_params_init as hosts of an older, the current and a newer header call it: exactly
    struct_size bytes written (the defaults, zeros beyond the library's struct,
    the caller's struct_size), bad sizes refused with a message and nothing written."""
    struct = getattr(lib, f"kmt_{name}_params")
    init = getattr(lib, f"kmt_{name}_params_init")
    by_value = initialized(lib, name)
    size = ctypes.sizeof(struct)
    raw = (ctypes.c_ubyte * (size + 64))()

    def call(struct_size):
        ctypes.memset(raw, 0xAB, len(raw))
        return init(ctypes.cast(raw, ctypes.POINTER(struct)), struct_size)

    def size_t_bytes(value):
        return bytes(ctypes.c_size_t(value))

    assert call(size) == lib.KMT_OK and lib.kmt_last_error() == b""
    assert bytes(raw[:size]) == bytes(by_value)
    assert set(raw[size:]) == {0xAB}
    # An older header's smaller struct: only its bytes.
    assert call(older_size) == lib.KMT_OK
    assert bytes(raw[:8]) == size_t_bytes(older_size)
    assert bytes(raw[8:older_size]) == bytes(by_value)[8:older_size]
    assert set(raw[older_size:]) == {0xAB}
    # A newer header's larger struct: zeros for the fields this library does not know.
    assert call(size + 24) == lib.KMT_OK
    assert bytes(raw[:8]) == size_t_bytes(size + 24)
    assert bytes(raw[8:size]) == bytes(by_value)[8:]
    assert set(raw[size:size + 24]) == {0} and set(raw[size + 24:]) == {0xAB}
    # Refused: NULL, too small, absurd, or ending inside a pointer; nothing written.
    assert init(None, size) == lib.KMT_ERR_INVALID_ARGUMENT
    assert lib.kmt_last_error() == f"kmt_{name}_params_init: params is NULL".encode()
    for bad in [0, 4, 65537, ctypes.c_size_t(-1).value] + ([split_size] if split_size else []):
        assert call(bad) == lib.KMT_ERR_INVALID_ARGUMENT, bad
        assert lib.kmt_last_error().startswith(f"kmt_{name}_params_init: struct_size {bad} ".encode())
        assert set(raw) == {0xAB}, bad


def test_lookup_order_env_first(monkeypatch, tmp_path):
    monkeypatch.setenv(_lib.LIBRARY_ENV, str(tmp_path / "custom.so"))
    candidates = [path for _, path in _lib.candidate_paths()]
    assert candidates[0] == str(tmp_path / "custom.so")
    assert candidates[-1] == "libKMTalk.so"
    repo = [path for what, path in _lib.candidate_paths() if what == "repository build"]
    assert repo[0].endswith("dist/lib/libKMTalk.so")
    assert repo[1].endswith(".build/release/libKMTalk.so")
    assert repo[2].endswith(".build/debug/libKMTalk.so")


def test_missing_library_message_lists_candidates(monkeypatch, tmp_path):
    bad = tmp_path / "nothing-here.so"
    monkeypatch.setattr(_lib, "candidate_paths", lambda: [("$KMTALK_LIBRARY", str(bad)),
                                                          ("dynamic loader", "libKMTalk-does-not-exist.so")])
    with pytest.raises(_lib.LibraryNotFoundError) as info:
        _lib._open()
    assert isinstance(info.value, ImportError)
    message = str(info.value)
    assert str(bad) in message and "no such file" in message
    assert "libKMTalk-does-not-exist.so" in message
    assert "KMTALK_LIBRARY" in message


def test_import_without_library_is_lazy(tmp_path):
    """`import kmtalk` works without the library; the first call raises a
    LibraryNotFoundError naming $KMTALK_LIBRARY's path."""
    code = (
        "import kmtalk, kmtalk._lib as L\n"
        "L.candidate_paths = lambda: [('$KMTALK_LIBRARY', '/no/such/libKMTalk.so')]\n"
        "try:\n    kmtalk.version()\nexcept ImportError as e:\n    print('ERR', e)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "ERR could not load the KMTalk shared library" in result.stdout
    assert "/no/such/libKMTalk.so" in result.stdout


def test_unloadable_env_library_warns_and_falls_back(lib, monkeypatch, tmp_path):
    real = lib.library_path()
    bad = tmp_path / "broken.so"
    bad.write_text("not an ELF file")
    monkeypatch.setattr(_lib, "candidate_paths", lambda: [("$KMTALK_LIBRARY", str(bad)),
                                                          ("repository build", real)])
    with pytest.warns(RuntimeWarning, match="broken.so"):
        cdll, path = _lib._open()
    assert path == real


SIZE_MAX = 2**64 - 1


def test_read_frames_huge_count_is_invalid_argument(lib, session):
    import numpy as np
    animation = session.animate_pcm(np.zeros(16000, np.float32), 16000)
    written = ctypes.c_size_t()
    buffer = (ctypes.c_float * 52)()
    # frame_count = SIZE_MAX is a range past the end: documented as KMT_ERR_INVALID_ARGUMENT.
    # (This case reads no memory; first_frame near SIZE_MAX also reads out of bounds.)
    status = lib.kmt_animation_read_frames(animation._ptr(), 1, SIZE_MAX, buffer, 52, ctypes.byref(written))
    assert status == lib.KMT_ERR_INVALID_ARGUMENT
    status = lib.kmt_animation_read_frames(animation._ptr(), SIZE_MAX - 9, 10, buffer, 52, ctypes.byref(written))
    assert status == lib.KMT_ERR_INVALID_ARGUMENT


def test_openblas_core_type_follows_the_cpu_flags(tmp_path):
    def suited(flags):
        cpuinfo = tmp_path / "cpuinfo"
        cpuinfo.write_text(f"processor\t: 0\nflags\t\t: {flags}\nbugs\t\t: none\n")
        return _lib._suited_openblas_coretype(str(cpuinfo))

    assert suited("sse2 avx2 fma avx512f avx512bw avx512dq avx512vl") == "SkylakeX"
    assert suited("sse2 avx2 fma avx512f") == "Haswell"
    assert suited("sse2 avx avx2") is None
    assert suited("") is None
    assert _lib._suited_openblas_coretype(str(tmp_path / "missing")) is None


def test_openblas_core_type_keeps_the_users_choice(monkeypatch):
    monkeypatch.setenv("OPENBLAS_CORETYPE", "Nehalem")
    _lib._choose_openblas_kernels()
    assert _lib.os.environ["OPENBLAS_CORETYPE"] == "Nehalem"
    monkeypatch.delenv("OPENBLAS_CORETYPE")
    monkeypatch.setenv("KMTALK_OPENBLAS_AUTO", "0")
    _lib._choose_openblas_kernels()
    assert "OPENBLAS_CORETYPE" not in _lib.os.environ
    monkeypatch.delenv("KMTALK_OPENBLAS_AUTO")
    monkeypatch.setattr(_lib, "_suited_openblas_coretype", lambda: "Haswell")
    _lib._choose_openblas_kernels()
    assert _lib.os.environ["OPENBLAS_CORETYPE"] == "Haswell"
