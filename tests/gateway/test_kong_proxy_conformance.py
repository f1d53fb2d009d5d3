"""The double's proxy against the recorded Kong 3.9.3 proxy scenarios.

Each scenario runs from an empty double with a fresh echo upstream: admin steps set Kong up (and
are checked by status and, where the admin conformance test does not already cover the group, by
body), proxy steps are compared in full (see proxy_replay.py). The double runs without rebuild
timers here, so its workers change exactly where the recorder waited for every worker of the real
Kong to serve the new configuration: at each `wait_for_propagation`. `align_to_fresh_*` moves the
double's proxy clock to the start of a UTC window instead of waiting for one; `sleep` really
sleeps (credential and cache ttls). Steps where the double deliberately differs are listed in
DIFFERENCES with the reason and must still differ.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator

import pytest

from tests.fakes.kong import KongDouble

from .corpus import Verdicts, load
from .echo import EchoServer
from .proxy_replay import (
    ProxyLabels,
    body_problems,
    check_problems,
    header_problems,
    send,
    upstream_problems,
)
from .test_kong_double_conformance import replay_step

GROUPS = ("proxy-basics", "key-auth-proxy", "rate-limiting-proxy", "proxy-cache-proxy",
          "request-size-limiting-proxy", "upstream-failures", "routes", "key-auth-credentials",
          "upstreams-targets")
ADMIN_ONLY = ("routes/crud-and-validation", "key-auth-credentials/crud")
NOT_MODELLED = "not modelled by the double (the gateway does not use it)"
# Scenarios the double does not replay at all, with the reason.
SKIPPED_SCENARIOS = {
    "key-auth-proxy/acl": "acl plugin and /consumers/{c}/acls: " + NOT_MODELLED,
}
HEALTH = "health checker (active probes, /health, manual marking): " + NOT_MODELLED
DIFFERENCES: dict[tuple[str, int], str] = {
    **{("upstreams-targets/active-healthchecks", n): HEALTH for n in (16, 17)},
    **{("upstreams-targets/no-healthy-target", n): HEALTH for n in (10, 11, 12, 13)},
    **{("upstreams-targets/manual-health-marking", n): HEALTH for n in (6, 8, 9, 11)},
}
# Where the recording's request headers are not what the recorder sent (the upstream's view shows
# the real value), the replay sends what was really sent.
REQUEST_FIXES = {
    **{("proxy-basics/headers", n): {"Host": "custom.example.test"} for n in (8, 9)},
    ("routes/matching-proxy", 26): {"Host": "dict.example.test"},
    ("routes/matching-proxy", 27): {"Host": "dict.example.test:8000"},
    ("routes/matching-proxy", 28): {"Host": "DICT.example.test"},
}
ZERO_KEY = "0" * 64    # the recorder's "no such key" probe, normalised to <sha256> like a real one


def scenarios() -> list[tuple[str, dict]]:
    return [(f"{group}/{sc['name']}", sc) for group in GROUPS for sc in load(group)
            if f"{group}/{sc['name']}" not in (*SKIPPED_SCENARIOS, *ADMIN_ONLY)]


@pytest.fixture(scope="module")
def kong() -> Iterator[KongDouble]:
    with KongDouble(worker_state_update_frequency=None) as double:
        yield double


@pytest.fixture
def echo() -> Iterator[EchoServer]:
    with EchoServer() as server:
        yield server


class Replay:
    """State of one scenario's replay."""

    def __init__(self, kong: KongDouble, echo: EchoServer, name: str) -> None:
        self.kong, self.echo, self.name = kong, echo, name
        port = kong.proxy_listener.server.server_address[1]
        self.proxy_port = port
        self.labels = ProxyLabels({echo.port: "<upstream-port>",
                                   echo.closed_port: "<closed-port>", port: "8000"})
        self.first_cache_key: str | None = None

    def action(self, step: dict) -> None:
        kind = step["action"]
        if kind == "wait_for_propagation":
            self.kong.propagate()
        elif kind == "sleep":
            time.sleep(step["seconds"])
        elif kind in ("align_to_fresh_minute", "align_to_fresh_second"):
            size = 60 if kind.endswith("minute") else 1
            now = time.time() + self.kong.clock_offset
            self.kong.clock_offset += math.ceil(now / size) * size - now + 0.01

    def admin(self, step: dict) -> list[str]:
        request = dict(step["request"])
        if "<sha256>" in request["path"]:
            key = ZERO_KEY if step["response"]["status"] == 404 and step["request"][
                "method"] == "GET" else self.first_cache_key
            request["path"] = request["path"].replace("<sha256>", key or ZERO_KEY)
        problems = replay_step(self.kong.admin_url, self.labels, {**step, "request": request})
        return [p for p in problems if not p.startswith("body ") or "body_summary"
                not in step["response"]]

    def proxy(self, step: dict) -> list[str]:
        request, response = step["request"], step["response"]
        path = self.labels.materialize(request["path"])
        answer = send(self.proxy_port, self.labels, request, path)
        self.first_cache_key = self.first_cache_key or answer.header("X-Cache-Key")
        problems = [] if answer.status == response["status"] else [
            f"status {answer.status} != {response['status']}"]
        problems += header_problems(self.labels, answer, response.get("headers", {}))
        problems += body_problems(self.labels, answer, response)
        seen = self.echo.received(answer.header("X-Kong-Request-Id"))
        problems += upstream_problems(self.labels, seen, step.get("upstream", []))
        return problems + check_problems(self.labels, answer, step.get("checks", {}))


@pytest.mark.parametrize(("name", "scenario"), scenarios(), ids=[n for n, _ in scenarios()])
def test_double_proxy_replays_recorded_steps(kong: KongDouble, echo: EchoServer, name: str,
                                             scenario: dict) -> None:
    kong.reset()
    replay, verdicts = Replay(kong, echo, name), Verdicts()
    for step in scenario["steps"]:
        if "action" in step:
            replay.action(step)
            continue
        request = step["request"]
        fix = REQUEST_FIXES.get((name, step["n"]))
        if fix:
            step = {**step, "request": {**request, "headers": {**request["headers"], **fix}}}
        run = replay.proxy if request["api"] == "proxy" else replay.admin
        problems = run(step)
        title = f"#{step['n']} {request['method']} {request['path']}"
        verdicts.judge(title, problems, (name, step["n"]) in DIFFERENCES)
    assert not verdicts.lines, "\n".join(verdicts.lines)


def test_every_listed_difference_names_a_replayed_step() -> None:
    known = {(name, s["n"]) for name, sc in scenarios() for s in sc["steps"] if "n" in s}
    assert set(DIFFERENCES) <= known
