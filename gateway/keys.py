"""Show or rotate a managed consumer's key-auth key (printed only on explicit request)."""

from __future__ import annotations

import time

from .admin import AdminClient
from .errors import ConfigError
from .model import Gateway
from .propagation import Barrier


def _managed_consumer(client: AdminClient, username: str, tag: str) -> dict:
    consumer = client.get(f"/consumers/{username}")
    if consumer is None:
        raise ConfigError(f"consumer '{username}' does not exist in Kong; run apply first")
    if tag not in (consumer.get("tags") or []):
        raise ConfigError(f"consumer '{username}' is not managed by provision (no '{tag}' tag)")
    return consumer


def show_keys(client: AdminClient, username: str, tag: str) -> list[str]:
    """The consumer's current keys (usually one)."""
    _managed_consumer(client, username, tag)
    return [row["key"] for row in client.list(f"/consumers/{username}/key-auth")]


def rotate_key(client: AdminClient, gateway: Gateway, username: str, barrier: Barrier,
               key: str | None = None) -> str:
    """Create a new key (Kong generates it unless `key` is given), then delete the old ones.

    The new key works at once, so its plan must already be in force on every Kong worker: a
    consumer without its plan in Kong is refused, and a plan written less time ago than Kong
    needs to apply it is waited for first."""
    tag = gateway.tag
    _managed_consumer(client, username, tag)
    plan = client.get(f"/plugins/plan-{username}")
    if plan is None:
        raise ConfigError(f"consumer '{username}' has no plan in Kong (plugin plan-{username}); "
                          f"run apply first")
    changed = plan.get("updated_at") or plan.get("created_at") or 0
    if time.time() - changed < barrier.bound():
        barrier.wait()
    old = client.list(f"/consumers/{username}/key-auth")
    body: dict = {"tags": [tag]}
    if key:
        client.secrets.add(key)
        body["key"] = key
    new = client.post(f"/consumers/{username}/key-auth", body)
    for row in old:
        client.delete(f"/consumers/{username}/key-auth/{row['id']}")
    return new["key"]
