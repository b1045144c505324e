"""NumPy reference forward pass of the `kmtalk` architecture (docs/model.md): audio
encoder, LKMA (phone head, key-frame locator, key-motion decoder) and CMC."""
import json

import numpy as np

from . import ops
from .direct_model import convolve, encode, tiny_config as direct_tiny_config, transformer_layer_weights
from .frontend import log_mel
from .loudness import loudness

FEATURES = ["bilabial_closure", "labiodental", "rounding", "spreading", "jaw_open", "tongue_tip_visible",
            "teeth_close"]


def tiny_config(phones, use_keys=True, width=32, cmc_width=24, n_mels=40):
    """A small config for tests; `phones` is the inventory list."""
    config = direct_tiny_config(width=width, layers=2, heads=4, ffn=64, n_mels=n_mels, band=(16, 3))
    config["cmc"] = {"width": cmc_width, "layers": 2, "heads": 4, "ffn_width": 48, "band_back": 12, "band_ahead": 2,
                     "use_keys": use_keys}
    if use_keys:
        config["lkma"] = {"phones": list(phones), "features": list(FEATURES), "embedding_width": 8,
                          "hidden_width": 40, "key_threshold": 0.5, "min_gap": 2, "max_gap": 25}
    return config


def vertex_channels(vertex_count):
    """The channels of a vertices-space model: v0.x, v0.y, v0.z, v1.x, ... (docs/model.md)."""
    return [f"v{i}.{axis}" for i in range(vertex_count) for axis in "xyz"]


def vertices_motion(vertex_count, fps, units="m"):
    """`config.motion` of a vertices-space model: 3V offset channels, identity activation."""
    motion = {"space": "vertices", "channels": vertex_channels(vertex_count), "fps": fps, "activation": "identity"}
    if units != "m":
        motion["units"] = units
    return motion


def template_tensors(vertices, faces=None):
    """The tensors a vertices-space model stores its template in: `motion.template` F32
    [V, 3] and optionally `motion.faces` I32 [F, 3] (write them with dtype I32)."""
    tensors = {"motion.template": np.asarray(vertices, dtype=np.float32)}
    if faces is not None:
        tensors["motion.faces"] = np.asarray(faces, dtype=np.int32)
    return tensors


def posed_vertices(motion, template):
    """Positions of a vertices-space model's output: template [V, 3] + offsets [T, 3V],
    as [T, V, 3]."""
    template = np.asarray(template, dtype=np.float64)
    return template[None] + np.asarray(motion, dtype=np.float64).reshape(len(motion), -1, 3)


def metadata(config, **extra):
    meta = {"format": "kmtalk", "format_version": "1", "architecture": "kmtalk",
            "config": json.dumps(config, separators=(",", ":"), ensure_ascii=False)}
    meta.update(extra)
    return meta


def random_weights(config, seed, phone_logit_scale=3.0):
    """Random weights for tests. `phone_logit_scale` sharpens the phone posteriors so the
    locator finds boundaries."""
    from .direct_model import random_weights as encoder_weights
    rng = np.random.default_rng(seed)
    w = {k: v.astype(np.float64) for k, v in encoder_weights(config, seed).items() if k.startswith("encoder.")}
    d = config["encoder"]["width"]
    m = len(config["motion"]["channels"])
    cmc = config["cmc"]
    c = cmc["width"]
    if cmc["use_keys"]:
        lk = config["lkma"]
        p, f, e, h = len(lk["phones"]), len(lk["features"]), lk["embedding_width"], lk["hidden_width"]
        w["phone_head.weight"] = rng.normal(0, phone_logit_scale / np.sqrt(d), (p, d))
        w["phone_head.bias"] = rng.normal(0, 0.5, p)
        w["feature_head.weight"] = rng.normal(0, 1 / np.sqrt(d), (f, d))
        w["feature_head.bias"] = rng.normal(0, 0.1, f)
        w["key_decoder.phone_embedding"] = rng.normal(0, 1.0, (p, e))
        w["key_decoder.fc1.weight"] = rng.normal(0, 1 / np.sqrt(d + 2 * e), (h, d + 2 * e))
        w["key_decoder.fc1.bias"] = rng.normal(0, 0.05, h)
        w["key_decoder.fc2.weight"] = rng.normal(0, 1 / np.sqrt(h), (m, h))
        w["key_decoder.fc2.bias"] = rng.normal(0, 0.3, m)
        w["cmc.key_proj.weight"] = rng.normal(0, 1 / np.sqrt(m), (c, m))
        w["cmc.key_proj.bias"] = rng.normal(0, 0.05, c)
    w["cmc.audio_proj.weight"] = rng.normal(0, 1 / np.sqrt(d), (c, d))
    w["cmc.audio_proj.bias"] = rng.normal(0, 0.05, c)
    w["cmc.mask_token"] = rng.normal(0, 0.5, c)
    for i in range(cmc["layers"]):
        transformer_layer_weights(rng, f"cmc.layers.{i}.", c, cmc["ffn_width"], w)
    w["cmc.norm.weight"] = 1 + rng.normal(0, 0.1, c)
    w["cmc.norm.bias"] = rng.normal(0, 0.1, c)
    w["cmc.head.weight"] = rng.normal(0, 1 / np.sqrt(c), (m, c))
    w["cmc.head.bias"] = rng.normal(0, 0.5, m)
    if cmc.get("shallow", False):  # drawn last: the other tensors stay those of the same seed without it
        w["cmc.shallow.weight"] = rng.normal(0, 0.5 / np.sqrt(d), (m, d))
    if cmc.get("loudness"):  # likewise
        w["cmc.loudness_proj.weight"] = rng.normal(0, 1.0, (c, 1))
        w["cmc.loudness_head.weight"] = rng.normal(0, 2.0, (m, 1))
    return {k: np.asarray(v, dtype=np.float32) for k, v in w.items()}


def locate_key_frames(boundary, threshold, min_gap, max_gap):
    """The KeyFrameLocator scan of docs/model.md."""
    count = len(boundary)
    keys = [0]
    last = 0
    for t in range(1, count):
        following = boundary[t + 1] if t + 1 < count else -1.0
        is_peak = boundary[t] >= threshold and boundary[t] >= boundary[t - 1] and boundary[t] > following
        if (is_peak and t - last >= min_gap) or t - last >= max_gap:
            keys.append(t)
            last = t
    return keys


def transformer_layer(x, w, prefix, heads, band, eps, act):
    attn = {name: w[prefix + f"attn.{name}.weight"] for name in ("q", "k", "v", "out")}
    attn.update({name + "_bias": w[prefix + f"attn.{name}.bias"] for name in ("q", "k", "v", "out")})
    h = ops.layer_norm(x, w[prefix + "norm1.weight"], w[prefix + "norm1.bias"], eps)
    x = x + ops.multi_head_self_attention(h, attn, heads, band)
    h = ops.layer_norm(x, w[prefix + "norm2.weight"], w[prefix + "norm2.bias"], eps)
    h = act(ops.linear(h, w[prefix + "ffn.fc1.weight"], w[prefix + "ffn.fc1.bias"]))
    return x + ops.linear(h, w[prefix + "ffn.fc2.weight"], w[prefix + "ffn.fc2.bias"])


def forward_features(features, w, config):
    """Network on log-mel features; returns a dict of intermediates (float64)."""
    act = ops.ACTIVATIONS[config["encoder"]["activation"]]
    out_act = ops.ACTIVATIONS[config["motion"]["activation"]]
    eps = config["encoder"]["layer_norm_eps"]
    convolved = convolve(features, w, config)
    H = encode(features, w, config, convolved)
    T = H.shape[0]
    cmc = config["cmc"]
    result = {"encoded": H}
    u = ops.linear(H, w["cmc.audio_proj.weight"], w["cmc.audio_proj.bias"])
    token = np.tile(w["cmc.mask_token"].astype(np.float64), (T, 1))
    if cmc["use_keys"]:
        lk = config["lkma"]
        logits = ops.linear(H, w["phone_head.weight"], w["phone_head.bias"])
        post = ops.softmax(logits)
        boundary = np.zeros(T)
        boundary[1:] = 1 - np.sum(post[1:] * post[:-1], axis=1)
        keys = locate_key_frames(boundary, lk["key_threshold"], lk["min_gap"], lk["max_gap"])
        E = w["key_decoder.phone_embedding"]
        poses = []
        for k in keys:
            left = post[max(k - 1, 0)] @ E
            right = post[min(k + 1, T - 1)] @ E
            z = np.concatenate([H[k], left, right])
            hidden = act(ops.linear(z[None], w["key_decoder.fc1.weight"], w["key_decoder.fc1.bias"]))
            poses.append(out_act(ops.linear(hidden, w["key_decoder.fc2.weight"], w["key_decoder.fc2.bias"]))[0])
        poses = np.array(poses)
        token[keys] = ops.linear(poses, w["cmc.key_proj.weight"], w["cmc.key_proj.bias"])
        result.update({"phone_logits": logits, "phone_post": post,
                       "feature_prob": ops.sigmoid(ops.linear(H, w["feature_head.weight"], w["feature_head.bias"])),
                       "boundary": boundary, "key_frames": np.array(keys), "key_poses": poses})
    u = u + token
    if cmc.get("loudness"):  # the loudness path: relative loudness into the CMC input and the logits
        settings = cmc["loudness"]
        stride = int(np.prod([conv["stride"] for conv in config["encoder"]["conv"]]))
        f = loudness(features, T, stride, settings["window"], settings["range_db"], settings["floor"])
        result["loudness"] = f
        u = u + f[:, None] * w["cmc.loudness_proj.weight"].astype(np.float64).T
    u = u + ops.sinusoidal_positions(T, cmc["width"])
    band = (cmc["band_back"], cmc["band_ahead"])
    for i in range(cmc["layers"]):
        u = transformer_layer(u, w, f"cmc.layers.{i}.", cmc["heads"], band, eps, act)
    u = ops.layer_norm(u, w["cmc.norm.weight"], w["cmc.norm.bias"], eps)
    logits = ops.linear(u, w["cmc.head.weight"], w["cmc.head.bias"])
    if cmc.get("shallow", False):  # the shallow path: conv features straight to the logits
        logits = logits + convolved @ w["cmc.shallow.weight"].astype(np.float64).T
    if cmc.get("loudness"):
        logits = logits + result["loudness"][:, None] * w["cmc.loudness_head.weight"].astype(np.float64).T
    result["motion"] = out_act(logits)
    return result


def forward(samples, w, config):
    features = log_mel(samples, config["frontend"]).astype(np.float32)
    result = forward_features(features, w, config)
    result["features"] = features
    return result
