"""Reference log-mel front-end: torch.stft(center=True, pad_mode="constant", periodic
Hann window centred in n_fft) power spectrum, torchaudio HTK mel filterbank without
normalisation, natural log of max(mel, log_floor)."""
import numpy as np


def hz_to_mel(hz):
    return 2595.0 * np.log10(1.0 + np.asarray(hz) / 700.0)


def mel_to_hz(mel):
    return 700.0 * (10.0 ** (np.asarray(mel) / 2595.0) - 1.0)


def mel_filterbank(cfg):
    n_fft, sr, n_mels = cfg["n_fft"], cfg["sample_rate"], cfg["n_mels"]
    bins = n_fft // 2 + 1
    freqs = np.arange(bins) * sr / n_fft
    points = mel_to_hz(np.linspace(hz_to_mel(cfg["f_min"]), hz_to_mel(cfg["f_max"]), n_mels + 2))
    fb = np.zeros((n_mels, bins))
    for m in range(n_mels):
        left, centre, right = points[m], points[m + 1], points[m + 2]
        rising = (freqs - left) / (centre - left)
        falling = (right - freqs) / (right - centre)
        fb[m] = np.maximum(0, np.minimum(rising, falling))
    return fb


def log_mel(samples, cfg):
    n_fft, hop, win = cfg["n_fft"], cfg["hop_length"], cfg["win_length"]
    samples = np.asarray(samples, dtype=np.float64)
    frames = 1 + len(samples) // hop
    padded = np.concatenate([np.zeros(n_fft // 2), samples, np.zeros(n_fft)])
    window = np.zeros(n_fft)
    offset = (n_fft - win) // 2
    window[offset:offset + win] = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(win) / win)
    index = np.arange(frames)[:, None] * hop + np.arange(n_fft)[None, :]
    spectrum = np.fft.rfft(padded[index] * window, n=n_fft, axis=1)
    power = spectrum.real ** 2 + spectrum.imag ** 2
    mel = power @ mel_filterbank(cfg).T
    return np.log(np.maximum(mel, cfg["log_floor"]))
