"""Prometheus metrics, correct under several gunicorn worker processes.

When `PROMETHEUS_MULTIPROC_DIR` is set (gunicorn.conf.py sets it), every
worker writes its samples to files in that directory and `/-/metrics`
aggregates all of them, so a scrape sees the whole server, not the one worker
that happened to answer.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from functools import lru_cache
from typing import TYPE_CHECKING

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

REQUESTS = Counter(
    "dictionary_http_requests_total",
    "HTTP responses sent, by route and status.",
    ["method", "endpoint", "status"],
)
REQUEST_SECONDS = Histogram(
    "dictionary_http_request_duration_seconds",
    "Time spent in the app per request, by route.",
    ["endpoint"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
LOOKUPS = Counter(
    "dictionary_lookups_total",
    "Word lookups answered, by the backend that answered, cache state and outcome.",
    ["source", "cache", "outcome"],
)
UPSTREAM_REQUESTS = Counter(
    "dictionary_upstream_requests_total",
    "Calls to the Free Dictionary API, by outcome (found, not_found, or the error).",
    ["outcome"],
)
UPSTREAM_SECONDS = Histogram(
    "dictionary_upstream_request_duration_seconds",
    "Duration of upstream calls including retries.",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 16),
)
CIRCUIT_OPEN = Gauge(
    "dictionary_upstream_circuit_open",
    "1 while a worker's circuit breaker refuses upstream calls.",
    multiprocess_mode="livemax",
)


# Any token is a valid HTTP method; only these become a label value of their own, so
# that a client cannot create new time series (files, under gunicorn) at will.
KNOWN_METHODS = frozenset(("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"))


class RequestClock:
    """WSGI middleware that notes when a request arrived, for the duration histogram.

    Cheaper than a Flask before_request hook writing to `g` on every request.
    """

    KEY = "dictionary.started"

    def __init__(self, wsgi_app: WSGIApplication) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        environ[self.KEY] = time.perf_counter()
        return self.wsgi_app(environ, start_response)

    @classmethod
    def elapsed(cls, environ: WSGIEnvironment) -> float | None:
        started = environ.get(cls.KEY)
        return None if started is None else time.perf_counter() - started


def observe_request(method: str, endpoint: str, status: int, seconds: float | None) -> None:
    """Count one response, and time it when its start was recorded."""
    method = method if method in KNOWN_METHODS else "other"
    counter, histogram = _request_series(method, endpoint, status)
    counter.inc()
    if seconds is not None:
        histogram.observe(seconds)


def count_lookup(source: str, cache: str, outcome: str) -> None:
    _lookup_series(source, cache, outcome).inc()


# Label values come from small fixed sets (methods above, route names, statuses, backend
# names), so each series is looked up once instead of on every request.
@lru_cache(maxsize=1024)
def _request_series(method: str, endpoint: str, status: int) -> tuple[Counter, Histogram]:
    return REQUESTS.labels(method, endpoint, str(status)), REQUEST_SECONDS.labels(endpoint)


@lru_cache(maxsize=256)
def _lookup_series(source: str, cache: str, outcome: str) -> Counter:
    return LOOKUPS.labels(source, cache, outcome)


def render() -> tuple[bytes, str]:
    """The exposition text of every worker's metrics, and its content type."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    from prometheus_client import REGISTRY

    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
