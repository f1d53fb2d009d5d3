"""The morph.c rules as pure functions (no database)."""

from __future__ import annotations

import pytest

from dictionary.backends.wordnet import morphology
from dictionary.backends.wordnet.morphology import ADJECTIVE, ADVERB, NOUN, VERB


@pytest.mark.parametrize(
    ("typed", "lemma"),
    [("ice cream", "ice_cream"), ("o’clock", "o'clock"), ("Geese", "geese"), (" run ", "run")],
)
def test_typed_words_take_wordnet_index_spelling(typed: str, lemma: str) -> None:
    assert morphology.to_lemma_spelling(typed) == lemma


@pytest.mark.parametrize(
    ("word", "plain"),
    [
        ("café", "cafe"),
        ("naïve", "naive"),
        ("résumé", "resume"),
        ("crème brûlée", "creme brulee"),
        ("cafe\u0301", "cafe"),
        ("ångström", "angstrom"),
        ("smørrebrød", "smørrebrød"),  # ø is a letter of its own, not o with a mark
        ("straße", "straße"),
        ("hello", "hello"),
    ],
)
def test_accents_are_removed_and_other_letters_kept(word: str, plain: str) -> None:
    assert morphology.without_accents(word) == plain


@pytest.mark.parametrize(
    ("word", "pos", "base"),
    [
        ("boxes", NOUN, "box"),
        ("churches", NOUN, "church"),
        ("women", NOUN, "woman"),
        ("ponies", NOUN, "pony"),
        ("boxesful", NOUN, "boxful"),
        ("walked", VERB, "walk"),
        ("loved", VERB, "love"),
        ("hurries", VERB, "hurry"),
        ("nicer", ADJECTIVE, "nice"),
        ("tallest", ADJECTIVE, "tall"),
    ],
)
def test_detachment_rules_propose_the_base(word: str, pos: int, base: str) -> None:
    assert base in morphology.detach(word, pos)


@pytest.mark.parametrize(
    ("word", "pos"), [("glass", NOUN), ("is", NOUN), ("faster", ADVERB), ("cat", VERB)]
)
def test_no_rule_applies(word: str, pos: int) -> None:
    assert morphology.detach(word, pos) == []


def test_an_exception_replaces_the_rules_for_its_part_of_speech() -> None:
    exceptions = {("axes", NOUN): ["axis"]}
    assert morphology.word_forms("axes", NOUN, exceptions) == ["axes", "axis"]
    assert "axe" in morphology.word_forms("axes", VERB, exceptions)  # rules still apply


def test_candidates_start_with_the_form_itself_for_every_part_of_speech() -> None:
    by_pos = morphology.candidates("better", {("better", ADJECTIVE): ["good", "well"]})
    assert set(by_pos) == {NOUN, VERB, ADJECTIVE, ADVERB}
    assert all(lemmas[0] == "better" for lemmas in by_pos.values())
    assert by_pos[ADJECTIVE] == ["better", "good", "well"]


def test_collocations_are_also_morphed_word_by_word() -> None:
    assert "run_away" in morphology.candidates("runs_away", {})[VERB]
    stepped = {("stepped", VERB): ["step"]}
    assert "goose-step" in morphology.candidates("goose-stepped", stepped)[VERB]
    assert "ice_cream" in morphology.candidates("ice_creams", {})[NOUN]


def test_a_long_phrase_stays_within_the_combination_limit() -> None:
    phrase = "_".join(["boxes"] * 12)
    assert len(morphology.candidates(phrase, {})[VERB]) <= 2 + morphology.MAX_COMBINATIONS


def test_exception_forms_cover_the_phrase_and_its_words() -> None:
    assert morphology.exception_forms("attorneys_general") == [
        "attorneys_general",
        "attorneys",
        "general",
    ]
    assert morphology.exception_forms("geese") == ["geese"]


def test_separators_are_swapped_first_and_dropped_only_as_a_last_resort() -> None:
    swapped, loose = morphology.tiers("a.d.", {})
    assert "a.d." in swapped[ADVERB]
    assert "ad" not in swapped[ADVERB]
    assert "ad" in loose[ADVERB]
    swapped, _ = morphology.tiers("dead_end", {})
    assert {"dead_end", "dead-end"} <= set(swapped[ADJECTIVE])


def test_select_prefers_the_first_tier_and_puts_the_form_first() -> None:
    tiers = ({NOUN: ["wa", "was"], VERB: ["was", "be"]}, {NOUN: ["w"]})
    known = {("was", VERB), ("be", VERB), ("wa", NOUN), ("w", NOUN)}
    assert list(morphology.select("was", tiers, known).items()) == [
        ("was", [VERB]),
        ("wa", [NOUN]),
        ("be", [VERB]),
    ]
    assert morphology.select("w", tiers, {("w", NOUN)}) == {"w": [NOUN]}
    assert morphology.select("x", tiers, set()) == {}
