"""Turn the raw path segment into a normalised word, or refuse it.

Only validated words ever reach a cache key or an upstream URL. Accepted:
letters and decimal digits of any script, combining marks, apostrophes (' and ’),
hyphens, inner spaces and periods; 1 to 64 characters after trimming; at least one
letter or digit. Digits count as letters because dictionaries hold words with
them (`1990s`, `Y2K`, `3-D`, `.22-caliber`): such a word is looked up, and an
unknown one is a 404 like any other. Everything else (`%`, `/`, `\\`, control
characters, the replacement character left by invalid UTF-8, ...) is refused.
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
    """Letters and decimal digits (Unicode Nd, not ², ½ or Ⅻ) of any script, marks, punctuation."""
    return (
        char.isalpha()
        or char.isdecimal()
        or char in _PUNCTUATION
        or unicodedata.category(char)[0] == "M"
    )


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
            "The word may contain only letters, digits, combining marks, apostrophes, "
            "hyphens, periods and inner spaces."
        )
    # Among allowed characters, only letters and decimal digits are alphanumeric.
    if not any(map(str.isalnum, word)):
        raise InvalidWord("The word must contain at least one letter or digit.")
    return word.lower()
