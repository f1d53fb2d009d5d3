"""The results as Markdown: one table, the ratios, and each performance target met or missed."""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench.runner import Row, Settings
from bench.scenarios import FAKE
from bench.wordnet import THREADS, Figures

UPSTREAM_DELAY_S = 0.05
DOCUMENTED_FAILURES = frozenset({"503", "504"})  # circuit open / refused, and timeouts


@dataclass(frozen=True)
class Target:
    name: str
    goal: str
    measured: str
    met: bool
    why: str = ""


def machine() -> str:
    """One line naming the machine: CPU, cores, kernel, OS, Python."""
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    debian = Path("/etc/debian_version")
    system = f"Debian {debian.read_text().strip()}" if debian.exists() else platform.system()
    return (
        f"{cpu}, {os.cpu_count()} cores, {system}, Linux {platform.release()}, "
        f"Python {platform.python_version()}"
    )


def _find(rows: list[Row], key: str) -> Row | None:
    return next((r for r in rows if r.key == key), None)


def _statuses(row: Row) -> str:
    parts = [f"{status}: {n}" for status, n in sorted(row.statuses.items())]
    parts += [f"{kind}: {n}" for kind, n in sorted(row.socket_errors.items())]
    return ", ".join(parts) or "none"


def _notes(row: Row) -> str:
    notes = []
    if row.probe is not None:
        notes.append(
            f"`/` probe: {row.probe['failed']:.0f}/{row.probe['asked']:.0f} failed, "
            f"slowest {row.probe['max_ms']:.0f} ms"
        )
    if row.log["lines"] or row.server != FAKE:
        rate = row.log["bytes"] / row.logged_s / 1024 if row.logged_s else 0
        notes.append(
            f"log: {row.log['lines']} lines besides access lines, "
            f"{row.log['tracebacks']} tracebacks, {rate:.1f} KiB/s"
        )
    if row.rss:
        notes.append(f"RSS growth after warm-up: {_growth(row):+.1f}%")
    if row.reruns:
        notes.append(f"{row.reruns} round(s) re-run: one worker had all the connections")
    if row.unbalanced:
        notes.append(f"**{row.unbalanced} round(s) kept with one worker doing all the work**")
    return "; ".join(notes)


def _ms(row: Row, value: float) -> str:
    return f"{value:.1f}" if row.statuses else "—"


def table(rows: list[Row]) -> str:
    head = (
        "| scenario | server | 2xx/s | all/s | p50 ms | p99 ms "
        "| responses by status (and socket errors) | peak RSS/worker MiB | notes |\n"
        "|---|---|--:|--:|--:|--:|---|--:|---|\n"
    )
    body = "".join(
        f"| {r.scenario} | {r.server} | {r.ok_rps:,.0f} | {r.rps:,.0f} "
        f"| {_ms(r, r.p50_ms)} | {_ms(r, r.p99_ms)} "
        f"| {_statuses(r)} | {r.peak_rss_mib:.0f} | {_notes(r)} |\n"
        for r in rows
    )
    return head + body


def _growth(row: Row) -> float:
    """The largest growth of any worker: peak after warm-up over its first sample."""
    growths = [
        (max(kib for _, kib in samples) - samples[0][1]) / samples[0][1] * 100
        for samples in (row.rss or {}).values()
        if samples
    ]
    return max(growths, default=0.0)


def _ratio(a: Row | None, b: Row | None) -> float | None:
    """Successful answers per second of `a` over `b`."""
    if a is None or b is None or not b.ok_rps:
        return None
    return a.ok_rps / b.ok_rps


def ratios(rows: list[Row], settings: Settings) -> list[tuple[str, float | None]]:
    """The comparisons the targets use, in 2xx answers per second, same gunicorn settings."""
    bound = settings.workers * settings.threads / UPSTREAM_DELAY_S
    # gunicorn pins each keep-alive connection to the worker that accepted it, and with as
    # many connections as threads one worker often gets them all (the re-run notes count
    # it), capping either app at half the bound; twice as many connections as threads
    # saturate both workers, so the 50 ms targets are judged on the 32-connection rows.
    saturated = _find(rows, "ours50o")

    def row(key: str) -> Row | None:
        return _find(rows, key)

    return [
        ("cached lookup / bare Flask", _ratio(row("cached"), row("bare"))),
        ("WordNet random lemmas / bare Flask", _ratio(row("wordnet"), row("bare"))),
        ("ours / original, 50 ms, 32 conn. (same settings)", _ratio(saturated, row("orig50o"))),
        (
            f"ours, 50 ms, 32 conn. / what {settings.workers}×{settings.threads} threads allow "
            f"({bound:.0f} req/s)",
            saturated.ok_rps / bound if saturated else None,
        ),
        ("ours, 32 conn. / original 2×1 (its own deployment), 50 ms",
         _ratio(saturated, row("orig50x1"))),
        ("ours / original, 50 ms, 16 conn. (same settings)", _ratio(row("ours50"), row("orig50"))),
        ("ours / original, distinct words, 0 ms", _ratio(row("ours0"), row("orig0"))),
        ("ours, 0 ms / fake upstream alone", _ratio(row("ours0"), row("fake0"))),
    ]


def targets(rows: list[Row], settings: Settings) -> list[Target]:
    found = [value for _name, value in ratios(rows, settings)]
    out = [
        _at_least("cached lookup", found[0], 0.85, "× bare Flask"),
        _at_least("WordNet lookup of random words", found[1], 0.6, "× bare Flask"),
        # The anchor figure (34 req/s) is the original in its own sync ×2 deployment; under
        # the same 2×8 threads both apps are capped at threads / 50 ms, so 5× is judged against
        # the anchor's deployment and the same-settings ratio is reported beside it.
        _at_least("50 ms upstream vs the original (its sync 2×1)", found[4], 5.0, "× original"),
        _at_least("50 ms upstream vs concurrency / 50 ms (32 conn.)", found[3], 0.8, "× the bound"),
    ]
    if hang := _find(rows, "hang"):
        out.append(_hang(hang, settings))
    if down := _find(rows, "downp"):
        out.append(_down(down, settings, _find(rows, "barep")))
    if mixed := _find(rows, "mixed"):
        out.append(_mixed(mixed))
    return out


def _at_least(name: str, value: float | None, goal: float, unit: str) -> Target:
    if value is None:
        return Target(name, f"≥ {goal} {unit}", "not measured", False)
    met = value >= goal
    short = "" if met else f"missed by {goal - value:.2f} ({(1 - value / goal) * 100:.0f}% short)"
    return Target(name, f"≥ {goal} {unit}", f"{value:.2f} {unit}", met, short)


def _unexpected(row: Row, allowed: frozenset[str]) -> int:
    return sum(n for s, n in row.statuses.items() if s not in allowed) + sum(
        row.socket_errors.values()
    )


def _hang(row: Row, settings: Settings) -> Target:
    limit_ms = settings.deadline * 1.1 * 1000
    probe = row.probe or {"failed": 1, "asked": 0, "max_ms": 0}
    bad = _unexpected(row, DOCUMENTED_FAILURES)
    met = row.worst_p99_ms <= limit_ms and probe["failed"] == 0 and bad == 0
    return Target(
        "upstream hanging",
        f"p99 ≤ {limit_ms:.0f} ms, `/` always answers, only 503/504",
        f"worst p99 {row.worst_p99_ms:.0f} ms; `/` failed {probe['failed']:.0f} of "
        f"{probe['asked']:.0f} (slowest {probe['max_ms']:.0f} ms); {bad} other responses",
        met,
    )


def _down(row: Row, settings: Settings, bare: Row | None) -> Target:
    # A worker logs when its circuit opens, at most once per cool-down of wall-clock time;
    # the row's rounds are spread over its span, between the other scenarios' rounds.
    bursts = settings.workers * (1 + row.span_s / settings.cooldown)
    bad = _unexpected(row, DOCUMENTED_FAILURES)
    met = row.worst_p99_ms < 10 and row.log["tracebacks"] == 0 and row.log["lines"] <= bursts
    return Target(
        "upstream down",
        f"p99 < 10 ms with the circuit open (paced load); ≤ 1 log line per worker per cool-down "
        f"(≤ {bursts:.0f} here), no tracebacks",
        f"paced: worst p99 {row.worst_p99_ms:.1f} ms (bare Flask `/` alike: "
        f"{bare.worst_p99_ms if bare else float('nan'):.1f} ms); {row.log['lines']} log lines, "
        f"{row.log['tracebacks']} tracebacks; {bad} responses other than 503/504",
        met,
    )


def _mixed(row: Row) -> Target:
    fives = sum(n for s, n in row.statuses.items() if s.startswith("5"))
    growth = _growth(row)
    met = fives == 0 and not row.socket_errors and growth < 10
    return Target(
        "mixed 60 s run",
        "no 5xx (the upstream is healthy), RSS growth < 10% per worker",
        f"{fives} 5xx, {sum(row.socket_errors.values())} socket errors, "
        f"worst worker growth {growth:+.1f}%",
        met,
    )


def _verdict(target: Target) -> str:
    if target.met:
        return "yes"
    return f"**NO**: {target.why}" if target.why else "**NO**"


def wordnet_section(figures: Figures | None) -> list[str]:
    """The embedded dictionary in process, against its targets."""
    if figures is None:
        return []
    f = figures
    build = "not built here (smoke)" if f.build_s is None else f"{f.build_s:.1f} s"
    rows = [
        ("lookup p50 / p99, random lemmas", "p99 < 1 ms", _us(f.random_us), f.random_us[1] < 1000),
        ("lookup p50 / p99, mixed", "", _us(f.mixed_us), f.mixed_us[1] < 1000),
        ("database size", "< 40 MB", f"{f.size_mb:.1f} MB", f.size_mb < 40),
        (
            f"added resident memory, {THREADS} threads each with its connection",
            "< 20 MB per worker",
            f"{f.added_rss_mib:.1f} MiB",
            f.added_rss_mib * 1.048576 < 20,
        ),
        ("build time (wall, fresh interpreter)", "< 60 s", build, (f.build_s or 0) < 60),
    ]
    return [
        "## The embedded dictionary in process",
        "",
        f"{f.lookups:,} lookups of each kind, seed {f.seed}; a lookup is the backend's whole "
        "answer (morphology, SQLite, inflating, JSON bytes). Mixed: ¼ lemmas, ¼ irregular forms, "
        "¼ regular inflections, ¼ misses. The gunicorn ratio is in the targets above.",
        "",
        "| metric | target | measured | met |",
        "|---|---|---|---|",
        *(f"| {name} | {goal} | {value} | {_yes(ok)} |" for name, goal, value, ok in rows),
        "",
    ]


def _yes(met: bool) -> str:
    return "yes" if met else "**NO**"


def _us(p50_p99: tuple[float, float]) -> str:
    return f"{p50_p99[0]:.0f} µs / {p50_p99[1]:.0f} µs"


def render(rows: list[Row], settings: Settings, smoke: bool, figures: Figures | None) -> str:
    """The whole results file."""
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    mode = "SMOKE (harness check only; figures mean nothing)" if smoke else "full"
    lines = [
        f"# Benchmark results ({mode})",
        "",
        f"- Date: {now}",
        f"- Machine: {machine()}",
        f"- gunicorn: gthread, {settings.workers} workers × {settings.threads} threads "
        "(gunicorn.conf.py) on every server",
        f"- Load: wrk, {settings.rounds} interleaved rounds of {settings.seconds} s after "
        f"{settings.warmup} s warm-up; median per row (mixed: {settings.long_seconds} s after "
        f"{settings.long_warmup} s warm-up). 32 connections unless the row says otherwise; "
        "paced: 16 connections, 10 ms pause between requests (≤ 1,600 req/s offered)",
        "- Ratios count 2xx answers only. p99: median of the rounds; targets use the worst round.",
        "",
        table(rows),
        "## Ratios",
        "",
        "| ratio | value |",
        "|---|--:|",
        *(f"| {name} | {'—' if v is None else f'{v:.2f}'} |" for name, v in ratios(rows, settings)),
        "",
        "## Targets",
        "",
        "| target | goal | measured | met |",
        "|---|---|---|---|",
        *(
            f"| {t.name} | {t.goal} | {t.measured} | {_verdict(t)} |"
            for t in targets(rows, settings)
        ),
        "",
        *wordnet_section(figures),
    ]
    return "\n".join(lines)
