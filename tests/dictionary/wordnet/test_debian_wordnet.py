"""The real WordNet 3.0 from Debian's wordnet-base, built once per session.

`make test` installs the package when it is missing; without it these tests fail.
"""

from __future__ import annotations

import random
from collections import defaultdict
from pathlib import Path

import pytest

from dictionary.backends.base import Lookup
from dictionary.backends.wordnet import WordNetDictionary, schema

from .conftest import DEBIAN_SOURCE, without_answers

SAMPLE_SIZE = 1000


def summary(lookup: Lookup) -> list[tuple[str, list[str]]]:
    assert lookup.entries is not None, f"{lookup.word} not found"
    return [(e["word"], [m["partOfSpeech"] for m in e["meanings"]]) for e in lookup.entries]


def definitions(lookup: Lookup, word: str, pos: str) -> list[str]:
    assert lookup.entries is not None
    entry = next(e for e in lookup.entries if e["word"] == word)
    meaning = next(m for m in entry["meanings"] if m["partOfSpeech"] == pos)
    return [d["definition"] for d in meaning["definitions"]]


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("hello", [("hello", ["noun"])]),
        ("run", [("run", ["noun", "verb"])]),
        ("geese", [("goose", ["noun"])]),
        ("running", [("running", ["noun", "adjective"]), ("run", ["verb"])]),
        (
            "better",
            [
                ("better", ["noun", "verb", "adjective", "adverb"]),
                ("good", ["adjective"]),
                ("well", ["adjective", "adverb"]),
            ],
        ),
        ("ice cream", [("ice cream", ["noun"])]),
        ("be", [("be", ["noun", "verb"])]),
        ("is", [("be", ["verb"])]),
    ],
)
def test_classic_words(wordnet: WordNetDictionary, word: str, expected: list) -> None:
    assert summary(wordnet.lookup(word)) == expected


def test_classic_definitions(wordnet: WordNetDictionary) -> None:
    assert definitions(wordnet.lookup("hello"), "hello", "noun") == ["an expression of greeting"]
    run = wordnet.lookup("run")
    assert definitions(run, "run", "noun")[0].startswith("a score in baseball")
    assert definitions(run, "run", "verb")[0].startswith("move fast by using one's feet")
    assert len(definitions(run, "run", "verb")) == 41
    geese = definitions(wordnet.lookup("geese"), "goose", "noun")
    assert geese[0].startswith("web-footed long-necked")
    ice_cream = definitions(wordnet.lookup("ice cream"), "ice cream", "noun")
    assert ice_cream == ["frozen dessert containing cream and sugar and flavoring"]
    assert definitions(wordnet.lookup("be"), "be", "verb")[0].startswith("have the quality of")


def test_nonsense_is_not_found(wordnet: WordNetDictionary) -> None:
    assert wordnet.lookup("qwzxvbnm").entries is None


def test_the_database_is_ready(wordnet: WordNetDictionary) -> None:
    assert wordnet.ready()


def read_index() -> dict[str, dict[str, int]]:
    """lemma -> {part of speech: number of senses}, straight from the index files."""
    senses: dict[str, dict[str, int]] = defaultdict(dict)
    for name, pos in zip(schema.POS_FILES, schema.POS_NAMES, strict=True):
        for line in (DEBIAN_SOURCE / f"index.{name}").read_text().splitlines():
            if not line.startswith("  "):
                fields = line.split()
                senses[fields[0].replace("_", " ")][pos] = int(fields[2])
    return senses


def test_random_lemmas_come_back_with_every_sense(wordnet: WordNetDictionary) -> None:
    index = read_index()
    seed = random.randrange(2**32)
    lemmas = random.Random(seed).sample(sorted(index), SAMPLE_SIZE)
    for lemma in lemmas:
        lookup = wordnet.lookup(lemma)
        assert lookup.entries, f"{lemma!r} not found (seed {seed})"
        first = lookup.entries[0]
        counts = {m["partOfSpeech"]: len(m["definitions"]) for m in first["meanings"]}
        assert (first["word"], counts) == (lemma, index[lemma]), f"seed {seed}"
        assert all(d["definition"] for m in first["meanings"] for d in m["definitions"])


def test_answers_made_at_build_time_equal_the_morphology_at_run_time(
    wordnet: WordNetDictionary, debian_db: Path, tmp_path: Path
) -> None:
    """Every irregular form, and random lemmas, give the same bytes either way."""
    irregular = [
        line.split()[0]
        for name in schema.POS_FILES
        for line in (DEBIAN_SOURCE / f"{name}.exc").read_text().splitlines()
    ]
    seed = random.randrange(2**32)
    lemmas = random.Random(seed).sample(sorted(read_index()), SAMPLE_SIZE)
    morphed = without_answers(debian_db, tmp_path / "morphed.sqlite3")
    for word in [*irregular, *lemmas]:
        assert wordnet.lookup(word).body == morphed.lookup(word).body, f"{word!r} (seed {seed})"
