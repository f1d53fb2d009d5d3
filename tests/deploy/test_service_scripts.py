"""The shell snippets and relays in docker-compose.yml, run for real outside Docker.

The secrets generator, the migrations chain, Redis's start script, the healthchecks and the
Admin API relay are small programs; a quoting or escaping slip in them only shows on a real
`docker compose up`. Here each runs with its container paths pointed at a temporary directory,
its ports at free ports of 127.0.0.1 and `kong` replaced by a stub. Redis and socat are Debian's
packages (the same releases the images use): a missing one fails with the line that installs it.
"""

from __future__ import annotations

import os
import shutil
import socket
import stat
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from tests.deploy import support
from tests.servers import free_port

SECRET_VOLUMES = {"/run/kong-secrets": "kong-secrets", "/run/redis-secrets": "redis-secrets"}
STATUS_PORT = "/8007"
NASTY_PASSWORD = "s3cret with 'quotes' & $igns \"dq\" \\ back"
STARTUP_SECONDS = 10


def script(service: str) -> list[str]:
    """A service's exec-form command as the container receives it (variables resolved)."""
    return support.services({})[service]["command"]


def healthcheck(service: str) -> list[str]:
    """A service's healthcheck argv (after CMD), variables resolved."""
    test = support.services({})[service]["healthcheck"]["test"]
    assert test[0] == "CMD"
    return test[1:]


def kong_healthcheck(port: int) -> list[str]:
    """Kong's healthcheck argv, aimed at `port` instead of the Status API's."""
    return [part.replace(STATUS_PORT, f"/{port}") for part in healthcheck("kong")]


def run(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run an argv with a minimal environment plus `env`."""
    base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    return subprocess.run(
        argv, env=base | env, capture_output=True, text=True, timeout=20, check=False
    )


def in_volumes(argv: list[str], root: Path) -> list[str]:
    """`argv` with the secret volumes' container paths moved under `root`."""
    for path, volume in SECRET_VOLUMES.items():
        argv = [part.replace(path, str(root / volume)) for part in argv]
    return argv


def wait_for_port(port: int, process: subprocess.Popen[str]) -> None:
    """Until something accepts on 127.0.0.1:`port`; fails if `process` dies first."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        except OSError:
            time.sleep(0.05)
        else:
            return
    pytest.fail(f"nothing listens on 127.0.0.1:{port} after {STARTUP_SECONDS} s")


def require(program: str, package: str) -> str:
    """Path of a program the tests run, or a failure saying how to install it."""
    path = shutil.which(program)
    if path is None:
        pytest.fail(f"{program} missing: apt-get install --no-install-recommends {package}")
    return path


@pytest.fixture
def volumes(tmp_path: Path) -> Path:
    """Stands in for the kong-secrets and redis-secrets volumes (tmp/<volume>/)."""
    for volume in SECRET_VOLUMES.values():
        (tmp_path / volume).mkdir()
    return tmp_path


def run_secrets(root: Path, pg: str = "", redis: str = "") -> subprocess.CompletedProcess[str]:
    """The `secrets` service's script, writing into the volumes under `root`."""
    env = {"KONG_PG_PASSWORD": pg, "REDIS_PASSWORD": redis}
    return run(in_volumes(script("secrets"), root), env)


def written(root: Path) -> dict[str, str]:
    """Every file the secrets script left, by volume/name."""
    return {
        f"{volume.name}/{path.name}": path.read_text()
        for volume in sorted(root.iterdir()) if volume.is_dir()
        for path in sorted(volume.iterdir())
    }


def test_secrets_generates_once_and_keeps_it(volumes: Path) -> None:
    """No .env: two random 32-character passwords, unchanged by the next `up`."""
    assert run_secrets(volumes).returncode == 0
    first = written(volumes)
    assert sorted(first) == ["kong-secrets/pg_password", "redis-secrets/redis_password"]
    for password in first.values():
        assert len(password) == 32
        assert password.isalnum()
    assert first["kong-secrets/pg_password"] != first["redis-secrets/redis_password"]
    assert run_secrets(volumes).returncode == 0
    assert written(volumes) == first
    for name in first:
        assert stat.S_IMODE((volumes / name).stat().st_mode) == 0o444, name


def test_secrets_takes_the_passwords_from_env(volumes: Path) -> None:
    """KONG_PG_PASSWORD and REDIS_PASSWORD from .env win, byte for byte, over generated ones."""
    assert run_secrets(volumes).returncode == 0
    result = run_secrets(volumes, pg=NASTY_PASSWORD, redis="r" + NASTY_PASSWORD)
    assert result.returncode == 0, result.stderr
    assert written(volumes) == {
        "kong-secrets/pg_password": NASTY_PASSWORD,
        "redis-secrets/redis_password": "r" + NASTY_PASSWORD,
    }


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


def run_migrations(fake_kong: Path, volumes: Path, fail_at: str = "") -> list[str]:
    """The kong-migrations command against the stub; returns the kong calls made."""
    (volumes / "kong-secrets" / "pg_password").write_text("pw1")
    log = fake_kong.parent / "kong.log"
    argv = in_volumes(script("kong-migrations"), volumes)
    env = {
        "PATH": f"{fake_kong}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        "KONG_LOG": str(log),
        "FAIL_AT": fail_at,
    }
    result = run(argv, env)
    calls = log.read_text().splitlines() if log.exists() else []
    assert (result.returncode == 0) == (not fail_at), result.stderr
    return calls


def test_migrations_run_in_order_with_the_password(fake_kong: Path, volumes: Path) -> None:
    """bootstrap, finish, up, finish, each seeing KONG_PG_PASSWORD from the secret file."""
    assert run_migrations(fake_kong, volumes) == [
        "migrations bootstrap pw=pw1",
        "migrations finish pw=pw1",
        "migrations up pw=pw1",
        "migrations finish pw=pw1",
    ]


def test_migrations_stop_at_the_first_failure(fake_kong: Path, volumes: Path) -> None:
    """A failed bootstrap fails the service, so Kong does not start on a broken schema."""
    assert run_migrations(fake_kong, volumes, fail_at="bootstrap") == [
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


# ---------------------------------------------------------------- Redis


@pytest.fixture
def redis_server(volumes: Path) -> Iterator[tuple[int, subprocess.Popen[str]]]:
    """The `redis` service's command on a free port of 127.0.0.1, with NASTY_PASSWORD."""
    require("redis-server", "redis-server")
    (volumes / "redis-secrets" / "redis_password").write_text(NASTY_PASSWORD)
    port = free_port()
    argv = in_volumes(script("redis"), volumes)
    start = "exec redis-server -"
    assert start in argv[2]
    argv[2] = argv[2].replace(start, f"{start} --port {port} --bind 127.0.0.1")
    process = subprocess.Popen(
        argv, cwd=volumes, env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        wait_for_port(port, process)
        yield port, process
    finally:
        process.terminate()
        process.communicate(timeout=10)   # reaps it and closes its pipe


def redis_cli(port: int, *args: str, password: str | None = None) -> str:
    """redis-cli's output for one command, authenticated when a password is given."""
    cli = require("redis-cli", "redis-tools")
    env = {} if password is None else {"REDISCLI_AUTH": password}
    result = run([cli, "-h", "127.0.0.1", "-p", str(port), *args], env)
    assert result.returncode == 0, result.stderr
    return result.stdout.removesuffix("\n")


def test_redis_requires_the_password(redis_server: tuple[int, subprocess.Popen[str]]) -> None:
    """Without the password: NOAUTH. With it, byte for byte (quotes, backslash): PONG."""
    port, _ = redis_server
    assert redis_cli(port, "ping").startswith("NOAUTH")
    assert redis_cli(port, "ping", password=NASTY_PASSWORD[:-1]).startswith("NOAUTH")
    assert redis_cli(port, "ping", password=NASTY_PASSWORD) == "PONG"


def test_redis_keeps_nothing(redis_server: tuple[int, subprocess.Popen[str]]) -> None:
    """No RDB save points and no AOF, as the running server reports them."""
    port, _ = redis_server
    assert redis_cli(port, "config", "get", "save", password=NASTY_PASSWORD).split("\n") \
        == ["save", ""]
    assert redis_cli(port, "config", "get", "appendonly", password=NASTY_PASSWORD).split("\n") \
        == ["appendonly", "no"]


def test_redis_password_is_not_on_its_command_line(
    redis_server: tuple[int, subprocess.Popen[str]],
) -> None:
    """What `ps` (and `docker top`) show of redis-server holds no password."""
    _, process = redis_server
    proc = Path(f"/proc/{process.pid}")
    assert b"redis-server" in (proc / "cmdline").read_bytes()   # exec'd: sh is gone
    for leak in ("cmdline", "environ"):
        assert b"s3cret" not in (proc / leak).read_bytes(), leak


@pytest.mark.parametrize(("password", "healthy"), [(NASTY_PASSWORD, True), ("wrong", False)])
def test_redis_healthcheck_authenticates(
    redis_server: tuple[int, subprocess.Popen[str]], tmp_path: Path, password: str, healthy: bool
) -> None:
    """Healthy only when a PING with the password file's content answers PONG."""
    port, _ = redis_server
    checker_volumes = tmp_path / "checker"
    (checker_volumes / "redis-secrets").mkdir(parents=True)
    (checker_volumes / "redis-secrets" / "redis_password").write_text(password)
    argv = in_volumes(healthcheck("redis"), checker_volumes)
    assert "-p 6379" in argv[2]
    argv[2] = argv[2].replace("-p 6379", f"-p {port}")
    assert (run(argv, {}).returncode == 0) == healthy


# ---------------------------------------------------------------- the Admin API relay


@pytest.fixture
def forwarder(status_server: HTTPServer) -> Iterator[int]:
    """admin-forwarder's socat arguments, from a free port of 127.0.0.1 to `status_server`."""
    socat = require("socat", "socat")
    listen, target = free_port(), status_server.server_address[1]
    argv = [
        part.replace("TCP-LISTEN:8001,", f"TCP-LISTEN:{listen},bind=127.0.0.1,")
        .replace("TCP:kong-admin:8001", f"TCP:127.0.0.1:{target}")
        for part in script("admin-forwarder")
    ]
    assert any(f"TCP-LISTEN:{listen}," in part for part in argv), argv
    assert any(f"TCP:127.0.0.1:{target}" in part for part in argv), argv
    process = subprocess.Popen(
        [socat, *argv], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        wait_for_port(listen, process)
        yield listen
    finally:
        process.terminate()
        process.communicate(timeout=10)   # reaps it and closes its pipe


def http_get(port: int, path: str) -> tuple[int, bytes]:
    """Status and body of a GET to 127.0.0.1:`port`, over a fresh connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
        connection.sendall(f"GET {path} HTTP/1.0\r\nHost: x\r\n\r\n".encode())
        response = b""
        while chunk := connection.recv(65536):
            response += chunk
    head, _, body = response.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


def test_forwarder_relays_every_connection(status_server: HTTPServer, forwarder: int) -> None:
    """Each connection is relayed (fork), so the host's clients can come one after another."""
    status_server.ready_code = 200  # type: ignore[attr-defined]
    for _ in range(3):
        assert http_get(forwarder, "/status/ready") == (200, b'{"message":"ready"}')


def test_forwarder_healthcheck_sees_the_relay(forwarder: int) -> None:
    """The healthcheck's connection to the relay succeeds while it listens, not after."""
    argv = [part.replace("127.0.0.1:8001", f"127.0.0.1:{forwarder}")
            for part in healthcheck("admin-forwarder")]
    assert f"TCP:127.0.0.1:{forwarder},connect-timeout=2" in argv
    assert run(argv, {}).returncode == 0


def test_forwarder_healthcheck_fails_when_nothing_listens() -> None:
    """No relay, no health."""
    require("socat", "socat")
    argv = [part.replace("127.0.0.1:8001", f"127.0.0.1:{free_port()}")
            for part in healthcheck("admin-forwarder")]
    assert run(argv, {}).returncode != 0
