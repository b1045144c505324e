"""The language-universal phone inventory (IPA names) with the articulatory features that are
visible on a face, and the mappings into it from espeak-ng (phoneme mnemonics and IPA, for
en-us, en-gb, es, fr, de, it, pt, pt-br, ru, cmn, ja) and from ARPAbet (CMUdict, PocketSphinx,
Flite, Festival).

Inventory
---------
`INVENTORY` lists every phone once, "_" (pause / silence) first; the order is stable, so new
phones are only ever appended. `features(phone)` gives its `PhoneFeatures`; `feature_matrix()`
stacks them in `FEATURE_NAMES` order. All features live in the one table `_TABLE` below.
Phone names are NFC-normalised Unicode strings (inputs are normalised too).

The inventory is deliberately visual: distinctions a viewer cannot see are merged (tap and
trill r, dark and clear l, retroflex n/l, aspiration, dental vs alveolar, palatal stops into
k/g, uvular r's into ʁ), and vowel length is dropped (a segment's duration carries it).
Diphthongs that are single phonemes in English, German and Mandarin are phones of their own
whose features are those of the start target and whose `glide_to` names the end target;
other vowel sequences espeak treats as one phoneme are mapped to a list of phones.

espeak-ng notation decisions
----------------------------
* Mnemonics (`espeak-ng -x`, phoneme events without espeakINITIALIZE_PHONEME_IPA) are
  language specific (e.g. "0" is ɑ in en-us but ɒ in en-gb), so each language has its own
  table layered over a table of espeak's shared base mnemonics. IPA (`--ipa`, events with
  the IPA flag) is mostly language independent, with a few per-language corrections where
  espeak-ng's IPA is visually wrong (Russian ы is printed "y": mapped to ɨ; Brazilian
  reduced final e is printed "y": mapped to ɪ) or where espeak prints its mnemonic because
  the phoneme has no IPA (Mandarin "ts.h", "s.", "i.", ...).
* Stress marks are dropped. Length marks are dropped (in IPA, a doubled vowel such as
  Japanese "ɯᵝɯᵝ" is one long vowel). A trailing ":" on a mnemonic (Italian geminates "k:")
  is dropped.
* Pauses: espeak's pause mnemonics ("_", "_:", "_!", "_|", "_^_"... and "||") map to "_";
  one glued to the next phoneme ("_!m") is split. In IPA espeak writes a pause as an empty
  string, so from_espeak("", ..., ipa=True) is "_"; but it also writes the linking glide
  ";" (es comía, en "the old") and the short epenthetic schwa "@-" (ru, it) as "", so
  **mnemonics are the better notation for phoneme events**: they are unambiguous.
  `parse_espeak_output` treats an empty IPA token inside a word as one of those (dropped)
  and one at a word edge as a pause.
* Language switches "(en)", "(ja)"... (espeak reads foreign words with another language's
  phonemes and says so in its output and in its phoneme events) map to [] and change the
  language for what follows: `from_espeak_sequence` / `parse_espeak_output` track them.
  A switch to "en" uses en-gb, espeak's default English.
* Mandarin: tones are dropped. In mnemonics they are digit suffixes ("a55", "Au214"); in
  espeak-ng 1.51's IPA only the first digit survives and 3 is printed "ɜ" ("iɜ" is i with
  tone 35), so in cmn a trailing digit, or a trailing ɜ after a vowel, is removed. The
  apical vowels (zi, ci, si / zhi, chi, shi, ri) are the phones ɹ̩ and ɻ̩. Rising
  diphthongs and triphthongs become glide + vowel (iɑu -> j aʊ, uei -> w eɪ, yɛ -> ɥ ɛ).
  Note: on Debian's espeak-ng 1.51 the "cmn" voice reads Hanzi as pinyin spelled with
  English rules (a known espeak-ng 1.51 bug); "cmn-latn-pinyin" reads them correctly.
* Palatalisation: a palatalised consonant is the consonant + j (Russian "tʲ" / "t;" -> t j,
  Japanese yōon "kʲ" -> k j; the lips spread towards the following front vowel). espeak
  also emits palatalisation as a phoneme of its own with a duration (";" / "ʲ" in ru and
  cmn, "_j" in ja): j. Russian ч ("tS;", IPA "tʃʲ") is tɕ.
* Japanese: ɯᵝ -> ɯ, ä/e̞/o̞ -> a/e/o, ɴ (moraic n) kept, ɸ ç ɕ tɕ dʑ ts kept, the flap ɽ -> r,
  sokuon is the doubled consonant espeak writes. espeak-ng's ja voice knows kana only:
  kanji are spelled out in English ("(en)chinese letter"), so convert text to kana first.
* Tokenising CLI output: run espeak-ng with `--sep=¦` (`ESPEAK_SEP`) so every phoneme is
  one token (`parse_espeak_output`). IPA without separators can be split with
  `split_espeak_ipa`; -x output without separators is ambiguous and refused.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import astuple, dataclass
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np

__all__ = [
    "PhoneFeatures", "FEATURE_NAMES", "INVENTORY", "UnknownPhoneError", "ESPEAK_SEP",
    "ESPEAK_LANGUAGES", "index", "features", "feature_matrix", "is_vowel", "from_espeak",
    "from_espeak_sequence", "split_espeak_ipa", "parse_espeak_output", "from_arpabet",
    "ARPABET", "normalize_language",
]


class UnknownPhoneError(ValueError):
    """A symbol with no mapping into the inventory."""

    def __init__(self, symbol: str, language: str, detail: str = ""):
        self.symbol = symbol
        self.language = language
        message = f"unknown phone symbol {symbol!r} for {language}"
        super().__init__(message + (f": {detail}" if detail else ""))


@dataclass(frozen=True)
class PhoneFeatures:
    """Visible articulation of one phone. Floats are 0..1.

    bilabial_closure: lips fully closed (p b m = 1). labiodental: lower lip to upper teeth
    (f v = 1). rounding: lip rounding / protrusion. spreading: lip spreading (i = 1).
    jaw_open: jaw opening (open vowels high, close vowels and most consonants low).
    tongue_tip_visible: tongue tip between or at the teeth (θ ð = 1). teeth_close: teeth
    brought (nearly) together, as for sibilants. kind: "vowel", "consonant" or "pause".
    glide_to: for diphthongs, the inventory phone of the end target (features are those of
    the start target).
    """
    kind: str
    bilabial_closure: float
    labiodental: float
    rounding: float
    spreading: float
    jaw_open: float
    tongue_tip_visible: float
    teeth_close: float
    voiced: bool
    pause: bool
    glide_to: Optional[str] = None

    def vector(self) -> np.ndarray:
        return np.array([float(getattr(self, name)) for name in FEATURE_NAMES], dtype=np.float32)


# Column order of feature_matrix(); booleans become 0/1.
FEATURE_NAMES: Tuple[str, ...] = (
    "bilabial_closure", "labiodental", "rounding", "spreading", "jaw_open",
    "tongue_tip_visible", "teeth_close", "voiced", "pause",
)

# --------------------------------------------------------------------------------------
# The inventory and its features: ONE table. Columns:
#   phone  kind  closure labiodental rounding spreading jaw tip teeth voiced
# kind: P pause, V vowel, C consonant. voiced: + / -.
# Diphthong rows are "phone D start end": the features of `start`, glide_to `end`.
# Order is the inventory order; append new phones at the end of their section only if
# nothing depends on indices yet, otherwise at the very end.
# --------------------------------------------------------------------------------------
_TABLE = """
#  phone kind clos  lab   rnd   spr   jaw   tip   teeth voi   example
   _     P    0     0     0     0     0     0     0     -     pause / silence
# ---- vowels: close
   i     V    0     0     0     1.0   0.10  0     0     +     see, es si
   y     V    0     0     0.9   0     0.10  0     0     +     fr tu, de über
   ɨ     V    0     0     0     0.5   0.12  0     0     +     ru ты, pt-pt de
   ɯ     V    0     0     0.3   0.4   0.14  0     0     +     ja く (compressed, not protruded)
   u     V    0     0     1.0   0     0.12  0     0     +     food, es tu
# ---- near-close
   ɪ     V    0     0     0     0.7   0.20  0     0     +     sit
   ʏ     V    0     0     0.7   0     0.20  0     0     +     de Hütte
   ʊ     V    0     0     0.75  0     0.20  0     0     +     book
# ---- close-mid / mid
   e     V    0     0     0     0.75  0.30  0     0     +     es de, fr été
   ø     V    0     0     0.8   0     0.30  0     0     +     fr peu, de schön
   ɵ     V    0     0     0.6   0     0.35  0     0     +     ru тётя
   o     V    0     0     0.85  0     0.35  0     0     +     es no, de Boot
   ə     V    0     0     0.1   0.1   0.38  0     0     +     about
   ɚ     V    0     0     0.4   0     0.33  0     0     +     en-us butter, bird; cmn er
# ---- open-mid
   ɛ     V    0     0     0     0.5   0.50  0     0     +     bed
   œ     V    0     0     0.6   0     0.50  0     0     +     fr peur
   ɜ     V    0     0     0.1   0.1   0.45  0     0     +     en-gb bird
   ʌ     V    0     0     0     0.2   0.55  0     0     +     cup
   ɔ     V    0     0     0.7   0     0.60  0     0     +     thought, it però
# ---- near-open / open
   æ     V    0     0     0     0.5   0.75  0     0     +     cat
   ɐ     V    0     0     0     0.2   0.60  0     0     +     pt casa (final a)
   a     V    0     0     0     0.3   0.85  0     0     +     es casa
   ɑ     V    0     0     0     0.1   0.90  0     0     +     father
   ɒ     V    0     0     0.45  0     0.85  0     0     +     en-gb lot
# ---- Mandarin apical vowels: zi ci si / zhi chi shi ri
   ɹ̩     V    0     0     0     0.5   0.12  0     0.7   +     cmn 字 zi
   ɻ̩     V    0     0     0.3   0.2   0.15  0     0.5   +     cmn 日 ri
# ---- nasal vowels (fr, pt; ja ン before some consonants)
   ĩ     V    0     0     0     0.9   0.12  0     0     +     pt sim
   ẽ     V    0     0     0     0.7   0.30  0     0     +     pt tempo
   ɛ̃     V    0     0     0     0.45  0.50  0     0     +     fr vin
   ɐ̃     V    0     0     0     0.2   0.55  0     0     +     pt mãe
   ɑ̃     V    0     0     0.3   0     0.80  0     0     +     fr blanc
   ɔ̃     V    0     0     0.8   0     0.45  0     0     +     fr bon
   õ     V    0     0     0.85  0     0.35  0     0     +     pt som
   ũ     V    0     0     1.0   0     0.12  0     0     +     pt um
   œ̃     V    0     0     0.5   0     0.50  0     0     +     fr brun
# ---- diphthongs: features of the start target, glide_to the end target
   aɪ    D    a     ɪ                                           price, cmn ai
   aʊ    D    a     ʊ                                           mouth, cmn ao
   eɪ    D    e     ɪ                                           face, cmn ei
   oʊ    D    o     ʊ                                           en-us goat, cmn ou
   ɔɪ    D    ɔ     ɪ                                           choice
   əʊ    D    ə     ʊ                                           en-gb goat
   ɪə    D    ɪ     ə                                           en-gb near
   eə    D    ɛ     ə                                           en-gb square
   ʊə    D    ʊ     ə                                           en-gb cure
   ɔʏ    D    ɔ     ʏ                                           de neu
# ---- consonants: labial
   p     C    1     0     0     0     0.04  0     0     -     pie
   b     C    1     0     0     0     0.04  0     0     +     buy
   m     C    1     0     0     0     0.04  0     0     +     my
   ɸ     C    0.6   0     0.3   0     0.08  0     0     -     ja ふ
   β     C    0.6   0     0     0     0.10  0     0     +     es lobo
   f     C    0     1     0     0     0.10  0     0.3   -     fee
   v     C    0     1     0     0     0.10  0     0.3   +     vee
# ---- dental / alveolar
   θ     C    0     0     0     0.1   0.15  1.0   0     -     thin, es cinco
   ð     C    0     0     0     0.1   0.15  1.0   0     +     this, es cada
   t     C    0     0     0     0.1   0.15  0.1   0.4   -     tie
   d     C    0     0     0     0.1   0.15  0.1   0.4   +     die
   n     C    0     0     0     0.1   0.15  0.1   0.3   +     nigh
   s     C    0     0     0     0.4   0.08  0     1.0   -     sigh
   z     C    0     0     0     0.4   0.08  0     1.0   +     zoo
   ts    C    0     0     0     0.3   0.10  0.05  0.95  -     de Zeit, it pizza, ja つ
   dz    C    0     0     0     0.3   0.10  0.05  0.95  +     it zero
   r     C    0     0     0     0     0.20  0.15  0.1   +     es pero/perro, it, ru, de; en-us flap
   ɹ     C    0     0     0.5   0     0.15  0     0.2   +     en red
   l     C    0     0     0     0.1   0.20  0.3   0     +     lie
# ---- postalveolar / retroflex / alveolo-palatal
   ʃ     C    0     0     0.6   0     0.10  0     0.85  -     shy
   ʒ     C    0     0     0.6   0     0.10  0     0.85  +     vision
   tʃ    C    0     0     0.6   0     0.10  0     0.85  -     chin
   dʒ    C    0     0     0.6   0     0.10  0     0.85  +     gin
   ʂ     C    0     0     0.4   0     0.10  0     0.85  -     cmn 是 sh
   ʐ     C    0     0     0.4   0     0.12  0     0.7   +     cmn 日 r
   ʈʂ    C    0     0     0.4   0     0.10  0     0.85  -     cmn 中 zh, ch
   ɕ     C    0     0     0     0.6   0.08  0     0.9   -     cmn 学 x, ja し, ru щ
   ʑ     C    0     0     0     0.6   0.08  0     0.9   +     ru заезжать (жж)
   tɕ    C    0     0     0     0.6   0.08  0     0.9   -     cmn 今 j, q; ja ち
   dʑ    C    0     0     0     0.6   0.08  0     0.9   +     ja じ
# ---- palatal
   ç     C    0     0     0     0.5   0.12  0     0.5   -     de ich, ja ひ
   j     C    0     0     0     0.7   0.12  0     0.3   +     yes
   ɲ     C    0     0     0     0.4   0.15  0     0.2   +     es año
   ʎ     C    0     0     0     0.4   0.15  0.1   0.2   +     it figlio
   ɥ     C    0     0     0.9   0     0.10  0     0.2   +     fr huit, cmn 月 yue
# ---- velar / uvular / glottal
   k     C    0     0     0     0     0.20  0     0     -     cat
   ɡ     C    0     0     0     0     0.20  0     0     +     go
   ŋ     C    0     0     0     0     0.20  0     0     +     sing
   x     C    0     0     0     0     0.20  0     0     -     de Bach, es jota, cmn 好 h
   ɣ     C    0     0     0     0     0.22  0     0     +     es lago
   ʁ     C    0     0     0.15  0     0.25  0     0     +     fr rouge, de rot
   ɴ     C    0     0     0     0     0.20  0     0     +     ja ん (moraic)
   h     C    0     0     0     0     0.35  0     0     -     hat
   ʔ     C    0     0     0     0     0.20  0     0     -     de glottal onset
   w     C    0.2   0     1.0   0     0.10  0     0     +     we
"""


def _nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _parse_table(text: str) -> Tuple[List[str], Dict[str, PhoneFeatures]]:
    kinds = {"P": "pause", "V": "vowel", "C": "consonant"}
    order: List[str] = []
    table: Dict[str, PhoneFeatures] = {}
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        cols = line.split()
        name, kind = _nfc(cols[0]), cols[1]
        if name in table:
            raise ValueError(f"phone {name!r} listed twice")
        if kind == "D":
            start, end = (_nfc(c) for c in cols[2:4])
            base = table[start]
            table[name] = PhoneFeatures(*astuple(base)[:-1], glide_to=end)
        else:
            nums = [float(c) for c in cols[2:9]]
            voiced = {"+": True, "-": False}[cols[9]]
            table[name] = PhoneFeatures(kinds[kind], *nums, voiced=voiced, pause=kind == "P")
        order.append(name)
    for name, f in table.items():
        if f.glide_to is not None and f.glide_to not in table:
            raise ValueError(f"{name}: glide_to {f.glide_to!r} is not in the inventory")
    return order, table


INVENTORY, _FEATURES = _parse_table(_TABLE)
_INDEX = {name: i for i, name in enumerate(INVENTORY)}


def index(phone: str) -> int:
    """Position of an inventory phone in INVENTORY (and in feature_matrix's rows)."""
    try:
        return _INDEX[_nfc(phone)]
    except KeyError:
        raise UnknownPhoneError(phone, "the inventory") from None


def features(phone: str) -> PhoneFeatures:
    """The visible features of an inventory phone."""
    try:
        return _FEATURES[_nfc(phone)]
    except KeyError:
        raise UnknownPhoneError(phone, "the inventory") from None


def is_vowel(phone: str) -> bool:
    return features(phone).kind == "vowel"


def feature_matrix() -> np.ndarray:
    """float32 [len(INVENTORY), len(FEATURE_NAMES)], rows in INVENTORY order."""
    return np.stack([_FEATURES[p].vector() for p in INVENTORY])


# --------------------------------------------------------------------------------------
# espeak-ng
# --------------------------------------------------------------------------------------

# Separator for `espeak-ng --sep=...`: not used by any espeak phoneme or IPA output.
ESPEAK_SEP = "\u00a6"  # ¦

ESPEAK_LANGUAGES = ("en-us", "en-gb", "es", "fr", "de", "it", "pt", "pt-br", "ru", "cmn", "ja")
_TONAL = {"cmn"}
_LANGUAGE_ALIASES = {
    "en": "en-gb", "en-uk": "en-gb", "en-gb-x-rp": "en-gb", "en-us-nyc": "en-us",
    "es-es": "es", "fr-fr": "fr", "fr-be": "fr", "fr-ch": "fr", "de-de": "de", "it-it": "it",
    "pt-pt": "pt", "ru-ru": "ru", "zh": "cmn", "zh-cmn": "cmn", "cmn-latn-pinyin": "cmn",
    "zh-cn": "cmn", "ja-jp": "ja", "jpx": "ja",
}


def normalize_language(language: str) -> str:
    """espeak voice / language name -> one of ESPEAK_LANGUAGES. Voice variants are ignored
    ("pt-br+f3" is pt-br), regional voices fall back to their language ("es-419" is es,
    "en-gb-scotland" is en-gb). As in espeak, "en" is British English and "pt" European
    Portuguese: pass the voice (en-us, pt-br), not a bare language code, for those voices,
    since their mnemonics differ ("0" is ɑ in en-us, ɒ in en-gb)."""
    lang = language.strip().lower().replace("_", "-").partition("+")[0]
    while lang:
        if lang in ESPEAK_LANGUAGES:
            return lang
        if lang in _LANGUAGE_ALIASES:
            return _LANGUAGE_ALIASES[lang]
        lang = lang.rpartition("-")[0]
    raise ValueError(f"no espeak-ng phone mapping for language {language!r}; "
                     f"supported: {', '.join(ESPEAK_LANGUAGES)}")


def _parse_map(text: str) -> Dict[str, List[str]]:
    """'sym=ph+ph sym=ph ...' -> {sym: [ph, ph]}. The empty right side means no phone."""
    out: Dict[str, List[str]] = {}
    for item in text.split():
        sym, _, phones = item.rpartition("=")
        if not sym:
            raise ValueError(f"bad map entry {item!r}")
        sym = _nfd(sym)
        out[sym] = [_nfc(p) for p in phones.split("+") if p]
    return out


# Mnemonics of espeak-ng's shared base tables (phsource "base1"), valid in every language
# unless the language table overrides them. Pauses are handled by rule (leading "_").
_MN_BASE = _parse_map("""
    @=ə @-=ə a=a e=e i=i o=o u=u y=y E=ɛ O=ɔ I=ɪ U=ʊ V=ʌ A=ɑ W=œ Y=ø
    a/=a e/=e i/=i o/=o I2=ɪ
    i:=i u:=u a:=a e:=e o:=o A:=ɑ E:=ɛ O:=ɔ y:=y
    m-=m n-=n N-=ŋ l-=l r-=r
    r=r r/=r R=r R2=r R3=r R4=ʁ r"=ʁ **=r *=r r.=ʐ
    l=l l/=l l/2=l l/3=l L=l L/=l l^=ʎ l.=l l#=l
    j=j w=w w#=w h=h m=m n=n n.=n n^=ɲ N=ŋ
    p=p b=b t=t d=d k=k g=ɡ t[=t d[=d c=k J=ɡ q=k ?=ʔ t#=t t2=t d#=d
    f=f v=v v#=v B=β D=ð T=θ s=s z=z S=ʃ Z=ʒ s.=ʂ z.=ʐ s;=ɕ z;=ʑ S;=ɕ Z;=ʑ
    C=ç J^=j x=x Q=ɣ Q^=ɣ Q"=ʁ X=x #X1=h
    tS=tʃ dZ=dʒ tS;=tɕ dZ;=dʑ ts=ts dz=dz pF=p+f
    ;=j
""")

# Per-language mnemonics (over _MN_BASE). Values follow what espeak-ng prints with --ipa for
# the same phoneme, mapped into the inventory.
_MN_LANG: Dict[str, Dict[str, List[str]]] = {
    "en-us": _parse_map("""
        a=æ a2=æ aa=æ a#=ɐ a#2=æ A:=ɑ A#=ɑ 0=ɑ 0#=ɑ 02=ʌ O2=ɔ O:=ɔ O=ɔ V=ʌ
        E=ɛ E#=ɛ E2=ɛ e#=ɛ I=ɪ I2=ɪ I#=ɪ I2#=ɪ i=i i:=i U=ʊ @5=ʊ u:=u
        @=ə @2=ə @#=ə 3=ɚ 3:=ɚ @L=ə+l IR=ə+ɹ VR=ʌ+ɹ
        aI=aɪ aI2=aɪ aU=aʊ eI=eɪ oU=oʊ oU#=oʊ OI=ɔɪ
        e@=ɛ+ɹ i@=ɪə i@3=ɪ+ɹ U@=ʊ+ɹ A@=ɑ+ɹ O@=ɔ+ɹ o@=o+ɹ
        aI@=aɪ+ə aI3=aɪ+ɚ aU@=aʊ+ɚ o:=o e:=e A~=ɑ̃ O~=ɔ̃
        r=ɹ r-=ɹ t#=r z#=s z/2=s
    """),
    "en-gb": _parse_map("""
        a=a a2=a aa=a A#=a a#=ɐ a#2=a A:=ɑ A@=ɑ 0=ɒ 0#=ɒ 02=ɒ O2=ɒ O:=ɔ O=ɔ V=ʌ
        E=ɛ E#=ɛ E2=ɛ e#=ɛ I=ɪ I2=ɪ I#=ɪ I2#=ɪ i=i i:=i U=ʊ @5=ʊ u:=u
        @=ə @2=ə @#=ə 3=ə 3:=ɜ @L=ə+l IR=ə+ɹ VR=ʌ+ɹ
        aI=aɪ aI2=aɪ aU=aʊ eI=eɪ oU=əʊ oU#=əʊ OI=ɔɪ
        e@=eə i@=ɪə i@3=ɪə U@=ʊə O@=ɔ o@=ɔ aI@=aɪ+ə aI3=aɪ+ə aU@=aʊ+ə
        o:=o e:=e A~=ɑ̃ O~=ɔ̃
        r=ɹ r-=ɹ t#=t z#=s z/2=s
    """),
    "es": _parse_map("""
        r=r a/=a e/=e o/=o aI=aɪ aU=aʊ eI=eɪ EI=eɪ oI=ɔɪ eU=e+ʊ iU=j+u uI=w+i w2=w
    """),
    "it": _parse_map("""
        a/=a e/=e o/=o i/=i i#=i aI=aɪ aU=aʊ eI=eɪ EI=eɪ oI=ɔɪ eU=e+ʊ iU=i+ʊ uI=u+ɪ w2=w
        ts2=ts ss=s k~=k tS~=tʃ dZ~=dʒ g~=ɡ Q~=ɣ S~=ʃ
    """),
    "fr": _parse_map("""
        r=ʁ r/=ʁ r/2=ʁ r2=ʁ a-=a a#=ɐ e-=e E-=ɛ y-=y W2=œ A~=ɑ̃ E~=ɛ̃ O~=ɔ̃ W~=œ̃
        oU=əʊ j/=j j.=y w/=w n2=n p2=p t2=t t3=t z2=z z3=s
    """),
    "de": _parse_map("""
        r=r 3=ɜ E2=ɛ I:=ɪ i2=i UR=ʊ+ɐ iR=i+ɐ aI=aɪ aU=aʊ EI=eɪ OY=ɔʏ oU=oʊ g#=ç
        A~=ɑ̃ W~=œ̃ O~=ɔ̃ l2=l
    """),
    "pt": _parse_map("""
        &=ɐ &/=ɐ &~=ɐ̃ &U~=ɐ̃+ũ oI~=õ+ĩ e~=ẽ i~=ĩ o~=õ u~=ũ i/=ɨ y=ɨ
        aI=aɪ aU=aʊ eI=eɪ EI=eɪ oI=ɔɪ OI=ɔɪ eU=e+ʊ EU=ɛ+ʊ iU=i+ʊ uI=u+ɪ w2=w
        R=ɹ r-=ɹ x=ʁ s#=ʃ
    """),
    "pt-br": _parse_map("""
        &=æ &/=æ &~=ɐ̃ &U~=ɐ̃+ũ oI~=õ+ĩ e~=ẽ i~=ĩ o~=õ u~=ũ i/=i y=ɪ
        aI=aɪ aU=aʊ eI=eɪ EI=eɪ oI=ɔɪ OI=ɔɪ eU=e+ʊ EU=ɛ+ʊ iU=i+ʊ uI=u+ɪ w2=w
        R=r r-=ɹ x=x s#=s
    """),
    "ru": _parse_map("""
        a#=a V=ʌ V#=j+a E#=ɛ E2=ɛ E3=e E%=ɛ I#=i I2=e I3=j+a I^=ɪ y=ɨ 8=ɵ u#=u u"=u
        ja=j+a ja#=j+a ju=j+u
        n_=n n#=ɲ t;=t+j d;=d+j m;=m+j s;=s+j tS;=tɕ dZ;=dʒ+j S=ʃ
    """),
    "cmn": _parse_map("""
        A=ɑ ai=aɪ Au=aʊ @r=ɚ ei=eɪ ou=oʊ o-=o i[=ɹ̩ i.=ɻ̩
        iA=j+ɑ iAu=j+aʊ iE=j+ɛ io=j+o iou=j+oʊ ong=ʊ+ŋ
        uA=w+ɑ ua=w+a uai=w+aɪ u@=w+ə uei=w+eɪ uo=w+o
        yu=j+u y&=ɥ+æ yE=ɥ+ɛ y@=ɥ+ə yi=ɥ+i
        ph=p th=t kh=k tS;h=tɕ tsh=ts ts.=ʈʂ ts.h=ʈʂ
    """),
    "ja": _parse_map("""
        u=ɯ u:=ɯ u~=ũ i~=ĩ N\\=ɴ t_s=ts t_s\\=tɕ d_z\\=dʑ s\\=ɕ p\\=ɸ r`=r _j=j
    """),
}

# IPA as espeak-ng prints it (after stress, length and minor diacritics are removed).
_IPA_BASE = _parse_map("""
    i=i y=y ɨ=ɨ ʉ=u ɯ=ɯ u=u ɪ=ɪ ʏ=ʏ ʊ=ʊ ᵻ=ɪ e=e ø=ø ɘ=ə ɵ=ɵ ɤ=ə o=o ə=ə ɚ=ɚ ɝ=ɚ
    ɛ=ɛ œ=œ ɜ=ɜ ʌ=ʌ ɔ=ɔ æ=æ ɐ=ɐ a=a ɶ=œ ɑ=ɑ ɒ=ɒ
    ĩ=ĩ ẽ=ẽ ɛ̃=ɛ̃ ɐ̃=ɐ̃ ã=ɐ̃ ɑ̃=ɑ̃ ɔ̃=ɔ̃ õ=õ ũ=ũ œ̃=œ̃ ɪ̃=ĩ ʊ̃=ũ
    aɪ=aɪ aʊ=aʊ eɪ=eɪ oʊ=oʊ ɔɪ=ɔɪ əʊ=əʊ ɪə=ɪə iə=ɪə eə=eə ɛə=eə ʊə=ʊə ɔʏ=ɔʏ ɔø=ɔʏ
    ɛɪ=eɪ oɪ=ɔɪ eʊ=e+ʊ ɛʊ=ɛ+ʊ iʊ=i+ʊ uɪ=u+ɪ ɐ̃ʊ̃=ɐ̃+ũ õɪ̃=õ+ĩ
    aɪə=aɪ+ə aɪɚ=aɪ+ɚ aʊə=aʊ+ə aʊɚ=aʊ+ɚ aɪʊɹ=aʊ+ɚ
    ɛɹ=ɛ+ɹ ɪɹ=ɪ+ɹ ʊɹ=ʊ+ɹ ɔɹ=ɔ+ɹ oɹ=o+ɹ ɑɹ=ɑ+ɹ əɹ=ə+ɹ ʌɹ=ʌ+ɹ əl=ə+l
    p=p b=b m=m ɸ=ɸ β=β f=f v=v ʋ=v ɱ=m θ=θ ð=ð t=t d=d n=n s=s z=z
    r=r ɾ=r ɽ=r ɹ=ɹ ɻ=ɹ l=l ɫ=l ɭ=l ɬ=l ɳ=n
    ʃ=ʃ ʒ=ʒ tʃ=tʃ dʒ=dʒ ʂ=ʂ ʐ=ʐ ʈʂ=ʈʂ ɖʐ=ʈʂ ɕ=ɕ ʑ=ʑ tɕ=tɕ dʑ=dʑ
    ç=ç ʝ=j j=j ɲ=ɲ ʎ=ʎ ɥ=ɥ c=k ɟ=ɡ
    k=k ɡ=ɡ g=ɡ ŋ=ŋ x=x ɣ=ɣ χ=x q=k ʁ=ʁ ʀ=ʁ ɴ=ɴ h=h ɦ=h ʔ=ʔ w=w ʍ=w
    pf=p+f ss=s r.=ʐ ʲ=j
""")

_IPA_LANG: Dict[str, Dict[str, List[str]]] = {
    "en-us": _parse_map("ɜ=ɚ ɾ=r"),
    "ru": _parse_map("y=ɨ ja=j+a ju=j+u tʃʲ=tɕ ts=ts"),
    "de": _parse_map("ɔø=ɔʏ ts=ts"),
    "es": _parse_map("iʊ=j+u uɪ=w+i ts=ts"),
    "it": _parse_map("ts=ts dz=dz"),
    "pt": _parse_map("ts=ts"),
    "pt-br": _parse_map("y=ɪ ts=ts"),
    "ja": _parse_map("ts=ts dz=dz"),
    # Mandarin: espeak prints its mnemonic where a phoneme has no IPA.
    "cmn": _parse_map("""
        ph=p th=t kh=k tɕh=tɕ ts=ts tsh=ts ts.=ʈʂ ts.h=ʈʂ s.=ʂ ʐ=ʐ χ=x
        ai=aɪ ei=eɪ ɑu=aʊ ou=oʊ ər=ɚ i.=ɻ̩ i̪=ɹ̩ o-=o onɡ=ʊ+ŋ ong=ʊ+ŋ
        iɑ=j+ɑ iɑu=j+aʊ iɛ=j+ɛ io=j+o iou=j+oʊ
        uɑ=w+ɑ ua=w+a uai=w+aɪ uə=w+ə uei=w+eɪ uo=w+o
        yu=j+u yæ=ɥ+æ yɛ=ɥ+ɛ yə=ɥ+ə yi=ɥ+i
    """),
}

_STRESS = "ˈˌ'\",%="
_TIES = "\u0361\u035c\u203f\u200d\u200c"
# Diacritics and modifier letters without a visible effect we model.
_IGNORABLE_MARKS = set(
    "\u032a\u031e\u031d\u0308\u0329\u030d\u032f\u0325\u030a\u032c\u031f\u0320\u0339\u031c"
    "\u0318\u0319\u033a\u033b\u033c\u0324\u0330\u02b0\u1d5d\u02e0\u02e4\u02b7\u207f\u02de")
_LENGTH = "ːˑ"
_SWITCH = re.compile(r"\(([a-zA-Z]{2,3}(?:-[a-zA-Z0-9]+)*)\)")
_PALATAL = "ʲ"


# espeak-ng's pause phonemes, longest first.
_PAUSES = ("_^_", "_:::", "_;_", "_X1", "_::", "_:", "_!", "_|", "||", "_")


def _is_pause_mnemonic(sym: str) -> bool:
    return sym == "||" or sym.startswith("_")


def _lookup(table_chain: Sequence[Dict[str, List[str]]], sym: str) -> Optional[List[str]]:
    for table in table_chain:
        if sym in table:
            return list(table[sym])
    return None


def _strip_mnemonic_tone(sym: str, chain) -> Optional[List[str]]:
    """Mandarin tone suffixes: drop trailing digits until the rest is a known phoneme."""
    s = sym
    while s and s[-1].isdigit():
        s = s[:-1]
        found = _lookup(chain, s)
        if found is not None:
            return found
    return None


def _from_mnemonic(sym: str, lang: str, tonal: bool) -> List[str]:
    chain = [_MN_LANG.get(lang, {}), _MN_BASE]
    s = sym.lstrip(_STRESS)
    if not s:
        return []  # a bare stress or tone mark
    if lang == "ja" and s == "_j":
        return ["j"]
    if _is_pause_mnemonic(s) and _lookup(chain, s) is None:
        if s in _PAUSES:
            return ["_"]
        # espeak sometimes glues a pause to the next phoneme ("_!m" in -x output).
        for pause in _PAUSES:
            if s.startswith(pause):
                return ["_"] + _from_mnemonic(s[len(pause):], lang, tonal)
        return ["_"]
    for candidate in (s, s.rstrip(":") if len(s) > 1 else s):
        found = _lookup(chain, candidate)
        if found is not None:
            return found
    if tonal:
        found = _strip_mnemonic_tone(s.rstrip(":"), chain)
        if found is not None:
            return found
    if s.isdigit() and tonal:
        return []  # a tone on its own
    raise UnknownPhoneError(sym, lang)


def _ipa_normalize(s: str) -> str:
    s = _nfd(s)
    return "".join(c for c in s if c not in _STRESS and c not in _TIES and c not in "-^")


def _ipa_strip(s: str, nasal_too: bool = False) -> str:
    out = []
    for c in s:
        if c in _LENGTH or c in _IGNORABLE_MARKS:
            continue
        if nasal_too and unicodedata.category(c) == "Mn":
            continue
        out.append(c)
    return "".join(out)


def _strip_ipa_tone(s: str) -> str:
    """Mandarin tones in espeak-ng 1.51 IPA: one digit, or "ɜ" for tones 3x, after the vowel."""
    while s and (s[-1].isdigit() or (s[-1] == "ɜ" and len(s) > 1)):
        s = s[:-1]
    return s


def _from_ipa(sym: str, lang: str, tonal: bool) -> List[str]:
    chain = [_IPA_LANG.get(lang, {}), _IPA_BASE]
    s = _ipa_normalize(sym)
    if s == "":
        return ["_"]
    if tonal:
        s = _strip_ipa_tone(s)
        if not s:
            return []
    for candidate in (s, _ipa_strip(s), _ipa_strip(s, nasal_too=True)):
        found = _lookup(chain, candidate)
        if found is not None:
            return found
    base = _ipa_strip(s)
    # Palatalised consonant (Russian soft consonants, Japanese yōon): consonant + j.
    if len(base) > 1 and base.endswith(_PALATAL):
        found = _from_ipa_or_none(base[:-1], chain)
        if found is not None:
            return found + ["j"]
    # A vowel written twice is one long vowel (Japanese "ɯᵝɯᵝ", "ää").
    half = len(base) // 2
    if len(base) >= 2 and len(base) % 2 == 0 and base[:half] == base[half:]:
        found = _from_ipa_or_none(base[:half], chain)
        if found is not None:
            return found
    raise UnknownPhoneError(sym, lang)


def _from_ipa_or_none(s: str, chain) -> Optional[List[str]]:
    for candidate in (s, _ipa_strip(s, nasal_too=True)):
        found = _lookup(chain, candidate)
        if found is not None:
            return found
    return None


def from_espeak(symbol: str, language: str, ipa: bool = False, *, tonal: Optional[bool] = None) -> List[str]:
    """One espeak-ng phoneme (a mnemonic as printed by `-x` or carried by phoneme events, or,
    with ipa=True, its IPA as printed by `--ipa` or carried by events with
    espeakINITIALIZE_PHONEME_IPA) -> inventory phones (usually one; several for phonemes such
    as Mandarin "iAu" -> j aʊ; [] for stress/tone marks and language switches "(en)").

    tonal: strip Mandarin-style tone suffixes; default: the language is tonal. Pass True
    for English words inside Mandarin output (espeak appends tones to them too).
    Raises UnknownPhoneError for symbols with no mapping.
    """
    lang = normalize_language(language)
    if tonal is None:
        tonal = lang in _TONAL
    if _SWITCH.fullmatch(symbol.strip()):
        return []
    sym = symbol.strip()
    if ipa:
        return _from_ipa(sym, lang, tonal)
    if sym == "":
        return ["_"]
    return _from_mnemonic(sym, lang, tonal)


def _switch_language(marker: str, base_lang: str) -> str:
    try:
        return normalize_language(marker)
    except ValueError:
        raise UnknownPhoneError(f"({marker})", base_lang, "switch to an unsupported language") from None


def from_espeak_sequence(symbols: Iterable[str], language: str, ipa: bool = False) -> List[List[str]]:
    """Maps a sequence of espeak-ng phoneme symbols (e.g. the phoneme events of one
    utterance, in order), following language switches "(en)" ... "(cmn)". Returns one list of
    inventory phones per symbol ([] for switches and bare stress/tone marks)."""
    base = normalize_language(language)
    tonal = base in _TONAL
    current = base
    out: List[List[str]] = []
    for sym in symbols:
        m = _SWITCH.fullmatch(sym.strip())
        if m:
            current = _switch_language(m.group(1), base)
            out.append([])
            continue
        out.append(from_espeak(sym, current, ipa, tonal=tonal))
    return out


def _ipa_keys(lang: str) -> List[str]:
    """Symbols split_espeak_ipa matches, longest first. A multi-phone symbol that is just
    its parts written together ("əl" = ə + l, "ɛɹ") is left out, so tokens stay minimal."""
    chain = [_IPA_LANG.get(lang, {}), _IPA_BASE]
    keys = sorted(set(_IPA_BASE) | set(_IPA_LANG.get(lang, {})), key=len, reverse=True)

    def greedy(text: str, candidates: List[str]) -> Optional[List[str]]:
        out: List[str] = []
        i = 0
        while i < len(text):
            k = next((c for c in candidates if text.startswith(c, i)), None)
            if k is None:
                return None
            out += _lookup(chain, k) or []
            i += len(k)
        return out

    kept = []
    for k in keys:
        value = _lookup(chain, k)
        if len(value) > 1 and greedy(k, [c for c in keys if c != k]) == value:
            continue
        kept.append(k)
    return kept


_IPA_KEYS_CACHE: Dict[str, List[str]] = {}


def split_espeak_ipa(text: str, language: str = "en-us", tonal: Optional[bool] = None) -> List[str]:
    """Splits espeak-ng IPA without phoneme separators (e.g. "tʃˈɜːtʃ") into phoneme tokens
    (["tʃ", "ɜː", "tʃ"]), each accepted by from_espeak(token, language, ipa=True).

    Longest match against the symbols espeak-ng uses for the language; stress marks end a
    token (so "paˈis" is p a i s, not the diphthong); length marks and diacritics stay with
    their phone. Mandarin tone digits (and the "ɜ" espeak writes for tone 3x) are dropped
    (tonal: default, the language is tonal; True for English words in Mandarin output).
    Whitespace separates words and is dropped."""
    lang = normalize_language(language)
    keys = _IPA_KEYS_CACHE.setdefault(lang, _ipa_keys(lang))
    if tonal is None:
        tonal = lang in _TONAL
    s = "".join(c for c in _nfd(text) if c not in _TIES)
    tokens: List[str] = []
    i = 0
    prev_vowel = False
    while i < len(s):
        c = s[i]
        if c.isspace() or c in _STRESS or c in "-^":
            i += 1
            continue
        if tonal and (c.isdigit() or (c == "ɜ" and prev_vowel)):
            i += 1
            continue
        match = next((k for k in keys if s.startswith(k, i)), None)
        if match is None:
            if c == _PALATAL or c in _LENGTH or unicodedata.category(c) == "Mn":
                match = c  # orphan modifier (e.g. espeak's standalone palatalisation)
            else:
                raise UnknownPhoneError(c, lang, f"in IPA {text!r}")
        j = i + len(match)
        while j < len(s) and (s[j] in _LENGTH or s[j] in _IGNORABLE_MARKS or s[j] == _PALATAL
                              or unicodedata.category(s[j]) == "Mn"):
            j += 1
        token = s[i:j]
        tokens.append(token)
        mapped = _from_ipa(token, lang, tonal) if token != _PALATAL else ["j"]
        prev_vowel = bool(mapped) and mapped[-1] in _FEATURES and _FEATURES[mapped[-1]].kind == "vowel"
        i = j
    return tokens


def parse_espeak_output(text: str, language: str, ipa: bool, sep: Optional[str] = ESPEAK_SEP) -> List[str]:
    """Inventory phones of espeak-ng CLI output: `espeak-ng -q -x --sep=¦ -v LANG` (ipa=False)
    or `espeak-ng -q --ipa --sep=¦ -v LANG` (ipa=True). Follows language switches "(en)".
    Empty tokens (pauses between separators) map to "_"; word and line breaks add nothing.
    With sep=None only IPA is accepted (split with split_espeak_ipa): -x output without
    separators is ambiguous."""
    base = normalize_language(language)
    tonal = base in _TONAL
    if sep is None and not ipa:
        raise ValueError("espeak-ng -x output needs --sep to be split into phonemes unambiguously")
    current = base
    phones: List[str] = []
    for word in text.split():
        pieces = _SWITCH.split(word)
        # re.split with one group: text, marker, text, marker, ...
        for k, piece in enumerate(pieces):
            if k % 2 == 1:
                current = _switch_language(piece, base)
                continue
            if not piece:
                continue
            if sep is None:
                for token in split_espeak_ipa(piece, current, tonal=tonal):
                    phones.extend(from_espeak(token, current, ipa, tonal=tonal))
                continue
            # espeak puts a separator on both sides of a switch marker.
            if k > 0 and piece.startswith(sep):
                piece = piece[len(sep):]
            if k + 1 < len(pieces) and piece.endswith(sep):
                piece = piece[:-len(sep)]
            if not piece:
                continue
            tokens = piece.split(sep)
            for n, token in enumerate(tokens):
                if token == "":
                    # IPA has no symbol for pauses (nor for the linking glide ";" and the
                    # epenthetic "@-"): an empty token at a word edge is a pause, one
                    # inside a word is dropped. In -x output every phoneme has a symbol.
                    if ipa and n in (0, len(tokens) - 1):
                        phones.append("_")
                    continue
                phones.extend(from_espeak(token, current, ipa, tonal=tonal))
    return phones


# --------------------------------------------------------------------------------------
# ARPAbet
# --------------------------------------------------------------------------------------

ARPABET: Dict[str, List[str]] = {
    # The 39 CMUdict phones.
    "AA": ["ɑ"], "AE": ["æ"], "AH": ["ʌ"], "AO": ["ɔ"], "AW": ["aʊ"], "AY": ["aɪ"],
    "B": ["b"], "CH": ["tʃ"], "D": ["d"], "DH": ["ð"], "EH": ["ɛ"], "ER": ["ɚ"],
    "EY": ["eɪ"], "F": ["f"], "G": ["ɡ"], "HH": ["h"], "IH": ["ɪ"], "IY": ["i"],
    "JH": ["dʒ"], "K": ["k"], "L": ["l"], "M": ["m"], "N": ["n"], "NG": ["ŋ"],
    "OW": ["oʊ"], "OY": ["ɔɪ"], "P": ["p"], "R": ["ɹ"], "S": ["s"], "SH": ["ʃ"],
    "T": ["t"], "TH": ["θ"], "UH": ["ʊ"], "UW": ["u"], "V": ["v"], "W": ["w"],
    "Y": ["j"], "Z": ["z"], "ZH": ["ʒ"],
    # Extended ARPAbet (TIMIT, Festival, older Flite voices).
    "AX": ["ə"], "AXR": ["ɚ"], "IX": ["ɪ"], "UX": ["u"], "DX": ["r"], "NX": ["n"],
    "EL": ["l"], "EM": ["m"], "EN": ["n"], "Q": ["ʔ"], "WH": ["w"], "HV": ["h"],
}
ARPABET_CORE = ("AA AE AH AO AW AY B CH D DH EH ER EY F G HH IH IY JH K L M N NG OW OY P R S SH "
                "T TH UH UW V W Y Z ZH").split()
_ARPABET_PAUSES = {"SIL", "SP", "SPN", "NSN", "PAU", "H#", "#", "BRTH", "CG", "LS", "LG", "NS"}


def from_arpabet(symbol: str) -> List[str]:
    """ARPAbet phone (any case, optional stress digit 0/1/2) -> inventory phones. Unstressed
    AH0 is schwa. Silences and fillers (SIL, SP, sil, pau, <s>, </s>, <sil>, +NOISE+,
    ++BREATH++, [NOISE]...) map to "_"."""
    s = symbol.strip()
    if not s or s[0] in "+<[" or s.upper() in _ARPABET_PAUSES:
        return ["_"]
    upper = s.upper()
    stress = ""
    if upper[-1] in "012" and len(upper) > 1:
        upper, stress = upper[:-1], upper[-1]
    if upper == "AH" and stress == "0":
        return ["ə"]
    if upper in ARPABET:
        return list(ARPABET[upper])
    raise UnknownPhoneError(symbol, "ARPAbet")
