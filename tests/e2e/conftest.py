"""The e2e stack: the real app under gunicorn behind the gateway, provisioned by
scripts/provision.py. Against the Kong double by default (with the fake dictionary upstream and a
recording proxy in front of the app); against a real Kong when KONG_ADMIN_URL and KONG_PROXY_URL
are both set (`make e2e-live` after `docker compose up`)."""

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
from tests.servers import gunicorn

from .recorder import Recorder, wait_until

ROOT = Path(__file__).resolve().parents[2]
ADMIN_URL, PROXY_URL = os.environ.get("KONG_ADMIN_URL"), os.environ.get("KONG_PROXY_URL")
LIVE = bool(ADMIN_URL and PROXY_URL)
# Test consumers beside the file's own `demo`: each concern spends its own rate-limit quota.
CONSUMERS = {"e2e-pro": "pro", "e2e-free": "free", "e2e-rotate": "free"}
# Real Kong applies new routes and plugins after 2-5.5 s (two workers, each on its own timer).
READY_TIMEOUT = 30.0 if LIVE else 5.0
APP_ENV = {"DICTIONARY_BACKEND": "auto", "DICTIONARY_CONNECT_TIMEOUT": "0.5",
           "DICTIONARY_READ_TIMEOUT": "1", "DICTIONARY_DEADLINE": "2",
           "WEB_CONCURRENCY": "2", "GUNICORN_THREADS": "4"}


def target_description() -> str:
    if LIVE:
        return f"a real Kong (Admin API {ADMIN_URL}, proxy {PROXY_URL})"
    return "the Kong double (tests/fakes/kong) with the real app under gunicorn"


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

    proxy_url: str
    admin_url: str
    service_url: str
    gateway_file: Path
    live: bool
    keys: dict[str, str] = field(default_factory=dict)
    double: KongDouble | None = None
    recorder: Recorder | None = None
    upstream: FakeUpstream | None = None

    def get(self, path: str, key: str | None = None, **kwargs: object) -> requests.Response:
        """One request through the gateway on a fresh connection (both workers get a turn)."""
        headers = dict(kwargs.pop("headers", None) or {})
        if key is not None:
            headers["apikey"] = key
        return requests.get(self.proxy_url + path, headers=headers, timeout=30, **kwargs)

    def provision(self, *args: str, file: Path | None = None) -> dict:
        """Run scripts/provision.py against this Kong; returns its --json output."""
        command = [sys.executable, str(ROOT / "scripts" / "provision.py"), *args,
                   "--admin-url", self.admin_url, "--service-url", self.service_url,
                   "--file", str(file or self.gateway_file), "--wait", "30", "--json"]
        done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 0, f"provision {args} failed: {done.stderr or done.stdout}"
        return json.loads(done.stdout)

    def key_of(self, user: str) -> str:
        keys = self.provision("key", "show", user)["keys"]
        assert keys, f"{user} has no key"
        return keys[0]

    def start_fresh_minute(self, needed: float = 20.0) -> None:
        """Rate-limit windows are UTC minutes: make sure `needed` seconds of one remain. The
        double's clock jumps to the next minute; against real Kong this waits (at most 20 s)."""
        now = time.time() + (self.double.clock_offset if self.double else 0.0)
        left = math.ceil(now / 60) * 60 - now
        if left >= needed:
            return
        if self.double:
            self.double.clock_offset += left + 0.01
        else:
            time.sleep(left + 0.05)    # not propagation: the next window must begin

    def wait_ready(self, key: str) -> None:
        """Poll until every worker routes, authenticates, limits and caches (6 in a row)."""
        streak = [0]

        def ready() -> bool:
            ok = self.get("/dictionary/hello").status_code == 401 and _configured(
                self.get("/dictionary/hello", key))
            streak[0] = streak[0] + 1 if ok else 0
            return streak[0] >= 6

        interval = 0.25 if self.live else 0.02
        assert wait_until(ready, READY_TIMEOUT, interval), (
            f"gateway not ready within {READY_TIMEOUT} s at {self.proxy_url}")


def _configured(response: requests.Response) -> bool:
    return (response.status_code == 200 and "X-Cache-Status" in response.headers
            and "X-RateLimit-Limit-Minute" in response.headers)


def gateway_spec() -> dict:
    """gateway.yaml plus the e2e consumers (removed again at the end of a live run)."""
    spec = yaml.safe_load((ROOT / "gateway.yaml").read_text(encoding="utf-8"))
    spec["consumers"] += [{"username": u, "plan": p} for u, p in CONSUMERS.items()]
    return spec


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory, sample_db: Path) -> Iterator[Stack]:
    folder = tmp_path_factory.mktemp("e2e")
    gateway_file = folder / "gateway.yaml"
    gateway_file.write_text(yaml.safe_dump(gateway_spec()), encoding="utf-8")
    print(f"\ne2e suite: running against {target_description()}")
    with ExitStack() as stack_:
        if LIVE:
            service = os.environ.get("DICTIONARY_SERVICE_URL") or "http://app:5000"
            built = Stack(PROXY_URL.rstrip("/"), ADMIN_URL.rstrip("/"), service, gateway_file,
                          True)
            stack_.callback(built.provision, file=ROOT / "gateway.yaml")
        else:
            built = _double_stack(stack_, folder, gateway_file, sample_db)
        built.provision()
        built.keys = {user: built.key_of(user) for user in CONSUMERS}
        built.wait_ready(built.keys["e2e-pro"])
        yield built


def _double_stack(stack_: ExitStack, folder: Path, gateway_file: Path,
                  sample_db: Path) -> Stack:
    upstream = stack_.enter_context(FakeUpstream())
    env = {**APP_ENV, "DICTIONARY_UPSTREAM_URL": upstream.url,
           "DICTIONARY_WORDNET_PATH": str(sample_db)}
    app = stack_.enter_context(gunicorn("app:app", env, folder / "gunicorn.log"))
    recorder = stack_.enter_context(Recorder(app.url))
    double = stack_.enter_context(KongDouble())
    return Stack(double.proxy_url, double.admin_url, recorder.url, gateway_file, False,
                 double=double, recorder=recorder, upstream=upstream)
