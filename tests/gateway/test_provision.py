"""scripts/provision.py against the Kong double (or a real Kong when KONG_ADMIN_URL is set)."""

from __future__ import annotations

import re

import pytest

from .conftest import PREFIX, TEST_TAG

SERVICE, ROUTE, DEMO = PREFIX + "dictionary", PREFIX + "dictionary", PREFIX + "demo"
KEY_LINE = re.compile(rf"API key for consumer '{DEMO}': ([A-Za-z0-9]{{32}})$", re.M)


def created_key(out: str) -> str:
    match = KEY_LINE.search(out)
    assert match, out
    return match.group(1)


def test_fresh_apply_creates_the_declared_gateway(kong, provision) -> None:
    run = provision()
    assert run.code == 0, run.err
    service = kong.get(f"/services/{SERVICE}")
    assert (service["read_timeout"], service["host"]) == (15000, PREFIX + "dictionary-app")
    route = kong.get(f"/routes/{ROUTE}")
    assert sorted(route["paths"]) == ["/dictionary/", "~/dictionary$"]
    assert sorted(route["methods"]) == ["GET", "HEAD"]
    assert route["strip_path"] is True
    key_auth = kong.get(f"/plugins/{ROUTE}-key-auth")["config"]
    assert (key_auth["hide_credentials"], key_auth["key_in_query"]) == (True, False)
    plan = kong.get(f"/plugins/plan-{DEMO}")
    assert (plan["config"]["minute"], plan["config"]["day"]) == (10, 1000)
    assert plan["consumer"]["id"] == kong.get(f"/consumers/{DEMO}")["id"]
    assert TEST_TAG in kong.get(f"/consumers/{DEMO}")["tags"]


def test_fresh_apply_prints_the_key_once_with_a_curl_command(provision) -> None:
    first = provision()
    key = created_key(first.out)
    assert f'curl -H "apikey: {key}" http://localhost:8000/dictionary/hello' in first.out
    second = provision()
    assert key not in second.out
    assert f"key show {DEMO}" in second.out


def test_show_key_prints_the_existing_key_on_request(provision) -> None:
    key = created_key(provision().out)
    again = provision("--show-key", DEMO)
    assert again.code == 0
    assert created_key(again.out) == key
    assert again.out.count(key) == 2  # the key line and the curl line, once each
    assert f"key show {DEMO}" not in again.out


def test_printed_key_belongs_to_the_consumer(kong, provision) -> None:
    key = created_key(provision().out)
    assert kong.get(f"/key-auths/{key}/consumer")["username"] == DEMO


def test_second_apply_makes_zero_writes(kong, provision) -> None:
    provision()
    mark = len(kong.double.requests) if kong.double else 0
    run = provision("--json")
    assert run.code == 0
    assert run.json["writes"] == 0
    assert run.json["summary"]["unchanged"] == len(run.json["changes"]) > 10
    if kong.double:
        assert [r for r in kong.double.requests[mark:] if r[0] != "GET"] == []


def test_second_apply_says_unchanged(provision) -> None:
    provision()
    assert "Kong already matches the declared gateway" in provision().out


def drift(kong) -> None:
    kong.patch(f"/services/{SERVICE}", {"read_timeout": 60000})
    kong.patch(f"/routes/{ROUTE}", {"preserve_host": True})             # an undeclared field
    kong.patch(f"/plugins/{ROUTE}-key-auth", {"config": {"key_in_query": True}})


def test_plan_shows_drift_without_writing(kong, provision) -> None:
    provision()
    drift(kong)
    run = provision("plan", "--json")
    changed = {c["entity"]: c["fields"] for c in run.json["changes"] if c["action"] == "update"}
    assert changed == {f"service {SERVICE}": ["read_timeout"], f"route {ROUTE}": ["preserve_host"],
                       f"plugin {ROUTE}-key-auth": ["config.key_in_query"]}
    assert run.json["writes"] == 0
    assert kong.get(f"/services/{SERVICE}")["read_timeout"] == 60000


def test_apply_repairs_drift(kong, provision) -> None:
    provision()
    drift(kong)
    assert provision().code == 0
    assert kong.get(f"/services/{SERVICE}")["read_timeout"] == 15000
    assert kong.get(f"/routes/{ROUTE}")["preserve_host"] is False
    assert kong.get(f"/plugins/{ROUTE}-key-auth")["config"]["key_in_query"] is False
    assert provision("plan", "--json").json["summary"]["update"] == 0


def test_a_removed_managed_entity_is_recreated(kong, provision) -> None:
    provision()
    kong.delete(f"/plugins/{ROUTE}-proxy-cache")
    assert "plugin " + ROUTE + "-proxy-cache: create" in provision("plan").out
    provision()
    assert kong.get(f"/plugins/{ROUTE}-proxy-cache")["config"]["cache_ttl"] == 300


def add_alice_and_raise_free(spec: dict) -> None:
    spec["consumers"].append({"username": PREFIX + "alice", "plan": "pro"})
    spec["plans"]["free"]["minute"] = 20


def test_changed_plans_and_new_consumer_converge(kong, provision, gateway_file) -> None:
    provision()
    changed = gateway_file(add_alice_and_raise_free)
    plan = provision("plan", "--json", file=changed).json["changes"]
    actions = {c["entity"]: (c["action"], c["fields"]) for c in plan if c["action"] != "unchanged"}
    assert actions[f"plugin plan-{DEMO}"] == ("update", ["config.minute"])
    assert actions[f"consumer {PREFIX}alice"] == ("create", [])
    run = provision(file=changed)
    assert f"API key for consumer '{PREFIX}alice'" in run.out
    assert kong.get(f"/plugins/plan-{PREFIX}alice")["config"]["minute"] == 100
    assert kong.get(f"/plugins/plan-{DEMO}")["config"]["minute"] == 20
    assert provision("--json", file=changed).json["writes"] == 0


def test_consumer_removed_from_file_is_removed_only_if_managed(kong, provision,
                                                               gateway_file) -> None:
    provision(file=gateway_file(add_alice_and_raise_free))
    kong.post("/consumers", {"username": PREFIX + "handmade"})
    assert provision().code == 0
    assert kong.get(f"/consumers/{PREFIX}alice") is None
    assert kong.get(f"/plugins/plan-{PREFIX}alice") is None
    assert kong.get(f"/consumers/{PREFIX}handmade") is not None
    kong.delete(f"/consumers/{PREFIX}handmade")


def test_destroy_removes_only_managed_entities(kong, provision) -> None:
    provision()
    kong.post("/services", {"name": PREFIX + "handmade", "host": "example.test"})
    run = provision("destroy")
    assert run.code == 0
    assert "consumer " + DEMO + ": delete" in run.out
    for path in (f"/services/{SERVICE}", f"/routes/{ROUTE}", f"/consumers/{DEMO}",
                 f"/plugins/plan-{DEMO}", f"/upstreams/{PREFIX}dictionary-app"):
        assert kong.get(path) is None, path
    assert kong.get(f"/services/{PREFIX}handmade") is not None
    kong.delete(f"/services/{PREFIX}handmade")


def test_key_rotate_replaces_the_key(kong, provision) -> None:
    old = created_key(provision().out)
    rotated = provision("key", "rotate", DEMO)
    new = created_key(rotated.out)
    assert new != old
    assert kong.get(f"/key-auths/{old}") is None
    assert kong.get(f"/key-auths/{new}/consumer")["username"] == DEMO
    assert created_key(provision("key", "show", DEMO).out) == new


def test_supplied_key_is_used(kong, provision) -> None:
    run = provision("--key", f"{DEMO}=my-own-demo-key-0001")
    assert "my-own-demo-key-0001" in run.out
    assert kong.get("/key-auths/my-own-demo-key-0001/consumer")["username"] == DEMO


def test_schema_violation_is_reported_with_kongs_message(provision, gateway_file) -> None:
    def bad_unit(spec: dict) -> None:
        spec["plugins"]["request-size-limiting"]["size_unit"] = "gigabytes"
    run = provision(file=gateway_file(bad_unit))
    assert run.code == 1
    assert run.err.strip().endswith("400 schema violation (config.size_unit: expected one of: "
                                    "megabytes, kilobytes, bytes)"), run.err
    assert len(run.err.strip().splitlines()) == 1
    assert "Traceback" not in run.err


def _plan(**limits: object):
    def edit(spec: dict) -> None:
        spec["plans"]["free"] = limits
    return edit


def _set(path: tuple[str, ...], value: object):
    def edit(spec: dict) -> None:
        node = spec
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
    return edit


BAD_QOS = {
    "undeclared plan": (_set(("consumers", 0, "plan"), "gold"), "unknown plan 'gold'"),
    "undeclared default plan": (_set(("default_plan",), "gold"), "default_plan 'gold'"),
    "zero limit": (_plan(minute=0, day=1000), "must be a positive whole number, not 0"),
    "negative limit": (_plan(minute=-5), "must be a positive whole number, not -5"),
    "fractional limit": (_plan(minute=2.5), "must be a positive whole number, not 2.5"),
    "unknown window": (_plan(fortnight=10), "unknown window 'fortnight'"),
    "shrinking limits": (_plan(minute=10, day=5), "day limit (5) cannot be lower than the "
                                                  "minute limit (10)"),
    "unknown policy": (_set(("rate_limiting", "policy"), "memcached"), "is not one of"),
    "unresolvable redis": (_set(("rate_limiting", "redis_url"), "redis://no-such-host.invalid:6379"),
                           "does not resolve"),
    "password in redis url": (_set(("rate_limiting", "redis_url"), "redis://:pw@127.0.0.1:6379"),
                              "carries credentials"),
}


@pytest.mark.parametrize("case", BAD_QOS, ids=list(BAD_QOS))
def test_bad_qos_input_is_one_line_and_exit_2_before_any_write(kong, provision, gateway_file,
                                                               case) -> None:
    edit, message = BAD_QOS[case]
    mark = len(kong.double.requests) if kong.double else 0
    run = provision(file=gateway_file(edit))
    assert run.code == 2, run.err
    assert message in run.err
    assert len(run.err.strip().splitlines()) == 1
    assert "password" not in case or ":pw@" not in run.err
    if kong.double:
        assert [r for r in kong.double.requests[mark:] if r[0] != "GET"] == []


def test_conflict_is_reported_without_leaking_the_key(kong, provision) -> None:
    kong.post("/consumers", {"username": PREFIX + "other"})
    kong.post(f"/consumers/{PREFIX}other/key-auth", {"key": "already-taken-key-123"})
    run = provision("--key", f"{DEMO}=already-taken-key-123")
    assert run.code == 1
    assert "409 UNIQUE violation" in run.err
    assert "already-taken-key-123" not in run.err + run.out
    assert "<redacted>" in run.err
    kong.delete(f"/consumers/{PREFIX}other")


@pytest.mark.parametrize("args", [("key", "show", "nobody"), ("key", "rotate", "nobody")])
def test_key_commands_refuse_unknown_consumers(provision, args) -> None:
    run = provision(*args)
    assert run.code == 2
    assert "does not exist in Kong" in run.err
