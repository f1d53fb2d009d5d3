"""Liveness, readiness and metrics under the /-/ prefix."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient

from tests.fakes.upstream import FakeUpstream


def test_health_is_independent_of_the_upstream(make_app: Callable[..., Flask]) -> None:
    client = make_app(upstream_url="http://127.0.0.1:9/none").test_client()
    response = client.get("/-/health")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}
    assert response.headers["Content-Type"] == "application/json"


def test_ready_while_the_upstream_is_usable(client: FlaskClient) -> None:
    response = client.get("/-/ready")
    assert response.status_code == 200
    assert response.json == {"status": "ready", "backends": {"upstream": True}}


def test_not_ready_while_the_circuit_is_open(
    make_app: Callable[..., Flask], upstream: FakeUpstream
) -> None:
    upstream.fault("*", "server_error")
    client = make_app(breaker_threshold=1).test_client()
    client.get("/hello")
    response = client.get("/-/ready")
    assert response.status_code == 503
    assert response.json == {"status": "unavailable", "backends": {"upstream": False}}


def _sample(client: FlaskClient, line_prefix: str) -> float:
    """The value of one sample in the exposition text (0 when absent)."""
    for line in client.get("/-/metrics").get_data(as_text=True).splitlines():
        if line.startswith(line_prefix + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


LOOKUP_200 = (
    'dictionary_http_requests_total{endpoint="dictionary.lookup",method="GET",status="200"}'
)
CACHE_HITS = 'dictionary_lookups_total{cache="hit",outcome="found",source="upstream"}'
UPSTREAM_404 = 'dictionary_upstream_requests_total{outcome="not_found"}'


def test_metrics_count_requests_lookups_and_upstream_calls(client: FlaskClient) -> None:
    before = {name: _sample(client, name) for name in (LOOKUP_200, CACHE_HITS, UPSTREAM_404)}
    client.get("/hello")
    client.get("/hello")
    client.get("/qwerty")
    response = client.get("/-/metrics")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    assert _sample(client, LOOKUP_200) - before[LOOKUP_200] == 2
    assert _sample(client, CACHE_HITS) - before[CACHE_HITS] == 1
    assert _sample(client, UPSTREAM_404) - before[UPSTREAM_404] == 1


def test_unknown_methods_share_one_label_value(client: FlaskClient) -> None:
    """A client inventing methods must not create new series (files, under gunicorn)."""
    other = 'dictionary_http_requests_total{endpoint="none",method="other",status="405"}'
    before = _sample(client, other)
    for method in ("FOO", "BAR", "PROPFIND"):
        assert client.open("/hello", method=method).status_code == 405
    text = client.get("/-/metrics").get_data(as_text=True)
    assert _sample(client, other) - before == 3
    assert 'method="FOO"' not in text


LOOKUP_TIMED = 'dictionary_http_request_duration_seconds_count{endpoint="dictionary.lookup"}'


def test_every_request_is_timed(client: FlaskClient) -> None:
    before = _sample(client, LOOKUP_TIMED)
    client.get("/hello")
    client.get("/a/b")  # refused by validation: still timed
    assert _sample(client, LOOKUP_TIMED) - before == 2
