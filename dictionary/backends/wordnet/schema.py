"""What the compiler writes and the backend reads: one place, so the two cannot drift.

Bump `SCHEMA_VERSION` whenever the tables change: a backend refuses (not ready) a
file built for another version instead of answering from the wrong layout.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable

SCHEMA_VERSION = "2"

# Parts of speech, stored as small integers so that a table ordered by its primary
# key already lists meanings in the order we answer them: noun, verb, adj, adverb.
POS_LETTERS = ("n", "v", "a", "r")
POS_NAMES = ("noun", "verb", "adjective", "adverb")
POS_FILES = ("noun", "verb", "adj", "adv")

LICENSE_NAME = "WordNet 3.0 license"
LICENSE_URL = "https://wordnet.princeton.edu/license-and-commercial-use"
SOURCE_URL = "https://wordnet.princeton.edu/"

# `meaning` holds each (lemma, part of speech) already rendered as the JSON object
# the API returns, so that a lookup renders nothing: 44 MB of JSON, stored as raw
# deflate streams against a preset dictionary of typical meanings (meta key
# `meaning_zdict`), which takes them to about 13 MB and inflates one in ~1.5 µs.
# `answer` is the morphology already applied to every form a person most often
# types, each index lemma and each exception-list form: its rows, in order, are the
# (lemma, part of speech) meanings of the answer. Other forms are resolved at run
# time from `exception` and the keys of `meaning`.
DDL = """
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value NOT NULL
) WITHOUT ROWID;
CREATE TABLE meaning (
    lemma TEXT NOT NULL,
    pos   INTEGER NOT NULL,
    body  BLOB NOT NULL,
    PRIMARY KEY (lemma, pos)
) WITHOUT ROWID;
CREATE TABLE answer (
    form  TEXT NOT NULL,
    rank  INTEGER NOT NULL,
    lemma TEXT NOT NULL,
    pos   INTEGER NOT NULL,
    PRIMARY KEY (form, rank)
) WITHOUT ROWID;
CREATE TABLE exception (
    form TEXT NOT NULL,
    pos  INTEGER NOT NULL,
    rank INTEGER NOT NULL,
    base TEXT NOT NULL,
    PRIMARY KEY (form, pos, rank)
) WITHOUT ROWID;
"""

ZDICT_KEY = "meaning_zdict"
ZDICT_SIZE = 16 * 1024  # 32 KiB gains 4% in size and costs 40% more time to inflate
_RAW_DEFLATE = -15  # raw deflate: no zlib header and checksum, 6 bytes a meaning


def compressor(zdict: bytes) -> Callable[[bytes], bytes]:
    """Compress meanings against `zdict` (priming a compressor once saves 40% of the time)."""
    primed = zlib.compressobj(9, zlib.DEFLATED, _RAW_DEFLATE, zdict=zdict)

    def compress(body: bytes) -> bytes:
        packer = primed.copy()
        return packer.compress(body) + packer.flush()

    return compress


def decompress(packed: bytes, zdict: bytes) -> bytes:
    return zlib.decompressobj(_RAW_DEFLATE, zdict=zdict).decompress(packed)
