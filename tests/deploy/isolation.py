"""Who can open a connection to Kong's Admin API, read off docker-compose.yml and kong.conf.

A model of the few Docker and Kong behaviours the stack's isolation rests on:

* A container reaches another only through a network both joined (Docker drops traffic between
  bridge networks); `network_mode: service:X` shares X's network namespace, loopback included;
  `network_mode: host` shares the host's, so it reaches ports published on the host's
  127.0.0.1.
* Kong takes `admin_listen` from KONG_ADMIN_LISTEN, else kong.conf, else its default
  (loopback). A loopback listener is reachable from its own container only; 0.0.0.0 from every
  container sharing a network with Kong; a host name is resolved by nginx at start and bound to
  every address it gets, and a Docker network alias resolves only on the network that declares
  it, so the listener is reachable from that network's members only.
* A fixed IP address in admin_listen would need a fixed subnet, which can collide with the
  user's networks: it is refused.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from tests.deploy import support

# The services allowed to reach the Admin API besides the Kong node itself.
ADMIN_CLIENTS = frozenset({"provision", "admin-forwarder"})
LOOPBACK = frozenset({"127.0.0.1", "[::1]", "localhost"})
WILDCARD = frozenset({"0.0.0.0", "[::]", "*"})
# Kong 3.9.3's admin_listen default (kong_defaults.lua): loopback only.
KONG_DEFAULT_ADMIN_LISTEN = (
    "127.0.0.1:8001 reuseport backlog=16384, 127.0.0.1:8444 http2 ssl reuseport backlog=16384"
)


@dataclass(frozen=True)
class Stack:
    """The resolved compose services and networks, and kong.conf's settings."""

    services: dict[str, dict[str, Any]]
    networks: dict[str, dict[str, Any]]
    kong_conf: dict[str, str]

    @classmethod
    def from_files(cls, env: dict[str, str]) -> Stack:
        """The project's own stack as Compose resolves it with `env` as .env."""
        compose = support.compose(env)
        return cls(compose["services"], compose.get("networks") or {}, support.kong_conf())

    def members(self, network: str) -> set[str]:
        """The services that joined `network`."""
        return {
            name for name, service in self.services.items()
            if network in support.service_networks(service)
        }

    def neighbours(self, name: str) -> set[str]:
        """The services sharing at least one network with `name`."""
        found: set[str] = set()
        for network in support.service_networks(self.services[name]):
            found |= self.members(network)
        return found - {name}


def admin_listen(service: dict[str, Any], kong_conf: dict[str, str]) -> str:
    """The admin_listen value a Kong node runs with (environment > kong.conf > default)."""
    environment = service.get("environment") or {}
    return str(
        environment.get("KONG_ADMIN_LISTEN")
        or kong_conf.get("admin_listen")
        or KONG_DEFAULT_ADMIN_LISTEN
    )


def kong_nodes(stack: Stack) -> dict[str, dict[str, Any]]:
    """The services that run Kong's gateway."""
    return {name: s for name, s in stack.services.items() if support.is_kong_node(s)}


def admin_endpoints(stack: Stack) -> Iterator[tuple[str, str, int]]:
    """(node, host, port) of every Admin API listener of every Kong node."""
    for name, service in kong_nodes(stack).items():
        for host, port, _ in support.parse_listeners(admin_listen(service, stack.kong_conf)):
            yield name, host, port


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _reach_of_name(stack: Stack, node: str, host: str) -> tuple[set[str], list[str]]:
    """Who reaches a listener bound to host name `host` of `node`, and what is wrong with it."""
    networks = support.service_networks(stack.services[node])
    carrying = [network for network, aliases in networks.items() if host in aliases]
    if host == node or len(carrying) != 1:
        # The service name resolves on every network of the node: as good as 0.0.0.0.
        return stack.neighbours(node), [
            f"{node}: {host} is not an alias of exactly one of its networks"
        ]
    network = carrying[0]
    sharing = sorted(
        other for other in stack.members(network) - {node}
        if host in support.service_networks(stack.services[other])[network]
    )
    problems = [
        f"{node}: {other} also answers to {host} on {network}; nginx would try to bind its "
        f"address" for other in sharing
    ]
    return stack.members(network) - {node}, problems


def admin_exposure(stack: Stack) -> list[str]:
    """Every way a container other than the admin clients could reach an Admin API."""
    problems: list[str] = []
    nodes = kong_nodes(stack)
    for name, service in stack.services.items():
        mode = str(service.get("network_mode", ""))
        if mode == "host":
            problems.append(f"{name}: network_mode host reaches ports published on 127.0.0.1")
        target = mode.partition(":")[2]
        if mode.startswith(("service:", "container:")) and target in nodes \
                and name not in ADMIN_CLIENTS:
            problems.append(f"{name}: shares {target}'s network namespace, loopback included")

    admin_ports = {str(port) for _, _, port in admin_endpoints(stack)}
    for node, host, port in admin_endpoints(stack):
        if host in LOOPBACK:
            continue
        if host in WILDCARD:
            reach = stack.neighbours(node)
        elif _is_ip(host):
            problems.append(f"{node}: admin_listen on {host} needs a fixed subnet")
            continue
        else:
            reach, found = _reach_of_name(stack, node, host)
            problems += found
        outsiders = sorted(reach - ADMIN_CLIENTS)
        if outsiders:
            problems.append(f"{node}: Admin API {host}:{port} reachable from {outsiders}")

    for name, service in stack.services.items():
        for spec in service.get("ports") or []:
            host_ip, _, container_port = support.parse_port(spec)
            if name in nodes and container_port in admin_ports:
                problems.append(f"{name}: publishes its Admin API port; admin-forwarder does")
            if name in ADMIN_CLIENTS and host_ip != "127.0.0.1":
                problems.append(f"{name}: publishes {spec} beyond the host's 127.0.0.1")
    return problems
