"""PyTorch training model of the `kmtalk` architecture (docs/model.md): log-mel front-end,
AudioEncoder, LKMA (PhoneHead, KeyFrameLocator, KeyMotionDecoder) and CMC.

Parameter names are the spec's tensor names (`encoder.layers.0.attn.q.weight`, ...), so
`model.state_dict()` is exactly what the engine loads (see `export.py`). Every
hyper-parameter comes from the config dict (the `config` metadata of the weights file).

Sequences are `[T, C]` (one utterance) or `[B, T, C]` (a padded batch with `lengths`).
Batched results equal the unbatched ones frame for frame on the valid frames: conv outputs
are zeroed beyond each item's length (the zero padding of the reference) and attention
never looks at padded keys.
"""
from __future__ import annotations

import math
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .arkit import ARKIT_52
from .phones import FEATURE_NAMES as _PHONE_FEATURE_NAMES, INVENTORY

# The visible features the feature head predicts (phones.FEATURE_NAMES without voiced/pause).
FEATURES = list(_PHONE_FEATURE_NAMES[:7])

# The loudness path's settings (docs/model.md): the peak of the last 2 s (100 native frames
# at 50 fps), a 40 dB range, and a floor in the log-mel's units (ln of the total mel power):
# 0 is 43 dB below a full-scale sine (9.9) and ~30 dB below the loud frames of speech at
# -25 dBFS RMS (6.6-7.3), so hiss or digital silence alone never reads as loud speech.
DEFAULT_LOUDNESS = {"window": 100, "range_db": 40.0, "floor": 0.0}


def _act(name: str):
    return {"gelu": lambda x: F.gelu(x),  # exact (erf) GELU
            "silu": F.silu, "relu": F.relu, "sigmoid": torch.sigmoid, "identity": lambda x: x}[name]


# --------------------------------------------------------------------------------------
# Configs
# --------------------------------------------------------------------------------------

def default_config(width: int = 128, layers: int = 4, heads: int = 4, ffn: int = 256, band=(25, 2),
                   n_mels: int = 80, embedding_width: int = 32, hidden_width: int = 128,
                   cmc_width: int = 128, cmc_layers: int = 2, cmc_heads: int = 4, cmc_ffn: int = 256,
                   cmc_band=(25, 2), key_threshold: float = 0.5, min_gap: int = 2, max_gap: int = 25,
                   use_keys: bool = True, positions: str = "sinusoidal", phones: Sequence[str] = INVENTORY,
                   features: Sequence[str] = FEATURES, shallow: bool = False, loudness: bool = False) -> dict:
    """The size we train: 16 kHz, log-mel 80 bands at 100 frames/s, conv k3 s1 + k3 s2 to
    `width` (50 frames/s native), 4 pre-norm layers with a 25-back / 2-ahead band, LKMA
    over the full phone inventory and 7 visible features, a 2-layer CMC, ARKit-52 sigmoid.
    `shallow` adds the shallow path: a linear map from the conv stack's output (before the
    positions) straight to the motion logits, next to the CMC head (docs/model.md).
    `loudness` adds the loudness path: the gain-invariant relative loudness of each frame
    (kmtalk_ref.loudness) into the CMC input and straight to the motion logits."""
    frontend = {"sample_rate": 16000, "n_fft": 512, "win_length": 400, "hop_length": 160, "n_mels": n_mels,
                "f_min": 20.0, "f_max": 7600.0, "log_floor": 1e-6}
    encoder = {"conv": [{"kernel": 3, "stride": 1, "channels": width}, {"kernel": 3, "stride": 2, "channels": width}],
               "width": width, "layers": layers, "heads": heads, "ffn_width": ffn,
               "band_back": band[0] if band else None, "band_ahead": band[1] if band else None,
               "positions": positions, "max_positions": 4096, "activation": "gelu", "layer_norm_eps": 1e-5}
    config = {"frontend": frontend, "encoder": encoder}
    if use_keys:
        config["lkma"] = {"phones": list(phones), "features": list(features), "embedding_width": embedding_width,
                          "hidden_width": hidden_width, "key_threshold": key_threshold, "min_gap": min_gap,
                          "max_gap": max_gap}
    config["cmc"] = {"width": cmc_width, "layers": cmc_layers, "heads": cmc_heads, "ffn_width": cmc_ffn,
                     "band_back": cmc_band[0] if cmc_band else None, "band_ahead": cmc_band[1] if cmc_band else None,
                     "use_keys": use_keys}
    if shallow:
        config["cmc"]["shallow"] = True
    if loudness:
        config["cmc"]["loudness"] = dict(DEFAULT_LOUDNESS)
    fps = frontend["sample_rate"] / frontend["hop_length"] / total_stride(config)
    config["motion"] = {"space": "arkit", "channels": list(ARKIT_52), "fps": fps, "activation": "sigmoid"}
    return config


def tiny_config(use_keys: bool = True, phones: Sequence[str] = INVENTORY, **overrides) -> dict:
    """A small model for tests (40 mel bands, width 32, 2+2 layers)."""
    args = dict(width=32, layers=2, heads=4, ffn=64, band=(16, 3), n_mels=40, embedding_width=8, hidden_width=40,
                cmc_width=24, cmc_layers=2, cmc_heads=4, cmc_ffn=48, cmc_band=(12, 2), use_keys=use_keys,
                phones=phones)
    args.update(overrides)
    config = default_config(**args)
    config["frontend"].update({"n_fft": 400, "win_length": 400})
    return config


def total_stride(config: dict) -> int:
    return int(np.prod([c["stride"] for c in config["encoder"]["conv"]]))


def lookahead_frames(config: dict) -> int:
    """Look-ahead of the whole network in native frames (docs/model.md, section 4)."""
    stride, mel = 1, 0
    for conv in config["encoder"]["conv"]:
        mel += (conv["kernel"] // 2) * stride
        stride *= conv["stride"]
    frames = -(-mel // stride)
    enc, cmc = config["encoder"], config["cmc"]
    if enc.get("band_ahead") is None or cmc.get("band_ahead") is None:
        raise ValueError("full attention: the look-ahead is the whole utterance")
    frames += enc["layers"] * enc["band_ahead"]
    if cmc["use_keys"]:
        frames += 1  # the locator's b[t + 1]
    return frames + cmc["layers"] * cmc["band_ahead"]


def native_lengths(mel_lengths: torch.Tensor, config: dict) -> torch.Tensor:
    """Encoder frames for log-mel lengths (each conv: (L + 2 (k//2) - k) // s + 1)."""
    lengths = mel_lengths
    for conv in config["encoder"]["conv"]:
        k, s = conv["kernel"], conv["stride"]
        lengths = torch.div(lengths + 2 * (k // 2) - k, s, rounding_mode="floor") + 1
    return lengths


def loudness_feature(mel: torch.Tensor, mel_lengths: torch.Tensor, frames: int, stride: int,
                     settings: dict) -> torch.Tensor:
    """The loudness path's input f [B, frames] from log-mel [B, T_mel, n_mels] with
    `mel_lengths` valid frames per item (kmtalk_ref.loudness, batched; no gradient).
    Frames past an item's end get values too (from its last frames); they are masked
    downstream."""
    with torch.no_grad():
        level = torch.logsumexp(mel.double(), dim=-1)                    # [B, T_mel]
        batch, count = level.shape
        half = stride // 2
        centre = torch.arange(frames, device=mel.device) * stride       # [T]
        offsets = torch.arange(-half, half + 1, device=mel.device)      # [K]
        index = centre[:, None] + offsets[None, :]                      # [T, K]
        last = (mel_lengths.to(mel.device) - 1)[:, None, None]          # [B, 1, 1]
        valid = (index[None] >= 0) & (index[None] <= last)               # [B, T, K]
        gathered = level[:, index.clamp(0, count - 1).reshape(-1)].reshape(batch, frames, -1)
        weights = valid.double()
        # A frame past the end has no valid mel frame: take the item's last one.
        empty = weights.sum(-1) == 0
        e = (gathered * weights).sum(-1) / weights.sum(-1).clamp(min=1)
        if empty.any():
            tail = level.gather(1, (mel_lengths.to(mel.device) - 1).clamp(min=0)[:, None]).expand(-1, frames)
            e = torch.where(empty, tail, e)
        window = int(settings["window"])
        padded = F.pad(e[:, None, :], (window - 1, 0), value=float("-inf"))
        peak = F.max_pool1d(padded, window, stride=1)[:, 0, :].clamp(min=float(settings["floor"]))
        span = float(settings["range_db"]) * math.log(10.0) / 10.0
        return torch.clamp(1 + (e - peak) / span, min=0).to(mel.dtype)


# --------------------------------------------------------------------------------------
# Front-end
# --------------------------------------------------------------------------------------

class LogMel(nn.Module):
    """Log-mel features exactly as training/kmtalk_ref/frontend.py: torch.stft(center=True,
    constant (zero) padding of n_fft // 2), periodic Hann window of win_length centred in
    n_fft, power spectrum, HTK mel filterbank without normalisation, ln(max(mel, floor)).
    samples [N] -> [1 + N // hop, n_mels]; [B, N] -> [B, 1 + N // hop, n_mels]. Computed in
    float64 unless `precise=False` (float32, faster on accelerators)."""

    def __init__(self, frontend: dict, precise: bool = True):
        super().__init__()
        from kmtalk_ref.frontend import mel_filterbank
        self.cfg = dict(frontend)
        self.precise = precise
        self.register_buffer("filterbank", torch.tensor(mel_filterbank(frontend), dtype=torch.float64).T.contiguous(),
                             persistent=False)
        self.register_buffer("window", torch.hann_window(frontend["win_length"], periodic=True, dtype=torch.float64),
                             persistent=False)

    def forward(self, samples: torch.Tensor) -> torch.Tensor:
        cfg = self.cfg
        dtype = torch.float64 if self.precise else torch.float32
        spectrum = torch.stft(samples.to(dtype), n_fft=cfg["n_fft"], hop_length=cfg["hop_length"],
                              win_length=cfg["win_length"], window=self.window.to(dtype), center=True,
                              pad_mode="constant", return_complex=True)
        power = spectrum.real ** 2 + spectrum.imag ** 2          # [..., bins, frames]
        mel = power.transpose(-1, -2) @ self.filterbank.to(dtype)
        return torch.log(torch.clamp(mel, min=cfg["log_floor"])).to(torch.float32)


# --------------------------------------------------------------------------------------
# Building blocks
# --------------------------------------------------------------------------------------

_POSITION_CACHE: Dict[tuple, torch.Tensor] = {}


def sinusoidal_positions(length: int, width: int, device=None, dtype=torch.float32) -> torch.Tensor:
    """ops.sinusoidal_positions: sin on even columns, cos on odd ones, base 10000."""
    key = (length, width, str(device), dtype)
    table = _POSITION_CACHE.get(key)
    if table is None:
        positions = torch.arange(length, dtype=torch.float64)[:, None]
        pairs = torch.arange(0, width, 2, dtype=torch.float64)
        angles = positions * torch.exp(-pairs * math.log(10000.0) / width)[None, :]
        table = torch.zeros(length, width, dtype=torch.float64)
        table[:, 0::2] = torch.sin(angles)
        table[:, 1::2] = torch.cos(angles[:, : width // 2])
        table = table.to(device=device, dtype=dtype)
        if len(_POSITION_CACHE) > 64:
            _POSITION_CACHE.clear()
        _POSITION_CACHE[key] = table
    return table


def attention_mask(length: int, back: Optional[int], ahead: Optional[int], lengths: Optional[torch.Tensor],
                   device=None) -> torch.Tensor:
    """Boolean [B or 1, 1, T, T]: True where query i may see key j (i - back <= j <= i +
    ahead, and j a valid frame). Padded queries see themselves (no empty rows)."""
    i = torch.arange(length, device=device)[:, None]
    j = torch.arange(length, device=device)[None, :]
    allowed = torch.ones(length, length, dtype=torch.bool, device=device)
    if back is not None:
        allowed = (j >= i - back) & (j <= i + ahead)
    allowed = allowed[None]
    if lengths is not None:
        valid = j[None] < lengths.to(device)[:, None, None]
        allowed = allowed & (valid | (i == j)[None])
    return allowed[:, None]


class MultiHeadAttention(nn.Module):
    def __init__(self, width: int, heads: int):
        super().__init__()
        assert width % heads == 0, "width must divide by heads"
        self.heads = heads
        self.q = nn.Linear(width, width)
        self.k = nn.Linear(width, width)
        self.v = nn.Linear(width, width)
        self.out = nn.Linear(width, width)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        batch, length, width = x.shape
        split = lambda t: t.view(batch, length, self.heads, width // self.heads).transpose(1, 2)  # noqa: E731
        context = F.scaled_dot_product_attention(split(self.q(x)), split(self.k(x)), split(self.v(x)), attn_mask=mask)
        return self.out(context.transpose(1, 2).reshape(batch, length, width))


class FeedForward(nn.Module):
    def __init__(self, width: int, hidden: int, act):
        super().__init__()
        self.fc1 = nn.Linear(width, hidden)
        self.fc2 = nn.Linear(hidden, width)
        self.act = act

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class TransformerLayer(nn.Module):
    """Pre-norm layer: x += MHA(LN1(x)); x += FFN(LN2(x))."""

    def __init__(self, width: int, heads: int, ffn: int, act, eps: float):
        super().__init__()
        self.norm1 = nn.LayerNorm(width, eps=eps)
        self.attn = MultiHeadAttention(width, heads)
        self.norm2 = nn.LayerNorm(width, eps=eps)
        self.ffn = FeedForward(width, ffn, act)

    def forward(self, x, mask):
        x = x + self.attn(self.norm1(x), mask)
        return x + self.ffn(self.norm2(x))


class AudioEncoder(nn.Module):
    """Conv stack (padding k // 2, then act) -> + positions -> band-attention transformer
    layers -> final layer norm. [B, T_mel, n_mels] -> [B, T, d]."""

    def __init__(self, config: dict):
        super().__init__()
        enc = config["encoder"]
        self.enc = enc
        self.act = _act(enc["activation"])
        cin = config["frontend"]["n_mels"]
        self.conv = nn.ModuleList()
        for layer in enc["conv"]:
            self.conv.append(nn.Conv1d(cin, layer["channels"], layer["kernel"], stride=layer["stride"],
                                       padding=layer["kernel"] // 2))
            cin = layer["channels"]
        if cin != enc["width"]:
            raise ValueError("the last encoder.conv layer must have `width` channels")
        if enc["positions"] == "learned":
            self.positions = nn.Parameter(torch.randn(enc["max_positions"], enc["width"]) * 0.02)
        elif enc["positions"] != "sinusoidal":
            raise ValueError("encoder.positions must be 'sinusoidal' or 'learned'")
        self.layers = nn.ModuleList(TransformerLayer(enc["width"], enc["heads"], enc["ffn_width"], self.act,
                                                     enc["layer_norm_eps"]) for _ in range(enc["layers"]))
        self.norm = nn.LayerNorm(enc["width"], eps=enc["layer_norm_eps"])

    def forward(self, mel: torch.Tensor, mel_lengths: Optional[torch.Tensor] = None):
        """-> (H [B, T, d], native lengths, the conv stack's output [B, T, d] before positions)."""
        x = mel.transpose(1, 2)  # [B, C, T]
        lengths = mel_lengths
        if lengths is not None:  # zero padding past each item's end, as for a single utterance
            valid = torch.arange(x.shape[-1], device=x.device)[None, :] < lengths.to(x.device)[:, None]
            x = x * valid[:, None, :].to(x.dtype)
        for conv, layer in zip(self.conv, self.enc["conv"]):
            x = self.act(conv(x))
            if lengths is not None:
                k, s = layer["kernel"], layer["stride"]
                lengths = torch.div(lengths + 2 * (k // 2) - k, s, rounding_mode="floor") + 1
                valid = torch.arange(x.shape[-1], device=x.device)[None, :] < lengths.to(x.device)[:, None]
                x = x * valid[:, None, :].to(x.dtype)  # the next conv sees zeros past the end
        x = x.transpose(1, 2)
        features = x  # [B, T, d]: the shallow path's input (zero past each end)
        length = x.shape[1]
        if self.enc["positions"] == "learned":
            if length > self.positions.shape[0]:
                raise ValueError(f"{length} frames exceed encoder.max_positions {self.positions.shape[0]}")
            x = x + self.positions[:length]
        else:
            x = x + sinusoidal_positions(length, x.shape[-1], x.device, x.dtype)
        mask = attention_mask(length, self.enc.get("band_back"), self.enc.get("band_ahead"), lengths, x.device)
        for layer in self.layers:
            x = layer(x, mask)
        return self.norm(x), lengths, features


class KeyFrameLocator(nn.Module):
    """Deterministic, no weights, no gradient: boundary scores from phone posteriors and the
    left-to-right scan of docs/model.md (frame 0 always; peaks >= threshold at least
    min_gap apart; a forced key frame after max_gap frames without one)."""

    def __init__(self, threshold: float, min_gap: int, max_gap: int):
        super().__init__()
        self.threshold, self.min_gap, self.max_gap = threshold, min_gap, max_gap

    @staticmethod
    def boundary_scores(post: torch.Tensor) -> torch.Tensor:
        """post [..., T, P] -> b [..., T]; b[0] = 0, b[t] = 1 - <post[t], post[t-1]>."""
        b = torch.zeros(post.shape[:-1], dtype=post.dtype, device=post.device)
        b[..., 1:] = 1 - (post[..., 1:, :] * post[..., :-1, :]).sum(-1)
        return b

    def scan(self, boundary) -> List[int]:
        b = [float(v) for v in (boundary.tolist() if hasattr(boundary, "tolist") else boundary)]
        count = len(b)
        if count == 0:
            return []
        keys, last = [0], 0
        for t in range(1, count):
            following = b[t + 1] if t + 1 < count else -1.0
            peak = b[t] >= self.threshold and b[t] >= b[t - 1] and b[t] > following
            if (peak and t - last >= self.min_gap) or t - last >= self.max_gap:
                keys.append(t)
                last = t
        return keys

    @torch.no_grad()
    def forward(self, post: torch.Tensor) -> List[int]:
        """post [T, P] -> key frames. Scores in float64 (as the reference)."""
        return self.scan(self.boundary_scores(post.detach().double()).cpu())


class KeyMotionDecoder(nn.Module):
    def __init__(self, width: int, phones: int, embedding: int, hidden: int, channels: int, act, out_act):
        super().__init__()
        self.phone_embedding = nn.Parameter(torch.randn(phones, embedding) / math.sqrt(embedding))
        self.fc1 = nn.Linear(width + 2 * embedding, hidden)
        self.fc2 = nn.Linear(hidden, channels)
        self.act, self.out_act = act, out_act

    def forward(self, H, post, batch_index, frames, lengths):
        """Poses [N, M] for key frames (batch_index[n], frames[n])."""
        before = torch.clamp(frames - 1, min=0)
        after = torch.minimum(frames + 1, lengths[batch_index] - 1)
        z = torch.cat([H[batch_index, frames], post[batch_index, before] @ self.phone_embedding,
                       post[batch_index, after] @ self.phone_embedding], dim=-1)
        return self.out_act(self.fc2(self.act(self.fc1(z))))


class CMC(nn.Module):
    """Cross-modal motion completion: audio projection + key-pose projection (or the mask
    token) + sinusoidal positions -> band transformer -> LN -> head -> out_act."""

    def __init__(self, config: dict):
        super().__init__()
        cmc, enc = config["cmc"], config["encoder"]
        self.cfg = cmc
        c, d = cmc["width"], enc["width"]
        m = len(config["motion"]["channels"])
        act = _act(enc["activation"])
        self.out_act = _act(config["motion"]["activation"])
        self.audio_proj = nn.Linear(d, c)
        if cmc["use_keys"]:
            self.key_proj = nn.Linear(m, c)
        self.mask_token = nn.Parameter(torch.zeros(c))
        self.layers = nn.ModuleList(TransformerLayer(c, cmc["heads"], cmc["ffn_width"], act, enc["layer_norm_eps"])
                                    for _ in range(cmc["layers"]))
        self.norm = nn.LayerNorm(c, eps=enc["layer_norm_eps"])
        self.head = nn.Linear(c, m)
        if cmc.get("shallow", False):
            self.shallow = nn.Linear(d, m, bias=False)
            nn.init.zeros_(self.shallow.weight)
        if cmc.get("loudness"):
            self.loudness_proj = nn.Linear(1, c, bias=False)
            self.loudness_head = nn.Linear(1, m, bias=False)
            nn.init.zeros_(self.loudness_head.weight)

    def forward(self, H, lengths, batch_index=None, frames=None, poses=None, conv_features=None, loudness=None):
        batch, length, _ = H.shape
        u = self.audio_proj(H)
        token = self.mask_token.expand(batch, length, -1)
        if self.cfg["use_keys"] and poses is not None and poses.shape[0]:
            token = token.clone()
            token[batch_index, frames] = self.key_proj(poses)
        u = u + token
        if self.cfg.get("loudness"):
            if loudness is None:
                raise ValueError("cmc.loudness needs the loudness feature")
            u = u + self.loudness_proj(loudness[..., None])
        u = u + sinusoidal_positions(length, u.shape[-1], u.device, u.dtype)
        mask = attention_mask(length, self.cfg.get("band_back"), self.cfg.get("band_ahead"), lengths, u.device)
        for layer in self.layers:
            u = layer(u, mask)
        logits = self.head(self.norm(u))
        if self.cfg.get("shallow", False):
            if conv_features is None:
                raise ValueError("cmc.shallow needs the encoder's conv features")
            logits = logits + self.shallow(conv_features)
        if self.cfg.get("loudness"):
            logits = logits + self.loudness_head(loudness[..., None])
        return self.out_act(logits), logits


# --------------------------------------------------------------------------------------
# The model
# --------------------------------------------------------------------------------------

class KMTalkModel(nn.Module):
    def __init__(self, config: dict):
        super().__init__()
        self.config = config
        enc = config["encoder"]
        act = _act(enc["activation"])
        out_act = _act(config["motion"]["activation"])
        self.use_keys = bool(config["cmc"]["use_keys"])
        self.frontend = LogMel(config["frontend"])
        self.encoder = AudioEncoder(config)
        d = enc["width"]
        m = len(config["motion"]["channels"])
        if self.use_keys:
            lk = config["lkma"]
            p, f = len(lk["phones"]), len(lk["features"])
            self.phone_head = nn.Linear(d, p)
            self.feature_head = nn.Linear(d, f)
            self.locator = KeyFrameLocator(lk["key_threshold"], lk["min_gap"], lk["max_gap"])
            self.key_decoder = KeyMotionDecoder(d, p, lk["embedding_width"], lk["hidden_width"], m, act, out_act)
        self.cmc = CMC(config)

    @property
    def fps(self) -> float:
        return float(self.config["motion"]["fps"])

    def parameter_count(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def forward_audio(self, samples: torch.Tensor, key_frames=None) -> dict:
        """One utterance: samples [N] -> forward(log-mel) plus "features"."""
        features = self.frontend(samples)
        result = self.forward(features, key_frames=key_frames)
        result["features"] = features
        return result

    def forward(self, mel: torch.Tensor, key_frames=None, lengths: Optional[torch.Tensor] = None) -> dict:
        """mel [T_mel, n_mels] (one utterance) or [B, T_mel, n_mels] with `lengths` (mel frames
        per item; default all full). `key_frames`: list[int] (one utterance) or list of lists;
        when given they replace the locator's (ground-truth boundaries early in training).

        Returns "encoded" H, "lengths" (native frames), and with keys: "phone_logits",
        "phone_post", "feature_logits", "feature_prob", "boundary", "key_frames",
        "key_poses"; always "motion" (and "motion_logits", before out_act). Unbatched input
        gives unbatched outputs, key_frames list[int] and key_poses [K, M]; batched input
        gives key_frames / key_poses as per-item lists plus the flat "key_batch",
        "key_index" and "key_poses_flat"."""
        single = mel.dim() == 2
        if single:
            mel = mel[None]
            if key_frames is not None:
                key_frames = [key_frames]
        batch = mel.shape[0]
        mel_lengths = lengths if lengths is not None else torch.full((batch,), mel.shape[1], dtype=torch.long)
        H, native, conv_features = self.encoder(mel, mel_lengths.to(mel.device))
        native = native.to(H.device)
        out = {"encoded": H, "lengths": native}
        batch_index = frames = poses = None
        if self.use_keys:
            logits = self.phone_head(H)
            post = torch.softmax(logits, dim=-1)
            feature_logits = self.feature_head(H)
            boundary = KeyFrameLocator.boundary_scores(post)
            counts = native.tolist()
            if key_frames is None:
                with torch.no_grad():  # one transfer for the batch; scores in float64
                    scores = KeyFrameLocator.boundary_scores(post.detach().double()).cpu()
                key_frames = [self.locator.scan(scores[b, :counts[b]]) for b in range(batch)]
            else:
                key_frames = [[int(k) for k in keys] for keys in key_frames]
                for keys, count in zip(key_frames, counts):
                    if any(k < 0 or k >= count for k in keys) or len(set(keys)) != len(keys):
                        raise ValueError(f"key frames must be distinct frames in 0..{count - 1}")
            batch_index = torch.tensor([b for b, keys in enumerate(key_frames) for _ in keys], dtype=torch.long,
                                       device=H.device)
            frames = torch.tensor([k for keys in key_frames for k in keys], dtype=torch.long, device=H.device)
            poses = self.key_decoder(H, post, batch_index, frames, native)
            sizes = [len(keys) for keys in key_frames]
            out.update({"phone_logits": logits, "phone_post": post, "feature_logits": feature_logits,
                        "feature_prob": torch.sigmoid(feature_logits), "boundary": boundary,
                        "key_frames": key_frames, "key_poses": list(torch.split(poses, sizes)),
                        "key_batch": batch_index, "key_index": frames, "key_poses_flat": poses})
        loudness = None
        if self.config["cmc"].get("loudness"):
            loudness = loudness_feature(mel, mel_lengths, H.shape[1], total_stride(self.config),
                                        self.config["cmc"]["loudness"])
            out["loudness"] = loudness
        motion, motion_logits = self.cmc(H, native, batch_index, frames, poses,
                                         conv_features=conv_features, loudness=loudness)
        out.update({"motion": motion, "motion_logits": motion_logits})
        if single:
            for key in ("encoded", "phone_logits", "phone_post", "feature_logits", "feature_prob", "boundary",
                        "motion", "motion_logits", "loudness"):
                if key in out:
                    out[key] = out[key][0]
            out["lengths"] = native[0]
            if self.use_keys:
                out["key_frames"] = out["key_frames"][0]
                out["key_poses"] = out["key_poses"][0]
        elif not self.use_keys:
            out["key_frames"] = [[] for _ in range(batch)]
        if single and not self.use_keys:
            out["key_frames"] = []
        return out

    def load_reference_weights(self, weights: Dict[str, np.ndarray], strict: bool = True):
        """Loads a {spec tensor name: array} dict (e.g. kmtalk_ref.kmtalk_model.random_weights)."""
        state = {k: torch.as_tensor(np.asarray(v, dtype=np.float32)) for k, v in weights.items()}
        return self.load_state_dict(state, strict=strict)


def main():  # pragma: no cover - prints the parameter counts
    for name, config in (("default", default_config()), ("default use_keys=False", default_config(use_keys=False)),
                         ("tiny", tiny_config())):
        print(f"{name}: {KMTalkModel(config).parameter_count():,} parameters")


if __name__ == "__main__":  # pragma: no cover
    main()
