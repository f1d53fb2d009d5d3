"""`docker-compose config` validates the compose file offline, as Compose itself parses it.

Debian's `docker-compose` package (1.29) checks the file against the Compose specification's
JSON schema without a Docker engine. `make test` installs it when it is missing; a
missing tool fails these tests rather than skipping them. Every run happens in a copy of the
project in a temporary directory, so neither a developer's .env nor their shell leaks in.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy import support
from tests.deploy.isolation import Stack, admin_exposure

PROJECT_FILES = ("docker-compose.yml", "kong.conf", "Dockerfile", ".dockerignore")


@pytest.fixture(scope="module")
def docker_compose() -> str:
    """Path of the docker-compose 1.x CLI."""
    path = shutil.which("docker-compose")
    if path is None:
        pytest.fail("docker-compose missing: make test-packages installs it (Debian package)")
    return path


def make_project(directory: Path, *, with_env: bool, compose_text: str | None = None) -> Path:
    """A copy of the stack's files; `.env` is the example's copy when `with_env`."""
    for name in PROJECT_FILES:
        shutil.copy(support.REPO / name, directory / name)
    if compose_text is not None:
        (directory / "docker-compose.yml").write_text(compose_text, encoding="utf-8")
    if with_env:
        shutil.copy(support.ENV_EXAMPLE, directory / ".env")
    return directory


def run_config(
    cli: str, project: Path, *args: str, profiles: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    """`docker-compose [--profile P] config ARGS` in `project`, hermetic environment."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(project)}
    selected = [word for profile in profiles for word in ("--profile", profile)]
    return subprocess.run(
        [cli, "--project-directory", str(project), "-f", str(project / "docker-compose.yml"),
         *selected, "config", *args],
        cwd=project, env=env, capture_output=True, text=True, timeout=60, check=False,
    )


def resolved_file(cli: str, project: Path) -> dict[str, Any]:
    """The whole file exactly as docker-compose resolves it (with the cluster profile)."""
    result = run_config(cli, project, profiles=("cluster",))
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)


def resolved_by_compose(cli: str, project: Path) -> dict[str, Any]:
    """The services exactly as docker-compose resolves them."""
    return resolved_file(cli, project)["services"]


@pytest.mark.parametrize("profiles", [(), ("cluster",)], ids=["one-node", "cluster"])
@pytest.mark.parametrize("with_env", [True, False], ids=["env-example", "no-env-file"])
def test_config_is_valid(
    docker_compose: str, tmp_path: Path, with_env: bool, profiles: tuple[str, ...]
) -> None:
    """`docker-compose config -q` passes, with .env.example and on a fresh clone, with and
    without the cluster profile."""
    project = make_project(tmp_path, with_env=with_env)
    result = run_config(docker_compose, project, "-q", profiles=profiles)
    assert result.returncode == 0, result.stderr
    assert "WARNING" not in result.stderr, result.stderr


@pytest.mark.parametrize(("good", "bad", "named"), [
    # a misspelt depends_on condition
    ("condition: service_completed_successfully", "condition: service_completed", "condition"),
    # a misspelt key of the newer networks (`internal`)
    ("internal: true", "internall: true", "internall"),
])
def test_validator_rejects_a_broken_file(docker_compose: str, tmp_path: Path, good: str, bad: str,
                                         named: str) -> None:
    """The check can fail: a schema error is reported, naming what is wrong."""
    broken = support.COMPOSE_FILE.read_text(encoding="utf-8").replace(good, bad, 1)
    assert broken != support.COMPOSE_FILE.read_text(encoding="utf-8")
    project = make_project(tmp_path, with_env=True, compose_text=broken)
    result = run_config(docker_compose, project, "-q")
    assert result.returncode != 0
    assert named in result.stderr


def test_services_listed(docker_compose: str, tmp_path: Path) -> None:
    """docker-compose sees the nine services of the stack (kong-2 in the cluster profile)."""
    result = run_config(docker_compose, make_project(tmp_path, with_env=True), "--services",
                        profiles=("cluster",))
    assert result.returncode == 0, result.stderr
    assert set(result.stdout.split()) == {
        "secrets", "db", "redis", "kong-migrations", "kong", "kong-2", "admin-forwarder", "app",
        "provision",
    }


def test_profiles_as_compose_reads_them(docker_compose: str, tmp_path: Path) -> None:
    """Only kong-2 belongs to a profile, `cluster`: a plain `up` starts a single node."""
    services = resolved_by_compose(docker_compose, make_project(tmp_path, with_env=True))
    assert {name: s["profiles"] for name, s in services.items() if "profiles" in s} == {
        "kong-2": ["cluster"],
    }


@pytest.mark.parametrize("with_env", [True, False], ids=["env-example", "no-env-file"])
def test_our_interpolation_matches_compose(
    docker_compose: str, tmp_path: Path, with_env: bool
) -> None:
    """The property tests see what Compose sees: same images, environment, commands, checks."""
    theirs = resolved_by_compose(docker_compose, make_project(tmp_path, with_env=with_env))
    ours = support.services(support.example_env() if with_env else {})
    for name, service in ours.items():
        assert theirs[name].get("image") == service.get("image"), name
        assert theirs[name].get("environment", {}) == service.get("environment", {}), name
        # config re-escapes a literal $ as $$ in its output
        check = service.get("healthcheck", {})
        if not check.get("disable"):
            expected = [part.replace("$", "$$") for part in check.get("test", [])] or None
            assert theirs[name].get("healthcheck", {}).get("test") == expected, name
        if isinstance(service.get("command"), list):
            expected = [part.replace("$", "$$") for part in service["command"]]
            assert theirs[name]["command"] == expected, name


def test_admin_port_resolved_to_loopback(docker_compose: str, tmp_path: Path) -> None:
    """After Compose's own parsing, the Admin API is still bound to 127.0.0.1 only."""
    services = resolved_by_compose(docker_compose, make_project(tmp_path, with_env=True))
    assert services["admin-forwarder"]["ports"] == ["127.0.0.1:8001:8001/tcp"]
    assert not [spec for spec in services["kong"]["ports"] if "8001" in str(spec)]


@pytest.mark.parametrize("with_env", [True, False], ids=["env-example", "no-env-file"])
def test_admin_isolation_as_compose_resolves_it(
    docker_compose: str, tmp_path: Path, with_env: bool
) -> None:
    """The isolation checker agrees on docker-compose's own reading of the file."""
    resolved = resolved_file(docker_compose, make_project(tmp_path, with_env=with_env))
    stack = Stack(resolved["services"], resolved["networks"], support.kong_conf())
    assert admin_exposure(stack) == []
    assert stack.members("admin-api") == {"kong", "provision", "admin-forwarder"}
    assert stack.networks["admin-api"]["internal"] is True
