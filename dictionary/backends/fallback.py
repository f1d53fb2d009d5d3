"""Ask the Free Dictionary API first and the embedded dictionary when it cannot answer.

The secondary answers when the primary fails (timeout, 5xx, rate limit, open
circuit) and when the primary says "not found" (the upstream has false 404s
for common words such as `be`). When the primary failed and the secondary does
not know the word either, the primary's error stands: a 404 would be a guess,
and a guess that gateways and caches would keep.
"""

from __future__ import annotations

from dataclasses import replace

from dictionary.backends.base import BackendError, Dictionary, Lookup


class FallbackDictionary:
    """A `Dictionary` made of a preferred backend and a fallback."""

    name = "auto"

    def __init__(self, primary: Dictionary, secondary: Dictionary) -> None:
        self.primary = primary
        self.secondary = secondary
        self.members = (primary, secondary)

    def ready(self) -> bool:
        return any(member.ready() for member in self.members)

    def lookup(self, word: str) -> Lookup:
        try:
            first = self.primary.lookup(word)
        except BackendError as failure:
            second = self._try_secondary(word)
            if second is None or not second.found:
                raise failure from None
            return replace(second, degraded=True)
        if first.found:
            return first
        second = self._try_secondary(word)
        return second if second is not None and second.found else first

    def _try_secondary(self, word: str) -> Lookup | None:
        try:
            return self.secondary.lookup(word)
        except BackendError:
            return None
