"""`.env.example` documents exactly the variables docker-compose.yml reads, with its defaults.

Users configure the stack through `.env` only, and the stack must also start without one, so
the example, the compose defaults and the documentation have to agree.
"""

from __future__ import annotations

import re

import pytest

from tests.deploy import support

DEFAULT = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*):-(?P<default>[^}]*)\}")


def compose_defaults() -> dict[str, str]:
    """`${NAME:-default}` defaults of the compose file, by variable name."""
    text = support.COMPOSE_FILE.read_text(encoding="utf-8")
    defaults: dict[str, str] = {}
    for match in DEFAULT.finditer(text):
        name, default = match.group("name"), match.group("default")
        assert defaults.setdefault(name, default) == default, f"{name}: two different defaults"
    return defaults


def test_reader_rejects_malformed_lines(tmp_path: support.Path) -> None:
    """A line that is neither a comment nor KEY=value is an error, not silently skipped."""
    broken = tmp_path / "broken.env"
    broken.write_text("# fine\nKONG_IMAGE kong:3.9.3\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"broken\.env:2"):
        support.read_env_file(broken)


def test_interpolation_follows_compose_rules() -> None:
    """`:-` replaces unset and empty values, `-` only unset ones, `$$` is a literal dollar."""
    env = {"EMPTY": "", "SET": "x"}
    assert support.interpolate("${EMPTY:-d} ${EMPTY-d} ${UNSET-d} ${SET:-d}", env) == "d  d x"
    assert support.interpolate("$$HOME ${SET}", env) == "$HOME x"


def test_every_compose_variable_is_in_the_example() -> None:
    """Nothing configurable is undocumented, and nothing documented is ignored."""
    used = support.variables_used(support.raw_compose())
    assert used == set(support.example_env())


def test_every_variable_has_a_comment() -> None:
    """Each KEY= line is preceded by a comment saying what it does."""
    lines = support.ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
    for index, line in enumerate(lines):
        if line and not line.startswith("#"):
            assert index > 0, f"{line}: no comment above"
            assert lines[index - 1].startswith("#"), f"{line}: no comment above"


def test_example_values_are_the_compose_defaults() -> None:
    """Copying .env.example changes nothing, so a fresh clone without .env runs the same."""
    example = support.example_env()
    for name, default in compose_defaults().items():
        assert example[name] == default, name


def test_example_holds_no_secret() -> None:
    """The passwords are empty in the example: set them in .env, or let the first run generate
    them."""
    example = support.example_env()
    secrets = {name: value for name, value in example.items() if "PASSWORD" in name}
    assert secrets == {"KONG_PG_PASSWORD": "", "REDIS_PASSWORD": ""}


def test_dotenv_is_git_ignored() -> None:
    """The real .env holds secrets and stays out of git."""
    ignored = (support.REPO / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert {".env", "/.env"} & {line.strip() for line in ignored}
