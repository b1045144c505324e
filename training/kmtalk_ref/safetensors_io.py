"""Minimal safetensors reader/writer on NumPy (the format: 8-byte little-endian header
length, JSON header, raw little-endian tensors). Used to write models and fixtures
without PyTorch."""
import json
import struct

import numpy as np

_DTYPES = {"F32": np.float32, "F16": np.float16, "F64": np.float64, "I64": np.int64, "I32": np.int32}


def _bf16_bytes(array):
    bits = np.ascontiguousarray(array, dtype=np.float32).view(np.uint32)
    # Round to nearest even, as torch does when casting to bfloat16.
    rounded = ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype("<u2")
    return rounded.tobytes()


def encode(tensors, metadata=None, dtypes=None):
    """Returns the bytes of a safetensors file. `tensors` maps names to arrays,
    `dtypes` optionally maps names to "F32" (default), "F16" or "BF16"."""
    dtypes = dtypes or {}
    header = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    blobs = []
    offset = 0
    for name, array in tensors.items():
        dtype = dtypes.get(name, "F32")
        array = np.asarray(array)
        if dtype == "BF16":
            blob = _bf16_bytes(array)
        else:
            blob = np.ascontiguousarray(array, dtype=np.dtype(_DTYPES[dtype]).newbyteorder("<")).tobytes()
        header[name] = {"dtype": dtype, "shape": list(array.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(blobs)


def save(path, tensors, metadata=None, dtypes=None):
    with open(path, "wb") as f:
        f.write(encode(tensors, metadata, dtypes))


def load(path):
    """Returns (tensors as float32 arrays, metadata dict)."""
    with open(path, "rb") as f:
        data = f.read()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + length])
    metadata = header.pop("__metadata__", {})
    base = 8 + length
    tensors = {}
    for name, entry in header.items():
        begin, end = entry["data_offsets"]
        raw = data[base + begin:base + end]
        if entry["dtype"] == "BF16":
            bits = np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16
            array = bits.view(np.float32)
        else:
            array = np.frombuffer(raw, dtype=np.dtype(_DTYPES[entry["dtype"]]).newbyteorder("<")).astype(np.float32)
        tensors[name] = array.reshape(entry["shape"])
    return tensors, metadata


def rewrite_metadata(source, destination, update):
    """Copies the safetensors file `source` to `destination` with `update(metadata)` (a
    function returning the new metadata dict) applied; the tensors' bytes are copied as
    they are (no dtype round trip)."""
    with open(source, "rb") as f:
        data = f.read()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + length])
    header["__metadata__"] = {str(k): str(v) for k, v in update(dict(header.get("__metadata__", {}))).items()}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(destination, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + data[8 + length:])
