"""The gateway group of `make bench`: the cost of Kong's plugin chain, as ratios, on a real Kong.

It runs only when KONG_ADMIN_URL and KONG_PROXY_URL name a Kong provisioned from gateway.yaml
(`docker compose up`); otherwise the report says it did not run (the Kong double is a Python
test double: its speed says nothing about Kong's). It adds, tagged `bench-gateway`, a consumer
whose plan never runs out but counts like every plan (same policy, same Redis), a route with
key-auth alone and a route Kong answers itself (request-termination), and removes them after.

Rows, each the median of interleaved rounds of wrk: Kong answering by itself (its ceiling); the
full chain on a proxy-cache Hit (one word again and again); the full chain on a Miss (random
WordNet lemmas) and the same lemmas through key-auth alone (the app does the same work on both,
so their ratio is what the other plugins cost).
"""

from __future__ import annotations

import os
import secrets
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from bench import wrk
from gateway.admin import AdminClient

TAG = "bench-gateway"
CONSUMER = "bench-gateway"
ENDLESS = {"minute": 1_000_000_000, "day": 1_000_000_000_000}
ROUTES = {"terminate": "/bench-gateway/terminate", "key-auth": "/bench-gateway/key-auth"}
NOT_RUN = ("not run: KONG_ADMIN_URL and KONG_PROXY_URL do not name a Kong (set both to a stack "
           "started with `docker compose up`; the Kong double's speed would mean nothing)")


@dataclass(frozen=True)
class GatewayScenario:
    """One gateway scenario: a name and what wrk sends."""

    key: str
    name: str
    url_path: str
    mode: tuple[str, ...]


@dataclass
class GatewayFigures:
    """Requests per second (2xx) per scenario, the medians of the rounds."""

    rps: dict[str, float] = field(default_factory=dict)
    statuses: dict[str, dict[str, int]] = field(default_factory=dict)
    sources: str = ""

    def ratio(self, top: str, bottom: str) -> float | None:
        return self.rps[top] / self.rps[bottom] if self.rps.get(bottom) else None


def targets_from_env() -> tuple[str, str] | None:
    admin, proxy = os.environ.get("KONG_ADMIN_URL"), os.environ.get("KONG_PROXY_URL")
    return (admin.rstrip("/"), proxy.rstrip("/")) if admin and proxy else None


def scenarios(words_file: Path) -> list[GatewayScenario]:
    words = ("words", str(words_file))
    return [
        GatewayScenario("terminate", "Kong answering itself (request-termination)",
                        ROUTES["terminate"], ("fixed", "")),
        GatewayScenario("hit", "full chain, proxy-cache Hit (one word)", "/dictionary",
                        ("fixed", "/hello")),
        GatewayScenario("miss", "full chain, Miss (random WordNet lemmas)", "/dictionary", words),
        GatewayScenario("key-auth", "key-auth alone (the same lemmas)", ROUTES["key-auth"],
                        words),
    ]


def measure(admin_url: str, proxy_url: str, words_file: Path, seconds: int, rounds: int,
            warmup: int) -> GatewayFigures:
    """Set up, run every scenario `rounds` times interleaved, and clean up."""
    client = AdminClient(admin_url)
    key = _set_up(client)
    try:
        _wait_until_served(proxy_url, key)
        figures = GatewayFigures(sources=_sources(proxy_url, key))
        todo = scenarios(words_file)
        load = {s.key: wrk.Load(s.mode, connections=32, headers=(f"apikey: {key}",))
                for s in todo}
        for s in todo:
            if warmup:
                wrk.run(proxy_url + s.url_path, load[s.key], warmup)
        results: dict[str, list[wrk.WrkResult]] = {s.key: [] for s in todo}
        for _ in range(rounds):
            for s in todo:
                results[s.key].append(wrk.run(proxy_url + s.url_path, load[s.key], seconds))
        for name, runs in results.items():
            figures.rps[name] = statistics.median(_ok_rps(r) for r in runs)
            figures.statuses[name] = runs[-1].statuses
        return figures
    finally:
        _tear_down(client)


def _ok_rps(result: wrk.WrkResult) -> float:
    ok = sum(n for status, n in result.statuses.items() if status.startswith("2"))
    return ok / result.duration_s if result.duration_s else 0.0


def _set_up(client: AdminClient) -> str:
    """The bench consumer (counted like every plan), its key, and the two comparison routes."""
    client.wait_ready(30)
    _tear_down(client)
    default = client.get("/plugins/dictionary-rate-limiting")
    if default is None:
        raise RuntimeError("Kong has no plugin dictionary-rate-limiting: provision gateway.yaml")
    counting = {k: default["config"][k] for k in ("policy", "fault_tolerant", "redis",
                                                  "sync_rate") if k in default["config"]}
    tags = [TAG]
    client.put(f"/consumers/{CONSUMER}", {"tags": tags})
    # Scoped to the dictionary route too, so that the key-auth route runs key-auth alone.
    client.put(f"/plugins/{CONSUMER}-plan", {
        "name": "rate-limiting", "consumer": {"username": CONSUMER},
        "route": {"name": "dictionary"}, "tags": tags, "config": {**ENDLESS, **counting}})
    for name, path in ROUTES.items():
        client.put(f"/routes/bench-gateway-{name}", {
            "paths": [path], "methods": ["GET"], "service": {"name": "dictionary"},
            "tags": tags})
    client.put("/plugins/bench-gateway-terminate", {
        "name": "request-termination", "route": {"name": "bench-gateway-terminate"},
        "tags": tags, "config": {"status_code": 200, "content_type": "application/json",
                                 "body": '{"data":"Welcome to dictionary"}'}})
    client.put("/plugins/bench-gateway-key-auth", {
        "name": "key-auth", "route": {"name": "bench-gateway-key-auth"}, "tags": tags,
        "config": {"key_names": ["apikey"], "hide_credentials": True, "key_in_query": False}})
    key = secrets.token_hex(16)
    client.secrets.add(key)
    client.post(f"/consumers/{CONSUMER}/key-auth", {"key": key, "tags": tags})
    return key


def _tear_down(client: AdminClient) -> None:
    for kind in ("plugins", "routes", "consumers"):
        for row in client.list(f"/{kind}?tags={TAG}"):
            client.delete(f"/{kind}/{row['id']}")


def _wait_until_served(proxy_url: str, key: str, timeout: float = 30.0) -> None:
    """Every bench route and the plan on several fresh connections in a row (Kong applies new
    routes and plugins at each worker's next rebuild)."""
    checks = [ROUTES["terminate"], ROUTES["key-auth"] + "/hello", "/dictionary/hello"]
    deadline, streak = time.monotonic() + timeout, 0
    while streak < 6:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the bench routes were not served within {timeout:g} s")
        answers = [requests.get(proxy_url + path, headers={"apikey": key}, timeout=10)
                   for path in checks]
        served = all(a.status_code == 200 for a in answers) and answers[2].headers.get(
            "X-RateLimit-Limit-Minute") == str(ENDLESS["minute"])
        streak = streak + 1 if served else 0
        time.sleep(0.1)


def _sources(proxy_url: str, key: str) -> str:
    """Which dictionary answers (the upstream's shared rate limit makes it a poor load)."""
    answer = requests.get(proxy_url + "/dictionary/geese", headers={"apikey": key}, timeout=10)
    return answer.headers.get("X-Dictionary-Source", f"status {answer.status_code}")


def section(figures: GatewayFigures | None, reason: str = NOT_RUN) -> list[str]:
    """The gateway's part of the report."""
    lines = ["## The gateway (a real Kong)", ""]
    if figures is None:
        return [*lines, f"The gateway group was {reason}.", ""]
    names = {s.key: s.name for s in scenarios(Path("-"))}
    lines += ["| scenario | 2xx/s | statuses of the last round |", "|---|--:|---|"]
    lines += [f"| {names[k]} | {v:,.0f} | "
              f"{', '.join(f'{s}: {n}' for s, n in sorted(figures.statuses[k].items()))} |"
              for k, v in figures.rps.items()]
    ratios = [("full chain, Hit / Kong answering itself", figures.ratio("hit", "terminate")),
              ("full chain, Miss / key-auth alone (same lemmas)",
               figures.ratio("miss", "key-auth")),
              ("key-auth alone / Kong answering itself", figures.ratio("key-auth", "terminate"))]
    lines += ["", "| ratio | value |", "|---|--:|"]
    lines += [f"| {name} | {'—' if v is None else f'{v:.2f}'} |" for name, v in ratios]
    lines += ["", f"Misses were answered by the `{figures.sources}` dictionary.", ""]
    return lines
