"""The cue-threshold fit's view of the engine (scripts/cue_quality.py) and the metadata
rewrite it writes models with."""
import ast
import json
import os
import re

import numpy as np

from kmtalk_ref import safetensors_io

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SWIFT = os.path.join(ROOT, "Sources", "KMTalkEngine", "Motion", "MouthCueThresholds.swift")
SCRIPT = os.path.join(ROOT, "training", "scripts", "cue_quality.py")


def _script_constant(name):
    tree = ast.parse(open(SCRIPT).read())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == name for t in node.targets):
            return ast.literal_eval(node.value)
    raise AssertionError(f"{name} not in {SCRIPT}")


def _camel(key):
    head, *rest = key.split("_")
    return head + "".join(part.capitalize() for part in rest)


def test_standard_thresholds_match_the_engine():
    swift = open(SWIFT).read()
    defaults = {m.group(1): float(m.group(2)) for m in re.finditer(r"(?:public )?var (\w+): Float = ([0-9.]+)", swift)}
    start = swift.index("static let keys")
    keys = re.findall(r'"(\w+)"', swift[start:swift.index("]", start)])
    standard = _script_constant("STANDARD")
    assert sorted(standard) == sorted(keys)
    assert {_camel(k): v for k, v in standard.items()} == defaults
    assert set(_script_constant("FITTED")) <= set(standard)


def test_rewrite_metadata_keeps_the_tensors(tmp_path):
    tensors = {"a": np.arange(6, dtype=np.float32).reshape(2, 3), "b": np.array([1.5, -2.0], dtype=np.float32)}
    source, copy = str(tmp_path / "m.safetensors"), str(tmp_path / "c.safetensors")
    safetensors_io.save(source, tensors, {"config": json.dumps({"x": 1}), "name": "m"}, {"a": "F16"})

    def update(metadata):
        config = json.loads(metadata["config"])
        config["cues"] = {"rest_max": 0.2}
        return dict(metadata, config=json.dumps(config))

    safetensors_io.rewrite_metadata(source, copy, update)
    loaded, metadata = safetensors_io.load(copy)
    assert json.loads(metadata["config"]) == {"x": 1, "cues": {"rest_max": 0.2}} and metadata["name"] == "m"
    original, _ = safetensors_io.load(source)
    for name in tensors:
        np.testing.assert_array_equal(loaded[name], original[name])
    with open(copy, "rb") as f:
        length = int.from_bytes(f.read(8), "little")
    assert length % 8 == 0
    assert json.loads(open(copy, "rb").read()[8:8 + length])["a"]["dtype"] == "F16"
