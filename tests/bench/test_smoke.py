"""The benchmark harness in smoke mode: every scenario starts, gives a row, and stops.

No speed is asserted here: the figures of a one-second run on a shared machine
mean nothing. What must hold is that the harness works and cleans up after itself.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bench.procs import alive
from bench.scenarios import groups
from tests.servers import REPO

# `make test` installs both (scripts/debian-packages.sh); run alone without them, the
# smoke run fails at once with the command to run instead of halfway through.
MISSING = [
    reason
    for absent, reason in (
        (shutil.which("wrk") is None, "wrk missing"),
        (not Path("/usr/share/wordnet/index.noun").exists(), "WordNet missing"),
    )
    if absent
]


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if MISSING:
        pytest.fail(f"{'; '.join(MISSING)}: make test-packages installs them")
    out = tmp_path_factory.mktemp("bench-smoke")
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--out", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=150,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return out


@pytest.mark.timeout(180)
def test_every_scenario_gives_one_row(smoke: Path) -> None:
    summary = json.loads((smoke / "latest.json").read_text())
    expected = [(s.name, s.server) for group in groups("unused") for s in group.scenarios]
    assert [(row["scenario"], row["server"]) for row in summary["rows"]] == expected
    assert all(row["rounds"] == 1 for row in summary["rows"])
    table = (smoke / "latest.md").read_text()
    for scenario, server in expected:
        assert f"| {scenario} | {server} |" in table
    assert "## Targets" in table
    assert "## The embedded dictionary in process" in table
    assert "| database size | < 40 MB | " in table
    assert "The gateway group was not run" in table


@pytest.mark.timeout(180)
def test_no_process_outlives_the_run(smoke: Path) -> None:
    pids = json.loads((smoke / "latest.json").read_text())["pids"]
    # Every group's gunicorn masters, their workers and the fake upstreams were recorded.
    assert len(pids) >= 2 * len(groups("unused"))
    assert [pid for pid in pids if alive(pid)] == []
