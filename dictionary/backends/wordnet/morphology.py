"""Base forms of an inflected word, after WordNet's morph.c ("morphy").

Pure functions: they propose candidates and the backend keeps those the database
knows, in one query. Per part of speech, an irregular form found in the exception
list replaces the detachment rules (`geese` -> goose only); otherwise the rules
strip suffixes (`boxes` -> box, `walked` -> walk).
Collocations are also morphed word by word (`runs away` -> run away).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Container, Iterable, Mapping
from itertools import islice, product

NOUN, VERB, ADJECTIVE, ADVERB = range(4)

# (suffix, replacement) in morph.c's order; adverbs only have their exception list.
DETACHMENT_RULES: dict[int, tuple[tuple[str, str], ...]] = {
    NOUN: (
        ("s", ""),
        ("ses", "s"),
        ("xes", "x"),
        ("zes", "z"),
        ("ches", "ch"),
        ("shes", "sh"),
        ("men", "man"),
        ("ies", "y"),
    ),
    VERB: (
        ("s", ""),
        ("ies", "y"),
        ("es", "e"),
        ("es", ""),
        ("ed", "e"),
        ("ed", ""),
        ("ing", "e"),
        ("ing", ""),
    ),
    ADJECTIVE: (("er", ""), ("est", ""), ("er", "e"), ("est", "e")),
    ADVERB: (),
}

# Keeps a long phrase from exploding into thousands of word-by-word combinations.
MAX_COMBINATIONS = 64

# The app lower-cases and collapses spaces; WordNet writes collocations with `_`
# and only knows the ASCII apostrophe.
_TO_LEMMA = str.maketrans({" ": "_", "’": "'", "‘": "'", "ʼ": "'"})
_WORD_SEPARATOR = re.compile(r"([_-])")
_HYPHEN_OR_UNDERSCORE = re.compile(r"[-_]")
_SPELLING_MARKS = re.compile(r"[-_.]")

# (form, part of speech) -> base forms, as found in the POS.exc files.
Exceptions = Mapping[tuple[str, int], list[str]]


def to_lemma_spelling(word: str) -> str:
    """The spelling WordNet's index uses for a word typed by a person."""
    return word.strip().lower().translate(_TO_LEMMA)


def without_accents(word: str) -> str:
    """`word` with its combining marks removed (`café` -> `cafe`, `naïve` -> `naive`).

    WordNet 3.0 spells every lemma in ASCII, so an accented word it lacks may be
    there without its accents. Letters that are not a base letter plus a mark
    (`ø`, `æ`, `ß`) stay as they are.
    """
    decomposed = unicodedata.normalize("NFD", word)
    return unicodedata.normalize(
        "NFC", "".join(char for char in decomposed if not unicodedata.combining(char))
    )


def exception_forms(form: str) -> list[str]:
    """Forms whose exception entries `candidates` may need: the whole and each word."""
    words = _WORD_SEPARATOR.split(form)[::2]
    return _unique([form, *words]) if len(words) > 1 else [form]


def detach(word: str, pos: int) -> list[str]:
    """Bases the suffix rules give for one word, unchecked (morph.c's morphword)."""
    stem, suffix_kept = word, ""
    if pos == NOUN and word.endswith("ful"):
        stem, suffix_kept = word[: -len("ful")], "ful"
    elif pos == NOUN and (word.endswith("ss") or len(word) <= 2):
        return []
    bases: list[str] = []
    for suffix, replacement in DETACHMENT_RULES[pos]:
        if stem.endswith(suffix) and len(stem) > len(suffix):
            base = stem[: -len(suffix)] + replacement + suffix_kept
            if base != word and base not in bases:
                bases.append(base)
    return bases


def word_forms(word: str, pos: int, exceptions: Exceptions) -> list[str]:
    """The word itself, then its exception bases or, failing those, its rule bases."""
    return _unique([word, *(exceptions.get((word, pos)) or detach(word, pos))])


def candidates(form: str, exceptions: Exceptions) -> dict[int, list[str]]:
    """Possible lemmas of `form` per part of speech, the form itself first."""
    parts = _WORD_SEPARATOR.split(form)
    return {pos: _candidates_for(form, parts, pos, exceptions) for pos in DETACHMENT_RULES}


def _candidates_for(form: str, parts: list[str], pos: int, exceptions: Exceptions) -> list[str]:
    whole = word_forms(form, pos, exceptions)
    if len(parts) == 1 or (form, pos) in exceptions:
        return whole
    options = [word_forms(word, pos, exceptions) for word in parts[::2]]
    separators = [*parts[1::2], ""]
    combined = (
        "".join(word + separator for word, separator in zip(words, separators, strict=True))
        for words in islice(product(*options), MAX_COMBINATIONS)
    )
    return _unique([*whole, *combined])


def tiers(form: str, exceptions: Exceptions) -> tuple[dict[int, list[str]], ...]:
    """Candidates in order of preference, as WordNet's getindex spells them.

    First the candidates with `_` and `-` interchanged (`dead end` is both the noun
    dead_end and the adjective dead-end); only when none of those exists, the
    looser spellings without separators or periods (`arm-chair` -> armchair), which
    would otherwise turn `a.d.` into the unrelated `ad`.
    """
    exact = candidates(form, exceptions)
    if not _SPELLING_MARKS.search(form):
        return exact, {}
    swapped = {
        pos: _unique(s for lemma in ls for s in _swapped(lemma)) for pos, ls in exact.items()
    }
    loose = {pos: _unique(s for lemma in ls for s in _loose(lemma)) for pos, ls in exact.items()}
    return swapped, loose


def _swapped(lemma: str) -> tuple[str, ...]:
    return lemma, lemma.replace("_", "-"), lemma.replace("-", "_")


def _loose(lemma: str) -> tuple[str, ...]:
    return _HYPHEN_OR_UNDERSCORE.sub("", lemma), lemma.replace(".", "")


def select(
    form: str, ranked: Iterable[Mapping[int, list[str]]], known: Container[tuple[str, int]]
) -> dict[str, list[int]]:
    """Lemmas that exist, with their parts of speech, from the first tier that has any.

    The form itself comes first, then the bases in part-of-speech and rule order.
    """
    for tier in ranked:
        found: dict[str, list[int]] = {}
        for pos, lemmas in tier.items():
            for lemma in lemmas:
                if (lemma, pos) in known:
                    found.setdefault(lemma, []).append(pos)
        if found:
            return {form: found.pop(form)} | found if form in found else found
    return {}


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))
