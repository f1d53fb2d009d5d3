"""Harness details that a smoke run cannot show: the words a warm-up sends are valid words."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bench import runner, wrk
from bench.scenarios import groups
from dictionary.validation import normalise_word


def test_every_warm_up_piece_sends_valid_new_words(monkeypatch: pytest.MonkeyPatch) -> None:
    """A salt with a digit would make every new word a 400: nothing cached, nothing warmed."""
    sent: list[tuple[wrk.Load, int]] = []
    monkeypatch.setattr(wrk, "run", lambda url, load, seconds: sent.append((load, seconds)))
    mixed = next(g for g in groups("unused") if g.long_run)
    settings = replace(runner.Settings(), long_warmup=23)
    runner._warm_up(mixed, settings, {"ours": ("http://127.0.0.1:1", 1)})
    assert [seconds for _, seconds in sent] == [5, 5, 5, 5, 3]
    salts = [load.mode[1] for load, _ in sent]
    assert len(set(salts)) == len(salts)  # each piece asks for words never asked before
    for salt in salts:
        assert normalise_word(salt) == salt
