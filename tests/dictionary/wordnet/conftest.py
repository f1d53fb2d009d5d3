"""Databases built once per session: from the hand-written sample and from Debian's
real WordNet files (wordnet-base, which `make test` installs when it is missing)."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from dictionary.backends.wordnet import WordNetDictionary
from dictionary.backends.wordnet.compiler import compile_wordnet

DEBIAN_SOURCE = Path("/usr/share/wordnet")

# `sample_db` (the hand-written sample, compiled once) comes from tests/conftest.py.


@pytest.fixture
def sample(sample_db: Path) -> WordNetDictionary:
    return WordNetDictionary(sample_db)


@pytest.fixture(scope="session")
def debian_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not (DEBIAN_SOURCE / "data.noun").is_file():
        pytest.fail(f"{DEBIAN_SOURCE} is missing: make test-packages installs wordnet-base")
    output = tmp_path_factory.mktemp("wordnet-debian") / "wordnet.sqlite3"
    compile_wordnet(DEBIAN_SOURCE, output)
    return output


@pytest.fixture(scope="session")
def wordnet(debian_db: Path) -> WordNetDictionary:
    return WordNetDictionary(debian_db)


def without_answers(db: Path, copy: Path) -> WordNetDictionary:
    """A copy of `db` with no answers made at build time: every lookup runs the morphology."""
    shutil.copyfile(db, copy)
    with sqlite3.connect(copy) as connection:
        connection.execute("DELETE FROM answer")
    connection.close()
    return WordNetDictionary(copy)
