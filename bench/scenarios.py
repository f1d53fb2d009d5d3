"""The benchmark scenarios, grouped by the upstream they need.

A group starts its servers and its upstream once, warms every scenario up, then
runs the scenarios in turn for several rounds (A B A B ...), so that both sides
of every ratio see the same machine at nearly the same moments.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bench.wrk import Load

OURS = "app:app"
BARE = "bench.bare_app:app"
ORIGINAL = "bench.original_app:app"
FAKE = "fake"  # wrk straight at the fake upstream: is it the bottleneck?

HANG_TIMEOUT_S = 15  # wrk's own timeout: above our deadline + 10%, so it never hides a reply


@dataclass(frozen=True)
class ServerSpec:
    key: str
    app: str  # gunicorn app path, or FAKE
    env: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Scenario:
    key: str  # how the report finds the row
    name: str
    server: str  # a ServerSpec key
    load: Load  # "{salt}" in load.mode is replaced by a salt unique to each run
    probe: bool = False  # ask `/` throughout: does it keep answering?


@dataclass(frozen=True)
class Group:
    name: str
    servers: tuple[ServerSpec, ...]
    scenarios: tuple[Scenario, ...]
    delay: float = 0.0  # the fake upstream's delay; None below means no upstream at all
    fault: str | None = None
    upstream_down: bool = False
    warmup_mode: tuple[str, ...] | None = None  # default: each scenario's own load
    long_run: bool = False  # the 60 s mixed run: one round, RSS sampled every second


def distinct(connections: int = 32, timeout_s: int = 10, pace_ms: int = 0) -> Load:
    return Load(("distinct", "{salt}"), connections, timeout_s=timeout_s, pace_ms=pace_ms)


# Latency targets are read below saturation: 16 connections, each pausing 10 ms between
# requests, offer at most 1,600 req/s, under a third of what bare Flask serves here.
PACED = {"connections": 16, "pace_ms": 10}


def groups(words_file: str, mixed_hot: int = 1000) -> list[Group]:
    """Every scenario; `words_file` lists WordNet lemmas as URL paths."""
    ours_upstream = ServerSpec("ours", OURS, {"DICTIONARY_BACKEND": "upstream"})
    original = ServerSpec("original", ORIGINAL)
    bare = ServerSpec("bare", BARE)
    hang = distinct(timeout_s=HANG_TIMEOUT_S)
    return [
        Group(
            "ceiling",
            (
                bare,
                ours_upstream,
                # No app cache: every random word is a real WordNet lookup.
                ServerSpec(
                    "wordnet",
                    OURS,
                    {"DICTIONARY_BACKEND": "wordnet", "DICTIONARY_CACHE_MAX_BYTES": "0"},
                ),
            ),
            (
                Scenario("bare", "bare Flask `GET /` (ceiling)", "bare", Load(("fixed", "/"))),
                Scenario("cached", "cached lookup `/hello`", "ours", Load(("fixed", "/hello"))),
                Scenario(
                    "wordnet", "WordNet, random lemmas", "wordnet", Load(("words", words_file))
                ),
            ),
        ),
        Group(
            "upstream 0 ms",
            (ours_upstream, original),
            (
                Scenario("fake0", "fake upstream alone, 0 ms", FAKE, distinct()),
                Scenario("ours0", "distinct words, upstream 0 ms", "ours", distinct()),
                Scenario("orig0", "distinct words, upstream 0 ms", "original", distinct()),
            ),
        ),
        Group(
            "upstream 50 ms",
            (
                ours_upstream,
                original,
                # The original's own deployment (the anchor's 34 req/s): one thread per worker.
                ServerSpec("original 2×1", ORIGINAL, {"GUNICORN_THREADS": "1"}),
            ),
            (
                # 16 connections: the concurrency the target names (2 workers × 8 threads).
                Scenario(
                    "ours50", "distinct words, upstream 50 ms, 16 conn.", "ours", distinct(16)
                ),
                Scenario(
                    "orig50", "distinct words, upstream 50 ms, 16 conn.", "original", distinct(16)
                ),
                Scenario(
                    "orig50x1",
                    "distinct words, upstream 50 ms, 16 conn.",
                    "original 2×1",
                    distinct(16),
                ),
                # Twice the concurrency: how each app behaves when clients outnumber threads.
                Scenario("ours50o", "distinct words, upstream 50 ms, 32 conn.", "ours", distinct()),
                Scenario(
                    "orig50o", "distinct words, upstream 50 ms, 32 conn.", "original", distinct()
                ),
            ),
            delay=0.05,
        ),
        Group(
            "upstream down",
            (ours_upstream, original, bare),
            (
                Scenario("down", "upstream down (refused), 32 conn.", "ours", distinct()),
                Scenario("downo", "upstream down (refused), 32 conn.", "original", distinct()),
                Scenario("downp", "upstream down (refused), paced", "ours", distinct(**PACED)),
                Scenario(
                    "barep", "bare Flask `GET /`, paced", "bare", Load(("fixed", "/"), **PACED)
                ),
            ),
            upstream_down=True,
        ),
        Group(
            "upstream hanging",
            (ours_upstream, original),
            (
                Scenario("hang", "upstream hanging 30 s", "ours", hang, probe=True),
                Scenario("hango", "upstream hanging 30 s", "original", hang, probe=True),
            ),
            fault="hang",
            warmup_mode=("fixed", "/"),  # warm the workers without opening the circuit
        ),
        Group(
            "mixed",
            (ours_upstream,),
            (
                Scenario(
                    "mixed",
                    "mixed 80% repeated / 20% new, 60 s",
                    "ours",
                    Load(("mixed", "{salt}", str(mixed_hot), "80")),
                ),
            ),
            long_run=True,
        ),
    ]
