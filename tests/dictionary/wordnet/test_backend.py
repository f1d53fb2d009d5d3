"""WordNetDictionary on the sample database: the answer's shape, morphology and
how it opens (lazily, once per thread and process, read-only)."""

from __future__ import annotations

import json
import shutil
import sqlite3
import threading
from pathlib import Path

import pytest

from dictionary.backends import base
from dictionary.backends.wordnet import WordNetDictionary, backend, compiler, schema
from tests.conftest import WORDNET_SAMPLE as SAMPLE_SOURCE

from .conftest import without_answers


def parts_of_speech(lookup: base.Lookup) -> list[tuple[str, list[str]]]:
    assert lookup.entries is not None
    return [(e["word"], [m["partOfSpeech"] for m in e["meanings"]]) for e in lookup.entries]


def meaning(lookup: base.Lookup, word: str, pos: str) -> dict:
    assert lookup.entries is not None
    entry = next(e for e in lookup.entries if e["word"] == word)
    return next(m for m in entry["meanings"] if m["partOfSpeech"] == pos)


def test_an_entry_has_the_free_dictionary_api_shape(sample: WordNetDictionary) -> None:
    lookup = sample.lookup("hello")
    assert (lookup.word, lookup.source, lookup.found) == ("hello", "wordnet", True)
    [entry] = json.loads(lookup.response_body)
    assert list(entry) == ["word", "phonetics", "meanings", "license", "sourceUrls"]
    assert entry["phonetics"] == []
    assert entry["license"] == {"name": schema.LICENSE_NAME, "url": schema.LICENSE_URL}
    assert entry["sourceUrls"] == [schema.SOURCE_URL]
    [noun] = entry["meanings"]
    assert list(noun) == ["partOfSpeech", "definitions", "synonyms", "antonyms"]
    assert noun["definitions"] == [
        {
            "definition": "an expression of greeting",
            "synonyms": ["hullo", "hi"],
            "antonyms": [],
            "example": "every morning they exchanged polite hellos",
        }
    ]
    assert (noun["synonyms"], noun["antonyms"]) == (["hullo", "hi"], [])


def test_meanings_follow_part_of_speech_and_sense_order(sample: WordNetDictionary) -> None:
    lookup = sample.lookup("goose")
    assert parts_of_speech(lookup) == [("goose", ["noun", "verb"])]
    nouns = meaning(lookup, "goose", "noun")["definitions"]
    assert [d["definition"][:10] for d in nouns] == ["web-footed", "a man who "]
    assert "example" not in nouns[0]
    assert nouns[1]["synonyms"] == ["fathead", "bozo"]


def test_antonyms_are_per_sense_and_unioned_per_meaning(sample: WordNetDictionary) -> None:
    lookup = sample.lookup("good")
    assert meaning(lookup, "good", "noun")["definitions"][0]["antonyms"] == ["evil"]
    adjective = meaning(lookup, "good", "adjective")
    assert [d["antonyms"] for d in adjective["definitions"]] == [["bad"], []]
    assert adjective["antonyms"] == ["bad"]
    assert adjective["synonyms"] == ["full"]


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("geese", [("goose", ["noun"])]),
        ("running", [("running", ["noun"]), ("run", ["verb"])]),
        ("ran", [("run", ["verb"])]),
        ("walked", [("walk", ["verb"])]),
        (
            "better",
            [
                ("better", ["adjective", "adverb"]),
                ("good", ["adjective"]),
                ("well", ["adjective", "adverb"]),
            ],
        ),
        ("ice cream", [("ice cream", ["noun"])]),
        ("ice creams", [("ice cream", ["noun"])]),
        ("runs away", [("run away", ["verb"])]),
        ("dead end", [("dead end", ["noun"]), ("dead-end", ["adjective"])]),
        ("o’clock", [("o'clock", ["adverb"])]),
        ("einstein", [("einstein", ["noun"])]),
        ("y2k", [("y2k", ["noun"])]),
    ],
)
def test_inflections_and_spellings_find_their_lemmas(
    sample: WordNetDictionary, word: str, expected: list
) -> None:
    assert parts_of_speech(sample.lookup(word)) == expected


def test_answers_made_at_build_time_equal_the_morphology_at_run_time(
    sample: WordNetDictionary, sample_db: Path, tmp_path: Path
) -> None:
    with sqlite3.connect(sample_db) as connection:
        forms = [form for (form,) in connection.execute("SELECT DISTINCT form FROM answer")]
    connection.close()
    morphed = without_answers(sample_db, tmp_path / "morphed.sqlite3")
    assert len(forms) > 20
    for form in forms:
        word = form.replace("_", " ")
        assert sample.lookup(word).body == morphed.lookup(word).body, word


def test_a_proper_noun_lists_its_other_capitalised_words(sample: WordNetDictionary) -> None:
    noun = meaning(sample.lookup("einstein"), "einstein", "noun")
    assert noun["synonyms"] == ["Albert Einstein"]


@pytest.mark.parametrize(
    ("word", "found"),
    [
        ("café", "cafe"),
        ("naïve", "naive"),
        ("résumé", "resume"),
        ("cafe\u0301", "cafe"),  # a combining accent, as the validation would not leave it
        ("cafés", "cafe"),  # the accent goes, then the morphology runs
        ("coffee shöp", "coffee shop"),
    ],
)
def test_a_word_known_only_without_its_accents_answers_that_word(
    sample: WordNetDictionary, word: str, found: str
) -> None:
    lookup = sample.lookup(word)
    assert lookup.word == word  # the cache's key stays the word asked for
    assert parts_of_speech(lookup)[0][0] == found


def test_only_a_miss_with_accents_is_tried_again(sample: WordNetDictionary) -> None:
    statements: list[str] = []
    sample._connection().set_trace_callback(statements.append)

    def queries(word: str) -> int:
        statements.clear()
        sample.lookup(word)
        return len(statements)

    assert queries("xÿzzy") == 2 * queries("xyzzy") > 0
    assert queries("café") > queries("cafe")
    assert queries("привет") == queries("xyzzy")  # non-ASCII, but no accent to remove


@pytest.mark.parametrize("word", ["mice", "xyzzy", "Ωμέγα", "hello world", "-", "'", "zz9zz"])
def test_unknown_words_are_not_found(sample: WordNetDictionary, word: str) -> None:
    lookup = sample.lookup(word)
    assert lookup.entries is None
    assert json.loads(lookup.response_body) == base.NOT_FOUND


def test_a_missing_file_is_unavailable_until_it_is_built(tmp_path: Path) -> None:
    path = tmp_path / "wordnet.sqlite3"
    dictionary = WordNetDictionary(path)  # must not touch the file
    assert not dictionary.ready()
    with pytest.raises(base.BackendUnavailable, match=str(path)):
        dictionary.lookup("hello")
    compiler.compile_wordnet(SAMPLE_SOURCE, path)
    assert dictionary.ready()
    assert dictionary.lookup("hello").found


def test_a_file_that_is_not_a_database_is_unavailable(tmp_path: Path) -> None:
    path = tmp_path / "wordnet.sqlite3"
    path.write_bytes(b"not a database at all" * 100)
    dictionary = WordNetDictionary(path)
    assert not dictionary.ready()
    with pytest.raises(base.BackendUnavailable):
        dictionary.lookup("hello")


def test_a_database_of_another_schema_version_is_not_ready(tmp_path: Path, sample_db: Path) -> None:
    path = Path(shutil.copy(sample_db, tmp_path / "old.sqlite3"))
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE meta SET value = 'old' WHERE key = 'schema_version'")
    connection.close()
    assert not WordNetDictionary(path).ready()
    with pytest.raises(base.BackendUnavailable, match="rebuild it"):
        WordNetDictionary(path).lookup("hello")


class CountingConnect:
    """Wraps sqlite3.connect to count the files opened."""

    def __init__(self) -> None:
        self.calls = 0
        self.connect = sqlite3.connect

    def __call__(self, *args: object, **kwargs: object) -> sqlite3.Connection:
        self.calls += 1
        return self.connect(*args, **kwargs)


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> CountingConnect:
    counter = CountingConnect()
    monkeypatch.setattr(backend.sqlite3, "connect", counter)
    return counter


def test_one_read_only_connection_per_thread(sample_db: Path, opened: CountingConnect) -> None:
    dictionary = WordNetDictionary(sample_db)
    assert opened.calls == 0
    for word in ("hello", "geese", "xyzzy", "better"):
        dictionary.lookup(word)
    assert opened.calls == 1
    worker = threading.Thread(target=dictionary.lookup, args=("hello",))
    worker.start()
    worker.join()
    assert opened.calls == 2
    connection = dictionary._connection()
    assert connection.execute("PRAGMA cache_size").fetchone() == (-backend.PAGE_CACHE_KIB,)
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        connection.execute("DELETE FROM meta")


def test_a_forked_process_opens_its_own_connection(
    sample_db: Path, opened: CountingConnect, monkeypatch: pytest.MonkeyPatch
) -> None:
    dictionary = WordNetDictionary(sample_db)
    dictionary.lookup("hello")
    monkeypatch.setattr(backend.os, "getpid", lambda: -1)
    dictionary.lookup("hello")
    assert opened.calls == 2


def test_every_query_searches_a_primary_key(sample: WordNetDictionary) -> None:
    """No lookup makes SQLite scan a table (a row-value IN list would: see the reference)."""
    statements: list[str] = []
    sample._connection().set_trace_callback(statements.append)
    for word in ("goose", "geese", "ice creams", "runs away", "dead end", "xyzzy"):
        sample.lookup(word)
    queries = {s for s in statements if s.startswith("SELECT")}
    assert len(queries) >= 3  # the answer join, exceptions, meanings
    with sqlite3.connect(sample.path) as connection:
        plans = {q: [r[3] for r in connection.execute(f"EXPLAIN QUERY PLAN {q}")] for q in queries}
    connection.close()
    for query, steps in plans.items():
        assert steps, query
        assert all(step.startswith("SEARCH") and "PRIMARY KEY" in step for step in steps), (
            query,
            steps,
        )
