"""Readers for WordNet's own database files (the wndb(5WN) format Debian ships).

Only what the API shows is kept: words, glosses and lexical antonyms. Byte offsets
are checked against the line positions so that a truncated or re-encoded file
fails the build loudly instead of producing a dictionary with dangling senses.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .schema import POS_LETTERS

# Satellite adjectives (`s`) live in data.adj and are answered as adjectives.
POS_OF_LETTER = {letter: index for index, letter in enumerate(POS_LETTERS)} | {"s": 2}
ANTONYM = "!"
HEADER_PREFIX = "  "

_ADJECTIVE_MARKER = re.compile(r"\((?:a|p|ip)\)$")
_QUOTED = re.compile(r'"([^"]*)"')
_HEADER_NUMBER = re.compile(r"^ {2}\d+ ?")

# (part of speech index, byte offset in its data file): unique across the four files.
SynsetKey = tuple[int, int]


class WordNetFormatError(ValueError):
    """A source file that does not follow wndb(5WN)."""


@dataclass(frozen=True)
class Synset:
    key: SynsetKey
    words: tuple[str, ...]
    definition: str
    example: str | None
    # word number (1-based, as in the file) -> antonyms as (synset, word number)
    antonyms: dict[int, list[tuple[SynsetKey, int]]] = field(default_factory=dict)


@dataclass(frozen=True)
class SourceFile:
    license_text: str
    lines: list[tuple[int, str]]  # (byte offset, line without newline)


def read_source(path: Path) -> SourceFile:
    """Split a file into its licence header and its numbered body lines."""
    raw = path.read_bytes()
    header: list[str] = []
    lines: list[tuple[int, str]] = []
    position = 0
    for chunk in raw.splitlines(keepends=True):
        text = chunk.decode("utf-8").rstrip("\r\n")
        if not lines and text.startswith(HEADER_PREFIX):
            header.append(_HEADER_NUMBER.sub("", text).rstrip())
        elif text.strip():
            lines.append((position, text))
        position += len(chunk)
    return SourceFile("\n".join(header).strip() + "\n" if header else "", lines)


def split_gloss(gloss: str) -> tuple[str, str | None]:
    """Return the definition and the first quoted example of a gloss."""
    cut = gloss.find('; "')
    if cut < 0:
        return gloss.strip().rstrip(";").strip(), None
    examples = _QUOTED.findall(gloss, cut)
    definition = gloss[:cut].strip()
    return definition, (examples[0].strip() or None) if examples else None


def display(word: str) -> str:
    """A word as people write it: collocations with spaces."""
    return word.replace("_", " ")


def parse_synset(offset: int, line: str, path: Path) -> Synset:
    """Parse one data.POS line, checking it sits at the offset it claims."""
    head, _, gloss = line.partition("|")
    try:
        claimed, pos, words, antonyms = _parse_head(head.split())
    except (IndexError, KeyError, ValueError) as error:
        raise WordNetFormatError(f"{path}: malformed synset at byte {offset}") from error
    if claimed != offset:
        raise WordNetFormatError(f"{path}: synset {claimed:08d} is at byte {offset}")
    definition, example = split_gloss(gloss)
    return Synset((pos, offset), words, definition, example, antonyms)


def _parse_head(fields: list[str]) -> tuple[int, int, tuple[str, ...], dict]:
    """Offset, part of speech, words and antonym pointers of a synset line."""
    word_count = int(fields[3], 16)
    words = tuple(_ADJECTIVE_MARKER.sub("", w) for w in fields[4 : 4 + 2 * word_count : 2])
    at = 4 + 2 * word_count
    antonyms: dict[int, list[tuple[SynsetKey, int]]] = {}
    for i in range(int(fields[at])):
        symbol, target, target_pos, source_target = fields[at + 1 + 4 * i : at + 5 + 4 * i]
        if symbol == ANTONYM:
            source, target_word = int(source_target[:2], 16), int(source_target[2:], 16)
            target_key = (POS_OF_LETTER[target_pos], int(target))
            antonyms.setdefault(source, []).append((target_key, target_word))
    return int(fields[0]), POS_OF_LETTER[fields[2]], words, antonyms


def read_synsets(path: Path) -> tuple[str, Iterator[Synset]]:
    """The licence header of a data.POS file and its synsets, in file order."""
    source = read_source(path)
    return source.license_text, (parse_synset(o, line, path) for o, line in source.lines)


def read_index(path: Path, pos: int) -> Iterator[tuple[str, list[SynsetKey]]]:
    """Each lemma of an index.POS file with its synsets, most frequent sense first."""
    for _, line in read_source(path).lines:
        fields = line.split()
        try:
            synset_count = int(fields[2])
            offsets = fields[len(fields) - synset_count :]
            yield fields[0], [(pos, int(offset)) for offset in offsets]
        except (IndexError, ValueError) as error:
            raise WordNetFormatError(f"{path}: malformed index line {line[:60]!r}") from error


def read_exceptions(path: Path) -> Iterator[tuple[str, list[str]]]:
    """Each irregular form of a POS.exc file with its base forms."""
    for _, line in read_source(path).lines:
        form, *bases = line.split()
        if not bases:
            raise WordNetFormatError(f"{path}: exception {form!r} has no base form")
        yield form, bases
