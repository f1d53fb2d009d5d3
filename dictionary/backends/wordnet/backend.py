"""Serve lookups from the compiled WordNet file, in the Free Dictionary API v2 shape.

Gunicorn imports the app and then forks, so nothing is opened here until the first
lookup: each thread of each process opens its own read-only connection once and
keeps it (SQLite connections must not cross a fork or be shared between threads).
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections import defaultdict
from functools import lru_cache
from pathlib import Path

from ..base import BackendUnavailable, Entry, Lookup
from . import morphology, schema

SenseRow = tuple[str | None, str, str | None, str]  # antonyms, definition, example, words

LICENSE = {"name": schema.LICENSE_NAME, "url": schema.LICENSE_URL}


class _PerThread(threading.local):
    connection: sqlite3.Connection | None = None
    pid = 0


class WordNetDictionary:
    """The embedded dictionary: WordNet 3.0 compiled by `scripts/build_wordnet.py`."""

    name = "wordnet"

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        # immutable=1: the file never changes under us (builds replace it by rename),
        # so SQLite can skip locking and change detection on every read.
        self._uri = f"{self.path.absolute().as_uri()}?mode=ro&immutable=1"
        self._local = _PerThread()

    def lookup(self, word: str) -> Lookup:
        form = morphology.to_lemma_spelling(word)
        try:
            connection = self._connection()
            exceptions = _exceptions(connection, morphology.exception_forms(form))
            tiers = morphology.tiers(form, exceptions)
            senses = _senses(connection, {name for t in tiers for ls in t.values() for name in ls})
        except sqlite3.Error as error:
            self._forget()
            raise BackendUnavailable(f"WordNet database {self.path}: {error}") from error
        chosen = morphology.select(form, tiers, set(senses))
        entries = [
            _entry(lemma, [senses[lemma, pos] for pos in poses], poses)
            for lemma, poses in chosen.items()
        ]
        return Lookup.from_entries(word, entries or None, self.name)

    def ready(self) -> bool:
        try:
            self._connection()
        except BackendUnavailable:
            return False
        return True

    def _connection(self) -> sqlite3.Connection:
        """This thread's connection, opened on first use and again after a fork."""
        local = self._local
        if local.connection is None or local.pid != os.getpid():
            local.connection, local.pid = self._open(), os.getpid()
        return local.connection

    def _open(self) -> sqlite3.Connection:
        try:
            connection = sqlite3.connect(self._uri, uri=True, isolation_level=None)
        except sqlite3.Error as error:
            raise BackendUnavailable(f"WordNet database {self.path}: {error}") from error
        try:
            row = connection.execute(
                "SELECT value FROM meta WHERE key = 'schema_version'"
            ).fetchone()
        except sqlite3.Error as error:
            connection.close()
            raise BackendUnavailable(f"WordNet database {self.path}: {error}") from error
        if row is None or row[0] != schema.SCHEMA_VERSION:
            connection.close()
            raise BackendUnavailable(
                f"WordNet database {self.path} has schema {row and row[0]!r}, "
                f"expected {schema.SCHEMA_VERSION!r}: rebuild it with scripts/build_wordnet.py"
            )
        return connection

    def _forget(self) -> None:
        """Drop a connection that failed, so that the next lookup opens a fresh one."""
        connection, self._local.connection = self._local.connection, None
        if connection is not None and self._local.pid == os.getpid():
            connection.close()


@lru_cache(maxsize=64)
def _placeholders(count: int) -> str:
    return ", ".join("?" * count)


def _exceptions(connection: sqlite3.Connection, forms: list[str]) -> morphology.Exceptions:
    rows = connection.execute(
        f"SELECT form, pos, base FROM exception WHERE form IN ({_placeholders(len(forms))})"  # noqa: S608
        " ORDER BY form, pos, rank",
        forms,
    )
    exceptions: dict[tuple[str, int], list[str]] = {}
    for form, pos, base in rows:
        exceptions.setdefault((form, pos), []).append(base)
    return exceptions


def _senses(
    connection: sqlite3.Connection, lemmas: set[str]
) -> dict[tuple[str, int], list[SenseRow]]:
    """Every sense of these lemmas, by (lemma, pos), in WordNet's sense order.

    `lemma IN (...)` on the key's first column: a row-value `(lemma, pos) IN` list
    would make SQLite scan the whole table (see the WordNet reference).
    """
    ordered = sorted(lemmas)
    rows = connection.execute(
        "SELECT s.lemma, s.pos, s.antonyms, y.definition, y.example, y.words"  # noqa: S608
        " FROM sense AS s JOIN synset AS y ON y.id = s.synset"
        f" WHERE s.lemma IN ({_placeholders(len(ordered))}) ORDER BY s.lemma, s.pos, s.rank",
        ordered,
    )
    senses: dict[tuple[str, int], list[SenseRow]] = defaultdict(list)
    for lemma, pos, *rest in rows:
        senses[lemma, pos].append(tuple(rest))
    return senses


def _entry(lemma: str, senses_by_pos: list[list[SenseRow]], poses: list[int]) -> Entry:
    word = lemma.replace("_", " ")
    return {
        "word": word,
        "phonetics": [],
        "meanings": [
            _meaning(word, pos, rows) for pos, rows in zip(poses, senses_by_pos, strict=True)
        ],
        "license": dict(LICENSE),
        "sourceUrls": [schema.SOURCE_URL],
    }


def _meaning(word: str, pos: int, rows: list[SenseRow]) -> Entry:
    """One part of speech: its definitions, and the union of their (ant)onyms."""
    definitions = []
    all_synonyms: dict[str, None] = {}
    all_antonyms: dict[str, None] = {}
    for antonyms_text, definition_text, example, words in rows:
        synonyms = [w for w in words.split(schema.LIST_SEPARATOR) if w.lower() != word]
        antonyms = antonyms_text.split(schema.LIST_SEPARATOR) if antonyms_text else []
        definition: Entry = {
            "definition": definition_text,
            "synonyms": synonyms,
            "antonyms": antonyms,
        }
        if example:
            definition["example"] = example
        definitions.append(definition)
        all_synonyms.update(dict.fromkeys(synonyms))
        all_antonyms.update(dict.fromkeys(antonyms))
    return {
        "partOfSpeech": schema.POS_NAMES[pos],
        "definitions": definitions,
        "synonyms": list(all_synonyms),
        "antonyms": list(all_antonyms),
    }
