"""What the compiler writes and the backend reads: one place, so the two cannot drift.

Bump `SCHEMA_VERSION` whenever the tables change: a backend refuses (not ready) a
file built for another version instead of answering from the wrong layout.
"""

from __future__ import annotations

SCHEMA_VERSION = "1"

# Parts of speech, stored as small integers so that a table ordered by its primary
# key already lists meanings in the order we answer them: noun, verb, adj, adverb.
POS_LETTERS = ("n", "v", "a", "r")
POS_NAMES = ("noun", "verb", "adjective", "adverb")
POS_FILES = ("noun", "verb", "adj", "adv")

# Synonyms and antonyms are stored as one string each, joined by this separator:
# splitting it is cheaper than decoding JSON on every lookup.
LIST_SEPARATOR = "\t"

LICENSE_NAME = "WordNet 3.0 license"
LICENSE_URL = "https://wordnet.princeton.edu/license-and-commercial-use"
SOURCE_URL = "https://wordnet.princeton.edu/"

DDL = """
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE synset (
    id         INTEGER PRIMARY KEY,
    definition TEXT NOT NULL,
    example    TEXT,
    words      TEXT NOT NULL
);
CREATE TABLE sense (
    lemma    TEXT NOT NULL,
    pos      INTEGER NOT NULL,
    rank     INTEGER NOT NULL,
    synset   INTEGER NOT NULL REFERENCES synset (id),
    antonyms TEXT,
    PRIMARY KEY (lemma, pos, rank)
) WITHOUT ROWID;
CREATE TABLE exception (
    form TEXT NOT NULL,
    pos  INTEGER NOT NULL,
    rank INTEGER NOT NULL,
    base TEXT NOT NULL,
    PRIMARY KEY (form, pos, rank)
) WITHOUT ROWID;
"""
