"""A bulkhead: a cap on concurrent upstream calls per worker, with a short, smart wait.

A hanging upstream must not take every gunicorn thread (then cache hits and
health checks would stall too), yet a healthy but slow upstream should not see
callers turned away just because all slots are busy for a few milliseconds. So
a caller waits up to `patience` for a slot, unless the calls in flight are
already older than `patience`: then the upstream looks stuck and it is shed
at once.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable


class Bulkhead:
    def __init__(
        self, size: int, patience: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.size = size
        self.patience = patience
        self._clock = clock
        self._slots = threading.BoundedSemaphore(size)
        self._lock = threading.Lock()
        self._started: dict[int, float] = {}
        self._tickets = itertools.count()

    def enter(self) -> int | None:
        """Take a slot: a ticket to hand back to `leave`, or None when the call is shed."""
        if not self._slots.acquire(blocking=False):
            if self._oldest_call_age() >= self.patience:
                return None
            if not self._slots.acquire(timeout=self.patience):
                return None
        with self._lock:
            ticket = next(self._tickets)
            self._started[ticket] = self._clock()
        return ticket

    def leave(self, ticket: int) -> None:
        with self._lock:
            del self._started[ticket]
        self._slots.release()

    def _oldest_call_age(self) -> float:
        with self._lock:
            now = self._clock()
            return now - min(self._started.values(), default=now)
