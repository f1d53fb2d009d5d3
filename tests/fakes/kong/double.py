"""`KongDouble`: one fake Kong node whose entity store is shared by its two listeners.

The Admin API writes the store; the proxy reads it on every request, so a change applies at once
(real Kong 3.9.3 needs 2-5.5 s for routes and plugins, about 0.05 s for consumers and keys).
"""

from __future__ import annotations

import time
from types import TracebackType

from .admin import AdminApi
from .proxy import Proxy
from .server import Listener
from .store import Store

WRITES = ("POST", "PUT", "PATCH", "DELETE")


class KongDouble:
    """A Kong 3.9.3 stand-in on 127.0.0.1; use as a context manager or call start()/stop().

    `clock_offset` (seconds) shifts the proxy's wall clock for rate-limit windows and cache
    ages, so a test can start a fresh UTC minute without waiting for one."""

    def __init__(self, admin_port: int = 0, dbless: bool = False, proxy_port: int = 0) -> None:
        self.store = Store()
        self.clock_offset = 0.0
        self.proxy = Proxy(self.store, clock=lambda: time.time() + self.clock_offset)
        self.admin_api = AdminApi(self.store, dbless=dbless, cache=self.proxy.cache)
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

    def writes(self) -> list[tuple[str, str, int]]:
        """The Admin API requests that could have changed state."""
        return [r for r in self.requests if r[0] in WRITES]

    def reset(self) -> None:
        """Empty the store, the proxy's counters and cache, and the request logs (each corpus
        scenario starts from an empty Kong)."""
        self.store.reset()
        self.admin_api.log.clear()
        self.proxy.reset()
        self.clock_offset = 0.0

    def start(self) -> KongDouble:
        self.admin.start()
        self.proxy_listener.start()
        return self

    def stop(self) -> None:
        self.admin.stop()
        self.proxy_listener.stop()

    def __enter__(self) -> KongDouble:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
