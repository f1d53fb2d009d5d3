"""`KongDouble`: one fake Kong node whose entity store is shared by its listeners.

The Admin API listener exists now; issue 6 adds a proxy listener reading the same `store`.
"""

from __future__ import annotations

from types import TracebackType

from .admin import AdminApi
from .server import Listener
from .store import Store

WRITES = ("POST", "PUT", "PATCH", "DELETE")


class KongDouble:
    """A Kong 3.9.3 stand-in on 127.0.0.1; use as a context manager or call start()/stop()."""

    def __init__(self, admin_port: int = 0, dbless: bool = False) -> None:
        self.store = Store()
        self.admin_api = AdminApi(self.store, dbless=dbless)
        self.admin = Listener(self.admin_api, admin_port)

    @property
    def admin_url(self) -> str:
        """Where the Admin API listens."""
        return self.admin.url

    @property
    def requests(self) -> list[tuple[str, str, int]]:
        """(method, target, status) of every Admin API request, oldest first."""
        return self.admin_api.log

    def writes(self) -> list[tuple[str, str, int]]:
        """The Admin API requests that could have changed state."""
        return [r for r in self.requests if r[0] in WRITES]

    def reset(self) -> None:
        """Empty the store and the request log (each corpus scenario starts from an empty Kong)."""
        self.store.reset()
        self.admin_api.log.clear()

    def start(self) -> KongDouble:
        self.admin.start()
        return self

    def stop(self) -> None:
        self.admin.stop()

    def __enter__(self) -> KongDouble:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
