"""QoS plans: the rate-limiting configuration of every plan and of the route's default.

gateway.yaml declares plans (limits per window), the plan the route applies to consumers without
one of their own (`default_plan`), and how the limits are counted (`rate_limiting`: in Redis, so
that every Kong node shares one count). Everything is validated here, before anything is written
to Kong: an undeclared plan, a limit that is not a positive whole number, an unknown window,
limits that shrink as windows grow, a Redis URL that cannot be used.
"""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from .errors import ConfigError

WINDOWS = ("second", "minute", "hour", "day", "month", "year")
POLICIES = ("redis", "local", "cluster")
PASSWORD_ENV, PASSWORD_FILE_ENV, URL_ENV = (
    "GATEWAY_REDIS_PASSWORD", "GATEWAY_REDIS_PASSWORD_FILE", "GATEWAY_REDIS_URL")


@dataclass(frozen=True)
class RedisTarget:
    """Where Kong keeps the counters: host and port as Kong reaches them."""

    host: str
    port: int
    database: int
    ssl: bool
    password: str | None          # None: not supplied here (keep what Kong already has)

    @property
    def url(self) -> str:
        scheme = "rediss" if self.ssl else "redis"
        return f"{scheme}://{self.host}:{self.port}/{self.database}"


@dataclass(frozen=True)
class Counting:
    """How every plan's requests are counted (rate-limiting's policy settings)."""

    policy: str
    redis: RedisTarget | None
    timeout: int                  # ms, Redis connect/read/write
    sync_rate: float
    fault_tolerant: bool

    def config(self) -> dict:
        """The rate-limiting config fields these settings fix."""
        out: dict = {"policy": self.policy, "fault_tolerant": self.fault_tolerant}
        if self.redis is None:
            return out
        redis = {"host": self.redis.host, "port": self.redis.port,
                 "database": self.redis.database, "ssl": self.redis.ssl,
                 "timeout": self.timeout}
        if self.redis.password is not None:
            redis["password"] = self.redis.password
        return {**out, "sync_rate": self.sync_rate, "redis": redis}


def plans(spec: dict) -> dict[str, dict[str, int]]:
    """The declared plans, each a mapping of window to a positive whole limit."""
    declared = spec.get("plans") or {}
    if not isinstance(declared, dict) or not declared:
        raise ConfigError("gateway file: `plans` must declare at least one plan")
    return {name: _limits(name, limits) for name, limits in declared.items()}


def _limits(plan: str, limits: object) -> dict[str, int]:
    if not isinstance(limits, dict) or not limits:
        raise ConfigError(f"plan '{plan}' must map windows to limits, e.g. {{minute: 10}}")
    unknown = [w for w in limits if w not in WINDOWS]
    if unknown:
        raise ConfigError(f"plan '{plan}' has an unknown window '{unknown[0]}' "
                          f"(windows: {', '.join(WINDOWS)})")
    for window, limit in limits.items():
        if isinstance(limit, bool) or not isinstance(limit, int) or limit <= 0:
            raise ConfigError(f"plan '{plan}': the {window} limit must be a positive whole "
                              f"number, not {limit!r}")
    ordered = [(w, limits[w]) for w in WINDOWS if w in limits]
    for (small, low), (big, high) in itertools.pairwise(ordered):
        if high < low:
            raise ConfigError(f"plan '{plan}': the {big} limit ({high}) cannot be lower than "
                              f"the {small} limit ({low})")
    return {w: limits[w] for w, _ in ordered}


def default_plan(spec: dict, declared: dict[str, dict[str, int]]) -> str:
    """The plan the route applies to consumers that have none (created by hand)."""
    name = spec.get("default_plan")
    if name not in declared:
        raise ConfigError(f"default_plan '{name}' is not a declared plan "
                          f"(plans: {', '.join(declared)})")
    return name


def counting(spec: dict, redis_url: str | None = None) -> Counting:
    """The `rate_limiting` section, with the Redis URL and password from the environment."""
    section = spec.get("rate_limiting") or {}
    policy = section.get("policy", "local")
    if policy not in POLICIES:
        raise ConfigError(f"rate_limiting.policy '{policy}' is not one of {', '.join(POLICIES)}")
    timeout = section.get("timeout", 2000)
    sync_rate = section.get("sync_rate", -1)
    if not isinstance(timeout, int) or timeout <= 0:
        raise ConfigError(f"rate_limiting.timeout must be a positive number of ms, not {timeout!r}")
    if sync_rate != -1 and (not isinstance(sync_rate, int | float) or sync_rate < 0.02):
        raise ConfigError("rate_limiting.sync_rate must be -1 (count every request in Redis) "
                          "or at least 0.02 seconds")
    target = None
    if policy == "redis":
        url = redis_url or os.environ.get(URL_ENV) or section.get("redis_url")
        target = redis_target(url)
    return Counting(policy, target, timeout, sync_rate, bool(section.get("fault_tolerant", True)))


def redis_target(url: object) -> RedisTarget:
    """redis://host:port/db (rediss:// for TLS); the password never comes from the URL."""
    if not isinstance(url, str) or not url:
        raise ConfigError(f"the redis policy needs a Redis URL (rate_limiting.redis_url or "
                          f"{URL_ENV}), e.g. redis://redis:6379/0")
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss") or not parts.hostname:
        raise ConfigError(f"Redis URL '{url}' must look like redis://host:6379/0")
    if parts.password or parts.username:
        raise ConfigError(f"Redis URL '{parts.scheme}://...@{parts.hostname}' carries "
                          f"credentials: give the password in {PASSWORD_FILE_ENV} or "
                          f"{PASSWORD_ENV} instead (URLs end up in logs)")
    try:
        port = parts.port or 6379
        database = int(parts.path.strip("/") or 0)
    except ValueError:
        raise ConfigError(f"Redis URL '{url}' has a bad port or database number") from None
    return RedisTarget(parts.hostname, port, database, parts.scheme == "rediss",
                       _password())


def _password() -> str | None:
    path = os.environ.get(PASSWORD_FILE_ENV)
    if path:
        try:
            return Path(path).read_text(encoding="utf-8").strip()
        except OSError as error:
            raise ConfigError(f"cannot read the Redis password file {path} ({PASSWORD_FILE_ENV}):"
                              f" {error.strerror}") from None
    return os.environ.get(PASSWORD_ENV) or None
