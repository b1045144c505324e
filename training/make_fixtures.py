#!/usr/bin/env python3
"""Regenerates the golden fixtures the Swift tests compare against, and the tiny
random-weight test model, from the NumPy reference (training/kmtalk_ref).

    python3 training/make_fixtures.py            # writes into the repository
    python3 training/make_fixtures.py --out DIR  # writes elsewhere (used by a test)

Outputs:
  Tests/KMTalkEngineTests/Fixtures/ops_golden.safetensors     every tensor op, inputs and outputs
  Tests/KMTalkEngineTests/Fixtures/logmel_golden.safetensors  the log-mel front-end
  Tests/KMTalkEngineTests/Fixtures/model_golden.safetensors   tiny model: features, encoder, motion
  Tests/KMTalkEngineTests/Fixtures/learned-direct.safetensors second test model (learned positions, no band)
  Tests/KMTalkEngineTests/Fixtures/learned_golden.safetensors its golden outputs
  Tests/KMTalkEngineTests/Fixtures/kmtalk-tiny.safetensors    tiny `kmtalk` model (LKMA + CMC), random weights
  Tests/KMTalkEngineTests/Fixtures/kmtalk_golden.safetensors  its intermediates: features, encoder, posteriors, key frames, motion
  Tests/KMTalkEngineTests/Fixtures/kmtalk-nokeys.safetensors  the direct-regression variant (CMC without key tokens)
  Tests/KMTalkEngineTests/Fixtures/nokeys_golden.safetensors  its golden outputs
  Tests/KMTalkEngineTests/Fixtures/kmtalk-vertices.safetensors tiny vertices-space `kmtalk` model with its template (cm)
  Tests/KMTalkEngineTests/Fixtures/vertices_golden.safetensors its golden outputs, motion (offsets) and posed vertices
  models/kmtalk-tiny-random.safetensors                       random-weight model for tests and demos
"""
import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kmtalk_ref import direct_model, kmtalk_model, ops, safetensors_io  # noqa: E402
from kmtalk_train import phones  # noqa: E402
from kmtalk_ref.frontend import log_mel  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def f32(a):
    return np.asarray(a, dtype=np.float32)


def ops_fixture(rng):
    t = {}
    x = f32(rng.normal(size=(5, 7)))
    w = f32(rng.normal(size=(3, 7)))
    b = f32(rng.normal(size=3))
    t.update({"linear.x": x, "linear.w": w, "linear.b": b, "linear.y": ops.linear(x, w, b),
              "linear.y_nobias": ops.linear(x, w)})
    # conv cases: (name, T, Cin, Cout, K, stride, padding, dilation)
    for name, length, cin, cout, k, s, p, d in [("conv_a", 17, 4, 6, 3, 1, 1, 1), ("conv_b", 17, 4, 6, 3, 2, 1, 1),
                                                 ("conv_c", 23, 3, 5, 5, 3, 2, 2), ("conv_d", 9, 2, 3, 4, 1, 0, 1)]:
        cx = f32(rng.normal(size=(length, cin)))
        cw = f32(rng.normal(size=(cout, cin, k)))
        cb = f32(rng.normal(size=cout))
        t.update({f"{name}.x": cx, f"{name}.w": cw, f"{name}.b": cb,
                  f"{name}.y": ops.conv1d(cx, cw, cb, stride=s, padding=p, dilation=d)})
    ln = f32(rng.normal(2, 3, size=(6, 10)))
    g = f32(rng.normal(1, 0.2, size=10))
    bb = f32(rng.normal(size=10))
    t.update({"layernorm.x": ln, "layernorm.g": g, "layernorm.b": bb, "layernorm.y": ops.layer_norm(ln, g, bb, 1e-5)})
    a = f32(rng.normal(0, 3, size=(4, 9)))
    t.update({"act.x": a, "gelu.y": ops.gelu(a), "silu.y": ops.silu(a), "sigmoid.y": ops.sigmoid(a),
              "softmax.x": f32(a * 5), "softmax.y": ops.softmax(f32(a * 5))})
    length, width, heads = 70, 16, 4
    ax = f32(rng.normal(size=(length, width)))
    aw = {}
    for name in ("q", "k", "v", "out"):
        aw[name] = f32(rng.normal(0, 1 / np.sqrt(width), size=(width, width)))
        aw[name + "_bias"] = f32(rng.normal(0, 0.1, size=width))
        t[f"attn.{name}.weight"] = aw[name]
        t[f"attn.{name}.bias"] = aw[name + "_bias"]
    t["attn.x"] = ax
    t["attn.y_full"] = ops.multi_head_self_attention(ax, aw, heads)
    t["attn.y_band_5_2"] = ops.multi_head_self_attention(ax, aw, heads, (5, 2))
    t["attn.y_band_0_0"] = ops.multi_head_self_attention(ax, aw, heads, (0, 0))
    t["attn.y_band_100_0"] = ops.multi_head_self_attention(ax, aw, heads, (100, 0))
    t["pos.sin_10_16"] = ops.sinusoidal_positions(10, 16)
    t["pos.sin_6_15_offset7"] = ops.sinusoidal_positions(6, 15, offset=7)
    table = f32(rng.normal(size=(20, 16)))
    px = f32(rng.normal(size=(10, 16)))
    t.update({"pos.table": table, "pos.x": px, "pos.learned_offset3": px + table[3:13]})
    emb = f32(rng.normal(size=(11, 6)))
    ids = [3, 0, 10, 3]
    t.update({"embed.table": emb, "embed.ids": f32(ids), "embed.y": ops.embedding(ids, emb)})
    motion = f32(rng.uniform(size=(23, 5)))
    t.update({"fps.x": motion, "fps.y_60": ops.resample_frames(motion, 50, 60),
              "fps.y_30": ops.resample_frames(motion, 50, 30), "fps.y_24": ops.resample_frames(motion, 50, 24)})
    dtypes = {}
    raw = f32(rng.normal(size=(3, 4)))
    t["dtype.f16"] = raw
    dtypes["dtype.f16"] = "F16"
    t["dtype.f16.expected"] = raw.astype(np.float16).astype(np.float32)
    t["dtype.bf16"] = raw
    dtypes["dtype.bf16"] = "BF16"
    bits = raw.view(np.uint32)
    t["dtype.bf16.expected"] = (((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16) << 16).astype(np.uint32).view(np.float32)
    return {k: np.asarray(v) if k in dtypes else f32(v) for k, v in t.items()}, dtypes


def test_signal(rng, seconds, rate=16000):
    """Broadband noise plus tones and a chirp: energy in every mel band, so float32
    rounding stays far below the 1e-4 tolerance after the log."""
    n = int(seconds * rate)
    time = np.arange(n) / rate
    signal = 0.1 * rng.normal(size=n)
    signal += 0.3 * np.sin(2 * np.pi * 220 * time) + 0.2 * np.sin(2 * np.pi * (300 + 1500 * time) * time)
    return f32(signal * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * time)))


def write(path, tensors, metadata=None, dtypes=None):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    safetensors_io.save(path, tensors, metadata, dtypes)
    print(f"wrote {os.path.relpath(path, ROOT) if path.startswith(ROOT) else path} ({os.path.getsize(path)} bytes)")


def model_golden(samples, weights, config):
    features, encoded, motion = direct_model.forward(samples, weights, config)
    return {"samples": samples, "features": features, "encoded": f32(encoded), "motion": f32(motion),
            "motion_60fps": f32(ops.resample_frames(motion, config["motion"]["fps"], 60.0))}


def locator_margin(boundary, threshold):
    """Smallest gap in any comparison the key-frame locator makes: float32 rounding in
    the engine must not flip a decision."""
    b = np.append(boundary, -1.0)
    gaps = [abs(b[t] - threshold) for t in range(1, len(boundary))]
    gaps += [abs(b[t] - b[t - 1]) for t in range(1, len(boundary))]
    gaps += [abs(b[t] - b[t + 1]) for t in range(1, len(boundary))]
    return min(gaps)


def face_patch_template(columns=6, rows=8):
    """A small curved patch standing in for a face, in centimetres: a grid of
    `columns` x `rows` vertices over x in [-5, 5], y in [-7, 7], bulging towards +z,
    triangulated counter-clockwise seen from +z (the side the face looks to)."""
    x = np.linspace(-5.0, 5.0, columns)
    y = np.linspace(7.0, -7.0, rows)
    vertices = np.array([[xi, yi, 3.0 * np.cos(xi / 7.0) * np.cos(yi / 10.0)] for yi in y for xi in x])
    faces = []
    for r in range(rows - 1):
        for c in range(columns - 1):
            top_left, top_right = r * columns + c, r * columns + c + 1
            bottom_left, bottom_right = top_left + columns, top_right + columns
            faces += [[bottom_left, bottom_right, top_right], [bottom_left, top_right, top_left]]
    return f32(vertices), np.array(faces, dtype=np.int32)


def kmtalk_fixture(fixtures, rng, use_keys, model_name, golden_name, seconds, template=None, shallow=False,
                   loudness=None):
    """A tiny `kmtalk` model and its golden outputs. With `template` ((vertices [V, 3],
    faces [F, 3]) in cm) the model is vertices-space: 3V offset channels, identity
    activation, and the template stored as `motion.template` / `motion.faces`. `shallow`
    adds the shallow path (`cmc.shallow`), `loudness` (its settings) the loudness path
    (`cmc.loudness`)."""
    config = kmtalk_model.tiny_config(phones.INVENTORY, use_keys=use_keys)
    if shallow:
        config["cmc"]["shallow"] = True
    if loudness is not None:
        config["cmc"]["loudness"] = dict(loudness)
    if template is not None:
        config["motion"] = kmtalk_model.vertices_motion(len(template[0]), config["motion"]["fps"], units="cm")
    samples = test_signal(rng, seconds)
    for seed in range(100, 200):  # the first seed whose locator decisions are robust
        weights = kmtalk_model.random_weights(config, seed)
        result = kmtalk_model.forward(samples, weights, config)
        if not use_keys or (locator_margin(result["boundary"], config["lkma"]["key_threshold"]) > 2e-3
                            and len(result["key_frames"]) >= 5):
            break
    dtypes = None
    if template is not None:
        weights.update(kmtalk_model.template_tensors(*template))
        dtypes = {"motion.faces": "I32"}
    write(os.path.join(fixtures, model_name), weights,
          kmtalk_model.metadata(config, description="test model, random weights", seed=str(seed)), dtypes)
    golden = {"samples": samples, "features": result["features"], "encoded": f32(result["encoded"]),
              "motion": f32(result["motion"])}
    if use_keys:
        golden.update({"phone_post": f32(result["phone_post"]), "feature_prob": f32(result["feature_prob"]),
                       "boundary": f32(result["boundary"]), "key_frames": f32(result["key_frames"]),
                       "key_poses": f32(result["key_poses"])})
    if loudness is not None:
        golden["loudness"] = f32(result["loudness"])
    if template is not None:
        golden["vertices"] = f32(kmtalk_model.posed_vertices(result["motion"], template[0]))
    write(os.path.join(fixtures, golden_name), golden)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=ROOT, help="repository root to write under (default: this checkout)")
    args = parser.parse_args()
    fixtures = os.path.join(args.out, "Tests", "KMTalkEngineTests", "Fixtures")
    rng = np.random.default_rng(20241101)

    tensors, dtypes = ops_fixture(rng)
    write(os.path.join(fixtures, "ops_golden.safetensors"), tensors, {"generator": "training/make_fixtures.py"}, dtypes)

    logmel_cfg = {"sample_rate": 16000, "n_fft": 512, "win_length": 320, "hop_length": 160,
                  "n_mels": 80, "f_min": 0.0, "f_max": 8000.0, "log_floor": 1e-6}
    signal = test_signal(rng, 0.73)
    write(os.path.join(fixtures, "logmel_golden.safetensors"),
          {"samples": signal, "features": f32(log_mel(signal, logmel_cfg))},
          {"config": json.dumps(logmel_cfg)})

    config = direct_model.tiny_config()
    weights = direct_model.random_weights(config, seed=1234)
    meta = direct_model.metadata(config, description="random weights for tests and demos; not a trained model",
                                 generator="training/make_fixtures.py", seed="1234")
    write(os.path.join(args.out, "models", "kmtalk-tiny-random.safetensors"), weights, meta)
    write(os.path.join(fixtures, "model_golden.safetensors"), model_golden(test_signal(rng, 1.37), weights, config))

    learned = direct_model.tiny_config(width=16, layers=1, heads=2, ffn=24, n_mels=24, band=None, positions="learned")
    learned["encoder"]["max_positions"] = 64
    learned_weights = direct_model.random_weights(learned, seed=99)
    write(os.path.join(fixtures, "learned-direct.safetensors"), learned_weights,
          direct_model.metadata(learned, description="test model: learned positions, full attention"))
    write(os.path.join(fixtures, "learned_golden.safetensors"), model_golden(test_signal(rng, 0.91), learned_weights, learned))

    kmtalk_fixture(fixtures, rng, True, "kmtalk-tiny.safetensors", "kmtalk_golden.safetensors", 2.3)
    kmtalk_fixture(fixtures, rng, False, "kmtalk-nokeys.safetensors", "nokeys_golden.safetensors", 1.1)
    kmtalk_fixture(fixtures, rng, True, "kmtalk-vertices.safetensors", "vertices_golden.safetensors", 1.7,
                   template=face_patch_template())
    kmtalk_fixture(fixtures, rng, True, "kmtalk-shallow.safetensors", "shallow_golden.safetensors", 1.9, shallow=True)
    # A short window and a high floor so both the sliding peak and the floor decide frames
    # of the 3 Hz loudness swing of the test signal.
    kmtalk_fixture(fixtures, rng, True, "kmtalk-loudness.safetensors", "loudness_golden.safetensors", 2.1,
                   loudness={"window": 12, "range_db": 30.0, "floor": 7.5})


if __name__ == "__main__":
    main()
