"""Compile WordNet's text database into the read-only SQLite file the backend serves.

Runs once, at image build time or on `make wordnet`; the app never imports it.
The whole database is assembled in memory and written with `VACUUM INTO` to a
temporary file that is renamed into place, so a reader never sees half a file and
the same input always gives the same bytes (no timestamps, sorted inserts).
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from . import schema, wndb
from .wndb import Synset, SynsetKey, WordNetFormatError

LICENSE_FILE_NAME = "wordnet-LICENSE"
INSTALL_HINT = "install Debian's wordnet-base: apt-get install --no-install-recommends wordnet-base"
WORDNET_VERSION = "3.0"

__all__ = ["BuildReport", "SourceMissing", "WordNetFormatError", "compile_wordnet"]


class SourceMissing(FileNotFoundError):
    """The WordNet files are not where we were told to look."""


@dataclass(frozen=True)
class BuildReport:
    output: Path
    license_path: Path
    size: int
    lemmas: int
    synsets: int
    senses: int
    exceptions: int


def source_files(source: Path) -> list[Path]:
    """Every file the build reads, in a fixed order (it also fixes the checksum)."""
    names = [f"{kind}.{pos}" for pos in schema.POS_FILES for kind in ("index", "data")]
    return [source / name for name in names + [f"{pos}.exc" for pos in schema.POS_FILES]]


def check_sources(source: Path) -> None:
    missing = [path for path in source_files(source) if not path.is_file()]
    if missing:
        raise SourceMissing(f"{missing[0]} is missing; {INSTALL_HINT}")


def compile_wordnet(source: Path, output: Path) -> BuildReport:
    """Build `output` and `<its folder>/wordnet-LICENSE` from the files in `source`."""
    check_sources(source)
    output.parent.mkdir(parents=True, exist_ok=True)
    memory = sqlite3.connect(":memory:")
    try:
        license_text, counts = _fill(memory, source)
        _write_atomically(output, lambda tmp: memory.execute("VACUUM INTO ?", (str(tmp),)))
    finally:
        memory.close()
    license_path = output.parent / LICENSE_FILE_NAME
    _write_atomically(license_path, lambda tmp: tmp.write_text(license_text, encoding="utf-8"))
    return BuildReport(output, license_path, output.stat().st_size, *counts)


def _fill(db: sqlite3.Connection, source: Path) -> tuple[str, tuple[int, int, int, int]]:
    """Load every table; return the licence text and the row counts."""
    db.executescript(schema.DDL)
    license_text, synsets = _read_all_synsets(source)
    ids = {key: number for number, key in enumerate(sorted(synsets), start=1)}
    db.executemany("INSERT INTO synset VALUES (?, ?, ?, ?)", _synset_rows(synsets, ids))
    senses = sorted(_sense_rows(source, synsets, ids))
    db.executemany("INSERT INTO sense VALUES (?, ?, ?, ?, ?)", senses)
    exceptions = sorted(_exception_rows(source))
    db.executemany("INSERT INTO exception VALUES (?, ?, ?, ?)", exceptions)
    counts = (len({row[0] for row in senses}), len(synsets), len(senses), len(exceptions))
    db.executemany("INSERT INTO meta VALUES (?, ?)", _meta_rows(source, license_text, counts))
    db.commit()
    return license_text, counts


def _read_all_synsets(source: Path) -> tuple[str, dict[SynsetKey, Synset]]:
    synsets: dict[SynsetKey, Synset] = {}
    license_text = ""
    for pos in schema.POS_FILES:
        header, parsed = wndb.read_synsets(source / f"data.{pos}")
        license_text = license_text or header
        synsets.update((synset.key, synset) for synset in parsed)
    if not license_text:
        raise WordNetFormatError(f"{source}/data.noun has no licence header")
    return license_text, synsets


def _synset_rows(synsets: dict[SynsetKey, Synset], ids: dict[SynsetKey, int]) -> Iterator[tuple]:
    for key, synset in synsets.items():
        words = schema.LIST_SEPARATOR.join(wndb.display(word) for word in synset.words)
        yield ids[key], synset.definition, synset.example, words


def _sense_rows(
    source: Path, synsets: dict[SynsetKey, Synset], ids: dict[SynsetKey, int]
) -> Iterator[tuple]:
    """(lemma, pos, rank, synset id, antonyms) for every sense of every index file."""
    for pos, name in enumerate(schema.POS_FILES):
        path = source / f"index.{name}"
        for lemma, keys in wndb.read_index(path, pos):
            for rank, key in enumerate(keys):
                if key not in synsets:
                    raise WordNetFormatError(f"{path}: {lemma} points to missing synset {key}")
                yield lemma, pos, rank, ids[key], _antonyms(lemma, synsets[key], synsets)


def _antonyms(lemma: str, synset: Synset, synsets: dict[SynsetKey, Synset]) -> str | None:
    """The lexical `!` targets of this lemma's own word in the synset, if any."""
    lowered = [word.lower() for word in synset.words]
    if lemma not in lowered:
        return None
    targets = synset.antonyms.get(lowered.index(lemma) + 1, [])
    words = _unique(wndb.display(synsets[key].words[number - 1]) for key, number in targets)
    return schema.LIST_SEPARATOR.join(words) or None


def _exception_rows(source: Path) -> Iterator[tuple[str, int, int, str]]:
    for pos, name in enumerate(schema.POS_FILES):
        bases: dict[str, list[str]] = {}
        for form, form_bases in wndb.read_exceptions(source / f"{name}.exc"):
            bases.setdefault(form, []).extend(form_bases)
        for form, form_bases in bases.items():
            for rank, base in enumerate(_unique(form_bases)):
                yield form, pos, rank, base


def _meta_rows(source: Path, license_text: str, counts: tuple[int, ...]) -> list[tuple[str, str]]:
    checksum = hashlib.sha256()
    for path in source_files(source):
        checksum.update(path.name.encode() + b"\0" + path.read_bytes())
    return [
        ("schema_version", schema.SCHEMA_VERSION),
        ("wordnet_version", WORDNET_VERSION),
        ("license_name", schema.LICENSE_NAME),
        ("license_url", schema.LICENSE_URL),
        ("license_text", license_text),
        ("source_sha256", checksum.hexdigest()),
        *zip(("lemmas", "synsets", "senses", "exceptions"), map(str, counts), strict=True),
    ]


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _write_atomically(target: Path, write: Callable[[Path], object]) -> None:
    """Let `write` fill a temporary file beside `target`, then rename it over `target`."""
    handle, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(handle)
    temporary = Path(name)
    try:
        write(temporary)
        with temporary.open("rb") as written:
            os.fsync(written.fileno())
        temporary.chmod(0o644)
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
