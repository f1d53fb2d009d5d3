"""Serve lookups from the compiled WordNet file, in the Free Dictionary API v2 shape.

Gunicorn imports the app and then forks, so nothing is opened here until the first
lookup: each thread of each process opens its own read-only connection once and
keeps it (SQLite connections must not cross a fork or be shared between threads).

A lookup is one indexed query for the forms answered at build time (every lemma
and irregular form); only other forms run the morphology here, against the
exception list and the meanings that exist. Meanings come out of the file
already rendered, so the answer is inflated and concatenated, never re-encoded.
WordNet spells every lemma in ASCII: an accented word it lacks is looked up once
more without its accents (`café` answers `cafe`), whether this backend serves
alone or as the fallback of `auto` (the upstream still gets the word as typed).
"""

from __future__ import annotations

import os
import sqlite3
import threading
from functools import lru_cache
from pathlib import Path

from ..base import BackendUnavailable, Lookup
from . import morphology, render, schema

# (lemma, compressed meaning JSON), in the order of the answer
Meanings = list[tuple[str, bytes]]

PAGE_CACHE_KIB = 256

_ANSWER = (
    "SELECT a.lemma, m.body FROM answer AS a"
    " JOIN meaning AS m ON m.lemma = a.lemma AND m.pos = a.pos"
    " WHERE a.form = ? ORDER BY a.rank"
)


class _PerThread(threading.local):
    connection: sqlite3.Connection | None = None
    zdict = b""
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
        """Entries of `word`, or of `word` without its accents when only that is known.

        The entries' `word` field names what was found (`café` answers `cafe`);
        `Lookup.word` stays the word asked for, the cache's key.
        """
        form = morphology.to_lemma_spelling(word)
        meanings = self._meanings(form)
        # Only a miss pays for the retry, and only a word with non-ASCII characters.
        if not meanings and not form.isascii():
            plain = morphology.without_accents(form)
            if plain != form:
                meanings = self._meanings(plain)
        zdict = self._local.zdict
        body = render.entries(
            (lemma, schema.decompress(packed, zdict)) for lemma, packed in meanings
        )
        return Lookup(word, body, self.name)

    def _meanings(self, form: str) -> Meanings:
        """The answer made at build time for `form`, else the morphology's."""
        try:
            connection = self._connection()
            return connection.execute(_ANSWER, (form,)).fetchall() or _morph(connection, form)
        except sqlite3.Error as error:
            self._forget()
            raise BackendUnavailable(f"WordNet database {self.path}: {error}") from error

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
            local.connection, local.zdict = self._open()
            local.pid = os.getpid()
        return local.connection

    def _open(self) -> tuple[sqlite3.Connection, bytes]:
        """A read-only connection to a file of our schema, and its preset dictionary."""
        try:
            connection = sqlite3.connect(self._uri, uri=True, isolation_level=None)
        except sqlite3.Error as error:
            raise BackendUnavailable(f"WordNet database {self.path}: {error}") from error
        try:
            meta = dict(
                connection.execute(
                    "SELECT key, value FROM meta WHERE key IN (?, ?)",
                    ("schema_version", schema.ZDICT_KEY),
                )
            )
        except sqlite3.Error as error:
            connection.close()
            raise BackendUnavailable(f"WordNet database {self.path}: {error}") from error
        version = meta.get("schema_version")
        if version != schema.SCHEMA_VERSION:
            connection.close()
            raise BackendUnavailable(
                f"WordNet database {self.path} has schema {version!r}, "
                f"expected {schema.SCHEMA_VERSION!r}: rebuild it with scripts/build_wordnet.py"
            )
        # Every thread has its own connection, and SQLite's default page cache (2 MiB
        # each) would cost a worker 16 MiB; the kernel's page cache already holds the
        # file, so keep only the B-tree's upper pages here (no measurable slowdown).
        connection.execute(f"PRAGMA cache_size = -{PAGE_CACHE_KIB}")
        return connection, meta[schema.ZDICT_KEY]

    def _forget(self) -> None:
        """Drop a connection that failed, so that the next lookup opens a fresh one."""
        connection, self._local.connection = self._local.connection, None
        if connection is not None and self._local.pid == os.getpid():
            connection.close()


@lru_cache(maxsize=64)
def _placeholders(count: int) -> str:
    return ", ".join("?" * count)


def _morph(connection: sqlite3.Connection, form: str) -> Meanings:
    """Meanings of a form that was not answered at build time, by WordNet's morphology."""
    exceptions = _exceptions(connection, morphology.exception_forms(form))
    tiers = morphology.tiers(form, exceptions)
    meanings = _meanings(connection, {lemma for t in tiers for ls in t.values() for lemma in ls})
    chosen = morphology.select(form, tiers, meanings)
    return [(lemma, meanings[lemma, pos]) for lemma, poses in chosen.items() for pos in poses]


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


def _meanings(connection: sqlite3.Connection, lemmas: set[str]) -> dict[tuple[str, int], bytes]:
    """The stored meanings of these lemmas, by (lemma, part of speech).

    `lemma IN (...)` on the key's first column: a row-value `(lemma, pos) IN` list
    would make SQLite scan the whole table (see the WordNet reference).
    """
    rows = connection.execute(
        f"SELECT lemma, pos, body FROM meaning WHERE lemma IN ({_placeholders(len(lemmas))})",  # noqa: S608
        sorted(lemmas),
    )
    return {(lemma, pos): body for lemma, pos, body in rows}
