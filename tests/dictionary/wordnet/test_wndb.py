"""The readers of WordNet's text files, on the hand-written sample."""

from __future__ import annotations

from pathlib import Path

import pytest

from dictionary.backends.wordnet import wndb
from dictionary.backends.wordnet.morphology import ADJECTIVE, NOUN
from tests.conftest import WORDNET_SAMPLE as SAMPLE_SOURCE


def synsets_of(name: str) -> dict[str, wndb.Synset]:
    """The sample's synsets of one data file, keyed by their first word."""
    _, synsets = wndb.read_synsets(SAMPLE_SOURCE / f"data.{name}")
    return {synset.words[0]: synset for synset in synsets}


@pytest.mark.parametrize(
    ("gloss", "definition", "example"),
    [
        ("frozen dessert containing cream", "frozen dessert containing cream", None),
        ('a greeting; "hello there"', "a greeting", "hello there"),
        ('flee; cut and run; "run!"; "go away"', "flee; cut and run", "run!"),
        (
            'progress (as in "make strides"); "big strides" - X',
            'progress (as in "make strides")',
            "big strides",
        ),
    ],
)
def test_split_gloss_separates_the_definition_from_the_first_example(
    gloss: str, definition: str, example: str | None
) -> None:
    assert wndb.split_gloss(gloss) == (definition, example)


def test_the_licence_header_is_read_without_its_line_numbers() -> None:
    source = wndb.read_source(SAMPLE_SOURCE / "data.noun")
    lines = source.license_text.splitlines()
    assert lines[0].startswith("This software and database is being provided")
    assert "WordNet 3.0 Copyright 2006 by Princeton University.  All rights reserved." in lines
    assert not any(line[:1].isdigit() for line in lines)
    assert all(not text.startswith("  ") for _, text in source.lines)


def test_body_lines_carry_their_byte_offsets() -> None:
    path = SAMPLE_SOURCE / "data.verb"
    raw = path.read_bytes()
    for offset, text in wndb.read_source(path).lines:
        assert raw[offset:].startswith(text.encode())


def test_adjective_markers_are_stripped_and_satellites_are_adjectives() -> None:
    adjectives = synsets_of("adj")
    assert "well" in adjectives
    assert all("(" not in word for synset in adjectives.values() for word in synset.words)
    assert adjectives["full"].key[0] == ADJECTIVE  # an `s` synset in the file


def test_antonyms_are_lexical_pointers_from_a_word_number() -> None:
    nouns = synsets_of("noun")
    good, evil = nouns["good"], nouns["evil"]
    assert good.antonyms == {1: [(evil.key, 1)]}
    assert evil.antonyms == {1: [(good.key, 1)]}
    assert good.key[0] == NOUN


def test_a_synset_at_the_wrong_offset_is_refused() -> None:
    with pytest.raises(wndb.WordNetFormatError, match="is at byte"):
        wndb.parse_synset(1234, "00001740 05 n 01 goose 0 000 | a bird", Path("data.noun"))


def test_a_truncated_synset_is_refused() -> None:
    with pytest.raises(wndb.WordNetFormatError, match="malformed synset"):
        wndb.parse_synset(1740, "00001740 05 n 02 goose 0", Path("data.noun"))


def test_index_lists_synsets_in_sense_order() -> None:
    index = dict(wndb.read_index(SAMPLE_SOURCE / "index.noun", NOUN))
    nouns = synsets_of("noun")
    assert index["goose"] == [nouns["goose"].key, nouns["fathead"].key]


def test_exceptions_map_a_form_to_all_its_bases(tmp_path: Path) -> None:
    exceptions = dict(wndb.read_exceptions(SAMPLE_SOURCE / "adj.exc"))
    assert exceptions["better"] == ["good", "well"]
    broken = tmp_path / "noun.exc"
    broken.write_text("geese\n")
    with pytest.raises(wndb.WordNetFormatError, match="no base form"):
        list(wndb.read_exceptions(broken))
