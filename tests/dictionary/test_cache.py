"""The lookup cache: hits, negative hits, expiry, stale-if-error, bounds, single flight."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from flask import Flask

from dictionary.backends.base import Lookup, UpstreamTimeout
from dictionary.cache import ENTRY_OVERHEAD, HIT, MISS, STALE, LookupCache
from tests.fakes.upstream import FakeUpstream


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Backend:
    """A scripted backend: answers found, or raises what `failure` holds."""

    name = "scripted"

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.failure: Exception | None = None
        self.gate: threading.Event | None = None

    def ready(self) -> bool:
        return True

    def lookup(self, word: str) -> Lookup:
        self.calls.append(word)
        if self.gate is not None:
            self.gate.wait(5)
        if self.failure is not None:
            raise self.failure
        found = not word.startswith("zz")
        entries = [{"word": word, "meanings": []}] if found else None
        return Lookup.from_entries(word, entries, self.name)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def backend() -> Backend:
    return Backend()


def make_cache(backend: Backend, clock: Clock, max_bytes: int = 100_000) -> LookupCache:
    return LookupCache(
        backend,
        max_bytes=max_bytes,
        ttl_for=lambda lookup: 100 if lookup.found else 10,
        stale_ttl=1000,
        clock=clock,
    )


def test_second_lookup_is_a_hit(backend: Backend, clock: Clock) -> None:
    cache = make_cache(backend, clock)
    first, second = cache.fetch("hello"), cache.fetch("hello")
    assert (first.cache, second.cache) == (MISS, HIT)
    assert second.lookup is first.lookup
    assert backend.calls == ["hello"]


def test_max_age_counts_down(backend: Backend, clock: Clock) -> None:
    cache = make_cache(backend, clock)
    assert cache.fetch("hello").max_age == 100
    clock.now += 40
    assert cache.fetch("hello").max_age == 60


def test_not_found_is_cached_for_the_shorter_ttl(backend: Backend, clock: Clock) -> None:
    cache = make_cache(backend, clock)
    assert not cache.fetch("zzz").lookup.found
    clock.now += 9
    assert cache.fetch("zzz").cache == HIT
    clock.now += 2
    assert cache.fetch("zzz").cache == MISS
    assert backend.calls == ["zzz", "zzz"]


def test_expired_entry_is_refreshed(backend: Backend, clock: Clock) -> None:
    cache = make_cache(backend, clock)
    cache.fetch("hello")
    clock.now += 101
    assert cache.fetch("hello").cache == MISS
    assert backend.calls == ["hello", "hello"]


def test_stale_entry_is_served_when_the_backend_fails(backend: Backend, clock: Clock) -> None:
    cache = make_cache(backend, clock)
    cache.fetch("hello")
    clock.now += 101
    backend.failure = UpstreamTimeout()
    answer = cache.fetch("hello")
    assert (answer.cache, answer.max_age, answer.lookup.found) == (STALE, 0, True)


def test_too_old_entries_are_not_served_even_stale(backend: Backend, clock: Clock) -> None:
    cache = make_cache(backend, clock)
    cache.fetch("hello")
    clock.now += 100 + 1000 + 1
    backend.failure = UpstreamTimeout()
    with pytest.raises(UpstreamTimeout):
        cache.fetch("hello")


def test_failure_without_any_entry_raises(backend: Backend, clock: Clock) -> None:
    backend.failure = UpstreamTimeout()
    with pytest.raises(UpstreamTimeout):
        make_cache(backend, clock).fetch("hello")


def test_size_is_bounded_in_bytes(backend: Backend, clock: Clock) -> None:
    one = len(make_cache(backend, clock).fetch("a").lookup.response_body) + 1 + ENTRY_OVERHEAD
    cache = make_cache(backend, clock, max_bytes=3 * one)
    for word in ["b", "c", "d", "e", "f"]:
        cache.fetch(word)
    assert len(cache) == 3


def test_an_answer_larger_than_the_cache_is_served_but_not_kept(
    backend: Backend, clock: Clock
) -> None:
    cache = make_cache(backend, clock, max_bytes=10)
    assert cache.fetch("hello").cache == MISS
    assert cache.fetch("hello").cache == MISS
    assert len(cache) == 0


def test_a_zero_byte_cache_is_disabled(backend: Backend, clock: Clock) -> None:
    cache = make_cache(backend, clock, max_bytes=0)
    assert [cache.fetch("hello").cache for _ in range(2)] == [MISS, MISS]
    assert backend.calls == ["hello", "hello"]
    assert len(cache) == 0


def _concurrently(backend: Backend, count: int, target: Callable[[], None]) -> None:
    """Start `count` threads on `target`, release the backend once one call is in, join all."""
    backend.gate = threading.Event()
    threads = [threading.Thread(target=target) for _ in range(count)]
    for thread in threads:
        thread.start()
    while not backend.calls:
        threading.Event().wait(0.01)
    backend.gate.set()
    for thread in threads:
        thread.join(5)


def test_concurrent_misses_share_one_backend_call(backend: Backend, clock: Clock) -> None:
    cache = make_cache(backend, clock)
    answers = []
    _concurrently(backend, 5, lambda: answers.append(cache.fetch("hello")))
    assert backend.calls == ["hello"]
    assert len(answers) == 5
    assert all(answer.lookup.found for answer in answers)


def test_concurrent_misses_share_the_failure_too(backend: Backend, clock: Clock) -> None:
    cache = make_cache(backend, clock)
    backend.failure = UpstreamTimeout()
    errors: list[Exception] = []

    def fetch() -> None:
        try:
            cache.fetch("hello")
        except UpstreamTimeout as exc:
            errors.append(exc)

    _concurrently(backend, 4, fetch)
    assert backend.calls == ["hello"]
    assert len(errors) == 4


# Through the app: the headers that tell clients what happened.


def test_app_cache_headers(make_app: Callable[..., Flask], upstream: FakeUpstream) -> None:
    client = make_app(cache_ttl=3600).test_client()
    first, second = client.get("/hello"), client.get("/Hello")
    assert first.headers["X-Dictionary-Cache"] == "miss"
    assert second.headers["X-Dictionary-Cache"] == "hit"
    assert second.headers["X-Dictionary-Source"] == "upstream"
    assert first.headers["Cache-Control"] == "public, max-age=3600"
    assert upstream.words_requested() == ["hello"]


def test_app_negative_cache(make_app: Callable[..., Flask], upstream: FakeUpstream) -> None:
    client = make_app(cache_negative_ttl=60).test_client()
    client.get("/qwerty")
    second = client.get("/qwerty")
    assert second.status_code == 404
    assert second.headers["X-Dictionary-Cache"] == "hit"
    assert second.headers["Cache-Control"] == "public, max-age=60"
    assert upstream.words_requested() == ["qwerty"]


def test_app_serves_stale_when_upstream_fails(
    make_app: Callable[..., Flask], upstream: FakeUpstream
) -> None:
    client = make_app(cache_ttl=1, cache_stale_ttl=3600).test_client()
    assert client.get("/hello").status_code == 200
    upstream.fault("hello", "server_error")
    threading.Event().wait(1.1)  # let the one-second TTL pass
    stale = client.get("/hello")
    assert stale.status_code == 200
    assert stale.headers["X-Dictionary-Cache"] == "stale"
    assert stale.headers["Cache-Control"] == "no-cache"
    assert upstream.words_requested() == ["hello", "hello"]
