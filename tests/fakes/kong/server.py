"""HTTP glue: serve the Admin API and the proxy of the double on 127.0.0.1 (standard library)."""

from __future__ import annotations

import threading
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .admin import AdminApi, Request, encode
from .context import ProxyRequest
from .proxy import Proxy

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE")


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


class _ProxyHandler(BaseHTTPRequestHandler):
    """Reads a whole request (chunked bodies decoded, like Kong's request buffering) and writes
    the Proxy's answer. http.server answers `Expect: 100-continue` with 100 before the body is
    read, as Kong does. A connection stays with the worker it landed on, as in nginx; what a
    plugin left for after the answer (a rate-limit count) runs once the answer is written."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    proxy: Proxy

    def setup(self) -> None:
        super().setup()
        self.worker = self.proxy.workers.pick()

    def log_message(self, *_: object) -> None:
        """Silence."""

    def _body(self) -> tuple[bytes, bool]:
        if (self.headers.get("Transfer-Encoding") or "").lower() == "chunked":
            return self._chunks(), True
        length = self.headers.get("Content-Length")
        return (self.rfile.read(int(length)) if length and length.isdigit() else b""), False

    def _chunks(self) -> bytes:
        body = b""
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return body
            body += self.rfile.read(size)
            self.rfile.readline()

    def _serve(self) -> None:
        body, chunked = self._body()
        request = ProxyRequest(self.command, self.path, self.request_version,
                               list(self.headers.items()), body, self.client_address[0],
                               chunked, self.server.server_address[1])
        response = self.proxy.handle(request, self.worker)
        self.send_response_only(response.status)
        if response.header("date") is None:
            self.send_header("Date", formatdate(usegmt=True))
        for name, value in response.headers:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD" and response.status not in (204, 304):
            self.wfile.write(response.body)
        self.wfile.flush()
        for task in response.after:
            task()


for _method in METHODS:
    setattr(_ProxyHandler, f"do_{_method}", _ProxyHandler._serve)


class Listener:
    """One threaded HTTP server bound to 127.0.0.1 (port 0 picks a free port)."""

    def __init__(self, api: AdminApi | Proxy, port: int = 0) -> None:
        if isinstance(api, Proxy):
            handler = type("Handler", (_ProxyHandler,), {"proxy": api})
        else:
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
