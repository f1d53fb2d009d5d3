"""The circuit breaker's states, driven by a fake clock."""

from __future__ import annotations

from dictionary.breaker import CircuitBreaker


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_opens_after_threshold_consecutive_failures() -> None:
    breaker = CircuitBreaker(3, 30, Clock())
    assert [breaker.record_failure() for _ in range(3)] == [False, False, True]
    assert not breaker.allow()
    assert breaker.is_open


def test_success_resets_the_count() -> None:
    breaker = CircuitBreaker(3, 30, Clock())
    breaker.record_failure()
    breaker.record_failure()
    breaker.record_success()
    breaker.record_failure()
    assert breaker.allow()


def test_half_open_lets_one_trial_through() -> None:
    clock = Clock()
    breaker = CircuitBreaker(1, 30, clock)
    breaker.record_failure()
    clock.now = 29.5
    assert not breaker.allow()
    assert breaker.retry_after() == 1
    clock.now = 30
    assert breaker.allow()  # the trial
    assert not breaker.allow()  # everyone else waits for it
    breaker.record_success()
    assert breaker.allow()
    assert not breaker.is_open


def test_failed_trial_opens_for_another_cooldown() -> None:
    clock = Clock()
    breaker = CircuitBreaker(1, 30, clock)
    breaker.record_failure()
    clock.now = 31
    assert breaker.allow()
    assert breaker.record_failure()  # reopened: logged once more
    assert not breaker.allow()
    assert breaker.retry_after() == 30


def test_trip_holds_for_the_given_time() -> None:
    clock = Clock()
    breaker = CircuitBreaker(5, 30, clock)
    breaker.trip(300)
    assert not breaker.allow()
    assert breaker.retry_after() == 300
    clock.now = 300
    assert breaker.allow()
