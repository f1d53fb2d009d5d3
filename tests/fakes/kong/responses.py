"""What Kong 3.9.3 writes when it answers a proxy request itself: the error templates.

`kong.response.error` picks the body format from `Accept` (JSON when absent or `*/*`); nginx-made
errors (502/504 from the balancer, 400) fall back to the request's Content-Type, then text/plain.
Templates and Content-Types are byte-for-byte those of the recorded corpus.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

VERSION = "3.9.3"
SERVER = f"kong/{VERSION}"
JSON, HTML, XML, TEXT = "application/json", "text/html", "application/xml", "text/plain"
TEMPLATES = {
    JSON: '{{\n  "message":"{message}",\n  "request_id":"{rid}"\n}}',
    TEXT: "{message}\nrequest_id: {rid}\n",
    HTML: ('<!doctype html>\n<html>\n  <head>\n    <meta charset="utf-8">\n'
           "    <title>Error</title>\n  </head>\n  <body>\n    <h1>Error</h1>\n"
           "    <p>{message}.</p>\n    <p>request_id: {rid}</p>\n  </body>\n</html>\n"),
    XML: ('<?xml version="1.0" encoding="UTF-8"?>\n<error>\n  <message>{message}</message>\n'
          "  <requestid>{rid}</requestid>\n</error>\n"),
}
WILDCARDS = {"*/*": JSON, "application/*": JSON, "text/*": TEXT}


@dataclass
class ProxyResponse:
    """A response of the proxy listener; headers keep their order and wire spelling."""

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    after: list[Callable[[], None]] = field(default_factory=list)   # run once it is written

    def header(self, name: str) -> str | None:
        """First value of a header, by case-insensitive name."""
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    def set(self, name: str, value: str) -> None:
        """Replace every header of that name with one value."""
        self.remove(name)
        self.headers.append((name, value))

    def remove(self, name: str) -> None:
        self.headers = [(k, v) for k, v in self.headers if k.lower() != name.lower()]


def negotiate(accept: str | None, fallback: str = JSON) -> str:
    """The error format Kong picks for an Accept header (q-values honoured, first best wins)."""
    if not accept:
        return fallback
    ranked = []
    for index, part in enumerate(accept.split(",")):
        media, *params = [p.strip() for p in part.split(";")]
        q = next((_float(p[2:]) for p in params if p.startswith("q=")), 1.0)
        ranked.append((-q, index, media.lower()))
    for _, _, media in sorted(ranked):
        if media in TEMPLATES:
            return media
        if media in WILDCARDS:
            return WILDCARDS[media]
    return JSON


def _float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return 0.0


def nginx_error_format(accept: str | None, content_type: str | None) -> str:
    """Format of a balancer error: Accept, else the request's JSON Content-Type, else text."""
    if accept:
        return negotiate(accept)
    return JSON if content_type and "json" in content_type.lower() else TEXT


def error(status: int, message: str, rid: str, media: str = JSON,
          headers: list[tuple[str, str]] | None = None) -> ProxyResponse:
    """A Kong-generated error response (no Via; latency header added by the caller)."""
    body = TEMPLATES[media].format(message=message, rid=rid).encode()
    out = ProxyResponse(status, [("Content-Type", f"{media}; charset=utf-8"),
                                 ("Content-Length", str(len(body)))], body)
    out.headers += headers or []
    return out
