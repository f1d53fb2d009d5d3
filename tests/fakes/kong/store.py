"""The double's database: entities by kind, with Kong's defaults, checks, uniqueness and cascades.

Like Kong's PostgreSQL, one store may be shared by several nodes (each an Admin API and a proxy);
every write takes one lock. `versions` counts the writes that Kong's workers only pick up when
they rebuild their router (routes, services) or their plugins iterator (plugins): see workers.py.
"""

from __future__ import annotations

import copy
import secrets
import string
import threading
import time

from . import errors
from .entities import (
    CONSUMERS,
    KEYAUTH_CREDENTIALS,
    ROUTES,
    SERVICES,
    TARGETS,
    UPSTREAMS,
    EntitySchema,
    expand_service_url,
    normalise_target,
)
from .plugins import NO_CONSUMER, PLUGINS, config_entity_check, config_fields, with_shorthands
from .ratelimit import LocalCounters
from .schema import Json, check_record, fill_defaults, is_uuid, new_id

SCHEMAS: dict[str, EntitySchema] = {s.name: s for s in (
    SERVICES, ROUTES, CONSUMERS, PLUGINS, KEYAUTH_CREDENTIALS, UPSTREAMS, TARGETS)}
KEY_ALPHABET = string.ascii_letters + string.digits
FOREIGN_KEYS = {"consumers": "username", "services": "name", "routes": "name",
                "upstreams": "name"}
# The shared dictionaries of Kong 3.9.3's nginx template (kong/templates/nginx_kong.lua), to
# which a kong.conf adds its own `nginx_http_lua_shared_dict` ones.
KONG_SHARED_DICTS = frozenset({
    "kong", "kong_locks", "kong_healthchecks", "kong_cluster_events",
    "kong_rate_limiting_counters", "kong_core_db_cache", "kong_core_db_cache_miss",
    "kong_db_cache", "kong_db_cache_miss", "kong_secrets", "kong_dns_cache",
    "prometheus_metrics"})
# Which rebuilt state of a worker an entity belongs to (kong/runloop/handler.lua 3.9.3 keeps a
# router and a plugins iterator per worker, each with its own version in the core cache).
REBUILT_WITH = {"routes": "router", "services": "router", "plugins": "plugins"}


def generate_key() -> str:
    """32 characters of [A-Za-z0-9], the shape of the keys Kong generates."""
    return "".join(secrets.choice(KEY_ALPHABET) for _ in range(32))


class Store:
    """All entities of one (fake) Kong node, keyed by kind then id."""

    def __init__(self, shared_dicts: frozenset[str] = KONG_SHARED_DICTS) -> None:
        self.shared_dicts = shared_dicts          # proxy-cache's memory strategy needs one
        self.lock = threading.RLock()
        self.tables: dict[str, dict[str, dict]] = {kind: {} for kind in SCHEMAS}
        self.expiry: dict[str, float] = {}       # credential id -> monotonic deadline (ttl)
        self.versions = {"router": 0, "plugins": 0}
        self.cluster_counters = LocalCounters()     # rate-limiting's `cluster` policy table

    def reset(self) -> None:
        """Back to an empty node, as every corpus scenario starts."""
        with self.lock:
            for table in self.tables.values():
                table.clear()
            self.expiry.clear()
            self.cluster_counters.clear()
            self._touch("routes", "plugins")

    def _touch(self, *kinds: str) -> None:
        """A write to these kinds: the workers' router or plugins iterator is now out of date."""
        for state in {REBUILT_WITH[k] for k in kinds if k in REBUILT_WITH}:
            self.versions[state] += 1

    # -- lookups ---------------------------------------------------------
    def find(self, kind: str, key: str) -> dict | None:
        """An entity by id (when `key` is a UUID) or by its endpoint key."""
        self._expire()
        table = self.tables[kind]
        if is_uuid(key):
            return table.get(key.lower())
        field = SCHEMAS[kind].endpoint_key
        return next((e for e in table.values() if field and e.get(field) == key), None)

    def rows(self, kind: str) -> list[dict]:
        """Every entity of a kind, ordered by primary key as Kong's Postgres strategy does."""
        self._expire()
        return [self.tables[kind][i] for i in sorted(self.tables[kind])]

    def children(self, kind: str, field: str, parent_id: str) -> list[dict]:
        """Entities of `kind` whose foreign key `field` points at `parent_id`."""
        return [e for e in self.rows(kind) if (e.get(field) or {}).get("id") == parent_id]

    def view(self, kind: str, entity: dict) -> dict:
        """What the Admin API shows for an entity (remaining ttl, shorthand fields)."""
        out = copy.deepcopy(entity)
        if kind == "plugins":
            out["config"] = with_shorthands(out["name"], out["config"])
        if kind == "keyauth_credentials" and entity["id"] in self.expiry:
            out["ttl"] = max(0, int(self.expiry[entity["id"]] - time.monotonic()))
        return out

    def _expire(self) -> None:
        now = time.monotonic()
        for cred_id in [i for i, deadline in self.expiry.items() if deadline <= now]:
            self.tables["keyauth_credentials"].pop(cred_id, None)
            del self.expiry[cred_id]

    # -- writes ----------------------------------------------------------
    def insert(self, kind: str, data: dict) -> dict:
        """POST: create, refusing an id already in use (400 primary key violation)."""
        with self.lock:
            if data.get("id") and self.find(kind, str(data["id"])):
                self._validate(kind, self._complete(kind, dict(data)), updating=False)
                raise errors.primary_key_violation(data["id"])
            return self._save(kind, self._complete(kind, data), None)

    def upsert(self, kind: str, key: str, data: dict) -> dict:
        """PUT: create or fully replace; omitted fields fall back to their defaults."""
        with self.lock:
            current = self.find(kind, key)
            data = dict(data)
            if is_uuid(key):
                data["id"] = key.lower()
            elif SCHEMAS[kind].endpoint_key:
                data[SCHEMAS[kind].endpoint_key] = key
            if current:
                data["id"], data["created_at"] = current["id"], current["created_at"]
            return self._save(kind, self._complete(kind, data), current)

    def update(self, kind: str, current: dict, data: dict) -> dict:
        """PATCH: merge into the current entity (records merge field by field)."""
        with self.lock:
            if kind == "services" and "url" in data:
                data = expand_service_url(dict(data))
            merged = _merge(current, data)
            return self._save(kind, merged, current)

    def delete(self, kind: str, entity: dict) -> None:
        """DELETE with Kong's cascades (plugins, credentials, targets) and route protection."""
        with self.lock:
            if kind == "services" and self.children("routes", "service", entity["id"]):
                raise errors.referenced_by("routes", "services")
            self._cascade(kind, entity["id"])
            self.tables[kind].pop(entity["id"], None)
            self.expiry.pop(entity["id"], None)
            self._touch(kind, "plugins" if kind in ("services", "routes", "consumers") else kind)

    def _cascade(self, kind: str, entity_id: str) -> None:
        dependents = {"services": [("plugins", "service")],
                      "routes": [("plugins", "route")],
                      "consumers": [("plugins", "consumer"), ("keyauth_credentials", "consumer")],
                      "upstreams": [("targets", "upstream")]}.get(kind, [])
        for child_kind, field in dependents:
            for child in self.children(child_kind, field, entity_id):
                self.tables[child_kind].pop(child["id"], None)

    # -- the write pipeline ----------------------------------------------
    def _complete(self, kind: str, data: dict) -> dict:
        """Expand shorthands and fill defaults, giving the full entity to validate."""
        if kind == "services" and "url" in data:
            if data["url"] == "" or not isinstance(data["url"], str):
                raise errors.schema_violation({"url": "length must be at least 1"})
            data = expand_service_url(dict(data))
        if kind == "keyauth_credentials" and data.get("key") is None:
            data["key"] = generate_key()
        if kind == "targets" and isinstance(data.get("target"), str):
            data["target"] = normalise_target(data["target"])
        entity = fill_defaults(SCHEMAS[kind].fields, data)
        if kind == "plugins":
            entity["config"] = _plugin_config(entity)
        return entity

    def _save(self, kind: str, entity: dict, current: dict | None) -> dict:
        self._resolve_foreign(kind, entity)
        self._validate(kind, entity, updating=current is not None and "created_at" in entity)
        self._check_foreign(kind, entity)
        self._check_unique(kind, entity, current)
        self._stamp(kind, entity, current)
        ttl = entity.pop("ttl", None) if kind == "keyauth_credentials" else None
        if kind == "keyauth_credentials":
            entity["ttl"] = None
            if ttl:
                self.expiry[entity["id"]] = time.monotonic() + ttl
        self.tables[kind][entity["id"]] = entity
        self._touch(kind)
        return self.view(kind, entity)

    def _stamp(self, kind: str, entity: dict, current: dict | None) -> None:
        now = time.time() if SCHEMAS[kind].float_timestamps else int(time.time())
        entity["id"] = str(entity.get("id") or new_id()).lower()
        entity["created_at"] = current["created_at"] if current else now
        if SCHEMAS[kind].has_updated_at:
            entity["updated_at"] = now

    def _resolve_foreign(self, kind: str, entity: dict) -> None:
        """Foreign keys given by name ({"name": ...}, {"username": ...}) become {"id": ...}."""
        for field, target in SCHEMAS[kind].foreign.items():
            ref = entity.get(field)
            if not isinstance(ref, dict) or "id" in ref or not ref:
                continue
            found = self.find(target, str(next(iter(ref.values()))))
            if found is None:
                raise errors.foreign_key_unresolved(field, target, ref)
            entity[field] = {"id": found["id"]}

    def _validate(self, kind: str, entity: dict, updating: bool) -> None:
        schema = SCHEMAS[kind]
        fields = {k: v for k, v in schema.fields.items() if v.type != "foreign"}
        problems = check_record(fields, {k: v for k, v in entity.items()
                                         if k not in schema.foreign})
        problems.update(self._foreign_required(schema, entity))
        if kind == "plugins":
            problems.update(_plugin_problems(entity) or self._shared_dict_problem(entity))
        if schema.entity_check:
            problems.update(schema.entity_check(entity, updating))
        if problems:
            raise errors.schema_violation(problems)

    def _shared_dict_problem(self, entity: dict) -> dict:
        """proxy-cache's memory strategy needs its dictionary in nginx (its schema.lua)."""
        config = entity.get("config") or {}
        if entity.get("name") != "proxy-cache" or config.get("strategy") != "memory":
            return {}
        name = (config.get("memory") or {}).get("dictionary_name")
        if name in self.shared_dicts:
            return {}
        return {"@entity": [f"missing shared dict '{name}'"]}

    @staticmethod
    def _foreign_required(schema: EntitySchema, entity: dict) -> dict:
        return {f: "required field missing" for f, spec in schema.fields.items()
                if spec.type == "foreign" and spec.required and entity.get(f) is None}

    def _check_foreign(self, kind: str, entity: dict) -> None:
        for field, target in SCHEMAS[kind].foreign.items():
            ref = entity.get(field)
            if ref and self.find(target, ref["id"]) is None:
                raise errors.foreign_key_violation(field, target, {"id": ref["id"]})

    def _check_unique(self, kind: str, entity: dict, current: dict | None) -> None:
        others = [e for e in self.rows(kind) if not current or e["id"] != current["id"]]
        for field in SCHEMAS[kind].unique:
            value = entity.get(field)
            if value is not None and any(e.get(field) == value for e in others):
                raise errors.unique_violation({field: value})
        scope = _composite_key(kind, entity)
        if scope and any(_composite_key(kind, e) == scope for e in others):
            raise errors.unique_violation(scope)


def _composite_key(kind: str, entity: dict) -> dict | None:
    """Kong's cache-key uniqueness: one plugin per (name, route, service, consumer), one target."""
    if kind == "plugins":
        return {k: entity.get(k) for k in ("consumer", "name", "route", "service")}
    if kind == "targets":
        return {"target": entity.get("target"), "upstream": entity.get("upstream")}
    return None


def _plugin_config(entity: dict) -> Json:
    fields = config_fields(entity.get("name") or "")
    config = entity.get("config") or {}
    if fields is None or not isinstance(config, dict):
        return config
    return fill_defaults(fields, config)


def _plugin_problems(entity: dict) -> dict:
    name = entity.get("name")
    fields = config_fields(name or "")
    config = entity.get("config")
    if fields is None or not isinstance(config, dict):
        return {}
    problems = {}
    config_errors = check_record(fields, config)
    if config_errors:
        problems["config"] = config_errors
    if name in NO_CONSUMER and entity.get("consumer") is not None:
        problems["consumer"] = "value must be null"
    if not problems:
        problems.update(config_entity_check(name, config))
    return problems


def _merge(current: dict, patch: dict) -> dict:
    """PATCH semantics: records (dicts) merge recursively, everything else is replaced."""
    out = copy.deepcopy(current)
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict) and key not in (
                "service", "route", "consumer", "upstream"):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out
