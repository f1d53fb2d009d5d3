"""How provision.py fails: one line on stderr, a documented exit code, bounded waits."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from gateway.admin import AdminClient
from gateway.errors import KongDbless
from tests.fakes.kong import KongDouble
from tests.servers import free_port

from .conftest import FAST_KONG, ROOT


def assert_one_line(run) -> None:
    assert run.out == ""
    assert len(run.err.strip().splitlines()) == 1, run.err
    assert "Traceback" not in run.err


def test_kong_down_is_reported_after_a_bounded_wait(provision) -> None:
    started = time.monotonic()
    run = provision("--wait", "1", admin_url=f"http://127.0.0.1:{free_port()}")
    assert run.code == 3
    assert "not reachable after waiting 1 s" in run.err
    assert time.monotonic() - started < 10
    assert_one_line(run)


def test_kong_slow_to_become_ready_is_waited_for(provision) -> None:
    port = free_port()
    late = KongDouble(admin_port=port, **FAST_KONG)
    timer = threading.Timer(1.5, late.start)
    timer.start()
    try:
        run = provision("--wait", "20", admin_url=f"http://127.0.0.1:{port}",
                        proxy_url=late.proxy_url)
        assert run.code == 0, run.err
        assert late.store.find("services", "ptest-dictionary") is not None
    finally:
        timer.join()
        late.stop()


def test_dbless_kong_is_explained(provision) -> None:
    with KongDouble(dbless=True) as dbless:
        run = provision(admin_url=dbless.admin_url)
    assert run.code == 4
    assert "DB-less" in run.err
    assert "KONG_DATABASE=postgres" in run.err
    assert_one_line(run)


def test_dbless_write_refusal_is_recognised() -> None:
    """Even if /status looked fine, a 405 'operation unsupported' on a write means DB-less."""
    with KongDouble(dbless=True) as dbless:
        client = AdminClient(dbless.admin_url)
        with pytest.raises(KongDbless):
            client.put("/services/x", {"host": "example.test"})


class NotKong(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_: object) -> None:
        pass


def test_url_that_is_not_kong_fails_at_once(provision) -> None:
    server = HTTPServer(("127.0.0.1", 0), NotKong)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        run = provision(admin_url=f"http://127.0.0.1:{server.server_address[1]}")
    finally:
        server.shutdown()
        server.server_close()
    assert run.code == 3
    assert "does not look like a Kong Admin API" in run.err
    assert_one_line(run)


def test_bad_gateway_file_is_a_usage_error(provision, tmp_path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("service: [unclosed\n", encoding="utf-8")
    run = provision(file=broken)
    assert run.code == 2
    assert "is not valid YAML" in run.err
    assert_one_line(run)


def test_consumer_on_unknown_plan_is_a_usage_error(provision, gateway_file) -> None:
    def gold(spec: dict) -> None:
        spec["consumers"][0]["plan"] = "gold"
    run = provision(file=gateway_file(gold))
    assert run.code == 2
    assert "unknown plan 'gold'" in run.err


def test_script_entry_point_has_help_and_no_traceback() -> None:
    script = [sys.executable, str(ROOT / "scripts" / "provision.py")]
    helped = subprocess.run([*script, "--help"], capture_output=True, text=True, timeout=30)
    assert helped.returncode == 0
    for word in ("plan", "destroy", "key rotate", "--admin-url", "KONG_ADMIN_URL",
                 "--service-url", "DICTIONARY_SERVICE_URL", "--json", "exit codes"):
        assert word in helped.stdout, word
    down = subprocess.run([*script, "--admin-url", f"http://127.0.0.1:{free_port()}",
                           "--wait", "0"], capture_output=True, text=True, timeout=30)
    assert down.returncode == 3
    assert down.stderr.startswith("provision: error: ")
    assert "Traceback" not in down.stderr
