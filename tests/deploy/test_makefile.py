"""`make up`, `make down` and `make logs` wrap Compose the way the README says.

`make -n` prints the commands without running them, so this needs make but no Docker.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.deploy import support

COMPOSE = "docker compose"


def dry_run(*args: str) -> list[str]:
    """The commands `make -n ARGS` would run, with Compose v2 as the Compose command."""
    make = shutil.which("make")
    if make is None:
        pytest.fail("make is missing")
    result = subprocess.run(
        [make, "-n", "-C", str(support.REPO), f"COMPOSE={COMPOSE}", *args],
        capture_output=True, text=True, timeout=30, check=False,
    )
    assert result.returncode == 0, result.stderr
    return [line for line in result.stdout.splitlines() if not line.startswith("make")]


def test_up_starts_detached_and_shows_the_key() -> None:
    """The one command, then the provisioner's output (the demo key and a curl line)."""
    assert dry_run("up") == [f"{COMPOSE} up -d --build", f"{COMPOSE} logs -f provision"]


def test_down_keeps_the_data() -> None:
    """`make down` never deletes volumes; resetting is an explicit `down -v`."""
    assert dry_run("down") == [f"{COMPOSE} down"]


def test_logs_follows_one_or_all_services() -> None:
    """Every service by default, one with SERVICE=."""
    assert dry_run("logs") == [f"{COMPOSE} logs -f "]
    assert dry_run("logs", "SERVICE=kong") == [f"{COMPOSE} logs -f kong"]
