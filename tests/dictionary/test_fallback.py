"""The fallback chain's decisions, with scripted backends."""

from __future__ import annotations

import pytest

from dictionary.backends.base import (
    BackendError,
    BackendUnavailable,
    Lookup,
    UpstreamBadResponse,
    UpstreamRateLimited,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from dictionary.backends.fallback import FallbackDictionary


class Scripted:
    def __init__(self, name: str, known: set[str], failure: BackendError | None = None) -> None:
        self.name, self.known, self.failure = name, known, failure
        self.calls: list[str] = []

    def ready(self) -> bool:
        return self.failure is None

    def lookup(self, word: str) -> Lookup:
        self.calls.append(word)
        if self.failure is not None:
            raise self.failure
        entries = [{"word": word, "meanings": []}] if word in self.known else None
        return Lookup.from_entries(word, entries, self.name)


def chain(
    primary_failure: BackendError | None = None, secondary_failure: BackendError | None = None
) -> tuple[FallbackDictionary, Scripted, Scripted]:
    primary = Scripted("upstream", {"hello"}, primary_failure)
    secondary = Scripted("wordnet", {"hello", "be"}, secondary_failure)
    return FallbackDictionary(primary, secondary), primary, secondary


def test_primary_answer_wins_without_asking_the_secondary() -> None:
    fallback, _, secondary = chain()
    result = fallback.lookup("hello")
    assert (result.source, result.degraded) == ("upstream", False)
    assert secondary.calls == []


def test_false_404_upstream_is_answered_by_the_secondary() -> None:
    fallback, _, _ = chain()
    result = fallback.lookup("be")
    assert (result.source, result.found, result.degraded) == ("wordnet", True, False)


def test_both_not_found_is_not_found() -> None:
    fallback, _, _ = chain()
    result = fallback.lookup("qwerty")
    assert not result.found
    assert result.source == "upstream"


@pytest.mark.parametrize(
    "failure",
    [UpstreamTimeout(), UpstreamBadResponse(), UpstreamUnavailable(), UpstreamRateLimited()],
)
def test_primary_failure_is_answered_by_the_secondary(failure: BackendError) -> None:
    fallback, _, _ = chain(primary_failure=failure)
    result = fallback.lookup("hello")
    assert (result.source, result.found, result.degraded) == ("wordnet", True, True)


def test_primary_failure_and_unknown_word_keeps_the_primary_error() -> None:
    fallback, _, _ = chain(primary_failure=UpstreamTimeout())
    with pytest.raises(UpstreamTimeout):
        fallback.lookup("qwerty")


def test_secondary_failure_after_a_404_keeps_the_404() -> None:
    fallback, _, _ = chain(secondary_failure=BackendUnavailable())
    assert not fallback.lookup("be").found


def test_ready_when_any_member_is_ready() -> None:
    assert chain(primary_failure=UpstreamTimeout())[0].ready()
    assert not chain(UpstreamTimeout(), BackendUnavailable())[0].ready()
