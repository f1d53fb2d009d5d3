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

_ENV_LINE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$")
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
