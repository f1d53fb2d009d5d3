"""The proxy side of the double: what Kong 3.9.3's proxy listener does with one request.

Phases: route (404/503/426), plugins in priority order (correlation-id, key-auth,
request-size-limiting, rate-limiting, proxy-cache, request-termination), balancer (service host
or upstream targets, retries, timeouts -> 502/504), then the response headers Kong adds and the
header filters (post-function). Routes, services and plugins come from the worker the
connection landed on, as that worker last rebuilt them (workers.py: 0 to ~5.5 s after an Admin
API write, like Kong); consumers, credentials and targets are read live from the store.
"""

from __future__ import annotations

import http.client
import itertools
import socket
import time
import uuid
from collections.abc import Callable

from . import responses
from .auth import key_auth
from .cache import ProxyCache
from .context import Context, ProxyRequest
from .functions import NotModelled, post_function_header_filter, request_termination
from .limits import size_limit
from .ratelimit import LocalCounters, RateLimiting, RedisCounters
from .responses import SERVER, ProxyResponse, error, negotiate, nginx_error_format
from .router import Match, escapes_root, match_route
from .store import Store
from .workers import Worker, Workers

VIA = f"kong/{responses.VERSION}"
HOP_BY_HOP = {"connection", "keep-alive", "te", "trailer", "transfer-encoding", "upgrade",
              "proxy-connection", "content-length", "expect"}
IDEMPOTENT = {"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"}
# Plugins with an access phase the proxy runs, in Kong's execution order (PRIORITY, highest
# first); post-function (-1000) runs in the header filter, after all of them.
ORDER = ("correlation-id", "key-auth", "request-size-limiting", "rate-limiting", "proxy-cache",
         "request-termination")


class UpstreamError(Exception):
    """A balancer failure: `status` 502/503/504 with Kong's message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


class Proxy:
    """Kong's proxy over a Store. `clock` (epoch seconds) drives rate-limit windows and cache
    ages, so tests can align windows without sleeping. `cluster` and `redis` are the counters a
    node shares with others (the `cluster` and `redis` policies)."""

    def __init__(self, store: Store, workers: Workers, clock: Callable[[], float] = time.time,
                 cluster: LocalCounters | None = None,
                 redis_counters: RedisCounters | None = None) -> None:
        self.store = store
        self.workers = workers
        self.clock = clock
        self.rate_limiting = RateLimiting(lambda: self.clock(), cluster or LocalCounters(),
                                          redis_counters or RedisCounters())
        self.cache = ProxyCache(lambda: self.clock())
        self.round_robin = itertools.count()
        self.log: list[tuple[str, str, int]] = []

    def reset(self) -> None:
        """Forget counters, cache entries and the request log."""
        self.rate_limiting.local.clear()
        self.rate_limiting.errors.clear()
        self.cache.clear()
        self.log.clear()

    def handle(self, request: ProxyRequest, worker: Worker | None = None) -> ProxyResponse:
        started = time.monotonic()
        rid = uuid.uuid4().hex
        response = self._handle(request, worker or self.workers.pick(), rid, started)
        response.set("X-Kong-Request-Id", rid)
        self.log.append((request.method, request.target, response.status))
        return response

    def _handle(self, request: ProxyRequest, worker: Worker, rid: str,
                started: float) -> ProxyResponse:
        media = negotiate(request.header("accept"))
        if escapes_root(request.path):
            return _kong_made(error(400, "Bad request", rid, responses.TEXT), started)
        if request.method == "TRACE":
            return _kong_made(error(405, "Method not allowed", rid, media), started)
        match = match_route(worker.rows("routes"), {s["id"]: s for s in worker.rows("services")},
                            request.method, request.header("host") or "", request.path)
        if match is None:
            return _kong_made(error(404, "no Route matched with those values", rid, media),
                              started)
        refusal = self._protocol(request, match, rid)
        if refusal is not None:
            return _kong_made(refusal, started)
        if match.service is None:
            return _kong_made(error(503, "no Service found with those values", rid, media),
                              started)
        ctx = Context(request, rid, started, match.route, match.service,
                      _upstream_headers(request, match, rid), request.query, worker=worker)
        try:
            response = self._run(ctx, match)
            self._header_filter(ctx, response)
        except NotModelled as unknown:
            body = f"not modelled by the Kong double: {unknown}\n".encode()
            response = ProxyResponse(500, [("Content-Type", "text/plain"),
                                           ("Content-Length", str(len(body)))], body)
        response.after = ctx.after
        return response

    @staticmethod
    def _protocol(request: ProxyRequest, match: Match, rid: str) -> ProxyResponse | None:
        """An https-only route reached over http: 426, or the configured redirect."""
        if "http" in (match.route.get("protocols") or ["http"]):
            return None
        code = match.route.get("https_redirect_status_code") or 426
        if code == 426:
            return error(426, "Please use HTTPS protocol", rid,
                         negotiate(request.header("accept")),
                         [("Upgrade", "TLS/1.2, HTTP/1.1")])
        host = (request.header("host") or "").rsplit(":", 1)[0]
        return _redirect(code, f"https://{host}{request.target}")

    # -- plugins -------------------------------------------------------------
    def _run(self, ctx: Context, match: Match) -> ProxyResponse:
        for name in ORDER:
            plugin = self._plugin(name, ctx)
            if plugin is None:
                continue
            answer = self._access(name, plugin, ctx)
            if answer is not None and name == "proxy-cache":
                return _proxied(answer, ctx.started, ctx.started)
            if answer is not None:
                return _kong_made(answer, ctx.started)
        return self._forward(ctx, match)

    def _access(self, name: str, plugin: dict, ctx: Context) -> ProxyResponse | None:
        conf = plugin["config"]
        if name == "key-auth":
            return key_auth(self.store, ctx, conf)
        if name == "request-size-limiting":
            return size_limit(ctx, conf)
        if name == "rate-limiting":
            return self.rate_limiting.access(ctx, plugin)
        if name == "proxy-cache":
            return self.cache.access(ctx, plugin)
        if name == "request-termination":
            answer = request_termination(ctx, conf)
            return ctx.reply(answer) if answer else None
        self._correlation(ctx, conf)
        return None

    def _header_filter(self, ctx: Context, response: ProxyResponse) -> None:
        """post-function's header_filter, the last to touch the response headers."""
        plugin = self._plugin("post-function", ctx)
        if plugin is not None:
            post_function_header_filter(ctx, plugin["config"], response)

    @staticmethod
    def _correlation(ctx: Context, conf: dict) -> None:
        name = conf.get("header_name") or "Kong-Request-ID"
        value = ctx.request.header(name)
        if value is None:
            worker = ctx.worker
            value = str(uuid.uuid4()) if conf.get("generator") == "uuid" or worker is None \
                else f"{worker.uuid}#{next(worker.counter)}"
            ctx.set_upstream(name, value)
        if conf.get("echo_downstream"):
            ctx.response_headers.append((name, value))

    @staticmethod
    def _plugin(name: str, ctx: Context) -> dict | None:
        """The most specific enabled plugin of that name for route, service and consumer, among
        the plugins this worker has built."""
        ids = {"route": ctx.route["id"], "service": (ctx.service or {}).get("id"),
               "consumer": (ctx.consumer or {}).get("id")}
        best, best_rank = None, None
        for plugin in ctx.worker.rows("plugins") if ctx.worker else []:
            if plugin["name"] != name or not plugin.get("enabled", True):
                continue
            scope = {k: (plugin.get(k) or {}).get("id") for k in ids}
            if any(v is not None and v != ids[k] for k, v in scope.items()):
                continue
            rank = _precedence(scope)
            if best_rank is None or rank < best_rank:
                best, best_rank = plugin, rank
        return best

    # -- balancer ------------------------------------------------------------
    def _forward(self, ctx: Context, match: Match) -> ProxyResponse:
        proxy_done = time.monotonic()
        try:
            upstream = self._send(ctx, match)
        except UpstreamError as failure:
            request = ctx.request
            media = nginx_error_format(request.header("accept"),
                                       request.header("content-type"))
            answer = ctx.reply(error(failure.status, failure.message, ctx.rid, media))
            if failure.status == 503:
                return _kong_made(answer, ctx.started)
            answer.headers.append(("Server", SERVER))
            return _proxied(answer, ctx.started, proxy_done)
        response = _downstream(upstream)
        # Headers set in the access phase (rate limits) are part of what proxy-cache stores.
        response.headers += ctx.response_headers
        if ctx.cache and ctx.cache["status"] == "Miss":
            self.cache.store(ctx, response, upstream.getheader("content-type") or "")
        elif ctx.cache:
            ProxyCache.label(response, ctx, ctx.cache["plugin"]["config"])
        via = response.header("via")
        response.set("Via", f"{via}, 1.1 {VIA}" if via else f"1.1 {VIA}")
        return _proxied(response, ctx.started, proxy_done)

    def _send(self, ctx: Context, match: Match) -> http.client.HTTPResponse | ProxyResponse:
        service = ctx.service or {}
        attempts = 1 + int(service.get("retries", 5))
        if ctx.request.method not in IDEMPOTENT:
            attempts = 1
        failure = UpstreamError(502, "An invalid response was received from the upstream "
                                     "server")
        for _ in range(attempts):
            host, port, host_header = self._peer(service)
            try:
                return _exchange(ctx, match, host, port, host_header, service)
            except TimeoutError:
                failure = UpstreamError(504, "The upstream server is timing out")
            except (OSError, http.client.HTTPException):
                failure = UpstreamError(502, "An invalid response was received from the "
                                             "upstream server")
        raise failure

    def _peer(self, service: dict) -> tuple[str, int, str]:
        """(address, port, Host header): a target of the service's upstream, or its host."""
        upstream = self.store.find("upstreams", service["host"]) if service.get("host") else None
        if upstream is not None:
            targets = [t for t in self.store.children("targets", "upstream", upstream["id"])
                       if t.get("weight", 100) > 0]
            if not targets:
                raise UpstreamError(503, "failure to get a peer from the ring-balancer")
            target = targets[next(self.round_robin) % len(targets)]["target"]
            host, _, port = target.rpartition(":")
            return _resolve(host), int(port), upstream.get("host_header") or target
        host, port = service["host"], int(service.get("port") or 80)
        default = port == (443 if service.get("protocol") == "https" else 80)
        return _resolve(host), port, host if default else f"{host}:{port}"


def _precedence(scope: dict) -> int:
    """Kong's plugin precedence: consumer+route+service first ... global last."""
    order = [("consumer", "route", "service"), ("consumer", "route"), ("consumer", "service"),
             ("route", "service"), ("consumer",), ("route",), ("service",), ()]
    return order.index(tuple(k for k in ("consumer", "route", "service") if scope[k]))


def _resolve(host: str) -> str:
    """The address to connect to; 503 `name resolution failed` when DNS has no answer."""
    if host.endswith(".invalid"):          # RFC 6761: never resolves; skip the resolver
        raise UpstreamError(503, "name resolution failed")
    try:
        return socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)[0][4][0]
    except OSError:
        raise UpstreamError(503, "name resolution failed") from None


def _upstream_headers(request: ProxyRequest, match: Match, rid: str) -> list[tuple[str, str]]:
    """The client's headers as Kong forwards them: X-Forwarded-*, X-Real-IP, Via, request id."""
    skip = HOP_BY_HOP | {"x-forwarded-proto", "x-forwarded-host", "x-forwarded-port",
                         "x-forwarded-path", "x-forwarded-prefix", "x-real-ip",
                         "x-kong-request-id", "via", "x-forwarded-for"}
    headers = [(k, v) for k, v in request.headers if k.lower() not in skip]
    host = request.header("host") or ""
    forwarded_for = request.header("x-forwarded-for")
    via = request.header("via")
    version = request.version.split("/")[-1].removesuffix(".0")
    headers += [("Connection", "keep-alive"),
                ("X-Forwarded-For", f"{forwarded_for}, {request.client_ip}" if forwarded_for
                 else request.client_ip),
                ("X-Forwarded-Proto", "http"),
                ("X-Forwarded-Host", host.rsplit(":", 1)[0] if ":" in host else host),
                ("X-Forwarded-Port", str(request.listen_port)),
                ("X-Forwarded-Path", request.path),
                ("X-Real-IP", request.client_ip),
                ("X-Kong-Request-Id", rid),
                ("Via", f"{via}, {version} {VIA}" if via else f"{version} {VIA}")]
    if match.prefix:
        headers.append(("X-Forwarded-Prefix", match.prefix))
    return headers


def _exchange(ctx: Context, match: Match, host: str, port: int, host_header: str,
              service: dict) -> http.client.HTTPResponse:
    """One attempt: connect (connect_timeout), send, read the whole answer (read_timeout)."""
    conn = http.client.HTTPConnection(host, port,
                                      timeout=service.get("connect_timeout", 60000) / 1000)
    try:
        return _attempt(conn, ctx, match, host_header, service)
    finally:
        conn.close()


def _attempt(conn: http.client.HTTPConnection, ctx: Context, match: Match, host_header: str,
             service: dict) -> http.client.HTTPResponse:
    conn.connect()
    conn.sock.settimeout(service.get("write_timeout", 60000) / 1000)
    request = ctx.request
    target = match.upstream_path + (f"?{ctx.upstream_query}" if ctx.upstream_query else "")
    conn.putrequest(request.method, target, skip_host=True, skip_accept_encoding=True)
    preserve = match.route.get("preserve_host") and request.header("host")
    conn.putheader("Host", request.header("host") if preserve else host_header)
    for name, value in ctx.upstream_headers:
        if name.lower() != "host":
            conn.putheader(name, value)
    if request.body or request.chunked or request.header("content-length"):
        conn.putheader("Content-Length", str(len(request.body)))
    conn.endheaders(request.body or None)
    conn.sock.settimeout(service.get("read_timeout", 60000) / 1000)
    response = conn.getresponse()
    response.data = response.read()        # buffered, like response_buffering=true
    return response


def _downstream(upstream: http.client.HTTPResponse) -> ProxyResponse:
    """The upstream's answer as Kong relays it (charset added to bare text/plain and html)."""
    headers = [(k, v) for k, v in upstream.getheaders() if k.lower() not in HOP_BY_HOP]
    length = upstream.getheader("content-length")
    if length is not None or upstream.data:
        headers.append(("Content-Length", length if length is not None
                        else str(len(upstream.data))))
    response = ProxyResponse(upstream.status, headers, upstream.data)
    content_type = response.header("content-type")
    if content_type and content_type.split(";")[0].strip() in ("text/plain", "text/html") \
            and "charset" not in content_type:
        response.set("Content-Type", f"{content_type}; charset=UTF-8")
    return response


def _kong_made(response: ProxyResponse, started: float) -> ProxyResponse:
    response.set("Server", SERVER)
    response.set("X-Kong-Response-Latency", str(_ms(started)))
    return response


def _proxied(response: ProxyResponse, started: float, proxy_done: float) -> ProxyResponse:
    response.set("X-Kong-Upstream-Latency", str(_ms(proxy_done)))
    response.set("X-Kong-Proxy-Latency", str(int((proxy_done - started) * 1000)))
    if response.header("via") is None:
        response.headers.append(("Via", f"1.1 {VIA}"))
    return response


def _ms(since: float) -> int:
    return int((time.monotonic() - since) * 1000)


def _redirect(code: int, location: str) -> ProxyResponse:
    reason = http.client.responses.get(code, "")
    body = (f"<html>\r\n<head><title>{code} {reason}</title></head>\r\n<body>\r\n"
            f"<center><h1>{code} {reason}</h1></center>\r\n</body>\r\n</html>\r\n").encode()
    return ProxyResponse(code, [("Content-Type", "text/html"), ("Content-Length", str(len(body))),
                                ("Location", location)], body)
