"""The decimated ICT-FaceKit vertex space: exact rig offsets at the kept vertices, a
valid mesh, sensible metric regions, and a principal basis that loses nothing within the
space's rank. Uses ../shared/data/ict-facekit (third-party, not in the repository):
skipped when it is absent."""

import os

import numpy as np
import pytest

from kmtalk_train import ict_rig
from kmtalk_train import ict_vertex_space as space_module
from kmtalk_train import vertex_metrics
from kmtalk_train.arkit import ARKIT_52

pytestmark = pytest.mark.skipif(
    not os.path.isfile(os.path.join(ict_rig.DEFAULT_DIRECTORY, "generic_neutral_mesh.obj")),
    reason="../shared/data/ict-facekit is absent (third-party data, not in the repository)")


@pytest.fixture(scope="module")
def rig():
    return ict_rig.load()


@pytest.fixture(scope="module")
def space(rig):
    return space_module.build(rig, cell_mm=5.0)


def test_kept_vertices_move_exactly_as_the_rig(rig, space):
    rng = np.random.default_rng(5)
    weights = rng.uniform(0, 1, size=(6, len(ARKIT_52))).astype(np.float32)
    full = rig.vertices(weights)                                 # [6, V, 3] cm
    expected = (full[:, space.indices] - rig.neutral[None, space.indices]) * 10.0
    got = space.offsets(weights).reshape(6, -1, 3)
    np.testing.assert_allclose(got, expected, atol=2e-4)        # mm; float32 sums
    np.testing.assert_allclose(space.positions(space.offsets(weights)), full[:, space.indices] * 10.0, atol=2e-3)
    assert len(space.channel_names()) == 3 * space.vertex_count and space.channel_names()[:4] == ["v0.x", "v0.y", "v0.z", "v1.x"]


def test_mesh_and_regions(rig, space):
    assert 2500 < space.vertex_count < 4500, "5 mm cells give a VOCASET-sized face"
    assert space.faces.min() >= 0 and space.faces.max() < space.vertex_count
    assert np.all(space.faces[:, 0] != space.faces[:, 1]) and np.all(space.faces[:, 1] != space.faces[:, 2])
    assert len(np.unique(space.faces)) > 0.95 * space.vertex_count, "nearly every kept vertex is in a triangle"
    again = space_module.build(rig, cell_mm=5.0)
    assert np.array_equal(again.indices, space.indices) and np.array_equal(again.faces, space.faces)
    # Lips: around the mouth, the region jawOpen moves most; upper face: above the eyes, still for speech.
    jaw = space.basis[ARKIT_52.index("jawOpen")].reshape(-1, 3)
    moved = np.linalg.norm(jaw, axis=1)
    assert 50 < len(space.lip_vertices) < 300
    assert moved[space.lip_vertices].mean() > 5 * moved.mean() / 2
    mouth = [i for i, name in enumerate(ARKIT_52) if name.startswith(("jaw", "mouth"))]
    speech = np.linalg.norm(space.basis[mouth].reshape(len(mouth), -1, 3), axis=2).max(axis=0)
    upper, lips = np.median(speech[space.upper_face_vertices]), np.median(speech[space.lip_vertices])
    assert upper < 0.1 * lips, f"speech shapes barely touch the upper face ({upper:.2f} vs lips {lips:.2f} mm)"
    assert set(space.lip_vertices).isdisjoint(space.upper_face_vertices)


def test_principal_basis_and_metrics_on_the_space(space):
    rng = np.random.default_rng(9)
    weights = np.clip(rng.normal(0.2, 0.2, size=(400, len(ARKIT_52))), 0, 1).astype(np.float32)
    offsets = space.offsets(weights)
    mean, basis, variance = space_module.principal_basis(offsets, energy=0.999999)
    assert basis.shape[0] <= len(ARKIT_52)
    np.testing.assert_allclose(basis @ basis.T, np.eye(len(basis)), atol=1e-4)
    coefficients = (offsets - mean) @ basis.T
    np.testing.assert_allclose(mean + coefficients @ basis, offsets, atol=0.02)
    assert np.all(np.diff(variance) <= 1e-6)
    # The metrics on the space: a prediction with half the jaw has a lip error, none upstairs.
    captured = space.positions(offsets)
    half = weights.copy()
    half[:, ARKIT_52.index("jawOpen")] *= 0.5
    predicted = space.positions(space.offsets(half))
    scores = vertex_metrics.evaluate_sequences([(predicted, captured, space.template)], space.lip_vertices,
                                               space.upper_face_vertices)
    assert scores.lve_distance > 0.5 and abs(scores.fdd) < 1e-3
    assert vertex_metrics.lip_vertex_error(captured, captured, space.lip_vertices) == 0.0


def test_refuses_bad_shapes(space):
    with pytest.raises(ValueError, match="expected"):
        space.offsets(np.zeros((3, 51)))
    with pytest.raises(ValueError, match="frames >= 2"):
        space_module.principal_basis(np.zeros((1, 6)))
