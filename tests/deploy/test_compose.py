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

EXPECTED_SERVICES = {
    "secrets", "db", "redis", "kong-migrations", "kong", "kong-2", "admin-forwarder", "app",
    "provision",
}
KONG_NODES = ("kong", "kong-2")
HEALTHY = "service_healthy"
COMPLETED = "service_completed_successfully"
KONG_NODE_DEPENDS_ON = {"db": HEALTHY, "kong-migrations": COMPLETED, "redis": HEALTHY}
# Who waits for whom, and for what: the start order of the stack.
EXPECTED_DEPENDS_ON = {
    "secrets": {},
    "db": {"secrets": COMPLETED},
    "redis": {"secrets": COMPLETED},
    "kong-migrations": {"secrets": COMPLETED, "db": HEALTHY},
    "kong": KONG_NODE_DEPENDS_ON,
    "kong-2": KONG_NODE_DEPENDS_ON,
    "admin-forwarder": {},
    "app": {},
    "provision": {"kong": HEALTHY, "app": HEALTHY, "redis": HEALTHY},
}
ONE_SHOTS = {"secrets", "kong-migrations", "provision"}
# The published ports of the stack, (service, host address, default host port, container port).
PUBLISHED = {
    ("kong", "", "8000", "8000"),
    ("kong-2", "", "8100", "8000"),
    ("admin-forwarder", "127.0.0.1", "8001", "8001"),
}
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


parse_port = support.parse_port


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
    for name in ("kong-migrations", *KONG_NODES):
        assert resolved[name]["image"] == "kong:3.9.3", name


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


def test_published_ports_are_the_documented_ones() -> None:
    """Proxies on every interface, the Admin API on loopback; PostgreSQL, Redis, app: none."""
    published = {
        (name, *parse_port(spec))
        for name, service in support.services({}).items()
        for spec in service.get("ports", [])
    }
    assert published == PUBLISHED


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
    """Each *_FILE and every `cat` of a command or healthcheck reads a volume of that service."""
    for name, service in resolved.items():
        mounts = [volume.split(":")[1] for volume in service.get("volumes", [])]
        paths = [v for k, v in service.get("environment", {}).items() if k.endswith("_FILE")]
        scripts = [*map(str, service.get("command") or []),
                   *map(str, (service.get("healthcheck") or {}).get("test") or [])]
        paths += re.findall(r"cat (/[^\s)\"]+)", " ".join(scripts))
        for path in paths:
            assert any(path.startswith(mount + "/") for mount in mounts), f"{name}: {path}"


def tmpfs_mounts(service: dict[str, Any]) -> dict[str, set[str]]:
    """Path -> mount options of a service's `tmpfs` entries ("path:opt,opt")."""
    entries = service.get("tmpfs") or []
    entries = [entries] if isinstance(entries, str) else entries
    mounts = {}
    for entry in entries:
        path, _, options = entry.partition(":")
        mounts[path] = set(filter(None, options.split(",")))
    return mounts


def test_tmpfs_parser() -> None:
    """Options come apart from the path."""
    assert tmpfs_mounts({"tmpfs": ["/tmp:mode=1777,size=1m", "/run"]}) == {
        "/tmp": {"mode=1777", "size=1m"}, "/run": set(),
    }


@pytest.mark.parametrize("name", KONG_NODES)
def test_kong_runs_read_only_without_new_privileges(
    resolved: dict[str, dict[str, Any]], name: str
) -> None:
    """Read-only root; the prefix the entrypoint prepares ($KONG_PREFIX) lives in a tmpfs."""
    kong = resolved[name]
    assert kong["read_only"] is True
    assert "no-new-privileges:true" in kong["security_opt"]
    assert "./kong.conf:/etc/kong/kong.conf:ro" in kong["volumes"]
    assert kong["restart"] == "unless-stopped"


@pytest.mark.parametrize("name", KONG_NODES)
def test_kong_prefix_survives_a_restart(resolved: dict[str, dict[str, Any]], name: str) -> None:
    """The prefix is created by Kong inside /tmp, a tmpfs that is world-writable on every start.

    A restarted container's tmpfs takes its mode from the directory under it (runc#3911): a
    mount point missing from the image comes back 0755 root-owned, so the kong user (whose uid
    differs between image bases) could not create its prefix. /tmp is 1777 in every image, and
    mode=1777 says so. No uid= or gid=: nothing here may depend on the kong user's ids.
    """
    kong = resolved[name]
    mounts = tmpfs_mounts(kong)
    prefix = kong["environment"]["KONG_PREFIX"]
    assert prefix.startswith("/tmp/"), prefix
    assert prefix.count("/") == 2, prefix
    assert prefix not in mounts
    assert "mode=1777" in mounts["/tmp"]
    for options in mounts.values():
        assert not {option.partition("=")[0] for option in options} & {"uid", "gid"}


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


def test_app_cannot_reach_the_database_or_redis(resolved: dict[str, dict[str, Any]]) -> None:
    """The app, which handles untrusted input, shares no network with PostgreSQL or Redis."""
    app = set(resolved["app"]["networks"])
    assert not app & set(resolved["db"]["networks"])
    assert not app & set(resolved["redis"]["networks"])
    for name in KONG_NODES:
        assert set(resolved[name]["networks"]) >= set(resolved["db"]["networks"]), name
        assert set(resolved[name]["networks"]) >= set(resolved["redis"]["networks"]), name


def test_provision_targets_kong_and_the_app(resolved: dict[str, dict[str, Any]]) -> None:
    """The one-shot runs the provisioner from the app image against the in-network names."""
    provision, app = resolved["provision"], resolved["app"]
    assert provision["image"] == app["image"]
    assert provision["build"] == app["build"]
    command = provision["command"]
    assert command[:2] == ["python", "scripts/provision.py"]
    assert command[command.index("--service-url") + 1] == "http://app:5000"
    # Every `up` prints the demo key, not only the first (provision.py prints keys on request).
    assert command[command.index("--show-key") + 1] == "demo"


def test_provision_environment_is_what_provisioning_reads(
    resolved: dict[str, dict[str, Any]],
) -> None:
    """Admin API, every node's proxy, the public proxy address, Redis and its password file."""
    environment = resolved["provision"]["environment"]
    proxy_port = resolved["kong"]["ports"][0].split(":")[0]
    assert environment == {
        "KONG_ADMIN_URL": "http://kong-admin:8001",
        "KONG_PROXY_URL": "http://kong-proxy:8000",
        "GATEWAY_PUBLIC_URL": f"http://localhost:{proxy_port}",
        "GATEWAY_REDIS_URL": "redis://redis:6379/0",
        "GATEWAY_REDIS_PASSWORD_FILE": "/run/redis-secrets/redis_password",
    }


def test_public_url_follows_the_proxy_port() -> None:
    """The printed curl line names the port the proxy is really published on."""
    provision = support.services({"KONG_PROXY_PORT": "9000"})["provision"]
    assert provision["environment"]["GATEWAY_PUBLIC_URL"] == "http://localhost:9000"


def test_every_kong_node_answers_to_the_proxy_alias(resolved: dict[str, dict[str, Any]]) -> None:
    """KONG_PROXY_URL resolves to every node, on a network the provisioner joins."""
    carrying = {
        name: {network for network, aliases in support.service_networks(service).items()
               if "kong-proxy" in aliases}
        for name, service in resolved.items()
    }
    assert {name for name, networks in carrying.items() if networks} == set(KONG_NODES)
    shared = set.intersection(*(carrying[name] for name in KONG_NODES))
    assert shared & set(support.service_networks(resolved["provision"]))
    assert shared & set(support.service_networks(resolved["app"]))  # and Kong reaches the app


def test_provision_resolves_redis_and_reads_its_password(
    resolved: dict[str, dict[str, Any]],
) -> None:
    """The provisioner shares Redis's network and mounts the password volume read-only."""
    provision, redis = resolved["provision"], resolved["redis"]
    assert set(redis["networks"]) <= set(provision["networks"])
    assert "redis-secrets:/run/redis-secrets:ro" in provision["volumes"]
    assert "kong-secrets" not in " ".join(provision.get("volumes", []))


def test_files_the_services_run_exist() -> None:
    """The provisioner and the mounted kong.conf are in the repository (and the image)."""
    assert (support.REPO / "scripts" / "provision.py").is_file()
    assert (support.REPO / "kong.conf").is_file()


# ---------------------------------------------------------------- Redis


def test_redis_is_the_official_image_major_7(resolved: dict[str, dict[str, Any]]) -> None:
    """The official image, a pinned major."""
    assert re.fullmatch(r"redis:7(\.\d+)*(-[a-z]+)?", resolved["redis"]["image"])


def test_redis_requires_the_generated_password(resolved: dict[str, dict[str, Any]]) -> None:
    """redis-server gets requirepass from the secrets file, on stdin, not on its command line."""
    redis = resolved["redis"]
    assert redis["command"][:2] == ["sh", "-c"]
    script = redis["command"][2]
    assert "cat /run/redis-secrets/redis_password" in script
    assert "exec redis-server - <<EOF" in script
    assert re.search(r'^requirepass "\$quoted"$', script, re.MULTILINE)
    assert "redis-secrets:/run/redis-secrets:ro" in redis["volumes"]
    assert "kong-secrets" not in " ".join(redis["volumes"])   # no access to PostgreSQL's


def test_redis_keeps_nothing_on_disk(resolved: dict[str, dict[str, Any]]) -> None:
    """No snapshots, no AOF; /data is a tmpfs, so Docker creates no anonymous volume."""
    script = resolved["redis"]["command"][2]
    assert re.search(r'^save ""$', script, re.MULTILINE)
    assert re.search(r"^appendonly no$", script, re.MULTILINE)
    assert "/data" in tmpfs_mounts(resolved["redis"])
    assert not any(volume.split(":")[1] == "/data" for volume in resolved["redis"]["volumes"])


def test_redis_is_hardened_and_private(resolved: dict[str, dict[str, Any]]) -> None:
    """Read-only root, its own unprivileged user, no capabilities, an internal network only."""
    redis = resolved["redis"]
    assert redis["read_only"] is True
    assert redis["user"] == "redis"
    assert redis["cap_drop"] == ["ALL"]
    assert "ports" not in redis
    networks = support.compose({})["networks"]
    assert all(networks[name].get("internal") is True for name in redis["networks"])


def test_redis_healthcheck_authenticates(resolved: dict[str, dict[str, Any]]) -> None:
    """PING with the password (REDISCLI_AUTH, not -a) must answer PONG; NOAUTH is unhealthy."""
    test = resolved["redis"]["healthcheck"]["test"]
    assert test[:3] == ["CMD", "sh", "-c"]
    assert 'REDISCLI_AUTH="$(cat /run/redis-secrets/redis_password)"' in test[3]
    assert " -a " not in test[3]
    assert test[3].endswith("ping | grep -qx PONG")


def test_no_password_travels_in_an_environment_variable(
    resolved: dict[str, dict[str, Any]],
) -> None:
    """Only the secrets one-shot sees password values; everything else gets *_FILE paths."""
    for name, service in resolved.items():
        if name == "secrets":
            continue
        secret = [key for key in service.get("environment", {})
                  if SECRET_NAME.search(key) and not key.endswith("_FILE")]
        assert secret == [], name


# ---------------------------------------------------------------- the cluster profile


def test_second_node_is_in_the_cluster_profile_only() -> None:
    """`docker compose up` starts one node; `--profile cluster` adds kong-2 and nothing else."""
    profiles = {name: service.get("profiles") for name, service in
                support.raw_compose()["services"].items() if service.get("profiles")}
    assert profiles == {"kong-2": ["cluster"]}


def test_second_node_is_the_first_one_without_the_admin_api(
    resolved: dict[str, dict[str, Any]],
) -> None:
    """Same image, configuration, database, Redis and hardening; no migrations, no Admin API."""
    kong, kong_2 = resolved["kong"], resolved["kong-2"]
    for key in ("image", "volumes", "read_only", "tmpfs", "healthcheck", "security_opt",
                "restart", "depends_on"):
        assert kong_2[key] == kong[key], key
    assert "command" not in kong_2       # the image's `kong docker-start`, not migrations
    assert {k: v for k, v in kong["environment"].items() if k != "KONG_ADMIN_LISTEN"} \
        == kong_2["environment"]
    assert "admin-api" not in kong_2["networks"]


def test_second_node_has_its_own_proxy_port() -> None:
    """KONG_PROXY_PORT_2 (8100 by default) on every interface, container port 8000."""
    assert support.services({})["kong-2"]["ports"] == ["8100:8000"]
    assert support.services({"KONG_PROXY_PORT_2": "9100"})["kong-2"]["ports"] == ["9100:8000"]


# ---------------------------------------------------------------- the Admin API relay


def test_forwarder_is_the_dockerfile_stage_hardened(resolved: dict[str, dict[str, Any]]) -> None:
    """Built from the Dockerfile's admin-forwarder stage; read-only, no capabilities."""
    forwarder = resolved["admin-forwarder"]
    assert forwarder["build"]["target"] == "admin-forwarder"
    dockerfile = (support.REPO / forwarder["build"]["dockerfile"]).read_text("utf-8")
    assert re.search(r"^FROM \S+ AS admin-forwarder$", dockerfile, re.MULTILINE)
    assert forwarder["read_only"] is True
    assert forwarder["cap_drop"] == ["ALL"]
    assert forwarder["restart"] == "unless-stopped"
