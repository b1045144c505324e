#!/usr/bin/env python3
"""Builds the project's default rig (training/kmtalk_train/head_rig.py: a procedural stylized
head with the 52 ARKit blendshapes), writes models/kmtalk-head.rig.safetensors (same bytes on
every run), prints its size and lip measurements, and renders front views of key shapes to
docs/img/head-shapes.png (needs matplotlib).

    cd training && ../.venv-test/bin/python scripts/make_default_rig.py [--out PATH] [--image PATH]
"""
import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import numpy as np  # noqa: E402

from kmtalk_train import head_rig  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(HERE))

POSES = [
    ("neutral", {}),
    ("jawOpen", {"jawOpen": 1.0}),
    ("mouthFunnel", {"mouthFunnel": 1.0}),
    ("mouthPucker", {"mouthPucker": 1.0}),
    ("mouthSmileLeft+Right", {"mouthSmileLeft": 1.0, "mouthSmileRight": 1.0}),
]
MEASURED = POSES[:2] + [("jawOpen+mouthClose", {"jawOpen": 1.0, "mouthClose": 1.0})] + POSES[2:]
STRIP = [
    ("neutral", {}),
    ("jawOpen", {"jawOpen": 1.0}),
    ("jawOpen + mouthClose", {"jawOpen": 1.0, "mouthClose": 1.0}),
    ("mouthFunnel", {"mouthFunnel": 1.0}),
    ("mouthPucker", {"mouthPucker": 1.0}),
    ("mouthSmile L+R", {"mouthSmileLeft": 1.0, "mouthSmileRight": 1.0}),
    ("eyeBlink L+R", {"eyeBlinkLeft": 1.0, "eyeBlinkRight": 1.0}),
    ("browInnerUp", {"browInnerUp": 1.0}),
]


def render(vertices, faces, albedo=None, size=256, crop=None, light=(-0.35, 0.55, 1.0), background=(250, 250, 250)):
    """Front view (camera on +z, looking down -z) with Lambert shading interpolated across
    each triangle (Gouraud) and a z-buffer; back-facing triangles are culled. `crop` =
    (x0, x1, y0, y1) in metres. Returns RGB uint8 [size, size, 3]."""
    v = np.asarray(vertices, dtype=np.float64)
    tri = np.asarray(faces)
    a, b, c = v[tri[:, 0]], v[tri[:, 1]], v[tri[:, 2]]
    face_normals = np.cross(b - a, c - a)
    normals = np.zeros_like(v)
    for k in range(3):
        np.add.at(normals, tri[:, k], face_normals)
    normals /= np.linalg.norm(normals, axis=1, keepdims=True) + 1e-20
    light = np.asarray(light, dtype=np.float64) / np.linalg.norm(light)
    shade = np.clip(normals @ light, 0.0, 1.0) * 0.78 + 0.22
    if albedo is None:
        albedo = np.tile([0.86, 0.70, 0.60], (len(v), 1))
    colour = np.asarray(albedo) * shade[:, None] * 255.0
    if crop is None:
        lo, hi = v.min(axis=0), v.max(axis=0)
        crop = (lo[0], hi[0], lo[1], hi[1])
    x0, x1, y0, y1 = crop
    scale = (size - 1) / max(x1 - x0, y1 - y0)
    px = (v[:, 0] - x0) * scale
    py = (y1 - v[:, 1]) * scale
    depth = np.full((size, size), -np.inf)
    image = np.empty((size, size, 3))
    image[:] = background
    for t in np.nonzero(face_normals[:, 2] > 0)[0]:
        i = tri[t]
        xs, ys = px[i], py[i]
        xmin, xmax = max(int(np.floor(xs.min())), 0), min(int(np.ceil(xs.max())), size - 1)
        ymin, ymax = max(int(np.floor(ys.min())), 0), min(int(np.ceil(ys.max())), size - 1)
        if xmin > xmax or ymin > ymax:
            continue
        det = (ys[1] - ys[2]) * (xs[0] - xs[2]) + (xs[2] - xs[1]) * (ys[0] - ys[2])
        if abs(det) < 1e-12:
            continue
        gx, gy = np.meshgrid(np.arange(xmin, xmax + 1), np.arange(ymin, ymax + 1))
        l0 = ((ys[1] - ys[2]) * (gx - xs[2]) + (xs[2] - xs[1]) * (gy - ys[2])) / det
        l1 = ((ys[2] - ys[0]) * (gx - xs[2]) + (xs[0] - xs[2]) * (gy - ys[2])) / det
        l2 = 1.0 - l0 - l1
        inside = (l0 >= -1e-6) & (l1 >= -1e-6) & (l2 >= -1e-6)
        if not inside.any():
            continue
        z = l0 * v[i[0], 2] + l1 * v[i[1], 2] + l2 * v[i[2], 2]
        region = depth[ymin:ymax + 1, xmin:xmax + 1]
        closer = inside & (z > region)
        if not closer.any():
            continue
        region[closer] = z[closer]
        image[ymin:ymax + 1, xmin:xmax + 1][closer] = (l0[closer, None] * colour[i[0]] + l1[closer, None] * colour[i[1]]
                                                      + l2[closer, None] * colour[i[2]])
    return np.clip(image, 0, 255).astype(np.uint8)


def render_strip(path, rig, poses, size=230):
    """One row of front views of the face, each titled with its pose."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    crop = (-0.092, 0.092, -0.112, 0.072)
    fig, axes = plt.subplots(1, len(poses), figsize=(1.9 * len(poses), 2.25))
    fig.subplots_adjust(left=0.005, right=0.995, bottom=0.005, top=0.9, wspace=0.03)
    for ax, (label, weights) in zip(np.atleast_1d(axes), poses):
        image = render(head_rig.pose(rig, weights), rig.faces, rig.albedo, size=size, crop=crop)
        ax.imshow(image, interpolation="lanczos")
        ax.set_title(label, fontsize=8)
        ax.axis("off")
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=os.path.join(ROOT, "models", "kmtalk-head.rig.safetensors"))
    parser.add_argument("--image", default=os.path.join(ROOT, "docs", "img", "head-shapes.png"))
    parser.add_argument("--no-image", action="store_true", help="skip the PNG (no matplotlib needed)")
    args = parser.parse_args()

    rig = head_rig.build_head()
    dtype = head_rig.save_rig(args.out, rig)
    loaded = head_rig.load_rig(args.out)            # validates what was written
    error = float(np.abs(loaded.deltas - rig.deltas).max())
    print(f"wrote {os.path.relpath(args.out, ROOT)}: {len(rig.vertices)} vertices, {len(rig.faces)} triangles, "
          f"{len(rig.channels)} shapes, deltas {dtype} (max error {error * 1e6:.1f} um), "
          f"{os.path.getsize(args.out) / 2 ** 20:.2f} MiB")
    parts = ", ".join(f"{name} {b - a}" for name, (a, b) in rig.parts.items())
    print(f"parts (vertices): {parts}")
    lo, hi = rig.vertices.min(axis=0), rig.vertices.max(axis=0)
    print(f"bounding box (m): x {lo[0]:+.3f}..{hi[0]:+.3f}, y {lo[1]:+.3f}..{hi[1]:+.3f}, z {lo[2]:+.3f}..{hi[2]:+.3f}")
    print(f"{'pose':<22} {'lip gap':>9} {'width':>9} {'lip z':>9} {'corner y':>9}   (mm)")
    for label, weights in MEASURED:
        m = head_rig.measurements(loaded, head_rig.pose(loaded, weights))
        print(f"{label:<22} {m['lip_gap_mm']:9.2f} {m['mouth_width_mm']:9.2f} {m['lip_protrusion_mm']:9.2f} "
              f"{m['corner_height_mm']:9.2f}")
    blink = head_rig.pose(loaded, {"eyeBlinkLeft": 1.0})
    print(f"left eye opening: {head_rig.eye_opening(loaded, loaded.vertices) * 1000:.2f} mm neutral, "
          f"{head_rig.eye_opening(loaded, blink) * 1000:.2f} mm at eyeBlinkLeft = 1")
    if not args.no_image:
        render_strip(args.image, rig, STRIP)
        print(f"wrote {os.path.relpath(args.image, ROOT)} ({os.path.getsize(args.image) / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
