"""Kong 3.9.3 entity schemas: services, routes, consumers, upstreams, targets, key-auth credentials.

Defaults and messages come from the recorded corpus (tests/data/kong-observed/) and the facts
dossier on Kong 3.9 (entity fields and defaults, upstreams and targets).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from .schema import Field, Json, is_ip, starts_with_slash, utf8_name

PROTOCOLS = ("grpc", "grpcs", "http", "https", "tcp", "tls", "tls_passthrough", "udp")
STREAM = ("tcp", "tls", "udp", "grpc", "grpcs")
TIMEOUT = Field("integer", 60000, between=(1, 2147483646))
TAGS = Field("set", elements=Field("string"))
HTTP_METHOD = re.compile(r"^[A-Z]+$")


@dataclass
class EntitySchema:
    """What the store needs to know about one entity kind."""

    name: str
    fields: dict[str, Field]
    endpoint_key: str | None
    unique: tuple[str, ...] = ()
    foreign: dict[str, str] = field(default_factory=dict)   # field -> referenced kind
    cascade: bool = True                                      # children deleted with the parent
    entity_check: Callable[[dict, bool], dict] | None = None
    has_updated_at: bool = True
    float_timestamps: bool = False


def _service_check(entity: dict, _: bool) -> dict:
    if entity.get("protocol") in STREAM and entity.get("path") is not None:
        return {"@entity": ["failed conditional validation given value of field 'protocol'"],
                "path": "value must be null"}
    return {}


def expand_service_url(data: dict) -> dict:
    """Turn the write-only `url` shorthand into protocol/host/port/path (Kong's rules)."""
    url = data.pop("url")
    parts = urlsplit(url)
    scheme = parts.scheme or "http"
    port = parts.port or (443 if scheme == "https" else 80)
    data.update(protocol=scheme, host=parts.hostname, port=port, path=parts.path or None)
    if not parts.hostname and parts.path and not parts.path.startswith("/"):
        data["path"] = parts.path
    return data


SERVICES = EntitySchema("services", {
    "id": Field("string", auto=True), "created_at": Field("integer", auto=True),
    "updated_at": Field("integer", auto=True),
    "name": Field("string", checks=(utf8_name,)),
    "retries": Field("integer", 5, between=(0, 32767)),
    "protocol": Field("string", "http", required=True, one_of=PROTOCOLS),
    "host": Field("string", required=True),
    "port": Field("integer", 80, required=True, between=(0, 65535)),
    "path": Field("string", checks=(starts_with_slash,)),
    "connect_timeout": TIMEOUT, "write_timeout": TIMEOUT, "read_timeout": TIMEOUT,
    "tags": TAGS, "client_certificate": Field("record"), "tls_verify": Field("boolean"),
    "tls_verify_depth": Field("integer"), "ca_certificates": Field("array"),
    "enabled": Field("boolean", True),
}, "name", unique=("name",), entity_check=_service_check)


def _route_path(value: str) -> str | None:
    if value.startswith("/") or value.startswith("~/"):
        return None
    return "should start with: / (fixed path) or ~/ (regex path)"


def _route_regex(value: str) -> str | None:
    if not value.startswith("~"):
        return None
    try:
        re.compile(value[1:])
    except re.error:
        return f"invalid regex: '{value[1:]}'"
    return None


def _http_method(value: str) -> str | None:
    return None if HTTP_METHOD.match(value) else f"invalid value: {value}"


def _route_headers(value: dict) -> str | None:
    if any(k.lower() == "host" for k in value):
        return "cannot contain 'host' header, which must be specified in the 'hosts' attribute"
    return None


def _route_check(entity: dict, _: bool) -> dict:
    protocols = entity.get("protocols") or []
    if set(protocols) & {"tcp", "tls", "tls_passthrough", "udp"}:
        errors: dict[str, Json] = {"@entity": [
            "must set one of 'sources', 'destinations', 'snis' when 'protocols' is "
            "'tcp', 'tls' or 'udp'"]}
        if entity.get("paths"):
            errors["paths"] = ("cannot set 'paths' when 'protocols' is 'tcp', 'tls', "
                               "'tls_passthrough' or 'udp'")
        return errors
    if not any(entity.get(k) for k in ("methods", "hosts", "headers", "paths", "snis")):
        return {"@entity": ["must set one of 'methods', 'hosts', 'headers', 'paths', 'snis' "
                            "when 'protocols' is 'https'"]}
    return {}


ROUTES = EntitySchema("routes", {
    "id": Field("string", auto=True), "created_at": Field("integer", auto=True),
    "updated_at": Field("integer", auto=True),
    "name": Field("string", checks=(utf8_name,)),
    "protocols": Field("set", ["http", "https"], elements=Field("string", one_of=PROTOCOLS)),
    "methods": Field("set", elements=Field("string", checks=(_http_method,))),
    "hosts": Field("array", elements=Field("string")),
    "paths": Field("array", elements=Field("string", checks=(_route_path, _route_regex))),
    "headers": Field("map", checks=(_route_headers,)),
    "https_redirect_status_code": Field("integer", 426, one_of=(426, 301, 302, 307, 308)),
    "regex_priority": Field("integer", 0), "strip_path": Field("boolean", True),
    "path_handling": Field("string", "v0", one_of=("v0", "v1")),
    "preserve_host": Field("boolean", False), "request_buffering": Field("boolean", True),
    "response_buffering": Field("boolean", True), "snis": Field("set"),
    "sources": Field("set"), "destinations": Field("set"), "tags": TAGS,
    "service": Field("foreign"),
}, "name", unique=("name",), foreign={"service": "services"}, cascade=False,
    entity_check=_route_check)


def _consumer_check(entity: dict, updating: bool) -> dict:
    if entity.get("username") or entity.get("custom_id"):
        return {}
    prefix = "when updating, " if updating else ""
    return {"@entity": [f"{prefix}at least one of these fields must be non-empty: "
                        "'custom_id', 'username'"]}


CONSUMERS = EntitySchema("consumers", {
    "id": Field("string", auto=True), "created_at": Field("integer", auto=True),
    "updated_at": Field("integer", auto=True),
    "username": Field("string", len_min=1), "custom_id": Field("string", len_min=1), "tags": TAGS,
}, "username", unique=("username", "custom_id"), entity_check=_consumer_check)

KEYAUTH_CREDENTIALS = EntitySchema("keyauth_credentials", {
    "id": Field("string", auto=True), "created_at": Field("integer", auto=True),
    "consumer": Field("foreign", required=True),
    "key": Field("string", len_min=1, auto=True), "tags": TAGS, "ttl": Field("integer"),
}, "key", unique=("key",), foreign={"consumer": "consumers"}, has_updated_at=False)


def _upstream_name(value: str) -> str | None:
    if is_ip(value):
        return f"Invalid name ('{value}'); no ip addresses allowed"
    if ":" in value:
        return f"Invalid name ('{value}'); no port allowed"
    return None


def _statuses(*codes: int) -> Field:
    return Field("array", list(codes), elements=Field("integer", between=(100, 999)))


def _counter(default: int = 0) -> Field:
    return Field("integer", default, between=(0, 255))


ACTIVE = Field("record", {}, fields={
    "type": Field("string", "http", one_of=("tcp", "http", "https", "grpc", "grpcs")),
    "timeout": Field("number", 1), "concurrency": Field("integer", 10),
    "http_path": Field("string", "/"), "https_sni": Field("string"),
    "https_verify_certificate": Field("boolean", True), "headers": Field("map"),
    "healthy": Field("record", {}, fields={
        "interval": Field("number", 0), "http_statuses": _statuses(200, 302),
        "successes": _counter()}),
    "unhealthy": Field("record", {}, fields={
        "interval": Field("number", 0),
        "http_statuses": _statuses(429, 404, 500, 501, 502, 503, 504, 505),
        "tcp_failures": _counter(), "timeouts": _counter(), "http_failures": _counter()}),
})
PASSIVE = Field("record", {}, fields={
    "type": Field("string", "http", one_of=("tcp", "http", "https", "grpc", "grpcs")),
    "healthy": Field("record", {}, fields={
        "http_statuses": _statuses(*range(200, 209), 226, *range(300, 309)),
        "successes": _counter()}),
    "unhealthy": Field("record", {}, fields={
        "http_statuses": _statuses(429, 500, 503), "tcp_failures": _counter(),
        "timeouts": _counter(), "http_failures": _counter()}),
})

UPSTREAMS = EntitySchema("upstreams", {
    "id": Field("string", auto=True), "created_at": Field("integer", auto=True),
    "updated_at": Field("integer", auto=True),
    "name": Field("string", required=True, checks=(_upstream_name,)),
    "algorithm": Field("string", "round-robin", one_of=(
        "consistent-hashing", "least-connections", "round-robin", "latency")),
    "hash_on": Field("string", "none"), "hash_fallback": Field("string", "none"),
    "hash_on_header": Field("string"), "hash_fallback_header": Field("string"),
    "hash_on_cookie": Field("string"), "hash_on_cookie_path": Field("string", "/"),
    "hash_on_query_arg": Field("string"), "hash_fallback_query_arg": Field("string"),
    "hash_on_uri_capture": Field("string"), "hash_fallback_uri_capture": Field("string"),
    "slots": Field("integer", 10000, between=(10, 65536)),
    "healthchecks": Field("record", {}, fields={
        "active": ACTIVE, "passive": PASSIVE, "threshold": Field("number", 0)}),
    "tags": TAGS, "host_header": Field("string"), "client_certificate": Field("record"),
    "use_srv_name": Field("boolean", False),
}, "name", unique=("name",))

TARGETS = EntitySchema("targets", {
    "id": Field("string", auto=True), "created_at": Field("number", auto=True),
    "updated_at": Field("number", auto=True),
    "upstream": Field("foreign", required=True),
    "target": Field("string", required=True), "weight": Field("integer", 100, between=(0, 65535)),
    "tags": TAGS,
}, "target", foreign={"upstream": "upstreams"}, float_timestamps=True)


def normalise_target(value: str) -> str:
    """A target without a port gets Kong's default port 8000."""
    _host, sep, port = value.rpartition(":")
    return value if sep and port.isdigit() and "]" not in port else f"{value}:8000"
