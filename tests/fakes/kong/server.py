"""HTTP glue: serve an `AdminApi` (and later the proxy) on 127.0.0.1 with the standard library."""

from __future__ import annotations

import threading
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .admin import AdminApi, Request, encode


class _AdminHandler(BaseHTTPRequestHandler):
    """Translates http.server calls into AdminApi.handle; keep-alive like Kong."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True      # headers and body go out in separate writes
    api: AdminApi

    def log_message(self, *_: object) -> None:
        """Silence: request lines would otherwise clutter test output."""

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        response = self.api.handle(Request(self.command, self.path, headers, body))
        payload, content_type = encode(response)
        self.send_response_only(response.status)
        self.send_header("Date", formatdate(usegmt=True))
        if content_type:
            self.send_header("Content-Type", content_type)
        for name, value in response.headers.items():
            self.send_header(name, value)
        if response.status != 204:
            self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_TRACE = _serve


class Listener:
    """One threaded HTTP server bound to 127.0.0.1 (port 0 picks a free port)."""

    def __init__(self, api: AdminApi, port: int = 0) -> None:
        handler = type("Handler", (_AdminHandler,), {"api": api})
        self.server = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        """Base URL, e.g. http://127.0.0.1:40123."""
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> Listener:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
