"""The product's promise, end to end: a client with a key reaches the dictionary through Kong,
one without is refused, plan limits and caching behave as documented (docs/api.md, "What a
client sees through Kong"). Runs unchanged against the double (CI) and a real Kong
(`make e2e-live`)."""

from __future__ import annotations

import re
import time

import pytest
import requests

from tests.servers import wait_until

from .conftest import NEVER_CACHED, PLANS, Stack, double_only

KONG = "kong/3.9.3"
# What the app answers for a word when the dictionary upstream cannot be reached (the stack's
# containers may have no internet): its error envelope, never a guess.
UPSTREAM_DOWN = {503: ("upstream_unavailable", "upstream_rate_limited"), 504: ("upstream_timeout",),
                 502: ("bad_gateway",)}


def _kong_error(response: requests.Response, status: int, message: str) -> None:
    """Kong's own error: JSON with message and request_id (= X-Kong-Request-Id), no Via."""
    assert response.status_code == status
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    assert response.json() == {"message": message,
                               "request_id": response.headers["X-Kong-Request-Id"]}
    assert response.headers["Server"] == KONG
    assert "Via" not in response.headers


def test_no_key_is_refused_with_401(stack: Stack) -> None:
    response = stack.get("/dictionary/hello")
    _kong_error(response, 401, "No API key found in request")
    assert response.headers["WWW-Authenticate"] == "Key"
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Kong-Request-Id"])


def test_401_follows_accept(stack: Stack) -> None:
    response = stack.get("/dictionary/hello", headers={"Accept": "text/plain"})
    assert response.status_code == 401
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    rid = response.headers["X-Kong-Request-Id"]
    assert response.text == f"No API key found in request\nrequest_id: {rid}\n"


def test_wrong_key_is_refused_with_401(stack: Stack) -> None:
    response = stack.get("/dictionary/hello", "not-a-key")
    _kong_error(response, 401, "Unauthorized")
    assert response.headers["WWW-Authenticate"] == "Key"


def test_key_reaches_the_dictionary(stack: Stack) -> None:
    response = stack.get("/dictionary/hello", stack.keys["e2e-pro"])
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.json()[0]["word"] == "hello"
    assert response.headers["Via"] == f"1.1 {KONG}"
    for name in ("X-Kong-Upstream-Latency", "X-Kong-Proxy-Latency", "X-Dictionary-Source"):
        assert name in response.headers


def test_bare_prefix_and_lookalike_paths(stack: Stack) -> None:
    """`/dictionary` reaches the app's index; `/dictionaryfoo` must not reach it as `/foo`."""
    key = stack.keys["e2e-pro"]
    index = stack.get("/dictionary", key)
    assert (index.status_code, index.json()) == (200, {"data": "Welcome to dictionary"})
    _kong_error(stack.get("/dictionaryfoo", key), 404, "no Route matched with those values")


def test_app_sees_the_consumer_and_never_the_key(stack: Stack) -> None:
    double_only(stack, "the app does not echo headers and a containerised Kong cannot reach "
                       "the host-side recorder; see the app's access log (consumer=...)")
    key = stack.keys["e2e-pro"]
    response = stack.get("/dictionary/keyboard", key, headers={
        "X-Consumer-Username": "admin", "X-Consumer-ID": "forged"})
    assert response.status_code == 200
    [seen] = stack.recorder.by_request_id(response.headers["X-Kong-Request-Id"])
    assert seen.path == "/keyboard"
    assert seen.header("X-Consumer-Username") == "e2e-pro"
    assert seen.header("X-Consumer-ID") != "forged"
    assert seen.header("apikey") is None
    assert key not in repr(seen.headers)


def _unknown_word(stack: Stack, key: str, word: str) -> requests.Response:
    """An unknown word: the upstream's 404 when it can be reached; otherwise (a stack without
    internet) the app's 5xx envelope, since the embedded dictionary does not know it either.
    Which of the two is decided by the answer itself, checked for consistency: a 5xx must come
    with a word the embedded dictionary knows being answered by it."""
    response = stack.get(f"/dictionary/{word}", key)
    assert response.headers["Content-Type"] == "application/json"
    if response.status_code == 404 or stack.upstream is not None:
        assert response.status_code == 404
        assert response.json()["error"] == "word_not_found"
        assert response.json()["title"] == "No Definitions Found"
        return response
    assert response.json()["error"] in UPSTREAM_DOWN[response.status_code]
    assert response.headers["Cache-Control"] == "no-store"
    fallback = stack.get("/dictionary/goose", key)
    assert (fallback.status_code, fallback.headers["X-Dictionary-Source"]) == (200, "wordnet")
    return response


def test_unknown_word_passes_through_unchanged(stack: Stack) -> None:
    response = _unknown_word(stack, stack.keys["e2e-pro"], "qwertyuiop")
    if stack.recorder:
        seen = stack.recorder.by_request_id(response.headers["X-Kong-Request-Id"])
        if seen:                        # a cache Hit from an earlier run never reaches the app
            assert response.content == seen[0].body


def test_invalid_word_400_passes_through_unchanged(stack: Stack) -> None:
    response = stack.get("/dictionary/100%25", stack.keys["e2e-pro"])
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_word"
    assert response.headers["Via"] == f"1.1 {KONG}"
    if stack.recorder:
        [seen] = stack.recorder.by_request_id(response.headers["X-Kong-Request-Id"])
        assert seen.path == "/100%25"
        assert response.content == seen.body


def test_plan_limit_gives_429_while_another_consumer_is_unaffected(stack: Stack) -> None:
    """Counts never go up, start at limit - 1, and the 429 comes no later than two requests
    after the limit (Kong may count a request after answering it: facts §2)."""
    limit = PLANS["free"]["minute"]
    stack.fresh_window("e2e-free")
    free, pro = stack.keys["e2e-free"], stack.keys["e2e-pro"]
    answers = []
    while len(answers) < limit + 2 and (not answers or answers[-1].status_code != 429):
        answers.append(stack.get("/dictionary/hello", free))
    remaining = [int(r.headers["X-RateLimit-Remaining-Minute"]) for r in answers]
    assert remaining[0] == limit - 1
    assert remaining == sorted(remaining, reverse=True), remaining
    assert [r.status_code for r in answers[:limit]] == [200] * limit
    limited = answers[-1]
    _kong_error(limited, 429, "API rate limit exceeded")
    headers = limited.headers
    assert (headers["X-RateLimit-Limit-Minute"], headers["X-RateLimit-Remaining-Minute"]) == (
        str(limit), "0")
    assert headers["X-RateLimit-Limit-Day"] == str(PLANS["free"]["day"])
    assert (headers["RateLimit-Limit"], headers["RateLimit-Remaining"]) == (str(limit), "0")
    assert 1 <= int(headers["Retry-After"]) <= 60
    assert headers["Retry-After"] == headers["RateLimit-Reset"]
    other = stack.get(NEVER_CACHED, pro)
    assert other.status_code == 400
    assert other.headers["X-RateLimit-Limit-Minute"] == str(PLANS["pro"]["minute"])


def test_two_nodes_share_one_count(stack: Stack) -> None:
    """A consumer whose requests alternate between two Kong nodes gets exactly its plan: the
    count lives in Redis, not in each node."""
    if len(stack.proxy_urls) < 2:
        pytest.skip("not applicable with one Kong node: set KONG_PROXY_URL_2 to a second "
                    "node's proxy (docker compose --profile cluster up)")
    limit = PLANS["free"]["minute"]
    stack.fresh_window("e2e-nodes")
    key = stack.keys["e2e-nodes"]
    statuses = [stack.get("/dictionary/hello", key, node=n % 2).status_code
                for n in range(limit + 4)]
    assert statuses == [200] * limit + [429] * 4


def test_a_cache_hit_carries_this_requests_rate_limit_headers(stack: Stack) -> None:
    """On a Hit, Kong replays the headers it stored with the entry (facts §3); the gateway's
    post-function sets this request's again: RateLimit-Reset counts down, limits are the
    plan's."""
    pro = stack.keys["e2e-pro"]
    stack.fresh_window("e2e-pro", needed=15, unspent=False)
    assert requests.delete(stack.admin_url + "/proxy-cache", timeout=10).status_code == 204
    miss = stack.get("/dictionary/keyboard", pro)
    _let_seconds_pass(stack, 2.2)
    hit = stack.get("/dictionary/keyboard", pro)
    assert (miss.headers["X-Cache-Status"], hit.headers["X-Cache-Status"]) == ("Miss", "Hit")
    assert int(hit.headers["RateLimit-Reset"]) < int(miss.headers["RateLimit-Reset"])
    plan = PLANS["pro"]
    assert hit.headers["X-RateLimit-Limit-Minute"] == str(plan["minute"])
    assert hit.headers["X-RateLimit-Limit-Day"] == str(plan["day"])
    assert hit.headers["RateLimit-Limit"] == str(plan["minute"])


def _let_seconds_pass(stack: Stack, seconds: float) -> None:
    """The doubles' clocks jump; a real Kong's clock has to be waited for."""
    if stack.doubles:
        for double in stack.doubles:
            double.clock_offset += seconds
    else:
        time.sleep(seconds)


def test_second_lookup_is_a_cache_hit_that_skips_the_app(stack: Stack) -> None:
    key = stack.keys["e2e-pro"]
    assert requests.delete(stack.admin_url + "/proxy-cache", timeout=10).status_code == 204
    first = stack.get("/dictionary/keyboard", key)
    second = stack.get("/dictionary/keyboard", key)
    assert first.headers["X-Cache-Status"] == "Miss"
    assert second.headers["X-Cache-Status"] == "Hit"
    assert re.fullmatch(r"[0-9a-f]{64}", first.headers["X-Cache-Key"])
    assert second.headers["X-Cache-Key"] == first.headers["X-Cache-Key"]
    assert int(second.headers["Age"]) >= 0
    assert second.content == first.content
    if stack.recorder:
        assert stack.recorder.by_request_id(second.headers["X-Kong-Request-Id"]) == []
    other = stack.get("/dictionary/keyboard", stack.keys["e2e-rotate"])
    assert other.headers["X-Cache-Status"] == "Miss"       # keyed per consumer
    assert other.headers["X-Cache-Key"] != first.headers["X-Cache-Key"]


def test_purge_through_the_admin_api(stack: Stack) -> None:
    key = stack.keys["e2e-pro"]
    stack.get("/dictionary/hello", key)
    cached = stack.get("/dictionary/hello", key)
    assert cached.headers["X-Cache-Status"] == "Hit"
    url = f"{stack.admin_url}/proxy-cache/{cached.headers['X-Cache-Key']}"
    assert requests.delete(url, timeout=10).status_code == 204
    assert requests.delete(url, timeout=10).status_code == 404
    assert stack.get("/dictionary/hello", key).headers["X-Cache-Status"] == "Miss"


def test_head_is_never_stored(stack: Stack) -> None:
    key = stack.keys["e2e-pro"]
    for _ in range(2):
        head = requests.head(stack.proxy_url + "/dictionary/hello", headers={"apikey": key},
                             timeout=10)
        assert head.headers["X-Cache-Status"] == "Miss"


def test_unknown_words_are_cached_only_when_they_are_404(stack: Stack) -> None:
    key = stack.keys["e2e-pro"]
    first = _unknown_word(stack, key, "zzzznotaword")
    second = stack.get("/dictionary/zzzznotaword", key)
    expected = "Hit" if first.status_code == 404 else "Bypass"
    assert second.headers["X-Cache-Status"] == expected


def test_oversized_request_gets_413(stack: Stack) -> None:
    response = requests.get(stack.proxy_url + "/dictionary/hello", data=b"x" * (8 * 1024 + 1),
                            headers={"apikey": stack.keys["e2e-pro"]}, timeout=10)
    _kong_error(response, 413, "Request size limit exceeded")


def test_dictionary_outage_is_answered_from_the_embedded_dictionary(stack: Stack) -> None:
    double_only(stack, "the real Free Dictionary API cannot be made to fail from a test")
    stack.upstream.fault("*", "server_error")
    try:
        response = stack.get("/dictionary/goose", stack.keys["e2e-pro"])
    finally:
        stack.upstream.fault("*")
        stack.upstream.clear()
    assert response.status_code == 200
    assert response.headers["X-Dictionary-Source"] == "wordnet"
    assert response.json()[0]["word"] == "goose"


def test_app_down_gives_502(stack: Stack) -> None:
    double_only(stack, "the compose app cannot be stopped from a test; `docker compose stop "
                       "app` shows the same 502")
    stack.recorder.fault("reset")
    try:
        plain = stack.get("/dictionary/run", stack.keys["e2e-pro"], headers={"Accept": ""})
        json_ = stack.get("/dictionary/run", stack.keys["e2e-pro"])
    finally:
        stack.recorder.fault("pass")
    message = "An invalid response was received from the upstream server"
    assert plain.status_code == 502
    assert plain.text == f"{message}\nrequest_id: {plain.headers['X-Kong-Request-Id']}\n"
    assert plain.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert json_.status_code == 502
    assert json_.json()["message"] == message
    assert json_.headers["Via"] == f"1.1 {KONG}"


def test_app_timeout_gives_504(stack: Stack) -> None:
    double_only(stack, "the compose app cannot be slowed down from a test")
    service = f"{stack.admin_url}/services/dictionary"
    requests.patch(service, json={"read_timeout": 300, "retries": 0},
                   timeout=10).raise_for_status()
    stack.double.propagate()              # a service change reaches workers at their rebuild
    stack.recorder.fault("slow", 2.0)
    try:
        response = stack.get("/dictionary/better", stack.keys["e2e-pro"])
    finally:
        stack.recorder.fault("pass")
        report = stack.provision()            # drift repaired: timeouts back as declared
    assert response.status_code == 504
    assert response.json()["message"] == "The upstream server is timing out"
    assert report["summary"]["update"] == 1        # the service, put back by provision.py
    assert requests.get(service, timeout=10).json()["read_timeout"] == 15000


def test_rotated_key_works_and_the_old_one_is_refused(stack: Stack) -> None:
    old = stack.keys["e2e-rotate"]
    assert stack.get("/dictionary/hello", old).status_code == 200
    [new] = stack.provision("key", "rotate", "e2e-rotate")["keys"]
    assert new != old

    def switched() -> bool:    # credentials propagate almost at once, but still poll
        return (stack.get("/dictionary/hello", new).status_code == 200
                and stack.get("/dictionary/hello", old).status_code == 401)

    assert wait_until(switched, 10.0, 0.1)
    stack.keys["e2e-rotate"] = new
    _kong_error(stack.get("/dictionary/hello", old), 401, "Unauthorized")


@pytest.mark.parametrize("path", ["/dictionary/-/metrics", "/dictionary/-/ready",
                                  "/dictionary/-/openapi.json"])
def test_the_apps_operational_endpoints_are_closed_at_the_gateway(stack: Stack,
                                                                   path: str) -> None:
    response = stack.get(path, stack.keys["e2e-pro"])
    assert response.status_code == 404
    assert response.json() == {"message": "Not found"}
    assert response.headers["Server"] == KONG
    if stack.recorder:
        assert stack.recorder.by_request_id(response.headers["X-Kong-Request-Id"]) == []
