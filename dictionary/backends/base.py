"""The contract every dictionary backend fulfils, and the errors it may raise.

A backend answers a lookup of an already validated, normalised word with a
`Lookup` (entries, or "not found"); anything else is a `BackendError` whose
subclass decides the HTTP status the client sees. Views, the cache and the
fallback chain only ever speak this contract, so backends plug in without
touching them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Protocol

Entry = dict[str, Any]

# The upstream's own 404 body, word for word, so that a client cannot tell which
# backend did not find the word. `error` is our machine-readable addition.
NOT_FOUND = {
    "title": "No Definitions Found",
    "message": "Sorry pal, we couldn't find definitions for the word you were looking for.",
    "resolution": "You can try the search again at later time or head to the web instead.",
    "error": "word_not_found",
}


def dump_json(value: Any) -> bytes:
    """Serialise compactly, keeping non-ASCII text readable (IPA, other scripts)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


NOT_FOUND_BODY = dump_json(NOT_FOUND)


@dataclass(frozen=True, slots=True)
class Lookup:
    """The answer for one word, already rendered: the JSON list of its entries, or `None`.

    Backends hand over bytes rather than parsed entries so that the cache keeps a
    few kilobytes per word, not the tree of objects a parsed entry list costs.
    """

    word: str
    body: bytes | None
    source: str
    # True when a fallback answered because the preferred backend failed: the
    # cache keeps such answers only briefly, so the richer source comes back.
    degraded: bool = False

    @classmethod
    def from_entries(cls, word: str, entries: list[Entry] | None, source: str) -> Lookup:
        return cls(word, None if entries is None else dump_json(entries), source)

    @property
    def found(self) -> bool:
        return self.body is not None

    @property
    def entries(self) -> list[Entry] | None:
        """The entries parsed back (for tests and tools; the request path never needs them)."""
        return None if self.body is None else json.loads(self.body)

    @property
    def response_body(self) -> bytes:
        """What the client receives: the entries, or the upstream's own 404 body."""
        return NOT_FOUND_BODY if self.body is None else self.body


class Dictionary(Protocol):
    """A source of definitions: the Free Dictionary API, WordNet, or a chain of them."""

    name: str

    def lookup(self, word: str) -> Lookup:
        """Look up a normalised word; raise a `BackendError` when no answer can be had."""
        ...

    def ready(self) -> bool:
        """Whether this backend can answer now (used by the readiness endpoint)."""
        ...


class BackendError(Exception):
    """A lookup that produced no answer. Subclasses fix the status and the envelope."""

    status = 502
    error = "bad_gateway"
    title = "Upstream Server Failed"
    message = "Sorry pal, the dictionary gave us an answer we could not use."
    resolution = "You can try the search again at later time or head to the web instead."

    def __init__(self, detail: str = "", retry_after: int | None = None) -> None:
        super().__init__(detail or self.message)
        self.detail = detail or self.message
        self.retry_after = retry_after


class UpstreamBadResponse(BackendError):
    """5xx, a Cloudflare HTML page, invalid JSON, the wrong shape or an oversized body."""


class UpstreamTimeout(BackendError):
    """The upstream did not answer within our connect/read timeouts or the deadline."""

    status = 504
    error = "upstream_timeout"
    title = "Upstream Timed Out"
    message = "Sorry pal, the dictionary took too long to answer."


class UpstreamUnavailable(BackendError):
    """Connection refused, DNS failure, or the circuit breaker is open."""

    status = 503
    error = "upstream_unavailable"
    title = "Dictionary Unavailable"
    message = "Sorry pal, the dictionary cannot be reached right now."
    resolution = "Try again after the number of seconds in the Retry-After header."


class UpstreamRateLimited(UpstreamUnavailable):
    """The upstream's shared per-IP limit (450 requests / 5 min) is exhausted."""

    error = "upstream_rate_limited"
    title = "Dictionary Busy"
    message = "Sorry pal, the dictionary is rate limiting us right now."


class BackendUnavailable(BackendError):
    """A local backend that cannot serve (for example, the WordNet file is missing)."""

    status = 503
    error = "dictionary_unavailable"
    title = "Dictionary Unavailable"
    message = "Sorry pal, the embedded dictionary is not available."
    resolution = "Try again later."
