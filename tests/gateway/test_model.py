"""The declared gateway model: overrides, upstream/target derivation, plans."""

from __future__ import annotations

import pytest

from gateway.errors import ConfigError
from gateway.model import load_gateway
from gateway.plan import deep_merge, differences

from .conftest import ROOT


def by_key(gateway, kind: str, key: str):
    return next(e for e in gateway.entities if (e.kind, e.key) == (kind, key))


def test_flag_beats_environment_beats_file(monkeypatch) -> None:
    monkeypatch.setenv("DICTIONARY_SERVICE_URL", "http://from-env:7000")
    assert load_gateway(ROOT / "gateway.yaml").targets == {"dictionary-app": ["from-env:7000"]}
    flagged = load_gateway(ROOT / "gateway.yaml", "https://from-flag/api")
    assert flagged.targets == {"dictionary-app": ["from-flag:443"]}
    service = by_key(flagged, "services", "dictionary").body
    assert (service["protocol"], service["host"], service["path"]) == (
        "https", "dictionary-app", "/api")
    monkeypatch.delenv("DICTIONARY_SERVICE_URL")
    assert load_gateway(ROOT / "gateway.yaml").targets == {"dictionary-app": ["app:5000"]}


def test_read_timeout_exceeds_the_apps_deadline() -> None:
    service = by_key(load_gateway(ROOT / "gateway.yaml"), "services", "dictionary").body
    assert service["read_timeout"] > 8000


def test_every_entity_is_tagged_and_consumers_get_their_plan() -> None:
    gateway = load_gateway(ROOT / "gateway.yaml")
    assert all(e.body["tags"] == ["managed-by-provision"] for e in gateway.entities)
    plan = by_key(gateway, "plugins", "plan-demo").body
    assert plan["consumer"] == {"username": "demo"}
    assert plan["config"]["minute"] == 10


def test_bad_service_url_is_refused() -> None:
    with pytest.raises(ConfigError, match="must look like"):
        load_gateway(ROOT / "gateway.yaml", "app:5000")


def test_differences_ignore_list_order_and_int_float() -> None:
    assert differences({"a": [1, 2], "b": {"c": 10}}, {"a": [2, 1], "b": {"c": 10.0, "d": 1}}) == []
    assert differences({"a": [1], "b": {"c": 1}}, {"a": [1, 2], "b": {"c": 2}}) == ["a", "b.c"]


def test_deep_merge_keeps_nested_defaults() -> None:
    assert deep_merge({"x": {"a": 1, "b": 2}}, {"x": {"b": 3}}) == {"x": {"a": 1, "b": 3}}
