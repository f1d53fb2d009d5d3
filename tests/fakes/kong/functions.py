"""request-termination (PRIORITY 2) and post-function (PRIORITY -1000) on the double's proxy.

request-termination follows kong/plugins/request-termination/handler.lua 3.9.3: `body` with its
`content_type`, else `{"message": ...}` (the configured message or the status's default);
`trigger` limits it to requests carrying that header or query argument. `echo` (a copy of the
request and of Kong's node and worker) is not modelled.

post-function runs Lua, which the double cannot. It runs the code it knows, by its text
(whitespace aside), and answers anything else with a 500 that names the code, so a test never
passes on code the double did not run. Known: re-applying, in `header_filter`, the headers
rate-limiting computed for this request (facts §3: the remedy for the headers proxy-cache
replays on a Hit).
"""

from __future__ import annotations

import json
from collections.abc import Callable

from .context import Context
from .responses import ProxyResponse

DEFAULT_MESSAGES = {401: "Unauthorized", 404: "Not found", 405: "Method not allowed",
                    500: "An unexpected error occurred", 502: "Bad Gateway",
                    503: "Service unavailable"}
RATE_LIMIT_HEADERS_AGAIN = ("local c = ngx.ctx.__rate_limiting_context__ if c then "
                            "for k, v in pairs(c) do kong.response.set_header(k, v) end end")


class NotModelled(Exception):
    """Plugin behaviour the double does not model (unknown post-function code, echo)."""


def _reapply_rate_limit_headers(ctx: Context, response: ProxyResponse) -> None:
    for name, value in ctx.rate_limit.items():
        response.set(name, value)


def _normal(code: str) -> str:
    return " ".join(code.split())


KNOWN_HEADER_FILTERS: dict[str, Callable[[Context, ProxyResponse], None]] = {
    _normal(RATE_LIMIT_HEADERS_AGAIN): _reapply_rate_limit_headers,
}


def post_function_header_filter(ctx: Context, conf: dict, response: ProxyResponse) -> None:
    """Run the plugin's header_filter functions in order; unknown code raises NotModelled."""
    for code in conf.get("header_filter") or []:
        run = KNOWN_HEADER_FILTERS.get(_normal(code))
        if run is None:
            raise NotModelled(code)
        run(ctx, response)
    phases = ("certificate", "rewrite", "access", "body_filter", "log")
    unknown = [code for phase in phases for code in conf.get(phase) or []]
    if unknown:
        raise NotModelled(unknown[0])


def request_termination(ctx: Context, conf: dict) -> ProxyResponse | None:
    """The access phase: the configured answer, or None when a trigger is set and absent."""
    request = ctx.request
    trigger = conf.get("trigger")
    if trigger and request.header(trigger) is None and trigger not in dict(
            request.query_args()):
        return None
    status = int(conf.get("status_code") or 503)
    if conf.get("echo"):
        raise NotModelled("request-termination echo")
    if conf.get("body"):
        return _exit(status, conf["body"].encode(), conf.get("content_type"))
    message = conf.get("message") or DEFAULT_MESSAGES.get(status)
    if message is None:
        return _exit(status, b"", None)
    return _exit(status, json.dumps({"message": message}, separators=(",", ":")).encode(),
                 "application/json; charset=utf-8")


def _exit(status: int, body: bytes, content_type: str | None) -> ProxyResponse:
    headers = [("Content-Type", content_type)] if content_type else []
    return ProxyResponse(status, [*headers, ("Content-Length", str(len(body)))], body)
