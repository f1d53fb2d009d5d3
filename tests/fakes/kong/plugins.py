"""Plugin entity schema and the config schemas of the bundled plugins the project uses.

key-auth, rate-limiting, proxy-cache, request-size-limiting, prometheus, request-termination and
post-function are modelled with their checks (post-function's Lua is not parsed); acl, cors,
correlation-id and response-transformer with their defaults only (the corpus creates them).
"""

from __future__ import annotations

import copy
import itertools
import re

from .entities import TAGS, EntitySchema
from .schema import Field, Json, utf8_name

HTTP_PROTOCOLS = ("grpc", "grpcs", "http", "https")
HEADER_NAME = re.compile(r"^[A-Za-z0-9_-]+$")
WINDOWS = ("second", "minute", "hour", "day", "month", "year")
BUNDLED = ("jwt", "acl", "correlation-id", "cors", "oauth2", "tcp-log", "udp-log", "file-log",
           "http-log", "key-auth", "hmac-auth", "basic-auth", "ip-restriction",
           "request-transformer", "response-transformer", "request-size-limiting",
           "rate-limiting", "response-ratelimiting", "syslog", "loggly", "datadog", "ldap-auth",
           "statsd", "bot-detection", "aws-lambda", "request-termination", "prometheus",
           "proxy-cache", "session", "acme", "grpc-gateway", "grpc-web", "pre-function",
           "post-function", "azure-functions", "zipkin", "opentelemetry", "ai-proxy",
           "ai-prompt-decorator", "ai-prompt-template", "ai-prompt-guard",
           "ai-request-transformer", "ai-response-transformer", "standard-webhooks", "redirect")
NO_CONSUMER = ("key-auth", "acl", "post-function")   # plugins whose schema forbids consumer scope


def _header_name(value: str) -> str | None:
    if HEADER_NAME.match(value):
        return None
    return (f"bad header name '{value}', allowed characters are A-Z, a-z, 0-9, '_', and '-'")


def _bool(default: bool) -> Field:
    return Field("boolean", default)


KEY_AUTH = {
    "key_names": Field("array", ["apikey"], elements=Field("string", checks=(_header_name,))),
    "hide_credentials": _bool(False), "anonymous": Field("string"),
    "key_in_header": _bool(True), "key_in_query": _bool(True), "key_in_body": _bool(False),
    "run_on_preflight": _bool(True), "realm": Field("string"),
}
REDIS = Field("record", {}, fields={
    "host": Field("string"), "port": Field("integer", 6379), "timeout": Field("integer", 2000),
    "username": Field("string"), "password": Field("string"), "database": Field("integer", 0),
    "ssl": _bool(False), "ssl_verify": _bool(False), "server_name": Field("string"),
})
RATE_LIMITING = {
    **{w: Field("number", gt=0) for w in WINDOWS},
    "limit_by": Field("string", "consumer", one_of=(
        "consumer", "credential", "ip", "service", "header", "path")),
    "header_name": Field("string"), "path": Field("string"),
    "policy": Field("string", "local", one_of=("local", "cluster", "redis")),
    "fault_tolerant": _bool(True), "redis": REDIS, "hide_client_headers": _bool(False),
    "error_code": Field("number", 429), "error_message": Field("string", "API rate limit exceeded"),
    "sync_rate": Field("number", -1),
}
PROXY_CACHE = {
    "response_code": Field("array", [200, 301, 404], elements=Field("integer", between=(100, 900))),
    "request_method": Field("array", ["GET", "HEAD"], elements=Field(
        "string", one_of=("HEAD", "GET", "POST", "PATCH", "PUT"))),
    "content_type": Field("array", ["text/plain", "application/json"], elements=Field("string")),
    "cache_ttl": Field("integer", 300, gt=0), "strategy": Field(
        "string", required=True, one_of=("memory",)),
    "cache_control": _bool(False), "ignore_uri_case": _bool(False),
    "storage_ttl": Field("integer"),
    "memory": Field("record", {}, fields={"dictionary_name": Field("string", "kong_db_cache")}),
    "vary_query_params": Field("array"), "vary_headers": Field("array"),
    "response_headers": Field("record", {}, fields={
        "age": _bool(True), "X-Cache-Status": _bool(True), "X-Cache-Key": _bool(True)}),
}
REQUEST_SIZE_LIMITING = {
    "allowed_payload_size": Field("integer", 128),
    "size_unit": Field("string", "megabytes", one_of=("megabytes", "kilobytes", "bytes")),
    "require_content_length": _bool(False),
}
PROMETHEUS = {name: _bool(False) for name in (
    "per_consumer", "status_code_metrics", "ai_metrics", "latency_metrics", "bandwidth_metrics",
    "upstream_health_metrics")}
CORS_METHODS = ["GET", "HEAD", "PUT", "PATCH", "POST", "DELETE", "OPTIONS", "TRACE", "CONNECT"]
CORS = {"origins": Field("array"), "methods": Field("array", CORS_METHODS),
        "headers": Field("array"), "exposed_headers": Field("array"),
        "max_age": Field("number"), "credentials": _bool(False),
        "private_network": _bool(False), "preflight_continue": _bool(False)}
CORRELATION_ID = {"header_name": Field("string", "Kong-Request-ID"),
                  "generator": Field("string", "uuid#counter", one_of=(
                      "uuid", "uuid#counter", "tracker")),
                  "echo_downstream": _bool(False)}
ACL = {"allow": Field("array"), "deny": Field("array"),
       "hide_groups_header": _bool(False), "always_use_authenticated_groups": _bool(False)}


REQUEST_TERMINATION = {
    "status_code": Field("integer", 503, required=True, between=(100, 599)),
    "message": Field("string"), "content_type": Field("string"), "body": Field("string"),
    "echo": _bool(False), "trigger": Field("string", checks=(_header_name,)),
}
FUNCTION_PHASES = ("certificate", "rewrite", "access", "header_filter", "body_filter", "log")
POST_FUNCTION = {phase: Field("array", [], elements=Field("string")) for phase in FUNCTION_PHASES}


def _transform(*names: str) -> Field:
    return Field("record", {}, fields={n: Field("array", []) for n in names})


RESPONSE_TRANSFORMER = {
    "remove": _transform("headers", "json"), "rename": _transform("headers", "json"),
    "replace": _transform("headers", "json", "json_types"),
    "add": _transform("headers", "json", "json_types"),
    "append": _transform("headers", "json", "json_types"),
}
CONFIGS: dict[str, dict[str, Field]] = {
    "key-auth": KEY_AUTH, "rate-limiting": RATE_LIMITING, "proxy-cache": PROXY_CACHE,
    "request-size-limiting": REQUEST_SIZE_LIMITING, "prometheus": PROMETHEUS, "cors": CORS,
    "correlation-id": CORRELATION_ID, "acl": ACL, "response-transformer": RESPONSE_TRANSFORMER,
    "request-termination": REQUEST_TERMINATION, "post-function": POST_FUNCTION,
}


def _rate_limiting_check(config: dict) -> dict:
    limits = [(w, config.get(w)) for w in WINDOWS if config.get(w) is not None]
    if not limits:
        return {"@entity": ["at least one of these fields must be non-empty: " + ", ".join(
            f"'config.{w}'" for w in WINDOWS)]}
    for (small, low), (big, high) in itertools.pairwise(limits):
        if high < low:
            return {"config": f"The limit for {big}({float(high)}) cannot be lower than "
                              f"the limit for {small}({float(low)})"}
    return _rate_limiting_conditionals(config)


def _rate_limiting_conditionals(config: dict) -> dict:
    if config.get("limit_by") == "header" and not config.get("header_name"):
        return {"@entity": ["failed conditional validation given value of field 'config.limit_by'"],
                "config": {"header_name": "required field missing"}}
    if config.get("policy") == "redis" and not (config.get("redis") or {}).get("host"):
        return {"@entity": ["failed conditional validation given value of field 'config.policy'"],
                "config": {"redis": {"host": "required field missing"}}}
    sync_rate = config.get("sync_rate", -1)
    if sync_rate != -1 and config.get("policy") != "redis":
        return {"config": "sync_rate can only be used with the redis policy"}
    if sync_rate != -1 and sync_rate < 0.02:
        return {"config": "sync_rate must be greater than 0.02, or -1 to disable"}
    return {}


def _request_termination_check(config: dict) -> dict:
    """kong/plugins/request-termination/schema.lua 3.9.3, custom_validator."""
    given = {k for k in ("message", "content_type", "body") if config.get(k)}
    if "message" in given and given & {"content_type", "body"}:
        return {"config": "message cannot be used with content_type or body"}
    if "content_type" in given and "body" not in given:
        return {"config": "content_type requires a body"}
    if config.get("echo") and given & {"content_type", "body"}:
        return {"config": "echo cannot be used with content_type and body"}
    return {}


def _post_function_check(config: dict) -> dict:
    """kong/plugins/pre-function/_schema.lua 3.9.3: at least one phase has code."""
    if any(config.get(phase) for phase in FUNCTION_PHASES):
        return {}
    return {"@entity": ["at least one of these fields must be non-empty: " + ", ".join(
        f"'config.{phase}'" for phase in FUNCTION_PHASES)]}


def _acl_check(config: dict) -> dict:
    given = [k for k in ("allow", "deny") if config.get(k)]
    if len(given) == 1:
        return {}
    exactly = "exactly one of these fields must be non-empty: 'config.allow', 'config.deny'"
    if given:
        return {"@entity": [exactly]}
    return {"@entity": [exactly, "at least one of these fields must be non-empty: "
                                 "'config.allow', 'config.deny'"]}


CONFIG_CHECKS = {"rate-limiting": _rate_limiting_check, "acl": _acl_check,
                 "request-termination": _request_termination_check,
                 "post-function": _post_function_check}


def config_entity_check(name: str, config: dict) -> dict:
    """Plugin-level checks that look at several config fields at once."""
    check = CONFIG_CHECKS.get(name)
    return check(config) if check else {}


def config_fields(name: str) -> dict[str, Field] | None:
    """The config schema of a plugin, or None when the double accepts its config as given."""
    return CONFIGS.get(name)


def with_shorthands(name: str, config: Json) -> Json:
    """Kong echoes deprecated `redis_*` shorthand fields next to rate-limiting's `redis` record."""
    if name != "rate-limiting" or not isinstance(config, dict):
        return config
    out = copy.deepcopy(config)
    for key, value in (config.get("redis") or {}).items():
        out[f"redis_{key}"] = value
    return out


def _plugin_name(value: str) -> str | None:
    if value in BUNDLED:
        return None
    return f"plugin '{value}' not enabled; add it to the 'plugins' configuration property"


PLUGINS = EntitySchema("plugins", {
    "id": Field("string", auto=True), "created_at": Field("integer", auto=True),
    "updated_at": Field("integer", auto=True),
    "name": Field("string", required=True, checks=(_plugin_name,)),
    "instance_name": Field("string", checks=(utf8_name,)),
    "route": Field("foreign"), "service": Field("foreign"), "consumer": Field("foreign"),
    "config": Field("map"),
    "protocols": Field("set", list(HTTP_PROTOCOLS),
                       elements=Field("string", one_of=HTTP_PROTOCOLS)),
    "enabled": Field("boolean", True), "tags": TAGS,
}, "instance_name", unique=("instance_name",),
    foreign={"route": "routes", "service": "services", "consumer": "consumers"})
