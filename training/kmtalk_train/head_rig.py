"""The project's default rig: a stylized head built procedurally (NumPy only, no third-party
mesh data) with the 52 ARKit blendshapes, written in the docs/rig.md container
(`models/kmtalk-head.rig.safetensors`, made by `scripts/make_default_rig.py`).

Geometry (metres, +y up, the face looks to +z, origin near the head centre, 0.22 m tall):

- **Skin sheet**: one grid of rings around the mouth, closed at both ends, so the head is a
  single watertight surface. Its parameter plane is an azimuthal map centred on the mouth
  in *elliptic coordinates*: ring 0 of the skin is the slit between the lips (the segment
  [-w, w]), where the upper-lip vertex at azimuth phi and the lower-lip vertex at -phi sit on
  the same point when the mouth is closed; rings grow into confocal ellipses (the lips, which
  taper into the corners by themselves), then circles across the face, and meet in a pole at
  the back of the head. Inward of the slit the same sheet rolls over the lips into the
  **mouth cavity** (inner lip surfaces, a pocket closing in a pole at the throat). Each ring
  point is placed on a smooth union of ellipsoids (cranium, face, jaw) and moved by radial
  bumps (nose, brow ridge, cheekbones, chin, muzzle, ears, eye sockets) and by the lip
  profiles (two rolls with a crease where they meet, mentolabial sulcus).
- **Eyes**: per side an eyeball (UV sphere whose pole is the pupil; cornea bulge) in a
  recessed socket, and an upper and a lower **eyelid shell** (spherical caps a little larger
  than the eyeball, with a rolled margin). The lid margins form the almond opening; blinking
  slides the upper margin down over the eyeball to meet the (slightly raised) lower one.
- **Tongue**: a flattened ellipsoid on the cavity floor.

Shapes are smooth, region-weighted displacement fields: compact kernels around landmarks
(mouth corners, lip centres, brows, cheeks, nose wings) measured in the mouth map (so
upper and lower lip vertices that touch move together unless a shape separates them), the
jaw region rotated about a hinge, lid margins re-parameterised on their shells, eyeball
rotations. Left and Right follow ARKit: "Left" is the character's left, +x.

- jawOpen: the lower lip, lower half of the cavity, tongue, chin and lower face rotate 16
  degrees about an x axis through (y -30 mm, z -12 mm), in front of the ears. The jaw weight
  is 1 on the lower lip and 0 on the upper one, 0.5 at the corners with a lens-shaped
  transition, so the opening is oval; away from the lips it follows a line from the corners
  up to the hinge and fades behind it. jawForward/Left/Right move the same region (forward
  6.5 mm; a 3.6 degree yaw about an axis behind the hinges).
- mouthClose: at jawOpen = mouthClose = 1 every lip vertex sits at the midpoint of itself
  and its mirror across the lip line (ARKit's meaning), so the lips meet exactly; alone it
  pushes the lips into each other, as ARKit's does.
- mouthFunnel / mouthPucker: corners drawn in (33% / 42% of the half-width), lips forward
  (9.5 / 11.5 mm at the centre), funnel parts the lips into a rounded opening and flares
  them, pucker keeps them closed and pouts.
- mouthSmile / Frown / Dimple / Stretch (per side): the corner moves up-back-out / down /
  back with a dimple dent / out-down with the lower lip; smile also lifts the cheek.
- mouthLeft/Right: both lips slide sideways around the face. mouthRollLower/Upper: the
  lip's edge goes back and towards the other lip and its bulge flattens (rolled in).
  mouthShrugLower/Upper: lower lip and chin up / upper lip up. mouthPress: lips thin
  towards the lip line. mouthLowerDown / UpperUp: one lip moves away from the other.
- cheekPuff: cheeks out along their normals, lips a little forward. cheekSquint: cheek up
  under the eye, lower lid up. noseSneer: nose wing and side of the nose up.
- browDown (down and in), browInnerUp (both inner brows), browOuterUp (outer brow).
- eyeBlink: upper lid margin down past the lower one (-0.5 mm opening), lower lid up a
  little; eyeSquint: lower lid up, upper a little down, skin under the eye up; eyeWide:
  upper lid up. eyeLook*: the eyeballs rotate (22 degrees up/down, 26 in/out, "in" is
  towards the nose); the lids follow looking up and down.
- tongueOut: the tongue slides forward and stretches, its tip 13 mm past the lip line
  (open the jaw to see it, as in ARKit).

Approximations: blendshapes are linear, so rotations (jaw, eyeballs, lids) are chords: at
half weight a rotated point sits slightly inside its arc (about 1 mm at the chin). There are no
teeth. The eyebrows are only a preview colour (`HeadRig.albedo`, not in the file).

The rig file carries two metadata keys beyond docs/rig.md, which readers may ignore:
`landmarks` (JSON name -> vertex index: lip centres, corners, lid margins, ...) and `parts`
(JSON name -> [first, end) vertex range), used by the measurement helpers and previews.
"""
from __future__ import annotations

import json
import math
import struct
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

import numpy as np

from .arkit import ARKIT_52

FORMAT = "kmtalk-rig"
FORMAT_VERSION = "1"
UNITS_TO_METRES = {"m": 1.0, "cm": 0.01, "mm": 0.001}

# ---------------------------------------------------------------------------------------------
# Dimensions (metres)

N_DEFAULT = 104                               # azimuth samples around the mouth (multiple of 8)
MOUTH_HALF_WIDTH = 0.0235                     # W: half the slit, measured on the surface
MAP_RADIUS = 0.095                            # map distance rho -> angle rho / MAP_RADIUS
MOUTH_DIRECTION = np.array([0.0, -0.052, 0.090])   # from the origin towards the mouth
HINGE = np.array([0.0, -0.030, -0.012])       # jaw hinge axis (parallel to x) through here
JAW_ANGLE = math.radians(16.0)                # jawOpen = 1
EYE_X, EYE_Y = 0.0315, 0.024                  # eyeball centres (+-x)
EYE_RADIUS = 0.0122
UPPER_LID_RADIUS = EYE_RADIUS * 1.14
LOWER_LID_RADIUS = EYE_RADIUS * 1.12
LID_ROLL_RADIUS = EYE_RADIUS + 0.0008
UPPER_MARGIN = math.radians(17.0)             # lid margin elevations at the eye's centre line
LOWER_MARGIN = math.radians(-21.0)
CANTHUS = math.radians(64.0)                  # azimuth of the eye corners
LID_TOP = math.radians(82.0)
LID_AZIMUTH = math.radians(84.0)

# Lip profiles: forward offset (m) as a function of the centre-equivalent height s of a ring.
UPPER_LIP_HEIGHT = 0.0085
LOWER_LIP_HEIGHT = 0.0095
LIP_FORWARD = np.array([0.0, -0.12, 1.0]) / np.linalg.norm([0.0, -0.12, 1.0])

# Mouth cavity rings, outer (next to the lips) to inner: depth behind the lip contact, width
# scale, half-height, blend of the ring's depth from "follows the lip line" to flat.
CAVITY = [
    (0.0012, 1.00, 0.0009, 0.0),
    (0.0035, 0.99, 0.0028, 0.05),
    (0.0070, 0.97, 0.0060, 0.2),
    (0.0120, 0.94, 0.0095, 0.5),
    (0.0180, 0.90, 0.0125, 0.8),
    (0.0250, 0.84, 0.0135, 1.0),
    (0.0320, 0.72, 0.0125, 1.0),
    (0.0380, 0.52, 0.0095, 1.0),
    (0.0420, 0.28, 0.0055, 1.0),
]
CAVITY_POLE_DEPTH = 0.0440


def _smoothstep(e0, e1, x):
    t = np.clip((np.asarray(x, dtype=np.float64) - e0) / (e1 - e0), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def _kernel(r, radius):
    """Compact smooth falloff: 1 at r = 0, 0 from r >= radius (C2 at the edge)."""
    x = np.clip(np.asarray(r, dtype=np.float64) / radius, 0.0, 1.0)
    return (1.0 - x * x) ** 3


def _gauss(p, centre, sigma):
    d = (p - np.asarray(centre)) / np.asarray(sigma)
    return np.exp(-0.5 * np.sum(d * d, axis=-1))


def _normalize(v):
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


# ---------------------------------------------------------------------------------------------
# The rig


@dataclass
class HeadRig:
    vertices: np.ndarray                      # [V, 3] float32, metres
    faces: np.ndarray                         # [F, 3] int32, counter-clockwise from outside
    uvs: Optional[np.ndarray]                 # [V, 2] float32
    normals: Optional[np.ndarray]             # [V, 3] float32, unit
    channels: List[str]                       # S names (ARKIT_52 for the built rig)
    deltas: np.ndarray                        # [S, V, 3] float32
    landmarks: Dict[str, int] = field(default_factory=dict)
    parts: Dict[str, Tuple[int, int]] = field(default_factory=dict)
    albedo: Optional[np.ndarray] = None       # [V, 3] preview colours 0..1 (not in the file)

    def channel(self, name: str) -> int:
        return self.channels.index(name)

    def __repr__(self):
        return (f"HeadRig({len(self.vertices)} vertices, {len(self.faces)} faces, "
                f"{len(self.channels)} shapes, {len(self.landmarks)} landmarks)")


def _ellipsoid_ray(d, centre, radii):
    """Distance along unit rays d from the origin to the ellipsoid (origin inside)."""
    o = -np.asarray(centre) / radii
    v = d / radii
    ov = v @ o
    vv = np.sum(v * v, axis=-1)
    oo = float(o @ o)
    return (-ov + np.sqrt(np.maximum(ov * ov - vv * (oo - 1.0), 0.0))) / vv


def _smooth_max(a, b, k):
    h = np.clip(0.5 + 0.5 * (a - b) / k, 0.0, 1.0)
    return b + (a - b) * h + k * h * (1.0 - h)


def _base_radius(d):
    """Skull-and-face envelope: smooth union of cranium, face and jaw ellipsoids."""
    cranium = _ellipsoid_ray(d, (0.0, 0.020, -0.014), np.array([0.0745, 0.093, 0.097]))
    face = _ellipsoid_ray(d, (0.0, -0.022, 0.010), np.array([0.067, 0.075, 0.072]))
    jaw = _ellipsoid_ray(d, (0.0, -0.045, 0.020), np.array([0.052, 0.058, 0.062]))
    return _smooth_max(_smooth_max(cranium, face, 0.012), jaw, 0.012)


def _eye_centre(side):
    """Eyeball centre for side +1 (left, +x) or -1: set back so that the upper lid's front
    sits a little behind the envelope's surface in front of the eye."""
    d = _normalize(np.array([[side * EYE_X, EYE_Y, 0.08]]))
    surface = (_base_radius(d) * d)[0]
    z = surface[2] - 0.0070 - UPPER_LID_RADIUS * math.cos(UPPER_MARGIN * 0.5)
    return np.array([side * EYE_X, EYE_Y, z])


def _radial_bumps(p):
    """Radial offsets (m) of envelope points p [n, 3]: the features of the face."""
    x, y, z = p[:, 0], p[:, 1], p[:, 2]
    ax = np.abs(x)
    front = _smoothstep(0.0, 0.04, z)
    out = np.zeros(len(p))
    # Nose: a ridge from the bridge to the tip, widening and rising towards the tip, cut off
    # sharply below the tip; alae at the base.
    top, tip = 0.026, -0.016
    t = np.clip((top - y) / (top - tip), 0.0, 1.2)
    height = 0.0065 + 0.022 * np.clip(t, 0, 1) ** 1.8
    width = 0.0055 + 0.0055 * np.clip(t, 0, 1) ** 2
    vertical = np.where(y > top, np.exp(-0.5 * ((y - top) / 0.010) ** 2),
                        np.where(y < tip, np.exp(-0.5 * ((y - tip) / 0.0052) ** 2), 1.0))
    out += height * np.exp(-0.5 * (x / width) ** 2) * vertical * front
    for s in (1.0, -1.0):
        out += 0.0075 * _gauss(p[:, :2], (s * 0.0135, -0.024), (0.0062, 0.0052)) * front
    # Brow ridge and forehead.
    out += 0.0045 * np.exp(-0.5 * ((y - 0.046) / 0.0075) ** 2) * np.exp(-0.5 * (x / 0.042) ** 4) * front
    # Cheekbones, chin, muzzle (dental arch), philtrum column ridge kept flat.
    for s in (1.0, -1.0):
        out += 0.0055 * _gauss(p[:, :2], (s * 0.044, -0.002), (0.013, 0.011)) * front
        out -= 0.003 * _gauss(p[:, :2], (s * 0.053, 0.030), (0.010, 0.014)) * front   # temples
    out += 0.0110 * _gauss(p[:, :2], (0.0, -0.086), (0.015, 0.011)) * front
    out += 0.0080 * _gauss(p[:, :2], (0.0, -0.050), (0.022, 0.017)) * front
    # Ears: flattened lobes on the sides.
    for s in (1.0, -1.0):
        out += 0.010 * _gauss(p, (s * 0.074, 0.004, -0.010), (0.010, 0.020, 0.011))
    # Eye sockets: pushed in so the eyeballs and lid shells show.
    for s in (1.0, -1.0):
        e = _eye_centre(s)
        r = np.sqrt(((x - e[0]) / 0.0200) ** 2 + ((y - e[1] + 0.001) / 0.0160) ** 2)
        out -= 0.0150 * (1.0 - _smoothstep(0.35, 1.0, r)) * front
    return out


def _ring_heights(n):
    """Centre-equivalent heights B of the skin rings (0 = the lip slit) and the map radius at
    which the sheet closes in the back pole."""
    w, r0 = MOUTH_HALF_WIDTH, MAP_RADIUS
    scale = N_DEFAULT / n
    heights = [0.0]
    end = math.pi * r0
    while True:
        b = heights[-1]
        a = math.sqrt(b * b + w * w * (1.0 - float(_smoothstep(0.03, 0.15, b))))
        theta = a / r0
        circumference = 2.0 * math.pi * r0 * math.sin(min(theta, math.pi / 2)) / n
        back = 1.0 + 1.2 * max(theta - math.pi / 2, 0.0)          # coarser behind the ears
        step = min(max(0.85 * circumference * back, 0.0008 * scale), 0.0075 * scale)
        if b + 1.4 * step >= end:
            break
        heights.append(b + step)
    return np.asarray(heights), end


def _map_to_direction(x, y):
    """Azimuthal-equidistant map around the mouth direction -> unit directions."""
    m = _normalize(MOUTH_DIRECTION)
    ex = np.array([1.0, 0.0, 0.0])
    ey = _normalize(np.array([0.0, 1.0, 0.0]) - m[1] * m)
    rho = np.hypot(x, y)
    theta = rho / MAP_RADIUS
    alpha = np.arctan2(y, x)
    return (np.cos(theta)[:, None] * m + np.sin(theta)[:, None] *
            (np.cos(alpha)[:, None] * ex + np.sin(alpha)[:, None] * ey))


def _lip_profile(s, upper):
    """Forward offset of the lips at centre-equivalent height s (metres) before the taper
    towards the corners. Both profiles give 3 mm at s = 0, so the lips meet."""
    contact = 0.0026
    if upper:
        peak, at, sigma = 0.0050, 0.0032, 0.0048
        extra = 0.0
    else:
        peak, at, sigma = 0.0054, 0.0038, 0.0056
        extra = -0.0026 * np.exp(-0.5 * ((s - 0.0165) / 0.0042) ** 2)        # mentolabial sulcus
    bump = peak * np.exp(-((s - at) / sigma) ** 2)
    fix = (contact - peak * math.exp(-(at / sigma) ** 2)) * np.exp(-(s / 0.0025) ** 2)
    return bump + fix + extra


@dataclass
class _Sheet:
    """Bookkeeping of the skin sheet: per vertex ring index, azimuth index, map coordinates."""
    n: int
    positions: np.ndarray
    ring: np.ndarray           # ring index: 0 = cavity pole, 1..K cavity, K+1 = lip contact
    j: np.ndarray              # azimuth index (0 for poles)
    phi: np.ndarray
    height: np.ndarray         # skin: B (centre-equivalent map height); cavity: -depth
    mapx: np.ndarray           # map coordinates (cavity: its horizontal offset, y = 0)
    mapy: np.ndarray
    depth: np.ndarray          # depth into the mouth behind the lip contact (0 on the skin)
    contact_ring: int
    ring_start: np.ndarray     # first vertex of each ring
    ring_size: np.ndarray
    vermilion: np.ndarray      # 0..1 lip colour mask

    def index(self, ring, j):
        return self.ring_start[ring] + (0 if self.ring_size[ring] == 1 else j % self.n)


def _build_sheet(n):
    w = MOUTH_HALF_WIDTH
    heights, end = _ring_heights(n)
    phi = 2.0 * np.pi * np.arange(n) / n
    a = np.sqrt(heights ** 2 + w * w * (1.0 - _smoothstep(0.03, 0.15, heights)))
    # Skin rings.
    mx = a[:, None] * np.cos(phi)[None, :]
    my = heights[:, None] * np.sin(phi)[None, :]
    d = _map_to_direction(mx.ravel(), my.ravel())
    base = _base_radius(d)[:, None] * d
    skin = base + _radial_bumps(base)[:, None] * d
    sin = np.sin(phi)[None, :].repeat(len(heights), 0).ravel()
    b = heights[:, None].repeat(n, 1).ravel()
    taper = np.abs(sin) ** (0.5 + 1.5 * _smoothstep(0.004, 0.014, b))
    forward = np.where(sin >= 0, _lip_profile(b, True), _lip_profile(b, False)) * taper
    skin = skin + forward[:, None] * LIP_FORWARD
    skin = skin.reshape(len(heights), n, 3)
    back = -_normalize(MOUTH_DIRECTION)[None]
    back_pole = _base_radius(back)[:, None] * back
    # Make the two lips meet exactly on the slit (they do up to rounding).
    contact = skin[0]
    mirror = (-np.arange(n)) % n
    contact = 0.5 * (contact + contact[mirror])
    skin[0] = contact
    centre = 0.5 * (contact[n // 4] + contact[3 * n // 4])
    # Cavity rings (inner ones first in the vertex order).
    cavity = []
    for depth, width, half, flat in CAVITY:
        ring = np.empty((n, 3))
        ring[:, 0] = centre[0] + (contact[:, 0] - centre[0]) * width
        ring[:, 1] = contact[:, 1] + half * np.sin(phi)
        ring[:, 2] = (1.0 - flat) * contact[:, 2] + flat * centre[2] - depth
        cavity.append(ring)
    cavity_pole = centre + np.array([0.0, 0.0, -CAVITY_POLE_DEPTH])
    rings = [cavity_pole[None]] + cavity[::-1] + list(skin) + [back_pole]
    positions = np.concatenate(rings)
    sizes = np.array([len(r) for r in rings])
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    k = len(CAVITY)
    ring_index = np.repeat(np.arange(len(rings)), sizes)
    j = np.concatenate([np.zeros(1, int)] + [np.arange(n)] * (len(rings) - 2) + [np.zeros(1, int)])
    phis = phi[j] * (sizes[ring_index] > 1)
    depth = np.zeros(len(positions))
    height = np.zeros(len(positions))
    mapx = np.zeros(len(positions))
    mapy = np.zeros(len(positions))
    cav_depths = [CAVITY_POLE_DEPTH] + [c[0] for c in CAVITY[::-1]]
    for r in range(k + 1):
        sl = slice(starts[r], starts[r] + sizes[r])
        depth[sl] = cav_depths[r]
        height[sl] = -cav_depths[r]
        mapx[sl] = positions[sl, 0] - centre[0]
    for r in range(len(heights)):
        sl = slice(starts[k + 1 + r], starts[k + 1 + r] + n)
        height[sl] = heights[r]
        mapx[sl] = mx[r]
        mapy[sl] = my[r]
    last = starts[-1]
    height[last] = end
    mapx[last], mapy[last] = 0.0, end
    # Vermilion: the lips (skin rings inside the lip heights), also inner lip surfaces.
    lip_h = np.where(np.sin(phis) >= 0, UPPER_LIP_HEIGHT, LOWER_LIP_HEIGHT)
    vermilion = np.where(ring_index > k, 1.0 - _smoothstep(0.85 * lip_h, 1.1 * lip_h, height), 1.0)
    return _Sheet(n, positions, ring_index, j, phis, height, mapx, mapy, depth, k + 1, starts, sizes, vermilion)


def _grid_faces(starts, sizes, n):
    """Triangles between consecutive rings of the sheet (fans at single-vertex poles)."""
    faces = []
    jj = np.arange(n)
    for r in range(len(starts) - 1):
        a0, b0 = starts[r], starts[r + 1]
        if sizes[r] == 1:
            faces.append(np.stack([np.full(n, a0), b0 + jj, b0 + (jj + 1) % n], 1))
        elif sizes[r + 1] == 1:
            faces.append(np.stack([a0 + jj, np.full(n, b0), a0 + (jj + 1) % n], 1))
        else:
            p, q = a0 + jj, a0 + (jj + 1) % n
            pn, qn = b0 + jj, b0 + (jj + 1) % n
            faces.append(np.stack([p, pn, qn], 1))
            faces.append(np.stack([p, qn, q], 1))
    return np.concatenate(faces)


def _patch_faces(rows, cols, offset=0, wrap=False):
    """Triangles of a rows x cols vertex grid (row-major)."""
    r, c = np.meshgrid(np.arange(rows - 1), np.arange(cols if wrap else cols - 1), indexing="ij")
    r, c = r.ravel(), c.ravel()
    cn = (c + 1) % cols
    p, q, pn, qn = r * cols + c, r * cols + cn, (r + 1) * cols + c, (r + 1) * cols + cn
    return offset + np.concatenate([np.stack([p, pn, qn], 1), np.stack([p, qn, q], 1)])


# --- eyes ------------------------------------------------------------------------------------

EYE_RINGS = np.array([0.0, 0.10, 0.20, 0.30, 0.40, 0.50, 0.62, 0.80, 1.05, 1.35, 1.70, 2.10, 2.55, math.pi])
EYE_SEGMENTS = 24
LID_COLUMNS = 27
LID_T = np.linspace(0.0, 1.0, 8) ** 1.6


def _eyeball(centre):
    """UV sphere with its pole on the pupil (+z); cornea bulge over the iris."""
    psi = EYE_RINGS
    ang = 2.0 * np.pi * np.arange(EYE_SEGMENTS) / EYE_SEGMENTS
    radius = EYE_RADIUS + 0.0006 * np.cos(np.clip(psi / 0.55, 0, 1) * np.pi / 2) ** 2
    pts = [centre + np.array([0.0, 0.0, radius[0]])]
    for p, r in zip(psi[1:-1], radius[1:-1]):
        pts.append(centre + r * np.stack([np.sin(p) * np.cos(ang), np.sin(p) * np.sin(ang),
                                          np.full(EYE_SEGMENTS, np.cos(p))], 1))
    pts.append(centre + np.array([0.0, 0.0, -EYE_RADIUS]))
    positions = np.concatenate([np.atleast_2d(p) for p in pts])
    sizes = np.array([1] + [EYE_SEGMENTS] * (len(psi) - 2) + [1])
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    faces = _grid_faces(starts, sizes, EYE_SEGMENTS)
    iris = np.concatenate([[0.0], np.repeat(psi[1:-1], EYE_SEGMENTS), [math.pi]])
    return positions, faces, iris


def _lid_profile(a):
    """0..1 along the lid from the corners (0) to the middle (1)."""
    return np.where(np.abs(a) < CANTHUS, np.cos(0.5 * np.pi * a / CANTHUS) ** 2, 0.0)


def _lid_margin(a, upper, shift=0.0):
    """Margin elevation per column; `shift` (radians at the middle) moves it, corners fixed."""
    c = _lid_profile(a)
    if upper:
        return -0.03 + (UPPER_MARGIN + 0.03) * c + shift * c
    return 0.03 + (LOWER_MARGIN - 0.03) * c + shift * c


def _lid_points(centre, a, margin, upper):
    """Rows of a lid shell: two rolled-margin rows behind the edge, then the shell from the
    margin to the rim (buried under the brow or cheek skin)."""
    sign = 1.0 if upper else -1.0
    radius = UPPER_LID_RADIUS if upper else LOWER_LID_RADIUS
    rim = sign * LID_TOP
    rows = [(LID_ROLL_RADIUS, margin + sign * 0.05), (0.5 * (LID_ROLL_RADIUS + radius), margin - sign * 0.012)]
    rows += [(radius, margin + t * (rim - margin)) for t in LID_T]
    pts = []
    for r, e in rows:
        pts.append(centre + r * np.stack([np.cos(e) * np.sin(a), np.sin(e), np.cos(e) * np.cos(a)], 1))
    return np.concatenate(pts)


def _lid_columns():
    return np.linspace(-LID_AZIMUTH, LID_AZIMUTH, LID_COLUMNS)


# --- tongue ----------------------------------------------------------------------------------

TONGUE_RINGS, TONGUE_SEGMENTS = 9, 16
TONGUE_OFFSET = np.array([0.0, -0.0085, -0.037])
TONGUE_RADII = np.array([0.0150, 0.0060, 0.0240])


def _tongue(mouth_centre):
    centre = mouth_centre + TONGUE_OFFSET
    psi = np.linspace(0.0, np.pi, TONGUE_RINGS + 2)       # from the tip (+z) backwards
    ang = 2.0 * np.pi * np.arange(TONGUE_SEGMENTS) / TONGUE_SEGMENTS
    pts = [centre + np.array([0.0, 0.0, TONGUE_RADII[2]])]
    for p in psi[1:-1]:
        ring = np.stack([np.sin(p) * np.cos(ang), np.sin(p) * np.sin(ang), np.full(TONGUE_SEGMENTS, np.cos(p))], 1)
        ring[:, 1] *= np.where(ring[:, 1] > 0, 1.0, 0.8)       # flatter underside
        pts.append(centre + ring * TONGUE_RADII)
    pts.append(centre - np.array([0.0, 0.0, TONGUE_RADII[2]]))
    positions = np.concatenate([np.atleast_2d(p) for p in pts])
    sizes = np.array([1] + [TONGUE_SEGMENTS] * TONGUE_RINGS + [1])
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    return positions, _grid_faces(starts, sizes, TONGUE_SEGMENTS)


# --- normals ---------------------------------------------------------------------------------

def vertex_normals(vertices, faces):
    """Area-weighted unit vertex normals."""
    v = np.asarray(vertices, dtype=np.float64)
    a, b, c = v[faces[:, 0]], v[faces[:, 1]], v[faces[:, 2]]
    fn = np.cross(b - a, c - a)
    normals = np.zeros_like(v)
    for k in range(3):
        np.add.at(normals, faces[:, k], fn)
    length = np.linalg.norm(normals, axis=1, keepdims=True)
    fallback = np.where(length > 1e-20, normals / np.maximum(length, 1e-30), np.array([0.0, 0.0, 1.0]))
    return fallback


# ---------------------------------------------------------------------------------------------
# Assembly

@dataclass
class _Build:
    """Everything the shape functions need: the neutral mesh and per-vertex bookkeeping."""
    positions: np.ndarray
    faces: np.ndarray
    parts: Dict[str, Tuple[int, int]]
    sheet: _Sheet
    eye_centres: Dict[str, np.ndarray]
    lid_columns: np.ndarray
    mouth_centre: np.ndarray
    landmarks: Dict[str, int]

    def part(self, name):
        a, b = self.parts[name]
        return slice(a, b)

    def mask(self, *names):
        m = np.zeros(len(self.positions), bool)
        for name in names:
            m[self.part(name)] = True
        return m


def _orient(positions, faces, centre):
    """Flips a closed-ish part's triangles so they face away from `centre`."""
    a, b, c = positions[faces[:, 0]], positions[faces[:, 1]], positions[faces[:, 2]]
    n = np.cross(b - a, c - a)
    if np.sum(n * ((a + b + c) / 3.0 - centre)) < 0:
        faces = faces[:, [0, 2, 1]]
    return faces


def _assemble(n):
    sheet = _build_sheet(n)
    chunks, faces, parts = [], [], {}
    count = 0

    def add(name, pos, tri):
        nonlocal count
        parts[name] = (count, count + len(pos))
        chunks.append(pos)
        faces.append(tri + count)
        count += len(pos)

    sheet_faces = _grid_faces(sheet.ring_start, sheet.ring_size, n)
    contact_start = int(sheet.ring_start[sheet.contact_ring])
    chunks.append(sheet.positions)
    faces.append(sheet_faces)
    parts["mouth_inner"] = (0, contact_start)
    parts["skin"] = (contact_start, len(sheet.positions))
    count = len(sheet.positions)
    eye_centres = {}
    iris = {}
    for side, name in ((1.0, "left"), (-1.0, "right")):
        centre = _eye_centre(side)
        eye_centres[name] = centre
        pos, tri, psi = _eyeball(centre)
        add("eyeball_" + name, pos, tri)
        iris[name] = psi
    columns = _lid_columns()
    rows = 2 + len(LID_T)
    for name in ("left", "right"):
        centre = eye_centres[name]
        for upper, lid in ((True, "upper"), (False, "lower")):
            pos = _lid_points(centre, columns, _lid_margin(columns, upper), upper)
            tri = _orient(pos, _patch_faces(rows, LID_COLUMNS), centre)
            add(f"lid_{lid}_{name}", pos, tri)
    mouth_centre = 0.5 * (sheet.positions[sheet.index(sheet.contact_ring, n // 4)]
                          + sheet.positions[sheet.index(sheet.contact_ring, 3 * n // 4)])
    pos, tri = _tongue(mouth_centre)
    add("tongue", pos, tri)
    positions = np.concatenate(chunks)
    positions[np.abs(positions[:, 0]) < 1e-12, 0] = 0.0          # exactly on the midline
    faces = np.concatenate(faces).astype(np.int64)

    c = sheet.contact_ring
    lm = {
        "lip_upper_inner": sheet.index(c, n // 4),
        "lip_lower_inner": sheet.index(c, 3 * n // 4),
        "mouth_corner_left": sheet.index(c, 0),
        "mouth_corner_right": sheet.index(c, n // 2),
    }
    skin_rings = np.arange(c, len(sheet.ring_start) - 1)
    ring_h = np.array([sheet.height[sheet.ring_start[r]] for r in skin_rings])
    lm["lip_upper_outer"] = sheet.index(int(skin_rings[np.argmin(np.abs(ring_h - 0.004))]), n // 4)
    lm["lip_lower_outer"] = sheet.index(int(skin_rings[np.argmin(np.abs(ring_h - 0.0045))]), 3 * n // 4)
    skin = slice(*parts["skin"])
    sp = positions[skin]

    def nearest(target):
        d = np.linalg.norm(sp - target, axis=1)
        return int(parts["skin"][0] + np.argmin(d))
    lm["nose_tip"] = int(parts["skin"][0] + np.argmax(np.where(np.abs(sp[:, 0]) < 0.004, sp[:, 2], -1)))
    lm["chin"] = nearest(np.array([0.0, -0.088, 0.11]))
    lm["head_top"] = int(parts["skin"][0] + np.argmax(sp[:, 1]))
    for side, name in ((1.0, "left"), (-1.0, "right")):
        e = eye_centres[name]
        lm["brow_inner_" + name] = nearest(np.array([side * 0.015, 0.046, e[2] + 0.03]))
        lm["brow_outer_" + name] = nearest(np.array([side * 0.046, 0.041, e[2] + 0.02]))
        lm["cheek_" + name] = nearest(np.array([side * 0.045, -0.035, 0.09]))
        lm["pupil_" + name] = parts["eyeball_" + name][0]
        mid = LID_COLUMNS // 2
        lm["lid_upper_" + name] = parts["lid_upper_" + name][0] + 2 * LID_COLUMNS + mid
        lm["lid_lower_" + name] = parts["lid_lower_" + name][0] + 2 * LID_COLUMNS + mid
    return _Build(positions, faces, parts, sheet, eye_centres, columns, mouth_centre, lm), iris


def _albedo(build, iris):
    """Preview colours: skin, lips, inner mouth, eye white / iris / pupil, tongue."""
    v = len(build.positions)
    skin = np.array([0.86, 0.70, 0.60])
    lip = np.array([0.74, 0.42, 0.40])
    colour = np.tile(skin, (v, 1))
    s = build.sheet
    colour[:len(s.positions)] = skin + (lip - skin) * s.vermilion[:, None]
    # Eyebrows: an arched band over each eye (only a colour; it shows the brow shapes move).
    p = build.positions[:len(s.positions)]
    ax = np.abs(p[:, 0])
    u = np.clip((ax - 0.010) / 0.044, 0.0, 1.0)
    centre = 0.0445 + 0.0045 * np.sin(np.pi * u ** 0.8) - 0.002 * u
    sigma = 0.0046 * (1.0 - 0.3 * u)          # wide enough for the grid (about 4.5 mm here)
    brow = np.exp(-0.5 * ((p[:, 1] - centre) / sigma) ** 2) * _smoothstep(0.006, 0.016, ax)
    brow *= (1.0 - _smoothstep(0.046, 0.058, ax)) * _smoothstep(0.03, 0.05, p[:, 2]) * (s.ring >= s.contact_ring)
    hair = np.array([0.36, 0.25, 0.19])
    colour[:len(s.positions)] += (hair - colour[:len(s.positions)]) * (0.8 * brow)[:, None]
    inner = build.part("mouth_inner")
    depth = s.depth[:inner.stop]
    colour[inner] = np.where(depth[:, None] < 0.003, np.array([0.55, 0.28, 0.28]), np.array([0.16, 0.06, 0.07]))
    for name in ("left", "right"):
        psi = iris[name]
        c = np.where(psi[:, None] < 0.22, np.array([0.05, 0.04, 0.04]),
                     np.where(psi[:, None] < 0.46, np.array([0.30, 0.45, 0.55]), np.array([0.95, 0.94, 0.92])))
        colour[build.part("eyeball_" + name)] = c
    colour[build.part("tongue")] = np.array([0.62, 0.30, 0.32])
    return colour


def _uvs(build):
    """Texture coordinates: the skin's mouth map in the unit square's inscribed disk (the
    back pole on its rim), inner mouth, eyes and tongue on small islands in the corners."""
    s = build.sheet
    uv = np.zeros((len(build.positions), 2))
    end = math.pi * MAP_RADIUS
    skin = build.part("skin")
    uv[skin, 0] = 0.5 + 0.5 * s.mapx[skin] / end
    uv[skin, 1] = 0.5 + 0.5 * s.mapy[skin] / end
    inner = build.part("mouth_inner")
    r = 1.0 - s.depth[inner] / CAVITY_POLE_DEPTH
    uv[inner, 0] = 0.92 + 0.07 * r * np.cos(s.phi[inner])
    uv[inner, 1] = 0.08 + 0.07 * r * np.sin(s.phi[inner])
    corners = {"eyeball_left": (0.92, 0.92), "eyeball_right": (0.08, 0.92), "tongue": (0.08, 0.08)}
    for name, (cu, cv) in corners.items():
        p = build.positions[build.part(name)]
        local = p - p.mean(axis=0)
        scale = 0.07 / np.abs(local[:, :2]).max()
        uv[build.part(name), 0] = cu + local[:, 0] * scale
        uv[build.part(name), 1] = cv + local[:, 1] * scale
    for name, (cu, cv) in (("left", (0.92, 0.70)), ("right", (0.08, 0.70))):
        for lid, dv in (("upper", 0.04), ("lower", -0.04)):
            part = build.part(f"lid_{lid}_{name}")
            p = build.positions[part] - build.eye_centres[name]
            uv[part, 0] = cu + 0.07 * p[:, 0] / UPPER_LID_RADIUS
            uv[part, 1] = cv + dv + 0.035 * p[:, 1] / UPPER_LID_RADIUS
    return np.clip(uv, 0.0, 1.0)


def build_head(resolution: int = N_DEFAULT) -> HeadRig:
    """Builds the default head rig. `resolution` is the number of azimuth samples around the
    mouth (a multiple of 8; the default 104 gives 10,752 vertices)."""
    if resolution % 8 or resolution < 32:
        raise ValueError("resolution must be a multiple of 8, at least 32")
    build, iris = _assemble(resolution)
    deltas = _build_shapes(build)
    vertices = build.positions.astype(np.float32)
    faces = build.faces.astype(np.int32)
    return HeadRig(
        vertices=vertices,
        faces=faces,
        uvs=_uvs(build).astype(np.float32),
        normals=vertex_normals(vertices, faces).astype(np.float32),
        channels=list(ARKIT_52),
        deltas=deltas.astype(np.float32),
        landmarks={k: int(i) for k, i in build.landmarks.items()},
        parts={k: (int(a), int(b)) for k, (a, b) in build.parts.items()},
        albedo=_albedo(build, iris).astype(np.float32),
    )




# ---------------------------------------------------------------------------------------------
# Blendshapes

def _rotate_x(p, centre, angle):
    q = p - centre
    c, s = math.cos(angle), math.sin(angle)
    out = q.copy()
    out[:, 1] = q[:, 1] * c - q[:, 2] * s
    out[:, 2] = q[:, 1] * s + q[:, 2] * c
    return out + centre


def _rotate_y(p, centre, angle):
    q = p - centre
    c, s = math.cos(angle), math.sin(angle)
    out = q.copy()
    out[:, 0] = q[:, 0] * c + q[:, 2] * s
    out[:, 2] = -q[:, 0] * s + q[:, 2] * c
    return out + centre


class _Fields:
    """Per-vertex fields over the whole mesh that the shapes are written in."""

    def __init__(self, b: _Build):
        s = b.sheet
        self.b = b
        p = b.positions
        v, ns = len(p), len(s.positions)
        self.p = p
        self.n_sheet = ns
        self.sheet = np.zeros(v, bool)
        self.sheet[:ns] = True
        self.skin = b.mask("skin")
        self.inner = b.mask("mouth_inner")
        self.tongue = b.mask("tongue")
        pad = lambda a, fill=0.0: np.concatenate([a, np.full(v - ns, fill)])  # noqa: E731
        self.X = pad(s.mapx)
        self.Y = pad(s.mapy)
        self.Q = pad(s.depth)
        self.B = pad(np.where(s.ring >= s.contact_ring, s.height, 0.0))
        self.sin = pad(np.sin(s.phi))
        self.normals = vertex_normals(p, b.faces)
        w = MOUTH_HALF_WIDTH
        self.Xc = self.X / (1.0 + (self.X / w) ** 6) ** (1.0 / 6.0)        # soft clamp to +-W
        self.slit = np.sqrt(np.maximum(np.abs(self.X) - w, 0.0) ** 2 + self.Y ** 2 + self.Q ** 2)
        self.left = 0.5 + 0.5 * np.tanh(p[:, 0] / 0.009)
        self.right = 1.0 - self.left
        # Lip taper towards the corners and the lips' own forward profile (for flattening).
        self.taper = np.abs(self.sin) ** 0.5
        bb = np.maximum(self.B, 0.0)
        self.lip_forward = np.where(self.sin >= 0, _lip_profile(bb, True), _lip_profile(bb, False)) * self.taper
        self.lip_forward[~self.skin] = 0.0
        # Which side of the mouth a sheet vertex belongs to: 1 = lower (jaw), 0 = upper.
        p_exp = 0.6 + 0.4 * _smoothstep(0.0, 0.006, np.where(self.skin, self.B, self.Q))
        near = 0.5 - 0.5 * np.sign(self.sin) * np.abs(self.sin) ** p_exp
        y_m = b.mouth_centre[1]
        ax = np.abs(p[:, 0])
        y_b = y_m + (HINGE[1] + 0.004 - y_m) * _smoothstep(0.7 * w, 0.068, ax)
        far = _smoothstep(0.0, 1.0, 0.5 + (y_b - p[:, 1]) / 0.032)
        blend = np.where(self.skin, _smoothstep(0.004, 0.018, self.B), 0.0)
        self.lower = np.where(self.sheet, (1.0 - blend) * near + blend * far, 0.0)
        self.upper = np.where(self.sheet, 1.0 - self.lower, 0.0)
        fade = _smoothstep(HINGE[2] - 0.012, HINGE[2] + 0.045, p[:, 2])
        self.jaw = np.where(self.sheet, self.lower * fade, 0.0)
        self.jaw[self.tongue] = 1.0
        # Mirror of each sheet vertex across the lip line (same ring, azimuth -phi).
        j = s.j
        mirror = s.ring_start[s.ring] + np.where(s.ring_size[s.ring] > 1, (-j) % s.n, 0)
        self.mirror = np.concatenate([mirror, np.arange(ns, v)])
        self.front = _smoothstep(0.01, 0.04, p[:, 2])
        self.face_skin = self.skin & (p[:, 2] > 0.0)

    def map_distance(self, hx, hy):
        return np.sqrt((self.X - hx) ** 2 + (self.Y - hy) ** 2 + self.Q ** 2)

    def xy_distance(self, hx, hy):
        return np.hypot(self.p[:, 0] - hx, self.p[:, 1] - hy)

    def sheet_only(self, delta):
        delta[~self.sheet] = 0.0
        return delta


def _lid_delta(b: _Build, eye: str, upper_shift: float, lower_shift: float):
    out = np.zeros_like(b.positions)
    a = b.lid_columns
    centre = b.eye_centres[eye]
    for upper, lid, shift in ((True, "upper", upper_shift), (False, "lower", lower_shift)):
        if shift == 0.0:
            continue
        old = _lid_points(centre, a, _lid_margin(a, upper), upper)
        new = _lid_points(centre, a, _lid_margin(a, upper, shift), upper)
        out[b.part(f"lid_{lid}_{eye}")] = new - old
    return out


def _eye_rotation(b: _Build, eye: str, pitch: float = 0.0, yaw: float = 0.0):
    out = np.zeros_like(b.positions)
    part = b.part("eyeball_" + eye)
    p = b.positions[part]
    c = b.eye_centres[eye]
    q = _rotate_y(_rotate_x(p, c, pitch), c, yaw)
    out[part] = q - p
    return out


def _build_shapes(b: _Build) -> np.ndarray:
    f = _Fields(b)
    p = f.p
    v = len(p)
    w = MOUTH_HALF_WIDTH
    K = _kernel
    shapes: Dict[str, np.ndarray] = {}

    def vec(*xyz):
        return np.asarray(xyz, dtype=np.float64)[None, :]

    # --- jaw ---
    jaw_open = f.jaw[:, None] * (_rotate_x(p, HINGE, JAW_ANGLE) - p)
    shapes["jawOpen"] = jaw_open
    shapes["jawForward"] = f.jaw[:, None] * vec(0.0, 0.0, 0.0065)
    for name, sign in (("jawLeft", 1.0), ("jawRight", -1.0)):
        # The chin swings sideways: a yaw of the jaw about a vertical axis behind the hinges.
        pivot = np.array([0.0, 0.0, HINGE[2] - 0.010])
        shapes[name] = f.jaw[:, None] * (_rotate_y(p, pivot, sign * math.radians(3.6)) - p)

    # --- lips: closing, rounding ---
    close = np.where(f.skin, 1.0 - _smoothstep(0.006, 0.026, f.B), 0.0)
    close = np.where(f.inner, 1.0 - _smoothstep(0.004, 0.016, f.Q), close)
    shapes["mouthClose"] = close[:, None] * 0.5 * (jaw_open[f.mirror] - jaw_open)

    # Distance from the lip line with vertical distances counted 1.4x: rounding narrows the
    # lips, not the philtrum and chin.
    slit_v = np.sqrt(np.maximum(np.abs(f.X) - w, 0.0) ** 2 + (1.4 * f.Y) ** 2 + f.Q ** 2)

    def rounding(narrow, forward, plateau_x, plateau_z, radius_x, radius_z, evenness):
        d = np.zeros((v, 3))
        kx = K(np.maximum(slit_v - plateau_x, 0.0), radius_x)
        kz = K(np.maximum(f.slit - plateau_z, 0.0), radius_z)
        d[:, 0] = -narrow * f.Xc * kx
        d[:, 2] = forward * (1.0 - evenness * (f.Xc / w) ** 2) * kz
        return d

    funnel = rounding(0.33, 0.0095, 0.0, 0.0, 0.032, 0.030, 0.45)
    lip_zone = np.where(f.skin, K(f.B, 0.018), K(f.Q, 0.014))
    funnel[:, 1] += 0.0044 * f.sin * lip_zone                   # lips part into a rounded opening
    funnel += 0.25 * f.lip_forward[:, None] * LIP_FORWARD       # and flare
    shapes["mouthFunnel"] = f.sheet_only(funnel)
    pucker = rounding(0.42, 0.0115, 0.005, 0.006, 0.034, 0.030, 0.35)
    pucker += 0.45 * f.lip_forward[:, None] * LIP_FORWARD       # pout
    shapes["mouthPucker"] = f.sheet_only(pucker)

    # --- whole mouth sideways ---
    k_mouth = K(np.maximum(f.slit - 0.004, 0.0), 0.032)
    for name, sign in (("mouthLeft", 1.0), ("mouthRight", -1.0)):
        d = np.zeros((v, 3))
        d[:, 0] = sign * 0.0070 * k_mouth
        d[:, 2] = -sign * 0.0028 * (f.Xc / w) * k_mouth
        shapes[name] = f.sheet_only(d)

    # --- corners ---
    for side, suffix in ((1.0, "Left"), (-1.0, "Right")):
        r_corner = f.map_distance(side * w, 0.0)
        k = K(r_corner, 0.030)[:, None]
        smile = k * vec(side * 0.0045, 0.0075, -0.0040)
        smile += K(f.map_distance(side * (w + 0.010), 0.022), 0.028)[:, None] * vec(0.0, 0.0035, 0.0025)
        shapes["mouthSmile" + suffix] = f.sheet_only(smile)
        frown = k * vec(side * 0.0015, -0.0060, -0.0010)
        frown += K(f.map_distance(side * w, -0.020), 0.020)[:, None] * vec(0.0, -0.0020, 0.0)
        shapes["mouthFrown" + suffix] = f.sheet_only(frown)
        dimple = K(r_corner, 0.024)[:, None] * vec(side * 0.0025, 0.0008, -0.0045)
        dimple -= 0.0022 * K(f.map_distance(side * (w + 0.009), -0.004), 0.008)[:, None] * f.normals
        shapes["mouthDimple" + suffix] = f.sheet_only(dimple)
        stretch = k * vec(side * 0.0060, -0.0030, -0.0025)
        stretch += (K(f.map_distance(side * 0.010, -0.007), 0.022) * f.lower)[:, None] * vec(side * 0.002, -0.0030, 0.0)
        shapes["mouthStretch" + suffix] = f.sheet_only(stretch)

    # --- lip rolls, shrugs ---
    lower_taper = np.where(f.sin < 0, f.taper, 0.0)
    upper_taper = np.where(f.sin > 0, f.taper, 0.0)
    for name, taper, dy, dz, radius in (("mouthRollLower", lower_taper, 0.0030, 0.0045, 0.016),
                                        ("mouthRollUpper", upper_taper, -0.0026, 0.0040, 0.015)):
        # The lip's edge goes back and towards the other lip, and its bulge flattens: the
        # vermilion turns in over the teeth.
        d = np.zeros((v, 3))
        zone = np.where(f.skin, K(f.B, radius), K(f.Q, 0.010)) * taper
        d[:, 1] = dy * zone
        d[:, 2] = -dz * zone
        d -= (0.8 * f.lip_forward * (taper > 0))[:, None] * LIP_FORWARD
        shapes[name] = f.sheet_only(d)
    shapes["mouthShrugLower"] = f.sheet_only(K(f.map_distance(0.0, -0.011), 0.030)[:, None] * vec(0.0, 0.0045, 0.0025))
    shapes["mouthShrugUpper"] = f.sheet_only(K(f.map_distance(0.0, 0.008), 0.022)[:, None] * vec(0.0, 0.0040, 0.0015))

    # --- press, lower down, upper up (per side) ---
    for side, suffix, weight in ((1.0, "Left", f.left), (-1.0, "Right", f.right)):
        d = np.zeros((v, 3))
        lips = np.where(f.skin, K(f.B, 0.016), 0.0) * f.taper
        d[:, 1] = -0.50 * f.Y * lips
        d[:, 2] = -0.0010 * np.where(f.skin, K(f.B, 0.014), K(f.Q, 0.008))
        d -= 0.55 * f.lip_forward[:, None] * LIP_FORWARD
        shapes["mouthPress" + suffix] = f.sheet_only(d * weight[:, None])
        down = (K(f.map_distance(side * 0.009, -0.004), 0.026) * f.lower * weight)[:, None] * vec(side * 0.0008, -0.0060, 0.0005)
        shapes["mouthLowerDown" + suffix] = f.sheet_only(down)
        up = (K(f.map_distance(side * 0.009, 0.004), 0.026) * f.upper * weight)[:, None] * vec(side * 0.0005, 0.0060, 0.0010)
        shapes["mouthUpperUp" + suffix] = f.sheet_only(up)

    # --- cheeks, nose ---
    def skin_only(delta):
        delta[~f.face_skin] = 0.0
        return delta

    puff = np.zeros((v, 3))
    for side in (1.0, -1.0):
        puff += 0.0075 * (K(f.xy_distance(side * 0.042, -0.042), 0.034) * f.front)[:, None] * f.normals
    puff += 0.0015 * K(f.slit, 0.020)[:, None] * LIP_FORWARD
    shapes["cheekPuff"] = skin_only(puff)
    for side, suffix, eye in ((1.0, "Left", "left"), (-1.0, "Right", "right")):
        squint = skin_only(K(f.xy_distance(side * 0.034, -0.004), 0.024)[:, None] * vec(0.0, 0.0040, 0.0012))
        shapes["cheekSquint" + suffix] = squint + _lid_delta(b, eye, 0.0, 0.10)
        sneer = K(f.xy_distance(side * 0.012, -0.016), 0.017)[:, None] * vec(side * 0.0005, 0.0040, 0.0008)
        sneer += K(f.xy_distance(side * 0.009, 0.004), 0.012)[:, None] * vec(0.0, 0.0015, 0.0)
        shapes["noseSneer" + suffix] = skin_only(sneer)

    # --- brows ---
    inner_l = K(f.xy_distance(0.013, 0.047), 0.028)
    inner_r = K(f.xy_distance(-0.013, 0.047), 0.028)
    shapes["browInnerUp"] = skin_only((inner_l + inner_r - inner_l * inner_r)[:, None] * vec(0.0, 0.0070, 0.0005))
    for side, suffix in ((1.0, "Left"), (-1.0, "Right")):
        shapes["browDown" + suffix] = skin_only(K(f.xy_distance(side * 0.026, 0.047), 0.030)[:, None]
                                                * vec(-side * 0.0025, -0.0060, 0.0012))
        shapes["browOuterUp" + suffix] = skin_only(K(f.xy_distance(side * 0.045, 0.042), 0.028)[:, None]
                                                   * vec(side * 0.0005, 0.0060, 0.0))

    # --- eyes ---
    blink_upper = (LOWER_MARGIN * 0.8 - math.radians(2.0)) - UPPER_MARGIN
    for side, suffix, eye in ((1.0, "Left", "left"), (-1.0, "Right", "right")):
        shapes["eyeBlink" + suffix] = _lid_delta(b, eye, blink_upper, -LOWER_MARGIN * 0.2)
        under = skin_only(K(f.xy_distance(side * 0.032, 0.006), 0.016)[:, None] * vec(0.0, 0.0015, 0.0005))
        shapes["eyeSquint" + suffix] = _lid_delta(b, eye, -0.07, 0.17) + under
        shapes["eyeWide" + suffix] = _lid_delta(b, eye, 0.30, -0.06)
        look = math.radians(22.0)
        shapes["eyeLookUp" + suffix] = _eye_rotation(b, eye, pitch=-look) + _lid_delta(b, eye, 0.10, 0.05)
        shapes["eyeLookDown" + suffix] = _eye_rotation(b, eye, pitch=look) + _lid_delta(b, eye, -0.22, -0.05)
        turn = math.radians(26.0)
        shapes["eyeLookOut" + suffix] = _eye_rotation(b, eye, yaw=side * turn)
        shapes["eyeLookIn" + suffix] = _eye_rotation(b, eye, yaw=-side * turn)

    # --- tongue ---
    d = np.zeros((v, 3))
    t = f.tongue
    along = (p[t, 2] - p[t, 2].min()) / (p[t, 2].max() - p[t, 2].min())
    d[t, 1] = -0.003 * along
    d[t, 2] = 0.014 + 0.012 * along
    shapes["tongueOut"] = d

    missing = [n for n in ARKIT_52 if n not in shapes]
    if missing:
        raise AssertionError(f"shapes not built: {missing}")
    return np.stack([shapes[n] for n in ARKIT_52])


# ---------------------------------------------------------------------------------------------
# Posing and measurements

def pose(rig: HeadRig, weights) -> np.ndarray:
    """Vertices [V, 3] (or [frames, V, 3] for weights [frames, S]) for channel weights in the
    rig's channel order; a dict name -> weight is accepted too. Weights are not clamped."""
    if isinstance(weights, dict):
        w = np.zeros(len(rig.channels))
        for name, value in weights.items():
            w[rig.channels.index(name)] = value
    else:
        w = np.asarray(weights, dtype=np.float64)
    if w.shape[-1] != len(rig.channels):
        raise ValueError(f"expected {len(rig.channels)} weights, got {w.shape[-1]}")
    flat = rig.deltas.reshape(len(rig.channels), -1).astype(np.float64)
    out = rig.vertices.astype(np.float64).reshape(-1) + w @ flat
    return out.reshape(w.shape[:-1] + rig.vertices.shape)


def _landmark(rig: HeadRig, name: str) -> int:
    if name not in rig.landmarks:
        raise KeyError(f"rig has no landmark {name!r} (landmarks: {sorted(rig.landmarks)})")
    return rig.landmarks[name]


def lip_gap(rig: HeadRig, vertices: np.ndarray) -> np.ndarray:
    """Vertical distance (m) from the inner lower-lip centre up to the inner upper-lip centre:
    0 when the lips touch, positive when open, negative when they overlap (mouthClose alone)."""
    v = np.asarray(vertices)
    return v[..., _landmark(rig, "lip_upper_inner"), 1] - v[..., _landmark(rig, "lip_lower_inner"), 1]


def mouth_width(rig: HeadRig, vertices: np.ndarray) -> np.ndarray:
    """Distance (m) between the mouth corners."""
    v = np.asarray(vertices)
    return np.linalg.norm(v[..., _landmark(rig, "mouth_corner_left"), :] - v[..., _landmark(rig, "mouth_corner_right"), :], axis=-1)


def lip_protrusion(rig: HeadRig, vertices: np.ndarray) -> np.ndarray:
    """Mean z (m) of the inner lip centres (larger = further forward)."""
    v = np.asarray(vertices)
    return 0.5 * (v[..., _landmark(rig, "lip_upper_inner"), 2] + v[..., _landmark(rig, "lip_lower_inner"), 2])


def corner_height(rig: HeadRig, vertices: np.ndarray) -> np.ndarray:
    """Mean y (m) of the two mouth corners."""
    v = np.asarray(vertices)
    return 0.5 * (v[..., _landmark(rig, "mouth_corner_left"), 1] + v[..., _landmark(rig, "mouth_corner_right"), 1])


def eye_opening(rig: HeadRig, vertices: np.ndarray, side: str = "left") -> np.ndarray:
    """Vertical distance (m) between the upper and lower lid margins at the eye's centre line
    (negative when the upper lid has passed the lower one)."""
    v = np.asarray(vertices)
    return v[..., _landmark(rig, "lid_upper_" + side), 1] - v[..., _landmark(rig, "lid_lower_" + side), 1]


def measurements(rig: HeadRig, vertices: np.ndarray) -> Dict[str, float]:
    """The lip measurements in millimetres."""
    return {
        "lip_gap_mm": float(lip_gap(rig, vertices)) * 1000.0,
        "mouth_width_mm": float(mouth_width(rig, vertices)) * 1000.0,
        "lip_protrusion_mm": float(lip_protrusion(rig, vertices)) * 1000.0,
        "corner_height_mm": float(corner_height(rig, vertices)) * 1000.0,
    }


# ---------------------------------------------------------------------------------------------
# File format (docs/rig.md)

_DTYPE_BYTES = {"F32": ("<f4", 4), "F16": ("<f2", 2), "I32": ("<i4", 4)}
_TENSORS = {                    # name: (allowed dtypes, rank, last dimension, required)
    "vertices": (("F32",), 2, 3, True),
    "faces": (("I32",), 2, 3, True),
    "deltas": (("F32", "F16"), 3, 3, True),
    "uvs": (("F32",), 2, 2, False),
    "normals": (("F32",), 2, 3, False),
}
DESCRIPTION = ("KMTalk default head: a stylized head generated procedurally by "
               "training/kmtalk_train/head_rig.py (NumPy only, no third-party mesh data) with the "
               "52 ARKit blendshapes")


def save_rig(path: str, rig: HeadRig, units: str = "m", max_f16_error: float = 1e-4) -> str:
    """Writes the rig in the docs/rig.md container. Deltas are stored as F16 when that keeps
    every delta within `max_f16_error` metres, otherwise F32. Returns the deltas' dtype."""
    from kmtalk_ref import safetensors_io

    if units not in UNITS_TO_METRES:
        raise ValueError(f"units must be one of {sorted(UNITS_TO_METRES)}")
    scale = 1.0 / UNITS_TO_METRES[units]
    deltas = np.asarray(rig.deltas, dtype=np.float32) * np.float32(scale)
    f16 = deltas.astype(np.float16)
    error = float(np.abs(f16.astype(np.float32) - deltas).max()) / scale if deltas.size else 0.0
    delta_dtype = "F16" if error < max_f16_error and np.isfinite(f16).all() else "F32"
    tensors = {
        "vertices": np.asarray(rig.vertices, dtype=np.float32) * np.float32(scale),
        "faces": np.asarray(rig.faces, dtype=np.int32),
        "deltas": f16 if delta_dtype == "F16" else deltas,
        "uvs": rig.uvs,
        "normals": rig.normals,
    }
    tensors = {k: np.asarray(t) for k, t in tensors.items() if t is not None}
    dtypes = {"vertices": "F32", "faces": "I32", "deltas": delta_dtype, "uvs": "F32", "normals": "F32"}
    metadata = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "channels": json.dumps(list(rig.channels), separators=(",", ":")),
        "units": units,
        "up_axis": "+y",
        "forward_axis": "+z",
        "description": DESCRIPTION,
        "generator": "training/scripts/make_default_rig.py",
        "license": "same as the KMTalk project (generated by its own code)",
        "source": "procedural",
        "landmarks": json.dumps({k: int(i) for k, i in rig.landmarks.items()}, separators=(",", ":"), sort_keys=True),
        "parts": json.dumps({k: [int(a), int(b)] for k, (a, b) in rig.parts.items()}, separators=(",", ":")),
    }
    data = safetensors_io.encode(tensors, metadata, {k: dtypes[k] for k in tensors})
    with open(path, "wb") as f:
        f.write(data)
    return delta_dtype


def load_rig(path: str) -> HeadRig:
    """Reads and validates a docs/rig.md rig file (any rig, not only this module's): the
    format keys, dtypes and shapes, V >= 3, F >= 1, face indices in range, finite values,
    unit normals, channel names (non-empty, unique, one per delta), no unknown tensors, and a
    header whose offsets tile the data exactly. Positions are returned in metres. Raises ValueError."""
    with open(path, "rb") as f:
        data = f.read()
    return parse_rig(data, str(path))


def parse_rig(data: bytes, name: str = "rig") -> HeadRig:
    def fail(message):
        raise ValueError(f"{name}: {message}")

    if len(data) < 8:
        fail("file too short for a safetensors header")
    (length,) = struct.unpack("<Q", data[:8])
    if length > len(data) - 8:
        fail(f"header length {length} exceeds the file size {len(data)}")
    try:
        header = json.loads(data[8:8 + length].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        fail(f"header is not valid JSON ({error})")
    if not isinstance(header, dict):
        fail("header is not a JSON object")
    metadata = header.pop("__metadata__", None)
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        fail("missing __metadata__ (an object of strings)")
    if metadata.get("format") != FORMAT:
        fail(f"metadata format is {metadata.get('format')!r}, expected {FORMAT!r}")
    if metadata.get("format_version") != FORMAT_VERSION:
        fail(f"unsupported format_version {metadata.get('format_version')!r} (this reader reads {FORMAT_VERSION})")
    units = metadata.get("units")
    if units not in UNITS_TO_METRES:
        fail(f"units {units!r} must be one of m, cm, mm")
    if metadata.get("up_axis") != "+y":
        fail(f"up_axis {metadata.get('up_axis')!r} is not supported (only +y)")
    if metadata.get("forward_axis") != "+z":
        fail(f"forward_axis {metadata.get('forward_axis')!r} is not supported (only +z)")
    try:
        channels = json.loads(metadata.get("channels", ""))
    except json.JSONDecodeError:
        fail("metadata channels is not a JSON array")
    if not isinstance(channels, list) or not all(isinstance(c, str) and c for c in channels):
        fail("metadata channels must be a JSON array of non-empty strings")
    if len(set(channels)) != len(channels):
        dupes = sorted({c for c in channels if channels.count(c) > 1})
        fail(f"duplicate channel names {dupes}")

    base = 8 + length
    body = len(data) - base
    spans = []
    arrays = {}
    for tname, entry in header.items():
        if not isinstance(entry, dict) or not {"dtype", "shape", "data_offsets"} <= set(entry):
            fail(f"tensor {tname!r}: entry needs dtype, shape and data_offsets")
        dtype, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
        if (not isinstance(shape, list) or not all(isinstance(d, int) and d >= 0 for d in shape)
                or not isinstance(offsets, list) or len(offsets) != 2
                or not all(isinstance(o, int) for o in offsets)):
            fail(f"tensor {tname!r}: malformed shape or data_offsets")
        begin, end = offsets
        if not 0 <= begin <= end <= body:
            fail(f"tensor {tname!r}: data_offsets {offsets} outside the {body}-byte data section")
        spans.append((begin, end, tname))
        if tname not in _TENSORS:
            fail(f"unknown tensor {tname!r} (a version-1 rig holds vertices, faces, deltas and optionally uvs, normals)")
        allowed, rank, last, _ = _TENSORS[tname]
        if dtype not in allowed:
            fail(f"tensor {tname!r}: dtype {dtype} not allowed (expected {' or '.join(allowed)})")
        if len(shape) != rank or shape[-1] != last:
            fail(f"tensor {tname!r}: shape {shape} is not [{', '.join(['N'] * (rank - 1) + [str(last)])}]")
        code, size = _DTYPE_BYTES[dtype]
        if end - begin != size * int(np.prod(shape)):
            fail(f"tensor {tname!r}: {end - begin} bytes for shape {shape} of {dtype}")
        arrays[tname] = np.frombuffer(data, dtype=code, count=int(np.prod(shape)), offset=base + begin).reshape(shape)
    spans.sort()
    position = 0
    for begin, end, tname in spans:
        if begin != position:
            fail(f"tensor {tname!r} starts at byte {begin}, expected {position} (gap or overlap)")
        position = end
    if position != body:
        fail(f"tensors cover {position} bytes but the data section has {body}")
    for tname, (_, _, _, required) in _TENSORS.items():
        if required and tname not in arrays:
            fail(f"missing tensor {tname!r}")

    vertices = arrays["vertices"].astype(np.float32)
    faces = arrays["faces"].astype(np.int32)
    deltas = arrays["deltas"].astype(np.float32)
    v = vertices.shape[0]
    if v < 3:
        fail(f"{v} vertices (need at least 3)")
    if faces.shape[0] < 1:
        fail("no faces")
    if faces.min() < 0 or faces.max() >= v:
        fail(f"face index out of range 0..{v - 1} (found {int(faces.min())}..{int(faces.max())})")
    if deltas.shape[0] != len(channels):
        fail(f"deltas have {deltas.shape[0]} shapes but channels names {len(channels)}")
    if deltas.shape[1] != v:
        fail(f"deltas cover {deltas.shape[1]} vertices, the mesh has {v}")
    uvs = arrays.get("uvs")
    normals = arrays.get("normals")
    for tname, array in (("vertices", vertices), ("deltas", deltas), ("uvs", uvs), ("normals", normals)):
        if array is not None and not np.isfinite(array).all():
            fail(f"tensor {tname!r} has non-finite values")
    if uvs is not None and uvs.shape[0] != v:
        fail(f"uvs cover {uvs.shape[0]} vertices, the mesh has {v}")
    if normals is not None:
        if normals.shape[0] != v:
            fail(f"normals cover {normals.shape[0]} vertices, the mesh has {v}")
        length = np.linalg.norm(normals.astype(np.float64), axis=1)
        if np.abs(length - 1.0).max() > 1e-3:
            fail("normals are not unit length")

    scale = np.float32(UNITS_TO_METRES[units])
    landmarks, parts = {}, {}
    try:
        landmarks = {str(k): int(i) for k, i in json.loads(metadata.get("landmarks", "{}")).items()}
        parts = {str(k): (int(a), int(b)) for k, (a, b) in json.loads(metadata.get("parts", "{}")).items()}
    except (ValueError, TypeError, AttributeError):
        fail("metadata landmarks/parts are malformed")
    if any(not 0 <= i < v for i in landmarks.values()) or any(not 0 <= a <= b <= v for a, b in parts.values()):
        fail("metadata landmarks/parts point outside the mesh")
    return HeadRig(
        vertices=vertices * scale,
        faces=faces,
        uvs=None if uvs is None else uvs.astype(np.float32),
        normals=None if normals is None else normals.astype(np.float32),
        channels=channels,
        deltas=deltas * scale,
        landmarks=landmarks,
        parts=parts,
        albedo=None,
    )
