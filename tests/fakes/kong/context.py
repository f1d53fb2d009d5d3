"""One proxied request as the double's plugins see it (Kong's `ngx.ctx` in miniature)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

from .responses import ProxyResponse

if TYPE_CHECKING:
    from .workers import Worker


@dataclass
class ProxyRequest:
    """A request as the proxy listener read it; headers keep order and wire spelling."""

    method: str
    target: str                     # the raw request target, e.g. /dict/hello?x=1
    version: str = "HTTP/1.1"
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    client_ip: str = "127.0.0.1"
    chunked: bool = False
    listen_port: int = 8000

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]

    @property
    def query(self) -> str:
        return self.target.split("?", 1)[1] if "?" in self.target else ""

    def header(self, name: str) -> str | None:
        """First value of a header, by case-insensitive name (None when absent)."""
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    def query_args(self) -> list[tuple[str, str]]:
        return parse_qsl(self.query, keep_blank_values=True)


@dataclass
class Context:
    """Per-request state shared by the phases: route, consumer, headers to add either way."""

    request: ProxyRequest
    rid: str
    started: float
    route: dict
    service: dict | None
    upstream_headers: list[tuple[str, str]]
    upstream_query: str
    consumer: dict | None = None
    credential: dict | None = None
    response_headers: list[tuple[str, str]] = field(default_factory=list)
    cache: dict | None = None          # proxy-cache state: plugin, key, status
    worker: Worker | None = None
    # rate-limiting's headers for this request (Kong's ngx.ctx.__rate_limiting_context__)
    rate_limit: dict[str, str] = field(default_factory=dict)
    # what runs after the answer is written (Kong's ngx.timer.at(0, ...) from the access phase)
    after: list[Callable[[], None]] = field(default_factory=list)

    def set_upstream(self, name: str, value: str | None) -> None:
        """Replace (or, with None, remove) a header sent upstream."""
        self.upstream_headers = [(k, v) for k, v in self.upstream_headers
                                 if k.lower() != name.lower()]
        if value is not None:
            self.upstream_headers.append((name, value))

    def reply(self, response: ProxyResponse) -> ProxyResponse:
        """A Kong-made response carrying the headers plugins set so far (rate limits...)."""
        response.headers += self.response_headers
        return response
