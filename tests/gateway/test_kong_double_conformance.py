"""The Kong double against the recorded Kong 3.9.3 corpus: every Admin API step it supports.

Each scenario is replayed from an empty double; status, body and the recorded admin headers are
compared after the corpus' normalisation. Steps where the double deliberately differs are listed in
DIFFERENCES with the reason, and the test checks that they still differ (so the list stays true).
Bodies the recorder summarised (GET /, /status) are compared by status only.
Proxy steps are replayed by test_kong_proxy_conformance.py.
"""

from __future__ import annotations

import json
import time

import pytest

from tests.fakes.kong import KongDouble

from .corpus import Labels, Verdicts, load, plugin_summary, send

GROUPS = ("services", "consumers", "key-auth-credentials", "plugins", "routes", "content-types",
          "admin-root", "upstreams-targets")
NOT_MODELLED = "not modelled by the double (not used by provisioning)"
DIFFERENCES: dict[tuple[str, int], str] = {
    ("routes/crud-and-validation", 12): "regex errors quote PCRE2's message; Python's re differs",
    ("admin-root/root-status-and-errors", 5): "GET /status?unit: " + NOT_MODELLED,
    ("admin-root/root-status-and-errors", 21): "/endpoints: " + NOT_MODELLED,
    **{("admin-root/root-status-and-errors", n): "/schemas: " + NOT_MODELLED
       for n in range(23, 34)},
    **{("upstreams-targets/active-healthchecks", n): "health checker: " + NOT_MODELLED
       for n in (16, 17)},
    ("upstreams-targets/no-healthy-target", 10): "health checker: " + NOT_MODELLED,
    ("upstreams-targets/no-healthy-target", 11): "health view: " + NOT_MODELLED,
    **{("upstreams-targets/manual-health-marking", n): "health view/marking: " + NOT_MODELLED
       for n in (6, 8, 9, 11)},
}
SUMMARIES = {"plugin list reduced to (name, scope) tuples, sorted by recorder": plugin_summary}


def scenarios() -> list[tuple[str, dict]]:
    return [(f"{group}/{sc['name']}", sc) for group in GROUPS for sc in load(group)]


@pytest.fixture(scope="module")
def kong():
    with KongDouble() as double:
        yield double


def _admin_steps(scenario: dict) -> list[dict]:
    return [s for s in scenario["steps"] if s.get("request", {}).get("api") == "admin"
            or s.get("action") == "sleep"]


def _expected_body(response: dict) -> tuple[str, object] | None:
    if "body" in response:
        return "body", response["body"]
    if "body_summary" in response and response["body_summary"]["_summary_of"] in SUMMARIES:
        return "summary", response["body_summary"]
    if "body_text" in response:
        return "text", response["body_text"]
    return None


def _actual_body(kind: str, labels: Labels, resp, expected: dict) -> object:
    if kind == "text":
        return labels.text(resp.text)
    body = resp.json() if resp.content else None
    if kind == "summary":
        summary = labels.value(SUMMARIES[expected["_summary_of"]](body))
        return {"_summary_of": expected["_summary_of"], **summary}
    normalised = labels.value(body)
    if expected.get("data_sorted_by_recorder") and isinstance(normalised.get("data"), list):
        normalised["data"] = sorted(normalised["data"],
                                    key=lambda x: json.dumps(x, sort_keys=True))
    return normalised


def _header_mismatches(labels: Labels, resp, expected: dict) -> list[str]:
    problems = []
    for name, value in expected.get("headers", {}).items():
        got = resp.headers.get(name)
        got = "<ms>" if name.lower() == "x-kong-admin-latency" and got is not None else got
        got = labels.text(got) if isinstance(got, str) else got
        if got != value:
            problems.append(f"header {name}: {got!r} != {value!r}")
    return problems


def differences(got: object, want: object, where: str = "") -> list[str]:
    """Readable paths where two JSON values differ."""
    if isinstance(got, dict) and isinstance(want, dict):
        return [d for k in sorted(set(got) | set(want))
                for d in differences(got.get(k, "<absent>"), want.get(k, "<absent>"),
                                     f"{where}.{k}")]
    if isinstance(got, list) and isinstance(want, list) and len(got) == len(want):
        return [d for i, (a, b) in enumerate(zip(got, want, strict=True))
                for d in differences(a, b, f"{where}[{i}]")]
    return [] if got == want else [f"{where or '.'}: {json.dumps(got)} != {json.dumps(want)}"]


def replay_step(base_url: str, labels: Labels, step: dict) -> list[str]:
    """Send one step and return what differs from the recording (empty list: conformant)."""
    response = step["response"]
    resp = send(base_url, labels, step["request"])
    body = resp.json() if resp.content and "json" in resp.headers.get("Content-Type", "") else None
    labels.adopt(response.get("body"), body)
    labels.learn(body)
    problems = [] if resp.status_code == response["status"] else [
        f"status {resp.status_code} != {response['status']}"]
    expected = _expected_body(response)
    if expected is not None:
        actual = _actual_body(expected[0], labels, resp, response if expected[0] != "summary"
                              else expected[1])
        if actual != expected[1]:
            problems.append("body " + "; ".join(differences(actual, expected[1]))[:800])
    return problems + _header_mismatches(labels, resp, response)


@pytest.mark.parametrize(("name", "scenario"), scenarios(), ids=[n for n, _ in scenarios()])
def test_double_replays_recorded_admin_steps(kong: KongDouble, name: str, scenario: dict) -> None:
    kong.reset()
    labels, verdicts = Labels(), Verdicts()
    for step in _admin_steps(scenario):
        if step.get("action") == "sleep":
            time.sleep(step["seconds"])
            continue
        problems = replay_step(kong.admin_url, labels, step)
        title = f"#{step['n']} {step['request']['method']} {step['request']['path']}"
        verdicts.judge(title, problems, (name, step["n"]) in DIFFERENCES)
    assert not verdicts.lines, "\n".join(verdicts.lines)


def test_every_listed_difference_names_a_replayed_step() -> None:
    known = {(name, s["n"]) for name, sc in scenarios() for s in _admin_steps(sc) if "n" in s}
    assert set(DIFFERENCES) <= known
