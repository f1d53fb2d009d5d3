"""The double against what the real Kong 3.9.3 did with this project's gateway (rate limits, plans
and proxy-cache), written down in tests/data/kong/rate-limits-and-cache.md. Each test names the
section it reproduces. Where that file and the recorded corpus differ, the file wins: it was
observed later, on the same Kong, with this project's own configuration.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import requests

from tests.fakes.kong import KongDouble
from tests.servers import Redis, free_port, wait_until

from .conftest import ROOT
from .echo import EchoServer

RATE_HEADERS = re.compile(r"^(x-)?ratelimit-", re.I)
REAPPLY = ("local c = ngx.ctx.__rate_limiting_context__ if c then "
           "for k, v in pairs(c) do kong.response.set_header(k, v) end end")


@dataclass
class Setup:
    """A double without rebuild timers (the tests move its workers), and an echo upstream."""

    kong: KongDouble
    echo: EchoServer

    def admin(self, method: str, path: str, body: dict | None = None) -> dict:
        response = requests.request(method, self.kong.admin_url + path, json=body, timeout=10)
        assert response.status_code < 300, response.text
        return response.json() if response.content else {}

    def get(self, path: str, key: str | None = None, worker: int | None = None,
            session: requests.Session | None = None) -> requests.Response:
        """One request; a fresh connection unless `session` is given, on `worker` if set."""
        self.kong.workers.pinned = worker
        send = session.get if session else requests.get
        return send(self.kong.proxy_url + path, headers={"apikey": key} if key else {},
                    timeout=10)

    def route(self, name: str, **plugins: dict) -> None:
        """A route /<name> to the echo with key-auth and the given route plugins."""
        self.admin("PUT", f"/services/{name}", {"url": f"http://127.0.0.1:{self.echo.port}"})
        self.admin("PUT", f"/routes/{name}", {"paths": [f"/{name}"],
                                              "service": {"name": name}})
        for plugin, config in {"key-auth": {}, **plugins}.items():
            self.admin("PUT", f"/plugins/{name}-{plugin}",
                       {"name": plugin, "route": {"name": name}, "config": config})

    def consumer(self, name: str, key: str, plan: dict | None = None) -> None:
        self.admin("PUT", f"/consumers/{name}", {})
        if plan is not None:
            self.admin("PUT", f"/plugins/plan-{name}", {"name": "rate-limiting",
                                                        "consumer": {"username": name},
                                                        "config": plan})
        self.admin("POST", f"/consumers/{name}/key-auth", {"key": key})


@pytest.fixture
def setup() -> Iterator[Setup]:
    with KongDouble(worker_state_update_frequency=None) as kong, EchoServer() as echo:
        yield Setup(kong, echo)


def start_of_minute(kong: KongDouble) -> None:
    """Move the double's clock to a fresh UTC minute (the windows are fixed)."""
    now = time.time() + kong.clock_offset
    kong.clock_offset += 60 - now % 60 + 0.01


# -- §1: a consumer's plan is not in force when its key already works ------------------------

def test_s1_key_works_at_once_but_the_plan_waits_for_each_worker_to_rebuild(setup) -> None:
    setup.route("rl", **{"rate-limiting": {"minute": 60}})
    setup.kong.propagate()
    setup.consumer("alice", "alice-key")                     # consumer and key: at once
    assert setup.get("/rl/x", "alice-key").headers["X-RateLimit-Limit-Minute"] == "60"
    setup.admin("PUT", "/plugins/plan-alice", {"name": "rate-limiting",
                                               "consumer": {"username": "alice"},
                                               "config": {"minute": 10}})
    for worker in (0, 1):                                    # no worker has rebuilt yet
        assert setup.get("/rl/x", "alice-key", worker).headers[
            "X-RateLimit-Limit-Minute"] == "60"
    setup.kong.workers.rebuild(0)                            # worker 0's timer fires
    plan = setup.get("/rl/x", "alice-key", 0)
    assert (plan.headers["X-RateLimit-Limit-Minute"], plan.headers[
        "X-RateLimit-Remaining-Minute"]) == ("10", "9")      # the plan's own counter
    assert setup.get("/rl/x", "alice-key", 1).headers["X-RateLimit-Limit-Minute"] == "60"
    setup.kong.workers.rebuild(1)
    assert setup.get("/rl/x", "alice-key", 1).headers["X-RateLimit-Limit-Minute"] == "10"


def test_s1_the_timers_bring_every_worker_to_the_new_plan(setup) -> None:
    with KongDouble(worker_state_update_frequency=0.2) as kong:
        ticking = Setup(kong, setup.echo)
        ticking.route("rl", **{"rate-limiting": {"minute": 60}})
        ticking.consumer("bob", "bob-key", {"minute": 10})

        def both_workers_limit_bob() -> bool:
            seen = [ticking.get("/rl/x", "bob-key", w).headers.get("X-RateLimit-Limit-Minute")
                    for w in (0, 1)]
            return seen == ["10", "10"]

        assert wait_until(both_workers_limit_bob, 5.0, 0.05)


def test_s1_a_node_hears_of_another_nodes_writes_at_its_next_cluster_poll(setup) -> None:
    with KongDouble(store=setup.kong.store, worker_state_update_frequency=0.05,
                    db_update_frequency=3600) as second:
        setup.route("rl", **{"rate-limiting": {"minute": 60}})
        assert second.workers.known != second.store.versions   # written through the first
        second.workers.heard()                                 # its cluster-events poll
        assert wait_until(lambda: requests.get(second.proxy_url + "/rl/x",
                                                timeout=10).status_code == 401, 5.0, 0.05)


# -- §2: counting is asynchronous: a remaining count can repeat ------------------------------

def test_s2_local_counts_after_answering_so_a_count_can_repeat(setup) -> None:
    setup.route("rl")
    setup.consumer("carol", "carol-key", {"minute": 10})
    setup.kong.propagate()
    start_of_minute(setup.kong)
    setup.kong.count_delay = 0.5                  # the timer runs late: the next request is first
    first, second = (setup.get("/rl/x", "carol-key") for _ in range(2))
    assert [r.headers["X-RateLimit-Remaining-Minute"] for r in (first, second)] == ["9", "9"]
    counts = setup.kong.proxy.rate_limiting.local.counts
    assert wait_until(lambda: sorted(counts.values()) == [2], 5.0, 0.05)   # both counted late
    assert setup.get("/rl/x", "carol-key").headers["X-RateLimit-Remaining-Minute"] == "7"


def test_s2_on_a_quiet_connection_the_countdown_is_strict_as_the_corpus_recorded(setup) -> None:
    """The corpus (a quiet machine) shows 9 8 ... 0 then 429; facts §2 say it may repeat."""
    setup.route("rl")
    setup.consumer("dave", "dave-key", {"minute": 10})
    setup.kong.propagate()
    start_of_minute(setup.kong)
    with requests.Session() as session:
        answers = [setup.get("/rl/x", "dave-key", session=session) for _ in range(11)]
    assert [r.headers["X-RateLimit-Remaining-Minute"] for r in answers] == [
        *map(str, range(9, -1, -1)), "0"]
    assert [r.status_code for r in answers] == [200] * 10 + [429]


# -- §3: proxy-cache replays the rate-limit headers it stored, except the remaining counts --

CACHED = {"proxy-cache": {"strategy": "memory", "content_type": ["application/json"]}}


def _rate_headers(response: requests.Response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if RATE_HEADERS.match(k)}


def test_s3_a_hit_replays_the_stored_limit_and_reset_but_fresh_remaining_counts(setup) -> None:
    setup.route("pc", **CACHED)
    setup.consumer("erin", "erin-key", {"minute": 60})
    setup.kong.propagate()
    start_of_minute(setup.kong)
    miss = setup.get("/pc/word", "erin-key")
    setup.kong.clock_offset += 3                         # three seconds later
    hit = setup.get("/pc/word", "erin-key")
    assert (miss.headers["X-Cache-Status"], hit.headers["X-Cache-Status"]) == ("Miss", "Hit")
    assert hit.headers["RateLimit-Reset"] == miss.headers["RateLimit-Reset"]      # frozen
    assert int(hit.headers["RateLimit-Reset"]) > 60 - 3                           # the truth: 57
    assert hit.headers["RateLimit-Remaining"] == "58"                             # fresh
    assert hit.headers["X-RateLimit-Remaining-Minute"] == "58"


def test_s3_after_a_plan_change_hits_keep_the_old_plans_limits(setup) -> None:
    setup.route("pc", **CACHED)
    setup.consumer("frank", "frank-key", {"minute": 60})
    setup.kong.propagate()
    setup.get("/pc/word", "frank-key")                   # stored under the plan of 60
    setup.admin("PATCH", "/plugins/plan-frank", {"config": {"minute": 1000}})
    setup.kong.propagate()
    hit = setup.get("/pc/word", "frank-key")
    assert hit.headers["X-Cache-Status"] == "Hit"
    assert (hit.headers["X-RateLimit-Limit-Minute"], hit.headers["RateLimit-Limit"]) == (
        "60", "60")
    assert int(hit.headers["X-RateLimit-Remaining-Minute"]) > 900    # counted by the new plan
    assert setup.get("/pc/other", "frank-key").headers["X-RateLimit-Limit-Minute"] == "1000"


def test_s3_the_post_function_remedy_makes_hit_headers_fresh(setup) -> None:
    setup.route("pc", **CACHED, **{"post-function": {"header_filter": [REAPPLY]}})
    setup.consumer("grace", "grace-key", {"minute": 60})
    setup.kong.propagate()
    start_of_minute(setup.kong)
    miss = setup.get("/pc/word", "grace-key")
    setup.kong.clock_offset += 3
    hit = setup.get("/pc/word", "grace-key")
    assert hit.headers["X-Cache-Status"] == "Hit"
    assert int(hit.headers["RateLimit-Reset"]) == int(miss.headers["RateLimit-Reset"]) - 3
    setup.admin("PATCH", "/plugins/plan-grace", {"config": {"minute": 1000}})
    setup.kong.propagate()
    again = setup.get("/pc/word", "grace-key")
    assert again.headers["X-Cache-Status"] == "Hit"
    assert (again.headers["X-RateLimit-Limit-Minute"], again.headers["RateLimit-Limit"]) == (
        "1000", "1000")


def test_unknown_post_function_code_is_a_loud_500(setup) -> None:
    setup.route("pf", **{"post-function": {"header_filter": ["ngx.log(ngx.ERR, 'hi')"]}})
    setup.consumer("hank", "hank-key")
    setup.kong.propagate()
    answer = setup.get("/pf/x", "hank-key")
    assert answer.status_code == 500
    assert "not modelled by the Kong double" in answer.text


# -- the redis policy: one count for every node, taken before the answer ---------------------

def redis_plan(redis: Redis, minute: int, **extra: object) -> dict:
    return {"minute": minute, "policy": "redis", **extra,
            "redis": {"host": redis.host, "port": redis.port, "password": redis.password}}


def test_redis_counts_once_for_two_nodes_sharing_it(setup, redis: Redis) -> None:
    with KongDouble(store=setup.kong.store, worker_state_update_frequency=None) as second:
        setup.route("rd")
        setup.consumer("ivan", "ivan-key", redis_plan(redis, 20))
        setup.kong.propagate()
        second.propagate()
        start_of_minute(setup.kong)
        second.clock_offset = setup.kong.clock_offset
        statuses = []
        for n in range(40):
            url = (setup.kong if n % 2 else second).proxy_url
            statuses.append(requests.get(url + "/rd/x", headers={"apikey": "ivan-key"},
                                         timeout=10).status_code)
    assert statuses == [200] * 20 + [429] * 20


def test_redis_counts_rejected_requests_too(setup, redis: Redis) -> None:
    setup.route("rd")
    setup.consumer("judy", "judy-key", redis_plan(redis, 2) | {"day": 100})
    setup.kong.propagate()
    start_of_minute(setup.kong)
    answers = [setup.get("/rd/x", "judy-key") for _ in range(5)]
    assert [r.status_code for r in answers] == [200, 200, 429, 429, 429]
    # the four requests before the last, two of them refused, were all counted for the day
    assert answers[-1].headers["X-RateLimit-Remaining-Day"] == "96"


def test_redis_down_lets_requests_through_without_headers_when_fault_tolerant(setup) -> None:
    setup.route("rd")
    down = {"host": "127.0.0.1", "port": free_port(), "timeout": 500}
    setup.consumer("kim", "kim-key", {"minute": 1, "policy": "redis", "redis": down})
    setup.consumer("lee", "lee-key", {"minute": 1, "policy": "redis", "redis": down,
                                      "fault_tolerant": False})
    setup.kong.propagate()
    passed = [setup.get("/rd/x", "kim-key") for _ in range(3)]
    assert [r.status_code for r in passed] == [200, 200, 200]
    assert all(not _rate_headers(r) for r in passed)
    assert any("failed to get usage" in e for e in setup.kong.proxy.rate_limiting.errors)
    refused = setup.get("/rd/x", "lee-key")
    assert refused.status_code == 500
    assert refused.json()["message"] == "An unexpected error occurred"


def test_proxy_cache_needs_a_shared_dictionary_nginx_has(setup) -> None:
    """proxy-cache/schema.lua 3.9.3 refuses a memory dictionary nginx does not define."""
    setup.admin("PUT", "/services/pc", {"url": f"http://127.0.0.1:{setup.echo.port}"})
    setup.admin("PUT", "/routes/pc", {"paths": ["/pc"], "service": {"name": "pc"}})
    refused = requests.put(setup.kong.admin_url + "/plugins/pc-cache", timeout=10, json={
        "name": "proxy-cache", "route": {"name": "pc"},
        "config": {"strategy": "memory", "memory": {"dictionary_name": "gateway_proxy_cache"}}})
    assert refused.status_code == 400
    assert refused.json()["fields"] == {"@entity": ["missing shared dict 'gateway_proxy_cache'"]}
    with KongDouble(kong_conf=ROOT / "kong.conf") as configured:
        ours = Setup(configured, setup.echo)
        ours.route("pc", **{"proxy-cache": {"strategy": "memory", "memory": {
            "dictionary_name": "gateway_proxy_cache"}}})
        assert ours.admin("GET", "/plugins/pc-proxy-cache")["config"]["memory"] == {
            "dictionary_name": "gateway_proxy_cache"}
