"""Kong's auto-generated entity endpoints (kong/api/endpoints.lua) over the double's store."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass

from . import errors
from .schema import is_uuid, utf8_name
from .store import SCHEMAS, Store

COLLECTIONS = {"services": "services", "routes": "routes", "consumers": "consumers",
               "plugins": "plugins", "upstreams": "upstreams", "key-auths": "keyauth_credentials",
               "targets": "targets"}
NESTED = {("services", "routes"): ("routes", "service"),
          ("services", "plugins"): ("plugins", "service"),
          ("routes", "plugins"): ("plugins", "route"),
          ("consumers", "plugins"): ("plugins", "consumer"),
          ("consumers", "key-auth"): ("keyauth_credentials", "consumer"),
          ("upstreams", "targets"): ("targets", "upstream")}
NAMED = ("services", "routes", "upstreams", "plugins")   # endpoint keys validated as utf8 names
PATCH_NOT_FOUND_KEY = {"services": "name", "routes": "name", "consumers": "username",
                       "upstreams": "name"}


@dataclass
class Scope:
    """Where a request points: an entity kind, an optional parent and an optional key."""

    kind: str
    path: str                         # collection path used in `next` links
    parent: dict | None = None
    parent_field: str | None = None
    key: str | None = None


class Crud:
    """GET/POST on collections and GET/PUT/PATCH/DELETE on entities."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # -- collections -------------------------------------------------------
    def list(self, scope: Scope, query: dict[str, str]) -> dict:
        rows = self._rows(scope, query)
        size = _page_size(query.get("size"))
        after = _decode_offset(query["offset"]) if "offset" in query else None
        if after is not None:
            rows = [r for r in rows if r["id"] > after]
        page = rows[:size]
        body: dict = {"data": [self.store.view(scope.kind, r) for r in page], "next": None}
        if len(rows) > size:
            token = _encode_offset(page[-1]["id"])
            body["offset"] = token
            body["next"] = self._next_link(scope, query, token)
        return body

    def _rows(self, scope: Scope, query: dict[str, str]) -> list[dict]:
        rows = self.store.rows(scope.kind)
        if scope.parent is not None:
            rows = self.store.children(scope.kind, scope.parent_field, scope.parent["id"])
        if "tags" in query:
            rows = [r for r in rows if _tags_match(query["tags"], r.get("tags") or [])]
        if scope.kind == "consumers" and "custom_id" in query:
            if not query["custom_id"]:
                raise errors.bad_request("custom_id must be an unempty string")
            rows = [r for r in rows if r.get("custom_id") == query["custom_id"]]
        return rows

    @staticmethod
    def _next_link(scope: Scope, query: dict[str, str], token: str) -> str:
        link = f"{scope.path}?offset={token}"
        if scope.parent is None:
            link += "".join(f"&{k}={query[k]}" for k in ("size", "tags") if k in query)
        return link

    def create(self, scope: Scope, data: dict) -> dict:
        if scope.parent is not None:
            data = {**data, scope.parent_field: {"id": scope.parent["id"]}}
        return self.store.insert(scope.kind, data)

    # -- entities ----------------------------------------------------------
    def find(self, scope: Scope) -> dict | None:
        """The entity named by the scope; a child of another parent counts as absent."""
        key = scope.key or ""
        if scope.kind in NAMED and not is_uuid(key) and utf8_name(key):
            field = SCHEMAS[scope.kind].endpoint_key
            raise errors.invalid_unique(field, utf8_name(key))
        entity = self.store.find(scope.kind, key)
        parent_id = (entity or {}).get(scope.parent_field or "") or {}
        if entity and scope.parent is not None and parent_id.get("id") != scope.parent["id"]:
            return None
        return entity

    def get(self, scope: Scope) -> dict:
        entity = self.find(scope)
        if entity is None:
            raise errors.not_found()
        return self.store.view(scope.kind, entity)

    def put(self, scope: Scope, data: dict) -> dict:
        if scope.parent is not None:
            data = {**data, scope.parent_field: {"id": scope.parent["id"]}}
        self.find(scope)
        return self.store.upsert(scope.kind, scope.key or "", data)

    def patch(self, scope: Scope, data: dict) -> dict:
        entity = self.find(scope)
        if entity is None:
            field = PATCH_NOT_FOUND_KEY.get(scope.kind)
            if field and scope.parent is None and not is_uuid(scope.key):
                raise errors.not_found_patch(field, scope.key or "")
            raise errors.not_found()
        return self.store.update(scope.kind, entity, data)

    def delete(self, scope: Scope) -> None:
        entity = self.find(scope)
        if entity is None:
            if scope.parent is not None:
                raise errors.not_found()
            return
        self.store.delete(scope.kind, entity)


def _page_size(raw: str | None) -> int:
    if raw is None:
        return 100
    try:
        size = float(raw)
    except ValueError:
        raise errors.KongError(400, {"code": 9, "name": "invalid size",
                                     "message": "size must be a number"}) from None
    if not size.is_integer() or not 1 <= size <= 1000:
        raise errors.KongError(400, {"code": 9, "name": "invalid size",
                                     "message": "size must be an integer between 1 and 1000"})
    return int(size)


def _encode_offset(last_id: str) -> str:
    raw = json.dumps([last_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_offset(token: str) -> str:
    try:
        padded = token + "=" * (-len(token) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded))
        if isinstance(value, list) and value and isinstance(value[0], str):
            return value[0]
    except (ValueError, binascii.Error):
        pass
    raise errors.KongError(400, {"code": 7, "name": "invalid offset",
                                 "message": f"'{token}' is not a valid offset: bad json encoding"})


def _tags_match(expression: str, tags: list[str]) -> bool:
    if "," in expression and "/" in expression:
        raise errors.KongError(400, {"code": 11, "name": "invalid options",
                                     "message": "invalid option (tags: invalid filter syntax)",
                                     "options": {"tags": "invalid filter syntax"}})
    if "/" in expression:
        return any(t in tags for t in expression.split("/"))
    return all(t in tags for t in expression.split(","))
