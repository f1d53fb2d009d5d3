"""The Free Dictionary API v2 shape of a WordNet answer, as JSON bytes.

The compiler renders each (lemma, part of speech) meaning once, at build time;
a lookup only concatenates finished meanings into entries. Both halves live here
so that the shape is defined in one place.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..base import dump_json
from . import schema, wndb

LICENSE = {"name": schema.LICENSE_NAME, "url": schema.LICENSE_URL}

# Around the meanings of an entry, in the key order of the upstream's entries.
_ENTRY_HEAD = b'{"word":'
_ENTRY_MEANINGS = b',"phonetics":[],"meanings":['
_ENTRY_TAIL = (
    b'],"license":' + dump_json(LICENSE) + b',"sourceUrls":' + dump_json([schema.SOURCE_URL]) + b"}"
)


@dataclass(frozen=True)
class Sense:
    """One sense of a lemma: its synset's gloss and words, and this lemma's antonyms."""

    definition: str
    example: str | None
    words: Sequence[str]  # every word of the synset, as displayed
    antonyms: Sequence[str]


def meaning(lemma: str, pos: int, senses: Iterable[Sense]) -> bytes:
    """One part of speech: its definitions in sense order, and the union of their (ant)onyms."""
    word = wndb.display(lemma)
    definitions = []
    all_synonyms: dict[str, None] = {}
    all_antonyms: dict[str, None] = {}
    for sense in senses:
        synonyms = [w for w in sense.words if w.lower() != word]
        antonyms = list(sense.antonyms)
        definition: dict[str, object] = {
            "definition": sense.definition,
            "synonyms": synonyms,
            "antonyms": antonyms,
        }
        if sense.example:
            definition["example"] = sense.example
        definitions.append(definition)
        all_synonyms.update(dict.fromkeys(synonyms))
        all_antonyms.update(dict.fromkeys(antonyms))
    return dump_json(
        {
            "partOfSpeech": schema.POS_NAMES[pos],
            "definitions": definitions,
            "synonyms": list(all_synonyms),
            "antonyms": list(all_antonyms),
        }
    )


def entries(meanings: Iterable[tuple[str, bytes]]) -> bytes | None:
    """The JSON list of entries, one per lemma, or None when there are no meanings.

    `meanings` lists (lemma, meaning JSON) in answer order; consecutive meanings
    of one lemma make one entry.
    """
    parts = [b"["]
    current = None
    for lemma, body in meanings:
        if lemma != current:
            if current is not None:
                parts.append(_ENTRY_TAIL + b",")
            parts += (_ENTRY_HEAD, dump_json(wndb.display(lemma)), _ENTRY_MEANINGS)
            current = lemma
        else:
            parts.append(b",")
        parts.append(body)
    if current is None:
        return None
    parts.append(_ENTRY_TAIL + b"]")
    return b"".join(parts)
