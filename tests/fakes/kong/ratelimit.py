"""rate-limiting (PRIORITY 910) on the double's proxy, as kong/plugins/rate-limiting 3.9.3 does it.

Fixed windows aligned to UTC, one counter per (plugin route, plugin service, identifier, window):
a consumer-scoped plugin (a plan) has neither route nor service, so its counters are its own.
The headers are computed in the access phase from the usage *before* this request and kept in
`ctx.rate_limit` (Kong's private `ngx.ctx.__rate_limiting_context__`, which a post-function may
re-apply). The policies count as Kong does:

* `local` (one node, shared by its workers) and `cluster` (shared through the store, as
  PostgreSQL is): blocked requests are not counted, and a passed request is counted in a timer
  after the answer (`ngx.timer.at(0, increment)`, facts §2), so a following request can see the
  same count. `count_delay` lengthens that timer, so a test can choose the timing.
* `redis` with `sync_rate = -1`: one INCR per window in a real Redis during the access phase,
  before the answer; the usage is the value before it. Every request is counted, blocked ones
  included. A Redis that cannot be reached is an error: with `fault_tolerant` (the default) the
  request passes without rate-limit headers (and the double records the error), otherwise 500.
"""

from __future__ import annotations

import calendar
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from .context import Context
from .responses import ProxyResponse, error, negotiate

EXPIRATION = {"second": 1, "minute": 60, "hour": 3600, "day": 86400, "month": 2592000,
              "year": 31536000}
EMPTY_UUID = "00000000-0000-0000-0000-000000000000"
REALTIME = -1


class PolicyError(Exception):
    """The policy's data store failed (Kong: `failed to get usage`)."""


def window_start(window: str, now: float) -> int:
    """Start (epoch seconds) of the UTC-aligned window holding `now`."""
    if window in ("month", "year"):
        moment = datetime.fromtimestamp(now, UTC)
        first = moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        if window == "year":
            first = first.replace(month=1)
        return calendar.timegm(first.timetuple())
    size = EXPIRATION[window]
    return int(now // size) * size


@dataclass
class Counting:
    """One request's view of its counters: the keys per window and what to do after answering."""

    keys: dict[str, str]
    limits: dict[str, float]
    usage: dict[str, int] = field(default_factory=dict)


class LocalCounters:
    """A shared dict of counters (`kong_rate_limiting_counters`, or the cluster table)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.counts: dict[str, int] = {}

    def clear(self) -> None:
        with self.lock:
            self.counts.clear()

    def usage(self, keys: dict[str, str]) -> dict[str, int]:
        with self.lock:
            return {w: self.counts.get(k, 0) for w, k in keys.items()}

    def increment(self, keys: dict[str, str]) -> None:
        with self.lock:
            for key in keys.values():
                self.counts[key] = self.counts.get(key, 0) + 1


class RedisCounters:
    """Counters in a real Redis, one connection pool per (host, port, database, credentials).
    One attempt per request, as Kong's resty.redis makes (redis-py would retry three times)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.clients: dict[tuple, redis.Redis] = {}

    def close(self) -> None:
        with self.lock:
            for client in self.clients.values():
                client.close()
            self.clients.clear()

    def _client(self, conf: dict) -> redis.Redis:
        settings = conf.get("redis") or {}
        timeout = (settings.get("timeout") or 2000) / 1000
        key = tuple(settings.get(k) for k in ("host", "port", "database", "username",
                                               "password", "timeout"))
        with self.lock:
            if key not in self.clients:
                self.clients[key] = redis.Redis(
                    host=settings.get("host"), port=settings.get("port") or 6379,
                    db=settings.get("database") or 0, username=settings.get("username"),
                    password=settings.get("password"), socket_timeout=timeout,
                    socket_connect_timeout=timeout, retry=Retry(NoBackoff(), 0))
            return self.clients[key]

    def count(self, conf: dict, keys: dict[str, str]) -> dict[str, int]:
        """INCR each window's key (expiring with its window) and return the values before."""
        try:
            pipe = self._client(conf).pipeline(transaction=True)
            for window, key in keys.items():
                pipe.incr(key)
                pipe.expire(key, EXPIRATION[window], nx=True)
            results = pipe.execute()
        except (redis.RedisError, OSError) as failure:
            raise PolicyError(f"{type(failure).__name__}: {failure}") from None
        return {w: int(results[2 * i]) - 1 for i, w in enumerate(keys)}


class RateLimiting:
    """The plugin's access phase over one node's local counters and the shared ones."""

    def __init__(self, clock: Callable[[], float], cluster: LocalCounters,
                 redis_counters: RedisCounters) -> None:
        self.clock = clock
        self.local = LocalCounters()
        self.cluster = cluster
        self.redis = redis_counters
        self.count_delay = 0.0
        self.errors: list[str] = []         # what Kong would log as `failed to get usage`

    def access(self, ctx: Context, plugin: dict) -> ProxyResponse | None:
        conf = plugin["config"]
        now = self.clock()
        limits = {w: conf[w] for w in EXPIRATION if conf.get(w) is not None}
        counting = Counting(_keys(plugin, _identifier(ctx, conf), limits, now), limits)
        try:
            counting.usage = self._usage(conf, counting)
        except PolicyError as failure:
            self.errors.append(f"failed to get usage: {failure}")
            if not conf.get("fault_tolerant", True):
                return ctx.reply(error(500, "An unexpected error occurred", ctx.rid,
                                       negotiate(ctx.request.header("accept"))))
            return None
        usage = {w: (limit, limit - counting.usage[w]) for w, limit in limits.items()}
        stop = next((w for w, (_, remaining) in usage.items() if remaining <= 0), None)
        if not conf.get("hide_client_headers"):
            ctx.rate_limit.update(_headers(usage, stop, now))
        if stop is not None:
            return self._refuse(ctx, conf)
        if conf.get("policy", "local") != "redis":
            ctx.after.append(lambda: self._increment(conf, counting))
        ctx.response_headers += list(ctx.rate_limit.items())
        return None

    def _usage(self, conf: dict, counting: Counting) -> dict[str, int]:
        policy = conf.get("policy", "local")
        if policy == "redis":
            if conf.get("sync_rate", REALTIME) != REALTIME:
                raise PolicyError("sync_rate other than -1 is not modelled by the double")
            return self.redis.count(conf, counting.keys)
        return (self.cluster if policy == "cluster" else self.local).usage(counting.keys)

    def _increment(self, conf: dict, counting: Counting) -> None:
        """The timer Kong starts after answering (a passed request is counted late)."""
        counters = self.cluster if conf.get("policy") == "cluster" else self.local
        if self.count_delay:
            threading.Timer(self.count_delay, counters.increment, (counting.keys,)).start()
        else:
            counters.increment(counting.keys)

    @staticmethod
    def _refuse(ctx: Context, conf: dict) -> ProxyResponse:
        media = negotiate(ctx.request.header("accept"))
        extra = [] if conf.get("hide_client_headers") else [
            ("Retry-After", ctx.rate_limit["RateLimit-Reset"])]
        if extra:
            ctx.rate_limit["Retry-After"] = extra[0][1]
        ctx.response_headers += [(k, v) for k, v in ctx.rate_limit.items() if k != "Retry-After"]
        return ctx.reply(error(int(conf.get("error_code") or 429),
                               conf.get("error_message") or "API rate limit exceeded",
                               ctx.rid, media, extra))


def _identifier(ctx: Context, conf: dict) -> str:
    by = conf.get("limit_by") or "consumer"
    request = ctx.request
    if by == "consumer" and (ctx.consumer or ctx.credential):
        return (ctx.consumer or ctx.credential)["id"]
    if by == "credential" and ctx.credential:
        return ctx.credential["id"]
    if by == "service" and ctx.service:
        return ctx.service["id"]
    if by == "header":
        return request.header(conf.get("header_name") or "") or request.client_ip
    if by == "path" and request.path == conf.get("path"):
        return request.path
    return request.client_ip


def _keys(plugin: dict, identifier: str, limits: dict, now: float) -> dict[str, str]:
    """`ratelimit:<route>:<service>:<identifier>:<window start ms>:<window>`, with the plugin's
    own route and service (the empty UUID when it has none, as for a consumer's plan)."""
    route = (plugin.get("route") or {}).get("id") or EMPTY_UUID
    service = (plugin.get("service") or {}).get("id") or EMPTY_UUID
    return {w: f"ratelimit:{route}:{service}:{identifier}:{window_start(w, now) * 1000}:{w}"
            for w in limits}


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _headers(usage: dict[str, tuple[float, float]], stop: str | None,
             now: float) -> dict[str, str]:
    """X-RateLimit-* per window; RateLimit-* for the window with the fewest left (ties: longer)."""
    headers: dict[str, str] = {}
    best = None
    for window, (limit, remaining) in usage.items():
        left = max(0, remaining - 1) if stop in (None, window) else max(0, remaining)
        title = window.capitalize()
        headers[f"X-RateLimit-Limit-{title}"] = _number(limit)
        headers[f"X-RateLimit-Remaining-{title}"] = _number(left)
        if best is None or left < best[1] or (left == best[1] and limit > best[0]):
            best = (limit, left, window)
    if best is None:
        return headers
    limit, left, window = best
    reset = max(1, int(EXPIRATION[window] - (now - window_start(window, now))))
    return {**headers, "RateLimit-Limit": _number(limit), "RateLimit-Remaining": _number(left),
            "RateLimit-Reset": str(reset)}
