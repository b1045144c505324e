"""Pictures of teacher (or model) animation: channel curves under the waveform with phone
labels, and ICT-FaceKit renders of chosen frames. Needs matplotlib."""
from __future__ import annotations

from typing import List, Optional, Sequence, Tuple

import numpy as np

from .arkit import INDEX
from .ict_rig import render

CURVES = ("jawOpen", "mouthClose", "mouthPucker", "mouthFunnel", "mouthStretchLeft", "mouthRollLower",
          "mouthPressLeft", "browInnerUp")


def plot_curves(path: str, segments: Sequence, samples: np.ndarray, sample_rate: int, frames: np.ndarray,
                fps: float, title: str = "", channels: Sequence[str] = CURVES) -> None:
    """Waveform with phone boundaries and labels, and the chosen channels below it."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    duration = len(samples) / sample_rate
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(max(10, duration * 4), 6), sharex=True,
                                      gridspec_kw={"height_ratios": [1, 2]}, constrained_layout=True)
    t = np.arange(len(samples)) / sample_rate
    top.plot(t, samples, lw=0.4, color="0.3")
    for seg in segments:
        top.axvline(seg.start, color="tab:red", lw=0.5, alpha=0.6)
        bottom.axvline(seg.start, color="0.85", lw=0.5)
        top.text((seg.start + seg.end) / 2, top.get_ylim()[1] * 0.85 if top.get_ylim()[1] else 0.5, seg.phone,
                 ha="center", va="top", fontsize=8)
    top.set(title=title, xlim=(0, duration))
    ft = np.arange(len(frames)) / fps
    for name in channels:
        bottom.plot(ft, frames[:, INDEX[name]], label=name, lw=1.2)
    bottom.set(ylim=(0, 1), xlabel="seconds", ylabel="weight")
    bottom.legend(loc="upper right", ncol=4, fontsize=8)
    fig.savefig(path, dpi=80)
    plt.close(fig)


def render_strip(path: str, rig, frames: np.ndarray, picks: List[Tuple[int, str]], size: int = 256) -> None:
    """Renders frames[k] for each (k, label) in picks side by side, cropped to the mouth."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    vertices = rig.vertices(frames[[k for k, _ in picks]])
    lm = rig.landmarks
    centre = rig.neutral[lm[48:68]].mean(axis=0)
    half = 4.5
    crop = (centre[0] - half, centre[0] + half, centre[1] - half * 0.8, centre[1] + half * 1.2)
    fig, axes = plt.subplots(1, len(picks), figsize=(2.6 * len(picks), 2.9), constrained_layout=True)
    for ax, v, (k, label) in zip(np.atleast_1d(axes), vertices, picks):
        ax.imshow(render(rig, v, size=size, crop=crop))
        ax.set_title(label, fontsize=9)
        ax.axis("off")
    fig.savefig(path, dpi=80)
    plt.close(fig)
