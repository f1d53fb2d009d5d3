"""Replay the recorded Kong corpus (tests/data/kong-observed/) against the double.

Our own harness, applying the corpus' documented normalisation: UUIDs become `<uuid:KIND:NAME>`
labels learned in sorted-key order, timestamps `<ts>`, the echo port `<upstream-port>`,
generated keys `<generated-key…>`, latencies `<ms>`.
"""

from __future__ import annotations

import json
import re
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import requests

Json = Any
CORPUS = Path(__file__).resolve().parents[1] / "data" / "kong-observed"
FIXED_NS = uuid.UUID("6f1c2a6e-2b1d-4c55-9a43-6b3f4b0e0a11")
UUID_RE = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
PLACEHOLDER = re.compile(r"<uuid:([^>#]+(?:#\d+)?)>")
ECHO_PORT, CLOSED_PORT = 47123, 47124      # nothing listens: admin steps only store them
PORTS = {ECHO_PORT: "<upstream-port>", CLOSED_PORT: "<closed-port>"}
KIND_SIGNATURES = (
    ("service", {"protocol", "host", "port", "retries"}, ("name",)),
    ("route", {"strip_path", "protocols", "paths"}, ("name",)),
    ("consumer", {"username", "custom_id"}, ("username", "custom_id")),
    ("plugin", {"name", "config", "protocols"}, ("instance_name", "name")),
    ("keyauth", {"key", "consumer"}, ()),
    ("upstream", {"algorithm", "slots"}, ("name",)),
    ("target", {"target", "weight"}, ()),
)


def load(group: str) -> list[dict]:
    """The scenarios of one corpus file."""
    return json.loads((CORPUS / f"{group}.json").read_text(encoding="utf-8"))["scenarios"]


def _kind(entity: dict) -> tuple[str | None, str | None]:
    for kind, keys, name_fields in KIND_SIGNATURES:
        if keys <= set(entity):
            name = next((entity[f] for f in name_fields if entity.get(f)), None)
            return kind, name if isinstance(name, str) else None
    return None, None


class Labels:
    """Bidirectional map between real values and the corpus' placeholders, for one scenario."""

    def __init__(self, ports: dict[int, str] | None = None) -> None:
        self.ports = ports or PORTS              # real port -> placeholder
        self.by_uuid: dict[str, str] = {}
        self.counters: Counter[str] = Counter()
        self.literals: dict[str, str] = {}      # generated key -> placeholder

    def assign(self, value: str, kind: str, name: str | None) -> str:
        value = value.lower()
        if value not in self.by_uuid:
            if name is None:
                self.counters[kind] += 1
            base = f"{kind}:{name}" if name else f"{kind}-{self.counters[kind]}"
            label, i = base, 2
            while label in self.by_uuid.values():
                label, i = f"{base}#{i}", i + 1
            self.by_uuid[value] = label
        return self.by_uuid[value]

    def learn(self, obj: Json) -> None:
        """Label the ids of every entity in a response body, in the recorder's traversal order."""
        if isinstance(obj, dict):
            if isinstance(obj.get("node_id"), str):
                self.assign(obj["node_id"], "kong", "node")
            if isinstance(obj.get("id"), str) and UUID_RE.fullmatch(obj["id"]):
                kind, name = _kind(obj)
                if kind:
                    self.assign(obj["id"], kind, name)
            for key in sorted(obj):
                self.learn(obj[key])
        elif isinstance(obj, list):
            for item in obj:
                self.learn(item)

    def adopt(self, expected: Json, got: Json) -> None:
        """Remember the double's generated keys under the corpus' `<generated-key…>` names."""
        if isinstance(expected, dict) and isinstance(got, dict):
            for key, value in expected.items():
                self.adopt(value, got.get(key))
        elif isinstance(expected, list) and isinstance(got, list):
            for a, b in zip(expected, got, strict=False):
                self.adopt(a, b)
        elif (isinstance(expected, str) and expected.startswith("<generated-key")
              and isinstance(got, str) and expected not in self.literals.values()):
            self.literals[got] = expected

    # -- real -> placeholder ----------------------------------------------
    def text(self, value: str) -> str:
        for raw in sorted(self.literals, key=len, reverse=True):
            value = value.replace(raw, self.literals[raw])
        value = UUID_RE.sub(lambda m: f"<uuid:{self.assign(m.group(0), 'x', None)}>", value)
        for port, placeholder in self.ports.items():
            value = re.sub(rf"(?<!\d){port}(?!\d)", placeholder, value)
        return value

    def value(self, v: Json, key: str | None = None) -> Json:
        """Normalise a response value as the recorder did."""
        if isinstance(v, dict):
            return {self.text(k): self.value(x, k) for k, x in v.items()}
        if isinstance(v, list):
            return [self.value(x, key) for x in v]
        if isinstance(v, bool) or v is None:
            return v
        if isinstance(v, int | float):
            return self._number(v, key)
        return self.text(v)

    def _number(self, v: float, key: str | None) -> Json:
        if key in ("created_at", "updated_at"):
            return "<ts>"
        if key == "port" and v in self.ports:
            return self.ports[v]
        return "<ttl>" if key == "ttl" else v

    # -- placeholder -> real ----------------------------------------------
    def materialize(self, obj: Json) -> Json:
        """Turn a recorded request value back into real ids, keys and ports."""
        if isinstance(obj, dict):
            return {self.materialize(k): self.materialize(v) for k, v in obj.items()}
        if isinstance(obj, list):
            return [self.materialize(v) for v in obj]
        if not isinstance(obj, str):
            return obj
        for port, placeholder in self.ports.items():
            if placeholder.startswith("<"):
                obj = obj.replace(placeholder, str(port))
        for raw, placeholder in self.literals.items():
            obj = obj.replace(placeholder, raw)
        return PLACEHOLDER.sub(lambda m: self._real_uuid(m.group(1)), obj)

    def _real_uuid(self, label: str) -> str:
        for value, known in self.by_uuid.items():
            if known == label:
                return value
        value = str(uuid.uuid5(FIXED_NS, label))
        kind, _, name = label.partition(":")
        self.assign(value, kind, name or None)
        return value


def send(base_url: str, labels: Labels, request: dict) -> requests.Response:
    """Send one recorded Admin API request to the double, the way the recorder sent it."""
    headers = {k: labels.materialize(v) for k, v in request.get("headers", {}).items()
               if k.lower() not in ("host", "content-length", "accept-encoding")}
    kwargs: dict[str, Any] = {"headers": headers, "timeout": 10}
    if "json" in request:
        kwargs["data"] = json.dumps(labels.materialize(request["json"])).encode()
    elif "form" in request:
        kwargs["data"] = [tuple(labels.materialize(p)) for p in request["form"]]
    elif "body_text" in request:
        kwargs["data"] = labels.materialize(request["body_text"]).encode()
    path = labels.materialize(request["path"])
    return requests.request(request["method"], base_url + path, **kwargs)


def plugin_summary(body: dict) -> dict:
    """The recorder's summary of a plugin list: (name, scope) tuples, sorted."""
    keys = ("consumer", "enabled", "instance_name", "name", "route", "service")
    plugins = [{k: p.get(k) for k in keys} for p in body.get("data", [])]
    return {"count": len(plugins), "next": body.get("next"),
            "plugins": sorted(plugins, key=lambda p: json.dumps(p, sort_keys=True))}


class Verdicts:
    """What a replay found: steps that fail, and listed differences that no longer differ.

    A step listed as a deliberate difference must still differ, so the list cannot go stale.
    """

    def __init__(self) -> None:
        self.lines: list[str] = []

    def judge(self, title: str, problems: list[str], deliberate: bool) -> None:
        if deliberate and not problems:
            self.lines.append(f"{title}: now conforms, drop it from DIFFERENCES")
        elif problems and not deliberate:
            self.lines.append(f"{title}: " + "; ".join(problems))
