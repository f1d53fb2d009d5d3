"""The README and docs/ link to each other: every relative link names a file that exists and,
when it has an anchor, a heading of that file (GitHub's anchor rules)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^(```|~~~)")
HEADING = re.compile(r"^#{1,6} +(.+?) *#*$")
README_MAX_LINES = 150


def documents() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _prose(path: Path) -> list[str]:
    """The lines outside fenced code blocks."""
    lines, fenced = [], False
    for line in path.read_text(encoding="utf-8").splitlines():
        if FENCE.match(line):
            fenced = not fenced
        elif not fenced:
            lines.append(line)
    return lines


def anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"`|\*\*|__", "", heading.strip()).lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    found: set[str] = set()
    for line in _prose(path):
        match = HEADING.match(line)
        if match:
            base = anchor(match.group(1))
            name, n = base, 1
            while name in found:        # GitHub numbers repeated headings: x, x-1, x-2
                name, n = f"{base}-{n}", n + 1
            found.add(name)
    return found


def broken_links(path: Path) -> list[str]:
    """Relative links of one document that lead nowhere."""
    problems = []
    for line in _prose(path):
        for target in LINK.findall(line):
            if re.match(r"^[a-z]+:", target):
                continue                # http:, https:, mailto:
            file_part, _, fragment = target.partition("#")
            linked = (path.parent / file_part).resolve() if file_part else path
            if not linked.exists():
                problems.append(f"{path.name}: {target} (no such file)")
            elif fragment and linked.suffix == ".md" and fragment not in anchors(linked):
                problems.append(f"{path.name}: {target} (no such heading)")
    return problems


@pytest.mark.parametrize("path", documents(), ids=lambda p: p.name)
def test_relative_links_resolve(path: Path) -> None:
    assert broken_links(path) == []


def test_the_checker_finds_a_broken_file_and_a_broken_anchor(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("# Real heading\n\n[ok](#real-heading) [bad](#nope) "
                                   "[gone](missing.md) [web](https://example.com)\n")
    assert broken_links(tmp_path / "a.md") == ["a.md: #nope (no such heading)",
                                               "a.md: missing.md (no such file)"]


def test_every_document_is_linked_from_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for path in documents()[1:]:
        assert f"(docs/{path.name})" in readme, f"README does not link docs/{path.name}"


def test_the_readme_fits_a_first_screen() -> None:
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= README_MAX_LINES


ISSUE_NUMBER = re.compile(r"\b(?:issue|ticket) *#?\d+", re.IGNORECASE)


def test_code_and_docs_name_features_not_issue_numbers() -> None:
    """A reader has no tracker at hand: name the feature ("the embedded dictionary")."""
    tracked = [p for p in ROOT.rglob("*") if p.is_file() and not {
        ".git", ".venv", "data", "results", "__pycache__"} & set(p.relative_to(ROOT).parts)
        and (p.suffix in {".py", ".md", ".yml", ".yaml", ".conf", ".toml", ".lua", ".txt"}
             or p.name in {"Makefile", "Dockerfile", "run"})
        and "kong-observed" not in p.parts]
    found = [f"{p.relative_to(ROOT)}: {m.group(0)}" for p in tracked
             for m in ISSUE_NUMBER.finditer(p.read_text(encoding="utf-8", errors="replace"))]
    assert found == []
