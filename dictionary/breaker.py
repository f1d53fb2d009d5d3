"""A small thread-safe circuit breaker for the upstream dictionary.

Written here rather than taken from a library because the app needs two
things the common ones do not give: the seconds left in the cool-down (sent
to clients as `Retry-After`) and tripping for a given time when the upstream
itself says how long to stay away (its 429 `Retry-After`).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable


class CircuitBreaker:
    """Closed -> open after `threshold` consecutive failures -> one trial call after `cooldown`.

    While open, `allow()` is False and `retry_after()` says for how long. After
    the cool-down a single caller is let through (half-open); its success
    closes the circuit, its failure opens it again for another cool-down.
    """

    def __init__(
        self, threshold: int, cooldown: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.threshold = threshold
        self.cooldown = cooldown
        self._clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self._open_until = 0.0
        self._trial_running = False

    @property
    def is_open(self) -> bool:
        """True while calls are refused (open, or half-open with a trial in flight)."""
        with self._lock:
            return self._failures >= self.threshold and (
                self._clock() < self._open_until or self._trial_running
            )

    def allow(self) -> bool:
        """May the caller try the upstream now? Half-open lets exactly one through."""
        with self._lock:
            if self._failures < self.threshold:
                return True
            if self._clock() < self._open_until or self._trial_running:
                return False
            self._trial_running = True
            return True

    def retry_after(self) -> int:
        """Whole seconds until the next call may be tried (at least 1)."""
        with self._lock:
            return max(1, math.ceil(self._open_until - self._clock()))

    def record_success(self) -> None:
        with self._lock:
            self._failures = 0
            self._trial_running = False

    def record_failure(self) -> bool:
        """Count a failure; return True when this one opened the circuit."""
        with self._lock:
            self._failures += 1
            self._trial_running = False
            if self._failures < self.threshold:
                return False
            was_open = self._clock() < self._open_until
            self._open_until = self._clock() + self.cooldown
            return not was_open

    def trip(self, seconds: float) -> None:
        """Open now for `seconds` (the upstream asked us to back off)."""
        with self._lock:
            self._failures = max(self._failures, self.threshold)
            self._trial_running = False
            self._open_until = max(self._open_until, self._clock() + seconds)
