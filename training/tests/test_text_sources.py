"""Sentence sources (training/kmtalk_train/text_sources.py): real sentences per language
from installed Debian text (fortunes, gettext catalogs). A language whose source files
are not installed is skipped."""
import os
import re

import pytest

from kmtalk_train import text_sources as ts

# Counts measured on a Debian 12 machine with fortunes, fortunes-min, fortunes-de/es/it/ru/
# br/zh and the usual programs' translations installed were 8,000 (ja) to 36,000 (de);
# 300 is the floor the corpus needs.
MINIMUM = 300


def _has_sources(language):
    return bool(ts._fortune_files(language) or ts._mo_files(language))


@pytest.mark.parametrize("language", ts.LANGUAGES)
def test_enough_clean_sentences_in_the_right_script(language):
    if not _has_sources(language):
        pytest.skip(f"no text sources installed for {language}")
    items = ts.sentences_with_sources(language)
    assert len(items) >= MINIMUM, len(items)
    texts = [s.text for s in items]
    assert len(set(texts)) == len(texts)
    keys = {re.sub(r"\W+", " ", t.casefold()).strip() for t in texts}
    assert len(keys) == len(texts)  # deduplicated case/punctuation-insensitively
    for s in items:
        t = s.text
        assert t and t == t.strip() and "\n" not in t
        assert ts.in_script(t, language), t
        assert not re.search(r"[0-9/\\_=@#<>\[\]{}|*+~^$%`]", t), t
        assert "://" not in t and "www." not in t
        if language in ("cmn", "ja"):
            c = ts.script_counts(t)
            assert 6 <= c.get("han", 0) + c.get("kana", 0) <= 60, t
        else:
            words = re.findall(r"[^\W\d_]+(?:['’\-][^\W\d_]+)*", t)
            assert 3 <= len(words) <= 25, t
        assert s.language == language
        assert os.path.isfile(s.path)
        assert s.package
    # provenance: most sentences have a known Debian package
    known = sum(s.package != "unknown" for s in items)
    assert known >= 0.95 * len(items)


SCRIPT_SAMPLES = {
    "ru": re.compile(r"[А-Яа-яЁё]"),
    "cmn": re.compile(r"[\u4e00-\u9fff]"),
    "ja": re.compile(r"[\u3040-\u30ff]"),
    "de": re.compile(r"[äöüßÄÖÜ]"),
    "fr": re.compile(r"[éèàçêô]"),
    "es": re.compile(r"[ñáéíóú¿¡]"),
    "pt": re.compile(r"[ãõçáéê]"),
    "it": re.compile(r"[àèéìòù]"),
}


@pytest.mark.parametrize("language", sorted(SCRIPT_SAMPLES))
def test_language_specific_letters_present(language):
    """A crude language check: the language's own letters occur in many sentences."""
    if not _has_sources(language):
        pytest.skip(f"no text sources installed for {language}")
    texts = ts.sentences(language, limit=2000, seed=1)
    share = sum(bool(SCRIPT_SAMPLES[language].search(t)) for t in texts) / len(texts)
    assert share > (0.9 if language in ("ru", "cmn", "ja") else 0.2), share


def test_cmn_has_no_kana_and_ja_has_kana():
    if not (_has_sources("cmn") and _has_sources("ja")):
        pytest.skip("no cmn/ja sources")
    assert not any(re.search(r"[\u3040-\u30ff]", t) for t in ts.sentences("cmn"))
    assert all(re.search(r"[\u3040-\u30ff]", t) for t in ts.sentences("ja"))
    kana = ts.sentences("ja", script="kana")
    assert kana and not any(re.search(r"[\u4e00-\u9fff]", t) for t in kana)


def test_deterministic_and_seeded():
    language = next((l for l in ts.LANGUAGES if _has_sources(l)), None)
    if language is None:
        pytest.skip("no text sources installed")
    a = ts.sentences(language, limit=50, seed=0)
    ts._collect.cache_clear()
    b = ts.sentences(language, limit=50, seed=0)
    assert a == b and len(a) == 50
    c = ts.sentences(language, limit=50, seed=1)
    assert c != a
    assert sorted(ts.sentences(language, seed=0)) == sorted(ts.sentences(language, seed=1))


def test_unknown_language_and_script():
    with pytest.raises(ValueError):
        ts.sentences("xx")
    with pytest.raises(ValueError):
        ts.sentences("en", script="hangul")


def test_cleaning_rules():
    assert ts.split_sentences("One two three. Four five six!") == ["One two three.", "Four five six!"]
    ok = ts._acceptable
    assert ok("The cat sat on the mat.", "en")
    assert not ok("See http://example.com for more.", "en")
    assert not ok("Cannot open %s for reading", "en")
    assert not ok("Version 2 is out now", "en")  # digits
    assert not ok("THIS IS ALL CAPS HERE", "en")
    assert not ok("Too short", "en")
    assert not ok("Discussion in comp.os.linux.misc on commands", "en")
    assert ok("Собака ест хлеб каждый день.", "ru")
    assert not ok("Собака ест bread каждый день.", "ru")
    assert ok("狗在吃面包然后睡觉。", "cmn")
    assert not ok("狗在吃 面包然后睡觉。", "cmn")
    assert ok("いぬが パンを たべます。".replace(" ", ""), "ja")
    assert not ok("狗在吃面包然后睡觉。", "ja")  # no kana: not Japanese
    assert not ok("Il file non esiste e non the and of you", "it")  # mostly English words
    # fortunes: attributions dropped, "A:" prefix removed, Italian accents restored
    assert ts._italian_accents("Perche' sei qui? Piu' tardi, dell'anno.") == "Perché sei qui? Più tardi, dell'anno."
    assert list(ts._sentences_of("A: Because he was hungry.", "en", "fortune")) == ["Because he was hungry."]
    assert list(ts._sentences_of("q, --quiet do not print anything", "en", "mo")) == []


def test_fortune_attribution_dropped(tmp_path):
    p = tmp_path / "f"
    p.write_text("Life is what happens while you plan.\n\t\t-- John Lennon\n%\nSecond one here.\n")
    assert list(ts._fortune_paragraphs(str(p))) == ["Life is what happens while you plan.", "Second one here."]
