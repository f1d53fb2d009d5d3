"""Show or rotate a managed consumer's key-auth key (printed only on explicit request)."""

from __future__ import annotations

from .admin import AdminClient
from .errors import ConfigError


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


def rotate_key(client: AdminClient, username: str, tag: str, key: str | None = None) -> str:
    """Create a new key (Kong generates it unless `key` is given), then delete the old ones."""
    _managed_consumer(client, username, tag)
    old = client.list(f"/consumers/{username}/key-auth")
    body: dict = {"tags": [tag]}
    if key:
        client.secrets.add(key)
        body["key"] = key
    new = client.post(f"/consumers/{username}/key-auth", body)
    for row in old:
        client.delete(f"/consumers/{username}/key-auth/{row['id']}")
    return new["key"]
