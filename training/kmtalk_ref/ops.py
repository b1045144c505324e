"""Reference tensor ops in float64 NumPy, with the engine's conventions: row-major,
time-major sequences [T, C], PyTorch weight layouts ([out, in], [Cout, Cin, K])."""
import math

import numpy as np

try:
    from scipy.special import erf as _erf
except ImportError:  # pragma: no cover - scipy is optional
    _erf = np.vectorize(math.erf)


def linear(x, weight, bias=None):
    y = x @ weight.T
    return y + bias if bias is not None else y


def conv1d(x, weight, bias=None, stride=1, padding=0, dilation=1):
    """x [T, Cin], weight [Cout, Cin, K] -> [Tout, Cout]; zero padding (PyTorch Conv1d)."""
    length, cin = x.shape
    cout, _, kernel = weight.shape
    padded = np.zeros((length + 2 * padding, cin), dtype=x.dtype)
    padded[padding:padding + length] = x
    span = dilation * (kernel - 1) + 1
    out_length = 0 if padded.shape[0] < span else (padded.shape[0] - span) // stride + 1
    out = np.zeros((out_length, cout))
    for t in range(out_length):
        taps = padded[t * stride:t * stride + span:dilation]  # [K, Cin]
        out[t] = np.einsum("kc,ock->o", taps, weight)
    return out + bias if bias is not None else out


def layer_norm(x, gamma, beta, eps=1e-5):
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * gamma + beta


def gelu(x):
    return 0.5 * x * (1 + _erf(x / math.sqrt(2)))


def silu(x):
    return x / (1 + np.exp(-x))


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def relu(x):
    return np.maximum(x, 0)


ACTIVATIONS = {"gelu": gelu, "silu": silu, "relu": relu, "sigmoid": sigmoid, "identity": lambda x: x}


def softmax(x):
    shifted = x - x.max(axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=-1, keepdims=True)


def band_mask(length, back, ahead):
    """True where query i may see key j: i - back <= j <= i + ahead."""
    i = np.arange(length)[:, None]
    j = np.arange(length)[None, :]
    return (j >= i - back) & (j <= i + ahead)


def multi_head_self_attention(x, w, heads, band=None):
    """w: dict with q, q_bias, k, k_bias, v, v_bias, out, out_bias. band: (back, ahead)."""
    length, width = x.shape
    head_width = width // heads
    q = linear(x, w["q"], w["q_bias"])
    k = linear(x, w["k"], w["k_bias"])
    v = linear(x, w["v"], w["v_bias"])
    context = np.zeros_like(q)
    mask = band_mask(length, *band) if band is not None else np.ones((length, length), dtype=bool)
    for h in range(heads):
        cols = slice(h * head_width, (h + 1) * head_width)
        scores = q[:, cols] @ k[:, cols].T / math.sqrt(head_width)
        scores = np.where(mask, scores, -np.inf)
        context[:, cols] = softmax(scores) @ v[:, cols]
    return linear(context, w["out"], w["out_bias"])


def sinusoidal_positions(length, width, offset=0):
    pe = np.zeros((length, width))
    positions = np.arange(offset, offset + length)[:, None]
    pairs = np.arange(0, width, 2)
    angles = positions * np.exp(-pairs * math.log(10000.0) / width)[None, :]
    pe[:, 0::2] = np.sin(angles)
    pe[:, 1::2] = np.cos(angles[:, :width // 2])
    return pe


def embedding(ids, table):
    return table[np.asarray(ids)]


def resample_frames(motion, in_fps, out_fps):
    """Linear interpolation in time; frame i at i / fps. The output spans the same time,
    (frames - 1) / in_fps seconds: floor((frames - 1) * out / in) + 1 frames."""
    frames = motion.shape[0]
    if in_fps == out_fps:
        return motion
    out_frames = int(np.floor((frames - 1) * out_fps / in_fps + 1e-9)) + 1
    position = np.minimum(np.arange(out_frames) * in_fps / out_fps, frames - 1)
    lower = np.floor(position).astype(int)
    upper = np.minimum(lower + 1, frames - 1)
    t = (position - lower)[:, None]
    return motion[lower] + (motion[upper] - motion[lower]) * t
