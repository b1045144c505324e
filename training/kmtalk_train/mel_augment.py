"""On-the-fly augmentation of log-mel batches for real recording conditions.

The corpus is clean synthetic speech plus a fixed set of stored augmented copies
(`augment.py`: audio-domain chains made once at build time). Training on real voices
needs every step to see new conditions, so this module perturbs each batch item in the
log-mel domain, where it is cheap on a CPU and free on a GPU:

- **gain**: +-`gain_db` (a constant in log power);
- **noise** at a random SNR (`snr_db`): white or pink noise (flat or 1/f power per FFT bin
  pushed through the model's own mel filterbank, with the per-cell fluctuation of a real
  noise spectrogram) or babble (another item of the batch, time-shifted, its speech
  power matched to the SNR);
- **room reverberation**: each band's power is convolved in time with an exponential
  decay of random RT60 (`rt60_s`) and direct-to-reverberant ratio (`drr_db`);
- **band-limiting** as telephone lines and lossy codecs do: a 300-3400 Hz telephone band
  or a low-pass at 3.5-7 kHz (bands outside drop to the noise floor);
- **vocal-tract length perturbation** (VTLP, Jaitly & Hinton 2013): the frequency axis is
  warped by a factor in `vtlp` (band centres read from f / factor), which shifts formants
  and harmonics as a longer or shorter vocal tract (or another pitch register) would.

Tempo is changed per item before batching (`stretch`: features and targets resampled in
time together, so the motion keeps its alignment with the audio).

Everything works on natural-log mel power as `model.LogMel` produces it
(ln(max(mel, floor))); the output is clamped to the same floor.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F


def hz_to_mel(f):
    return 2595.0 * np.log10(1.0 + np.asarray(f, dtype=np.float64) / 700.0)


def mel_to_hz(m):
    return 700.0 * (10.0 ** (np.asarray(m, dtype=np.float64) / 2595.0) - 1.0)


@dataclass
class AugmentSettings:
    """Probabilities and ranges of each perturbation (applied independently per item)."""
    p_gain: float = 0.5
    gain_db: Tuple[float, float] = (-12.0, 12.0)
    p_noise: float = 0.35
    snr_db: Tuple[float, float] = (5.0, 30.0)
    p_reverb: float = 0.3
    rt60_s: Tuple[float, float] = (0.15, 0.9)
    drr_db: Tuple[float, float] = (-3.0, 12.0)
    p_band: float = 0.25
    lowpass_hz: Tuple[float, float] = (3500.0, 7000.0)
    p_vtlp: float = 0.5
    vtlp: Tuple[float, float] = (0.88, 1.12)
    p_stretch: float = 0.4
    stretch: Tuple[float, float] = (0.85, 1.18)


class MelAugment:
    """Augments [B, T, n_mels] natural-log mel batches (see the module docstring)."""

    def __init__(self, frontend: dict, settings: Optional[AugmentSettings] = None, seed: int = 0):
        from kmtalk_ref.frontend import mel_filterbank
        self.cfg = dict(frontend)
        self.settings = settings or AugmentSettings()
        self.rng = random.Random(seed)
        fb = mel_filterbank(frontend)                                    # [n_mels, bins]
        bins = np.arange(fb.shape[1]) * frontend["sample_rate"] / frontend["n_fft"]
        self.white = fb.sum(axis=1) / fb.sum()                           # share of white-noise power per band
        pink = fb @ (1.0 / np.maximum(bins, 50.0))
        self.pink = pink / pink.sum()
        points = mel_to_hz(np.linspace(hz_to_mel(frontend["f_min"]), hz_to_mel(frontend["f_max"]),
                                       frontend["n_mels"] + 2))
        self.centres = points[1:-1]                                      # band centre frequencies (Hz)
        self.log_floor = math.log(frontend["log_floor"])

    def _uniform(self, lo_hi) -> float:
        return self.rng.uniform(*lo_hi)

    def __call__(self, mel: torch.Tensor, mel_lengths: torch.Tensor) -> torch.Tensor:
        """A perturbed copy of `mel` [B, T, n_mels]; frames past each item's length stay."""
        s = self.settings
        batch, frames, bands = mel.shape
        device = mel.device
        power = torch.exp(mel.float())
        valid = torch.arange(frames, device=device)[None, :] < mel_lengths.to(device)[:, None]
        out = power.clone()
        speech_power = [(power[b][valid[b]].sum(-1).mean() if bool(valid[b].any()) else power.new_tensor(1.0))
                        for b in range(batch)]
        for b in range(batch):
            n = int(mel_lengths[b])
            if n < 2:
                continue
            x = out[b, :n]
            if self.rng.random() < s.p_vtlp:
                x = self._vtlp(x, self._uniform(s.vtlp))
            if self.rng.random() < s.p_reverb:
                x = self._reverb(x, self._uniform(s.rt60_s), self._uniform(s.drr_db))
            if self.rng.random() < s.p_noise:
                x = self._noise(x, power, mel_lengths, b, speech_power, self._uniform(s.snr_db))
            if self.rng.random() < s.p_band:
                x = self._band(x)
            if self.rng.random() < s.p_gain:
                x = x * 10.0 ** (self._uniform(s.gain_db) / 10.0)
            out[b, :n] = x
        augmented = torch.log(torch.clamp(out, min=math.exp(self.log_floor))).to(mel.dtype)
        return torch.where(valid[..., None], augmented, mel)  # padding stays bit-identical

    # ---- the perturbations (x: linear mel power [n, bands] of one item) -----------------

    def _vtlp(self, x: torch.Tensor, factor: float) -> torch.Tensor:
        source = self.centres / factor                                   # read band j from f_j / factor
        position = np.interp(source, self.centres, np.arange(len(self.centres)))
        lo = np.clip(np.floor(position).astype(np.int64), 0, len(self.centres) - 1)
        hi = np.clip(lo + 1, 0, len(self.centres) - 1)
        w = torch.tensor(position - lo, dtype=x.dtype, device=x.device)
        lo_t, hi_t = torch.from_numpy(lo).to(x.device), torch.from_numpy(hi).to(x.device)
        log_x = torch.log(torch.clamp(x, min=1e-10))
        return torch.exp((1 - w) * log_x[:, lo_t] + w * log_x[:, hi_t])

    def _reverb(self, x: torch.Tensor, rt60: float, drr_db: float) -> torch.Tensor:
        hop = self.cfg["hop_length"] / self.cfg["sample_rate"]
        length = max(2, int(rt60 / hop))
        t = torch.arange(1, length, dtype=x.dtype, device=x.device) * hop
        tail = torch.exp(-13.8155 * t / rt60)                            # power decays 60 dB over rt60
        tail = tail / tail.sum() * 10.0 ** (-drr_db / 10.0)
        kernel = torch.cat([torch.ones(1, dtype=x.dtype, device=x.device), tail])
        padded = F.pad(x.T[:, None, :], (length - 1, 0))                # causal: the room only adds later energy
        smeared = F.conv1d(padded, kernel.flip(0)[None, None, :])
        return smeared[:, 0, :].T

    def _noise(self, x, power, lengths, b, speech_power, snr_db: float) -> torch.Tensor:
        n = x.shape[0]
        level = float(speech_power[b]) * 10.0 ** (-snr_db / 10.0)
        kind = self.rng.choice(("white", "pink", "babble"))
        others = [i for i in range(power.shape[0]) if i != b and int(lengths[i]) >= 2]
        if kind == "babble" and others:
            o = self.rng.choice(others)
            m = int(lengths[o])
            index = (torch.arange(n, device=x.device) + self.rng.randrange(m)) % m
            noise = power[o, index] / float(speech_power[o])
        else:
            shape = torch.tensor(self.white if kind == "white" else self.pink, dtype=x.dtype, device=x.device)
            # A noise spectrogram cell is a sum of a few chi-square bins: log-normal-ish spread.
            noise = shape[None, :] * torch.exp(0.5 * torch.randn(n, x.shape[1], dtype=x.dtype, device=x.device)
                                               - 0.125)
        return x + level * noise

    def _band(self, x: torch.Tensor) -> torch.Tensor:
        centres = torch.tensor(self.centres, dtype=x.dtype, device=x.device)
        if self.rng.random() < 0.4:
            keep = (centres >= 300.0) & (centres <= 3400.0)
        else:
            keep = centres <= self._uniform(self.settings.lowpass_hz)
        gain = torch.where(keep, torch.ones_like(centres), torch.full_like(centres, 1e-4))
        return x * gain[None, :]


def stretch_item(mel: np.ndarray, motion: np.ndarray, labels: Optional[Sequence], factor: float,
                 native_count) -> Tuple[np.ndarray, np.ndarray, Optional[list]]:
    """Tempo change by `factor` (> 1 = faster): log-mel [T_mel, n] and motion [T, M] are
    resampled in time together (linear), phone labels by nearest frame. The motion gets
    `native_count(new T_mel)` frames, as many as the encoder will output."""
    t_mel = max(2, int(round(mel.shape[0] / factor)))
    source = np.linspace(0, mel.shape[0] - 1, t_mel)
    lo = np.floor(source).astype(np.int64)
    hi = np.minimum(lo + 1, mel.shape[0] - 1)
    w = (source - lo)[:, None].astype(np.float32)
    new_mel = ((1 - w) * mel[lo] + w * mel[hi]).astype(np.float32)
    count = max(1, int(native_count(t_mel)))
    times = np.linspace(0, len(motion) - 1, count)
    new_motion = np.stack([np.interp(times, np.arange(len(motion)), motion[:, c]) for c in range(motion.shape[1])],
                          axis=1).astype(np.float32)
    new_labels = None
    if labels is not None:
        nearest = np.clip(np.round(times).astype(np.int64), 0, len(labels) - 1)
        new_labels = [labels[i] for i in nearest]
    return new_mel, new_motion, new_labels
