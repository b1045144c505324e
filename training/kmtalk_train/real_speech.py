"""Real human speech: the recorded telephone prompts of the Debian asterisk sound packages.

The audio stays where Debian installed it (/usr/share/asterisk/sounds/...); nothing is copied
into the repository. Sources (one speaker each):

    package                          language  directory                      transcript
    asterisk-core-sounds-en-wav      en        en_US_f_Allison (Allison Smith) core-sounds-en.txt
    asterisk-core-sounds-es-wav      es        es_MX_f_Allison (same speaker)  core-sounds-es.txt *
    asterisk-core-sounds-fr-wav      fr        fr_CA_f_June                    core-sounds-fr.txt *
    asterisk-core-sounds-it-wav      it        it_IT_m_Carlo                   core-sounds-it.txt
    asterisk-core-sounds-ru-wav      ru        ru_RU_f_IvrvoiceRU              core-sounds-ru.txt
    asterisk-prompt-it-menardi-wav   it        it_IT_f_Menardi                 core-sounds-it.txt (inexact)
    asterisk-prompt-es-co (GSM)      es        es (Colombian, July Jimenez)    core-sounds-es.txt * (inexact)
    asterisk-prompt-fr-armelle (GSM) fr        fr (Armelle Desjardins)         core-sounds-fr.txt * (inexact)

Transcripts are the `key: text` lists shipped in /usr/share/doc/asterisk-core-sounds-<lang>/
(the non-wav "asterisk-core-sounds-<lang>" packages; en, it and ru are installed). (*) The
Spanish and French lists come with asterisk-core-sounds-es / -fr, which are not installed here;
when they are absent only the prompts whose words follow from the file name are used (digits,
week days, months, letters: BUILTIN_TRANSCRIPTS). "inexact": the list was written for another
recording of the same prompt (the wording may differ); such prompts carry
params["transcript_exact"] = False.

English prompts are aligned to ARPAbet phones with PocketSphinx 5 (its bundled en-us acoustic
model and CMU dictionary): a word-level forced alignment (`set_align_text`) followed by the
phone-level pass (`set_alignment`, `get_alignment`), 100 frames per second. The prompts are
8 kHz telephone recordings; the en-us model is a 16 kHz model, so the audio is upsampled 2x
(scipy.signal.resample_poly) before alignment, and the corpus audio is that same 16 kHz
signal. Aligning the 8 kHz signal with an 8 kHz front end (a copy of the model with upperf
3500) was tried and is far worse (a quarter of the test concatenations failed to align, word
onsets off by 230 ms median); dither or a low-pass at 3.7 kHz did not help either. The audio
is aligned with 0.3 s of digital silence around it, and SIL/phone boundaries that fall inside
loud audio are moved to the energy edge (EnglishAligner, refine_silence_edges). Words missing
from the dictionary go through resolve_word (typo fixes, spelt acronyms, two-word compounds);
prompts still out of vocabulary, or with numbers whose reading is ambiguous (>= 100: "500"
is "five hundred" or "five oh oh"), are skipped and counted.

Measured on all 551 usable English prompts: 542 aligned, 7 skipped for out-of-vocabulary
words (digium, iax, dahdi, unistim, www), 2 for numbers (H.323, a long demo text); one
(digits/6) needed the wide-beam retry. On 172 single-word prompts, the first phone starts
within 20 ms (median |error|, 90th percentile 40 ms) of the energy onset (-30 dB re max).

Non-English prompts come back with segments=[] and their transcript, for a later alignment pass.
"""
from __future__ import annotations

import functools
import gzip
import os
import re
import subprocess
from dataclasses import dataclass
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np

from .types import Segment, Utterance

SOUNDS = "/usr/share/asterisk/sounds"
DOC = "/usr/share/doc"
CORPUS_RATE = 16000          # corpus audio rate (and the rate of the en-us acoustic model)
FRAME_RATE = 100             # PocketSphinx frames per second
MIN_DURATION = 0.5           # seconds; shorter prompts are skipped
LANGUAGES = ("en", "es", "fr", "it", "ru")


@dataclass(frozen=True)
class PromptSource:
    package: str
    language: str
    root: str             # directory the transcript keys are relative to
    speaker: str          # stable speaker id (for splits): the same person shares one id
    voice: str
    transcript_exact: bool  # the transcript list was written for these very recordings


SOURCES: Tuple[PromptSource, ...] = (
    PromptSource("asterisk-core-sounds-en-wav", "en", f"{SOUNDS}/en_US_f_Allison",
                 "asterisk-allison", "en_US_f_Allison", True),
    PromptSource("asterisk-core-sounds-es-wav", "es", f"{SOUNDS}/es_MX_f_Allison",
                 "asterisk-allison", "es_MX_f_Allison", True),
    PromptSource("asterisk-core-sounds-fr-wav", "fr", f"{SOUNDS}/fr_CA_f_June",
                 "asterisk-june", "fr_CA_f_June", True),
    PromptSource("asterisk-core-sounds-it-wav", "it", f"{SOUNDS}/it_IT_m_Carlo",
                 "asterisk-carlo", "it_IT_m_Carlo", True),
    PromptSource("asterisk-core-sounds-ru-wav", "ru", f"{SOUNDS}/ru_RU_f_IvrvoiceRU",
                 "asterisk-ivrvoiceru", "ru_RU_f_IvrvoiceRU", True),
    PromptSource("asterisk-prompt-it-menardi-wav", "it", f"{SOUNDS}/it_IT_f_Menardi",
                 "asterisk-menardi", "it_IT_f_Menardi", False),
    PromptSource("asterisk-prompt-es-co", "es", f"{SOUNDS}/es",
                 "asterisk-july-jimenez", "es_CO_f_July", False),
    PromptSource("asterisk-prompt-fr-armelle", "fr", f"{SOUNDS}/fr",
                 "asterisk-armelle", "fr_FR_f_Armelle", False),
)

# Prompts that are not speech whatever their transcript says (tones, sound effects).
NON_SPEECH_KEYS = frozenset({"beep", "beeperr", "ascending-2tone", "descending-2tone",
                             "tt-monkeys"})
NON_SPEECH_DIRS = ("silence/",)

# Words that follow from the file name, for languages whose transcript list is not installed.
# Only unambiguous readings: no 1M/1F gender forms, no "100-and" style fragments.
_DAYS = {"es": "domingo lunes martes miércoles jueves viernes sábado",
         "fr": "dimanche lundi mardi mercredi jeudi vendredi samedi"}
_MONTHS = {"es": "enero febrero marzo abril mayo junio julio agosto septiembre octubre "
                 "noviembre diciembre",
           "fr": "janvier février mars avril mai juin juillet août septembre octobre "
                 "novembre décembre"}
_NUMBERS = {
    "es": {0: "cero", 1: "uno", 2: "dos", 3: "tres", 4: "cuatro", 5: "cinco", 6: "seis",
           7: "siete", 8: "ocho", 9: "nueve", 10: "diez", 11: "once", 12: "doce", 13: "trece",
           14: "catorce", 15: "quince", 16: "dieciséis", 17: "diecisiete", 18: "dieciocho",
           19: "diecinueve", 20: "veinte", 30: "treinta", 40: "cuarenta", 50: "cincuenta",
           60: "sesenta", 70: "setenta", 80: "ochenta", 90: "noventa", 200: "doscientos",
           300: "trescientos", 400: "cuatrocientos", 500: "quinientos", 600: "seiscientos",
           700: "setecientos", 800: "ochocientos", 900: "novecientos"},
    "fr": {0: "zéro", 1: "un", 2: "deux", 3: "trois", 4: "quatre", 5: "cinq", 6: "six",
           7: "sept", 8: "huit", 9: "neuf", 10: "dix", 11: "onze", 12: "douze", 13: "treize",
           14: "quatorze", 15: "quinze", 16: "seize", 17: "dix-sept", 18: "dix-huit",
           19: "dix-neuf", 20: "vingt", 30: "trente", 40: "quarante", 50: "cinquante",
           60: "soixante", 70: "soixante-dix", 80: "quatre-vingts", 90: "quatre-vingt-dix"},
}
# Letter names; letters with regional variants (v, w, y, z) are left out.
_LETTERS = {
    "es": "a be ce de e efe ge hache i jota ka ele eme ene o pe cu erre ese te u - - equis - -",
    "fr": "a bé cé dé e effe gé ache i ji ka elle emme enne o pé cu erre esse té u vé - ixe - -",
}


def _builtin_transcripts(language: str) -> Dict[str, str]:
    if language not in _NUMBERS:
        return {}
    out = {f"digits/{n}": w for n, w in _NUMBERS[language].items()}
    out.update({f"digits/day-{i}": w for i, w in enumerate(_DAYS[language].split())})
    out.update({f"digits/mon-{i}": w for i, w in enumerate(_MONTHS[language].split())})
    for letter, name in zip("abcdefghijklmnopqrstuvwxyz", _LETTERS[language].split()):
        if name != "-":
            out[f"letters/{letter}"] = name
    return out


BUILTIN_TRANSCRIPTS = {lang: _builtin_transcripts(lang) for lang in ("es", "fr")}

# Italian list: accented letters were lost to "?" in the Debian file.
_IT_REPAIRS = (("sar? ", "sarà "), ("pu? ", "può "), ("cos? ", "così "), ("pi? ", "più "),
               (" ? ", " è "))


# ---------------------------------------------------------------------------------------------
# Transcripts

_LINE = re.compile(r"^\ufeff?([A-Za-z0-9_./+-]+):\s*(.*?)\s*$")


def parse_transcripts(text: str) -> Dict[str, str]:
    """Parse an asterisk `key: text` list (';' comments, blank lines ignored)."""
    out: Dict[str, str] = {}
    for line in text.splitlines():
        s = line.strip().lstrip("\ufeff")
        if not s or s.startswith(";"):
            continue
        m = _LINE.match(s)
        if m and m.group(2):
            out[m.group(1)] = m.group(2)
    return out


def normalise_text(text: str) -> str:
    """Drop bracketed annotations ("[ascending tones]", "at [@]", "<beep ascending>",
    "(simple tone sound plays)"), collapse white space,
    strip leading "..." and surrounding punctuation-only noise. Empty means non-speech."""
    t = re.sub(r"\[[^\]]*\]|<[^>]*>|\([^)]*\)", " ", text)
    t = re.sub(r"\s+", " ", t).strip()
    t = re.sub(r"^(\.\.\.|…)\s*", "", t)
    if not re.search(r"\w", t):
        return ""
    return t


def transcript_paths(language: str, extra_dirs: Sequence[str] = ()) -> List[str]:
    """Existing transcript files for `language`, installed ones first."""
    names = [f"core-sounds-{language}.txt.gz", f"core-sounds-{language}.txt"]
    dirs = [os.path.join(DOC, f"asterisk-core-sounds-{language}"), *extra_dirs]
    return [os.path.join(d, n) for d in dirs for n in names if os.path.isfile(os.path.join(d, n))]


@functools.lru_cache(maxsize=None)
def load_transcripts(language: str) -> Tuple[Dict[str, str], str]:
    """(key -> raw transcript, source name). Falls back to BUILTIN_TRANSCRIPTS."""
    extra = tuple(p for p in os.environ.get("KMTALK_ASTERISK_TRANSCRIPTS", "").split(":") if p)
    for path in transcript_paths(language, extra):
        opener = gzip.open if path.endswith(".gz") else open
        with opener(path, "rt", encoding="utf-8", errors="replace") as f:
            table = parse_transcripts(f.read())
        if language == "it":
            for key, val in table.items():
                for bad, good in _IT_REPAIRS:
                    val = val.replace(bad, good)
                table[key] = val
        return table, os.path.basename(path)
    return dict(BUILTIN_TRANSCRIPTS.get(language, {})), "builtin"


# ---------------------------------------------------------------------------------------------
# Discovery


@dataclass(frozen=True)
class Prompt:
    path: str
    key: str
    text: str               # normalised transcript
    raw_text: str
    source: PromptSource
    transcript_source: str
    duration: float


def _package_audio(src: PromptSource) -> List[str]:
    """Audio files of the package (dpkg -L when available, else a walk of its directory),
    de-duplicated through symlinks, inside `src.root`, sorted."""
    files: List[str] = []
    try:
        out = subprocess.run(["dpkg", "-L", src.package], capture_output=True, text=True,
                             check=True).stdout
        files = [p for p in out.splitlines() if p.endswith((".wav", ".gsm"))]
    except (OSError, subprocess.CalledProcessError):
        for d, _, names in os.walk(src.root):
            files += [os.path.join(d, n) for n in names if n.endswith((".wav", ".gsm"))]
    root = os.path.realpath(src.root)
    seen, keep = set(), []
    for p in files:
        rp = os.path.realpath(p)
        if rp in seen or not os.path.isfile(rp) or not rp.startswith(root + os.sep):
            continue
        seen.add(rp)
        keep.append(rp)
    return sorted(keep)


def highpass(samples: np.ndarray, sample_rate: int, cutoff: float = 60.0) -> np.ndarray:
    """Zero-phase 4th-order Butterworth high-pass: removes the DC offset and the sub-audio
    rumble some recordings carry (Menardi: DC -0.07; the GSM packages: drifting < 30 Hz)."""
    from scipy.signal import butter, sosfiltfilt

    x = np.asarray(samples, dtype=np.float64)
    if x.size < 64:
        return x - x.mean() if x.size else x
    sos = butter(4, cutoff, btype="highpass", fs=sample_rate, output="sos")
    return sosfiltfilt(sos, x - x.mean())


def is_non_speech(samples: np.ndarray, sample_rate: int) -> bool:
    """Silence, or a steady synthetic tone (beeps, tone sweeps).

    Over the loud frames (32 ms, within 20 dB of the loudest) a tone keeps most of its energy
    in one spectral peak (median share > 0.95) whose interpolated frequency does not move
    (median frame-to-frame change < 1 Hz). Measured on all transcribed prompts: speech has a
    peak share up to 0.98 (sustained single words) but its peak frequency moves by >= 1.6 Hz
    per 16 ms hop (median over prompts 12 Hz); the asterisk beeps and sweeps: share 0.998-1.0,
    change 0.0-0.5 Hz. Multi-tone effects and codec-smeared beeps ("beeperr", the GSM
    "beep") are not caught here; NON_SPEECH_KEYS and bracketed transcripts catch them."""
    x = highpass(np.asarray(samples, dtype=np.float64), sample_rate)
    if x.size == 0 or np.sqrt(np.mean(x ** 2)) < 1e-3:
        return True
    n = int(0.032 * sample_rate)
    hop = n // 2
    if x.size < 2 * n:
        return False
    frames = np.lib.stride_tricks.sliding_window_view(x, n)[::hop] * np.hanning(n)
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2 + 1e-20
    energy = power.sum(axis=1)
    p = power[energy > energy.max() * 1e-2]
    if len(p) < 2:
        return False
    rows = np.arange(len(p))
    k = p.argmax(axis=1)
    idx = np.clip(k[:, None] + np.arange(-2, 3)[None, :], 0, p.shape[1] - 1)
    share = np.take_along_axis(p, idx, axis=1).sum(axis=1) / p.sum(axis=1)
    a = np.log(p[rows, np.clip(k - 1, 0, None)])
    b = np.log(p[rows, k])
    c = np.log(p[rows, np.clip(k + 1, None, p.shape[1] - 1)])
    den = a - 2 * b + c
    offset = np.where(np.abs(den) > 1e-12, 0.5 * (a - c) / np.where(den == 0, 1, den), 0.0)
    freq = (k + offset) * sample_rate / n
    drift = float(np.median(np.abs(np.diff(freq))))
    return float(np.median(share)) > 0.95 and drift < 1.0


def read_audio(path: str) -> Tuple[np.ndarray, int]:
    """Mono float32 samples and rate (WAV or headerless GSM 6.10 through libsndfile)."""
    import soundfile as sf

    x, sr = sf.read(path, dtype="float32", always_2d=True)
    return np.ascontiguousarray(x.mean(axis=1), dtype=np.float32), int(sr)


def to_corpus_rate(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    """Resample to CORPUS_RATE (polyphase, Kaiser window), float32 clipped to -1..1."""
    from math import gcd

    from scipy.signal import resample_poly

    if sample_rate == CORPUS_RATE:
        y = np.asarray(samples, dtype=np.float32)
    else:
        g = gcd(CORPUS_RATE, sample_rate)
        y = resample_poly(samples, CORPUS_RATE // g, sample_rate // g).astype(np.float32)
    return np.clip(y, -1.0, 1.0)


@functools.lru_cache(maxsize=None)
def discover_prompt_records(language: str, acoustic_check: bool = True) -> Tuple[Prompt, ...]:
    """All usable prompts of `language`: with a transcript that has words after dropping the
    bracketed annotations, not a known tone/effect, at least MIN_DURATION long, and (with
    acoustic_check) not silence or a steady tone. Cached."""
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}; have {LANGUAGES}")
    import soundfile as sf

    table, tsource = load_transcripts(language)
    out: List[Prompt] = []
    # A recording belongs to the first source that has it: Debian's "asterisk-prompt-es"
    # alternative (/usr/share/asterisk/sounds/es) points at es_MX_f_Allison when the
    # Colombian package is not installed, and the same files must not come back as a
    # second speaker.
    taken: set = set()
    for src in SOURCES:
        if src.language != language or not os.path.isdir(src.root):
            continue
        root = os.path.realpath(src.root)
        for path in _package_audio(src):
            if path in taken:
                continue
            taken.add(path)
            key = os.path.splitext(os.path.relpath(path, root))[0]
            if key in NON_SPEECH_KEYS or key.startswith(NON_SPEECH_DIRS):
                continue
            raw = table.get(key)
            if raw is None:
                continue
            text = normalise_text(raw)
            if not text:
                continue
            try:
                info = sf.info(path)
            except RuntimeError:
                continue
            if info.frames / info.samplerate < MIN_DURATION:
                continue
            if acoustic_check:
                x, sr = read_audio(path)
                if is_non_speech(x, sr):
                    continue
            out.append(Prompt(path, key, text, raw, src, tsource, info.frames / info.samplerate))
    return tuple(out)


def discover_prompts(language: str) -> List[Tuple[str, str]]:
    """[(audio path, normalised transcript)] for `language` (see discover_prompt_records)."""
    return [(p.path, p.text) for p in discover_prompt_records(language)]


# ---------------------------------------------------------------------------------------------
# English text -> dictionary words

_ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen "
         "fourteen fifteen sixteen seventeen eighteen nineteen").split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_SYMBOLS = {"*": " star ", "#": " pound ", "@": " at ", "&": " and ", "%": " percent ",
            "+": " plus ", "=": " equals "}


def _number_words(n: int) -> List[str]:
    if n < 20:
        return [_ONES[n]]
    tens, ones = divmod(n, 10)
    return [_TENS[tens]] + ([_ONES[ones]] if ones else [])


class UnalignableText(ValueError):
    """The text cannot be turned into dictionary words unambiguously."""


def english_words(text: str, letters: bool = False) -> List[str]:
    """Lower-case words for `text`: integers 0..99 spelt out, * # @ & % + = read out, hyphens
    split, other punctuation dropped; all-capital tokens of 2-5 letters (PBX, IVR) are kept
    upper-case so that the dictionary step can spell them. Numbers >= 100 or with a decimal
    point raise UnalignableText (their reading is ambiguous: "500" is "five hundred" or
    "five oh oh"). letters=True reads single letters as letter names (dictionary entries "a."
    ...), for the letters/ prompts."""
    t = text
    for sym, word in _SYMBOLS.items():
        t = t.replace(sym, word)
    if re.search(r"\d[.,]\d|\d{3,}", t):
        raise UnalignableText(f"ambiguous number in {text!r}")
    t = re.sub(r"\d+", lambda m: " " + " ".join(_number_words(int(m.group()))) + " ", t)
    t = t.replace("-", " ").replace("\u2019", "'")
    words = []
    for w in re.findall(r"[A-Za-z']+", t):
        w = w.strip("'")
        if not w:
            continue
        words.append(w if re.fullmatch(r"[A-Z]{2,5}", w) else w.lower())
    if letters:
        words = [w + "." if len(w) == 1 else w for w in words]
    if not words:
        raise UnalignableText(f"no words in {text!r}")
    return words


# Misspellings in core-sounds-en.txt (the speaker read the real word).
TYPOS = {"exclaimation": "exclamation", "represenatives": "representatives",
         "indentified": "identified", "witheld": "withheld", "fourtieth": "fortieth",
         "umute": "unmute"}
# Acronyms said as a word, not spelt (IAX "eeks", DAHDI "dah-dee": out of vocabulary).
UNSPELT_ACRONYMS = frozenset({"IAX", "DAHDI", "SIP"})


def resolve_word(word: str, lookup) -> Optional[str]:
    """ARPAbet pronunciation for a word from english_words: the dictionary, a typo fix, an
    all-capital acronym spelt letter by letter, or a compound of two dictionary words
    ("unmute" = un + mute, "touchtone", "xray" = x + ray). None when out of vocabulary."""
    if word.isupper():
        if word in UNSPELT_ACRONYMS:
            return lookup(word.lower())
        prons = [lookup(c.lower() + ".") for c in word]
        return " ".join(prons) if all(prons) else None
    pron = lookup(word)
    if pron is not None:
        return pron
    if word in TYPOS:
        return lookup(TYPOS[word])
    for i in range(len(word) - 2, 0, -1):
        a, b = word[:i], word[i:]
        if (len(a) >= 2 or a == "x") and len(b) >= 2:
            pa = lookup(a + "." if a == "x" else a)
            pb = lookup(b)
            if pa and pb:
                return pa + " " + pb
    return None


# ---------------------------------------------------------------------------------------------
# PocketSphinx forced alignment


class EnglishAligner:
    """PocketSphinx 5 phone-level forced alignment with the bundled en-us model (16 kHz).

    align(samples16k, words) -> (segments, info): segments cover the audio contiguously in
    order (raw ARPAbet phones without stress, "SIL" for pauses, filler phones +NSN+/+SPN+
    become "SIL" too); info has the per-frame acoustic score and the chosen pronunciations.

    The audio is aligned with `pad` seconds of digital silence on both sides (removed from the
    result). The prompts are trimmed tightly and the model's front end (remove_noise, CMN,
    delta features) needs some silence at the edges: on 172 single-word prompts the first
    phone started 50 ms (median) before the energy onset without the padding, 10 ms with it
    (|error| 90th percentile 139 -> 60 ms).

    refine_silence: the model sometimes labels the loud start of a long isolated vowel as
    silence ("E", "eight": SIL over 0.12-0.33 s of a vowel); refine_silence_edges moves such
    SIL/phone boundaries to the energy onset/offset.
    """

    def __init__(self, sample_rate: int = CORPUS_RATE, pad: float = 0.3,
                 refine_silence: bool = True, **config):
        from pocketsphinx import Decoder

        self.sample_rate = sample_rate
        self.pad = pad
        self.refine_silence = refine_silence
        self._config = dict(config)
        self._wide = None
        self.decoder = Decoder(samprate=sample_rate, bestpath=False, loglevel="FATAL", **config)

    def lookup(self, word: str) -> Optional[str]:
        return self.decoder.lookup_word(word)

    def dictionary_words(self, words: Sequence[str]) -> List[str]:
        """Words from english_words made dictionary words: entries added to the decoder's
        dictionary for typos, acronyms and compounds (resolve_word). Raises UnalignableText
        listing the out-of-vocabulary words."""
        out, oov = [], []
        for w in words:
            key = w.lower()
            if w.isupper() or self.lookup(key) is None:
                pron = resolve_word(w, self.lookup)
                if pron is None:
                    oov.append(key)
                    continue
                if w.isupper() and w not in UNSPELT_ACRONYMS:
                    key = f"{key}_spelt"
                if self.lookup(key) is None:
                    self.decoder.add_word(key, pron, True)
            out.append(key)
        if oov:
            raise UnalignableText(f"out of vocabulary: {' '.join(oov)}")
        return out

    def pronunciation(self, words: Iterable[str]) -> List[str]:
        """Dictionary phones for the words (first pronunciation of each)."""
        return [p for w in words for p in (self.lookup(w) or "").split()]

    def _run(self, d, pcm: bytes, words: Sequence[str]):
        d.set_align_text(" ".join(words))
        d.start_utt()
        d.process_raw(pcm, full_utt=True)
        d.end_utt()
        if d.hyp() is None:
            return None
        d.set_alignment()
        d.start_utt()
        d.process_raw(pcm, full_utt=True)
        d.end_utt()
        return d.get_alignment()

    def align(self, samples: np.ndarray, words: Sequence[str]) -> Tuple[List[Segment], dict]:
        """Align dictionary `words` (see dictionary_words) to `samples` at self.sample_rate.
        When the default beams lose the path (about 1 prompt in 250), retry with wide beams."""
        x = np.clip(np.asarray(samples, dtype=np.float64), -1.0, 1.0)
        n_pad = int(round(self.pad * self.sample_rate))
        padded = np.concatenate([np.zeros(n_pad), x, np.zeros(n_pad)])
        pcm = (padded * 32767.0).round().astype("<i2").tobytes()
        alignment = self._run(self.decoder, pcm, words)
        wide = False
        if alignment is None:
            if self._wide is None:
                from pocketsphinx import Decoder

                self._wide = Decoder(samprate=self.sample_rate, bestpath=False,
                                     loglevel="FATAL", beam=1e-80, pbeam=1e-80, wbeam=1e-60,
                                     **self._config)
            for w in words:  # words added to the main dictionary
                if self._wide.lookup_word(w) is None:
                    self._wide.add_word(w, self.lookup(w), True)
            alignment = self._run(self._wide, pcm, words)
            wide = True
        if alignment is None:
            raise RuntimeError("forced alignment failed")
        duration = len(x) / self.sample_rate
        segs: List[Segment] = []
        chosen: List[str] = []
        score = 0
        frames = 0
        for w in alignment:
            if not w.name.startswith(("<", "[")):
                chosen.append(w.name)
            for ph in w:
                name = ph.name
                if name.startswith("+") or name == "SIL":
                    name = "SIL"
                start = ph.start / FRAME_RATE - self.pad
                end = (ph.start + ph.duration) / FRAME_RATE - self.pad
                score += ph.score
                frames += ph.duration
                segs.append(Segment(start, end, name, name))
        segs = _make_contiguous(segs, duration)
        moved = 0
        if self.refine_silence:
            segs, moved = refine_silence_edges(segs, x, self.sample_rate)
        info = {"align_score_per_frame": score / max(frames, 1), "align_words": chosen,
                "align_wide_beam": wide, "align_sil_edges_moved": moved}
        return segs, info


def _make_contiguous(segs: List[Segment], duration: float) -> List[Segment]:
    """Close gaps with SIL (or by stretching), merge neighbouring SILs, clip to the audio and
    let the last segment end exactly at `duration`."""
    out: List[Segment] = []
    t = 0.0
    for s in segs:
        start, end = max(s.start, t), min(s.end, duration)
        if end <= start:
            continue
        if start > t + 1e-9:
            if start - t >= 0.02 or not out:
                out.append(Segment(t, start, "SIL", "SIL"))
            else:
                out[-1].end = start
        out.append(Segment(start, end, s.phone, s.raw))
        t = end
    if not out:
        return [Segment(0.0, duration, "SIL", "SIL")]
    if duration - t >= 0.02:
        out.append(Segment(t, duration, "SIL", "SIL"))
    else:
        out[-1].end = duration
    merged: List[Segment] = [out[0]]
    for s in out[1:]:
        if s.phone == "SIL" and merged[-1].phone == "SIL":
            merged[-1].end = s.end
        else:
            merged.append(s)
    merged[0].start = 0.0
    return merged


def refine_silence_edges(segments: List[Segment], samples: np.ndarray, sample_rate: int,
                         threshold_db: float = -30.0, min_run: float = 0.03
                         ) -> Tuple[List[Segment], int]:
    """Move SIL/phone boundaries out of loud audio. A SIL that ends (starts) with at least
    `min_run` s of 10 ms frames louder than `threshold_db` re the loudest frame of the
    utterance gives that stretch to the following (preceding) phone; a SIL left shorter than
    10 ms disappears. Returns (segments, number of boundaries moved)."""
    hop = sample_rate // FRAME_RATE
    x = np.asarray(samples, dtype=np.float64)
    n = len(x) // hop
    if n == 0:
        return segments, 0
    e = 10 * np.log10(np.mean(x[: n * hop].reshape(n, hop) ** 2, axis=1) + 1e-12)
    loud = e > e.max() + threshold_db
    segs = [Segment(s.start, s.end, s.phone, s.raw) for s in segments]
    moved = 0

    def frames(seg):
        return int(round(seg.start * FRAME_RATE)), min(int(round(seg.end * FRAME_RATE)), n)

    for i, s in enumerate(segs):
        if s.phone != "SIL":
            continue
        a, b = frames(s)
        if i + 1 < len(segs) and segs[i + 1].phone != "SIL":     # SIL -> phone boundary
            k = b
            while k > a and loud[k - 1]:
                k -= 1
            if (b - k) / FRAME_RATE >= min_run:
                t = max(k / FRAME_RATE, s.start)
                segs[i + 1].start = s.end = t
                moved += 1
        if i > 0 and segs[i - 1].phone != "SIL":                  # phone -> SIL boundary
            a, b = frames(s)
            k = a
            while k < b and loud[k]:
                k += 1
            if (k - a) / FRAME_RATE >= min_run:
                t = min(k / FRAME_RATE, s.end)
                segs[i - 1].end = s.start = t
                moved += 1
    out = [s for s in segs if s.phone != "SIL" or s.end - s.start >= 0.01 - 1e-9]
    # removed SILs: close the gap by extending the previous segment
    fixed: List[Segment] = []
    for s in out:
        if fixed and s.start != fixed[-1].end:
            fixed[-1].end = s.start
        fixed.append(s)
    if fixed:
        fixed[0].start = 0.0
        fixed[-1].end = segments[-1].end
    return fixed, moved


@functools.lru_cache(maxsize=1)
def _default_aligner() -> EnglishAligner:
    return EnglishAligner()


# ---------------------------------------------------------------------------------------------
# Loading


def load_prompt(prompt: Prompt, align: bool = True,
                aligner: Optional[EnglishAligner] = None) -> Utterance:
    """One prompt as an Utterance: high-passed at 60 Hz (DC offsets, rumble) and resampled to
    CORPUS_RATE. English with align=True gets ARPAbet segments, params["notation"] =
    "arpabet" (raises UnalignableText / RuntimeError when that is impossible); otherwise
    segments=[] and the transcript in `text`."""
    x, sr = read_audio(prompt.path)
    y = to_corpus_rate(highpass(x, sr), sr)
    src = prompt.source
    params = {
        "package": src.package, "path": prompt.path, "key": prompt.key,
        "raw_text": prompt.raw_text, "transcript_source": prompt.transcript_source,
        "transcript_exact": src.transcript_exact, "original_sample_rate": sr,
    }
    segments: List[Segment] = []
    if align and src.language == "en":
        al = aligner or _default_aligner()
        words = al.dictionary_words(
            english_words(prompt.text, letters=prompt.key.startswith("letters/")))
        segments, info = al.align(y, words)
        params.update(info)
        params["notation"] = "arpabet"
        params["aligner"] = "pocketsphinx-5 en-us"
    return Utterance(samples=y, sample_rate=CORPUS_RATE, segments=segments, text=prompt.text,
                     language=src.language, engine="human", voice=src.voice,
                     speaker=src.speaker, params=params)


def load_prompts(language: str, align: bool = True, limit: Optional[int] = None,
                 stats: Optional[dict] = None) -> List[Utterance]:
    """Utterances for the prompts of `language` (discovery order, first `limit`).

    English with align=True: phone-aligned; prompts that cannot be aligned (OOV words,
    ambiguous numbers, alignment failure) are skipped and counted in `stats` (a dict filled
    with "discovered", "loaded", "skipped_oov", "skipped_number", "skipped_failed" and
    "oov_words")."""
    st = stats if stats is not None else {}
    st.update(discovered=0, loaded=0, skipped_oov=0, skipped_number=0, skipped_failed=0,
              oov_words={})
    out: List[Utterance] = []
    prompts = discover_prompt_records(language)
    st["discovered"] = len(prompts)
    for p in prompts:
        if limit is not None and len(out) >= limit:
            break
        try:
            out.append(load_prompt(p, align=align))
        except UnalignableText as e:
            msg = str(e)
            if msg.startswith("out of vocabulary"):
                st["skipped_oov"] += 1
                for w in msg.split(":", 1)[1].split():
                    st["oov_words"][w] = st["oov_words"].get(w, 0) + 1
            else:
                st["skipped_number"] += 1
        except RuntimeError:
            st["skipped_failed"] += 1
    st["loaded"] = len(out)
    return out
