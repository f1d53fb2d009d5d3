"""Diff the declared gateway against Kong, then apply (PUT what differs) or destroy what we own.

Apply writes in an order that never lets a key work before its plan: entities (plans included)
first, then, once every Kong worker serves them (propagation.Barrier), the keys; deletions last.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from typing import Any

from .admin import AdminClient
from .kong_defaults import ENTITY_DEFAULTS, PLUGIN_CONFIGS
from .model import Entity, Gateway
from .propagation import Barrier, Propagation

Json = Any
REF_KINDS = {"service": "services", "route": "routes", "consumer": "consumers"}
DELETE_ORDER = ("plugins", "consumers", "routes", "services", "upstreams")


@dataclass
class Change:
    """One step of a plan: what happens to which entity, and which fields differ."""

    action: str                  # create | update | delete | unchanged
    label: str                   # e.g. "route dictionary"
    method: str = ""             # PUT, POST or DELETE ("" when unchanged)
    path: str = ""
    body: dict | None = None
    fields: list[str] = field(default_factory=list)
    consumer: str | None = None  # set on key-auth credential changes

    def as_dict(self) -> dict:
        return {"action": self.action, "entity": self.label, "fields": self.fields}

    @property
    def rebuilds(self) -> bool:
        """Whether Kong's workers apply this write only at their next rebuild."""
        return bool(self.method) and self.path.startswith(("/plugins/", "/routes/", "/services/"))


@dataclass
class Applied:
    """What apply did beyond the changes: the keys Kong created, the propagation waits."""

    keys: dict[str, str] = field(default_factory=dict)
    waits: list[Propagation] = field(default_factory=list)


class Planner:
    """Reads Kong's current state for a Gateway and computes the changes that converge it."""

    def __init__(self, client: AdminClient, gateway: Gateway) -> None:
        self.client, self.gateway = client, gateway
        self.ids: dict[tuple[str, str], str] = {}

    def plan(self, supplied_keys: dict[str, str] | None = None) -> list[Change]:
        """Every change needed, in a safe order (stale plugins first, other deletions last)."""
        current = {e.path: self.client.get(e.path) for e in self.gateway.entities}
        for entity in self.gateway.entities:
            if current[entity.path]:
                self.ids[(entity.kind, entity.key)] = current[entity.path]["id"]
        entities = _with_redis_password(self.gateway.entities, current)
        stale = self._stale()
        changes = [c for c in stale if c.path.startswith("/plugins/")]
        changes += [self._compare(e, current[e.path]) for e in entities]
        changes += self._target_changes() + self._credential_changes(supplied_keys or {})
        return changes + [c for c in stale if not c.path.startswith("/plugins/")]

    # -- entities ------------------------------------------------------------
    def _compare(self, entity: Entity, current: dict | None) -> Change:
        if current is None:
            return Change("create", entity.label, "PUT", entity.path, entity.body)
        differing = differences(self._expected(entity), current)
        if not differing:
            return Change("unchanged", entity.label)
        return Change("update", entity.label, "PUT", entity.path, entity.body, differing)

    def _expected(self, entity: Entity) -> dict:
        expected = deep_merge(ENTITY_DEFAULTS.get(entity.kind, {}), entity.body)
        if entity.kind == "plugins":
            defaults = PLUGIN_CONFIGS.get(entity.body["name"], {})
            expected["config"] = deep_merge(defaults, entity.body.get("config") or {})
            expected = {"route": None, "service": None, "consumer": None, **expected}
        for ref, kind in REF_KINDS.items():
            if isinstance(expected.get(ref), dict):
                key = next(iter(expected[ref].values()))
                expected[ref] = {"id": self.ids.get((kind, key), f"<{kind} {key} not created>")}
        return expected

    def _stale(self) -> list[Change]:
        """Entities carrying our tag that the gateway file no longer declares."""
        wanted = {(e.kind, e.key) for e in self.gateway.entities} | self.gateway.probe_keys
        changes = []
        for kind in DELETE_ORDER:
            for row in self.client.list(f"/{kind}?tags={self.gateway.tag}"):
                key = row.get(_endpoint_key(kind)) or row["id"]
                if (kind, key) not in wanted:
                    changes.append(Change("delete", f"{kind[:-1]} {key}", "DELETE",
                                          f"/{kind}/{row['id']}"))
        return changes

    # -- targets and credentials (POSTed, not PUT) --------------------------------
    def _target_changes(self) -> list[Change]:
        changes = []
        for upstream, targets in self.gateway.targets.items():
            rows = self.client.list(f"/upstreams/{upstream}/targets")
            present = {r["target"] for r in rows}
            body = {"tags": [self.gateway.tag]}
            changes += [Change("create", f"target {t} of upstream {upstream}", "POST",
                               f"/upstreams/{upstream}/targets", {"target": t, **body})
                        for t in targets if t not in present]
            changes += [Change("delete", f"target {r['target']} of upstream {upstream}",
                               "DELETE", f"/upstreams/{upstream}/targets/{r['id']}")
                        for r in rows if r["target"] not in targets
                        and self.gateway.tag in (r.get("tags") or [])]
            changes += [Change("unchanged", f"target {t} of upstream {upstream}")
                        for t in targets if t in present]
        return changes

    def _credential_changes(self, supplied: dict[str, str]) -> list[Change]:
        changes = []
        for consumer in self.gateway.consumers:
            label = f"key-auth credential of {consumer.username}"
            exists = ("consumers", consumer.username) in self.ids
            if exists and self.client.list(f"/consumers/{consumer.username}/key-auth"):
                changes.append(Change("unchanged", label))
                continue
            body = {"tags": [self.gateway.tag]}
            if consumer.username in supplied:
                body["key"] = supplied[consumer.username]
            changes.append(Change("create", label, "POST",
                                  f"/consumers/{consumer.username}/key-auth", body,
                                  consumer=consumer.username))
        return changes


def apply(client: AdminClient, changes: list[Change], barrier: Barrier | None = None) -> Applied:
    """Perform the writes of a plan. With a barrier, a key is created only once every Kong
    worker serves the writes before it (its plan), and apply returns only once every worker
    serves them all."""
    applied = Applied()
    pending = False
    for change in changes:
        if change.consumer and pending and barrier:
            applied.waits.append(barrier.wait())
            pending = False
        if change.method == "PUT":
            client.put(change.path, change.body or {})
        elif change.method == "DELETE":
            client.delete(change.path)
        elif change.method == "POST":
            result = client.post(change.path, change.body or {})
            if change.consumer:
                applied.keys[change.consumer] = result["key"]
        pending = pending or change.rebuilds
    if pending and barrier:
        applied.waits.append(barrier.wait())
    return applied


def destroy_plan(client: AdminClient, tag: str) -> list[Change]:
    """Deletion of every entity carrying our tag (credentials and targets cascade)."""
    return [Change("delete", f"{kind[:-1]} {row.get(_endpoint_key(kind)) or row['id']}",
                   "DELETE", f"/{kind}/{row['id']}")
            for kind in DELETE_ORDER for row in client.list(f"/{kind}?tags={tag}")]


def _with_redis_password(entities: list[Entity], current: dict[str, dict | None]) -> list[Entity]:
    """Rate-limiting plugins whose Redis password was not supplied keep the one Kong has (its
    own, or that of another of our rate-limiting plugins): provisioning from a machine that
    cannot read the password must not wipe it."""
    known = [((c or {}).get("config") or {}).get("redis") or {} for c in current.values()
             if (c or {}).get("name") == "rate-limiting"]
    fallback = next((r["password"] for r in known if r.get("password")), None)
    out = []
    for entity in entities:
        redis = (entity.body.get("config") or {}).get("redis")
        if entity.kind != "plugins" or redis is None or "password" in redis:
            out.append(entity)
            continue
        mine = (((current.get(entity.path) or {}).get("config") or {}).get("redis") or {})
        password = mine.get("password") or fallback
        body = copy.deepcopy(entity.body)
        if password:
            body["config"]["redis"]["password"] = password
        out.append(Entity(entity.kind, entity.key, body))
    return out


def differences(expected: Json, current: Json, where: str = "") -> list[str]:
    """Field paths where Kong's entity differs from what we expect (lists compared as sets)."""
    if isinstance(expected, dict):
        if not isinstance(current, dict):
            return [where or "."]
        return [d for key, value in expected.items()
                for d in differences(value, current.get(key), f"{where}.{key}".lstrip("."))]
    if isinstance(expected, list) and isinstance(current, list):
        same = sorted(map(_canonical, expected)) == sorted(map(_canonical, current))
        return [] if same else [where]
    return [] if _canonical(expected) == _canonical(current) else [where]


def deep_merge(base: dict, override: dict) -> dict:
    """`override` on top of `base`, merging nested mappings."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def _canonical(value: Json) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return json.dumps(value, sort_keys=True)


def _endpoint_key(kind: str) -> str:
    return {"consumers": "username", "plugins": "instance_name"}.get(kind, "name")
