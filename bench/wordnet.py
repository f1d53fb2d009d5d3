"""The embedded dictionary in process: build time, file size, lookup latency, memory.

`measure` times the build in a fresh interpreter, then runs `python -m bench.wordnet`
in another one, so that memory is counted from a clean process, as in a worker
that has just been forked: the lookups run on as many threads as a worker has,
each of which opens its own connection.
"""

from __future__ import annotations

import json
import random
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from dictionary.backends.wordnet import schema
from dictionary.validation import InvalidWord, normalise_word
from tests.servers import REPO

SOURCE = Path("/usr/share/wordnet")
SUFFIXES = ("s", "es", "ed", "ing", "er", "est")
CONSONANTS = "bcdfghjklmnpqrstvwxz"  # strings of these are (almost) never words
THREADS = 8  # gunicorn.conf.py's default threads per worker


@dataclass(frozen=True)
class Figures:
    build_s: float | None  # None: not built here (smoke mode reuses the database)
    size_mb: float
    random_us: tuple[float, float]  # p50, p99
    mixed_us: tuple[float, float]
    added_rss_mib: float
    lookups: int
    seed: int


def measure(database: Path, out: Path, lookups: int, build: bool) -> Figures:
    """Build into `out` (when `build`) and measure that file, else measure `database`."""
    build_s = None
    if build:
        database = out / "wordnet-bench.sqlite3"
        script = REPO / "scripts" / "build_wordnet.py"
        started = time.perf_counter()
        command = [sys.executable, str(script), "--source", str(SOURCE), "--output", str(database)]
        subprocess.run(command, check=True, capture_output=True)  # noqa: S603 - our own script
        build_s = time.perf_counter() - started
    seed = random.randrange(2**32)  # noqa: S311 - sampling words, not secrets
    probe = subprocess.run(  # noqa: S603 - this module, in a fresh interpreter
        [sys.executable, "-m", "bench.wordnet", str(database), str(seed), str(lookups)],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
    )
    found = json.loads(probe.stdout)
    return Figures(
        build_s=build_s,
        size_mb=database.stat().st_size / 1e6,
        random_us=tuple(found["random_us"]),
        mixed_us=tuple(found["mixed_us"]),
        added_rss_mib=found["added_rss_mib"],
        lookups=lookups,
        seed=seed,
    )


def words(name: str) -> list[str]:
    """First fields of the non-header lines of one kind of file (`index.{pos}`, `{pos}.exc`)
    over the four parts of speech, as people write them (spaces, not `_`)."""
    found = set()
    for pos in schema.POS_FILES:
        for line in (SOURCE / name.format(pos=pos)).read_text(errors="replace").splitlines():
            if line and not line.startswith(" "):
                found.add(line.split(" ", 1)[0].replace("_", " "))
    return sorted(found)


def accepted(candidates: Iterable[str]) -> list[str]:
    """The candidates the app would look up, normalised; three lemmas hold a slash
    (`24/7`), which the app refuses."""
    normalised = []
    for word in candidates:
        try:
            normalised.append(normalise_word(word))
        except InvalidWord:
            continue
    return normalised


def inputs(seed: int, count: int) -> dict[str, list[str]]:
    """Random lemmas; and a mix of ¼ lemmas, ¼ irregular forms, ¼ regular inflections, ¼ misses."""
    rng = random.Random(seed)  # noqa: S311 - sampling words, not secrets
    lemmas = words("index.{pos}")
    irregular = words("{pos}.exc")
    single = [lemma for lemma in lemmas if lemma.isalpha()]
    quarter = count // 4
    mixed = [
        *rng.sample(lemmas, quarter),
        *rng.sample(irregular, quarter),
        *(rng.choice(single) + rng.choice(SUFFIXES) for _ in range(quarter)),
        *("".join(rng.choices(CONSONANTS, k=rng.randint(5, 10))) for _ in range(quarter)),
    ]
    rng.shuffle(mixed)
    return {"warm": rng.sample(lemmas, count), "random": rng.sample(lemmas, count), "mixed": mixed}


def _rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc/self/status")


def _latencies_us(lookup: Callable[[str], object], sample: list[str]) -> tuple[float, float]:
    spent = []
    for word in sample:
        started = time.perf_counter_ns()
        lookup(word)
        spent.append((time.perf_counter_ns() - started) / 1e3)
    cuts = statistics.quantiles(spent, n=100)
    return statistics.median(spent), cuts[98]


def probe(database: Path, seed: int, count: int) -> dict[str, object]:
    """Run in a fresh interpreter: memory first (THREADS connections), then latency."""
    from dictionary.backends.wordnet import WordNetDictionary

    lists = {name: accepted(candidates) for name, candidates in inputs(seed, count).items()}
    before = _rss_kib()
    dictionary = WordNetDictionary(database)
    threads = [
        threading.Thread(target=lambda part=part: [dictionary.lookup(w) for w in part])
        for part in (lists["warm"][i::THREADS] for i in range(THREADS))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    added = (_rss_kib() - before) / 1024
    return {
        "added_rss_mib": added,
        "random_us": _latencies_us(dictionary.lookup, lists["random"]),
        "mixed_us": _latencies_us(dictionary.lookup, lists["mixed"]),
    }


if __name__ == "__main__":
    path, seed_text, count_text = sys.argv[1:4]
    print(json.dumps(probe(Path(path), int(seed_text), int(count_text))))
