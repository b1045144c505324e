"""Rig.from_shape_names: the library's name matching for a mesh that lives elsewhere
(the Blender add-on matches a mesh's shape keys with it)."""

from __future__ import annotations

import json

import numpy as np
import pytest

import kmtalk


@pytest.fixture(scope="module")
def animation(session, audio):
    with session.animate_file(audio["mono_path"]) as result:
        yield result


def test_from_shape_names_matches_naming_styles(animation):
    names = ["JawOpen", "eyeBlink_L", "mouth_funnel", "browInnerUp_L", "browInnerUp_R", "hat", "mouthClose"]
    with kmtalk.Rig.from_shape_names(names) as rig:
        assert rig.shape_names == tuple(names)
        assert rig.vertex_count == 3 and rig.face_count == 1
        channels = rig.shape_channels(animation)
        channel_names = animation.channel_names
        got = {name: (channel_names[i] if i >= 0 else None) for name, i in zip(names, channels)}
        assert got == {"JawOpen": "jawOpen", "eyeBlink_L": "eyeBlinkLeft", "mouth_funnel": "mouthFunnel",
                       "browInnerUp_L": "browInnerUp", "browInnerUp_R": "browInnerUp", "hat": None,
                       "mouthClose": "mouthClose"}
        unmatched = rig.unmatched_channels(animation)
        assert "jawOpen" not in unmatched and "browInnerUp" not in unmatched
        assert "eyeBlinkRight" in unmatched
        assert len(unmatched) == animation.channel_count - 5


def test_from_shape_names_refuses_duplicates():
    with pytest.raises(kmtalk.CorruptRigError):
        kmtalk.Rig.from_shape_names(["jawOpen", "jawOpen"])
    with pytest.raises(kmtalk.CorruptRigError):
        kmtalk.Rig.from_shape_names(["jawOpen", ""])


def test_remap_drives_a_character_with_its_own_shape_names(animation, tmp_path):
    """A channel map (dict, JSON text or file) makes the model drive shapes of other names:
    the weighted sums checked against the source frames with NumPy."""
    source = animation.read_frames()
    names = list(animation.channel_names)
    jaw, smile = names.index("jawOpen"), names.index("mouthSmileLeft")
    mapping = {"channels": {"jawOpen": "Mouth_Open", "mouthSmileLeft": {"Smile_L": 0.8, "Mouth_Open": 0.25}},
               "clamp": False}
    path = tmp_path / "cc.json"
    path.write_text(json.dumps(mapping))
    for given in (mapping, json.dumps(mapping), path, str(path)):
        with animation.remap(given) as mapped:
            assert mapped.channel_names == ("Mouth_Open", "Smile_L")
            assert mapped.frame_count == animation.frame_count and mapped.fps == animation.fps
            frames = mapped.read_frames()
            np.testing.assert_allclose(frames[:, 0], source[:, jaw] + 0.25 * source[:, smile], atol=1e-6)
            np.testing.assert_allclose(frames[:, 1], 0.8 * source[:, smile], atol=1e-6)
    # The character's rig matches the mapped channels exactly.
    with kmtalk.Rig.from_shape_names(["Mouth_Open", "Smile_L", "Brow"]) as rig, animation.remap(mapping) as mapped:
        assert list(rig.shape_channels(mapped)) == [0, 1, -1]
    with pytest.raises(kmtalk.InvalidArgumentError, match="no channel 'jawOpn'"):
        animation.remap({"channels": {"jawOpn": "Mouth_Open"}})
    with pytest.raises(kmtalk.InvalidArgumentError, match="not JSON"):
        animation.remap("{nope")
    with pytest.raises(TypeError):
        animation.remap(42)
