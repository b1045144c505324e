"""Forced alignment of transcripts to a phone head's posteriors (kmtalk_train.forced_align).

The Viterbi pass is checked on constructed posteriors whose best path is known; the
transcript side on espeak-ng (skipped where it is not installed)."""
import numpy as np
import pytest

from kmtalk_train import forced_align as fa

INVENTORY = ["_", "a", "b", "m", "o", "p"]


def posteriors(labels, inventory=INVENTORY, sharp=4.0, seed=0):
    """Log posteriors that favour `labels` per frame, with noise."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(0, 0.3, (len(labels), len(inventory)))
    for t, label in enumerate(labels):
        logits[t, inventory.index(label)] += sharp
    return logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))


def test_recovers_the_path_the_posteriors_favour():
    truth = ["_"] * 5 + ["b"] * 3 + ["a"] * 6 + ["_"] * 4 + ["m"] * 2 + ["o"] * 7 + ["_"] * 3
    result = fa.align(posteriors(truth), INVENTORY, [("b", "a"), ("m", "o")], fps=50)
    assert result.labels == truth
    assert result.confidence == pytest.approx(0.0, abs=1e-12)
    segments = result.segments()
    assert [s.phone for s in segments] == ["_", "b", "a", "_", "m", "o", "_"]
    assert segments[1].start == pytest.approx(5 / 50) and segments[-1].end == pytest.approx(len(truth) / 50)


def test_pauses_are_optional_and_only_between_words():
    # No pause anywhere in the audio: the path skips every optional pause.
    truth = ["b"] * 3 + ["a"] * 4 + ["m"] * 3 + ["o"] * 4
    result = fa.align(posteriors(truth), INVENTORY, [("b", "a"), ("m", "o")], fps=50)
    assert result.labels == truth
    # A pause inside a word is not allowed: frames that look like a pause between b and a
    # go to b or a, never to "_".
    inside = ["m"] * 3 + ["o"] * 3 + ["b"] * 3 + ["_"] * 4 + ["a"] * 4
    result = fa.align(posteriors(inside), INVENTORY, [("m", "o"), ("b", "a")], fps=50)
    first_b = result.labels.index("b")
    assert "_" not in result.labels[first_b:]
    assert result.labels[-1] == "a"
    assert result.confidence < -0.5   # the transcript disagrees with what the head hears


def test_every_phone_gets_a_frame_even_against_the_posteriors():
    truth = ["p"] * 10
    result = fa.align(posteriors(truth), INVENTORY, [("p", "a", "p")], fps=50)
    assert [s.phone for s in result.segments()] == ["p", "a", "p"]
    # With a minimum duration every phone gets that many frames.
    result = fa.align(posteriors(truth), INVENTORY, [("p", "a", "p")], fps=50, min_frames=3)
    assert [round(s.duration * 50) for s in result.segments()][1] == 3
    # An utterance too short for the minimum falls back to what fits.
    short = fa.align(posteriors(["p"] * 4), INVENTORY, [("p", "a")], fps=50, min_frames=3)
    assert [s.phone for s in short.segments()] == ["p", "a"]


def test_too_many_phones_for_the_frames_is_no_alignment():
    assert fa.align(posteriors(["a", "b"]), INVENTORY, [("b", "a", "m")], fps=50) is None


def test_a_wrong_transcript_has_low_confidence():
    truth = ["b"] * 6 + ["a"] * 10 + ["p"] * 4
    right = fa.align(posteriors(truth), INVENTORY, [("b", "a", "p")], fps=50, min_frames=2)
    wrong = fa.align(posteriors(truth), INVENTORY, [("m", "o")], fps=50, min_frames=2)
    assert right.confidence > -0.1
    assert wrong.confidence < fa.DEFAULT_MIN_CONFIDENCE


def test_phones_outside_the_inventory_are_refused():
    with pytest.raises(ValueError, match="outside the model's inventory"):
        fa.align(posteriors(["a"] * 5), INVENTORY, [("ʒ",)], fps=50)


def test_state_sequence_puts_optional_pauses_between_words():
    symbols, optional = fa.state_sequence([("b", "a"), ("m",)])
    assert symbols == ["_", "b", "a", "_", "m", "_"]
    assert optional == [True, False, False, True, False, True]


def test_transcript_words_strip_punctuation():
    assert fa.transcript_words("¿Dónde está? «Aquí», dijo—ya.") == ["Dónde", "está", "Aquí", "dijo", "ya"]


def test_transcript_phones_from_espeak():
    from kmtalk_train.tts import espeak
    if not espeak.is_available():
        pytest.skip("espeak-ng is not installed")
    words = fa.transcript_phones("Por favor, espere.", "es")
    assert len(words) == 3
    assert words[0][0] == "p" and words[1][0] == "f" and "_" not in sum(words, ())
    italian = fa.transcript_phones("Grazie mille", "it")
    assert italian[1][0] == "m"
