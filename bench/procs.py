"""The processes a benchmark runs, and what it watches in them while load runs.

Everything listens on 127.0.0.1 only. Every process started here is recorded in
`STARTED`, so the smoke test can prove that none outlives the run.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

import requests

from tests.fakes.upstream import PREFIX
from tests.servers import REPO, stop, wait_http

STARTED: list[int] = []  # pids of every process started by the bench (masters and workers)


@contextmanager
def fake_upstream(
    port: int, delay: float, log_path: Path, fault: str | None = None
) -> Iterator[tuple[str, int]]:
    """Run the tests' fake upstream in its own process, every word found; yield URL and pid."""
    command = [sys.executable, "-m", "tests.fakes.upstream", "--answer-all"]
    command += ["--port", str(port), "--delay", str(delay)]
    command += ["--fault", fault] if fault else []
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 - our own module
            command, cwd=REPO, stdout=log, stderr=subprocess.STDOUT
        )
    STARTED.append(process.pid)
    url = f"http://127.0.0.1:{port}{PREFIX.rstrip('/')}"
    try:
        # Any answer will do: the fake answers 404 for a path outside the API.
        wait_http(f"http://127.0.0.1:{port}/", timeout=10, process=process)
        yield url, process.pid
    finally:
        stop(process)


def children(pid: int) -> list[int]:
    """Direct children of `pid` (gunicorn's workers), read from /proc."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return sorted(found)


def status_kib(pid: int, key: str) -> int | None:
    """A size line of /proc/<pid>/status in KiB (VmRSS now, VmHWM the peak), if alive."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def cpu_ticks(pid: int) -> int:
    """User + system CPU time of `pid` in clock ticks (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])


def alive(pid: int) -> bool:
    """True unless the process is gone or a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


class _Background:
    """Runs `_loop` in a thread for the `with` block; `_loop` returns once `_stop` is set."""

    _stop: threading.Event

    def __enter__(self) -> Self:
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        raise NotImplementedError


@dataclass
class RssSampler(_Background):
    """Samples the resident memory of each worker of a gunicorn master, every `interval` s."""

    master: int
    interval: float = 1.0
    samples: dict[int, list[tuple[float, int]]] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)

    def _loop(self) -> None:
        started = time.monotonic()
        while True:
            for pid in children(self.master):
                rss = status_kib(pid, "VmRSS")
                if rss is not None:
                    self.samples.setdefault(pid, []).append((time.monotonic() - started, rss))
            if self._stop.wait(self.interval):
                return

    def peak_mib(self) -> float:
        """The highest resident size any worker reached while sampled."""
        return max((kib for s in self.samples.values() for _, kib in s), default=0) / 1024


@dataclass
class Prober(_Background):
    """Asks `url` every `interval` s on a fresh connection, as a new client would."""

    url: str
    interval: float = 0.2
    timeout: float = 1.0
    latencies_ms: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def _loop(self) -> None:
        while not self._stop.is_set():
            started = time.perf_counter()
            try:
                status = requests.get(self.url, timeout=self.timeout).status_code
            except requests.RequestException as exc:
                self.failures.append(type(exc).__name__)
            else:
                self.latencies_ms.append((time.perf_counter() - started) * 1e3)
                if status != 200:
                    self.failures.append(str(status))
            self._stop.wait(self.interval)
