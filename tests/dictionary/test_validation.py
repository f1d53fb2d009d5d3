"""Which words are accepted, how they are normalised, and that rejects never go upstream."""

from __future__ import annotations

import pytest

from dictionary.validation import MAX_LENGTH, InvalidWord, normalise_word


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("hello", "hello"),
        ("Hello", "hello"),
        ("  HeLLo  ", "hello"),
        ("ice cream", "ice cream"),
        ("ice   cream", "ice cream"),
        ("o'clock", "o'clock"),
        ("o’clock", "o’clock"),
        ("mother-in-law", "mother-in-law"),
        ("a.m.", "a.m."),
        ("café", "café"),
        ("cafe\u0301", "café"),  # combining acute accent, normalised to NFC
        ("привет", "привет"),
        ("ΣΟΦΙΑ", "σοφια"),
        ("日本語", "日本語"),
        ("مرحبا", "مرحبا"),
        ("नमस्ते", "नमस्ते"),  # Devanagari with combining vowel signs
        ("x", "x"),
        ("a" * MAX_LENGTH, "a" * MAX_LENGTH),
        # Digits count as letters: WordNet has these, the upstream more (mp3, COVID-19).
        ("1990s", "1990s"),
        ("12-tone music", "12-tone music"),
        ("Y2K", "y2k"),
        ("3-D", "3-d"),
        (".22-caliber", ".22-caliber"),
        ("COVID-19", "covid-19"),
        ("123", "123"),
        ("7", "7"),
        ("٣", "٣"),  # Arabic-Indic digit three: decimal digits of any script
        ("1" * MAX_LENGTH, "1" * MAX_LENGTH),
    ],
)
def test_accepted_words_are_normalised(raw: str, expected: str) -> None:
    assert normalise_word(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "a" * (MAX_LENGTH + 1),
        "100%",
        "a/b",
        "a\\b",
        "tab\there",
        "new\nline",
        "nul\x00",
        "del\x7f",
        "bad\ufffdutf8",
        "1" * (MAX_LENGTH + 1),
        "24/7",
        "50%",
        "x²",  # superscripts, fractions and numerals are not decimal digits
        "½",
        "Ⅻ",
        "hello!",
        "what?",
        "a_b",
        "<script>",
        "...",
        "-",
        "'",
        "-.'",
    ],
)
def test_rejected_words(raw: str) -> None:
    with pytest.raises(InvalidWord):
        normalise_word(raw)


def test_length_is_measured_after_trimming() -> None:
    assert normalise_word(" " + "a" * MAX_LENGTH + " ") == "a" * MAX_LENGTH


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("...", "The word must contain at least one letter or digit."),
        ("a+b", "The word may contain only letters, digits, combining marks, apostrophes,"),
    ],
)
def test_the_refusal_says_what_a_word_may_contain(raw: str, message: str) -> None:
    with pytest.raises(InvalidWord, match=message.replace(".", r"\.")):
        normalise_word(raw)
