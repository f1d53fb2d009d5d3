"""The plans' promise at provisioning time: no key works before its plan, on any Kong worker;
the Redis password survives runs that cannot read it; the Kong release is checked; the curl
line names the proxy address users reach."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from tests.fakes.kong import KongDouble

from .conftest import LIVE_URL, PREFIX, ROOT, Kong
from .test_provision import DEMO, created_key

pytestmark = pytest.mark.skipif(bool(LIVE_URL), reason="not applicable against a real Kong: "
                                "these tests pin requests to one worker of the Kong double")
# Workers rebuild every second here: without provisioning's wait, a key created right after
# its plan would meet workers that do not have the plan yet.
SLOW_KONG = {"worker_state_update_frequency": 1.0, "db_update_frequency": 1.0,
             "kong_conf": ROOT / "kong.conf"}


@pytest.fixture
def kong() -> Iterator[Kong]:
    with KongDouble(**SLOW_KONG) as double:
        yield Kong(double.admin_url, double.proxy_url, double)


def limit_on_each_worker(kong: Kong, key: str) -> list[str | None]:
    """The minute limit the first request with `key` meets on each worker."""
    seen = []
    for index in range(len(kong.double.workers.workers)):
        kong.double.workers.pinned = index
        response = requests.get(kong.proxy_url + "/dictionary/hello", timeout=10,
                                headers={"apikey": key})
        seen.append(response.headers.get("X-RateLimit-Limit-Minute"))
    kong.double.workers.pinned = None
    return seen


def test_a_new_key_meets_its_plan_on_every_worker_at_once(kong, provision) -> None:
    run = provision()
    assert run.code == 0, run.err
    assert limit_on_each_worker(kong, created_key(run.out)) == ["10", "10"]
    assert "Every Kong worker serves the change: 2 worker(s) on 1 node(s)" in run.out


def test_apply_returns_once_a_plan_change_is_in_force(kong, provision, gateway_file) -> None:
    key = created_key(provision().out)

    def to_pro(spec: dict) -> None:
        spec["consumers"][0]["plan"] = "pro"
    run = provision("--json", file=gateway_file(to_pro))
    assert run.code == 0, run.err
    assert run.json["summary"]["update"] == 1
    assert len(run.json["propagation"]) == 1
    assert limit_on_each_worker(kong, key) == ["100", "100"]


def test_rotate_right_after_a_plan_change_waits_for_the_plan(kong, provision) -> None:
    provision()
    kong.patch(f"/plugins/plan-{DEMO}", {"config": {"minute": 100, "day": 50000}})
    run = provision("key", "rotate", DEMO)
    assert run.code == 0, run.err
    assert limit_on_each_worker(kong, created_key(run.out)) == ["100", "100"]


def test_rotate_refuses_a_consumer_without_its_plan(kong, provision) -> None:
    provision()
    kong.delete(f"/plugins/plan-{DEMO}")
    run = provision("key", "rotate", DEMO)
    assert run.code == 2
    assert "has no plan in Kong" in run.err


def test_nothing_to_write_means_nothing_to_wait_for(provision) -> None:
    provision()
    again = provision("--json")
    assert (again.json["writes"], again.json["propagation"]) == (0, [])


def test_the_probe_is_kept_by_apply_and_removed_by_destroy(kong, provision) -> None:
    provision()
    probe = f"/routes/{PREFIX}dictionary-probe"
    assert kong.get(probe) is not None
    assert provision("--json").json["summary"]["delete"] == 0
    provision("destroy")
    assert kong.get(probe) is None


def test_an_unreachable_proxy_waits_as_long_as_kong_needs(provision, kong) -> None:
    run = provision(proxy_url="http://127.0.0.1:9")      # the discard port: nothing listens
    assert run.code == 0, run.err
    assert "could not be reached to confirm the change" in run.out


def test_another_kong_release_is_refused(provision, gateway_file) -> None:
    def newer(spec: dict) -> None:
        spec["kong_version"] = "3.10"
    run = provision(file=gateway_file(newer))
    assert run.code == 2
    assert "written for Kong 3.10.x, and this Kong is 3.9.3" in run.err


def test_a_run_without_the_redis_password_keeps_kongs(kong, provision, monkeypatch,
                                                      redis) -> None:
    provision()
    monkeypatch.delenv("GATEWAY_REDIS_PASSWORD")
    run = provision("--json")
    assert run.json["writes"] == 0
    plan = kong.get(f"/plugins/plan-{DEMO}")
    assert plan["config"]["redis"]["password"] == redis.password


def test_a_new_redis_password_is_written(kong, provision, monkeypatch) -> None:
    provision()
    monkeypatch.setenv("GATEWAY_REDIS_PASSWORD", "rotated-secret")
    run = provision("--json")
    assert run.json["summary"]["update"] == 2        # the route's default and demo's plan
    assert "rotated-secret" not in run.out
    assert kong.get(f"/plugins/plan-{DEMO}")["config"]["redis"]["password"] == "rotated-secret"


def test_the_curl_line_names_the_public_proxy_address(provision, monkeypatch) -> None:
    monkeypatch.setenv("GATEWAY_PUBLIC_URL", "http://localhost:18000")
    first = provision("--show-key", DEMO)
    assert "http://localhost:18000/dictionary/hello" in first.out
    flagged = provision("--show-key", DEMO, "--public-url", "http://api.example.test")
    assert "http://api.example.test/dictionary/hello" in flagged.out


def test_the_key_is_created_only_after_every_worker_serves_its_plan(kong, provision) -> None:
    """The order of the writes: plan, probe generation (then the wait), and only then the key."""
    provision()
    log = [(method, target) for method, target, _ in kong.double.requests]
    plan = log.index(("PUT", f"/plugins/plan-{DEMO}"))
    key = log.index(("POST", f"/consumers/{DEMO}/key-auth"))
    probe = [i for i, entry in enumerate(log)
             if entry == ("PUT", f"/plugins/{PREFIX}dictionary-probe-termination")]
    assert any(plan < i < key for i in probe), log


def test_a_node_that_does_not_answer_is_named_not_waited_for(provision) -> None:
    """A second node that is not running yet (it will load the plans itself when it starts)."""
    run = provision("--proxy-url", "http://127.0.0.1:9")
    assert run.code == 0, run.err
    assert "2 worker(s) on 1 node(s)" in run.out
    assert "Not answering, so not waited for" in run.out
    assert "127.0.0.1:9" in run.out
