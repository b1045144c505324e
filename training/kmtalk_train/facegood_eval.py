"""Real captured motion: the FACEGOOD takes, train on four, test on the fifth, rotate.

    cd training && ../.venv-torch/bin/python -m kmtalk_train.facegood_eval ../../shared/data/facegood \\
        ../models/kmtalk-base.safetensors DIRECT.safetensors --steps 600 --markdown ../docs/results.md

Each model (exported by `train.py`, pre-trained on the synthetic corpus) is scored on every
take twice:

- **zero-shot**: the model as shipped, against the take's rig mapped to ARKit
  (`facegood_arkit.to_arkit`, the 16 supervised mouth/jaw channels);
- **fine-tuned**: a copy adapted on the other four takes for `--steps` steps, then scored
  on the held-out take. The takes have no phone labels, so the audio encoder and the LKMA
  phone/feature heads stay frozen (their key frames are the model's own locator's, as at
  inference) and only what maps audio features to motion learns: the KeyMotionDecoder and
  the CMC. The direct-regression baseline gets the same treatment (its CMC learns), the
  same steps, batch, crops, learning rate and seed, so the comparison is at equal budget.

Losses on the supervised channels only (unsupervised ARKit channels are unknown in the
capture, not zero): position L2 and velocity L2 as in training, plus key-pose L1/L2 at the
predicted key frames for the key-motion model. Weights are train.LOSS_WEIGHTS.

Scores per held-out take (native 50 fps; capture resampled from 30 fps): MAE over the
supervised channels, split into jaw (jawOpen) and lips (the other 15), velocity MAE, the
Pearson correlation of predicted and captured jawOpen, and the % of pause frames (audio
RMS below 0.01 for at least 250 ms) whose predicted mouth/jaw weights are all <= 0.1.
"""
from __future__ import annotations

import argparse
import copy
import json
import random
import sys
import time
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence

import numpy as np
import torch

from . import capture, facegood_arkit
from .arkit import ARKIT_52, INDEX
from .export import load
from .model import KMTalkModel, native_lengths
from .train import LOSS_WEIGHTS, Item, batches, collate, learning_rate, resample_teacher, seed_everything
from .train import losses as train_losses

PAUSE_RMS = 0.01          # audio RMS below this is silence
PAUSE_MIN_SECONDS = 0.25  # shortest silence that counts as a pause
REST_MAX = 0.1            # largest mouth/jaw weight at rest (as metrics.REST_MAX)


@dataclass
class Take:
    """One FACEGOOD take at the model's native rate."""
    name: str
    item: Item               # mel + ARKit targets (unsupervised channels 0)
    supervised: np.ndarray   # bool [52]
    pause: np.ndarray        # bool [T]: frame inside a pause of >= PAUSE_MIN_SECONDS


def pause_frames(rms: np.ndarray, fps: float, threshold: float = PAUSE_RMS,
                 min_seconds: float = PAUSE_MIN_SECONDS) -> np.ndarray:
    """Frames inside runs of rms < threshold lasting at least min_seconds."""
    quiet = rms < threshold
    out = np.zeros_like(quiet)
    start = None
    for t, q in enumerate(np.append(quiet, False)):
        if q and start is None:
            start = t
        elif not q and start is not None:
            if (t - start) / fps >= min_seconds:
                out[start:t] = True
            start = None
    return out


def prepare(takes: Sequence[capture.MotionTake], config: dict) -> List[Take]:
    """FACEGOOD rig takes -> log-mel + ARKit targets at the model's native rate."""
    from .model import LogMel
    logmel = LogMel(config["frontend"])
    fps = float(config["motion"]["fps"])
    if list(config["motion"]["channels"]) != list(ARKIT_52):
        raise ValueError("the FACEGOOD evaluation needs a model with the ARKit-52 motion space")
    out = []
    for take in takes:
        if take.sample_rate != config["frontend"]["sample_rate"]:
            raise ValueError(f"take {take.take}: {take.sample_rate} Hz audio, the model expects "
                             f"{config['frontend']['sample_rate']}")
        with torch.no_grad():
            mel = logmel(torch.from_numpy(np.ascontiguousarray(take.samples, dtype=np.float32))).numpy()
        count = int(native_lengths(torch.tensor([mel.shape[0]]), config)[0])
        weights, supervised = facegood_arkit.to_arkit(take)
        motion = resample_teacher(weights, count, fps, teacher_fps=take.fps)
        rms = capture.frame_rms(take.samples, take.sample_rate, fps, count, window=1.0)
        item = Item(take.take, "facegood", "cmn", mel, motion, None, None, [], [])
        out.append(Take(take.take, item, supervised, pause_frames(rms, fps)))
    return out


def freeze_audio_side(model: KMTalkModel) -> List[torch.nn.Parameter]:
    """Freezes the encoder and the LKMA phone/feature heads; returns what still learns."""
    frozen = [model.encoder, model.frontend]
    if model.use_keys:
        frozen += [model.phone_head, model.feature_head]
    for module in frozen:
        for p in module.parameters():
            p.requires_grad_(False)
    return [p for p in model.parameters() if p.requires_grad]


def masked_losses(model: KMTalkModel, batch, supervised: torch.Tensor) -> Dict[str, torch.Tensor]:
    """Position / velocity (and key-pose) losses on the supervised channels, predicted keys."""
    out = model(batch.mel, key_frames=None, lengths=batch.mel_lengths)
    mask = batch.mask
    motion, target = out["motion"][..., supervised], batch.motion[..., supervised]
    parts = {"position": (motion - target).square().mean(-1)[mask].mean()}
    velocity_mask = mask[:, 1:] & mask[:, :-1]
    dv = (motion[:, 1:] - motion[:, :-1]) - (target[:, 1:] - target[:, :-1])
    parts["velocity"] = dv.square().mean(-1)[velocity_mask].mean()
    if model.use_keys and out["key_poses_flat"].shape[0]:
        key_target = batch.motion[out["key_batch"], out["key_index"]][:, supervised]
        difference = out["key_poses_flat"][:, supervised] - key_target
        parts["key_l1"] = difference.abs().mean()
        parts["key_l2"] = difference.square().mean()
    return parts


def fine_tune(model: KMTalkModel, takes: Sequence[Take], steps: int, device, seed: int = 0, batch_size: int = 16,
              lr: float = 5e-4, max_seconds: float = 8.0, log: Callable = print,
              loss_weights: Optional[Dict[str, float]] = None) -> KMTalkModel:
    """A copy of `model` adapted on `takes` (see the module docstring). `loss_weights`: train
    with `train.losses` and these weights instead (e.g. the base model's own objective, with
    its correlation, range and closure terms), masked to the supervised channels the same way."""
    seed_everything(seed)
    model = copy.deepcopy(model).to(device)
    params = freeze_audio_side(model)
    optimizer = torch.optim.AdamW(params, lr=lr, betas=(0.9, 0.98), weight_decay=0.01)
    supervised = torch.from_numpy(takes[0].supervised).to(device)
    if any(not np.array_equal(t.supervised, takes[0].supervised) for t in takes):
        raise ValueError("takes supervise different channels")
    config = model.config
    rng = random.Random(seed)
    stream = batches([t.item for t in takes], batch_size, rng)
    max_frames = int(max_seconds * config["motion"]["fps"])
    model.train()
    model.encoder.eval()  # frozen: no dropout-like behaviour to change, but keep it in inference mode
    for step in range(steps):
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(lr, step / max(steps, 1))
        batch = collate(next(stream), config, max_frames, rng).to(device)
        if loss_weights is None:
            parts = masked_losses(model, batch, supervised)
            total = sum(LOSS_WEIGHTS[k] * v for k, v in parts.items())
        else:
            batch.channels = supervised.float()[None].expand(batch.motion.shape[0], -1)
            total, parts, _ = train_losses(model, batch, True, loss_weights)
        optimizer.zero_grad(set_to_none=True)
        total.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        if (step + 1) % max(1, steps // 4) == 0:
            log(f"    step {step + 1}/{steps} " + " ".join(f"{k} {float(torch.as_tensor(v).detach()):.4g}"
                                                            for k, v in parts.items()))
    model.eval()
    return model


@torch.no_grad()
def predict(model: KMTalkModel, take: Take, device) -> np.ndarray:
    """The model's motion [T, 52] for a whole take."""
    model.eval()
    return model(torch.from_numpy(take.item.mel).to(device))["motion"].float().cpu().numpy()


@torch.no_grad()
def score_take(model: KMTalkModel, take: Take, device) -> Dict[str, float]:
    """Scores of `model` on one whole take (see the module docstring)."""
    model.eval()
    out = model(torch.from_numpy(take.item.mel).to(device))
    motion = out["motion"].float().cpu().numpy()
    target = take.item.motion
    n = min(len(motion), len(target))
    motion, target = motion[:n], target[:n]
    sup = take.supervised
    jaw = INDEX["jawOpen"]
    lips = np.array([i for i in np.flatnonzero(sup) if i != jaw])
    error = np.abs(motion - target)
    dv = np.abs(np.diff(motion, axis=0) - np.diff(target, axis=0))
    p, t = motion[:, jaw], target[:, jaw]
    correlation = float(np.corrcoef(p, t)[0, 1]) if p.std() > 1e-8 and t.std() > 1e-8 else float("nan")
    mouth = [i for i, name in enumerate(ARKIT_52) if name.startswith("mouth") or name == "jawOpen"]
    pause = take.pause[:n]
    rest = float(100 * np.mean(motion[pause][:, mouth].max(axis=1) <= REST_MAX)) if pause.any() else float("nan")
    return {"mae": float(error[:, sup].mean()), "jaw_mae": float(error[:, jaw].mean()),
            "lips_mae": float(error[:, lips].mean()), "velocity_mae": float(dv[:, sup].mean()),
            "jaw_correlation": correlation, "pause_rest_pct": rest,
            "key_frames": float(len(out["key_frames"])) if model.use_keys else 0.0,
            "seconds": n / model.fps}


def rotate(model_paths: Sequence[str], directory: str, steps: int, device: Optional[str] = None, seed: int = 0,
           batch_size: int = 16, lr: float = 5e-4, log: Callable = print) -> Dict[str, dict]:
    """{model path: {"zero_shot": {take: scores}, "fine_tuned": {take: scores}, "mean": {...}}}."""
    device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    rig_takes = capture.load_facegood(directory)
    results: Dict[str, dict] = {}
    for path in model_paths:
        model, config, _ = load(path)
        model.to(device).eval()
        takes = prepare(rig_takes, config)
        name = f"{path} ({'key motions' if model.use_keys else 'direct regression'})"
        log(f"{name}: {len(takes)} takes, {sum(t.item.frames for t in takes) / model.fps / 60:.2f} min")
        zero, tuned = {}, {}
        for k, held_out in enumerate(takes):
            started = time.time()
            zero[held_out.name] = score_take(model, held_out, device)
            adapted = fine_tune(model, [t for j, t in enumerate(takes) if j != k], steps, device, seed,
                                batch_size, lr, log=log)
            tuned[held_out.name] = score_take(adapted, held_out, device)
            if k == 0:
                example = {"take": held_out.name, "fps": model.fps, "captured": held_out.item.motion,
                           "zero_shot": predict(model, held_out, device), "fine_tuned": predict(adapted, held_out, device)}
            log(f"  test {held_out.name}: zero-shot mae {zero[held_out.name]['mae']:.4f} -> fine-tuned "
                f"{tuned[held_out.name]['mae']:.4f} (jaw r {tuned[held_out.name]['jaw_correlation']:.3f}), "
                f"{time.time() - started:.0f} s")
        results[path] = {"architecture": "kmtalk" if model.use_keys else "kmtalk (no keys)",
                         "zero_shot": zero, "fine_tuned": tuned,
                         "mean": {"zero_shot": mean_scores(zero), "fine_tuned": mean_scores(tuned)},
                         "steps": steps, "device": str(device), "example": example}
    return results


PLOT_CHANNELS = ("jawOpen", "mouthFunnel", "mouthPucker", "mouthRollLower")


def plot(results: Dict[str, dict], path: str, seconds: float = 12.0) -> None:
    """Captured vs predicted curves on the first held-out take, one panel per channel and
    model (zero-shot dashed, fine-tuned solid)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(len(PLOT_CHANNELS), len(results), figsize=(7 * len(results), 1.8 * len(PLOT_CHANNELS)),
                             sharex=True, squeeze=False, constrained_layout=True)
    for column, (name, r) in enumerate(results.items()):
        ex = r["example"]
        count = min(len(ex["captured"]), int(seconds * ex["fps"]))
        t = np.arange(count) / ex["fps"]
        for row, channel in enumerate(PLOT_CHANNELS):
            ax = axes[row, column]
            c = INDEX[channel]
            ax.plot(t, ex["captured"][:count, c], color="0.2", lw=1.4, label="captured (FACEGOOD -> ARKit)")
            ax.plot(t, ex["zero_shot"][:count, c], color="tab:blue", lw=1, ls="--", label="zero-shot")
            ax.plot(t, ex["fine_tuned"][:count, c], color="tab:red", lw=1, label="fine-tuned on the other 4 takes")
            ax.set_ylim(0, 1)
            ax.set_ylabel(channel, fontsize=8)
            if row == 0:
                ax.set_title(f"{name.split('/')[-1]} ({r['architecture']}), take {ex['take']}", fontsize=9)
                ax.legend(fontsize=7, loc="upper right")
    axes[-1, 0].set_xlabel("seconds")
    fig.savefig(path, dpi=72)
    plt.close(fig)


def mean_scores(per_take: Dict[str, Dict[str, float]]) -> Dict[str, float]:
    """Mean of each score over takes (NaNs ignored)."""
    keys = next(iter(per_take.values())).keys()
    return {k: float(np.nanmean([s[k] for s in per_take.values()])) for k in keys}


COLUMNS = [("mae", "{:.4f}"), ("jaw_mae", "{:.4f}"), ("lips_mae", "{:.4f}"), ("velocity_mae", "{:.5f}"),
           ("jaw_correlation", "{:.3f}"), ("pause_rest_pct", "{:.1f}")]


def markdown(results: Dict[str, dict], steps: int) -> str:
    lines = [f"### FACEGOOD takes: train on four, test on the fifth ({steps} fine-tuning steps)", "",
             "| model | setting | test take | " + " | ".join(c for c, _ in COLUMNS) + " |",
             "|---" * (len(COLUMNS) + 3) + "|"]
    for path, r in results.items():
        label = f"`{path.split('/')[-1]}` ({r['architecture']})"
        for setting in ("zero_shot", "fine_tuned"):
            rows = list(r[setting].items()) + [("**mean**", r["mean"][setting])]
            for take, s in rows:
                cells = [fmt.format(s[c]) if s[c] == s[c] else "-" for c, fmt in COLUMNS]
                lines.append(f"| {label} | {setting.replace('_', '-')} | {take} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kmtalk_train.facegood_eval", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("facegood", help="directory with the FACEGOOD takes")
    parser.add_argument("models", nargs="+", help="exported models (ARKit-52 motion)")
    parser.add_argument("--steps", type=int, default=600, help="fine-tuning steps per fold")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--lr", type=float, default=5e-4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default=None)
    parser.add_argument("--json", help="write all scores here")
    parser.add_argument("--markdown", help="append the result table to this file")
    parser.add_argument("--plot", help="PNG of captured vs predicted curves on the first held-out take")
    args = parser.parse_args(argv)
    results = rotate(args.models, args.facegood, args.steps, args.device, args.seed, args.batch_size, args.lr)
    text = markdown(results, args.steps)
    print(text)
    if args.plot:
        plot(results, args.plot)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({path: {k: v for k, v in r.items() if k != "example"} for path, r in results.items()}, f, indent=1)
    if args.markdown:
        with open(args.markdown, "a") as f:
            f.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
