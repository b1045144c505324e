"""Mouth cues for 2D characters: Animation.save / to_bytes in Rhubarb Lip Sync's TSV and
JSON, parsed back."""

from __future__ import annotations

import json

import numpy as np
from pathlib import Path

import pytest

import kmtalk

from conftest import REPO_ROOT, signal, write_wav

SHAPES = set("ABCDEFGHX")


def parse_tsv(text: str) -> list:
    """[(seconds, shape)] of a Rhubarb TSV, checking each line's form."""
    rows = []
    for line in text.splitlines():
        time, shape = line.split("\t")
        assert len(time.split(".")[1]) == 2, line  # seconds with two decimals
        rows.append((float(time), shape))
    assert text.endswith("\n")
    return rows


def check_track(tsv: str, cues_json: str, sound_file: str) -> list:
    """Checks that the TSV and the JSON describe one gap-free track; returns its cues as
    (start, end, shape)."""
    rows = parse_tsv(tsv)
    document = json.loads(cues_json)
    assert set(document) == {"metadata", "mouthCues"}
    assert document["metadata"]["soundFile"] == sound_file
    duration = document["metadata"]["duration"]
    cues = [(cue["start"], cue["end"], cue["value"]) for cue in document["mouthCues"]]
    assert cues and all(set(cue) == {"start", "end", "value"} for cue in document["mouthCues"])
    assert cues[0][0] == 0.0 and cues[-1][1] == pytest.approx(duration)
    for (_, end, shape), (start, _, following) in zip(cues, cues[1:]):
        assert end == start and shape != following
    assert all(start < end and shape in SHAPES for start, end, shape in cues)
    # TSV: one line per cue at its start, then the end of the track with X.
    assert rows[:-1] == [(start, shape) for start, _, shape in cues]
    assert rows[-1] == (pytest.approx(duration), "X")
    return cues


def test_cues_save_and_parse_back(session, audio, tmp_path):
    with session.animate_file(audio["mono_path"]) as animation:
        tsv_path, json_path = tmp_path / "cues.tsv", tmp_path / "cues.json"
        animation.save(tsv_path)  # AUTO: .tsv is mouth cues
        animation.save(json_path, format="cues-json")
        tsv, cues_json = tsv_path.read_text(), json_path.read_text()
        assert animation.to_bytes("cues-tsv") == tsv.encode()
        assert animation.to_bytes(kmtalk.ExportFormat.MOUTH_CUES_JSON) == cues_json.encode()
        cues = check_track(tsv, cues_json, str(audio["mono_path"]))
        # The track spans the animation: frame_count / fps, to the centisecond.
        assert cues[-1][1] == pytest.approx(round(animation.frame_count / animation.fps, 2))
        # A .json path stays the weights JSON.
        animation.save(json_path)
        assert "frames" in json.loads(json_path.read_text())


def test_cue_format_names(lib):
    assert kmtalk.ExportFormat.parse("cues-tsv") is kmtalk.ExportFormat.MOUTH_CUES_TSV == 8
    assert kmtalk.ExportFormat.parse("CUES_JSON") is kmtalk.ExportFormat.MOUTH_CUES_JSON == 9
    assert kmtalk.ExportFormat.parse("cues-xml") is kmtalk.ExportFormat.MOUTH_CUES_XML == 12
    assert kmtalk.ExportFormat.parse("moho") is kmtalk.ExportFormat.MOUTH_CUES_DAT == 13
    with pytest.raises(kmtalk.InvalidArgumentError):
        kmtalk.ExportFormat.parse("cues-svg")


def test_rhubarb_xml_and_moho_dat_hold_the_tsv_cues(session, tmp_path):
    wav = tmp_path / "speech.wav"
    write_wav(wav, signal(np.arange(32000) / 16000), 16000)
    animation = session.animate_file(wav)
    rows = parse_tsv(animation.to_bytes("cues-tsv").decode())
    xml = animation.to_bytes("cues-xml").decode()
    import xml.etree.ElementTree as ElementTree
    root = ElementTree.fromstring(xml)
    assert root.tag == "rhubarbResult" and root.findtext("metadata/soundFile") == str(wav.resolve())
    cues = [(float(c.get("start")), c.text) for c in root.iter("mouthCue")]
    assert cues == [(start, shape) for start, shape in rows[:-1]]
    dat = animation.to_bytes("cues-dat").decode().splitlines()
    assert dat[0] == "MohoSwitch1" and dat[1] == f"1 {rows[0][1]}" and dat[-1].endswith(" X")
    frames = [int(line.split()[0]) for line in dat[1:]]
    assert frames == sorted(set(frames)) and frames[-1] >= round(rows[-1][0] * 24)


BASE_MODEL = REPO_ROOT / "models" / "kmtalk-base.safetensors"
HELLO = REPO_ROOT / "examples" / "audio" / "hello.wav"


@pytest.mark.skipif(not BASE_MODEL.is_file() or not HELLO.is_file(), reason="shipped model or hello.wav missing")
def test_shipped_model_cues_on_hello(lib, tmp_path):
    with kmtalk.Model(BASE_MODEL) as model, kmtalk.Session(model, threads=1) as session, \
            session.animate_file(HELLO) as animation:
        path = tmp_path / "hello.tsv"
        animation.save(path)
        cues = check_track(path.read_text(), animation.to_bytes("cues-json").decode(), str(HELLO))
    shapes = [shape for _, _, shape in cues]
    assert shapes[-1] == "X" and "A" in shapes and len(set(shapes)) >= 5
    # The /m/ of "KMTalk" (1.56-1.70 s by the model's own phone head) is a closure.
    assert any(shape == "A" and start <= 1.62 <= end for start, end, shape in cues)


@pytest.mark.skipif(not BASE_MODEL.is_file() or not HELLO.is_file(), reason="shipped model or hello.wav missing")
def test_cues_and_phones_as_structured_arrays(lib):
    animation = kmtalk.Session(kmtalk.Model(BASE_MODEL)).animate_file(HELLO)
    cues = animation.mouth_cues()
    assert cues.dtype == kmtalk.Animation.MOUTH_CUE_DTYPE and len(cues) > 10
    rows = parse_tsv(animation.to_bytes("cues-tsv").decode())
    assert [(float(c["start"]), str(c["shape"])) for c in cues] == rows[:-1]
    assert np.all(cues["end"][:-1] == cues["start"][1:]) and cues["end"][-1] == rows[-1][0]
    phones = animation.phones()
    assert phones.dtype == kmtalk.Animation.PHONE_DTYPE and len(phones) > 10
    assert phones["start"][0] == 0 and np.all(phones["end"][:-1] == phones["start"][1:])
    assert np.all((phones["confidence"] > 0) & (phones["confidence"] <= 1))
    assert {"_"} <= set(phones["phone"])
