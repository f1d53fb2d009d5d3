"""`make test`, `make run` and `make bench` get the Debian packages they need, or stop at once.

Each case runs the real Makefile and scripts/debian-packages.sh with a PATH of stubs: `id`
says who we are, `sudo` works or not, `apt-get` records its arguments, and a package is
present when its command is on that PATH (wordnet-base: when WORDNET_SOURCE has data.noun).
Nothing is installed for real; `make -n` shows what would run without running it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.deploy import support

TEST_PACKAGES = ["wordnet-base", "docker-compose", "wrk", "redis-server", "socat"]
UPDATE = "apt-get update -qq"
INSTALL = "env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends"
# `sudo -n COMMAND` runs COMMAND; sudo that wants a password fails without asking (`exit 1`).
PASSWORDLESS_SUDO = '[ "$1" = -n ] && shift && [ "$1" = true ] || exec "$@"'


@dataclass
class Machine:
    """A fake machine: its PATH of stubs, its WordNet folder, and apt-get's record."""

    bin: Path
    wordnet: Path
    apt_log: Path

    def stub(self, name: str, script: str) -> None:
        path = self.bin / name
        path.write_text(f"#!/bin/sh\n{script}\n")
        path.chmod(0o755)

    def has(self, *packages: str) -> None:
        for package in packages:
            if package == "wordnet-base":
                (self.wordnet / "data.noun").write_text("")
            else:
                self.stub(package, "exit 0")

    def make(self, *args: str, uid: int = 0, sudo: bool = False) -> subprocess.CompletedProcess:
        self.stub("id", f"echo {uid}")
        self.stub("sudo", PASSWORDLESS_SUDO if sudo else "exit 1")
        make = shutil.which("make")
        if make is None:
            pytest.fail("make is missing")
        return subprocess.run(
            [make, "--no-print-directory", "-C", str(support.REPO), *args,
             f"WORDNET_SOURCE={self.wordnet}", f"VENV={self.bin.parent / 'venv'}"],
            env={"PATH": str(self.bin), "HOME": str(self.bin.parent)},
            capture_output=True, text=True, timeout=30, check=False,
        )

    def apt_calls(self) -> list[str]:
        return self.apt_log.read_text().splitlines() if self.apt_log.exists() else []


@pytest.fixture
def machine(tmp_path: Path) -> Machine:
    fake = Machine(tmp_path / "bin", tmp_path / "wordnet", tmp_path / "apt.log")
    fake.bin.mkdir()
    fake.wordnet.mkdir()
    fake.stub("apt-get", f'echo "$*" >> {fake.apt_log}')
    env = shutil.which("env")
    assert env is not None
    os.symlink(env, fake.bin / "env")
    return fake


def stop_line(who: str, packages: list[str]) -> str:
    listed = " ".join(packages)
    return (
        f"{who} needs the Debian packages {listed}; as root, run: "
        f"apt-get update && apt-get install -y --no-install-recommends {listed}.  Stop."
    )


def test_without_root_or_sudo_make_test_stops_first_with_one_line(machine: Machine) -> None:
    machine.has("wrk")
    result = machine.make("-n", "test", uid=1000)
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert line.startswith("Makefile:")
    assert line.endswith(stop_line("make test", ["wordnet-base", "docker-compose", "redis-server",
                                                 "socat"]))
    assert result.stdout == ""  # not even the virtual environment comes first
    assert machine.apt_calls() == []


def test_a_stop_happens_before_anything_runs(machine: Machine) -> None:
    result = machine.make("test", uid=1000)
    assert result.returncode == 2
    assert len(result.stderr.splitlines()) == 1
    assert not (machine.bin.parent / "venv").exists()


def test_as_root_only_the_missing_packages_are_installed_after_an_update(
    machine: Machine,
) -> None:
    machine.has("wordnet-base", "wrk")
    result = machine.make("test-packages")
    assert result.returncode == 0, result.stderr
    assert machine.apt_calls() == [
        "update -qq",
        "install -y -qq --no-install-recommends docker-compose redis-server socat",
    ]


def test_password_less_sudo_installs_through_sudo(machine: Machine) -> None:
    machine.has("docker-compose", "wrk", "redis-server", "socat")
    dry = machine.make("-n", "test-packages", uid=1000, sudo=True)
    assert dry.stdout.splitlines() == [f"sudo -n {UPDATE} && sudo -n {INSTALL} wordnet-base"]
    assert machine.make("test-packages", uid=1000, sudo=True).returncode == 0
    assert machine.apt_calls()[-1] == "install -y -qq --no-install-recommends wordnet-base"


def test_nothing_is_run_when_every_package_is_there(machine: Machine) -> None:
    machine.has(*TEST_PACKAGES)
    for uid in (0, 1000):
        result = machine.make("test-packages", uid=uid)
        assert result.returncode == 0, result.stderr
    assert machine.apt_calls() == []  # not even apt-get update


def test_a_machine_without_apt_get_gets_the_line_even_as_root(machine: Machine) -> None:
    (machine.bin / "apt-get").unlink()
    result = machine.make("-n", "test-packages")
    assert result.returncode == 2
    assert result.stderr.strip().endswith(stop_line("make test-packages", TEST_PACKAGES))


def test_make_run_needs_only_wordnet_base(machine: Machine) -> None:
    result = machine.make("-n", "run", uid=1000)
    assert result.returncode == 2
    assert result.stderr.strip().endswith(stop_line("make run", ["wordnet-base"]))
    assert machine.make("-n", "run").stdout.splitlines()[0] == f"{UPDATE} && {INSTALL} wordnet-base"


def test_make_run_with_the_upstream_only_needs_no_wordnet(machine: Machine) -> None:
    result = machine.make("-n", "run", "DICTIONARY_BACKEND=upstream", uid=1000)
    assert result.returncode == 0, result.stderr
    assert "wordnet" not in result.stdout


def test_the_benchmark_needs_wrk_and_wordnet_base(machine: Machine) -> None:
    result = machine.make("-n", "bench-tools")
    assert result.stdout.splitlines() == [f"{UPDATE} && {INSTALL} wordnet-base wrk"]


def test_ci_runs_the_readme_command_and_installs_nothing_itself() -> None:
    ci = (support.REPO / ".ci" / "run").read_text()
    assert "make test" in ci
    assert "apt-get" not in ci
    assert "make test" in (support.REPO / "README.md").read_text()
