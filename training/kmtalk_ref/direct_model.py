"""Reference forward pass of the `kmtalk-direct` architecture (audio encoder + direct
motion head) and a random-weight initialiser for test models."""
import json

import numpy as np

from . import ops
from .frontend import log_mel

# training/ is on sys.path for every caller (scripts insert it; pytest runs from it).
from kmtalk_train.arkit import ARKIT_52  # noqa: F401  (re-exported)


def tiny_config(width=32, layers=2, heads=4, ffn=64, n_mels=40, band=(16, 3), positions="sinusoidal"):
    frontend = {"sample_rate": 16000, "n_fft": 400, "win_length": 400, "hop_length": 160,
                "n_mels": n_mels, "f_min": 20.0, "f_max": 7600.0, "log_floor": 1e-6}
    encoder = {"conv": [{"kernel": 3, "stride": 1, "channels": width},
                        {"kernel": 3, "stride": 2, "channels": width}],
               "width": width, "layers": layers, "heads": heads, "ffn_width": ffn,
               "band_back": band[0] if band else None, "band_ahead": band[1] if band else None,
               "positions": positions, "max_positions": 4096, "activation": "gelu",
               "layer_norm_eps": 1e-5}
    motion = {"space": "arkit", "channels": ARKIT_52, "fps": 50.0, "activation": "sigmoid"}
    return {"frontend": frontend, "encoder": encoder, "motion": motion}


def metadata(config, **extra):
    meta = {"format": "kmtalk", "format_version": "1", "architecture": "kmtalk-direct",
            "config": json.dumps(config, separators=(",", ":"))}
    meta.update(extra)
    return meta


def transformer_layer_weights(rng, prefix, d, f, w):
    """Random weights of one pre-norm transformer layer (tensor names under `prefix`)."""
    for name in ("norm1", "norm2"):
        w[prefix + name + ".weight"] = 1 + rng.normal(0, 0.1, d)
        w[prefix + name + ".bias"] = rng.normal(0, 0.1, d)
    for name in ("attn.q", "attn.k", "attn.v", "attn.out"):
        w[prefix + name + ".weight"] = rng.normal(0, 1 / np.sqrt(d), (d, d))
        w[prefix + name + ".bias"] = rng.normal(0, 0.05, d)
    w[prefix + "ffn.fc1.weight"] = rng.normal(0, 1 / np.sqrt(d), (f, d))
    w[prefix + "ffn.fc1.bias"] = rng.normal(0, 0.05, f)
    w[prefix + "ffn.fc2.weight"] = rng.normal(0, 1 / np.sqrt(f), (d, f))
    w[prefix + "ffn.fc2.bias"] = rng.normal(0, 0.05, d)


def random_weights(config, seed):
    rng = np.random.default_rng(seed)
    enc = config["encoder"]
    d, f = enc["width"], enc["ffn_width"]
    w = {}
    cin = config["frontend"]["n_mels"]
    for i, conv in enumerate(enc["conv"]):
        fan_in = cin * conv["kernel"]
        w[f"encoder.conv.{i}.weight"] = rng.normal(0, 1 / np.sqrt(fan_in), (conv["channels"], cin, conv["kernel"]))
        w[f"encoder.conv.{i}.bias"] = rng.normal(0, 0.1, conv["channels"])
        cin = conv["channels"]
    if enc["positions"] == "learned":
        w["encoder.positions"] = rng.normal(0, 0.1, (enc["max_positions"], d))
    for i in range(enc["layers"]):
        transformer_layer_weights(rng, f"encoder.layers.{i}.", d, f, w)
    w["encoder.norm.weight"] = 1 + rng.normal(0, 0.1, d)
    w["encoder.norm.bias"] = rng.normal(0, 0.1, d)
    channels = len(config["motion"]["channels"])
    w["head.weight"] = rng.normal(0, 1 / np.sqrt(d), (channels, d))
    w["head.bias"] = rng.normal(0, 0.5, channels)
    # Store as float32: the reference computes from exactly the values the engine loads.
    return {k: v.astype(np.float32) for k, v in w.items()}


def convolve(features, w, config):
    """The conv stack (each conv followed by the activation): [T_mel, n_mels] -> [T, d]."""
    enc = config["encoder"]
    act = ops.ACTIVATIONS[enc["activation"]]
    x = features.astype(np.float64)
    for i, conv in enumerate(enc["conv"]):
        x = act(ops.conv1d(x, w[f"encoder.conv.{i}.weight"], w[f"encoder.conv.{i}.bias"],
                           stride=conv["stride"], padding=conv["kernel"] // 2))
    return x


def encode(features, w, config, convolved=None):
    """The audio encoder; `convolved` is the conv stack's output when already computed."""
    enc = config["encoder"]
    act = ops.ACTIVATIONS[enc["activation"]]
    x = convolve(features, w, config) if convolved is None else convolved
    if enc["positions"] == "learned":
        x = x + w["encoder.positions"][: x.shape[0]]
    else:
        x = x + ops.sinusoidal_positions(x.shape[0], enc["width"])
    band = None if enc.get("band_back") is None else (enc["band_back"], enc["band_ahead"])
    eps = enc["layer_norm_eps"]
    for i in range(enc["layers"]):
        p = f"encoder.layers.{i}."
        attn = {name: w[p + f"attn.{name}.weight"] for name in ("q", "k", "v", "out")}
        attn.update({name + "_bias": w[p + f"attn.{name}.bias"] for name in ("q", "k", "v", "out")})
        h = ops.layer_norm(x, w[p + "norm1.weight"], w[p + "norm1.bias"], eps)
        x = x + ops.multi_head_self_attention(h, attn, enc["heads"], band)
        h = ops.layer_norm(x, w[p + "norm2.weight"], w[p + "norm2.bias"], eps)
        h = act(ops.linear(h, w[p + "ffn.fc1.weight"], w[p + "ffn.fc1.bias"]))
        x = x + ops.linear(h, w[p + "ffn.fc2.weight"], w[p + "ffn.fc2.bias"])
    return ops.layer_norm(x, w["encoder.norm.weight"], w["encoder.norm.bias"], eps)


def forward(samples, w, config):
    """Returns (features, encoder output, motion at the native fps)."""
    features = log_mel(samples, config["frontend"]).astype(np.float32)
    encoded = encode(features, w, config)
    motion = ops.ACTIVATIONS[config["motion"]["activation"]](ops.linear(encoded, w["head.weight"], w["head.bias"]))
    return features, encoded, motion
