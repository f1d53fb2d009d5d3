"""Servers for the generated-input tests: the app under gunicorn with the fake upstream, and the
gateway stack of tests/e2e (the Kong double provisioned by scripts/provision.py, the app under
gunicorn, the fake upstream), reused rather than rebuilt."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
import yaml

from tests.e2e.conftest import APP_ENV, Stack, _double_stack, gateway_spec
from tests.fakes.upstream import FakeUpstream
from tests.servers import Redis, Server, gunicorn

from .fuzz import FIGURES

# Consumers of the fuzzed gateway: one whose plan never runs out (so most requests reach the
# app), one on the free plan (so 429s come too).
UNLIMITED, FREE = "fuzz-unlimited", "fuzz-free"
FUZZ_PLAN = {"minute": 1_000_000, "day": 100_000_000}


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The figures of every generated-input scenario that ran, failed or not."""
    for line in FIGURES:
        terminalreporter.write_line(f"generated requests, {line}")


@contextmanager
def app_server(upstream: FakeUpstream, sample_db: Path, log: Path,
               **env: str) -> Iterator[Server]:
    """The app as production runs it (gunicorn, two workers, both backends), fast timeouts."""
    settings = {**APP_ENV, "DICTIONARY_UPSTREAM_URL": upstream.url,
                "DICTIONARY_WORDNET_PATH": str(sample_db), **env}
    with gunicorn("app:app", settings, log) as server:
        yield server


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory, sample_db: Path,
            redis: Redis) -> Iterator[Stack]:
    """The e2e double stack with the two fuzzing consumers; its app log is `app_log`."""
    folder = tmp_path_factory.mktemp("contract-gateway")
    spec = gateway_spec(redis)
    spec["plans"]["fuzz"] = FUZZ_PLAN
    spec["consumers"] += [{"username": UNLIMITED, "plan": "fuzz"},
                          {"username": FREE, "plan": "free"}]
    gateway_file = folder / "gateway.yaml"
    gateway_file.write_text(yaml.safe_dump(spec), encoding="utf-8")
    with ExitStack() as stack_:
        built = _double_stack(stack_, folder, gateway_file, sample_db, redis)
        built.provision()
        built.keys = {user: built.key_of(user) for user in (UNLIMITED, FREE)}
        built.wait_ready({UNLIMITED: "fuzz", FREE: "free"}, spec["plans"])
        built.app_log = folder / "gunicorn.log"  # type: ignore[attr-defined]
        yield built
