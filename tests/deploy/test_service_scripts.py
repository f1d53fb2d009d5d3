"""The shell snippets in docker-compose.yml, run for real outside Docker.

The secrets generator, the migrations chain and Kong's healthcheck are small programs; a
quoting or escaping slip in them only shows on a real `docker compose up`. Here each runs
with its container paths pointed at a temporary directory and `kong` replaced by a stub.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from tests.deploy import support

SECRETS_DIR = "/run/kong-secrets"
STATUS_PORT = "/8007"


def script(service: str) -> list[str]:
    """A service's exec-form command as the container receives it (variables resolved)."""
    return support.services({})[service]["command"]


def kong_healthcheck(port: int) -> list[str]:
    """Kong's healthcheck argv (after CMD), aimed at `port` instead of the Status API's."""
    test = support.services({})["kong"]["healthcheck"]["test"]
    assert test[0] == "CMD"
    return [part.replace(STATUS_PORT, f"/{port}") for part in test[1:]]


def run(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run an argv with a minimal environment plus `env`."""
    base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    return subprocess.run(
        argv, env=base | env, capture_output=True, text=True, timeout=20, check=False
    )


@pytest.fixture
def secrets_dir(tmp_path: Path) -> Path:
    """Stands in for the kong-secrets volume."""
    directory = tmp_path / "secrets"
    directory.mkdir()
    return directory


def run_secrets(directory: Path, password: str = "") -> subprocess.CompletedProcess[str]:
    """The `secrets` service's script, writing into `directory`."""
    argv = [part.replace(SECRETS_DIR, str(directory)) for part in script("secrets")]
    return run(argv, {"KONG_PG_PASSWORD": password})


def test_secrets_generates_once_and_keeps_it(secrets_dir: Path) -> None:
    """No .env: a random 32-character password, unchanged by the next `up`."""
    assert run_secrets(secrets_dir).returncode == 0
    first = (secrets_dir / "pg_password").read_text()
    assert len(first) == 32
    assert first.isalnum()
    assert run_secrets(secrets_dir).returncode == 0
    assert (secrets_dir / "pg_password").read_text() == first
    assert stat.S_IMODE((secrets_dir / "pg_password").stat().st_mode) == 0o444
    assert sorted(path.name for path in secrets_dir.iterdir()) == ["pg_password"]


def test_secrets_takes_the_password_from_env(secrets_dir: Path) -> None:
    """KONG_PG_PASSWORD from .env wins, byte for byte, even over a generated one."""
    assert run_secrets(secrets_dir).returncode == 0
    result = run_secrets(secrets_dir, "s3cret with 'quotes' & $igns")
    assert result.returncode == 0, result.stderr
    assert (secrets_dir / "pg_password").read_text() == "s3cret with 'quotes' & $igns"


@pytest.fixture
def fake_kong(tmp_path: Path) -> Path:
    """A `kong` on PATH that logs its arguments and password, failing on $FAIL_AT."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    stub = bin_dir / "kong"
    stub.write_text(
        '#!/bin/sh\necho "$* pw=$KONG_PG_PASSWORD" >> "$KONG_LOG"\n'
        '[ "$2" = "${FAIL_AT:-}" ] && exit 1\nexit 0\n'
    )
    stub.chmod(0o755)
    return bin_dir


def run_migrations(fake_kong: Path, secrets_dir: Path, fail_at: str = "") -> list[str]:
    """The kong-migrations command against the stub; returns the kong calls made."""
    (secrets_dir / "pg_password").write_text("pw1")
    log = fake_kong.parent / "kong.log"
    argv = [part.replace(SECRETS_DIR, str(secrets_dir)) for part in script("kong-migrations")]
    env = {
        "PATH": f"{fake_kong}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        "KONG_LOG": str(log),
        "FAIL_AT": fail_at,
    }
    result = run(argv, env)
    calls = log.read_text().splitlines() if log.exists() else []
    assert (result.returncode == 0) == (not fail_at), result.stderr
    return calls


def test_migrations_run_in_order_with_the_password(fake_kong: Path, secrets_dir: Path) -> None:
    """bootstrap, finish, up, finish, each seeing KONG_PG_PASSWORD from the secret file."""
    assert run_migrations(fake_kong, secrets_dir) == [
        "migrations bootstrap pw=pw1",
        "migrations finish pw=pw1",
        "migrations up pw=pw1",
        "migrations finish pw=pw1",
    ]


def test_migrations_stop_at_the_first_failure(fake_kong: Path, secrets_dir: Path) -> None:
    """A failed bootstrap fails the service, so Kong does not start on a broken schema."""
    assert run_migrations(fake_kong, secrets_dir, fail_at="bootstrap") == [
        "migrations bootstrap pw=pw1"
    ]


class _Status(BaseHTTPRequestHandler):
    """A Status API stand-in: /status/ready answers with the server's `ready_code`."""

    def do_GET(self) -> None:
        code = self.server.ready_code if self.path == "/status/ready" else 404  # type: ignore[attr-defined]
        self.send_response(code)
        self.end_headers()
        self.wfile.write(b'{"message":"ready"}')

    def log_message(self, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def status_server() -> Iterator[HTTPServer]:
    """A local HTTP server on a free port."""
    server = HTTPServer(("127.0.0.1", 0), _Status)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(("code", "healthy"), [(200, True), (503, False)])
def test_kong_healthcheck_follows_status_ready(
    status_server: HTTPServer, code: int, healthy: bool
) -> None:
    """Healthy on 200 from /status/ready, unhealthy on 503 (database down, not yet built)."""
    if shutil.which("bash") is None:
        pytest.fail("bash is missing")
    status_server.ready_code = code  # type: ignore[attr-defined]
    argv = kong_healthcheck(status_server.server_address[1])
    assert (run(argv, {}).returncode == 0) == healthy


def test_kong_healthcheck_fails_when_nothing_listens(status_server: HTTPServer) -> None:
    """No Status API, no health."""
    argv = kong_healthcheck(status_server.server_address[1])
    status_server.shutdown()
    status_server.server_close()
    assert run(argv, {}).returncode != 0
