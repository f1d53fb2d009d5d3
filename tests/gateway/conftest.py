"""Fixtures for the gateway tests: the Kong target (the double, or a real Kong when
KONG_ADMIN_URL is set), a test gateway file, and an in-process runner for scripts/provision.py."""

from __future__ import annotations

import importlib.util
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
import yaml

from tests.fakes.kong import KongDouble

ROOT = Path(__file__).resolve().parents[2]
LIVE_URL = os.environ.get("KONG_ADMIN_URL")
LIVE_PROXY_URL = os.environ.get("KONG_PROXY_URL")
TEST_TAG = "provision-test"
PREFIX = "ptest-"
# The service URL points at a closed port: provisioning never contacts the app. Against a real
# Kong it is a name of compose's network, as the real gateway's is: from this machine Kong's Redis
# (`redis`) does not resolve either, and provisioning then says it cannot check it.
SERVICE_URL = "http://app:5999" if LIVE_URL else "http://127.0.0.1:5999"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say which Kong the provisioning tests ran against (never silently)."""
    target = f"a real Kong at {LIVE_URL}" if LIVE_URL else "the Kong double (tests/fakes/kong)"
    terminalreporter.write_line(f"gateway tests: provisioning ran against {target}")


@dataclass
class Kong:
    """The Kong under test: its Admin API and proxy URLs, and the double when there is one."""

    admin_url: str
    proxy_url: str | None = None
    double: KongDouble | None = None

    def get(self, path: str) -> dict | None:
        response = requests.get(self.admin_url + path, timeout=10)
        return response.json() if response.status_code == 200 else None

    def patch(self, path: str, body: dict) -> None:
        requests.patch(self.admin_url + path, json=body, timeout=10).raise_for_status()

    def post(self, path: str, body: dict) -> dict:
        response = requests.post(self.admin_url + path, json=body, timeout=10)
        response.raise_for_status()
        return response.json()

    def delete(self, path: str) -> None:
        requests.delete(self.admin_url + path, timeout=10).raise_for_status()


def gateway_spec(live: bool, redis_url: str | None = None) -> dict:
    """gateway.yaml with prefixed names and a test tag, so a real Kong's own setup is untouched;
    with the double, the plans count in the tests' own Redis."""
    spec = yaml.safe_load((ROOT / "gateway.yaml").read_text(encoding="utf-8"))
    spec["tag"] = TEST_TAG
    if redis_url and not live:
        spec["rate_limiting"]["redis_url"] = redis_url
    for section in ("service", "upstream", "route"):
        spec[section]["name"] = PREFIX + spec[section]["name"]
    for consumer in spec["consumers"]:
        consumer["username"] = PREFIX + consumer["username"]
    if live:
        spec.pop("global_plugins")     # a real Kong may already have its one global prometheus
    return spec


# The double's workers rebuild every 0.1 s (Kong: 5 s), so that provisioning's wait for them,
# which every apply with writes does, costs the tests little.
FAST_KONG = {"worker_state_update_frequency": 0.1, "db_update_frequency": 0.2,
             "kong_conf": ROOT / "kong.conf"}


@pytest.fixture
def kong() -> Iterator[Kong]:
    if LIVE_URL:
        yield Kong(LIVE_URL.rstrip("/"), LIVE_PROXY_URL)
        return
    with KongDouble(**FAST_KONG) as double:
        yield Kong(double.admin_url, double.proxy_url, double)


@pytest.fixture
def redis_env(redis, monkeypatch: pytest.MonkeyPatch) -> str:
    """The tests' Redis as provisioning reads its password; returns its URL."""
    monkeypatch.setenv("GATEWAY_REDIS_PASSWORD", redis.password)
    monkeypatch.delenv("GATEWAY_REDIS_PASSWORD_FILE", raising=False)
    monkeypatch.delenv("GATEWAY_REDIS_URL", raising=False)
    return redis.url


@pytest.fixture
def gateway_file(tmp_path: Path, redis_env: str) -> Callable[..., Path]:
    """Write a variant of the test gateway; `edit` receives the spec dict to change."""
    written = []

    def write(edit: Callable[[dict], None] | None = None) -> Path:
        spec = gateway_spec(bool(LIVE_URL), redis_env)
        if edit:
            edit(spec)
        written.append(spec)
        path = tmp_path / f"gateway-{len(written)}.yaml"
        path.write_text(yaml.safe_dump(spec), encoding="utf-8")
        return path
    return write


@dataclass
class Run:
    """The outcome of one provision.py invocation."""

    code: int
    out: str
    err: str

    @property
    def json(self) -> dict:
        return json.loads(self.out)


def _load_cli():
    path = ROOT / "scripts" / "provision.py"
    spec = importlib.util.spec_from_file_location("provision_cli", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def cli():
    return _load_cli()


@pytest.fixture
def provision(kong: Kong, gateway_file: Callable[..., Path], cli, capsys) -> Iterator[Callable]:
    """Run provision.py in-process against the Kong under test; cleans up our entities after."""
    default_file = gateway_file()

    def run(*args: str, file: Path | None = None, admin_url: str | None = None,
            proxy_url: str | None = None) -> Run:
        argv = ["--admin-url", admin_url or kong.admin_url, "--service-url", SERVICE_URL,
                "--file", str(file or default_file), "--wait", "5", *args]
        if proxy_url or kong.proxy_url:
            argv += ["--proxy-url", proxy_url or kong.proxy_url]
        capsys.readouterr()
        code = cli.main(argv)
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    run("destroy")
    yield run
    run("destroy")
