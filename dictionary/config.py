"""Settings from environment variables, each with a documented default.

The README's configuration table mirrors `Config`; keep the two in step.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
BACKENDS = ("auto", "upstream", "wordnet")


def _env(name: str, default: Any) -> Any:
    """Read `name` from the environment, converted to the type of `default`."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return type(default)(raw.strip())
    except ValueError:
        raise ValueError(f"{name}={raw!r} is not a valid {type(default).__name__}") from None


def _setting(env: str, default: Any) -> Any:
    """A field read from the environment variable `env` by `Config.from_env`."""
    return field(default=default, metadata={"env": env})


@dataclass(frozen=True)
class Config:
    """Everything the app can be told; `Config.from_env()` is what production uses."""

    backend: str = _setting("DICTIONARY_BACKEND", "auto")
    upstream_url: str = _setting(
        "DICTIONARY_UPSTREAM_URL", "https://api.dictionaryapi.dev/api/v2/entries/en"
    )
    wordnet_path: str = _setting(
        "DICTIONARY_WORDNET_PATH", str(REPO_ROOT / "data" / "wordnet.sqlite3")
    )
    connect_timeout: float = _setting("DICTIONARY_CONNECT_TIMEOUT", 2.0)
    read_timeout: float = _setting("DICTIONARY_READ_TIMEOUT", 5.0)
    deadline: float = _setting("DICTIONARY_DEADLINE", 8.0)
    retries: int = _setting("DICTIONARY_RETRIES", 2)
    # At most this many upstream calls at once per worker; keep it below GUNICORN_THREADS.
    upstream_concurrency: int = _setting(
        "DICTIONARY_UPSTREAM_CONCURRENCY", max(1, _env("GUNICORN_THREADS", 8) - 1)
    )
    # Seconds a lookup may wait for a busy slot while the upstream is answering normally.
    upstream_queue_wait: float = _setting("DICTIONARY_UPSTREAM_QUEUE_WAIT", 0.5)
    max_body_bytes: int = _setting("DICTIONARY_MAX_BODY_BYTES", 1_048_576)
    breaker_threshold: int = _setting("DICTIONARY_BREAKER_THRESHOLD", 5)
    breaker_cooldown: float = _setting("DICTIONARY_BREAKER_COOLDOWN", 30.0)
    rate_limit_retry_after: int = _setting("DICTIONARY_RATE_LIMIT_RETRY_AFTER", 60)
    # Bytes of response bodies kept per worker (about 2-3 KB a word from the upstream).
    cache_max_bytes: int = _setting("DICTIONARY_CACHE_MAX_BYTES", 16 * 1024 * 1024)
    cache_ttl: int = _setting("DICTIONARY_CACHE_TTL", 86_400)
    cache_negative_ttl: int = _setting("DICTIONARY_CACHE_NEGATIVE_TTL", 3_600)
    cache_stale_ttl: int = _setting("DICTIONARY_CACHE_STALE_TTL", 604_800)

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise ValueError(f"DICTIONARY_BACKEND must be one of {', '.join(BACKENDS)}")
        if min(self.connect_timeout, self.read_timeout, self.deadline) <= 0:
            raise ValueError("timeouts and the deadline must be positive")
        if self.retries < 0 or self.cache_max_bytes < 0 or self.max_body_bytes < 1:
            raise ValueError("retries and the cache size must be >= 0, the body cap >= 1")
        if self.upstream_concurrency < 1:
            raise ValueError("DICTIONARY_UPSTREAM_CONCURRENCY must be >= 1")

    @classmethod
    def from_env(cls, **overrides: Any) -> Config:
        """Build from the environment; explicit `overrides` win (tests use them)."""
        values = {f.name: _env(f.metadata["env"], f.default) for f in fields(cls)}
        values.update(overrides)
        return cls(**values)
