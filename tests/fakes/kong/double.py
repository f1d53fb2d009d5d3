"""`KongDouble`: one fake Kong node whose entity store its two listeners share.

The Admin API writes the store; the proxy reads routes, services and plugins from the worker a
connection landed on, which rebuilds them on its own timer like Kong's nginx workers (0 to
~5.5 s after a write with the defaults), and reads consumers and credentials at once. Several
nodes may share one store (PostgreSQL) and one Redis, as Kong nodes do: pass `store=` the
first node's store; each node keeps its own workers, local counters and cache.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from types import TracebackType

from .admin import AdminApi
from .proxy import Proxy
from .ratelimit import RedisCounters
from .server import Listener
from .store import KONG_SHARED_DICTS, Store
from .workers import Workers

WRITES = ("POST", "PUT", "PATCH", "DELETE")
SHARED_DICT_KEY = re.compile(r"^\s*nginx_http_lua_shared_dict\s*=\s*(\S+)", re.M)


def shared_dicts(kong_conf: Path) -> frozenset[str]:
    """Kong's own shared dictionaries plus those a kong.conf injects."""
    return KONG_SHARED_DICTS | set(SHARED_DICT_KEY.findall(kong_conf.read_text()))


class KongDouble:
    """A Kong 3.9.3 stand-in on 127.0.0.1; use as a context manager or call start()/stop().

    `kong_conf` adds the shared dictionaries a kong.conf injects (proxy-cache may name one).
    `worker_state_update_frequency` (Kong's default 5 s; None: no timers, `propagate()` only)
    and `db_update_frequency` (cluster events between nodes) time when writes reach the proxy.
    `clock_offset` (seconds) shifts the proxy's wall clock for rate-limit windows and cache
    ages, so a test can start a fresh UTC minute without waiting for one; `count_delay` delays
    the counting of a passed request by the local and cluster rate-limiting policies."""

    def __init__(self, admin_port: int = 0, dbless: bool = False, proxy_port: int = 0, *,
                 workers: int = 2, worker_state_update_frequency: float | None = 5.0,
                 db_update_frequency: float = 5.0, store: Store | None = None,
                 kong_conf: Path | None = None) -> None:
        self.store = store or Store(shared_dicts(kong_conf) if kong_conf else KONG_SHARED_DICTS)
        self.clock_offset = 0.0
        self.workers = Workers(self.store, workers, worker_state_update_frequency,
                               db_update_frequency)
        self.redis = RedisCounters()
        self.proxy = Proxy(self.store, self.workers,
                           clock=lambda: time.time() + self.clock_offset,
                           cluster=self.store.cluster_counters, redis_counters=self.redis)
        configuration = {"worker_state_update_frequency": worker_state_update_frequency or 5,
                         "db_update_frequency": db_update_frequency,
                         "db_update_propagation": 0}
        self.admin_api = AdminApi(self.store, dbless=dbless, cache=self.proxy.cache,
                                  configuration=configuration, workers=workers,
                                  on_write=self.workers.heard)
        self.admin = Listener(self.admin_api, admin_port)
        self.proxy_listener = Listener(self.proxy, proxy_port)

    @property
    def admin_url(self) -> str:
        """Where the Admin API listens."""
        return self.admin.url

    @property
    def proxy_url(self) -> str:
        """Where the proxy listens."""
        return self.proxy_listener.url

    @property
    def requests(self) -> list[tuple[str, str, int]]:
        """(method, target, status) of every Admin API request, oldest first."""
        return self.admin_api.log

    @property
    def count_delay(self) -> float:
        return self.proxy.rate_limiting.count_delay

    @count_delay.setter
    def count_delay(self, seconds: float) -> None:
        self.proxy.rate_limiting.count_delay = seconds

    def writes(self) -> list[tuple[str, str, int]]:
        """The Admin API requests that could have changed state."""
        return [r for r in self.requests if r[0] in WRITES]

    def propagate(self) -> None:
        """Every worker rebuilds now: what real Kong reaches 2-5.5 s after a write."""
        self.workers.rebuild()

    def reset(self) -> None:
        """Empty the store, the proxy's counters and cache, and the request logs (each corpus
        scenario starts from an empty Kong)."""
        self.store.reset()
        self.admin_api.log.clear()
        self.proxy.reset()
        self.clock_offset = 0.0
        self.propagate()

    def start(self) -> KongDouble:
        self.admin.start()
        self.proxy_listener.start()
        self.workers.start()
        return self

    def stop(self) -> None:
        self.workers.stop()
        self.admin.stop()
        self.proxy_listener.stop()
        self.redis.close()

    def __enter__(self) -> KongDouble:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
