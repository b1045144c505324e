"""The recognized-phone track: Animation.to_bytes / save with ExportFormat.PHONES_TSV."""

from __future__ import annotations

import pytest

import kmtalk

from conftest import REPO_ROOT

BASE = REPO_ROOT / "models" / "kmtalk-base.safetensors"
HELLO = REPO_ROOT / "examples" / "audio" / "hello.wav"


def parse(text: str) -> list:
    """[(start, end, phone, confidence)], checking the header and that segments are contiguous."""
    lines = text.splitlines()
    assert lines[0] == "start\tend\tphone\tconfidence"
    rows = []
    for line in lines[1:]:
        start, end, phone, confidence = line.split("\t")
        rows.append((float(start), float(end), phone, float(confidence)))
    assert rows[0][0] == 0.0
    for (_, end, phone, _), (start, _, following, _) in zip(rows, rows[1:]):
        assert end == start and phone != following
    assert all(0 < r[3] <= 1 and r[1] > r[0] for r in rows)
    return rows


@pytest.mark.skipif(not BASE.is_file(), reason="models/kmtalk-base.safetensors not in this checkout")
def test_shipped_model_phones(tmp_path):
    assert kmtalk.ExportFormat.parse("phones") == kmtalk.ExportFormat.PHONES_TSV
    with kmtalk.Model(BASE) as model, kmtalk.Session(model, threads=1, fps=30) as session:
        animation = session.animate_file(HELLO)
    text = animation.to_bytes("phones").decode("utf-8")
    rows = parse(text)
    phones = [r[2] for r in rows]
    assert phones[:6] == ["_", "h", "ə", "l", "oʊ", "_"]  # "hello", then a pause
    assert rows[-1][1] == pytest.approx(4.86, abs=0.03)  # 50 fps native frames, whatever the output fps
    out = tmp_path / "hello.phones.txt"
    animation.save(out, format=kmtalk.ExportFormat.PHONES_TSV)
    assert out.read_text(encoding="utf-8") == text


def test_model_without_phone_head_is_refused(model, audio):
    """The random test model is a direct-regression network: no phone track."""
    with kmtalk.Session(model, threads=1) as session:
        animation = session.animate_file(audio["mono_path"])
    with pytest.raises(kmtalk.InvalidArgumentError, match="no phone track"):
        animation.to_bytes("phones")
