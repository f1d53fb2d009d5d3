"""proxy-cache with the memory strategy (PRIORITY 100): keys, Miss/Hit/Bypass, purge.

The key is Kong 3.9.3's: sha256 of `<consumer id>:<route id>|METHOD|<request line up to '?'>|
<sorted query k=v joined by ':'>|<vary headers>` (prefix just the route id without a consumer);
the raw request line keeps the protocol when there is no query, as recorded. HEAD answers are
never stored; content types must match exactly.

An entry keeps every response header; a Hit answers with them but the hop-by-hop ones and those
whose name contains `ratelimit-remaining` (kong/plugins/proxy-cache/handler.lua 3.9.3,
`overwritable_header` and `kong.response.exit(res.status, res.body, res.headers)`): the stored
`RateLimit-Reset`, `RateLimit-Limit` and `X-RateLimit-Limit-*` replace the ones rate-limiting set
for this request, while the remaining counts stay fresh (facts §3).
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from .context import Context
from .responses import ProxyResponse

MAX_AGE = re.compile(r"(?:s-maxage|max-age)\s*=\s*(\d+)")
# Stored, but not replayed on a Hit (content-length is set again for the body).
NOT_REPLAYED = ("connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
                "trailers", "transfer-encoding", "upgrade", "x-cache-status", "x-cache-key")
LOWERED = ("connection", "content-length", "content-type")     # as ngx.resp.get_headers names


@dataclass
class Entry:
    """One cached response."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes
    stored: float
    ttl: float
    request_body: str = ""
    extra: dict = field(default_factory=dict)

    def view(self) -> dict:
        """The object `GET /proxy-cache/{key}` shows."""
        return {"status": self.status, "headers": dict(self.headers),
                "body": self.body.decode("utf-8", "replace"), "body_len": len(self.body),
                "timestamp": int(self.stored), "ttl": int(self.ttl), "version": 1,
                "req_body": self.request_body}


class ProxyCache:
    """Entries by plugin id then cache key, shared by the proxy and the Admin API purge."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.lock = threading.Lock()
        self.entries: dict[str, dict[str, Entry]] = {}

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()

    def find(self, key: str, plugin_id: str | None = None) -> Entry | None:
        with self.lock:
            pools = [self.entries.get(plugin_id, {})] if plugin_id else self.entries.values()
            return next((p[key] for p in pools if key in p), None)

    def purge(self, key: str, plugin_id: str | None = None) -> bool:
        with self.lock:
            pools = [self.entries.get(plugin_id, {})] if plugin_id else self.entries.values()
            return any(p.pop(key, None) is not None for p in list(pools))

    # -- proxy phases ------------------------------------------------------
    def access(self, ctx: Context, plugin: dict) -> ProxyResponse | None:
        """Hit: the stored answer; otherwise remember Miss/Bypass for the response phase."""
        conf, request = plugin["config"], ctx.request
        if request.method not in (conf.get("request_method") or []):
            ctx.cache = {"status": "Bypass", "key": None, "plugin": plugin}
            return None
        key = cache_key(ctx, conf)
        if conf.get("cache_control") and _no_cache(request.header("cache-control")):
            ctx.cache = {"status": "Bypass", "key": None, "plugin": plugin}
            return None
        ctx.cache = {"status": "Miss", "key": key, "plugin": plugin}
        entry = self._fresh(plugin["id"], key)
        if entry is None:
            return None
        return self._hit(ctx, conf, entry, key)

    def _fresh(self, plugin_id: str, key: str) -> Entry | None:
        with self.lock:
            entry = self.entries.get(plugin_id, {}).get(key)
            if entry and self.clock() - entry.stored >= entry.ttl:
                del self.entries[plugin_id][key]
                return None
            return entry

    def _hit(self, ctx: Context, conf: dict, entry: Entry, key: str) -> ProxyResponse:
        canonical = {"content-length": "Content-Length", "content-type": "Content-Type"}
        headers = [(canonical.get(k, k), v) for k, v in entry.headers
                   if k.lower() not in NOT_REPLAYED and "ratelimit-remaining" not in k.lower()]
        ctx.cache = {"status": "Hit", "key": key, "plugin": None}
        replayed = {k.lower() for k, _ in headers}
        headers += [(k, v) for k, v in ctx.response_headers if k.lower() not in replayed]
        response = ProxyResponse(entry.status, headers, entry.body)
        shown = conf.get("response_headers") or {}
        if shown.get("age", True):
            response.headers.append(("age", str(int(self.clock() - entry.stored))))
        self.label(response, ctx, conf)
        return response

    @staticmethod
    def label(response: ProxyResponse, ctx: Context, conf: dict) -> None:
        """Add X-Cache-Key and X-Cache-Status as configured."""
        shown = conf.get("response_headers") or {}
        if ctx.cache["key"] and shown.get("X-Cache-Key", True):
            response.set("X-Cache-Key", ctx.cache["key"])
        if shown.get("X-Cache-Status", True):
            response.set("X-Cache-Status", ctx.cache["status"])

    def store(self, ctx: Context, response: ProxyResponse, content_type: str) -> None:
        """Response phase of a Miss: store it if cacheable, else turn the Miss into a Bypass.
        `content_type` is the upstream's, before nginx appends a charset to text types."""
        plugin = ctx.cache["plugin"]
        conf = plugin["config"]
        ttl = _ttl(conf, response)
        cacheable = (response.status in (conf.get("response_code") or [])
                     and content_type in (conf.get("content_type") or [])
                     and ttl is not None)
        if not cacheable:
            ctx.cache["status"] = "Bypass"
        self.label(response, ctx, conf)
        if cacheable and ctx.request.method != "HEAD":
            stored = [(k.lower() if k.lower() in LOWERED else k, v) for k, v in response.headers]
            entry = Entry(response.status, stored, response.body, self.clock(), ttl)
            with self.lock:
                self.entries.setdefault(plugin["id"], {})[ctx.cache["key"]] = entry


def _no_cache(value: str | None) -> bool:
    directives = {d.strip().split("=")[0].lower() for d in (value or "").split(",")}
    return bool(directives & {"no-cache", "no-store"})


def _ttl(conf: dict, response: ProxyResponse) -> float | None:
    if not conf.get("cache_control"):
        return float(conf.get("cache_ttl") or 300)
    value = (response.header("cache-control") or "").lower()
    if not value or _no_cache(value) or "private" in value:
        return None
    found = MAX_AGE.search(value)
    return float(found.group(1)) if found and int(found.group(1)) > 0 else None


def cache_key(ctx: Context, conf: dict) -> str:
    """sha256 hex of Kong's key preimage (see the module docstring)."""
    return hashlib.sha256(key_preimage(ctx, conf).encode()).hexdigest()


def key_preimage(ctx: Context, conf: dict) -> str:
    request = ctx.request
    prefix = ctx.route["id"]
    if ctx.consumer:
        prefix = f"{ctx.consumer['id']}:{prefix}"
    line = f"{request.method} {request.target} {request.version}"
    if "?" in line:
        line = line.split("?", 1)[0]
    if conf.get("ignore_uri_case"):
        line = line.lower()
    args = sorted(request.query_args())
    wanted = conf.get("vary_query_params")
    if wanted:
        args = [(k, v) for k, v in args if k in wanted]
    query = ":".join(f"{k}={v}" for k, v in args)
    vary = ":".join(f"{h.lower()}={request.header(h) or ''}"
                    for h in sorted(conf.get("vary_headers") or []))
    return f"{prefix}|{request.method}|{line}|{query}|{vary}"
