"""What apply and plan check before they write anything: the Kong release and Kong's Redis."""

from __future__ import annotations

import socket

from .admin import AdminClient
from .errors import ConfigError
from .model import Gateway


def check_kong_version(client: AdminClient, gateway: Gateway) -> None:
    """Refuse a Kong release the gateway file is not written for (its post-function reads a
    private field of Kong 3.9's rate-limiting, which another release may rename)."""
    if not gateway.kong_version:
        return
    version = str(client.root().get("version") or "unknown")
    if version != gateway.kong_version and not version.startswith(gateway.kong_version + "."):
        raise ConfigError(f"the gateway file is written for Kong {gateway.kong_version}.x, and "
                          f"this Kong is {version}; check the post-function against that "
                          f"release's rate-limiting before changing kong_version")


def resolves(host: str) -> bool:
    try:
        socket.getaddrinfo(host, None)
    except OSError:
        return False
    return True


def check_redis_name(gateway: Gateway) -> str | None:
    """Refuse a Redis host that does not resolve, judged from Kong's network.

    Names like `redis` and `app` are those of Kong's network (compose's). Provision shares that
    network when the service's host resolves from here (the compose job, a Kong on this
    machine): then the Redis host must resolve too. When neither resolves, provision reaches
    Kong through a published port and cannot judge; it says so (returned note) instead."""
    target = gateway.counting.redis if gateway.counting else None
    if target is None or resolves(target.host):
        return None
    if resolves(gateway.service_host):
        raise ConfigError(f"Redis host '{target.host}' ({target.url}) does not resolve; check "
                          f"rate_limiting.redis_url, --redis-url or GATEWAY_REDIS_URL")
    return (f"{target.url} and the service host '{gateway.service_host}' are names of Kong's "
            f"network, not resolvable here: not checked")
