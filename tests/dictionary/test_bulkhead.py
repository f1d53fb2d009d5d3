"""The bulkhead: waits briefly for a slot behind healthy calls, sheds at once behind stuck ones."""

from __future__ import annotations

import threading

from dictionary.bulkhead import Bulkhead


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _hold_slot(bulkhead: Bulkhead, release: threading.Event) -> threading.Thread:
    entered = threading.Event()

    def hold() -> None:
        ticket = bulkhead.enter()
        assert ticket is not None
        entered.set()
        release.wait(5)
        bulkhead.leave(ticket)

    thread = threading.Thread(target=hold)
    thread.start()
    entered.wait(5)
    return thread


def test_free_slots_are_taken_without_waiting() -> None:
    bulkhead = Bulkhead(2, patience=0.5)
    tickets = [bulkhead.enter(), bulkhead.enter()]
    assert None not in tickets
    for ticket in tickets:
        bulkhead.leave(ticket)


def test_a_caller_waits_for_a_slot_that_frees_soon() -> None:
    bulkhead = Bulkhead(1, patience=5.0)
    release = threading.Event()
    holder = _hold_slot(bulkhead, release)
    threading.Timer(0.05, release.set).start()
    ticket = bulkhead.enter()
    assert ticket is not None  # waited for the holder instead of being shed
    bulkhead.leave(ticket)
    holder.join(5)


def test_a_caller_is_shed_when_no_slot_frees_within_patience() -> None:
    bulkhead = Bulkhead(1, patience=0.05)
    release = threading.Event()
    holder = _hold_slot(bulkhead, release)
    assert bulkhead.enter() is None
    release.set()
    holder.join(5)


def test_behind_stuck_calls_a_caller_is_shed_at_once() -> None:
    clock = Clock()
    bulkhead = Bulkhead(1, patience=60.0, clock=clock)
    release = threading.Event()
    holder = _hold_slot(bulkhead, release)
    clock.now = 61.0  # the call in flight is older than the patience: the upstream looks stuck
    assert bulkhead.enter() is None  # at once, not after 60 s
    release.set()
    holder.join(5)
