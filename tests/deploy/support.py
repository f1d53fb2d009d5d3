"""Readers shared by the deploy tests: .env files, Compose interpolation, the compose file.

The tests check the files a user runs (`docker compose up`) without a Docker engine, so they
resolve `${VAR:-default}` the way Compose does, for two environments that matter: the values
of `.env.example` and no `.env` at all (a fresh clone).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data" / "kong"
COMPOSE_FILE = REPO / "docker-compose.yml"
ENV_EXAMPLE = REPO / ".env.example"
KONG_CONF = REPO / "kong.conf"

_ENV_LINE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$")
_ASSIGNMENT = re.compile(r"^([a-z0-9_]+)\s*=\s*(.*)$")
_HOST_PORT = re.compile(r"^(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.\-*]+):(?P<port>\d+)$")
# The http listener flags of kong/conf_loader/listeners.lua (patterns as regular expressions).
HTTP_FLAGS = (
    "ssl", "http2", "proxy_protocol", "deferred", "bind", "reuseport", r"backlog=\d+",
    "ipv6only=on", "ipv6only=off", "so_keepalive=on", "so_keepalive=off",
    r"so_keepalive=\w*:\w*:\d*",
)
# $$ (a literal $), ${NAME}, ${NAME<op><arg>} with op one of :- - :? ? :+ +, or $NAME.
_VARIABLE = re.compile(
    r"\$(?:(?P<escaped>\$)"
    r"|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}"
    r"|(?P<named>[A-Za-z_][A-Za-z0-9_]*))"
)


class InterpolationError(ValueError):
    """A `${VAR:?message}` whose variable is missing, as Compose would refuse to start."""


def read_env_file(path: Path) -> dict[str, str]:
    """Parse a .env file (KEY=value lines; # comments) into a dict."""
    values: dict[str, str] = {}
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _ENV_LINE.match(line)
        if match is None:
            raise ValueError(f"{path.name}:{number}: not KEY=value: {raw!r}")
        values[match.group(1)] = match.group(2)
    return values


def _substitute(match: re.Match[str], env: dict[str, str]) -> str:
    """Resolve one variable reference the way the Compose specification describes."""
    if match.group("escaped"):
        return "$"
    name = match.group("braced") or match.group("named")
    op, arg = match.group("op"), match.group("arg") or ""
    value = env.get(name)
    missing = value is None or (op is not None and op.startswith(":") and value == "")
    if op in (":-", "-"):
        return arg if missing else value or ""
    if op in (":?", "?"):
        if missing:
            raise InterpolationError(f"{name}: {arg}")
        return value or ""
    if op in (":+", "+"):
        return "" if missing else arg
    return value or ""


def interpolate(node: Any, env: dict[str, str]) -> Any:
    """Resolve every variable in every string of a parsed YAML tree."""
    if isinstance(node, str):
        return _VARIABLE.sub(lambda match: _substitute(match, env), node)
    if isinstance(node, list):
        return [interpolate(item, env) for item in node]
    if isinstance(node, dict):
        return {key: interpolate(value, env) for key, value in node.items()}
    return node


def variables_used(node: Any) -> set[str]:
    """Names of the variables the strings of a parsed YAML tree refer to (`$$` excluded)."""
    if isinstance(node, str):
        return {
            match.group("braced") or match.group("named")
            for match in _VARIABLE.finditer(node)
            if not match.group("escaped")
        }
    children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else []
    return set().union(*(variables_used(child) for child in children))


def raw_compose() -> dict[str, Any]:
    """The compose file as written, variables unresolved."""
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


def compose(env: dict[str, str]) -> dict[str, Any]:
    """The compose file as Compose sees it with `env` as the .env values."""
    return interpolate(raw_compose(), env)


def services(env: dict[str, str]) -> dict[str, dict[str, Any]]:
    """The services of the resolved compose file."""
    return compose(env)["services"]


def example_env() -> dict[str, str]:
    """The values of .env.example, the configuration CI validates."""
    return read_env_file(ENV_EXAMPLE)


# The two environments every property must hold in: documented values, and a fresh clone.
ENVIRONMENTS = {"env-example": example_env, "no-env-file": dict}


# ---------------------------------------------------------------- kong.conf


def parse_kong_conf(text: str) -> list[tuple[int, str, str]]:
    """(line number, key, value) of each setting; `#` starts a comment unless escaped."""
    settings = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = re.split(r"(?<!\\)#", raw, maxsplit=1)[0].strip()
        if not line:
            continue
        match = _ASSIGNMENT.match(line)
        if match is None:
            raise ValueError(f"kong.conf:{number}: not `key = value`: {raw!r}")
        settings.append((number, match.group(1), match.group(2).strip()))
    return settings


def kong_conf() -> dict[str, str]:
    """kong.conf as a dict (duplicates are caught by their own test)."""
    return {key: value for _, key, value in parse_kong_conf(KONG_CONF.read_text("utf-8"))}


def parse_listeners(value: str) -> list[tuple[str, int, set[str]]]:
    """(host, port, flags) per entry, like Kong's parse_listeners; `off` gives none.

    Kong accepts a host name as well as an address (listeners.lua l.112-115); nginx resolves it
    when it starts.
    """
    entries = [entry.strip() for entry in value.split(",")]
    if entries[0] == "off":
        return []
    parsed = []
    for entry in entries:
        words = entry.split()
        flags = {word for word in words[1:] if any(re.fullmatch(f, word) for f in HTTP_FLAGS)}
        unknown = [word for word in words[1:] if word not in flags]
        address = _HOST_PORT.match(words[0]) if words else None
        if unknown or address is None or not 0 < int(address.group("port")) < 65536:
            raise ValueError(f"must be of form: [off] | <ip>:<port> [flags], got {entry!r}")
        parsed.append((address.group("host"), int(address.group("port")), flags))
    return parsed


# ---------------------------------------------------------------- services


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


def service_networks(service: dict[str, Any]) -> dict[str, set[str]]:
    """The networks a service joins, each with the aliases it has there.

    A service with `network_mode` joins none of the file's networks; one without `networks`
    joins Compose's `default` network.
    """
    if "network_mode" in service:
        return {}
    networks = service.get("networks")
    if networks is None:
        return {"default": set()}
    if isinstance(networks, list):
        return {name: set() for name in networks}
    return {name: set((spec or {}).get("aliases") or []) for name, spec in networks.items()}


def is_kong_node(service: dict[str, Any]) -> bool:
    """A service running Kong's gateway (the image's default command), not a Kong CLI one-shot."""
    repository = str(service.get("image", "")).rpartition(":")[0]
    return repository.rsplit("/", 1)[-1] == "kong" and "command" not in service
