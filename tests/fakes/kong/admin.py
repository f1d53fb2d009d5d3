"""The Admin API of the double: routing of Kong 3.9.3's paths to the CRUD endpoints."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from . import errors
from .bodies import coerce, parse_body
from .cache import ProxyCache
from .crud import COLLECTIONS, NESTED, Crud, Scope
from .plugins import BUNDLED
from .store import SCHEMAS, Store

VERSION = "3.9.3"
ENTITY_METHODS = "DELETE, GET, HEAD, OPTIONS, PATCH, PUT"
COLLECTION_METHODS = "GET, HEAD, OPTIONS, POST"
HTML_405 = ("<html>\r\n<head><title>405 Not Allowed</title></head>\r\n<body>\r\n"
            "<center><h1>405 Not Allowed</h1></center>\r\n</body>\r\n</html>\r\n")
# /plugins/enabled lists the bundled plugins in Kong's (recorded) hash-table order.
ENABLED_ORDER = [*BUNDLED[16:-1], *BUNDLED[:16], BUNDLED[-1]]
HTML_404 = ("<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n"
            "<center><h1>404 Not Found</h1></center>\r\n</body>\r\n</html>\r\n")
WRITE_VERBS = {"POST": "create", "PUT": "create", "PATCH": "update", "DELETE": "remove"}


@dataclass
class Request:
    """An Admin API request as the server received it."""

    method: str
    target: str
    headers: dict[str, str] = field(default_factory=dict)   # lower-case names
    body: bytes = b""


@dataclass
class Response:
    """What the server writes back."""

    status: int
    body: object = None
    headers: dict[str, str] = field(default_factory=dict)
    html: bool = False


class AdminApi:
    """Kong's Admin API over a Store; `dbless=True` answers every write like DB-less Kong.

    `configuration` is what `GET /` reports of the node's settings; `workers` the pids it lists;
    `on_write` is told of every accepted write (the node's own workers hear of it at once)."""

    def __init__(self, store: Store, dbless: bool = False, cache: ProxyCache | None = None,
                 configuration: dict | None = None, workers: int = 2,
                 on_write: Callable[[], None] | None = None) -> None:
        self.store, self.crud, self.dbless = store, Crud(store), dbless
        self.cache = cache or ProxyCache()
        self.node_id = str(uuid.uuid4())
        self.configuration = configuration or {}
        self.pids = {"master": 1, "workers": list(range(2, 2 + workers))}
        self.on_write = on_write
        self.log: list[tuple[str, str, int]] = []     # (method, target, status) of every request

    def handle(self, request: Request) -> Response:
        """Answer one request, with Kong's CORS and Server headers on everything but TRACE."""
        if request.method == "TRACE":
            response = Response(405, HTML_405, html=True)
        else:
            response = self._dispatch(request)
            response.headers.update(self._common_headers(request))
        if request.method in WRITE_VERBS and response.status < 400 and self.on_write:
            self.on_write()
        self.log.append((request.method, request.target, response.status))
        return response

    def _common_headers(self, request: Request) -> dict[str, str]:
        return {"Access-Control-Allow-Origin": request.headers.get("origin", "*"),
                "Access-Control-Allow-Credentials": "true",
                "Server": f"kong/{VERSION}", "X-Kong-Admin-Latency": "0"}

    def _dispatch(self, request: Request) -> Response:
        parts = urlsplit(request.target)
        segments = [unquote(s) for s in parts.path.split("/") if s]
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        try:
            return self._route(request, segments, query)
        except errors.KongError as error:
            return Response(error.status, error.body, html=error.html)

    def _route(self, request: Request, segments: list[str], query: dict) -> Response:
        if segments and segments[0] == "proxy-cache":
            return self._proxy_cache(request, segments[1:])
        special = self._special(segments)
        if special is not None:
            allowed, handler = special
            return self._call(request, allowed, lambda: handler(query))
        scope, allowed = self._scope(segments)
        if scope is None:
            return Response(404, dict(errors.NOT_FOUND))
        return self._entity_call(request, scope, allowed, query)

    def _call(self, request: Request, allowed: str, handler: Callable[[], Response]) -> Response:
        if request.method == "OPTIONS":
            return _options(allowed)
        if request.method not in allowed.split(", "):
            return Response(405, {"message": "Method not allowed"})
        return handler()

    # -- non-entity endpoints ---------------------------------------------
    def _special(self, segments: list[str]) -> tuple[str, Callable] | None:
        read_only = "GET, HEAD, OPTIONS"
        table: dict[tuple[str, ...], Callable] = {
            (): self._root, ("status",): self._status,
            ("plugins", "enabled"): lambda q: Response(200, {"enabled_plugins": ENABLED_ORDER}),
            ("tags",): lambda q: self._tags(None, q),
        }
        if len(segments) == 2 and segments[0] == "tags":
            return read_only, lambda q: self._tags(segments[1], q)
        handler = table.get(tuple(segments))
        return (read_only, handler) if handler else None

    def _root(self, _: dict) -> Response:
        enabled = sorted({p["name"] for p in self.store.rows("plugins")})
        return Response(200, {
            "tagline": "Welcome to kong", "version": VERSION, "edition": "community",
            "node_id": self.node_id, "hostname": "kong-double",
            "lua_version": "LuaJIT 2.1.0-20231117.1", "pids": self.pids,
            "plugins": {"available_on_server": {n: {"version": VERSION} for n in BUNDLED},
                        "enabled_in_cluster": enabled},
            "configuration": {"database": "off" if self.dbless else "postgres",
                              "router_flavor": "traditional_compatible",
                              "worker_consistency": "eventual", **self.configuration}})

    def _status(self, _: dict) -> Response:
        body: dict = {"memory": {"lua_shared_dicts": {}, "workers_lua_vms": []},
                      "server": {"connections_active": 1, "total_requests": len(self.log)}}
        if self.dbless:
            body["configuration_hash"] = "0" * 32
        else:
            body["database"] = {"reachable": True}
        return Response(200, body)

    def _tags(self, tag: str | None, _: dict) -> Response:
        data = [{"entity_id": e["id"], "entity_name": kind, "tag": t}
                for kind in ("services", "routes", "consumers", "plugins", "upstreams")
                for e in self.store.rows(kind) for t in (e.get("tags") or [])
                if tag is None or t == tag]
        return Response(200, {"data": data, "next": None})

    def _proxy_cache(self, request: Request, rest: list[str]) -> Response:
        """proxy-cache's api.lua: flush all, look up or purge one key (HTML 404 on a miss)."""
        plugin_id = rest[0] if len(rest) == 3 and rest[1] == "caches" else None
        key = rest[-1] if rest else None
        if key is None or (len(rest) not in (1, 3)) or (len(rest) == 3 and not plugin_id):
            if request.method == "DELETE" and not rest:
                self.cache.clear()
                return Response(204)
            return Response(404, dict(errors.NOT_FOUND))
        if request.method == "DELETE":
            found = self.cache.purge(key, plugin_id)
            return Response(204) if found else Response(404, HTML_404, html=True)
        entry = self.cache.find(key, plugin_id)
        return Response(200, entry.view()) if entry else Response(404, HTML_404, html=True)

    # -- entity endpoints --------------------------------------------------
    def _scope(self, segments: list[str]) -> tuple[Scope | None, str]:
        if not segments or segments[0] not in COLLECTIONS or len(segments) > 4:
            return None, ""
        kind = COLLECTIONS[segments[0]]
        if len(segments) <= 2:
            key = segments[1] if len(segments) == 2 else None
            path = "/" + segments[0]
            return Scope(kind, path, key=key), ENTITY_METHODS if key else COLLECTION_METHODS
        return self._nested_scope(segments)

    def _nested_scope(self, segments: list[str]) -> tuple[Scope | None, str]:
        parent_kind = COLLECTIONS[segments[0]]
        nested = NESTED.get((segments[0], segments[2]))
        if nested is None:
            return self._foreign_scope(segments) if len(segments) == 3 else (None, "")
        parent = self.crud.find(Scope(parent_kind, "", key=segments[1]))
        if parent is None:
            raise errors.not_found()
        child_kind, field_name = nested
        key = segments[3] if len(segments) == 4 else None
        path = f"/{segments[0]}/{quote(segments[1])}/{segments[2]}"
        return (Scope(child_kind, path, parent, field_name, key),
                ENTITY_METHODS if key else COLLECTION_METHODS)

    def _foreign_scope(self, segments: list[str]) -> tuple[Scope | None, str]:
        """`/routes/{r}/service` and `/key-auths/{k}/consumer`: the parent entity itself."""
        kind = COLLECTIONS[segments[0]]
        target = {"routes": ("service", "services"),
                  "key-auths": ("consumer", "consumers")}.get(segments[0])
        if target is None or segments[2] != target[0]:
            return None, ""
        child = self.crud.find(Scope(kind, "", key=segments[1]))
        ref = (child or {}).get(target[0])
        if not ref:
            raise errors.not_found()
        return Scope(target[1], "", key=ref["id"]), "GET, HEAD, OPTIONS, PATCH, PUT"

    def _entity_call(self, request: Request, scope: Scope, allowed: str, query: dict) -> Response:
        def run() -> Response:
            if self.dbless and request.method in WRITE_VERBS:
                raise errors.operation_unsupported(scope.kind, WRITE_VERBS[request.method])
            return self._crud(request, scope, query)
        return self._call(request, allowed, run)

    def _crud(self, request: Request, scope: Scope, query: dict) -> Response:
        method = request.method
        if method in ("GET", "HEAD"):
            body = self.crud.get(scope) if scope.key else self.crud.list(scope, query)
            return Response(200, body)
        if method == "DELETE":
            self.crud.delete(scope)
            return Response(204)
        data = self._arguments(request, scope.kind)
        if method == "POST":
            return Response(201, self.crud.create(scope, data))
        if method == "PUT":
            return Response(200, self.crud.put(scope, data))
        return Response(200, self.crud.patch(scope, data))

    @staticmethod
    def _arguments(request: Request, kind: str) -> dict:
        content_type = request.headers.get("content-type")
        data = parse_body(content_type, request.body)
        if content_type and "json" not in content_type:
            data = coerce(SCHEMAS[kind].fields, data)
        return data


def _options(allowed: str) -> Response:
    return Response(204, None, {"Allow": allowed, "Access-Control-Allow-Methods": allowed,
                                "Access-Control-Allow-Headers": "Content-Type"})


def encode(response: Response) -> tuple[bytes, str | None]:
    """Body bytes and Content-Type for a Response."""
    if response.body is None:
        return b"", None
    if response.html:
        return str(response.body).encode(), "text/html; charset=UTF-8"
    return json.dumps(response.body).encode(), "application/json; charset=utf-8"
