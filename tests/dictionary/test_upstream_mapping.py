"""Every row of the status table: what the upstream does, and what our client sees."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from flask import Flask

from tests.fakes.upstream import FAULTS, FakeUpstream, refused_url

ENVELOPE_KEYS = {"title", "message", "resolution", "error"}
HANG = FAULTS["hang"]().delay


def _assert_envelope(response, status: int, error: str) -> None:
    assert response.status_code == status
    assert response.headers["Content-Type"] == "application/json"
    assert set(response.json) == ENVELOPE_KEYS
    assert response.json["error"] == error
    assert response.headers["Cache-Control"] == "no-store"


def test_404_passes_the_upstream_body_through(make_app: Callable[..., Flask]) -> None:
    response = make_app().test_client().get("/qwertyuiop")
    assert response.status_code == 404
    assert response.json == {
        "title": "No Definitions Found",
        "message": "Sorry pal, we couldn't find definitions for the word you were looking for.",
        "resolution": "You can try the search again at later time or head to the web instead.",
        "error": "word_not_found",
    }


def test_rate_limit_becomes_503_with_the_upstreams_retry_after(
    make_app: Callable[..., Flask], upstream: FakeUpstream
) -> None:
    upstream.fault("hello", "rate_limited")
    response = make_app().test_client().get("/hello")
    _assert_envelope(response, 503, "upstream_rate_limited")
    assert response.headers["Retry-After"] == "300"


def test_after_a_rate_limit_the_upstream_is_left_alone(
    make_app: Callable[..., Flask], upstream: FakeUpstream
) -> None:
    upstream.fault("*", "rate_limited")
    client = make_app().test_client()
    client.get("/hello")
    second = client.get("/keyboard")
    assert second.status_code == 503
    assert 290 <= int(second.headers["Retry-After"]) <= 300
    assert upstream.words_requested() == ["hello"]


@pytest.mark.parametrize(
    "fault",
    ["server_error", "cloudflare_522", "invalid_json", "json_object", "empty_list", "oversized"],
)
def test_broken_answers_become_502(
    make_app: Callable[..., Flask], upstream: FakeUpstream, fault: str
) -> None:
    upstream.fault("hello", fault)
    response = make_app().test_client().get("/hello")
    _assert_envelope(response, 502, "bad_gateway")
    assert b"<html" not in response.data.lower()


def test_body_cap_applies_without_content_length_trust(
    make_app: Callable[..., Flask], upstream: FakeUpstream
) -> None:
    response = make_app(max_body_bytes=1000).test_client().get("/hello")  # hello.json is 3 KB
    _assert_envelope(response, 502, "bad_gateway")


@pytest.mark.parametrize("fault", ["bad_gateway", "unavailable"])
def test_502_and_503_are_retried_then_succeed(
    make_app: Callable[..., Flask], upstream: FakeUpstream, fault: str
) -> None:
    upstream.fault("hello", fault, fault, "slow")
    response = make_app(retries=2).test_client().get("/hello")
    assert response.status_code == 200
    assert upstream.words_requested() == ["hello"] * 3


def test_retries_are_bounded(make_app: Callable[..., Flask], upstream: FakeUpstream) -> None:
    upstream.fault("hello", "unavailable")
    response = make_app(retries=2).test_client().get("/hello")
    _assert_envelope(response, 502, "bad_gateway")
    assert len(upstream.requests) == 3


def test_500_is_not_retried(make_app: Callable[..., Flask], upstream: FakeUpstream) -> None:
    upstream.fault("hello", "server_error")
    make_app(retries=2).test_client().get("/hello")
    assert len(upstream.requests) == 1


def test_a_hang_is_cut_off_by_the_read_timeout(
    make_app: Callable[..., Flask], upstream: FakeUpstream
) -> None:
    upstream.fault("hello", "hang")
    app = make_app()
    started = time.monotonic()
    response = app.test_client().get("/hello")
    elapsed = time.monotonic() - started
    _assert_envelope(response, 504, "upstream_timeout")
    assert elapsed < HANG / 3  # returned long before the upstream would have answered
    assert len(upstream.requests) == 1  # a read timeout is not retried


def test_the_deadline_caps_the_read_timeout(
    make_app: Callable[..., Flask], upstream: FakeUpstream
) -> None:
    upstream.fault("hello", "slow")  # answers after 0.3 s
    response = make_app(deadline=0.2, read_timeout=1.0).test_client().get("/hello")
    _assert_envelope(response, 504, "upstream_timeout")


def test_the_deadline_bounds_retries(
    make_app: Callable[..., Flask], upstream: FakeUpstream
) -> None:
    upstream.fault("hello", "unavailable")
    response = make_app(retries=10, deadline=0.5).test_client().get("/hello")
    _assert_envelope(response, 504, "upstream_timeout")
    assert 1 < len(upstream.requests) < 11  # retried, but the deadline stopped the retries


def test_connection_refused_is_503_with_retry_after(make_app: Callable[..., Flask]) -> None:
    app = make_app(upstream_url=refused_url(), retries=1)
    response = app.test_client().get("/hello")
    _assert_envelope(response, 503, "upstream_unavailable")
    assert int(response.headers["Retry-After"]) >= 1


def test_dns_failure_is_503(make_app: Callable[..., Flask]) -> None:
    # .invalid never resolves (RFC 6761); the resolver answers locally without a network.
    app = make_app(upstream_url="http://dictionary.invalid/api", retries=0)
    response = app.test_client().get("/hello")
    _assert_envelope(response, 503, "upstream_unavailable")


def test_circuit_opens_after_repeated_failures_and_fails_fast(
    make_app: Callable[..., Flask], upstream: FakeUpstream
) -> None:
    upstream.fault("*", "server_error")
    client = make_app(breaker_threshold=3, breaker_cooldown=60).test_client()
    statuses = [client.get(f"/{word}").status_code for word in ["a", "b", "c", "d", "e"]]
    assert statuses == [502, 502, 502, 503, 503]
    assert len(upstream.requests) == 3
    refused = client.get("/f")
    _assert_envelope(refused, 503, "upstream_unavailable")
    assert 1 <= int(refused.headers["Retry-After"]) <= 60


def test_not_found_does_not_count_as_a_failure(
    make_app: Callable[..., Flask], upstream: FakeUpstream
) -> None:
    client = make_app(breaker_threshold=2).test_client()
    statuses = [client.get(f"/{word}").status_code for word in ["zz", "zy", "zx", "hello"]]
    assert statuses == [404, 404, 404, 200]


def _four_concurrent_lookups(app: Flask) -> list[int]:
    results: list[int] = []

    def get(word: str) -> None:
        results.append(app.test_client().get(f"/{word}").status_code)

    threads = [threading.Thread(target=get, args=(w,)) for w in ["aa", "bb", "cc", "dd"]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    return sorted(results)


def test_bulkhead_sheds_calls_beyond_the_concurrency_cap(
    make_app: Callable[..., Flask], upstream: FakeUpstream
) -> None:
    upstream.fault("*", "slow")  # each answer takes 0.3 s, longer than the queue wait
    app = make_app(upstream_concurrency=2, upstream_queue_wait=0.05, breaker_threshold=100)
    assert _four_concurrent_lookups(app) == [200, 200, 503, 503]
    assert len(upstream.requests) == 2
    # Shedding is local: it must not open the circuit.
    assert app.test_client().get("/hello").status_code == 200


def test_bulkhead_queues_behind_a_healthy_upstream(
    make_app: Callable[..., Flask], upstream: FakeUpstream
) -> None:
    upstream.fault("*", "slow")  # 0.3 s per answer, within the queue wait
    app = make_app(upstream_concurrency=2, upstream_queue_wait=1.0)
    assert _four_concurrent_lookups(app) == [200, 200, 200, 200]
    assert len(upstream.requests) == 4
