"""Generated requests against the running app and the gateway, checked against the descriptions.

Each scenario prints its figures (requests tried, responses that broke the description, 5xx
the description does not allow, tracebacks in the app's log) and requires every one of them
but the first to be 0. `make test` sends about 1,250 requests in all; `make fuzz` (FUZZ_SCALE=20)
about 25,000. FUZZ_SEED changes the seed.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import requests
import schemathesis
from hypothesis import strategies as st
from schemathesis import Case

from dictionary import openapi
from tests.e2e.conftest import Stack
from tests.fakes.upstream import FakeUpstream

from .conftest import FREE, UNLIMITED, app_server
from .fuzz import SCALE, Tally, explore

# Requests per scenario in `make test`; FUZZ_SCALE multiplies them.
HEALTHY, FAILING, HANGING, GATEWAY = 400, 300, 150, 400
# Every way the upstream has failed that the app must turn into a described answer.
FAILURES = ["server_error", "bad_gateway", "unavailable", "cloudflare_522", "invalid_json",
            "json_object", "empty_list", "oversized", "not_found"]
OTHER_METHODS = ["POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
# Hypothesis favours the simplest value of a strategy it draws beside a large one; a Random it
# seeds keeps the choices reproducible and spread as weighted.
CHOICES = st.randoms(use_true_random=False)
# Seconds a scenario may take at FUZZ_SCALE=1 (generous: a 2-core machine shared with others).
BUDGET = 120


def _budget() -> pytest.MarkDecorator:
    return pytest.mark.timeout(BUDGET * SCALE)


def _app_schema(url: str) -> schemathesis.BaseSchema:
    """The description the app itself serves, not the file: what is served is what is tested."""
    return schemathesis.openapi.from_url(url + "/-/openapi.json")


@_budget()
def test_app_with_a_healthy_upstream(upstream: FakeUpstream, sample_db: Path,
                                     tmp_path: Path) -> None:
    """Found and unknown words from the upstream, WordNet words, refused words, operations."""
    log = tmp_path / "app.log"
    with app_server(upstream, sample_db, log) as app:
        tally = explore(_app_schema(app.url), app.url, Tally("app, upstream healthy"),
                        HEALTHY * SCALE, steer=lambda _case, rnd: setattr(
                            upstream, "answer_all", rnd.random() < 0.5), knobs=CHOICES)
    tally.count_tracebacks(log)
    tally.assert_clean(HEALTHY * SCALE)


@_budget()
def test_app_with_a_failing_upstream(upstream: FakeUpstream, sample_db: Path,
                                     tmp_path: Path) -> None:
    """Each request meets one of the upstream's failures: the app's cache is off and its
    circuit breaker kept closed, so that every failure reaches the app's mapping."""
    log = tmp_path / "app.log"
    with app_server(upstream, sample_db, log, DICTIONARY_BREAKER_THRESHOLD="1000000",
                    DICTIONARY_CACHE_MAX_BYTES="0") as app:
        tally = explore(_app_schema(app.url), app.url, Tally("app, upstream failing"),
                        FAILING * SCALE,
                        steer=lambda _case, rnd: upstream.fault("*", rnd.choice(FAILURES)),
                        knobs=CHOICES)
    tally.count_tracebacks(log)
    tally.assert_clean(FAILING * SCALE)


@_budget()
def test_app_with_a_hanging_upstream(upstream: FakeUpstream, sample_db: Path,
                                     tmp_path: Path) -> None:
    """The upstream never answers: timeouts, then the open circuit, WordNet where it knows."""
    upstream.fault("*", "hang")
    log = tmp_path / "app.log"
    with app_server(upstream, sample_db, log) as app:
        tally = explore(_app_schema(app.url), app.url, Tally("app, upstream hanging"),
                        HANGING * SCALE)
    tally.count_tracebacks(log)
    tally.assert_clean(HANGING * SCALE)
    assert tally.statuses[504] + tally.statuses[503] > 0, tally.line()


def test_app_answers_other_methods_with_405(upstream: FakeUpstream, sample_db: Path,
                                            tmp_path: Path) -> None:
    """Methods the description does not list: 405 in the envelope, with `Allow`."""
    with app_server(upstream, sample_db, tmp_path / "app.log") as app:
        document = requests.get(app.url + "/-/openapi.json", timeout=10).json()
        for path in document["paths"]:
            concrete = path.replace("{word}", "hello")
            for method in OTHER_METHODS:
                response = requests.request(method, app.url + concrete, timeout=10)
                assert response.status_code == 405, (method, path)
                assert response.headers["Allow"] == "GET, HEAD"
                assert response.json()["error"] == "method_not_allowed"


@_budget()
def test_gateway(gateway: Stack) -> None:
    """Through the Kong double: keys (an unlimited plan, the free plan, which runs out after 10
    requests a minute, an unknown key, none), the dictionary failing, the app dropping
    connections (Kong's 502)."""
    tally = Tally("gateway (Kong double)")
    keys = {"unlimited": gateway.keys[UNLIMITED], "free": gateway.keys[FREE],
            "unknown": "not-a-key", "none": None}

    def steer(case: Case, rnd: random.Random) -> None:
        [who] = rnd.choices(list(keys), weights=[70, 10, 10, 10])
        [fault] = rnd.choices(["pass", "server_error", "reset"], weights=[80, 10, 10])
        case.headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "apikey"}
        if keys[who] is not None:
            case.headers["apikey"] = keys[who]
        gateway.upstream.fault("*", *(["server_error"] if fault == "server_error" else []))
        gateway.recorder.fault("reset" if fault == "reset" else "pass")

    schema = schemathesis.openapi.from_dict(openapi.load_source())
    try:
        explore(schema, gateway.proxy_url, tally, GATEWAY * SCALE, steer=steer, knobs=CHOICES)
    finally:
        gateway.upstream.fault("*")
        gateway.recorder.fault("pass")
    tally.count_tracebacks(gateway.app_log)  # type: ignore[attr-defined]
    tally.assert_clean(GATEWAY * SCALE)
    for status in (200, 401, 429, 502):
        assert tally.statuses[status] > 0, f"no {status} seen: {tally.line()}"


def test_gateway_answers_other_methods_with_its_404(gateway: Stack) -> None:
    """The route takes GET and HEAD only: Kong's own 404 for the rest (TRACE: its 405)."""
    key = {"apikey": gateway.keys[UNLIMITED]}
    for path in ("/dictionary/hello", "/dictionary"):
        for method in OTHER_METHODS:
            response = requests.request(method, gateway.proxy_url + path, headers=key, timeout=10)
            assert response.status_code == 404, (method, path)
            assert response.json()["message"] == "no Route matched with those values"
        trace = requests.request("TRACE", gateway.proxy_url + path, headers=key, timeout=10)
        assert (trace.status_code, trace.json()["message"]) == (405, "Method not allowed")
