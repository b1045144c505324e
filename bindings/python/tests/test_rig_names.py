"""Rig.from_shape_names: the library's name matching for a mesh that lives elsewhere
(the Blender add-on matches a mesh's shape keys with it)."""

from __future__ import annotations

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
