"""Turn the raw path segment into a normalised word, or refuse it.

Only validated words ever reach a cache key or an upstream URL. Accepted:
letters of any script, combining marks, apostrophes (' and ’), hyphens,
inner spaces and periods; 1 to 64 characters after trimming; at least one
letter. Everything else (`%`, `/`, `\\`, digits, control characters, the
replacement character left by invalid UTF-8, ...) is refused.
"""

from __future__ import annotations

import re
import unicodedata

MAX_LENGTH = 64
_PUNCTUATION = frozenset("'’-. ")
_SPACES = re.compile(" {2,}")


class InvalidWord(ValueError):
    """The path segment is not something we will look up."""


def _allowed(char: str) -> bool:
    return char.isalpha() or char in _PUNCTUATION or unicodedata.category(char)[0] == "M"


def normalise_word(raw: str) -> str:
    """Return the lookup key for `raw`: NFC, trimmed, single-spaced, lower-case.

    Raises `InvalidWord` with a message that is safe to show to the client.
    """
    word = _SPACES.sub(" ", unicodedata.normalize("NFC", raw).strip(" "))
    if not word:
        raise InvalidWord("The word is empty.")
    if len(word) > MAX_LENGTH:
        raise InvalidWord(f"The word is longer than {MAX_LENGTH} characters.")
    if not all(map(_allowed, word)):
        raise InvalidWord(
            "The word may contain only letters, combining marks, apostrophes, hyphens, "
            "periods and inner spaces."
        )
    if not any(char.isalpha() for char in word):
        raise InvalidWord("The word must contain at least one letter.")
    return word.lower()
