"""Drive load with wrk (C, event loop: far faster than the Flask servers it measures).

Every run is bounded in time (`-d`) and connections (`-c`) and stops by itself; the
Lua script (lua/bench.lua) picks the paths and prints one JSON line of results.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

LUA = Path(__file__).resolve().parent / "lua"


class WrkMissing(RuntimeError):
    """wrk is not installed (`apt-get install -y wrk`; `make bench` does it as root)."""


@dataclass(frozen=True)
class Load:
    """What one wrk run sends: the script mode and its arguments (see lua/bench.lua)."""

    mode: tuple[str, ...]
    connections: int = 32
    threads: int = 1
    timeout_s: int = 10
    pace_ms: int = 0  # > 0: each connection pauses this long between requests (lua/paced.lua)
    headers: tuple[str, ...] = ()  # "Name: value", sent with every request (an API key)

    @property
    def offered_rps(self) -> float | None:
        """The most a paced load can send, ignoring response times."""
        return self.connections * 1000 / self.pace_ms if self.pace_ms else None


@dataclass
class WrkResult:
    requests: int
    duration_s: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    statuses: dict[str, int] = field(default_factory=dict)
    socket_errors: dict[str, int] = field(default_factory=dict)

    @property
    def rps(self) -> float:
        return self.requests / self.duration_s if self.duration_s else 0.0

    @classmethod
    def parse(cls, line: str) -> WrkResult:
        data = json.loads(line)
        return cls(
            requests=data["requests"],
            duration_s=data["duration_us"] / 1e6,
            p50_ms=data["p50_us"] / 1e3,
            p99_ms=data["p99_us"] / 1e3,
            max_ms=data["max_us"] / 1e3,
            statuses=dict(data["statuses"]),
            socket_errors={k: v for k, v in data["socket_errors"].items() if v},
        )


def wrk_path() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise WrkMissing("wrk not found: install it with `apt-get install -y wrk` (Debian)")
    return path


def run(url: str, load: Load, seconds: int) -> WrkResult:
    """One bounded wrk run against `url`; raises if wrk fails or prints no result."""
    command = [
        wrk_path(),
        f"-t{load.threads}",
        f"-c{load.connections}",
        f"-d{seconds}s",
        f"--timeout={load.timeout_s}s",
        *(f"--header={header}" for header in load.headers),
        "-s",
        str(LUA / ("paced.lua" if load.pace_ms else "bench.lua")),
        url,
        "--",
        *load.mode,
    ]
    # wrk stops itself after `seconds`; the subprocess timeout is only a safety net.
    done = subprocess.run(  # noqa: S603 - a fixed program and our own arguments
        command,
        capture_output=True,
        text=True,
        timeout=seconds + load.timeout_s + 30,
        check=False,
        env={**os.environ, "BENCH_PACE_MS": str(load.pace_ms)},
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr.strip()[:500]}")
    return WrkResult.parse(lines[-1])
