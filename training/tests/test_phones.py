"""Tests of the universal phone inventory (features) and of the mappings into it from
espeak-ng (CLI -x / --ipa output and library phoneme events, on real sentences in every
supported language) and from ARPAbet."""
import ctypes.util
import itertools
import json
import os
import shutil
import subprocess
import sys
import unicodedata

import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from kmtalk_train import phones  # noqa: E402
from kmtalk_train.phones import (  # noqa: E402
    ESPEAK_SEP, FEATURE_NAMES, INVENTORY, UnknownPhoneError, feature_matrix, features,
    from_arpabet, from_espeak, from_espeak_sequence, index, parse_espeak_output,
    split_espeak_ipa,
)

ENGLISH = [
    "The quick brown fox jumps over the lazy dog.",
    "She sells seashells by the seashore, and the thought of it makes George laugh.",
    "Why would you measure the choir's voices with a ruler?",
    "Our hour-long tour ended near the old oak tree, where boys enjoy playing.",
    "Thank you very much; we'll see each other at the theatre tomorrow.",
]
PORTUGUESE = [
    "Luís argüia à Júlia que «brações, fé, chá, óxido, pôr, zângão» eram palavras do português.",
    "O menino comeu o pão com manteiga antes de ir para a escola.",
    "As mães e os irmãos viajaram juntos para o Rio de Janeiro.",
    "Quero uma bica e um pastel de nata, por favor.",
    "A nossa cidade tem muitas praças bonitas e ruas estreitas.",
]
MANDARIN = [
    "我们今天去北京吃烤鸭。",
    "你好，请问火车站在哪里？",
    "学生们在图书馆里认真地看书。",
    "这只小猫喜欢在窗户旁边睡觉。",
    "春天来了，公园里的花都开了。日子，知识。",
]
SENTENCES = {
    "en-us": ENGLISH,
    "en-gb": ENGLISH,
    "es": [
        "El veloz murciélago hindú comía feliz cardillo y kiwi.",
        "La cigüeña tocaba el saxofón detrás del palenque de paja.",
        "¿Dónde está la estación de ferrocarril? Quiero viajar a Valencia.",
        "Mi hermano guarda un perro pequeño y muy juguetón en el jardín.",
        "Hoy hace buen tiempo, pero mañana lloverá en la ciudad.",
    ],
    "fr": [
        "Portez ce vieux whisky au juge blond qui fume.",
        "Les enfants jouent dans le jardin pendant que leur mère prépare le déjeuner.",
        "Un bon vin blanc accompagne parfaitement le poisson.",
        "Je voudrais acheter un billet pour Lyon, s'il vous plaît.",
        "La huitième nuit, il a vu une lueur étrange au fond du bois.",
    ],
    "de": [
        "Victor jagt zwölf Boxkämpfer quer über den großen Sylter Deich.",
        "Ich möchte morgen früh mit dem Zug nach München fahren.",
        "Die Kinder spielen im Garten, während die Eltern Kaffee trinken.",
        "Pfeffer und Salz gehören auf jeden Tisch.",
        "Heute ist das Wetter schön, aber neulich hat es viel geregnet.",
    ],
    "it": [
        "Quel vituperabile xenofobo zelante assaggia il whisky ed esclama: alleluia!",
        "Vorrei prenotare un tavolo per due persone stasera.",
        "La gente giovane preferisce viaggiare in treno, che è più comodo.",
        "Gli gnocchi della nonna sono buonissimi, soprattutto con il sugo.",
        "Ieri abbiamo visitato il castello e la chiesa vicino al fiume.",
    ],
    "pt": PORTUGUESE,
    "pt-br": PORTUGUESE,
    "ru": [
        "Съешь же ещё этих мягких французских булок, да выпей чаю.",
        "В чащах юга жил бы цитрус? Да, но фальшивый экземпляр!",
        "Москва — столица России, и в ней живёт много людей.",
        "Мы пошли гулять в парк, потому что погода была хорошая.",
        "Щука плавала в широкой реке под старым мостом.",
    ],
    "cmn": MANDARIN,
    "ja": [
        "きょうは いい てんき ですね。",
        "わたしは とうきょうに すんでいます。",
        "コンピューターで にほんごを べんきょうします。",
        "これは にほんの ほん です。",
        "ふじさんの ちょうじょうで しゃしんを とって ください。",
    ],
}

# (test id, language for the mapping, espeak-ng voice). Mandarin is tested with both voices:
# "cmn-latn-pinyin" reads Hanzi natively; "cmn" on espeak-ng 1.51 falls back to English
# spelling of pinyin for most characters (language switches in its output).
VOICES = [(lang, lang, lang) for lang in ("en-us", "en-gb", "es", "fr", "de", "it", "pt", "pt-br", "ru")]
VOICES += [("cmn", "cmn", "cmn-latn-pinyin"), ("cmn-voice", "cmn", "cmn"), ("ja", "ja", "ja")]

# Phones each language's sentences must produce (real behaviour of the mapping on real
# espeak-ng output, not only "no error").
EXPECTED = {
    "en-us": {"θ", "ð", "ʃ", "dʒ", "ɹ", "aɪ", "oʊ", "ɔɪ", "ɚ"},
    "en-gb": {"θ", "ð", "ʃ", "dʒ", "ɹ", "aɪ", "əʊ", "ɔɪ", "ɒ"},
    "es": {"θ", "x", "ɲ", "β", "ð", "ɣ", "r"},
    "fr": {"ʁ", "y", "ɑ̃", "ɔ̃", "ɛ̃", "œ", "ʒ"},
    "de": {"ç", "x", "ts", "y", "ø", "aɪ", "ɔʏ", "ʃ"},
    "it": {"tʃ", "dʒ", "dz", "ʎ", "ɲ", "ɛ", "ɔ", "w"},
    "pt": {"ɐ", "ɐ̃", "ʃ", "ʒ", "ũ", "ɨ"},
    "pt-br": {"ɐ̃", "dʒ", "tʃ", "ũ"},
    "ru": {"ɨ", "ɕ", "ts", "ʒ", "j", "ɵ", "x"},
    "cmn": {"ʈʂ", "ʂ", "tɕ", "ɕ", "ɻ̩", "ɹ̩", "ɥ", "aʊ", "ts"},
    "ja": {"ɯ", "ɸ", "tɕ", "ɕ", "ɴ", "j", "dʑ"},
}


def dedup(seq):
    return [k for k, _ in itertools.groupby(seq)]


def visible(seq):
    """Phones without pauses, adjacent repeats merged (one visual target)."""
    return dedup([p for p in seq if p != "_"])


# --------------------------------------------------------------------------------------
# Inventory and features
# --------------------------------------------------------------------------------------

def test_inventory_order_and_index():
    assert INVENTORY[0] == "_"
    assert len(INVENTORY) == len(set(INVENTORY))
    assert len(INVENTORY) >= 80
    for i, phone in enumerate(INVENTORY):
        assert index(phone) == i
        assert unicodedata.normalize("NFC", phone) == phone
    with pytest.raises(UnknownPhoneError):
        index("Q")
    with pytest.raises(UnknownPhoneError):
        features("@")


def test_every_phone_has_complete_features_in_range():
    for phone in INVENTORY:
        f = features(phone)
        assert f.kind in ("vowel", "consonant", "pause"), phone
        for name in FEATURE_NAMES:
            value = getattr(f, name)
            if name in ("voiced", "pause"):
                assert isinstance(value, bool), (phone, name)
            else:
                assert isinstance(value, float), (phone, name)
                assert 0.0 <= value <= 1.0, (phone, name, value)
        assert f.pause == (phone == "_") == (f.kind == "pause")
        if f.kind == "vowel":
            assert f.voiced and f.bilabial_closure == 0 and f.labiodental == 0, phone
            assert f.jaw_open > 0, phone
    matrix = feature_matrix()
    assert matrix.shape == (len(INVENTORY), len(FEATURE_NAMES))
    assert matrix.dtype == np.float32
    assert np.all((matrix >= 0) & (matrix <= 1))
    for i, phone in enumerate(INVENTORY):
        np.testing.assert_array_equal(matrix[i], features(phone).vector())
    # Features are frozen.
    with pytest.raises(Exception):
        features("a").jaw_open = 0.0


def test_diphthongs_start_target_and_glide():
    diphthongs = [p for p in INVENTORY if features(p).glide_to]
    assert {"aɪ", "aʊ", "eɪ", "oʊ", "ɔɪ", "əʊ", "ɪə", "eə", "ʊə", "ɔʏ"} <= set(diphthongs)
    for phone in diphthongs:
        f = features(phone)
        end = features(f.glide_to)
        assert f.kind == "vowel" and end.kind == "vowel" and end.glide_to is None
        assert f.vector().tolist() != end.vector().tolist(), phone
    # Start target = the first element's features.
    assert features("aɪ").vector().tolist() == features("a").vector().tolist()
    assert features("oʊ").vector().tolist() == features("o").vector().tolist()
    assert features("aʊ").glide_to == "ʊ" and features("eɪ").glide_to == "ɪ"
    assert features("aɪ").jaw_open > features(features("aɪ").glide_to).jaw_open
    assert features(features("aʊ").glide_to).rounding > features("aʊ").rounding


def test_landmark_features():
    for p in ("p", "b", "m"):
        assert features(p).bilabial_closure == 1.0
        assert features(p).jaw_open < 0.1
    others = [p for p in INVENTORY if p not in ("p", "b", "m")]
    assert all(features(p).bilabial_closure < 1.0 for p in others)
    for p in ("f", "v"):
        assert features(p).labiodental == 1.0
        assert features(p).bilabial_closure == 0.0
    assert all(features(p).labiodental == 0 for p in INVENTORY if p not in ("f", "v"))
    assert features("u").rounding > features("i").rounding
    assert features("o").rounding > features("e").rounding
    assert features("y").rounding > features("i").rounding
    assert features("w").rounding >= 0.9
    assert features("ʃ").rounding > features("s").rounding
    assert features("i").spreading > features("u").spreading
    assert features("i").spreading > features("ə").spreading
    assert features("a").jaw_open > features("i").jaw_open
    assert features("a").jaw_open > features("e").jaw_open > features("i").jaw_open
    assert features("ɑ").jaw_open > features("u").jaw_open
    for p in ("s", "z", "ʃ", "ʒ", "tʃ", "dʒ", "ɕ", "ʂ", "ts"):
        assert features(p).teeth_close >= 0.8, p
    assert features("s").teeth_close > features("a").teeth_close
    for p in ("θ", "ð"):
        assert features(p).tongue_tip_visible == 1.0
    assert features("θ").tongue_tip_visible > features("l").tongue_tip_visible > features("k").tongue_tip_visible
    pause = features("_")
    assert pause.pause and pause.kind == "pause" and not pause.voiced
    for voiceless, voiced in (("p", "b"), ("t", "d"), ("k", "ɡ"), ("f", "v"), ("s", "z"), ("ʃ", "ʒ"),
                              ("tʃ", "dʒ"), ("θ", "ð"), ("tɕ", "dʑ")):
        assert not features(voiceless).voiced and features(voiced).voiced
    # Input normalisation: precomposed and decomposed nasal vowels are the same phone.
    assert index("\u0129") == index("i\u0303") == index("ĩ")


# --------------------------------------------------------------------------------------
# Mapping units
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("symbol, language, ipa, expected", [
    ("tS", "en-us", False, ["tʃ"]),
    ("'aI", "en-us", False, ["aɪ"]),
    ("0", "en-us", False, ["ɑ"]),
    ("0", "en-gb", False, ["ɒ"]),
    ("oU", "en-gb", False, ["əʊ"]),
    ("3:", "en-us", False, ["ɚ"]),
    ("ˈɜː", "en-us", True, ["ɚ"]),
    ("ˈɜː", "en-gb", True, ["ɜ"]),
    ("aI@", "en-gb", False, ["aɪ", "ə"]),
    ("ˌoʊ", "en-us", True, ["oʊ"]),
    ("t͡ʃ", "en-us", True, ["tʃ"]),
    ("t\u200dʃ", "en-us", True, ["tʃ"]),
    ("T", "es", False, ["θ"]),
    ("r", "fr", False, ["ʁ"]),
    ("'E~", "fr", False, ["ɛ̃"]),
    ("ɛ̃", "fr", True, ["ɛ̃"]),
    ("OY", "de", False, ["ɔʏ"]),
    ("ɔø", "de", True, ["ɔʏ"]),
    ("pF", "de", False, ["p", "f"]),
    ("k:", "it", False, ["k"]),
    ("kː", "it", True, ["k"]),
    ("&U~", "pt", False, ["ɐ̃", "ũ"]),
    ("y", "ru", False, ["ɨ"]),
    ("ˈy", "ru", True, ["ɨ"]),
    ("t;", "ru", False, ["t", "j"]),
    ("tʲ", "ru", True, ["t", "j"]),
    ("tS;", "ru", False, ["tɕ"]),
    ("tʃʲ", "ru", True, ["tɕ"]),
    (";", "ru", False, ["j"]),
    ("ʲ", "ru", True, ["j"]),
    ("ts.h", "cmn", False, ["ʈʂ"]),
    ("'i.55", "cmn", False, ["ɻ̩"]),
    ("i[51", "cmn", False, ["ɹ̩"]),
    ("'iAu214", "cmn", False, ["j", "aʊ"]),
    ("uei51", "cmn", False, ["w", "eɪ"]),
    ("ˈiɜ", "cmn", True, ["i"]),
    ("ˈyɛɜ", "cmn", True, ["ɥ", "ɛ"]),
    ("ˈɑu2", "cmn", True, ["aʊ"]),
    ("ts.h", "cmn", True, ["ʈʂ"]),
    ("i̪5", "cmn", True, ["ɹ̩"]),
    ("u", "ja", False, ["ɯ"]),
    ("ˈɯᵝ", "ja", True, ["ɯ"]),
    ("ɯᵝɯᵝ", "ja", True, ["ɯ"]),
    ("ää", "ja", True, ["a"]),
    ("_j", "ja", False, ["j"]),
    ("kʲ", "ja", True, ["k", "j"]),
    ("N\\", "ja", False, ["ɴ"]),
    ("t_s\\", "ja", False, ["tɕ"]),
    ("p\\", "ja", False, ["ɸ"]),
    ("_:", "de", False, ["_"]),
    ("_|", "cmn", False, ["_"]),
    ("||", "en-us", False, ["_"]),
    ("_!m", "it", False, ["_", "m"]),
    ("", "fr", True, ["_"]),
    ("(en)", "ja", False, []),
    ("'", "en-us", False, []),
])
def test_from_espeak_examples(symbol, language, ipa, expected):
    assert from_espeak(symbol, language, ipa) == expected


def test_from_espeak_language_names_and_errors():
    assert from_espeak("0", "en", False) == ["ɒ"]  # espeak's "en" is British
    assert from_espeak("ts.", "cmn-latn-pinyin", False) == ["ʈʂ"]
    assert from_espeak("&", "pt-pt", False) == ["ɐ"]
    assert from_espeak("&", "pt-br+f3", False) == ["æ"]  # voice names with variants
    assert from_espeak("0", "en-us+m2", False) == ["ɑ"]
    assert from_espeak("x", "es-419", False) == ["x"]
    assert from_espeak("oU", "en-gb-scotland", False) == ["əʊ"]
    with pytest.raises(UnknownPhoneError) as err:
        from_espeak("Q7x", "en-us", False)
    assert err.value.symbol == "Q7x" and err.value.language == "en-us"
    assert "Q7x" in str(err.value) and "en-us" in str(err.value)
    with pytest.raises(UnknownPhoneError):
        from_espeak("ʘ", "fr", True)
    with pytest.raises(UnknownPhoneError):
        from_espeak("a55", "en-us", False)  # tone digits only in tonal context
    assert from_espeak("a55", "en-us", False, tonal=True) == ["æ"]
    with pytest.raises(ValueError):
        from_espeak("a", "tlh", False)


def test_from_espeak_sequence_follows_language_switches():
    # Phoneme events of the cmn voice reading a character via English: "(en)" ... "(cmn)".
    events = ["ts.", "'ong55", "(en)", "j", "V", "n", "(cmn)", "_|", "X", "Au21"]
    mapped = from_espeak_sequence(events, "cmn", ipa=False)
    assert mapped == [["ʈʂ"], ["ʊ", "ŋ"], [], ["j"], ["ʌ"], ["n"], [], ["_"], ["x"], ["aʊ"]]
    # After the switch, "0" is read with the English table.
    assert from_espeak_sequence(["(en)", "0"], "ja")[1] == ["ɒ"]
    with pytest.raises(UnknownPhoneError):
        from_espeak_sequence(["(xx)", "a"], "en-us")


def test_split_espeak_ipa():
    assert split_espeak_ipa("tʃˈɜːtʃ", "en-us") == ["tʃ", "ɜː", "tʃ"]
    assert split_espeak_ipa("həlˈoʊ wˈɜːld", "en-us") == ["h", "ə", "l", "oʊ", "w", "ɜː", "l", "d"]
    assert split_espeak_ipa("ˈaɪ", "es") == ["aɪ"]
    assert split_espeak_ipa("paˈis", "es") == ["p", "a", "i", "s"]  # stress ends a token
    assert split_espeak_ipa("ts.hˈi.5 nˈiɜ", "cmn") == ["ts.h", "i.", "n", "i"]
    assert split_espeak_ipa("kʲˌo̞ɯᵝ", "ja") == ["kʲ", "o̞", "ɯᵝ"]
    assert split_espeak_ipa("bˈɔ̃ vˈɛ̃", "fr") == ["b", "ɔ̃", "v", "ɛ̃"]
    assert split_espeak_ipa("zˈɐ̃ŋɡɐ̃ʊ̃", "pt") == ["z", "ɐ̃", "ŋ", "ɡ", "ɐ̃", "ʊ̃"]
    # A symbol that is just its parts written together is split into them.
    assert split_espeak_ipa("ˈaɪɚ", "en-us") == ["aɪ", "ɚ"]
    # English words inside Mandarin output carry tone digits too.
    assert split_espeak_ipa("mɛ4nfaɪ1v", "en-gb", tonal=True) == ["m", "ɛ", "n", "f", "aɪ", "v"]
    with pytest.raises(UnknownPhoneError):
        split_espeak_ipa("aʘb", "en-us")
    assert parse_espeak_output("tʃˈɜːtʃ dʒˈʌdʒ", "en-us", ipa=True, sep=None) == ["tʃ", "ɚ", "tʃ", "dʒ", "ʌ", "dʒ"]
    with pytest.raises(ValueError):
        parse_espeak_output("tS'3:tS", "en-us", ipa=False, sep=None)


def test_parse_espeak_output_separators_and_switches():
    sep = ESPEAK_SEP
    x = f"_:{sep}(en){sep}tS{sep}'aI{sep}n{sep}i:{sep}z{sep}(ja){sep}l{sep}'e s{sep}'u"
    assert parse_espeak_output(x, "ja", ipa=False) == ["_", "tʃ", "aɪ", "n", "i", "z", "l", "e", "s", "ɯ"]
    # IPA: empty tokens at word edges are pauses, inside a word they are dropped (";", "@-").
    ipa = f"k{sep}o{sep}m{sep}ˈi{sep}{sep}a{sep} ˈi"
    assert parse_espeak_output(ipa, "es", ipa=True) == ["k", "o", "m", "i", "a", "_", "i"]


# --------------------------------------------------------------------------------------
# ARPAbet
# --------------------------------------------------------------------------------------

def test_arpabet_complete_coverage():
    assert len(phones.ARPABET_CORE) == 39
    vowels = {"AA", "AE", "AH", "AO", "AW", "AY", "EH", "ER", "EY", "IH", "IY", "OW", "OY", "UH", "UW"}
    for symbol in phones.ARPABET_CORE:
        variants = [symbol, symbol.lower()] + ([symbol + d for d in "012"] if symbol in vowels else [])
        for v in variants:
            mapped = from_arpabet(v)
            assert mapped and all(p in INVENTORY and p != "_" for p in mapped), v
            kind = features(mapped[0]).kind
            assert kind == ("vowel" if symbol in vowels else "consonant"), v
    assert len({tuple(from_arpabet(s)) for s in phones.ARPABET_CORE}) == 39  # all distinct
    assert from_arpabet("AH0") == ["ə"] and from_arpabet("AH1") == ["ʌ"]
    assert from_arpabet("AY1") == ["aɪ"] and from_arpabet("ER0") == ["ɚ"]
    assert from_arpabet("TH") == ["θ"] and from_arpabet("DH") == ["ð"]
    assert from_arpabet("HH") == ["h"] and from_arpabet("R") == ["ɹ"]
    for filler in ("SIL", "sil", "SP", "sp", "<s>", "</s>", "<sil>", "+NOISE+", "++BREATH++",
                   "+SPN+", "[NOISE]", "spn", "pau", ""):
        assert from_arpabet(filler) == ["_"], filler
    for bad in ("XX", "AA3", "Q7"):
        with pytest.raises(UnknownPhoneError):
            from_arpabet(bad)


# --------------------------------------------------------------------------------------
# espeak-ng on real sentences: CLI
# --------------------------------------------------------------------------------------

ESPEAK = shutil.which("espeak-ng")
needs_espeak = pytest.mark.skipif(ESPEAK is None, reason="espeak-ng is not installed")


def espeak(voice, text, mode):
    result = subprocess.run([ESPEAK, "-q", mode, f"--sep={ESPEAK_SEP}", "-v", voice, text],
                            capture_output=True, text=True, timeout=60)
    if result.returncode != 0 and "does not exist" in result.stderr:
        pytest.skip(f"espeak-ng has no voice {voice!r}")
    assert result.returncode == 0, result.stderr
    return result.stdout


def comparable_tokens(x_word, ipa_word):
    """Inventory phones of one word from -x and from --ipa, made comparable: IPA has no
    symbol for ";" and "@-" (empty tokens); espeak joins "ʲ" to its consonant in IPA."""
    xt, it = x_word.split(ESPEAK_SEP), ipa_word.split(ESPEAK_SEP)
    if len(xt) == len(it):
        pairs = [(a, b) for a, b in zip(xt, it) if b != "" or a.startswith("(")]
        xt, it = [a for a, _ in pairs], [b for _, b in pairs]
    else:
        xt = [a for a in xt if a.lstrip("',") != "@-"]
        it = [b for b in it if b]
    return xt, it


@needs_espeak
@pytest.mark.parametrize("test_id, language, voice", VOICES, ids=[v[0] for v in VOICES])
def test_espeak_cli_sentences_map(test_id, language, voice):
    produced = set()
    for sentence in SENTENCES[language]:
        x = espeak(voice, sentence, "-x")
        ipa = espeak(voice, sentence, "--ipa")
        from_x = parse_espeak_output(x, language, ipa=False)
        from_ipa = parse_espeak_output(ipa, language, ipa=True)
        from_ipa_nosep = parse_espeak_output(ipa.replace(ESPEAK_SEP, ""), language, ipa=True, sep=None)
        for mapped in (from_x, from_ipa, from_ipa_nosep):
            assert len(visible(mapped)) >= 5, (sentence, x)
            assert all(p in INVENTORY for p in mapped)
        produced.update(from_x)
        if test_id == "cmn-voice":
            continue  # English read with Mandarin tones: mapped, but not compared
        # Every phoneme token maps, and both notations agree word by word.
        x_words, ipa_words = x.split(), ipa.split()
        assert len(x_words) == len(ipa_words), (x, ipa)
        for xw, iw in zip(x_words, ipa_words):
            xt, it = comparable_tokens(xw, iw)
            got_x = visible(sum(from_espeak_sequence(xt, language, ipa=False), []))
            got_i = visible(sum(from_espeak_sequence(it, language, ipa=True), []))
            assert got_x == got_i, (sentence, xw, iw)
        # IPA without separators splits into the same phones, up to pauses and a few
        # cross-phoneme merges the unseparated text cannot tell apart (t+s -> ts).
        merged = {("t", "s"): "ts", ("d", "z"): "dz"}
        a, b = visible(from_ipa), visible(from_ipa_nosep)
        i = j = 0
        while i < len(a) and j < len(b):
            if a[i] == b[j]:
                i, j = i + 1, j + 1
            elif merged.get(tuple(a[i:i + 2])) == b[j]:
                i, j = i + 2, j + 1
            else:
                pytest.fail(f"{sentence}: {a[i:i + 3]} vs {b[j:j + 3]}")
        assert i == len(a) and j == len(b)
        if language in ("cmn", "ja", "ru"):
            # Read natively: no switch to another language's phonemes (es, fr, it read
            # "whisky" as English, which the mapping follows).
            assert "(" not in x, x
    if test_id != "cmn-voice":
        missing = EXPECTED[language] - produced
        assert not missing, f"{language}: expected phones not produced: {missing}"


# --------------------------------------------------------------------------------------
# espeak-ng on real sentences: library phoneme events (what a synthesiser with timings sees)
# --------------------------------------------------------------------------------------

EVENTS_SCRIPT = r"""
import ctypes, json, sys
lib = ctypes.CDLL(sys.argv[1])
class Event(ctypes.Structure):
    _fields_ = [("type", ctypes.c_int), ("unique_identifier", ctypes.c_uint),
                ("text_position", ctypes.c_int), ("length", ctypes.c_int),
                ("audio_position", ctypes.c_int), ("sample", ctypes.c_int),
                ("user_data", ctypes.c_void_p), ("id", ctypes.c_char * 8)]
Callback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int,
                            ctypes.POINTER(Event))
job = json.loads(sys.stdin.read())
# AUDIO_OUTPUT_SYNCHRONOUS; espeakINITIALIZE_PHONEME_EVENTS (1) | espeakINITIALIZE_PHONEME_IPA (2)
lib.espeak_Initialize(2, 500, None, 1 | (2 if job["ipa"] else 0))
events = []
@Callback
def on_events(wav, count, ev):
    i = 0
    while ev[i].type != 0:  # espeakEVENT_LIST_TERMINATED
        if ev[i].type == 7:  # espeakEVENT_PHONEME
            events.append(ev[i].id.decode("utf-8", "replace"))
        i += 1
    return 0
lib.espeak_SetSynthCallback(on_events)
out = []
for voice, text in job["items"]:
    if lib.espeak_SetVoiceByName(voice.encode()) != 0:
        out.append(None)
        continue
    events.clear()
    data = text.encode()
    lib.espeak_Synth(data, len(data) + 1, 0, 0, 0, 1, None, None)  # espeakCHARS_UTF8
    lib.espeak_Synchronize()
    out.append(list(events))
print(json.dumps(out))
"""

LIBESPEAK = ctypes.util.find_library("espeak-ng")


def phoneme_events(items, ipa):
    """Runs the library in a fresh process per notation (its options are fixed at init)."""
    result = subprocess.run([sys.executable, "-c", EVENTS_SCRIPT, LIBESPEAK],
                            input=json.dumps({"ipa": ipa, "items": items}),
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.skipif(LIBESPEAK is None, reason="libespeak-ng is not installed")
def test_espeak_library_phoneme_events_map():
    jobs = [(test_id, language, voice, s) for test_id, language, voice in VOICES for s in SENTENCES[language]]
    items = [(voice, s) for _, _, voice, s in jobs]
    mnemonic = phoneme_events(items, ipa=False)
    ipa = phoneme_events(items, ipa=True)
    tested = set()
    for (test_id, language, voice, sentence), ev_x, ev_i in zip(jobs, mnemonic, ipa):
        if ev_x is None:
            continue  # voice missing in this espeak-ng
        tested.add(test_id)
        mapped_x = from_espeak_sequence(ev_x, language, ipa=False)
        mapped_i = from_espeak_sequence(ev_i, language, ipa=True)
        assert len(visible(sum(mapped_x, []))) >= 5, (sentence, ev_x)
        # The same phoneme list in both notations; IPA has "" for pauses, ";" and "@-".
        assert len(ev_x) == len(ev_i), (sentence, ev_x, ev_i)
        keep = [k for k, sym in enumerate(ev_i) if sym != ""]
        a = visible(sum((mapped_x[k] for k in keep), []))
        b = visible(sum((mapped_i[k] for k in keep), []))
        assert a == b, (test_id, sentence, list(zip(ev_x, ev_i)))
    assert {"en-us", "ru", "cmn", "ja"} <= tested
