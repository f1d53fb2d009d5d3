"""Every WordNet index entry with a digit (`1990s`, `12-tone music`, `Y2K`, `3-D`,
`.22-caliber`) answers 200 from the embedded dictionary, through the app's route.

The only entries excepted are those the app refuses by rule (a `/`, or more than
64 characters); how many is printed and checked against the index itself.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote

import pytest

from dictionary import create_app
from dictionary.backends.wordnet import schema, wndb
from dictionary.config import Config
from dictionary.validation import MAX_LENGTH

from .conftest import DEBIAN_SOURCE
from .test_debian_wordnet import read_index

# WordNet 3.0 (Debian's wordnet-base 1:3.0): 626 index lines with a digit, over 584
# distinct lemmas, because the 42 numerals written in digits (`0` to `1000`) are both
# a noun and an adjective; no lemma is in three classes. Other counts: other data.
LINES_WITH_DIGITS = 626
LEMMAS_WITH_DIGITS = 584
_DIGIT = re.compile(r"\d")


def lemmas_with_digits() -> tuple[int, list[str]]:
    """The index lines with a digit in their lemma, and their distinct lemmas as written."""
    lines = [
        line.split(" ", 1)[0]
        for name in schema.POS_FILES
        for line in (DEBIAN_SOURCE / f"index.{name}").read_text().splitlines()
        if not line.startswith("  ") and _DIGIT.search(line.split(" ", 1)[0])
    ]
    return len(lines), sorted({wndb.display(lemma) for lemma in lines})


def refused_by_rule(word: str) -> bool:
    return "/" in word or len(word) > MAX_LENGTH


def test_every_wordnet_entry_with_a_digit_answers_200(
    debian_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    line_count, lemmas = lemmas_with_digits()
    assert (line_count, len(lemmas)) == (LINES_WITH_DIGITS, LEMMAS_WITH_DIGITS)
    excepted = [lemma for lemma in lemmas if refused_by_rule(lemma)]
    with capsys.disabled():
        walked = len(lemmas) - len(excepted)
        print(f"\nwords with digits: {walked} walked, {len(excepted)} excepted by rule:", *excepted)
    assert len(excepted) < 10  # the rule excepts a handful (`24/7`, `9/11`), not a class

    client = create_app(Config(backend="wordnet", wordnet_path=str(debian_db))).test_client()
    senses = read_index()
    failures = []
    for lemma in lemmas:
        if refused_by_rule(lemma):
            continue
        response = client.get("/" + quote(lemma))
        first = response.json[0] if response.status_code == 200 else {}
        counts = {m["partOfSpeech"]: len(m["definitions"]) for m in first.get("meanings", [])}
        if (response.status_code, first.get("word"), counts) != (200, lemma, senses[lemma]):
            failures.append((lemma, response.status_code, first.get("word"), counts))
    assert failures == []


@pytest.mark.parametrize(
    ("typed", "word"),
    [
        ("1990s", "1990s"),
        ("12-tone music", "12-tone music"),
        ("Y2K", "y2k"),
        ("3-D", "3-d"),
        (".22-caliber", ".22-caliber"),
        (".22 caliber", ".22 caliber"),
    ],
)
def test_words_with_digits_as_people_type_them(debian_db: Path, typed: str, word: str) -> None:
    client = create_app(Config(backend="wordnet", wordnet_path=str(debian_db))).test_client()
    response = client.get("/" + quote(typed))
    assert response.status_code == 200
    assert response.json[0]["word"] == word
    assert response.headers["X-Dictionary-Source"] == "wordnet"
