"""vertex_train: coefficient targets that reproduce the offsets, a fold of the
components into the network that gives the same offsets as the coefficient network
(with and without key motions), an exported vertices-space file that reloads, and a few
training steps that reduce the vertex loss. PyTorch only (skipped without it, as the
library's CI is); a small synthetic vertex space, so no third-party data is needed."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from kmtalk_train import corpus, export, train, vertex_train  # noqa: E402
from kmtalk_train.arkit import ARKIT_52  # noqa: E402
from kmtalk_train.ict_vertex_space import VertexSpace  # noqa: E402
from kmtalk_train.model import KMTalkModel, tiny_config  # noqa: E402


def small_space(vertices: int = 24, seed: int = 1) -> VertexSpace:
    rng = np.random.default_rng(seed)
    template = rng.normal(scale=50.0, size=(vertices, 3)).astype(np.float32)
    basis = rng.normal(scale=2.0, size=(len(ARKIT_52), 3 * vertices)).astype(np.float32)
    faces = np.array([[i, i + 1, i + 2] for i in range(vertices - 2)], dtype=np.int32)
    return VertexSpace(indices=np.arange(vertices), template=template, faces=faces, basis=basis,
                       lip_vertices=np.arange(0, 6), upper_face_vertices=np.arange(18, 24), cell_mm=5.0)


@pytest.fixture(scope="module")
def tiny_corpus(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("vcorpus"))
    corpus.build(out, english_hours=0.004, other_minutes=0.0, languages=["en"], seed=0, jobs=2,
                 augment_fraction=0.0, real_speech_limit=0, log=lambda *_: None)
    return out


@pytest.fixture(scope="module")
def data(tiny_corpus):
    loaded = train.load_corpus(tiny_corpus, tiny_config(), splits=("train", "validation", "test"), log=lambda *_: None)
    if len(loaded["train"]) < 4:
        pytest.skip("the tiny corpus has too few training utterances (speech engines missing?)")
    return loaded


def test_targets_reproduce_the_offsets(data):
    space = small_space()
    targets = vertex_train.fit_targets(space, data["train"], components=len(ARKIT_52))
    weights = data["train"][0].motion
    np.testing.assert_allclose(targets.offsets(targets.coefficients(weights)), space.offsets(weights), atol=1e-3)
    fewer = vertex_train.fit_targets(space, data["train"], components=8)
    assert fewer.basis.shape == (8, 3 * 24)
    np.testing.assert_allclose(fewer.basis @ fewer.basis.T, np.eye(8), atol=1e-5)
    # The SVD of the 52-dimensional factor spans what an SVD of the offsets themselves does.
    from kmtalk_train.ict_vertex_space import principal_basis
    offsets = space.offsets(np.concatenate([item.motion for item in data["train"]]))
    mean, direct, _ = principal_basis(offsets, components=8)
    np.testing.assert_allclose(fewer.mean, mean, atol=1e-3)
    np.testing.assert_allclose(fewer.basis.T @ fewer.basis, direct.T @ direct, atol=2e-3)


@pytest.mark.parametrize("use_keys", [True, False])
def test_fold_gives_the_coefficient_networks_offsets(data, tmp_path, use_keys):
    space = small_space()
    targets = vertex_train.fit_targets(space, data["train"], components=12)
    config = vertex_train.training_config(tiny_config(), targets, use_keys=use_keys)
    torch.manual_seed(3)
    model = KMTalkModel(config)
    for parameter in model.parameters():  # random, not the zero-initialised heads
        torch.nn.init.normal_(parameter, std=0.2)
    items = data["validation"][:3] or data["train"][:3]
    expected = vertex_train.predict_offsets(model, config, vertex_train.convert(items, targets), targets)
    folded, folded_config = vertex_train.fold(model, config, targets)
    got = vertex_train.predict_offsets(folded, folded_config, items, None)
    assert folded_config["motion"]["space"] == "vertices" and len(folded_config["motion"]["channels"]) == 72
    for a, b in zip(expected, got):
        assert a.shape == b.shape
        np.testing.assert_allclose(b, a, atol=1e-3 * max(1.0, float(np.abs(a).max())))
    # The exported file is a vertices-space model that reloads into the same network.
    path = str(tmp_path / "v.safetensors")
    export.export(folded, folded_config, path, {"test": "1"}, template=space.template, faces=space.faces)
    reloaded, reloaded_config, _ = export.load(path)
    assert reloaded_config["motion"]["units"] == "mm"
    np.testing.assert_array_equal(reloaded.motion_template, space.template)
    again = vertex_train.predict_offsets(reloaded, reloaded_config, items, None)
    for a, b in zip(got, again):
        np.testing.assert_allclose(b, a, atol=1e-4)


def test_a_few_steps_reduce_the_vertex_error(data):
    space = small_space()
    targets = vertex_train.fit_targets(space, data["train"], components=12)
    config = vertex_train.training_config(tiny_config(), targets)
    converted = {split: vertex_train.convert(items, targets) for split, items in data.items()}
    items = data["train"][:4]
    before = vertex_train.score(vertex_train.predict_offsets(
        KMTalkModel(config), config, converted["train"][:4], targets), items, space)["model"]
    summary = train.train("", None, steps=30, config=config, seed=0, batch_size=4, lr=3e-3, val_every=0,
                          data=converted, log=lambda *_: None,
                          loss_weights={"closure": 0.0, "labiodental": 0.0, "range": 0.0})
    after = vertex_train.score(vertex_train.predict_offsets(
        summary["model"], config, converted["train"][:4], targets), items, space)
    assert after["model"]["mve"] < before["mve"]
    assert set(after) == {"model", "template (still)", "mean pose (still)"}
    assert after["template (still)"]["lve"] > 0
