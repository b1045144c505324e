"""NumPy reference of the loudness feature (docs/model.md, "The loudness path").

A gain-invariant, causal measure of how loud each native frame is relative to the speech
around it, computed from the log-mel features alone, so a stream and the offline path get
the same values:

    L[j]  = ln(sum_b exp(logmel[j, b]))                        total mel power, mel frame j
    e[t]  = mean of L[j] for j in [s t - s//2, s t + s//2]     clamped to the mel frames
    m[t]  = max(floor, max(e[t - window + 1 .. t]))            recent peak, never below floor
    f[t]  = max(0, 1 + (e[t] - m[t]) / D),  D = range_db ln(10) / 10

`s` is the encoder's total conv stride. f is 1 at the loudest frame of the last `window`
native frames and falls linearly to 0 at `range_db` below it; scaling the signal by a gain
shifts e and m alike, so f does not change (above `floor`, in the log-mel's units, which
keeps digital silence and hiss from reading as loud).
"""
import numpy as np


def mel_log_power(features):
    """L [T_mel]: ln of the total mel power of each log-mel frame [T_mel, n_mels]."""
    x = np.asarray(features, dtype=np.float64)
    top = x.max(axis=1)
    return top + np.log(np.exp(x - top[:, None]).sum(axis=1))


def loudness(features, frames, stride, window, range_db, floor):
    """f [frames] for log-mel features [T_mel, n_mels] and `frames` native frames."""
    level = mel_log_power(features)
    count = len(level)
    half = stride // 2
    e = np.empty(frames)
    for t in range(frames):
        lo, hi = max(0, stride * t - half), min(count - 1, stride * t + half)
        e[t] = level[lo:hi + 1].mean() if hi >= lo else level[-1]  # past the end: the last frame
    span = range_db * np.log(10.0) / 10.0
    f = np.empty(frames)
    for t in range(frames):
        peak = max(floor, e[max(0, t - window + 1):t + 1].max())
        f[t] = max(0.0, 1.0 + (e[t] - peak) / span)
    return f
