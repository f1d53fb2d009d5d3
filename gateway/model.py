"""The declared gateway: gateway.yaml (plus overrides) turned into the Kong entities it implies.

Overrides, each beating the file: the service URL (--service-url, DICTIONARY_SERVICE_URL), the
public proxy address printed in the curl line (--public-url, GATEWAY_PUBLIC_URL) and Kong's
Redis (--redis-url, GATEWAY_REDIS_URL; the password only from GATEWAY_REDIS_PASSWORD_FILE or
GATEWAY_REDIS_PASSWORD).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from . import qos
from .errors import ConfigError

Json = Any
DEFAULT_FILE = Path(__file__).resolve().parent.parent / "gateway.yaml"
DEFAULT_SERVICE_URL = "http://app:5000"
DEFAULT_PUBLIC_URL = "http://localhost:8000"


@dataclass(frozen=True)
class Entity:
    """One Kong entity we own, addressed by its endpoint key, written with PUT."""

    kind: str           # Admin API collection: services, routes, plugins, consumers, upstreams
    key: str            # name, username or instance_name
    body: dict

    @property
    def path(self) -> str:
        return f"/{self.kind}/{self.key}"

    @property
    def label(self) -> str:
        return f"{self.kind[:-1]} {self.key}"


@dataclass(frozen=True)
class Consumer:
    """A declared consumer and the QoS plan it is on."""

    username: str
    plan: str


@dataclass
class Gateway:
    """Everything provisioning converges Kong to, in the order it must be written."""

    tag: str
    entities: list[Entity]
    targets: dict[str, list[str]] = field(default_factory=dict)   # upstream name -> targets
    consumers: list[Consumer] = field(default_factory=list)
    public_url: str = DEFAULT_PUBLIC_URL
    route_prefix: str = "/dictionary"
    service_name: str = "dictionary"
    kong_version: str | None = None          # e.g. "3.9": provisioning refuses other releases
    counting: qos.Counting | None = None
    service_host: str = "app"                # the app's host as Kong reaches it

    @property
    def probe_name(self) -> str:
        """The route (and plugin prefix) provisioning owns to see changes reach Kong's workers."""
        return f"{self.service_name}-probe"

    @property
    def probe_keys(self) -> set[tuple[str, str]]:
        """The probe's entities: ours, never declared, so never deleted as stale."""
        return {("routes", self.probe_name), ("plugins", f"{self.probe_name}-termination"),
                ("plugins", f"{self.probe_name}-worker")}

    def consumer(self, username: str) -> Consumer:
        for consumer in self.consumers:
            if consumer.username == username:
                return consumer
        raise ConfigError(f"consumer '{username}' is not declared in the gateway file")


def load_gateway(path: str | Path | None = None, service_url: str | None = None,
                 public_url: str | None = None, redis_url: str | None = None) -> Gateway:
    """Read the gateway file and apply the overrides (flag, then environment, then file)."""
    source = Path(path or os.environ.get("GATEWAY_FILE") or DEFAULT_FILE)
    try:
        spec = yaml.safe_load(source.read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigError(f"cannot read gateway file {source}: {error.strerror}") from None
    except yaml.YAMLError as error:
        raise ConfigError(f"{source} is not valid YAML: {_first_line(error)}") from None
    if not isinstance(spec, dict):
        raise ConfigError(f"{source} must hold a mapping (service, route, plugins, ...)")
    url = service_url or os.environ.get("DICTIONARY_SERVICE_URL") or spec.get("service", {}).get(
        "url") or DEFAULT_SERVICE_URL
    try:
        gateway = build(spec, url, redis_url)
    except (KeyError, TypeError, AttributeError) as error:
        raise ConfigError(f"{source}: missing or malformed setting {error}") from None
    gateway.public_url = (public_url or os.environ.get("GATEWAY_PUBLIC_URL")
                          or spec.get("public_url") or DEFAULT_PUBLIC_URL).rstrip("/")
    return gateway


def build(spec: dict, service_url: str, redis_url: str | None = None) -> Gateway:
    """The entities implied by a parsed gateway spec."""
    tag = spec.get("tag", "managed-by-provision")
    declared = qos.plans(spec)
    counting = qos.counting(spec, redis_url)
    service, upstream, targets = _service(spec, service_url)
    route = _route(spec, service.key)
    consumers = _consumers(spec, declared)
    default = {**declared[qos.default_plan(spec, declared)], **counting.config(),
               "limit_by": "consumer"}
    entities = [*upstream, service, route, *_route_plugins(spec, route.key, default),
                *_closed_route(spec, route.key, service.key), *_global_plugins(spec, service.key)]
    entities += [Entity("consumers", c.username, {}) for c in consumers]
    entities += [_plugin(f"plan-{c.username}", "rate-limiting",
                         {**declared[c.plan], **counting.config()},
                         {"consumer": {"username": c.username}}) for c in consumers]
    for entity in entities:
        entity.body["tags"] = [tag]
    version = spec.get("kong_version")
    return Gateway(tag, entities, targets, consumers,
                   route_prefix=route.body["paths"][0].rstrip("/"), service_name=service.key,
                   kong_version=str(version) if version is not None else None,
                   counting=counting, service_host=urlsplit(service_url).hostname or "")


def _service(spec: dict, url: str) -> tuple[Entity, list[Entity], dict[str, list[str]]]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"service URL '{url}' must look like http://host:port[/path]")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    settings = {k: v for k, v in spec["service"].items() if k not in ("name", "url")}
    body = {"protocol": parts.scheme, "host": parts.hostname, "port": port,
            "path": parts.path or None, **settings}
    name = spec["service"]["name"]
    upstream_spec = spec.get("upstream")
    if not upstream_spec:
        return Entity("services", name, body), [], {}
    upstream_name = upstream_spec["name"]
    body["host"] = upstream_name
    upstream_body = {k: v for k, v in upstream_spec.items() if k != "name"}
    return (Entity("services", name, body), [Entity("upstreams", upstream_name, upstream_body)],
            {upstream_name: [f"{parts.hostname}:{port}"]})


def _route(spec: dict, service: str) -> Entity:
    settings = dict(spec["route"])
    name = settings.pop("name")
    settings.pop("closed_paths", None)
    return Entity("routes", name, {**settings, "service": {"name": service}})


def _closed_route(spec: dict, route: str, service: str) -> list[Entity]:
    """A route for paths under the dictionary's that Kong answers itself with a 404, so they
    never reach the app. Kong's router ranks routes by how many fields they match on, then
    by path length: with the same methods, the longer closed path wins."""
    paths = spec["route"].get("closed_paths") or []
    if not paths:
        return []
    name = f"{route}-closed"
    return [Entity("routes", name, {"paths": list(paths), "methods": spec["route"]["methods"],
                                    "service": {"name": service}, "strip_path": True}),
            _plugin(f"{name}-termination", "request-termination",
                    {"status_code": 404, "message": "Not found"}, {"route": {"name": name}})]


def _plugin(instance: str, name: str, config: dict, scope: dict) -> Entity:
    return Entity("plugins", instance, {"name": name, "config": dict(config or {}), **scope})


def _route_plugins(spec: dict, route: str, default_limits: dict) -> list[Entity]:
    """The route's plugins, its rate-limiting being the default plan's limits."""
    declared = dict(spec.get("plugins") or {})
    if "rate-limiting" in declared:
        raise ConfigError("declare limits as plans: the route's own rate-limiting plugin is "
                          "built from `default_plan`")
    declared["rate-limiting"] = default_limits
    return [_plugin(f"{route}-{name}", name, config, {"route": {"name": route}})
            for name, config in declared.items()]


def _global_plugins(spec: dict, prefix: str) -> list[Entity]:
    return [_plugin(f"{prefix}-{name}", name, config, {})
            for name, config in (spec.get("global_plugins") or {}).items()]


def _consumers(spec: dict, declared: dict[str, dict[str, int]]) -> list[Consumer]:
    consumers = []
    for item in spec.get("consumers") or []:
        if item["plan"] not in declared:
            raise ConfigError(f"consumer '{item['username']}' is on unknown plan "
                              f"'{item['plan']}' (plans: {', '.join(declared)})")
        consumers.append(Consumer(item["username"], item["plan"]))
    return consumers


def _first_line(error: Exception) -> str:
    return str(error).splitlines()[0] if str(error) else type(error).__name__
