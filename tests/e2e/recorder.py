"""A recording HTTP proxy between the gateway and the app (double mode only).

The app does not echo request headers, so the e2e suite points Kong's upstream target at this
recorder, which forwards every request to the app unchanged and keeps what it received (headers
with wire spelling) and what it answered. A test can then prove what the app saw: the consumer
headers Kong added, no `apikey`. `fault("reset")` drops connections (Kong answers 502) and
`fault("slow", seconds)` delays answers (Kong's read timeout gives 504).
"""

from __future__ import annotations

import http.client
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length"}


@dataclass
class Seen:
    """One request the recorder relayed."""

    method: str
    path: str
    headers: list[tuple[str, str]]
    status: int = 0
    body: bytes = b""

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)


class _Quiet(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, *_: object) -> None:
        """Dropped or timed-out connections are what the fault tests ask for."""


class Recorder:
    """Context manager; `url` is what the gateway should call instead of the app."""

    def __init__(self, app_url: str) -> None:
        target = urlsplit(app_url)
        self.app = (target.hostname or "127.0.0.1", target.port or 80)
        self.seen: list[Seen] = []
        self.lock = threading.Lock()
        self.mode: tuple[str, float] = ("pass", 0.0)
        self.release = threading.Event()
        self.server = _Quiet(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,),
                                       daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> Recorder:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    def fault(self, mode: str = "pass", seconds: float = 0.0) -> None:
        """`pass` (relay), `reset` (close without answering) or `slow` (wait, then relay)."""
        self.mode = (mode, seconds)

    def by_request_id(self, request_id: str) -> list[Seen]:
        """What reached the app for one gateway request (matched on X-Kong-Request-Id)."""
        with self.lock:
            return [s for s in self.seen if s.header("X-Kong-Request-Id") == request_id]

    def count(self, path: str) -> int:
        with self.lock:
            return sum(1 for s in self.seen if s.path == path)

    def _relay(self, seen: Seen, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        conn = http.client.HTTPConnection(*self.app, timeout=30)
        try:
            conn.putrequest(seen.method, seen.path, skip_host=True, skip_accept_encoding=True)
            for name, value in seen.headers:
                if name.lower() not in HOP_BY_HOP:
                    conn.putheader(name, value)
            conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body)
            response = conn.getresponse()
            payload = response.read()
            headers = [(k, v) for k, v in response.getheaders() if k.lower() not in HOP_BY_HOP]
            return response.status, headers, payload
        finally:
            conn.close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_: object) -> None:
                """Silence."""

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                seen = Seen(self.command, self.path, list(self.headers.items()))
                with recorder.lock:
                    recorder.seen.append(seen)
                mode, seconds = recorder.mode
                if mode == "reset":
                    self.close_connection = True
                    return
                if mode == "slow" and recorder.release.wait(seconds):
                    return
                status, headers, payload = recorder._relay(seen, body)
                seen.status, seen.body = status, payload
                self.send_response_only(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)

            do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_OPTIONS = do_PATCH = _serve

        return Handler

