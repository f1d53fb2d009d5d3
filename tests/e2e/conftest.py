"""The e2e stack: the real app under gunicorn behind the gateway, provisioned by
scripts/provision.py.

Against the Kong double by default: two double nodes sharing one store (PostgreSQL) and one real
redis-server, each with two workers that rebuild like Kong's, with the fake dictionary upstream
and a recording proxy in front of the app. Against a real Kong when KONG_ADMIN_URL and
KONG_PROXY_URL are both set (`make e2e-live` after `docker compose up`); KONG_PROXY_URL_2 names
a second node's proxy (`docker compose --profile cluster up`).

The suite asks of the gateway only what the real Kong guarantees (tests/data/kong/
rate-limits-and-cache.md): a plan is in force once provisioning says so, checked on several
fresh connections per node; remaining counts never increase; a 429 comes within two requests
after the limit.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
import yaml

from tests.fakes.kong import KongDouble
from tests.fakes.upstream import FakeUpstream
from tests.servers import Redis, gunicorn, redis_server, wait_until

from .recorder import Recorder

ROOT = Path(__file__).resolve().parents[2]
ADMIN_URL, PROXY_URL = os.environ.get("KONG_ADMIN_URL"), os.environ.get("KONG_PROXY_URL")
PROXY_URL_2 = os.environ.get("KONG_PROXY_URL_2")
LIVE = bool(ADMIN_URL and PROXY_URL)
# Test consumers beside the file's own `demo`: each concern spends its own rate-limit quota.
CONSUMERS = {"e2e-pro": "pro", "e2e-free": "free", "e2e-rotate": "free", "e2e-nodes": "free"}
PLANS = yaml.safe_load((ROOT / "gateway.yaml").read_text(encoding="utf-8"))["plans"]
READY_TIMEOUT = 30.0
READY_STREAK = 3            # fresh connections in a row, per consumer and node
NEVER_CACHED = "/dictionary/%25"     # the app's 400: proxy-cache never stores it
APP_ENV = {"DICTIONARY_BACKEND": "auto", "DICTIONARY_CONNECT_TIMEOUT": "0.5",
           "DICTIONARY_READ_TIMEOUT": "1", "DICTIONARY_DEADLINE": "2",
           "WEB_CONCURRENCY": "2", "GUNICORN_THREADS": "4"}


def target_description() -> str:
    if LIVE:
        nodes = f", second node {PROXY_URL_2}" if PROXY_URL_2 else ""
        return f"a real Kong (Admin API {ADMIN_URL}, proxy {PROXY_URL}{nodes})"
    return ("two Kong double nodes (tests/fakes/kong) sharing a real redis-server, with the "
            "real app under gunicorn")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say which Kong the e2e suite ran against (never silently)."""
    terminalreporter.write_line(f"e2e suite: ran against {target_description()}")


def double_only(gateway: Stack, reason: str) -> None:
    """Skip, with the reason printed, when the test needs what only double mode can steer."""
    if gateway.live:
        pytest.skip(f"not applicable against a real Kong: {reason}")


@dataclass
class Stack:
    """Everything a test needs: where to send requests, the keys, and the steerable parts."""

    proxy_urls: list[str]
    admin_url: str
    service_url: str
    gateway_file: Path
    live: bool
    keys: dict[str, str] = field(default_factory=dict)
    doubles: list[KongDouble] = field(default_factory=list)
    recorder: Recorder | None = None
    upstream: FakeUpstream | None = None
    env: dict[str, str] = field(default_factory=dict)      # for provision.py
    used: dict[str, int] = field(default_factory=dict)     # consumer -> last minute it spent

    @property
    def proxy_url(self) -> str:
        return self.proxy_urls[0]

    @property
    def double(self) -> KongDouble | None:
        return self.doubles[0] if self.doubles else None

    def now(self) -> float:
        """The gateway's clock (the doubles' may run ahead of the wall clock)."""
        return time.time() + (self.double.clock_offset if self.double else 0.0)

    def get(self, path: str, key: str | None = None, node: int = 0,
            **kwargs: object) -> requests.Response:
        """One request through the gateway on a fresh connection (any worker may answer)."""
        headers = dict(kwargs.pop("headers", None) or {})
        if key is not None:
            headers["apikey"] = key
            user = next((u for u, k in self.keys.items() if k == key), None)
            if user:
                self.used[user] = int(self.now() // 60)
        return requests.get(self.proxy_urls[node] + path, headers=headers, timeout=30,
                            **kwargs)

    def provision(self, *args: str, file: Path | None = None) -> dict:
        """Run scripts/provision.py against this Kong; returns its --json output."""
        command = [sys.executable, str(ROOT / "scripts" / "provision.py"), *args,
                   "--admin-url", self.admin_url, "--service-url", self.service_url,
                   "--file", str(file or self.gateway_file), "--wait", "30", "--json"]
        for url in self.proxy_urls:
            command += ["--proxy-url", url]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120,
                              check=False, env={**os.environ, **self.env})
        assert done.returncode == 0, f"provision {args} failed: {done.stderr or done.stdout}"
        return json.loads(done.stdout)

    def key_of(self, user: str) -> str:
        keys = self.provision("key", "show", user)["keys"]
        assert keys, f"{user} has no key"
        return keys[0]

    def fresh_window(self, user: str, needed: float = 20.0, unspent: bool = True) -> None:
        """Rate-limit windows are fixed UTC minutes: start `user`'s test with `needed` seconds
        of a minute left and, if `unspent`, one in which `user` has spent nothing yet. The
        doubles' clocks jump; against a real Kong this waits for the next minute (<= 60 s)."""
        now = self.now()
        left = math.ceil(now / 60) * 60 - now
        if left >= needed and not (unspent and self.used.get(user) == int(now // 60)):
            return
        if self.doubles:
            for double in self.doubles:
                double.clock_offset += left + 0.01
        else:
            time.sleep(left + 0.05)    # not propagation: the next window must begin

    def wait_ready(self, consumers: dict[str, str] | None = None,
                   plans: dict[str, dict[str, int]] | None = None) -> None:
        """Every test consumer's own plan is in force on every node: READY_STREAK fresh
        connections in a row per consumer and node meet its plan's limits (read on an answer
        proxy-cache never stores, so the headers are this request's)."""
        plans = plans or PLANS
        for node in range(len(self.proxy_urls)):
            for user, plan in (consumers or CONSUMERS).items():
                streak = [0]

                def ready(user: str = user, plan: str = plan, node: int = node,
                          streak: list[int] = streak) -> bool:
                    limits = self.get(NEVER_CACHED, self.keys[user], node).headers
                    ok = all(limits.get(f"X-RateLimit-Limit-{w.capitalize()}") == str(n)
                             for w, n in plans[plan].items())
                    streak[0] = streak[0] + 1 if ok else 0
                    return streak[0] >= READY_STREAK

                assert wait_until(ready, READY_TIMEOUT, 0.2), (
                    f"{user}'s plan '{plan}' not in force within {READY_TIMEOUT} s at "
                    f"{self.proxy_urls[node]}")


def gateway_spec(redis: Redis | None) -> dict:
    """gateway.yaml plus the e2e consumers (removed again at the end of a live run); with the
    doubles, the plans count in the tests' own Redis."""
    spec = yaml.safe_load((ROOT / "gateway.yaml").read_text(encoding="utf-8"))
    spec["consumers"] += [{"username": u, "plan": p} for u, p in CONSUMERS.items()]
    if redis is not None:
        spec["rate_limiting"]["redis_url"] = redis.url
    return spec


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory, sample_db: Path) -> Iterator[Stack]:
    folder = tmp_path_factory.mktemp("e2e")
    gateway_file = folder / "gateway.yaml"
    print(f"\ne2e suite: running against {target_description()}")
    with ExitStack() as stack_:
        if LIVE:
            gateway_file.write_text(yaml.safe_dump(gateway_spec(None)), encoding="utf-8")
            service = os.environ.get("DICTIONARY_SERVICE_URL") or "http://app:5000"
            proxies = [PROXY_URL.rstrip("/")] + ([PROXY_URL_2.rstrip("/")] if PROXY_URL_2 else [])
            built = Stack(proxies, ADMIN_URL.rstrip("/"), service, gateway_file, True)
            stack_.callback(built.provision, file=ROOT / "gateway.yaml")
        else:
            redis = stack_.enter_context(redis_server(folder / "redis.log"))
            gateway_file.write_text(yaml.safe_dump(gateway_spec(redis)), encoding="utf-8")
            built = _double_stack(stack_, folder, gateway_file, sample_db, redis)
        built.provision()
        built.keys = {user: built.key_of(user) for user in CONSUMERS}
        built.wait_ready()
        yield built


def _double_stack(stack_: ExitStack, folder: Path, gateway_file: Path, sample_db: Path,
                  redis: Redis) -> Stack:
    upstream = stack_.enter_context(FakeUpstream())
    env = {**APP_ENV, "DICTIONARY_UPSTREAM_URL": upstream.url,
           "DICTIONARY_WORDNET_PATH": str(sample_db)}
    app = stack_.enter_context(gunicorn("app:app", env, folder / "gunicorn.log"))
    recorder = stack_.enter_context(Recorder(app.url))
    first = stack_.enter_context(KongDouble(kong_conf=ROOT / "kong.conf"))
    second = stack_.enter_context(KongDouble(store=first.store))
    return Stack([first.proxy_url, second.proxy_url], first.admin_url, recorder.url,
                 gateway_file, False, doubles=[first, second], recorder=recorder,
                 upstream=upstream, env={"GATEWAY_REDIS_PASSWORD": redis.password})
