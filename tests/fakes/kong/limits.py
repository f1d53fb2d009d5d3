"""rate-limiting (PRIORITY 910) and request-size-limiting (PRIORITY 951) on the proxy.

Rate limits use fixed windows aligned to UTC (second ... year), counters per route, service,
identifier and window as the `local` policy keeps them; blocked requests are not counted. The
`cluster` and `redis` policies count the same way here (one node, exact counts).
"""

from __future__ import annotations

import calendar
import threading
from collections.abc import Callable
from datetime import UTC, datetime

from .context import Context
from .responses import ProxyResponse, error, negotiate

WINDOWS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400, "month": 2592000,
           "year": 31536000}
UNITS = {"bytes": 1, "kilobytes": 1024, "megabytes": 1024 * 1024}


def window_start(window: str, now: float) -> int:
    """Start (epoch seconds) of the UTC-aligned window holding `now`."""
    if window in ("month", "year"):
        moment = datetime.fromtimestamp(now, UTC)
        first = moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        if window == "year":
            first = first.replace(month=1)
        return calendar.timegm(first.timetuple())
    size = WINDOWS[window]
    return int(now // size) * size


class RateCounters:
    """The `kong_rate_limiting_counters` shared dict of one node."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.lock = threading.Lock()
        self.counts: dict[tuple, int] = {}

    def clear(self) -> None:
        with self.lock:
            self.counts.clear()

    def check(self, ctx: Context, conf: dict) -> ProxyResponse | None:
        """Access phase: count the request, or answer with error_code when a window is full."""
        now = self.clock()
        limits = [(w, conf[w]) for w in WINDOWS if conf.get(w) is not None]
        base = (ctx.route["id"], (ctx.service or {}).get("id"), _identifier(ctx, conf))
        with self.lock:
            keys = {w: (*base, w, window_start(w, now)) for w, _ in limits}
            usage = {w: (limit, limit - self.counts.get(keys[w], 0)) for w, limit in limits}
            stop = next((w for w, (_, remaining) in usage.items() if remaining <= 0), None)
            if stop is None:
                for key in keys.values():
                    self.counts[key] = self.counts.get(key, 0) + 1
        headers = _headers(usage, stop, now)
        if not conf.get("hide_client_headers"):
            ctx.response_headers += headers
        if stop is None:
            return None
        media = negotiate(ctx.request.header("accept"))
        extra = [] if conf.get("hide_client_headers") else [
            ("Retry-After", dict(headers)["RateLimit-Reset"])]
        return ctx.reply(error(int(conf.get("error_code") or 429),
                               conf.get("error_message") or "API rate limit exceeded",
                               ctx.rid, media, extra))


def _identifier(ctx: Context, conf: dict) -> str:
    by = conf.get("limit_by") or "consumer"
    request = ctx.request
    if by == "consumer" and ctx.consumer:
        return ctx.consumer["id"]
    if by == "credential" and ctx.credential:
        return ctx.credential["id"]
    if by == "service" and ctx.service:
        return ctx.service["id"]
    if by == "header":
        return request.header(conf.get("header_name") or "") or request.client_ip
    if by == "path" and request.path == conf.get("path"):
        return request.path
    return request.client_ip


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _headers(usage: dict[str, tuple[float, float]], stop: str | None,
             now: float) -> list[tuple[str, str]]:
    """X-RateLimit-* per window; RateLimit-* for the window with the fewest left (ties: longer)."""
    headers: list[tuple[str, str]] = []
    best = None
    for window, (limit, remaining) in usage.items():
        left = max(0, remaining - 1) if stop in (None, window) else max(0, remaining)
        title = window.capitalize()
        headers += [(f"X-RateLimit-Limit-{title}", _number(limit)),
                    (f"X-RateLimit-Remaining-{title}", _number(left))]
        if best is None or left < best[1] or (left == best[1] and limit > best[0]):
            best = (limit, left, window)
    if best is None:
        return headers
    limit, left, window = best
    reset = max(1, int(WINDOWS[window] - (now - window_start(window, now))))
    return [*headers, ("RateLimit-Limit", _number(limit)),
            ("RateLimit-Remaining", _number(left)), ("RateLimit-Reset", str(reset))]


def size_limit(ctx: Context, conf: dict) -> ProxyResponse | None:
    """413 over the limit (417 with Expect: 100-continue), 411 without a required length."""
    request = ctx.request
    allowed = int(conf.get("allowed_payload_size") or 128) * UNITS[conf.get("size_unit")
                                                                    or "megabytes"]
    length = request.header("content-length")
    media = negotiate(request.header("accept"))
    if conf.get("require_content_length") and length is None and not request.chunked:
        return ctx.reply(error(411, "A valid Content-Length header is required", ctx.rid, media))
    size = int(length) if length and length.isdigit() else len(request.body)
    if size <= allowed:
        return None
    expects = (request.header("expect") or "").lower() == "100-continue" and length is not None
    return ctx.reply(error(417 if expects else 413, "Request size limit exceeded", ctx.rid, media))
