"""Start real servers on 127.0.0.1 for tests, e2e and the benchmark: the app under gunicorn, and
redis-server."""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(check: Callable[[], object], timeout: float, interval: float = 0.1) -> bool:
    """Poll `check()` until it is truthy or `timeout` passes (bounded; no fixed sleep)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(interval)
    return bool(check())


def wait_http(url: str, timeout: float = 20.0, process: subprocess.Popen | None = None) -> None:
    """Poll `url` until it answers (any status) or `timeout` passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before answering {url}")
        try:
            requests.get(url, timeout=1)
            return
        except requests.RequestException:
            time.sleep(0.05)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@contextmanager
def gunicorn(
    app: str, env: dict[str, str], log_path: Path, port: int | None = None
) -> Iterator[Server]:
    """Run `gunicorn -c gunicorn.conf.py <app>` from the repo; stop it on exit."""
    port = port or free_port()
    environment = {
        **os.environ,
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "PYTHONPATH": str(REPO),
        **env,
    }
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(REPO / "gunicorn.conf.py"), app],
            cwd=REPO,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = Server(f"http://127.0.0.1:{port}", process, log_path)
    try:
        wait_http(server.url + "/-/health", process=process)
        yield server
    finally:
        stop(process, grace=15)


def stop(process: subprocess.Popen, grace: float = 10) -> None:
    """SIGTERM, then SIGKILL if it lingers past `grace` seconds."""
    process.terminate()
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


@dataclass
class Redis:
    """A redis-server of the tests' own: where it listens and the password it requires."""

    host: str
    port: int
    password: str
    process: subprocess.Popen

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/0"


REDIS_MISSING = ("redis-server is not installed (Debian: apt-get install --no-install-recommends "
                 "redis-server); `make test` installs it")


@contextmanager
def redis_server(log_path: Path) -> Iterator[Redis]:
    """A throw-away redis-server on 127.0.0.1 (no persistence, a random password), stopped after.

    Like the compose stack's Redis it requires a password; nothing is written to disk."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError(REDIS_MISSING)
    port, password = free_port(), secrets.token_hex(16)
    config = f"port {port}\nbind 127.0.0.1\nsave \"\"\nappendonly no\nrequirepass {password}\n"
    with log_path.open("wb") as log:
        # The configuration (and so the password) arrives on stdin, not on the command line.
        process = subprocess.Popen([binary, "-"], stdin=subprocess.PIPE, stdout=log,
                                   stderr=subprocess.STDOUT)
        process.stdin.write(config.encode())
        process.stdin.close()
    server = Redis("127.0.0.1", port, password, process)
    try:
        _wait_port("127.0.0.1", port, process)
        yield server
    finally:
        stop(process, grace=5)


def _wait_port(host: str, port: int, process: subprocess.Popen, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before listening")
        with socket.socket() as probe:
            if probe.connect_ex((host, port)) == 0:
                return
        time.sleep(0.02)
    raise TimeoutError(f"{host}:{port} did not listen within {timeout} s")
