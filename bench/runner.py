"""Run the scenario groups: start the servers, warm up, interleave the rounds, stop everything."""

from __future__ import annotations

import re
import secrets
import statistics
import string
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, ExitStack, nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path

from bench import procs, wrk
from bench.scenarios import FAKE, Group, Scenario, ServerSpec
from tests.fakes.upstream import PREFIX, refused_url
from tests.servers import Server, free_port, gunicorn

WARMUP_PIECE_S = 5

ACCESS_LINE = re.compile(r'^\S+ "[A-Z]+ [^"]* HTTP/[\d.]+" \d{3} ')


@dataclass(frozen=True)
class Settings:
    """How long and how hard; the smoke mode shrinks everything but keeps every scenario."""

    seconds: int = 6
    warmup: int = 3
    rounds: int = 5
    # Tries again when wrk's connections all landed on one worker, which then serves about a
    # quarter of what two do. That happens to about a third of rounds, so 5 more tries leave
    # an unbalanced round in well under 1% of rows.
    reruns: int = 5
    long_seconds: int = 60
    # Long enough for the mixed load (20% new words) to fill the app's byte-bounded cache
    # (16 MiB per worker, about 6,000 words): "stable after warm-up" then measures leaks,
    # not the cache filling up to the bound it was given.
    long_warmup: int = 45
    workers: int = 2
    threads: int = 8
    env: dict[str, str] = field(default_factory=dict)  # for every server (timeouts, WordNet)

    @property
    def deadline(self) -> float:
        return float(self.env.get("DICTIONARY_DEADLINE", 8.0))

    @property
    def cooldown(self) -> float:
        return float(self.env.get("DICTIONARY_BREAKER_COOLDOWN", 30.0))


@dataclass
class Row:
    """One scenario on one server, over all its rounds."""

    key: str
    group: str
    scenario: str
    server: str
    results: list[wrk.WrkResult] = field(default_factory=list)
    reruns: int = 0  # rounds measured again because one worker got all the connections
    unbalanced: int = 0  # rounds where that still happened on the last try
    logged_s: float = 0.0  # load time of every attempt, re-runs included: the log covers it all
    # From the first attempt's start to the last one's end: time-based events (a circuit's
    # cool-down ending) happen on this clock, whichever row is being measured at the time.
    first_started: float = 0.0
    last_ended: float = 0.0
    peak_rss_mib: float = 0.0
    probe: dict[str, float] | None = None
    log: dict[str, int] = field(default_factory=lambda: {"lines": 0, "tracebacks": 0, "bytes": 0})
    rss: dict[int, list[tuple[float, int]]] | None = None  # the long run's samples per worker

    @property
    def rps(self) -> float:
        return statistics.median(r.rps for r in self.results)

    @property
    def ok_rps(self) -> float:
        """Successful answers per second: the throughput that counts (a 503 is not a lookup)."""
        return statistics.median(
            sum(n for s, n in r.statuses.items() if s.startswith("2")) / r.duration_s
            for r in self.results
        )

    @property
    def p50_ms(self) -> float:
        return statistics.median(r.p50_ms for r in self.results)

    @property
    def p99_ms(self) -> float:
        return statistics.median(r.p99_ms for r in self.results)

    @property
    def worst_p99_ms(self) -> float:
        return max(r.p99_ms for r in self.results)

    @property
    def span_s(self) -> float:
        return self.last_ended - self.first_started

    @property
    def seconds(self) -> float:
        return sum(r.duration_s for r in self.results)

    @property
    def statuses(self) -> Counter[str]:
        return sum((Counter(r.statuses) for r in self.results), Counter())

    @property
    def socket_errors(self) -> Counter[str]:
        return sum((Counter(r.socket_errors) for r in self.results), Counter())


def letters(n: int) -> str:
    """`n` in base 26 with letters: salts must pass the app's word validation."""
    out = ""
    while True:
        n, r = divmod(n, 26)
        out = string.ascii_lowercase[r] + out
        if n == 0:
            return out


def run_group(group: Group, settings: Settings, logs: Path) -> list[Row]:
    """Start the group's processes, measure every scenario, and stop them all."""
    run_id = "".join(secrets.choice(string.ascii_lowercase) for _ in range(4))
    port = free_port()
    fake_url = f"http://127.0.0.1:{port}{PREFIX.rstrip('/')}"
    upstream = refused_url() if group.upstream_down else fake_url
    with ExitStack() as stack:
        group_logs = logs / _slug(group.name)
        servers = _start_servers(group.servers, settings, upstream, group_logs, stack)
        targets = {key: (server.url, server.process.pid) for key, server in servers.items()}
        if not group.upstream_down:
            # Entered last so it stops first: requests hanging on it end before gunicorn stops.
            fake = procs.fake_upstream(port, group.delay, group_logs / "fake.log", group.fault)
            targets[FAKE] = stack.enter_context(fake)
        rows = [Row(s.key, group.name, s.name, s.server) for s in group.scenarios]
        _warm_up(group, settings, targets)
        rounds = 1 if group.long_run else settings.rounds
        for number in range(rounds):
            for index, (scenario, row) in enumerate(zip(group.scenarios, rows, strict=True)):
                salt = f"{run_id}r{letters(number)}s{letters(index)}"
                _measure(scenario, row, group, settings, targets, servers, salt)
        for _url, pid in targets.values():
            procs.STARTED.extend(procs.children(pid))
        return rows


def _start_servers(
    specs: tuple[ServerSpec, ...], settings: Settings, upstream: str, logs: Path, stack: ExitStack
) -> dict[str, Server]:
    """Start the gunicorn servers side by side (in parallel: start-up is slow, load is not)."""
    logs.mkdir(parents=True, exist_ok=True)
    base = {
        "WEB_CONCURRENCY": str(settings.workers),
        "GUNICORN_THREADS": str(settings.threads),
        "DICTIONARY_UPSTREAM_URL": upstream,
        **settings.env,
    }
    managers = {
        spec.key: gunicorn(spec.app, {**base, **spec.env}, logs / f"{_slug(spec.key)}.log")
        for spec in specs
    }
    with ThreadPoolExecutor(len(managers)) as pool:
        futures = {key: pool.submit(manager.__enter__) for key, manager in managers.items()}
    servers, failure = {}, None
    for key, future in futures.items():
        try:
            servers[key] = future.result()
        except Exception as exc:  # stop the others, then report the first
            failure = failure or exc
            continue
        stack.push(managers[key].__exit__)
        procs.STARTED.append(servers[key].process.pid)
        procs.STARTED.extend(procs.children(servers[key].process.pid))
    if failure is not None:
        raise failure
    return servers


def _warm_up(group: Group, settings: Settings, targets: dict[str, tuple[str, int]]) -> None:
    """Load each server for the warm-up time, in pieces of at most WARMUP_PIECE_S seconds.

    Each piece opens new connections, so every worker gets some: in one long piece all
    connections may stay on one worker, and the other then warms up during the measurement.
    """
    seconds = settings.long_warmup if group.long_run else settings.warmup
    for scenario in group.scenarios:
        load = scenario.load
        if group.warmup_mode:
            load = replace(load, mode=group.warmup_mode)
        left, piece = seconds, 0
        while left > 0:
            url = targets[scenario.server][0]
            wrk.run(url, _salted(load, f"warm{letters(piece)}"), min(left, WARMUP_PIECE_S))
            left, piece = left - WARMUP_PIECE_S, piece + 1


def _measure(
    scenario: Scenario,
    row: Row,
    group: Group,
    settings: Settings,
    targets: dict[str, tuple[str, int]],
    servers: dict[str, Server],
    salt: str,
) -> None:
    """One round of one scenario, with its RSS, probe and log accounting."""
    url, pid = targets[scenario.server]
    server = servers.get(scenario.server)
    log_mark = server.log_path.stat().st_size if server else 0
    seconds = settings.long_seconds if group.long_run else settings.seconds
    workers = procs.children(pid) or [pid]
    tries = 1 if group.long_run else settings.reruns + 1
    row.first_started = row.first_started or time.monotonic()
    for attempt in range(tries):
        before = [procs.cpu_ticks(worker) for worker in workers]
        sampler = procs.RssSampler(pid) if group.long_run else nullcontext()
        prober: AbstractContextManager = (
            procs.Prober(url + "/") if scenario.probe else nullcontext()
        )
        with sampler as rss, prober as probe:
            result = wrk.run(url, _salted(scenario.load, f"{salt}t{letters(attempt)}"), seconds)
        row.logged_s += result.duration_s  # the log is read over every attempt
        if probe is not None:
            _add_probe(row, probe)  # every attempt counts: a failed probe is never retried away
        if _balanced(workers, before):
            break
        if attempt == tries - 1:
            row.unbalanced += 1  # kept, and said so in the report
            break
        row.reruns += 1
    row.results.append(result)
    row.last_ended = time.monotonic()
    peaks = [procs.status_kib(worker, "VmHWM") or 0 for worker in workers]
    row.peak_rss_mib = max(row.peak_rss_mib, max(peaks) / 1024)
    if rss is not None:
        row.rss = rss.samples
    if server:
        _add_log(row, server.log_path, log_mark)


def _balanced(workers: list[int], before: list[int]) -> bool:
    """False when one worker did almost all the work: wrk's keep-alive connections all went
    to it, so the round measured one process, not the server (gthread pins a connection to
    the worker that accepted it)."""
    spent = [procs.cpu_ticks(w) - b for w, b in zip(workers, before, strict=True)]
    total = sum(spent)
    return len(workers) < 2 or total < 50 or max(spent) <= 0.8 * total


def _salted(load: wrk.Load, salt: str) -> wrk.Load:
    return replace(load, mode=tuple(part.replace("{salt}", salt) for part in load.mode))


def _add_probe(row: Row, probe: procs.Prober) -> None:
    previous = row.probe or {"asked": 0, "failed": 0, "max_ms": 0.0}
    row.probe = {
        "asked": previous["asked"] + len(probe.latencies_ms) + len(probe.failures),
        "failed": previous["failed"] + len(probe.failures),
        "max_ms": max([previous["max_ms"], *probe.latencies_ms]),
    }


def _add_log(row: Row, path: Path, mark: int) -> None:
    """Count what the server logged in this round, apart from its one access line a request."""
    with path.open("rb") as log:
        log.seek(mark)
        text = log.read().decode(errors="replace")
    other = [line for line in text.splitlines() if not ACCESS_LINE.match(line)]
    row.log["lines"] += len(other)
    row.log["tracebacks"] += sum("Traceback (most recent call last)" in line for line in other)
    row.log["bytes"] += sum(len(line) + 1 for line in other)


def _slug(key: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", key.lower()).strip("-")
