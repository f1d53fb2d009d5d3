"""A fake Free Dictionary API: a real HTTP server on 127.0.0.1 serving recorded bodies.

Tests steer it per word (or for every word with "*"): `fake.fault("hello", "hang")`.
It records every request it receives, so a test can prove a word never left the app.

Run it alone for manual tests and the benchmark:
    python -m tests.fakes.upstream --port 8600 [--delay 0.05] [--answer-all] [--fault hang]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote

DATA = Path(__file__).resolve().parent.parent / "data" / "upstream"
PREFIX = "/api/v2/entries/en/"
JSON = "application/json"
FOUND = {"hello": "hello.json", "keyboard": "keyboard.json", "legacy": "hello_readme_legacy.json"}


def _body(name: str) -> bytes:
    return (DATA / name).read_bytes()


@dataclass
class Reply:
    status: int
    body: bytes
    content_type: str = JSON
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


def _rate_limited() -> Reply:
    headers = {
        "Retry-After": "300",
        "X-RateLimit-Limit": "450",
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": str(int(time.time()) + 300),
    }
    return Reply(429, _body("rate_limited.txt"), "text/html; charset=utf-8", headers)


# Every fault the upstream has shown (or that a network can show), by name.
FAULTS: dict[str, Callable[[], Reply]] = {
    "not_found": lambda: Reply(404, _body("not_found.json")),
    "rate_limited": _rate_limited,
    "server_error": lambda: Reply(500, _body("server_error.json")),
    "bad_gateway": lambda: Reply(502, b"<html>502 Bad Gateway</html>", "text/html"),
    "unavailable": lambda: Reply(503, b"<html>503</html>", "text/html"),
    "cloudflare_522": lambda: Reply(522, _body("cloudflare_522.html"), "text/html"),
    "invalid_json": lambda: Reply(200, b'[{"word": "hello", "meanings": [', JSON),
    "json_object": lambda: Reply(200, _body("not_found.json")),
    "empty_list": lambda: Reply(200, b"[]"),
    "oversized": lambda: Reply(200, b"[" + b" " * (2 * 1024 * 1024) + b"]"),
    "slow": lambda: Reply(200, _body("hello.json"), delay=0.3),
    "hang": lambda: Reply(200, _body("hello.json"), delay=30.0),
}


class _Server(ThreadingHTTPServer):
    # socketserver's default backlog of 5 refuses connections under a burst of clients.
    request_queue_size = 1024
    daemon_threads = True


class FakeUpstream:
    """The fake server; use as a context manager. `url` is the DICTIONARY_UPSTREAM_URL.

    `record=False` keeps no request log (for long load runs, where it would only grow).
    """

    def __init__(
        self, port: int = 0, delay: float = 0.0, answer_all: bool = False, record: bool = True
    ) -> None:
        self.delay = delay
        self.answer_all = answer_all
        self.record = record
        self.requests: list[dict[str, object]] = []
        self._faults: dict[str, list[str]] = {}
        self._lock = threading.Lock()
        self._release = threading.Event()
        self._server = _Server(("127.0.0.1", port), self._handler_class())
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{PREFIX.rstrip('/')}"

    def __enter__(self) -> FakeUpstream:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._release.set()  # wake handlers sleeping in a "hang"
        self._server.shutdown()
        self._server.server_close()

    def fault(self, word: str, *names: str) -> None:
        """Answer `word` ("*" for all) with these faults in turn; the last one sticks."""
        unknown = set(names) - set(FAULTS)
        if unknown:
            raise ValueError(f"unknown faults: {unknown}")
        with self._lock:
            self._faults[word] = list(names)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
            self.requests.clear()

    def words_requested(self) -> list[str]:
        with self._lock:
            return [str(r["word"]) for r in self.requests]

    def _reply_for(self, word: str) -> Reply:
        with self._lock:
            plan = self._faults.get(word) or self._faults.get("*")
            name = (plan.pop(0) if len(plan) > 1 else plan[0]) if plan else None
        if name:
            return FAULTS[name]()
        if word in FOUND:
            return Reply(200, _body(FOUND[word]), delay=self.delay)
        if self.answer_all:
            entries = json.loads(_body("hello.json"))
            for entry in entries:
                entry["word"] = word
            return Reply(200, json.dumps(entries).encode(), delay=self.delay)
        return Reply(404, _body("not_found.json"), delay=self.delay)

    def _record(self, path: str, headers: dict[str, str]) -> str:
        word = unquote(path[len(PREFIX) :]) if path.startswith(PREFIX) else ""
        if self.record:
            with self._lock:
                self.requests.append({"path": path, "word": word, "headers": headers})
        return word

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in separate writes; without TCP_NODELAY, Nagle's
            # algorithm holds the body for the client's delayed ACK (about 40 ms).
            disable_nagle_algorithm = True

            def do_GET(self) -> None:
                word = fake._record(self.path, dict(self.headers))
                if not word:
                    self._send(Reply(404, b"Cannot GET " + self.path.encode(), "text/html"))
                    return
                self._send(fake._reply_for(word))

            def _send(self, reply: Reply) -> None:
                if reply.delay and fake._release.wait(reply.delay):
                    return  # the server is closing: drop the connection
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                self.send_header("Content-Length", str(len(reply.body)))
                self.send_header("Access-Control-Allow-Origin", "*")
                self.send_header("Date", formatdate(usegmt=True))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(reply.body)

            def log_message(self, *args: object) -> None:
                pass

        return Handler


def refused_url() -> str:
    """An upstream URL on 127.0.0.1 where nothing listens (connection refused)."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}{PREFIX.rstrip('/')}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8600)
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before each answer")
    parser.add_argument("--answer-all", action="store_true", help="every word is found")
    parser.add_argument("--fault", help="answer every word with this fault", choices=FAULTS)
    args = parser.parse_args()
    fake = FakeUpstream(args.port, args.delay, args.answer_all, record=False)
    if args.fault:
        fake.fault("*", args.fault)
    print(f"fake upstream on {fake.url}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        fake._server.serve_forever()


if __name__ == "__main__":
    main()
