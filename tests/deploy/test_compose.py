"""Properties of docker-compose.yml that decide whether `docker compose up -d` works first time.

Checked without a Docker engine, on the file as Compose resolves it with the values of
.env.example and with no .env at all (a fresh clone), as Kong 3.9.3 needs it
(Kong facts §2 and §13).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.deploy import support

EXPECTED_SERVICES = {"secrets", "db", "kong-migrations", "kong", "app", "provision"}
HEALTHY = "service_healthy"
COMPLETED = "service_completed_successfully"
# Who waits for whom, and for what: the start order of the stack.
EXPECTED_DEPENDS_ON = {
    "secrets": {},
    "db": {"secrets": COMPLETED},
    "kong-migrations": {"secrets": COMPLETED, "db": HEALTHY},
    "kong": {"db": HEALTHY, "kong-migrations": COMPLETED},
    "app": {},
    "provision": {"kong": HEALTHY, "app": HEALTHY},
}
ONE_SHOTS = {"secrets", "kong-migrations", "provision"}
SHELLS = {"sh", "bash", "/bin/sh", "/bin/bash"}
# Tokens only a shell understands; chains (`&&`, `||`) are flagged anywhere in an argument.
SHELL_TOKENS = {"&&", "||", "|", ";", ">", ">>", "<", "&"}
CHAINS = ("&&", "||")
SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|API_?KEY|PRIVATE", re.IGNORECASE)
VERSION_TAG = re.compile(r"^\d+(\.\d+)*([.-][A-Za-z0-9.-]+)?$")


@pytest.fixture(params=sorted(support.ENVIRONMENTS))
def resolved(request: pytest.FixtureRequest) -> dict[str, dict[str, Any]]:
    """The services as Compose resolves them, once per environment."""
    make_env: Callable[[], dict[str, str]] = support.ENVIRONMENTS[request.param]
    return support.services(make_env())


# ---------------------------------------------------------------- helpers (tested below too)


def parse_port(spec: str | dict[str, Any]) -> tuple[str, str, str]:
    """(host_ip, host_port, container_port) of a short- or long-syntax port mapping."""
    if isinstance(spec, dict):
        return str(spec.get("host_ip", "")), str(spec.get("published", "")), str(spec["target"])
    spec = spec.split("/")[0]
    parts = spec.rsplit(":", 2)
    if len(parts) == 1:
        return "", "", parts[0]
    if len(parts) == 2:
        return "", parts[0], parts[1]
    return parts[0], parts[1], parts[2]


def argv_chain_problem(argv: list[str]) -> str | None:
    """Why an exec-form command would not run what it says, or None if it would.

    Without a shell (the Kong image's entrypoint execs "$@"), `&&` and friends are plain
    arguments: `kong migrations up && kong migrations finish` never runs `finish`.
    """
    if len(argv) >= 2 and argv[0] in SHELLS and argv[1] == "-c":
        return None
    for arg in argv:
        if arg in SHELL_TOKENS or any(chain in arg for chain in CHAINS):
            return f"{arg!r} is passed as an argument, not run by a shell"
    return None


def command_argvs(service: dict[str, Any]) -> Iterator[tuple[str, list[str]]]:
    """Every argv a service runs without a shell: command, entrypoint, exec-form healthcheck."""
    for field in ("command", "entrypoint"):
        value = service.get(field)
        if isinstance(value, str):
            yield field, shlex.split(value)  # Compose splits strings itself, with no shell
        elif isinstance(value, list):
            yield field, [str(item) for item in value]
    test = (service.get("healthcheck") or {}).get("test")
    if isinstance(test, list) and test and test[0] == "CMD":
        yield "healthcheck", [str(item) for item in test[1:]]


def literal_secrets(environment: dict[str, Any] | list[str]) -> list[str]:
    """Secret-looking variables whose value is written out instead of coming from outside."""
    if isinstance(environment, list):
        environment = dict(item.partition("=")[::2] for item in environment)
    found = []
    for name, value in environment.items():
        if not SECRET_NAME.search(name) or name.endswith("_FILE") or value in (None, ""):
            continue
        if not re.fullmatch(r"\$\{[A-Za-z_][A-Za-z0-9_]*(:?-)?\}", str(value)):
            found.append(f"{name}={value}")
    return found


# ---------------------------------------------------------------- the helpers can fail


def test_chain_detector_flags_the_official_compose_trap() -> None:
    """The docker-kong `kong-migrations-up` command is flagged; its `sh -c` fix is not."""
    assert argv_chain_problem(["kong", "migrations", "up", "&&", "kong", "migrations", "finish"])
    assert argv_chain_problem(["kong migrations up && kong migrations finish"])
    assert argv_chain_problem(["sh", "-c", "kong migrations up && kong migrations finish"]) is None
    assert argv_chain_problem(["python", "-c", "import sys; sys.exit(0)"]) is None


def test_secret_detector_flags_literals_only() -> None:
    """A written-out password is flagged; references and *_FILE paths are not."""
    assert literal_secrets({"POSTGRES_PASSWORD": "kong"}) == ["POSTGRES_PASSWORD=kong"]
    assert literal_secrets(["KONG_PG_PASSWORD=secret"]) == ["KONG_PG_PASSWORD=secret"]
    assert literal_secrets({"KONG_PG_PASSWORD": "${KONG_PG_PASSWORD:-}"}) == []
    assert literal_secrets({"KONG_PG_PASSWORD_FILE": "/run/x"}) == []


def test_port_parser_reads_the_three_short_forms() -> None:
    """Host IP, host port and container port come out of every short form."""
    assert parse_port("127.0.0.1:8001:8001") == ("127.0.0.1", "8001", "8001")
    assert parse_port("8000:8000/tcp") == ("", "8000", "8000")
    assert parse_port("5000") == ("", "", "5000")


# ---------------------------------------------------------------- the compose file


def test_compose_specification_without_version_key() -> None:
    """Compose v2 warns that `version:` is obsolete; the specification has none."""
    assert "version" not in support.raw_compose()


def test_the_services_are_the_stack() -> None:
    """Exactly the services the README documents."""
    assert set(support.raw_compose()["services"]) == EXPECTED_SERVICES


def test_pulled_images_are_pinned(resolved: dict[str, dict[str, Any]]) -> None:
    """Every image pulled from a registry has a version tag: no `latest`, no bare name."""
    for name, service in resolved.items():
        if "build" in service:
            continue
        repository, _, tag = service["image"].rpartition(":")
        assert repository, f"{name}: {service['image']} names no repository"
        assert VERSION_TAG.match(tag), f"{name}: {service['image']} is not pinned"


def test_kong_is_the_official_3_9_3_image(resolved: dict[str, dict[str, Any]]) -> None:
    """Kong and its migrations run the same official image, 3.9.3 (the last OSS release)."""
    assert resolved["kong"]["image"] == "kong:3.9.3"
    assert resolved["kong-migrations"]["image"] == "kong:3.9.3"


def test_postgres_is_major_16(resolved: dict[str, dict[str, Any]]) -> None:
    """A pinned supported major: 9.5 is Kong's floor, 18+ moved the data directory."""
    assert re.fullmatch(r"postgres:16(\.\d+)*(-[a-z]+)?", resolved["db"]["image"])


def test_long_running_services_have_healthchecks(resolved: dict[str, dict[str, Any]]) -> None:
    """Everything others wait for with service_healthy can become healthy."""
    for name in EXPECTED_SERVICES - ONE_SHOTS:
        check = resolved[name].get("healthcheck") or {}
        assert check.get("test"), f"{name} has no healthcheck"
        assert not check.get("disable"), f"{name} disables its healthcheck"
        assert not any("curl" in str(part) for part in check["test"]), f"{name}: no curl in image"


def test_db_healthcheck_uses_pg_isready_over_tcp(resolved: dict[str, dict[str, Any]]) -> None:
    """pg_isready on the TCP port: the first-start temporary server listens on a socket only."""
    check = resolved["db"]["healthcheck"]
    assert check["test"][:2] == ["CMD", "pg_isready"]
    assert "-h" in check["test"]
    assert check["interval"] in {"1s", "2s", "3s", "5s"}


def test_kong_healthcheck_proves_readiness(resolved: dict[str, dict[str, Any]]) -> None:
    """/status/ready (database reachable, router built), not `kong health` (nginx alive)."""
    script = " ".join(resolved["kong"]["healthcheck"]["test"])
    assert "/status/ready" in script
    assert " 200 " in script


def test_app_healthcheck_uses_python(resolved: dict[str, dict[str, Any]]) -> None:
    """The app image has no curl; Python asks /-/health."""
    test = resolved["app"]["healthcheck"]["test"]
    assert test[:3] == ["CMD", "python", "-c"]
    assert "http://127.0.0.1:5000/-/health" in test[3]


def test_one_shots_do_not_restart(resolved: dict[str, dict[str, Any]]) -> None:
    """A restarting one-shot would never count as completed for service_completed_successfully."""
    for name in ONE_SHOTS:
        assert resolved[name].get("restart", "no") == "no", name


def test_every_depends_on_has_the_right_condition(resolved: dict[str, dict[str, Any]]) -> None:
    """Long form everywhere: a plain list only waits for "started" (docker-kong #275)."""
    for name, expected in EXPECTED_DEPENDS_ON.items():
        depends_on = resolved[name].get("depends_on", {})
        assert isinstance(depends_on, dict), f"{name}: depends_on must carry conditions"
        actual = {dependency: spec.get("condition") for dependency, spec in depends_on.items()}
        assert actual == expected, name


def test_no_exec_form_command_relies_on_a_shell(resolved: dict[str, dict[str, Any]]) -> None:
    """`&&` outside `sh -c` is an argument (docker-kong #398): only the first command runs."""
    for name, service in resolved.items():
        for field, argv in command_argvs(service):
            assert argv_chain_problem(argv) is None, f"{name}.{field}: {argv_chain_problem(argv)}"


def test_migrations_bootstrap_then_upgrade(resolved: dict[str, dict[str, Any]]) -> None:
    """Fresh databases are bootstrapped, older ones migrated (`up` then `finish`), every time."""
    command = resolved["kong-migrations"]["command"]
    assert command[:2] == ["sh", "-c"]
    steps = re.findall(r"kong migrations (\w+)", command[2])
    assert steps[0] == "bootstrap"
    assert "up" in steps
    assert steps[-1] == "finish"
    assert "set -eu" in command[2]


def test_admin_api_is_published_on_loopback_only(resolved: dict[str, dict[str, Any]]) -> None:
    """The Admin API has no authentication: 127.0.0.1 on the host, never every interface."""
    admin = [
        parse_port(spec)
        for service in resolved.values()
        for spec in service.get("ports", [])
        if parse_port(spec)[2] in {"8001", "8444"}
    ]
    assert admin, "the Admin API is not published at all"
    assert all(host_ip == "127.0.0.1" for host_ip, _, _ in admin), admin


def test_proxy_is_published_on_every_interface(resolved: dict[str, dict[str, Any]]) -> None:
    """The proxy is the public entry point, on port 8000 by default."""
    ports = [parse_port(spec) for spec in resolved["kong"]["ports"]]
    proxy = [port for port in ports if port[2] == "8000"]
    assert proxy
    assert proxy[0][0] in {"", "0.0.0.0"}
    assert proxy[0][1] == "8000"


def test_only_kong_publishes_ports(resolved: dict[str, dict[str, Any]]) -> None:
    """PostgreSQL and the app are reached through Kong only."""
    assert [name for name, service in resolved.items() if service.get("ports")] == ["kong"]


def test_app_can_be_scaled(resolved: dict[str, dict[str, Any]]) -> None:
    """`--scale app=3` needs no fixed container name and no fixed host port."""
    app = resolved["app"]
    assert "container_name" not in app
    assert "ports" not in app
    assert "5000" in [str(port) for port in app.get("expose", [])]
    assert not [name for name, service in resolved.items() if "container_name" in service]


def test_no_secret_is_written_in_the_compose_file() -> None:
    """Secrets come from .env or a generated file, never a literal in the repository."""
    for name, service in support.raw_compose()["services"].items():
        assert literal_secrets(service.get("environment", {})) == [], name


def test_password_files_are_mounted_where_they_are_read(
    resolved: dict[str, dict[str, Any]],
) -> None:
    """Each *_PASSWORD_FILE (and the migrations' `cat`) points into a volume of that service."""
    for name, service in resolved.items():
        mounts = [volume.split(":")[1] for volume in service.get("volumes", [])]
        paths = [v for k, v in service.get("environment", {}).items() if k.endswith("_FILE")]
        paths += re.findall(r"cat (/\S+)", " ".join(map(str, service.get("command") or [])))
        for path in paths:
            assert any(path.startswith(mount + "/") for mount in mounts), f"{name}: {path}"


def test_kong_runs_read_only_without_new_privileges(resolved: dict[str, dict[str, Any]]) -> None:
    """Read-only root; the prefix the entrypoint prepares ($KONG_PREFIX) and /tmp are tmpfs."""
    kong = resolved["kong"]
    assert kong["read_only"] is True
    assert "no-new-privileges:true" in kong["security_opt"]
    assert set(kong["tmpfs"]) >= {"/tmp", kong["environment"]["KONG_PREFIX"]}
    assert "./kong.conf:/etc/kong/kong.conf:ro" in kong["volumes"]


def test_every_service_forbids_new_privileges(resolved: dict[str, dict[str, Any]]) -> None:
    """No container may gain privileges through setuid binaries."""
    for name, service in resolved.items():
        assert "no-new-privileges:true" in service.get("security_opt", []), name


def test_database_is_kong_on_a_named_volume(resolved: dict[str, dict[str, Any]]) -> None:
    """Database and user `kong`, data on a named volume that `down -v` removes."""
    db = resolved["db"]
    assert db["environment"]["POSTGRES_DB"] == "kong"
    assert db["environment"]["POSTGRES_USER"] == "kong"
    data = [v for v in db["volumes"] if v.endswith(":/var/lib/postgresql/data")]
    assert data
    assert data[0].split(":")[0] in support.raw_compose()["volumes"]


def test_app_cannot_reach_the_database(resolved: dict[str, dict[str, Any]]) -> None:
    """The app, which handles untrusted input, shares no network with PostgreSQL."""
    assert not set(resolved["app"]["networks"]) & set(resolved["db"]["networks"])
    assert set(resolved["kong"]["networks"]) >= set(resolved["db"]["networks"])


def test_provision_targets_kong_and_the_app(resolved: dict[str, dict[str, Any]]) -> None:
    """The one-shot runs the provisioner from the app image against the in-network names."""
    provision, app = resolved["provision"], resolved["app"]
    assert provision["image"] == app["image"]
    assert provision["build"] == app["build"]
    command = provision["command"]
    assert command[:2] == ["python", "scripts/provision.py"]
    assert command[command.index("--admin-url") + 1] == "http://kong:8001"
    assert command[command.index("--service-url") + 1] == "http://app:5000"
    # Every `up` prints the demo key, not only the first (provision.py prints keys on request).
    assert command[command.index("--show-key") + 1] == "demo"


def test_files_the_services_run_exist() -> None:
    """The provisioner and the mounted kong.conf are in the repository (and the image)."""
    assert (support.REPO / "scripts" / "provision.py").is_file()
    assert (support.REPO / "kong.conf").is_file()
