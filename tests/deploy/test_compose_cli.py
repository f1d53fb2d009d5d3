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


def run_config(cli: str, project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`docker-compose config ARGS` in `project` with a minimal, hermetic environment."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(project)}
    return subprocess.run(
        [cli, "--project-directory", str(project), "-f", str(project / "docker-compose.yml"),
         "config", *args],
        cwd=project, env=env, capture_output=True, text=True, timeout=60, check=False,
    )


def resolved_by_compose(cli: str, project: Path) -> dict[str, Any]:
    """The services exactly as docker-compose resolves them."""
    result = run_config(cli, project)
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)["services"]


@pytest.mark.parametrize("with_env", [True, False], ids=["env-example", "no-env-file"])
def test_config_is_valid(docker_compose: str, tmp_path: Path, with_env: bool) -> None:
    """The file passes `docker-compose config -q`, with .env.example and on a fresh clone."""
    project = make_project(tmp_path, with_env=with_env)
    result = run_config(docker_compose, project, "-q")
    assert result.returncode == 0, result.stderr
    assert "WARNING" not in result.stderr, result.stderr


def test_validator_rejects_an_invalid_condition(docker_compose: str, tmp_path: Path) -> None:
    """The check can fail: a misspelt depends_on condition is a schema error."""
    broken = support.COMPOSE_FILE.read_text(encoding="utf-8").replace(
        "condition: service_completed_successfully", "condition: service_completed", 1
    )
    project = make_project(tmp_path, with_env=True, compose_text=broken)
    result = run_config(docker_compose, project, "-q")
    assert result.returncode != 0
    assert "condition" in result.stderr


def test_services_listed(docker_compose: str, tmp_path: Path) -> None:
    """docker-compose sees the six services of the stack."""
    result = run_config(docker_compose, make_project(tmp_path, with_env=True), "--services")
    assert result.returncode == 0, result.stderr
    assert set(result.stdout.split()) == {
        "secrets", "db", "kong-migrations", "kong", "app", "provision",
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
        check = service.get("healthcheck", {})
        if not check.get("disable"):
            assert theirs[name].get("healthcheck", {}).get("test") == check.get("test"), name
        if isinstance(service.get("command"), list):
            # config re-escapes a literal $ as $$ in its output
            expected = [part.replace("$", "$$") for part in service["command"]]
            assert theirs[name]["command"] == expected, name


def test_admin_port_resolved_to_loopback(docker_compose: str, tmp_path: Path) -> None:
    """After Compose's own parsing, the Admin API is still bound to 127.0.0.1 only."""
    kong = resolved_by_compose(docker_compose, make_project(tmp_path, with_env=True))["kong"]
    admin = [port for port in kong["ports"] if str(port).endswith(":8001/tcp")]
    assert admin == ["127.0.0.1:8001:8001/tcp"]
