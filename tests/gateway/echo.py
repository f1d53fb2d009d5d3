"""An echo upstream with the contract the corpus README describes (our own implementation).

`/status/<code>` answers that code, `/ctype/<type>` answers with that Content-Type, `/slow/<ms>`
sleeps first, anything else echoes method, path, query, headers (wire case) and body as JSON.
Every request is recorded, so a replay can compare what Kong (the double) sent upstream.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

SERVER = "kong-observe-echo/1.0"


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, *_: object) -> None:
        """A client (the double) gave up on a slow answer: expected, not an error."""


class EchoServer:
    """Threaded echo on 127.0.0.1, plus a bound-but-closed port for "upstream down"."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        self.server = _QuietServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.closed = socket.socket()
        self.closed.bind(("127.0.0.1", 0))          # bound, never listening: refused
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,),
                                       daemon=True)

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    @property
    def closed_port(self) -> int:
        return self.closed.getsockname()[1]

    def __enter__(self) -> EchoServer:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.closed.close()

    def received(self, request_id: str | None) -> list[dict]:
        """What arrived with this X-Kong-Request-Id, in arrival order."""
        with self.lock:
            return [r for r in self.requests if request_id and
                    _first(r["headers"], "X-Kong-Request-Id") == request_id]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        echo = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_: object) -> None:
                """Silence."""

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
                path, _, query = self.path.partition("?")
                seen = {"method": self.command, "path": path, "query": query,
                        "headers": _header_dict(self.headers.items()), "body": body,
                        "body_length": len(body.encode())}
                with echo.lock:
                    echo.requests.append(seen)
                status, content_type, payload = _answer(path, seen)
                self.send_response_only(status)
                self.send_header("Server", SERVER)
                self.send_header("Date", formatdate(usegmt=True))
                if status not in (204, 304):
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if self.command != "HEAD" and status not in (204, 304):
                    self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve

        return Handler


def _header_dict(items: list[tuple[str, str]]) -> dict:
    out: dict = {}
    for name, value in items:
        if name in out:
            out[name] = [*out[name], value] if isinstance(out[name], list) else [out[name], value]
        else:
            out[name] = value
    return out


def _first(headers: dict, name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name.lower():
            return value[0] if isinstance(value, list) else value
    return None


def _answer(path: str, seen: dict) -> tuple[int, str, bytes]:
    parts = path.split("/")
    if len(parts) > 2 and parts[1] == "status" and parts[2].isdigit():
        code = int(parts[2])
        return code, "application/json", _json({"from": "echo", "status": code})
    if len(parts) > 2 and parts[1] == "ctype":
        ctype = unquote(parts[2])
        return 200, ctype, _json({"ctype": ctype, "from": "echo"})
    if len(parts) > 2 and parts[1] == "slow" and parts[2].isdigit():
        time.sleep(int(parts[2]) / 1000)
    echoed = {k: seen[k] for k in ("body", "headers", "method", "path", "query")}
    return 200, "application/json", _json(echoed)


def _json(value: object) -> bytes:
    return json.dumps(value, sort_keys=True).encode()
