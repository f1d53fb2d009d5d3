"""The app under its production server: gunicorn with several threaded workers."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.fakes.upstream import FakeUpstream
from tests.servers import Server, gunicorn

SECRET = "sekrit-api-key-0123456789"


@pytest.fixture
def server(upstream: FakeUpstream, tmp_path: Path) -> Iterator[Server]:
    env = {
        "DICTIONARY_BACKEND": "upstream",
        "DICTIONARY_UPSTREAM_URL": upstream.url,
        "WEB_CONCURRENCY": "2",
        "GUNICORN_THREADS": "2",
    }
    with gunicorn("app:app", env, tmp_path / "gunicorn.log") as running:
        yield running


def _metric(text: str, name: str) -> float:
    match = re.search(rf"^{re.escape(name)} (\S+)$", text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


def test_metrics_aggregate_every_worker(server: Server) -> None:
    session = requests.Session()
    sent = 40
    for _ in range(sent):
        # A new connection each time spreads the requests over both workers.
        assert requests.get(server.url + "/hello", timeout=5).status_code == 200
    text = session.get(server.url + "/-/metrics", timeout=5).text
    name = 'dictionary_http_requests_total{endpoint="dictionary.lookup",method="GET",status="200"}'
    assert _metric(text, name) == sent
    pids = set(re.findall(r"Booting worker with pid: (\d+)", server.log()))
    assert len(pids) == 2


def test_access_log_has_kong_ids_and_never_the_key(server: Server) -> None:
    headers = {
        "X-Kong-Request-Id": "req-123abc",
        "X-Consumer-Username": "demo",
        "apikey": SECRET,
    }
    requests.get(f"{server.url}/hello?apikey={SECRET}", headers=headers, timeout=5)
    deadline = time.monotonic() + 5
    while "req-123abc" not in server.log() and time.monotonic() < deadline:
        time.sleep(0.05)
    log = server.log()
    line = next(line for line in log.splitlines() if "req-123abc" in line)
    assert '"GET /hello HTTP/1.1" 200' in line
    assert "consumer=demo" in line
    assert SECRET not in log


def test_errors_are_json_under_gunicorn_too(server: Server) -> None:
    response = requests.post(server.url + "/hello", timeout=5)
    assert response.status_code == 405
    assert response.headers["Content-Type"] == "application/json"
    bad = requests.get(server.url + "/%FF", timeout=5)
    assert bad.status_code == 400
    assert bad.json()["error"] == "invalid_word"
