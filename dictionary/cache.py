"""In-process cache of lookups: bounded in bytes, thread-safe, negative caching, stale-if-error.

Found words live for `ttl`, unknown words for `negative_ttl`. An expired answer
is kept for `stale_ttl` more seconds so that it can still be served when the
backend fails (the response says so). Concurrent misses of one word share a
single backend call instead of each spending the upstream's shared rate limit
(and each waiting out the same slow upstream in turn).
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass

from cachetools import TLRUCache

from dictionary.backends.base import BackendError, Dictionary, Lookup

HIT, MISS, STALE = "hit", "miss", "stale"


@dataclass(frozen=True, slots=True)
class Answer:
    """A lookup as served: where it came from and how long clients may keep it."""

    lookup: Lookup
    cache: str  # HIT, MISS or STALE
    max_age: int


@dataclass(frozen=True, slots=True)
class _Stored:
    lookup: Lookup
    fresh_until: float
    stale_until: float


# What an entry costs besides its body: the key, the record and the cache's bookkeeping.
ENTRY_OVERHEAD = 400


def _size(stored: _Stored) -> int:
    return len(stored.lookup.response_body) + len(stored.lookup.word) + ENTRY_OVERHEAD


class LookupCache:
    """Answers lookups from memory when it can, from `backend` when it must."""

    def __init__(
        self,
        backend: Dictionary,
        max_bytes: int,
        ttl_for: Callable[[Lookup], int],
        stale_ttl: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.backend = backend
        self._ttl_for = ttl_for
        self._stale_ttl = stale_ttl
        self._clock = clock
        self._items: TLRUCache[str, _Stored] = TLRUCache(
            max_bytes,
            ttu=lambda _key, stored, _now: stored.stale_until,
            timer=clock,
            getsizeof=_size,
        )
        self._lock = threading.Lock()
        self._flights: dict[str, Future[Answer]] = {}

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def fetch(self, word: str) -> Answer:
        """The answer for a normalised word; raises BackendError only when nothing is cached."""
        stored = self._get(word)
        if stored is not None and self._clock() < stored.fresh_until:
            return self._answer(stored, HIT)
        with self._lock:
            flight = self._flights.get(word)
            leader = flight is None
            if leader:
                flight = self._flights[word] = Future()
        if not leader:
            return flight.result()  # the leader's answer, or its exception
        try:
            answer = self._refresh(word, stored)
        except BaseException as exc:
            flight.set_exception(exc)
            raise
        else:
            flight.set_result(answer)
            return answer
        finally:
            with self._lock:
                del self._flights[word]

    def _refresh(self, word: str, stored: _Stored | None) -> Answer:
        """Ask the backend; fall back to the expired answer if it fails."""
        try:
            lookup = self.backend.lookup(word)
        except BackendError:
            if stored is None:
                raise
            return Answer(stored.lookup, STALE, 0)
        return self._answer(self._put(word, lookup), MISS)

    def _answer(self, stored: _Stored, state: str) -> Answer:
        return Answer(stored.lookup, state, max(0, math.ceil(stored.fresh_until - self._clock())))

    def _get(self, word: str) -> _Stored | None:
        if not self._items.maxsize:  # 0: the cache is disabled
            return None
        with self._lock:
            return self._items.get(word)

    def _put(self, word: str, lookup: Lookup) -> _Stored:
        now = self._clock()
        fresh_until = now + self._ttl_for(lookup)
        stored = _Stored(lookup, fresh_until, fresh_until + self._stale_ttl)
        if self._items.maxsize:  # 0: the cache is disabled
            with self._lock, contextlib.suppress(ValueError):  # larger than the whole cache
                self._items[word] = stored
        return stored
