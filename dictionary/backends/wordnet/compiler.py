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
from collections.abc import Callable, Container, Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from . import morphology, render, schema, wndb
from .wndb import Synset, SynsetKey, WordNetFormatError

LICENSE_FILE_NAME = "wordnet-LICENSE"
INSTALL_HINT = "install Debian's wordnet-base: apt-get install --no-install-recommends wordnet-base"
WORDNET_VERSION = "3.0"

__all__ = ["BuildReport", "SourceMissing", "WordNetFormatError", "compile_wordnet"]


class SourceMissing(FileNotFoundError):
    """The WordNet files are not where we were told to look."""


@dataclass(frozen=True)
class Counts:
    lemmas: int
    synsets: int
    senses: int
    exceptions: int
    forms: int  # answered in advance: every index lemma and exception-list form


@dataclass(frozen=True)
class BuildReport:
    output: Path
    license_path: Path
    size: int
    counts: Counts


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
    return BuildReport(output, license_path, output.stat().st_size, counts)


def _fill(db: sqlite3.Connection, source: Path) -> tuple[str, Counts]:
    """Load every table; return the licence text and the row counts."""
    db.executescript(schema.DDL)
    license_text, synsets = _read_all_synsets(source)
    senses = _senses_by_meaning(source, synsets)
    exceptions = _read_exceptions(source)
    meanings = {key: render.meaning(*key, senses[key]) for key in sorted(senses)}
    zdict = _zdict(list(meanings.values()))
    compress = schema.compressor(zdict)
    db.executemany(
        "INSERT INTO meaning VALUES (?, ?, ?)",
        ((lemma, pos, compress(body)) for (lemma, pos), body in meanings.items()),
    )
    forms = sorted({morphology.to_lemma_spelling(form) for form, _ in [*senses, *exceptions]})
    answers = _answer_rows(forms, exceptions, senses)
    db.executemany("INSERT INTO answer VALUES (?, ?, ?, ?)", answers)
    exception_rows = [
        (form, pos, rank, base)
        for (form, pos), bases in sorted(exceptions.items())
        for rank, base in enumerate(bases)
    ]
    db.executemany("INSERT INTO exception VALUES (?, ?, ?, ?)", exception_rows)
    counts = Counts(
        lemmas=len({lemma for lemma, _ in senses}),
        synsets=len(synsets),
        senses=sum(map(len, senses.values())),
        exceptions=len(exception_rows),
        forms=len(forms),
    )
    db.executemany("INSERT INTO meta VALUES (?, ?)", _meta_rows(source, license_text, counts))
    db.execute("INSERT INTO meta VALUES (?, ?)", (schema.ZDICT_KEY, zdict))
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


def _senses_by_meaning(
    source: Path, synsets: dict[SynsetKey, Synset]
) -> dict[tuple[str, int], list[render.Sense]]:
    """Every sense of every index file, by (lemma, part of speech), in sense order."""
    senses: dict[tuple[str, int], list[render.Sense]] = {}
    for pos, name in enumerate(schema.POS_FILES):
        path = source / f"index.{name}"
        for lemma, keys in wndb.read_index(path, pos):
            for key in keys:
                if key not in synsets:
                    raise WordNetFormatError(f"{path}: {lemma} points to missing synset {key}")
            senses[lemma, pos] = [_sense(lemma, synsets[key], synsets) for key in keys]
    return senses


def _sense(lemma: str, synset: Synset, synsets: dict[SynsetKey, Synset]) -> render.Sense:
    words = tuple(wndb.display(word) for word in synset.words)
    return render.Sense(synset.definition, synset.example, words, _antonyms(lemma, synset, synsets))


def _antonyms(lemma: str, synset: Synset, synsets: dict[SynsetKey, Synset]) -> list[str]:
    """The lexical `!` targets of this lemma's own word in the synset, if any."""
    lowered = [word.lower() for word in synset.words]
    if lemma not in lowered:
        return []
    targets = synset.antonyms.get(lowered.index(lemma) + 1, [])
    return _unique(wndb.display(synsets[key].words[number - 1]) for key, number in targets)


def _read_exceptions(source: Path) -> dict[tuple[str, int], list[str]]:
    """(form, part of speech) -> its distinct base forms, in file order."""
    exceptions: dict[tuple[str, int], list[str]] = {}
    for pos, name in enumerate(schema.POS_FILES):
        for form, bases in wndb.read_exceptions(source / f"{name}.exc"):
            exceptions.setdefault((form, pos), []).extend(bases)
    return {key: _unique(bases) for key, bases in exceptions.items()}


def _zdict(bodies: list[bytes]) -> bytes:
    """A preset dictionary of typical meanings: an even sample of them, cut to size."""
    step = max(1, len(bodies) // 400)
    return b"".join(bodies[::step])[-schema.ZDICT_SIZE :]


def _answer_rows(
    forms: Iterable[str],
    exceptions: morphology.Exceptions,
    known: Container[tuple[str, int]],
) -> Iterator[tuple[str, int, str, int]]:
    """The morphology of each form, as the backend would compute it at run time."""
    for form in forms:
        chosen = morphology.select(form, morphology.tiers(form, exceptions), known)
        ranked = enumerate((lemma, pos) for lemma, poses in chosen.items() for pos in poses)
        for rank, (lemma, pos) in ranked:
            yield form, rank, lemma, pos


def _meta_rows(source: Path, license_text: str, counts: Counts) -> list[tuple[str, str]]:
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
        *((name, str(value)) for name, value in asdict(counts).items()),
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
