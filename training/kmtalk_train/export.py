"""Export a trained `KMTalkModel` to the engine's weights format (safetensors, architecture
`kmtalk`, docs/model.md and models/README.md), and load such a file back into PyTorch.

    export(model, config, "kmtalk-base.safetensors", {"description": "..."})

Metadata: `format` = "kmtalk", `format_version` = "1", `architecture` = "kmtalk",
`config` = the config JSON (frontend, encoder, lkma, cmc, motion), plus `metadata_extra`.
Tensors are F32 (or F16 / BF16 with `dtype=`), named exactly as the spec. Written with
the NumPy writer in kmtalk_ref/safetensors_io.py (no extra dependency).
"""
from __future__ import annotations

import json
import os
from typing import Dict, Optional, Tuple

import numpy as np

from kmtalk_ref import safetensors_io

FORMAT_VERSION = "1"
ARCHITECTURE = "kmtalk"


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
    return shapes


def export(model, config: Optional[dict], path: str, metadata_extra: Optional[dict] = None, dtype: str = "F32") -> dict:
    """Writes `model`'s weights with `config` (default: model.config) to `path`. `dtype`:
    "F32", "F16" or "BF16". Checks names and shapes against the spec first. Returns the
    metadata written."""
    config = config if config is not None else model.config
    if dtype not in ("F32", "F16", "BF16"):
        raise ValueError("dtype must be F32, F16 or BF16")
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
    safetensors_io.save(path, ordered, meta, {name: dtype for name in ordered})
    return meta


def load(path: str):
    """(KMTalkModel with the file's weights, config, metadata)."""
    import torch

    from .model import KMTalkModel
    tensors, meta = safetensors_io.load(path)
    if meta.get("format") != "kmtalk" or meta.get("architecture") != ARCHITECTURE:
        raise ValueError(f"{path}: not a kmtalk-architecture model ({meta.get('architecture')})")
    config = json.loads(meta["config"])
    model = KMTalkModel(config)
    model.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in tensors.items()})
    return model, config, meta
