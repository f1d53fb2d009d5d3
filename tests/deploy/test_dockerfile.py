"""The app's Dockerfile and .dockerignore: pinned base, non-root, small context, sound COPYs.

No Docker engine runs here, so the Dockerfile is read as text: instructions per stage, then
the properties the stack promises. .dockerignore is evaluated with Docker's rules (patterns in
order, the last match wins, `!` re-includes, a pattern also matches a path's parents).
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from functools import cache

import pytest

from tests.deploy import support

DOCKERFILE = support.REPO / "Dockerfile"
DOCKERIGNORE = support.REPO / ".dockerignore"
NEVER_IN_CONTEXT = (".env", ".git/HEAD", ".venv/bin/python", "tests/__init__.py", "data/x")


@dataclass
class Stage:
    """One FROM ... block of a multi-stage Dockerfile."""

    image: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def args_of(self, keyword: str) -> list[str]:
        """The arguments of every `keyword` instruction of this stage."""
        return [args for instruction, args in self.instructions if instruction == keyword]


def parse_dockerfile(text: str) -> list[Stage]:
    """Stages with their instructions; continuation lines joined, comments dropped."""
    logical = re.sub(r"\\\n", " ", "\n".join(
        line for line in text.splitlines() if not line.lstrip().startswith("#")
    ))
    stages: list[Stage] = []
    for line in filter(None, (raw.strip() for raw in logical.splitlines())):
        keyword, _, args = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            words = args.split()
            name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else None
            stages.append(Stage(words[0], name))
        elif not stages:
            raise ValueError(f"instruction before FROM: {line!r}")
        else:
            stages[-1].instructions.append((keyword, args.strip()))
    return stages


@cache
def stages() -> list[Stage]:
    """The stages of the project's Dockerfile."""
    return parse_dockerfile(DOCKERFILE.read_text("utf-8"))


def exec_form(args: str) -> list[str]:
    """A JSON-array (exec form) instruction argument; anything else is an error."""
    value = json.loads(args)
    assert isinstance(value, list), args
    return value


def image_is_pinned(image: str) -> bool:
    """A registry image with a version tag (digits first), or a digest."""
    if "@sha256:" in image:
        return True
    repository, _, tag = image.rpartition(":")
    return bool(repository) and re.match(r"^\d+(\.\d+)*", tag) is not None


def ignore_regex(pattern: str) -> re.Pattern[str]:
    """A .dockerignore pattern as a regular expression over slash-separated paths."""
    pattern = pattern.strip("/")
    translated = ""
    for token in re.split(r"(\*\*/|\*\*|\*|\?)", pattern):
        translated += {"**/": "(.*/)?", "**": ".*", "*": "[^/]*", "?": "[^/]"}.get(
            token, re.escape(token)
        )
    return re.compile(translated)


def is_excluded(path: str, patterns: list[str]) -> bool:
    """Whether Docker leaves `path` out of the build context."""
    parents = path.split("/")
    candidates = ["/".join(parents[: index + 1]) for index in range(len(parents))]
    excluded = False
    for raw in patterns:
        negated = raw.startswith("!")
        regex = ignore_regex(raw[1:] if negated else raw)
        if any(regex.fullmatch(candidate) for candidate in candidates):
            excluded = not negated
    return excluded


def dockerignore_patterns() -> list[str]:
    """The patterns of the project's .dockerignore."""
    lines = DOCKERIGNORE.read_text("utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def copy_sources(stage: Stage) -> list[str]:
    """Paths a stage copies from the build context (not --from another stage)."""
    sources = []
    for args in stage.args_of("COPY"):
        words = shlex.split(args)
        if any(word.startswith("--from") for word in words):
            continue
        sources += [word for word in words[:-1] if not word.startswith("--")]
    return sources


# ---------------------------------------------------------------- the checkers can fail


def test_parser_splits_stages_and_joins_continuations() -> None:
    """Two stages, a continued RUN joined into one instruction."""
    parsed = parse_dockerfile("FROM a:1 AS x\nRUN one \\\n  two\n# c\nFROM b:2\nUSER 1\n")
    assert [(stage.image, stage.name) for stage in parsed] == [("a:1", "x"), ("b:2", None)]
    assert parsed[0].instructions == [("RUN", "one    two")]


@pytest.mark.parametrize(
    ("image", "pinned"),
    [("python:3.11-slim-bookworm", True), ("python:latest", False), ("python", False),
     ("python:slim", False), ("python@sha256:" + "0" * 64, True)],
)
def test_pin_checker(image: str, pinned: bool) -> None:
    """`latest`, no tag or a moving word tag are not pins."""
    assert image_is_pinned(image) == pinned


def test_dockerignore_evaluator_follows_docker_rules() -> None:
    """Allow-list semantics: `*` excludes, `!dir/` re-includes its files, last match wins."""
    patterns = ["*", "!src/", "**/__pycache__"]
    assert is_excluded(".env", patterns)
    assert not is_excluded("src/a/b.py", patterns)
    assert is_excluded("src/a/__pycache__/b.pyc", patterns)


# ---------------------------------------------------------------- the Dockerfile itself


def test_every_base_image_is_pinned() -> None:
    """Every FROM that is not an earlier stage names a versioned image."""
    names = {stage.name for stage in stages()}
    for stage in stages():
        if stage.image not in names:
            assert image_is_pinned(stage.image), stage.image


def app_stages() -> list[Stage]:
    """The stages the app image is built from: the final one and those it derives from."""
    by_name = {stage.name: stage for stage in stages()}
    chain, stage = [], stages()[-1]
    while stage is not None:
        chain.append(stage)
        copied = [re.search(r"--from=(\S+)", args) for args in stage.args_of("COPY")]
        chain += [by_name[m.group(1)] for m in copied if m and m.group(1) in by_name]
        stage = by_name.get(stage.image)
    return chain


def test_python_is_3_11_slim() -> None:
    """The app's stages: same minor as CI, slim variant."""
    bases = {stage.image for stage in app_stages()} - {stage.name for stage in stages()}
    assert bases
    for image in bases:
        assert re.fullmatch(r"python:3\.11(\.\d+)?-slim(-[a-z]+)?", image), image


def test_admin_forwarder_is_debian_socat_as_nobody() -> None:
    """The relay stage: Debian 12 (the app's release), socat from apt, no root, socat as entry.

    It is not part of the app image, and its arguments come from docker-compose.yml.
    """
    (forwarder,) = [stage for stage in stages() if stage.name == "admin-forwarder"]
    assert forwarder not in app_stages()
    assert re.fullmatch(r"debian:12(\.\d+)?-slim", forwarder.image), forwarder.image
    install = " ".join(forwarder.args_of("RUN"))
    assert "apt-get install -y --no-install-recommends socat" in install
    assert "rm -rf /var/lib/apt/lists/*" in install
    assert forwarder.args_of("USER") == ["65534:65534"]
    assert [exec_form(args) for args in forwarder.args_of("ENTRYPOINT")] == [["socat"]]
    assert stages()[0] is forwarder   # classic builders build every stage before the target


def test_runs_as_a_non_root_user() -> None:
    """The final stage switches to an unprivileged user, and nothing switches back."""
    users = stages()[-1].args_of("USER")
    assert users, "the final stage has no USER"
    user = users[-1].split(":")[0]
    assert user not in {"root", "0"}


def test_dependencies_come_from_pinned_requirements_without_cache() -> None:
    """pip installs requirements.txt and keeps no download cache in the image."""
    runs = [args for stage in stages() for args in stage.args_of("RUN")]
    installs = [args for args in runs if "pip install" in args]
    assert installs
    for args in installs:
        assert "--no-cache-dir" in args
        assert "-r requirements.txt" in args
    lines = (support.REPO / "requirements.txt").read_text("utf-8").splitlines()
    requirements = [line for line in lines if line.strip() and not line.startswith("#")]
    assert all("==" in line for line in requirements), requirements


def test_wordnet_is_built_in_a_build_stage() -> None:
    """wordnet-base and apt stay out of the final image; only the compiled data is copied."""
    final = stages()[-1]
    assert not any("apt-get" in args for args in final.args_of("RUN"))
    builders = [stage for stage in stages()[:-1] if any(
        "build_wordnet.py" in args for args in stage.args_of("RUN"))]
    assert len(builders) == 1
    install = " ".join(builders[0].args_of("RUN"))
    assert "wordnet-base" in install
    assert "--no-install-recommends" in install
    assert "--output /app/data/wordnet.sqlite3" in install
    assert any(f"--from={builders[0].name}" in args for args in final.args_of("COPY"))


def test_healthcheck_uses_python_on_the_health_endpoint() -> None:
    """The image has no curl; the check asks /-/health through urllib."""
    checks = stages()[-1].args_of("HEALTHCHECK")
    assert len(checks) == 1
    command = exec_form(checks[0].split("CMD", 1)[1].strip())
    assert command[:2] == ["python", "-c"]
    assert "http://127.0.0.1:5000/-/health" in command[2]


def test_cmd_is_gunicorn_with_the_project_config() -> None:
    """Exec form, so gunicorn is PID 1 and receives SIGTERM from `docker stop`."""
    cmd = stages()[-1].args_of("CMD")
    assert [exec_form(args) for args in cmd] == [["gunicorn", "-c", "gunicorn.conf.py", "app:app"]]
    assert "5000" in stages()[-1].args_of("EXPOSE")


def test_copied_sources_exist() -> None:
    """A COPY of a missing path fails the build; every source must be in the repository."""
    missing = [
        source
        for stage in stages()
        for source in copy_sources(stage)
        if not (support.REPO / source).exists()
    ]
    assert missing == []


def test_copied_sources_are_in_the_build_context() -> None:
    """The allow-list in .dockerignore lets through everything the Dockerfile copies."""
    patterns = dockerignore_patterns()
    for stage in stages():
        for source in copy_sources(stage):
            probe = source.rstrip("/") + ("/probe.py" if source.endswith("/") else "")
            assert not is_excluded(probe, patterns), source


@pytest.mark.parametrize("path", NEVER_IN_CONTEXT)
def test_secrets_and_bulk_stay_out_of_the_context(path: str) -> None:
    """.env, git history, the venv, tests and local data never reach the build."""
    assert is_excluded(path, dockerignore_patterns())
