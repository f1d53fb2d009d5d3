"""The descriptions cannot drift from what answers: openapi.yaml (the gateway's) and the app's
part derived from it are valid OpenAPI 3.1 and agree with Flask's routes, with every status,
error code and header the app produces, with gateway.yaml, and with the recorded Kong corpus."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import schemathesis
import yaml
from flask import Flask
from openapi_spec_validator import validate

from dictionary import create_app, openapi
from dictionary.backends import base
from dictionary.backends.base import BackendError, Lookup, UpstreamUnavailable
from dictionary.config import Config

ROOT = Path(__file__).resolve().parents[2]
SOURCE = openapi.load_source()
APP_DOC = openapi.app_description(SOURCE)
METHODS = ("get", "head", "post", "put", "patch", "delete", "options", "trace")
CORPUS = ROOT / "tests" / "data" / "kong-observed"
HELLO = (ROOT / "tests" / "data" / "upstream" / "hello.json").read_bytes()
# Headers every response has and OpenAPI does not describe (RFC 9110 framing).
FRAMING = {"content-type", "content-length"}
# Kong facts not in the recorded corpus, taken from Kong's source at tag 3.9.3 instead.
FROM_KONG_SOURCE = {
    (400, "Request header or cookie too large"): "kong/error_handlers.lua:23,62-66",
    (414, "URI too long"): "kong/error_handlers.lua:21",
    # gateway.yaml's closed paths: request-termination with a message (its handler.lua, exit
    # with a table), checked against the double in tests/e2e
    (404, "Not found"): "kong/plugins/request-termination/handler.lua",
    "x-ratelimit-limit-day": "kong/plugins/rate-limiting/handler.lua:38",
    "x-ratelimit-remaining-day": "kong/plugins/rate-limiting/handler.lua:47",
}


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method.upper(), item[method]


def resolve(document: dict[str, Any], node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        node = openapi._resolve(document, node["$ref"])
    return node


APP_OPERATIONS = {(p, m): op for p, m, op in operations(APP_DOC)}


def responses(document: dict[str, Any], operation: dict[str, Any]) -> dict[int, dict]:
    return {int(code): resolve(document, r) for code, r in operation["responses"].items()}


def header_names(document: dict[str, Any], response: dict[str, Any]) -> set[str]:
    return {name.lower() for name in response.get("headers", {})}


# --- valid, and served ----------------------------------------------------------------------

def test_both_descriptions_are_valid_openapi_3_1() -> None:
    validate(SOURCE)
    validate(APP_DOC)
    assert SOURCE["openapi"] == APP_DOC["openapi"] == "3.1.0"


def test_the_app_serves_its_derived_description(make_app: Any) -> None:
    response = make_app().test_client().get("/-/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.get_json() == json.loads(json.dumps(APP_DOC))


def test_no_gateway_part_reaches_the_app_description() -> None:
    text = json.dumps(APP_DOC)
    for kong_only in ("x-gateway", "x-app", "apikey", "X-Kong-Request-Id", "KongError",
                      "X-RateLimit", "X-Cache-Status", "/dictionary"):
        assert kong_only not in text


def test_the_derivation_drops_marked_parts_and_applies_app_overrides() -> None:
    source = {
        "openapi": "3.1.0", "x-app": {"strip-prefix": "/p", "info": {"title": "a"},
                                      "servers": [], "paths": {}},
        "paths": {"/p/{x}": {"get": {"responses": {
            "200": {"description": "both", "x-app-description": "app",
                    "content": {"application/json": {"schema": {"oneOf": [
                        {"$ref": "#/components/schemas/A"}, {"$ref": "#/components/schemas/K"}]}},
                        "text/plain": {"x-gateway": True}}},
            "401": {"$ref": "#/components/responses/K"}}}}},
        "components": {"schemas": {"A": {"type": "object"}, "K": {"x-gateway": True},
                                   "Unused": {}},
                       "responses": {"K": {"x-gateway": True, "description": "kong"}},
                       "securitySchemes": {"k": {"type": "apiKey"}}},
    }
    derived = openapi.app_description(source)
    assert derived["paths"] == {"/{x}": {"get": {"responses": {"200": {
        "description": "app",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/A"}}}}}}}}
    assert derived["components"] == {"schemas": {"A": {"type": "object"}}}


# --- the app description against Flask and the gateway description ---------------------------

def test_flask_routes_are_the_described_operations(make_app: Any) -> None:
    app: Flask = make_app()
    routes = {(re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule), method)
              for rule in app.url_map.iter_rules() for method in rule.methods - {"OPTIONS"}}
    assert routes == {(path, method) for path, method, _ in operations(APP_DOC)}


def test_the_app_answers_a_subset_of_what_the_gateway_describes() -> None:
    """Same public operations; each app status and header is also the gateway's."""
    prefix = SOURCE["x-app"]["strip-prefix"]
    public = {(openapi._strip(p, prefix), m): op for p, m, op in operations(SOURCE)}
    app_ops = {(p, m): op for p, m, op in operations(APP_DOC) if not p.startswith("/-/")}
    assert set(public) == set(app_ops)
    for key, operation in app_ops.items():
        gateway = responses(SOURCE, public[key])
        for status, response in responses(APP_DOC, operation).items():
            assert status in gateway, key
            assert header_names(APP_DOC, response) <= header_names(SOURCE, gateway[status])


# --- the app description against what the app really answers ---------------------------------

class Stub:
    """A backend that answers (or fails) as told."""

    name = "upstream"

    def __init__(self) -> None:
        self.outcome: Lookup | Exception = Lookup("hello", HELLO, "upstream")
        self.is_ready = True

    def lookup(self, word: str) -> Lookup:
        if isinstance(self.outcome, Exception):
            raise self.outcome
        return self.outcome

    def ready(self) -> bool:
        return self.is_ready


def backend_errors() -> list[BackendError]:
    """One instance of every BackendError class, as the backends raise it (with Retry-After
    where dictionary/backends/upstream.py always sets one)."""
    found, pending = [], [BackendError]
    while pending:
        cls = pending.pop()
        pending += cls.__subclasses__()
        found.append(cls("detail", retry_after=30 if issubclass(cls, UpstreamUnavailable)
                         else None))
    return found


def sweep() -> list[tuple[str, str, Any]]:
    """(path template, method, response) for every answer the app can give, by construction."""
    answers: list[tuple[str, str, Any]] = []
    stub = Stub()
    app = create_app(Config(cache_ttl=0, cache_negative_ttl=0), backend=stub)
    app.logger.disabled = True
    client = app.test_client()

    def call(template: str, path: str) -> None:
        for method in ("GET", "HEAD"):
            answers.append((template, method, client.open(path, method=method)))

    call("/{word}", "/hello")                                      # found: miss
    stub.outcome = Lookup("geese", HELLO, "wordnet")
    call("/{word}", "/geese")
    stub.outcome = RuntimeError("stale now")
    answers.append(("/{word}", "GET", client.get("/geese")))       # expired + failing: stale
    stub.outcome = Lookup("qwerty", None, "upstream")
    call("/{word}", "/qwerty")
    call("/{word}", "/100%25")
    for error in [*backend_errors(), RuntimeError("a bug")]:
        stub.outcome = error
        call("/{word}", "/failing")
    call("/", "/")
    for path in ("/-/health", "/-/ready", "/-/metrics", "/-/openapi.json"):
        call(path, path)
    stub.is_ready = False
    call("/-/ready", "/-/ready")
    cached = create_app(Config(), backend=Stub()).test_client()
    cached.get("/hello")
    answers.append(("/{word}", "GET", cached.get("/hello")))       # hit
    return answers


@pytest.fixture(scope="module")
def observed() -> list[tuple[str, str, Any]]:
    return sweep()


def test_every_answer_is_described_with_its_headers_and_body(observed: list) -> None:
    schema = schemathesis.openapi.from_dict(APP_DOC)
    for path, method, response in observed:
        described = responses(APP_DOC, APP_OPERATIONS[(path, method)])
        assert response.status_code in described, (path, method, response.status_code)
        documented = described[response.status_code]
        sent = {name.lower() for name, _ in response.headers} - FRAMING
        assert sent <= header_names(APP_DOC, documented), (path, method, response.status_code)
        for name, header in documented.get("headers", {}).items():
            if resolve(APP_DOC, header).get("required"):
                assert name in response.headers, (path, method, response.status_code, name)
        schema[path][method].validate_response(response)


def test_every_described_status_and_header_is_answered(observed: list) -> None:
    seen: dict[tuple[str, str, int], set[str]] = defaultdict(set)
    for path, method, response in observed:
        seen[(path, method, response.status_code)] |= {k.lower() for k, _ in response.headers}
    for path, method, operation in operations(APP_DOC):
        for status, response in responses(APP_DOC, operation).items():
            if status == 500 and path != "/{word}":
                continue    # one catch-all handler for every route; its 500 is swept on /{word}
            assert (path, method, status) in seen, (path, method, status)
            missing = header_names(APP_DOC, response) - seen[(path, method, status)]
            assert not missing, (path, method, status, missing)


def test_every_error_code_is_described_and_produced(observed: list, make_app: Any) -> None:
    produced = {r.get_json()["error"] for path, m, r in observed
                if m == "GET" and r.status_code >= 400 and path != "/-/ready"}
    produced.add(make_app().test_client().post("/hello").get_json()["error"])
    described = set(APP_DOC["components"]["schemas"]["Error"]["properties"]["error"]["enum"])
    assert produced == described


# --- the gateway description against gateway.yaml and the recorded Kong ----------------------

def test_routes_plans_and_limits_match_gateway_yaml() -> None:
    spec = yaml.safe_load((ROOT / "gateway.yaml").read_text(encoding="utf-8"))
    route, plugins = spec["route"], spec["plugins"]
    described = defaultdict(set)
    for path, method, _ in operations(SOURCE):
        described[path].add(method)
    assert dict(described) == {"/dictionary/{word}": set(route["methods"]),
                               "/dictionary": set(route["methods"])}
    assert set(route["paths"]) == {"/dictionary/", "~/dictionary$"}
    text = SOURCE["info"]["description"]
    for plan, limits in spec["plans"].items():
        assert f"| {plan} | {limits['minute']} | {limits['day']} |" in text, plan
    assert f"the route's default plan ({spec['default_plan']})" in text
    for closed in route["closed_paths"]:
        assert f"Paths under\n`{closed}`" in text or f"`{closed}`" in text
    assert spec["rate_limiting"]["policy"] == "redis"
    assert "in one Redis shared by every Kong node" in text
    cache = plugins["proxy-cache"]
    codes = " and ".join(map(str, cache["response_code"]))
    assert f"caches {codes} answers to GET for {cache['cache_ttl']} s" in text
    size = plugins["request-size-limiting"]
    assert size["size_unit"] == "kilobytes"
    assert f"over {size['allowed_payload_size']} KiB" in json.dumps(SOURCE["components"])
    assert f"read timeout ({spec['service']['read_timeout'] // 1000} s)" in json.dumps(SOURCE)
    assert spec["plugins"]["key-auth"]["key_names"] == [
        SOURCE["components"]["securitySchemes"]["apikey"]["name"]]


def kong_made() -> list[tuple[int, dict[str, str], str]]:
    """(status, headers, body text) of every proxy answer Kong made itself in the corpus."""
    found = []
    for file in sorted(CORPUS.glob("*.json")):
        for scenario in json.loads(file.read_text(encoding="utf-8")).get("scenarios", []):
            for step in scenario["steps"]:
                request, response = step.get("request"), step.get("response")
                if request and request["api"] == "proxy" and "request_id" in str(
                        response.get("body_text")):
                    found.append((response["status"], response["headers"],
                                  response["body_text"]))
    return found


def described_kong_messages() -> set[tuple[int, str]]:
    pairs = set()
    for _, _, operation in operations(SOURCE):
        for status, response in responses(SOURCE, operation).items():
            media = response.get("content", {}).get("application/json", {})
            schema = resolve(SOURCE, media.get("schema", {}))
            for option in schema.get("oneOf", [schema]):
                option = resolve(SOURCE, option)
                if option.get("x-gateway"):
                    message = option["properties"]["message"]
                    for text in message.get("enum", [message.get("const")]):
                        pairs.add((status, text))
    return pairs


def test_kong_bodies_are_the_recorded_ones() -> None:
    recorded = {(status, body.split("\n")[0] if not body.startswith("{") else
                 json.loads(body)["message"]) for status, _, body in kong_made()}
    described = described_kong_messages()
    assert len(described) >= 10
    assert described - recorded == {k for k in FROM_KONG_SOURCE if isinstance(k, tuple)}


def test_recorded_kong_json_bodies_fit_the_description() -> None:
    schema = {**SOURCE["components"]["schemas"]["KongError"]}
    schema.pop("x-gateway")
    bodies = [json.loads(body.replace("<request-id>", "0" * 32)) for _, headers, body in
              kong_made() if headers.get("Content-Type") == "application/json; charset=utf-8"]
    assert len(bodies) >= 10
    for body in bodies:
        jsonschema.validate(body, schema)


def test_kong_headers_are_recorded_ones() -> None:
    recorded = set()
    for file in sorted(CORPUS.glob("*.json")):
        for scenario in json.loads(file.read_text(encoding="utf-8")).get("scenarios", []):
            for step in scenario["steps"]:
                if step.get("request", {}).get("api") == "proxy":
                    recorded |= {name.lower() for name in step["response"]["headers"]}
    described = {_header_name(component).lower()
                 for component, header in SOURCE["components"]["headers"].items()
                 if header.get("x-gateway")}
    assert described - recorded == {k for k in FROM_KONG_SOURCE if isinstance(k, str)}


def _header_name(component: str) -> str:
    """The wire name of a header component (`XRateLimitLimitDay` -> `X-RateLimit-Limit-Day`)."""
    for _, _, operation in operations(SOURCE):
        for response in responses(SOURCE, operation).values():
            for name, header in response.get("headers", {}).items():
                if header.get("$ref", "").endswith("/" + component):
                    return name
    raise AssertionError(f"header component {component} is not used")


def test_messages_of_the_app_envelope_are_the_backends() -> None:
    """The 404 body is the upstream's own, as the description says word for word."""
    schema = APP_DOC["components"]["schemas"]["WordNotFound"]["properties"]
    assert {k: v["const"] for k, v in schema.items()} == base.NOT_FOUND
