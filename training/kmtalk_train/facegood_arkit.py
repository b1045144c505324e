"""FACEGOOD rig controls -> ARKit blendshape weights.

The FACEGOOD takes (../shared/data/facegood, loaded by capture.load_facegood) are 116
FACS-style rig controls at 30 fps. Only the mouth and jaw are animated in them: 27 controls
move at all (range > 0.01 over the five takes), 25 by more than 0.05, and seven of those
are exact left/right copies (funnel_dl/dr, funnel_ul/ur, lipCornerPull, lipStretch, press,
suck_dl/dr, suck_ul/ur), so the motion is essentially symmetric.

Each ARKit channel is `clip(gain * sum(weight * control) + offset, 0, 1)` over the rule's
FACEGOOD controls. Two tables:

* `MAPPING`: rules whose controls are animated in the takes. These ARKit channels are
  *supervised*: `to_arkit` returns mask True for them, and a value of 0 there means the
  performer really did not make that shape.
* `RIG_ONLY`: rules that translate the rig faithfully but whose controls never move in
  these takes (eyes, brows, cheeks, nose, jaw sideways/forward, frown, dimple...). A zero
  there means "not animated", not "not moving", so by default they are NOT supervised
  (mask False, weight 0); `to_arkit(take, include_rig_only=True)` applies them anyway.

Measured on the five takes (training/tests/test_capture.py checks these on the data):
`mouth_stretch_c` is the jaw opener: active (> 0.05) in 45% of frames, and its per-frame
correlation with the audio RMS energy (capture.frame_rms: a one-frame window centred on
the frame's time k / 30 s) is 0.73 over all takes (0.63..0.78 per take). The mapped
jawOpen averages 0.013 in silent frames (RMS < 0.01, 56% of frames) and 0.26 in loud ones
(RMS > 0.05). Correlating the energy at frame k with jawOpen at frame k + 1 gives the
same 0.73 as at zero lag, and it falls off beyond (jawOpen at k - 1: 0.61, at k + 2:
0.63, per-take means): the motion trails the energy by about half a frame (~15 ms),
so motion and audio are aligned to within a frame. Every other control correlates at
most 0.23 with energy.

Choices, one per supervised ARKit channel (L/R = the `_l`/`_r` control goes to ARKit
...Left/...Right; FACEGOOD left/right are taken to be the performer's own, like ARKit's):

* jawOpen <- mouth_stretch_c (1.0) + mouth_oh_c (0.25). FACEGOOD's `mouth_stretch_c` is
  FACS AU27 "mouth stretch" (jaw pulled wide open), NOT ARKit's mouthStretch (AU20, lip
  stretcher). `mouth_oh_c` is a combination "oh" shape used on its own (mean
  mouth_stretch_c is only 0.20 while it is above 0.3); an "oh" has some jaw drop, taken as
  a quarter of it (this barely changes the correlation with energy: 0.729 -> 0.730).
* mouthFunnel <- mean of mouth_funnel_ul/ur/dl/dr (0.25 each) + mouth_oh_c (0.75) +
  mouth_oo_c (0.25). ARKit has one funnel for both lips; the "oh" shape is mostly a funnel.
* mouthPucker <- mouth_pucker_l/r (0.5 each) + mouth_oo_c (0.75). "oo" is a pucker with
  some funnel (it correlates 0.67 with the pucker controls).
  The oh/oo weights are judgment (no rig geometry to measure them on): a full "oh" becomes
  jawOpen 0.25 + mouthFunnel 0.75 and a full "oo" mouthPucker 0.75 + mouthFunnel 0.25,
  the usual ARKit decomposition of those vowels.
* mouthPressLeft/Right <- mouth_press_l/r (AU24 lip presser).
* mouthRollLower <- mouth_suck_dl/dr (0.5 each); mouthRollUpper <- mouth_suck_ul/ur (AU28
  lip suck = lips rolled in).
* mouthLowerDownLeft/Right <- mouth_lowerLipDepress_l/r (AU16).
* mouthUpperUpLeft/Right <- mouth_upperLipRaise_l/r (AU10).
* mouthSmileLeft/Right <- mouth_lipCornerPull_l/r (AU12) + mouth_lipCornerPullOpen_l/r
  (the open-mouth variant; static in these takes).
* mouthStretchLeft/Right <- mouth_lipStretch_l/r (AU20) + mouth_lipStretchOpen_l/r
  (static variant).
* mouthShrugUpper <- mouth_chinRaise_u (AU17; `_u`/`_d` are upper/lower everywhere in this
  rig, cf. funnel_ul/dl). Rare (14 frames above 0.3) but animated.
All gains are 1 and offsets 0: the rig's controls are already 0..1 activations, and we do
not know the iPhone-vs-FACEGOOD calibration; values above 1 (oh/oo combinations) clip.

NOT mappable (no ARKit counterpart or no honest source):

* mouthClose (lips together while the jaw is open): the rig has no such control;
  mouth_pressFix_c is a corrective of the press shape, and inventing mouthClose from
  jaw/press would be a guess. Unsupervised.
* tongueOut: the tongue_* controls are scale/rotation joints of a tongue chain, not a
  protrusion, and they never move. tooth_* (teeth placement; `tooth_d_d` does move, with
  puckers) have no ARKit channel: ARKit moves the teeth with jawOpen.
* cheek_suck_l/r, cheek_UP, brow_raise_d, mouth_chew_c, eye_downLidRaise_l/r,
  eye_shutTight_l/r, mouth_stretch_u, the *Fix_* correctives (lipCornerDepressFix,
  pressFix, screamFix): no ARKit equivalent (or unknown meaning), and none of them move.
* Rotations: the rig has no head or eye rotation channels.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, Sequence, Tuple

import numpy as np

from .arkit import ARKIT_52, INDEX
from .capture import MotionTake


@dataclass(frozen=True)
class Rule:
    """arkit = clip(gain * sum(weight * facegood control) + offset, 0, 1)."""
    arkit: str
    sources: Tuple[Tuple[str, float], ...]
    gain: float = 1.0
    offset: float = 0.0
    note: str = ""


def _pair(arkit_stem: str, facegood_stem: str, extra: str = "", note: str = "") -> List[Rule]:
    """ARKit <stem>Left/Right from FACEGOOD <stem>_l/_r (and an optional extra pair)."""
    rules = []
    for side, suffix in (("Left", "_l"), ("Right", "_r")):
        sources = [(facegood_stem + suffix, 1.0)]
        if extra:
            sources.append((extra + suffix, 1.0))
        rules.append(Rule(arkit_stem + side, tuple(sources), note=note))
    return rules


# Supervised: every rule has at least one control that is animated in the FACEGOOD takes.
MAPPING: List[Rule] = [
    Rule("jawOpen", (("mouth_stretch_c", 1.0), ("mouth_oh_c", 0.25)),
         note="AU27 mouth stretch = jaw drop; 'oh' carries some jaw"),
    Rule("mouthFunnel", (("mouth_funnel_ul", 0.25), ("mouth_funnel_ur", 0.25),
                         ("mouth_funnel_dl", 0.25), ("mouth_funnel_dr", 0.25),
                         ("mouth_oh_c", 0.75), ("mouth_oo_c", 0.25)),
         note="funnel quadrants averaged; 'oh' is mostly funnel"),
    Rule("mouthPucker", (("mouth_pucker_l", 0.5), ("mouth_pucker_r", 0.5), ("mouth_oo_c", 0.75)),
         note="'oo' is mostly pucker"),
    *_pair("mouthPress", "mouth_press", note="AU24 lip presser"),
    Rule("mouthRollLower", (("mouth_suck_dl", 0.5), ("mouth_suck_dr", 0.5)), note="AU28 lower lip suck"),
    Rule("mouthRollUpper", (("mouth_suck_ul", 0.5), ("mouth_suck_ur", 0.5)), note="AU28 upper lip suck"),
    *_pair("mouthLowerDown", "mouth_lowerLipDepress", note="AU16 lower lip depressor"),
    *_pair("mouthUpperUp", "mouth_upperLipRaise", note="AU10 upper lip raiser"),
    *_pair("mouthSmile", "mouth_lipCornerPull", extra="mouth_lipCornerPullOpen", note="AU12 lip corner puller"),
    *_pair("mouthStretch", "mouth_lipStretch", extra="mouth_lipStretchOpen", note="AU20 lip stretcher"),
    Rule("mouthShrugUpper", (("mouth_chinRaise_u", 1.0),), note="AU17 chin raiser, upper part"),
]

# Faithful translations whose controls are never animated in the FACEGOOD takes: not
# supervised by default (a zero there is missing animation, not a measured rest).
RIG_ONLY: List[Rule] = [
    Rule("eyeBlinkLeft", (("eye_blink1_l", 1.0), ("eye_blink2_l", 1.0)), note="two-stage blink, unverified"),
    Rule("eyeBlinkRight", (("eye_blink1_r", 1.0), ("eye_blink2_r", 1.0)), note="two-stage blink, unverified"),
    Rule("eyeLookDownLeft", (("eye_lookDown1_l", 1.0), ("eye_lookDown2_l", 1.0))),
    Rule("eyeLookDownRight", (("eye_lookDown1_r", 1.0), ("eye_lookDown2_r", 1.0))),
    Rule("eyeLookUpLeft", (("eye_lookUp_l", 1.0),)),
    Rule("eyeLookUpRight", (("eye_lookUp_r", 1.0),)),
    # The left eye looks in (towards the nose) when it turns to the performer's right.
    Rule("eyeLookInLeft", (("eye_lookRight_l", 1.0),)),
    Rule("eyeLookOutLeft", (("eye_lookLeft_l", 1.0),)),
    Rule("eyeLookInRight", (("eye_lookLeft_r", 1.0),)),
    Rule("eyeLookOutRight", (("eye_lookRight_r", 1.0),)),
    *_pair("eyeSquint", "eye_lidTight", note="AU7 lid tightener"),
    *_pair("eyeWide", "eye_upperLidRaise", note="AU5 upper lid raiser"),
    *_pair("browDown", "brow_lower", note="AU4 brow lowerer"),
    Rule("browInnerUp", (("brow_raise_c", 1.0),), note="AU1 inner brow raiser"),
    *_pair("browOuterUp", "brow_raise", note="AU2 outer brow raiser"),
    Rule("cheekPuff", (("cheek_puff_l", 0.5), ("cheek_puff_r", 0.5))),
    *_pair("cheekSquint", "cheek_raise", note="AU6 cheek raiser"),
    *_pair("noseSneer", "nose_wrinkle", note="AU9; peaks at 0.024 in the takes"),
    Rule("jawLeft", (("jaw_sideways_l", 1.0),)),
    Rule("jawRight", (("jaw_sideways_r", 1.0),)),
    Rule("jawForward", (("jaw_thrust_c", 1.0),), note="AU29 jaw thrust"),
    Rule("mouthLeft", (("mouth_sideways_l", 1.0),)),
    Rule("mouthRight", (("mouth_sideways_r", 1.0),)),
    *_pair("mouthFrown", "mouth_lipCornerDepress", note="AU15 lip corner depressor"),
    *_pair("mouthDimple", "mouth_dimple", note="AU14 dimpler"),
    Rule("mouthShrugLower", (("mouth_chinRaise_d", 1.0), ("mouth_lowerLipProtrude_c", 1.0)),
         note="AU17 chin raiser, lower part"),
]

SUPERVISED: List[str] = [rule.arkit for rule in MAPPING]
NOT_MAPPED: List[str] = [n for n in ARKIT_52 if n not in SUPERVISED and n not in {r.arkit for r in RIG_ONLY}]


def _apply(rules: Sequence[Rule], motion: np.ndarray, channels: Sequence[str],
           weights: np.ndarray, mask: np.ndarray) -> None:
    index = {name: i for i, name in enumerate(channels)}
    for rule in rules:
        present = [(index[c], w) for c, w in rule.sources if c in index]
        if not present:
            continue
        value = sum(w * motion[:, i].astype(np.float64) for i, w in present)
        weights[:, INDEX[rule.arkit]] = np.clip(rule.gain * value + rule.offset, 0.0, 1.0)
        mask[INDEX[rule.arkit]] = True


def to_arkit(take: MotionTake, include_rig_only: bool = False) -> Tuple[np.ndarray, np.ndarray]:
    """FACEGOOD rig take -> (weights frames x 52 float32 in 0..1 in ARKIT_52 order,
    mask of 52 bools: True where the channel is supervised). Unsupervised channels are 0.
    A rule whose controls are all absent from the take's channel list is skipped."""
    if take.space != "rig":
        raise ValueError(f"to_arkit expects a FACEGOOD rig take, got space {take.space!r}")
    weights = np.zeros((take.num_frames, len(ARKIT_52)), dtype=np.float64)
    mask = np.zeros(len(ARKIT_52), dtype=bool)
    _apply(MAPPING, take.motion, take.channels, weights, mask)
    if include_rig_only:
        _apply(RIG_ONLY, take.motion, take.channels, weights, mask)
    return weights.astype(np.float32), mask


def to_arkit_take(take: MotionTake, include_rig_only: bool = False) -> MotionTake:
    """The same take in ARKit space; meta["supervised"] is the mask from `to_arkit`."""
    weights, mask = to_arkit(take, include_rig_only)
    meta = dict(take.meta)
    meta["supervised"] = mask
    meta["rig_source"] = take.source
    return MotionTake(samples=take.samples, sample_rate=take.sample_rate, motion=weights,
                      fps=take.fps, channels=list(ARKIT_52), space="arkit", source=take.source,
                      take=take.take, speaker=take.speaker, meta=meta)


def mapping_table() -> str:
    """The supervised mapping as a Markdown table (for docs and reports)."""
    lines = ["| ARKit | FACEGOOD controls (weight) | note |", "|---|---|---|"]
    for rule in MAPPING:
        sources = ", ".join(f"{c} ({w:g})" for c, w in rule.sources)
        lines.append(f"| {rule.arkit} | {sources} | {rule.note} |")
    return "\n".join(lines)
