"""Real sentences per language from text installed with Debian packages, for synthesis.

Sources, in this order per language (all files sorted, so the result is deterministic):

1. fortune cookie files, /usr/share/games/fortunes (packages fortunes, fortunes-min,
   fortunes-de/-es/-it/-ru/-br/-zh): English files at the top level, localized ones in de/,
   es/, it/, ru/; "brasil" (fortunes-br) is Brazilian Portuguese, "chinese", "tang300",
   "song100" (fortunes-zh) are Mandarin. Offensive ("off/") and ASCII-art files are left out.
2. gettext message catalogs, /usr/share/locale/<locale>/LC_MESSAGES/*.mo (translations
   shipped by the installed programs: coreutils, apt, dpkg, glib, gtk, ...), read with
   Python's gettext module: the translated strings (msgstr) of fr, de, es, it, pt/pt_BR,
   ru, zh_CN, ja; untranslated entries (msgstr == msgid) are skipped. This is the only
   source for French and Japanese here.

Cleaning: ANSI escapes, attributions ("-- Author" lines), format specifiers (%s, {0}),
accelerators (_File, &Open), markup, URLs, paths, options and code-like tokens are
removed or make the text rejected; text is split into sentences; a sentence is kept if it
has 3..25 words (cmn, ja: 6..60 characters without punctuation), only letters of the
language's script plus ordinary punctuation (no digits, no symbols such as / _ = @ # < >
[ ] { } | * + ~ ^ $ %), is mostly not upper case, is in the right script (Latin for en, es,
fr, de, it, pt; Cyrillic for ru; Han for cmn, with no kana; kana present for ja), and for
the non-English Latin-script languages is not mostly English function words. Duplicates
(case- and space-insensitive) keep their first occurrence.

API:
    sentences(language, limit=None, seed=0) -> list[str]
    sentences_with_sources(language, limit=None, seed=0) -> list[Sentence]
        Sentence(text, language, package, path): package is the Debian package owning the
        file (from /var/lib/dpkg/info/*.list), for licensing.
    ja: `script="kana"` keeps only sentences without kanji (espeak-ng's ja voice reads
    kana only and spells kanji out in English); the default "any" keeps all.

The order is a seeded shuffle (random.Random(seed)) of the deduplicated sentences, so
`limit` takes a random but reproducible subset.
"""
from __future__ import annotations

import functools
import gettext
import glob
import os
import random
import re
import unicodedata
from dataclasses import dataclass
from typing import Dict, Iterator, List, Optional, Tuple

LANGUAGES = ["en", "es", "fr", "de", "it", "pt", "ru", "cmn", "ja"]

FORTUNE_DIR = "/usr/share/games/fortunes"
LOCALE_DIR = "/usr/share/locale"
DPKG_INFO = "/var/lib/dpkg/info"

# Fortune files (relative to FORTUNE_DIR; a directory means all its files) per language.
_FORTUNES: Dict[str, List[str]] = {
    "en": ["*"],  # top-level English files, minus the exclusions below
    "de": ["de/"],
    "es": ["es/"],
    "it": ["it/"],
    "ru": ["ru/"],
    "pt": ["brasil"],
    "cmn": ["chinese", "tang300", "song100"],
}
# Top-level files that are not English prose.
_NOT_ENGLISH = {"brasil", "chinese", "tang300", "song100", "art", "ascii-art", "translate-me"}
# Localized fortune files that are not prose (ASCII art, recipes' ingredient lists...).
_SKIP_FILES = {"de/asciiart", "es/varios.fortunes-pre"}

# gettext locales per language.
_LOCALES: Dict[str, List[str]] = {
    "fr": ["fr"], "de": ["de"], "es": ["es"], "it": ["it"], "pt": ["pt_BR", "pt"],
    "ru": ["ru"], "cmn": ["zh_CN"], "ja": ["ja"],
}

# Catalogs that are lists of names (countries, languages, currencies, keyboard layouts),
# not sentences.
_SKIP_DOMAINS = ("iso_", "xkeyboard-config")

CJK = {"cmn", "ja"}
MIN_WORDS, MAX_WORDS = 3, 25
MIN_CHARS, MAX_CHARS = 6, 60


@dataclass(frozen=True)
class Sentence:
    text: str
    language: str
    package: str
    path: str


# --------------------------------------------------------------------------------------
# Provenance
# --------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=1)
def _owners() -> Dict[str, str]:
    """file path -> Debian package, for the directories used here."""
    owners: Dict[str, str] = {}
    prefixes = (FORTUNE_DIR, LOCALE_DIR)
    for listing in sorted(glob.glob(os.path.join(DPKG_INFO, "*.list"))):
        package = os.path.basename(listing)[:-5].split(":")[0]
        try:
            with open(listing, encoding="utf-8", errors="replace") as f:
                for line in f:
                    if line.startswith(prefixes):
                        owners[line.rstrip("\n")] = package
        except OSError:
            continue
    return owners


def package_of(path: str) -> str:
    owners = _owners()
    if path in owners:
        return owners[path]
    real = os.path.realpath(path)
    return owners.get(real, "unknown")


# --------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]|\[[0-9;]*m")


def _read_text(path: str) -> str:
    with open(path, "rb") as f:
        data = f.read()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    return _ANSI.sub("", text)


def _fortune_files(language: str) -> List[str]:
    out: List[str] = []
    for spec in _FORTUNES.get(language, []):
        if spec == "*":
            candidates = [p for p in glob.glob(os.path.join(FORTUNE_DIR, "*"))
                          if os.path.isfile(p) and not os.path.islink(p)
                          and os.path.basename(p) not in _NOT_ENGLISH]
        elif spec.endswith("/"):
            candidates = [p for p in glob.glob(os.path.join(FORTUNE_DIR, spec, "*"))
                          if os.path.isfile(p) and not os.path.islink(p)]
        else:
            p = os.path.join(FORTUNE_DIR, spec)
            candidates = [p] if os.path.isfile(p) else []
        for p in candidates:
            rel = os.path.relpath(p, FORTUNE_DIR)
            if p.endswith((".dat", ".u8")) or rel in _SKIP_FILES or "/off/" in p:
                continue
            out.append(p)
    return sorted(set(out))


_ATTRIBUTION = re.compile(r"^\s*(--|—|―|~~)\s*\S|^\s{4,}-\s*\S")


def _fortune_paragraphs(path: str) -> Iterator[str]:
    """Fortunes of a file as paragraphs of joined lines, attributions dropped."""
    text = _read_text(path)
    for cookie in re.split(r"^%\s*$", text, flags=re.M):
        paragraph: List[str] = []
        for line in cookie.splitlines():
            if _ATTRIBUTION.match(line):
                # "-- Author" lines and everything after (sources, dates) are dropped.
                break
            if not line.strip():
                if paragraph:
                    yield " ".join(paragraph)
                    paragraph = []
                continue
            paragraph.append(line.strip())
        if paragraph:
            yield " ".join(paragraph)


def _mo_files(language: str) -> List[str]:
    out: List[str] = []
    for loc in _LOCALES.get(language, []):
        out.extend(glob.glob(os.path.join(LOCALE_DIR, loc, "LC_MESSAGES", "*.mo")))
    return sorted(p for p in set(out) if not os.path.basename(p).startswith(_SKIP_DOMAINS))


def _mo_strings(path: str) -> Iterator[str]:
    try:
        with open(path, "rb") as f:
            catalog = gettext.GNUTranslations(f)._catalog  # noqa: SLF001 (the parsed catalog)
    except Exception:
        return
    items = []
    for key, value in catalog.items():
        msgid = key[0] if isinstance(key, tuple) else key
        if not msgid or not isinstance(value, str) or value == msgid:
            continue
        if isinstance(key, tuple) and key[1] > 0:
            continue  # keep one plural form
        items.append((msgid, value))
    for _, value in sorted(items):
        yield value


# --------------------------------------------------------------------------------------
# Cleaning and filtering
# --------------------------------------------------------------------------------------

_URL = re.compile(r"(https?://|ftp://|www\.)\S+|\S+@\S+\.\S+", re.I)
_FORMAT = re.compile(r"%(\d+\$)?[-+ #0']*\d*(\.\d+)?(hh|h|ll|l|L|z|j|t|I64|I)?[diouxXeEfFgGaAcspn%]|%\(\w+\)[sd]|\{[^{}]*\}|\$\{?\w+\}?")
_MARKUP = re.compile(r"<[^<>]+>|&[a-z]+;")
_ACCEL = re.compile(r"(?<!\w)[_&](?=\w)")
_CONTEXT = re.compile(r"\s*\(_[A-Za-z]\)")  # CJK-style accelerators "(_F)"
_SPLIT = re.compile(r"(?<=[.!?…;])\s+|(?<=[。！？；])")
_BAD = re.compile(r"[/\\_=@#<>\[\]{}|*+~^$%`0-9０-９\t]")
_WORD = re.compile(r"[^\W\d_]+(?:['’\-][^\W\d_]+)*")
_QUOTE_CHARS = re.compile(r"[\"“”„«»「」『』‹›‘‚]|(?<!\w)'|'(?!\w)")
_OPTION = re.compile(r"(^|\s)--?[A-Za-z]")
_DOTTED = re.compile(r"\w\.\w")  # comp.os.linux, e.g, z.B, file.txt
_ABBREVIATIONS = set("""vs ca etc bzw usw zb dr mr mrs ms st prof sr sra srta ej p pp cf vgl
ggf evtl ca nr no sig sgn dott ing avv""".split())
_QA = re.compile(r"^(Q|A|F|R|D|P|В|О)\s*:\s*")
_ENGLISH_FUNCTION = set("""the a an and or of to in on for with is are was were be been it this that you
your we our they their he she not no do does can will would should from by at as if then
there here all any which what when who how file files error cannot""".split())


_SCRIPTS = {
    "latin": re.compile(r"[A-Za-z\u00C0-\u024F\u1E00-\u1EFF]"),
    "cyrillic": re.compile(r"[\u0400-\u052F]"),
    "han": re.compile(r"[\u4E00-\u9FFF\u3400-\u4DBF\uF900-\uFAFF]"),
    "kana": re.compile(r"[\u3040-\u30FF\u31F0-\u31FF\uFF66-\uFF9D]"),
}
_LETTER = re.compile(r"[^\W\d_]")


def script_counts(text: str) -> Dict[str, int]:
    """Letters per script ("latin", "cyrillic", "han", "kana", "other")."""
    counts = {name: len(rx.findall(text)) for name, rx in _SCRIPTS.items()}
    # kana/han marks (ー, 々) are letters for \w too; "other" = letters of other scripts.
    counts["other"] = max(len(_LETTER.findall(text)) - sum(counts.values()), 0)
    return {k: v for k, v in counts.items() if v}


def in_script(text: str, language: str) -> bool:
    """True when the letters of `text` are in the script expected for `language`."""
    c = script_counts(text)
    letters = sum(c.values())
    if not letters:
        return False
    if language == "ru":
        return c.get("cyrillic", 0) == letters
    if language == "cmn":
        return c.get("han", 0) == letters
    if language == "ja":
        return c.get("kana", 0) > 0 and c.get("kana", 0) + c.get("han", 0) == letters
    return c.get("latin", 0) == letters


def _clean(text: str) -> str:
    text = unicodedata.normalize("NFC", text)
    text = _CONTEXT.sub("", text)
    text = _MARKUP.sub(" ", text)
    text = text.replace("\\n", " ").replace("\u00a0", " ").replace("\u3000", " ")
    text = _ACCEL.sub("", text)
    text = re.sub(r"\s+", " ", text).strip()
    return text


def _acceptable(sentence: str, language: str) -> bool:
    if _URL.search(sentence) or _FORMAT.search(sentence) or _BAD.search(sentence) or _DOTTED.search(sentence):
        return False
    if not in_script(sentence, language):
        return False
    if language in CJK:
        c = script_counts(sentence)
        chars = c.get("han", 0) + c.get("kana", 0)
        if not MIN_CHARS <= chars <= MAX_CHARS:
            return False
        # A space between CJK characters marks a removed token (a name, an option): reject.
        return not re.search(r"\s", sentence)
    words = _WORD.findall(sentence)
    if not MIN_WORDS <= len(words) <= MAX_WORDS:
        return False
    if sentence.endswith(".") and words[-1].lower() in _ABBREVIATIONS:
        return False  # cut after an abbreviation ("... mit ca.")
    # every whitespace token must contain a word (no stray symbol tokens like "--", "...")
    tokens = sentence.split()
    if any(not _WORD.search(t) for t in tokens):
        return False
    letters = [ch for ch in sentence if ch.isalpha()]
    upper = sum(1 for ch in letters if ch.isupper())
    if upper > 0.3 * len(letters):
        return False
    if any(len(w) > 1 and w.isupper() for w in words):
        return False  # acronyms are spelled out letter by letter
    if language != "en":
        english = sum(1 for w in words if w.lower() in _ENGLISH_FUNCTION)
        if english >= max(2, len(words) // 3):
            return False
    if not sentence[0].isalpha() and sentence[0] not in "¿¡«\"'(„“":
        return False
    return True


def _strip_edges(s: str) -> str:
    s = s.strip()
    s = re.sub(r"^[-–—•·*:;,\s]+", "", s)
    s = re.sub(r"[\s:;,\-–—]+$", "", s)
    # Quotation marks are not spoken: removed. Unbalanced brackets are removed too.
    s = _QUOTE_CHARS.sub("", s)
    for a, b in ("()", "（）"):
        if s.count(a) != s.count(b):
            s = s.replace(a, "").replace(b, "")
    return re.sub(r"\s+", " ", s).strip()


def split_sentences(text: str) -> List[str]:
    return [_strip_edges(p) for p in _SPLIT.split(text) if p.strip()]


def _candidates(language: str) -> Iterator[Tuple[str, str, str]]:
    """(raw text block, path, kind) from all sources of a language, in a fixed order."""
    for path in _fortune_files(language):
        for paragraph in _fortune_paragraphs(path):
            yield paragraph, path, "fortune"
    for path in _mo_files(language):
        for s in _mo_strings(path):
            yield s, path, "mo"


_IT_ACCENT = re.compile(r"(?<=\w)([aeiouAEIOU])'(?=[\s.,;:!?)]|$)")


def _italian_accents(text: str) -> str:
    """Italian fortunes write accents as apostrophes ("piu'", "perche'"): restore them
    (grave, but acute é after "ch" as in perché/poiché); elisions (dell'anno) stay."""
    def repl(m: re.Match) -> str:
        v = m.group(1)
        before = m.string[max(m.start() - 2, 0):m.start()].lower()
        if v in "eE" and before == "ch":
            return "é" if v == "e" else "É"
        return {"a": "à", "e": "è", "i": "ì", "o": "ò", "u": "ù",
                "A": "À", "E": "È", "I": "Ì", "O": "Ò", "U": "Ù"}[v]
    return _IT_ACCENT.sub(repl, text)


def _sentences_of(block: str, language: str, kind: str) -> Iterator[str]:
    text = _clean(block)
    if language == "it" and kind == "fortune":
        text = _italian_accents(text)
    for piece in _SPLIT.split(text):
        if not piece.strip() or _OPTION.search(piece):
            continue
        s = _strip_edges(_QA.sub("", piece.strip()))
        if not s or not _acceptable(s, language):
            continue
        if kind == "mo" and re.search(r"[()（）]", s):
            continue  # UI strings put option values and English names in parentheses
        if kind == "fortune" and language not in CJK:
            # fortunes are prose: a piece starting in lower case is a fragment of a
            # sentence split at an abbreviation or an ellipsis
            first = next((ch for ch in s if ch.isalpha()), "")
            if not first.isupper():
                continue
        yield s


@functools.lru_cache(maxsize=None)
def _collect(language: str) -> Tuple[Sentence, ...]:
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}; expected one of {LANGUAGES}")
    seen = set()
    out: List[Sentence] = []
    for block, path, kind in _candidates(language):
        for s in _sentences_of(block, language, kind):
            key = re.sub(r"\W+", " ", s.casefold()).strip()
            if key in seen:
                continue
            seen.add(key)
            out.append(Sentence(s, language, package_of(path), path))
    return tuple(out)


def sentences_with_sources(language: str, limit: Optional[int] = None, seed: int = 0,
                           script: str = "any") -> List[Sentence]:
    """Deduplicated sentences with their source file and Debian package, in a seeded
    shuffled order. script="kana" (ja only): no kanji."""
    items = list(_collect(language))
    if script == "kana":
        items = [s for s in items if not script_counts(s.text).get("han")]
    elif script != "any":
        raise ValueError("script must be 'any' or 'kana'")
    random.Random(seed).shuffle(items)
    return items[:limit] if limit is not None else items


def sentences(language: str, limit: Optional[int] = None, seed: int = 0, script: str = "any") -> List[str]:
    """Sentence texts (see sentences_with_sources)."""
    return [s.text for s in sentences_with_sources(language, limit, seed, script)]


def source_summary(language: str) -> Dict[str, int]:
    """Number of sentences per Debian package for a language."""
    counts: Dict[str, int] = {}
    for s in _collect(language):
        counts[s.package] = counts.get(s.package, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: -kv[1]))
