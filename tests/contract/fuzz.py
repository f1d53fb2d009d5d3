"""Generated-input testing against a running server, driven by an OpenAPI description.

schemathesis turns the description into Hypothesis strategies (schema-valid and schema-breaking
requests); Hypothesis draws them from a fixed seed, so a run is reproducible. Every response is
checked against the description with schemathesis's conformance checks. Failures are collected,
not raised at the first one, so a run always ends with its figures: requests tried, responses
that broke the description, 5xx the description does not allow, tracebacks in the app's log.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hypothesis
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import Case, GenerationMode
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi import checks

# Checks of the response against the description. Left out, each for a reason written into the
# description: `not_a_server_error` (the described 502/503/504 are the contract when the
# dictionary fails; undescribed 5xx are counted below), `positive_data_acceptance` (the word's
# schema admits any string: which strings are words is decided by Unicode categories, and a
# refused word is the described 400).
CHECKS = [
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
    checks.negative_data_rejection,
]
SEED = int(os.environ.get("FUZZ_SEED", "20261201"))
# `make fuzz` multiplies every scenario's request count (at least 20,000 requests in all).
SCALE = max(1, int(os.environ.get("FUZZ_SCALE", "1")))
TRACEBACK = "Traceback (most recent call last)"
KEEP = 5  # failures kept in full for the report
FIGURES: list[str] = []  # every scenario's line, printed at the end of the pytest run


@dataclass
class Tally:
    """What one scenario saw; `line()` is the figure printed by the test."""

    name: str
    tried: int = 0
    broke: int = 0
    undescribed_5xx: int = 0
    tracebacks: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)

    def record(self, case: Case, response: requests.Response) -> None:
        self.tried += 1
        self.statuses[response.status_code] += 1
        described = set(case.operation.responses.status_codes)
        if response.status_code >= 500 and str(response.status_code) not in described:
            self.undescribed_5xx += 1
        try:
            case.validate_response(response, checks=CHECKS)
        except FailureGroup as group:
            self.fail(str(group))

    def fail(self, report: str) -> None:
        self.broke += 1
        if len(self.failures) < KEEP:
            self.failures.append(report)

    def count_tracebacks(self, log: Path) -> None:
        self.tracebacks = log.read_text(errors="replace").count(TRACEBACK)

    def line(self) -> str:
        statuses = " ".join(f"{code}x{n}" for code, n in sorted(self.statuses.items()))
        return (f"{self.name}: {self.tried} requests tried, {self.broke} broke the description, "
                f"{self.undescribed_5xx} 5xx the description does not allow, {self.tracebacks} "
                f"tracebacks in the app's log (seed {SEED}; statuses {statuses})")

    def assert_clean(self, minimum: int) -> None:
        FIGURES.append(self.line())
        assert self.tried >= minimum, self.line()
        assert (self.broke, self.undescribed_5xx, self.tracebacks) == (0, 0, 0), (
            self.line() + "\n\n" + "\n\n".join(self.failures))


Steer = Callable[[Case, Any], None]


def explore(schema: schemathesis.BaseSchema, base_url: str, tally: Tally, examples: int,
            steer: Steer | None = None, knobs: st.SearchStrategy[Any] | None = None) -> Tally:
    """Send `examples` generated requests (schema-valid and schema-breaking) to `base_url`.

    `knobs` draws, from the same seed, a value that `steer` applies before each request (which
    key to send, how the fake upstream should fail), so the whole run is reproducible."""
    session = requests.Session()
    cases = st.one_of(schema.as_strategy(GenerationMode.POSITIVE),
                      schema.as_strategy(GenerationMode.NEGATIVE))

    @settings(max_examples=examples, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck), derandomize=False)
    @hypothesis.seed(SEED)
    @given(case=cases, knob=knobs if knobs is not None else st.none())
    def run(case: Case, knob: Any) -> None:
        if steer is not None:
            steer(case, knob)
        try:
            response = case.call(base_url=base_url, session=session, timeout=30)
        except requests.RequestException as exc:
            tally.tried += 1
            tally.fail(f"{case.method} {case.formatted_path}: no answer ({exc!r})")
            return
        tally.record(case, response)

    run()
    return tally
