"""Export a trained `KMTalkModel` to the engine's weights format (safetensors, architecture
`kmtalk`, docs/model.md and models/README.md), and load such a file back into PyTorch.

    export(model, config, "kmtalk-base.safetensors", {"description": "..."})

Metadata: `format` = "kmtalk", `format_version` = "1", `architecture` = "kmtalk",
`config` = the config JSON (frontend, encoder, lkma, cmc, motion), plus `metadata_extra`
(train.py writes `license`, an SPDX expression, with the provenance of the run).
Tensors are F32 (or F16 / BF16 with `dtype=`), named exactly as the spec. Written with
the NumPy writer in kmtalk_ref/safetensors_io.py (no extra dependency).

A vertices-space model (`config.motion.space` = "vertices", docs/model.md) carries its
template mesh: pass `template` [V, 3] (and optionally `faces` [F, 3]) to `export`; they
are stored as `motion.template` (always F32) and `motion.faces` (I32). `load` gives them
back as `model.motion_template` / `model.motion_faces` (None otherwise).
"""
from __future__ import annotations

import json
import os
from typing import Dict, Optional, Tuple

import numpy as np

from kmtalk_ref import safetensors_io

FORMAT_VERSION = "1"
ARCHITECTURE = "kmtalk"


#: The streaming latency a new session of an exported model starts at, written into the
#: file (config.streaming.default_latency_ms) so the engine reads it from the model rather
#: than from a constant: kmtalk-base streamed at 150 ms scores as its exact stream against
#: the teacher on 481 held-out utterances (docs/results.md, "Streaming"). Export a model
#: whose look-ahead differs with its own measured value in config["streaming"].
DEFAULT_STREAMING_LATENCY_MS = 150.0


def with_model_knowledge(config: dict) -> dict:
    """`config` with what the engine should read from the file rather than assume: the
    default streaming latency of a model that can stream (banded encoder attention), unless
    the config names one. Returns a new dict; the caller's is left as it is."""
    config = dict(config)
    if config.get("encoder", {}).get("band_back") is not None and "streaming" not in config:
        config["streaming"] = {"default_latency_ms": DEFAULT_STREAMING_LATENCY_MS}
    return config


def metadata(config: dict, **extra) -> Dict[str, str]:
    meta = {"format": "kmtalk", "format_version": FORMAT_VERSION, "architecture": ARCHITECTURE,
            "config": json.dumps(config, separators=(",", ":"), ensure_ascii=False)}
    meta.update({str(k): str(v) for k, v in extra.items()})
    return meta


def expected_shapes(config: dict) -> Dict[str, Tuple[int, ...]]:
    """Every tensor of a `kmtalk` model with its shape, from the config alone."""
    enc, cmc = config["encoder"], config["cmc"]
    d, c = enc["width"], cmc["width"]
    m = len(config["motion"]["channels"])
    shapes: Dict[str, Tuple[int, ...]] = {}
    cin = config["frontend"]["n_mels"]
    for i, conv in enumerate(enc["conv"]):
        shapes[f"encoder.conv.{i}.weight"] = (conv["channels"], cin, conv["kernel"])
        shapes[f"encoder.conv.{i}.bias"] = (conv["channels"],)
        cin = conv["channels"]
    if enc["positions"] == "learned":
        shapes["encoder.positions"] = (enc["max_positions"], d)

    def layer(prefix, width, ffn):
        for name in ("norm1", "norm2"):
            shapes[f"{prefix}{name}.weight"] = shapes[f"{prefix}{name}.bias"] = (width,)
        for name in ("q", "k", "v", "out"):
            shapes[f"{prefix}attn.{name}.weight"] = (width, width)
            shapes[f"{prefix}attn.{name}.bias"] = (width,)
        shapes[f"{prefix}ffn.fc1.weight"] = (ffn, width)
        shapes[f"{prefix}ffn.fc1.bias"] = (ffn,)
        shapes[f"{prefix}ffn.fc2.weight"] = (width, ffn)
        shapes[f"{prefix}ffn.fc2.bias"] = (width,)

    for i in range(enc["layers"]):
        layer(f"encoder.layers.{i}.", d, enc["ffn_width"])
    shapes["encoder.norm.weight"] = shapes["encoder.norm.bias"] = (d,)
    if cmc["use_keys"]:
        lk = config["lkma"]
        p, f, e, h = len(lk["phones"]), len(lk["features"]), lk["embedding_width"], lk["hidden_width"]
        shapes.update({"phone_head.weight": (p, d), "phone_head.bias": (p,), "feature_head.weight": (f, d),
                       "feature_head.bias": (f,), "key_decoder.phone_embedding": (p, e),
                       "key_decoder.fc1.weight": (h, d + 2 * e), "key_decoder.fc1.bias": (h,),
                       "key_decoder.fc2.weight": (m, h), "key_decoder.fc2.bias": (m,),
                       "cmc.key_proj.weight": (c, m), "cmc.key_proj.bias": (c,)})
    shapes.update({"cmc.audio_proj.weight": (c, d), "cmc.audio_proj.bias": (c,), "cmc.mask_token": (c,)})
    for i in range(cmc["layers"]):
        layer(f"cmc.layers.{i}.", c, cmc["ffn_width"])
    shapes.update({"cmc.norm.weight": (c,), "cmc.norm.bias": (c,), "cmc.head.weight": (m, c), "cmc.head.bias": (m,)})
    if cmc.get("shallow", False):
        shapes["cmc.shallow.weight"] = (m, d)
    if cmc.get("loudness"):
        shapes["cmc.loudness_proj.weight"] = (c, 1)
        shapes["cmc.loudness_head.weight"] = (m, 1)
    return shapes


TEMPLATE = "motion.template"
FACES = "motion.faces"


def template_tensors(config: dict, template=None, faces=None) -> Dict[str, np.ndarray]:
    """The template tensors of a vertices-space model, validated against `config`
    (docs/model.md): `template` [V, 3] finite with 3V = len(motion.channels) and channels
    v0.x, v0.y, v0.z, ...; `faces` [F, 3] indices in 0..V-1 or None. Other spaces take
    none (an empty dict)."""
    motion = config["motion"]
    if motion["space"] != "vertices":
        if template is not None or faces is not None:
            raise ValueError(f"a template belongs to motion.space 'vertices', not '{motion['space']}'")
        return {}
    if template is None:
        raise ValueError("motion.space 'vertices' needs its template ([V, 3] neutral positions)")
    vertices = np.asarray(template, dtype=np.float64)
    count = len(motion["channels"]) // 3
    if vertices.shape != (count, 3) or 3 * count != len(motion["channels"]):
        raise ValueError(f"template has shape {vertices.shape}, {len(motion['channels'])} channels need ({count}, 3)")
    expected = [f"v{i}.{axis}" for i in range(count) for axis in "xyz"]
    if list(motion["channels"]) != expected:
        raise ValueError("vertices-space channels must be v0.x, v0.y, v0.z, v1.x, ... in vertex order")
    if not np.all(np.isfinite(vertices)):
        raise ValueError("template has non-finite values")
    if motion.get("units", "m") not in ("m", "cm", "mm"):
        raise ValueError("motion.units must be m, cm or mm")
    tensors = {TEMPLATE: vertices.astype(np.float32)}
    if faces is not None:
        indices = np.asarray(faces)
        if indices.ndim != 2 or indices.shape[1] != 3 or len(indices) < 1:
            raise ValueError(f"faces have shape {indices.shape}, expected (F, 3) with F >= 1")
        if not np.issubdtype(indices.dtype, np.integer) or indices.min() < 0 or indices.max() >= count:
            raise ValueError(f"faces must be integer vertex indices in 0..{count - 1}")
        tensors[FACES] = indices.astype(np.int32)
    return tensors


def export(model, config: Optional[dict], path: str, metadata_extra: Optional[dict] = None, dtype: str = "F32",
           template=None, faces=None) -> dict:
    """Writes `model`'s weights with `config` (default: model.config) to `path`. `dtype`:
    "F32", "F16" or "BF16". Checks names and shapes against the spec first. A
    vertices-space config needs `template` [V, 3] (and takes optional `faces` [F, 3]);
    they are written as F32 / I32 whatever `dtype`. Returns the metadata written."""
    config = with_model_knowledge(config if config is not None else model.config)
    if dtype not in ("F32", "F16", "BF16"):
        raise ValueError("dtype must be F32, F16 or BF16")
    motion_tensors = template_tensors(config, template, faces)
    tensors = {name: value.detach().cpu().float().numpy() for name, value in model.state_dict().items()}
    expected = expected_shapes(config)
    missing = sorted(set(expected) - set(tensors))
    extra = sorted(set(tensors) - set(expected))
    if missing or extra:
        raise ValueError(f"state_dict does not match the kmtalk spec: missing {missing}, unexpected {extra}")
    for name, shape in expected.items():
        if tuple(tensors[name].shape) != shape:
            raise ValueError(f"{name}: shape {tuple(tensors[name].shape)}, spec says {shape}")
    bad = [name for name, value in tensors.items() if not np.all(np.isfinite(value))]
    if bad:
        raise ValueError(f"non-finite values in {bad[:5]}")
    meta = metadata(config, **(metadata_extra or {}))
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    # Ordered like the spec listing (stable files).
    ordered = {name: tensors[name] for name in expected}
    dtypes = {name: dtype for name in ordered}
    ordered.update(motion_tensors)
    dtypes.update({TEMPLATE: "F32", FACES: "I32"})
    safetensors_io.save(path, ordered, meta, {name: dtypes[name] for name in ordered})
    return meta


def load(path: str):
    """(KMTalkModel with the file's weights, config, metadata). A vertices-space model's
    template comes back as `model.motion_template` (float32 [V, 3]) and
    `model.motion_faces` (int32 [F, 3] or None); both are None for other spaces."""
    import torch

    from .model import KMTalkModel
    tensors, meta = safetensors_io.load(path)
    if meta.get("format") != "kmtalk" or meta.get("architecture") != ARCHITECTURE:
        raise ValueError(f"{path}: not a kmtalk-architecture model ({meta.get('architecture')})")
    config = json.loads(meta["config"])
    template = tensors.pop(TEMPLATE, None)
    faces = tensors.pop(FACES, None)
    model = KMTalkModel(config)
    model.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in tensors.items()})
    model.motion_template = None if template is None else np.asarray(template, dtype=np.float32)
    model.motion_faces = None if faces is None else np.asarray(faces).astype(np.int32)
    if config["motion"]["space"] == "vertices":
        template_tensors(config, model.motion_template, model.motion_faces)  # validates
    return model, config, meta
