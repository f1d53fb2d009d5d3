"""Only the provisioner, the forwarder and the host's 127.0.0.1 can reach Kong's Admin API.

The Admin API of Kong OSS has no authentication: whatever reaches it can read every API key and
rewrite the gateway. The design (docs/operations.md, "Admin API isolation"): Kong's admin
listener is bound to its alias on the internal `admin-api` network, which only the provisioner
and admin-forwarder join; the forwarder publishes it on the host's 127.0.0.1. The checker in
isolation.py models the Docker and Kong behaviours this rests on; each mutation below is a
plausible edit that would expose the Admin API again, and must be caught.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

import pytest

from tests.deploy import support
from tests.deploy.isolation import ADMIN_CLIENTS, Stack, admin_endpoints, admin_exposure

Mutation = Callable[[Stack], None]


@pytest.fixture(params=sorted(support.ENVIRONMENTS))
def stack(request: pytest.FixtureRequest) -> Stack:
    """The stack as Compose resolves it, once per environment."""
    return Stack.from_files(support.ENVIRONMENTS[request.param]())


def the_admin_endpoint(stack: Stack) -> tuple[str, int]:
    """(host, port) of the one Admin API listener other containers may reach."""
    exposed = [(host, port) for node, host, port in admin_endpoints(stack)
               if node == "kong" and host != "127.0.0.1"]
    assert len(exposed) == 1, exposed
    return exposed[0]


# ---------------------------------------------------------------- mutations


def _env(stack: Stack, service: str) -> dict[str, Any]:
    return stack.services[service].setdefault("environment", {})


def _join(service: str, network: str, *aliases: str) -> Mutation:
    def mutate(stack: Stack) -> None:
        networks = stack.services[service].setdefault("networks", {})
        if isinstance(networks, list):
            networks = stack.services[service]["networks"] = {name: {} for name in networks}
        networks[network] = {"aliases": list(aliases)} if aliases else {}
    return mutate


def _listen_on(value: str) -> Mutation:
    def mutate(stack: Stack) -> None:
        _env(stack, "kong")["KONG_ADMIN_LISTEN"] = value
    return mutate


def _conf_listen_on_all(stack: Stack) -> None:
    del _env(stack, "kong")["KONG_ADMIN_LISTEN"]
    stack.kong_conf["admin_listen"] = "0.0.0.0:8001 reuseport backlog=16384"


def _conf_listen_on_all_for_kong_2(stack: Stack) -> None:
    stack.kong_conf["admin_listen"] = "0.0.0.0:8001"


def _share_namespace(service: str, target: str) -> Mutation:
    def mutate(stack: Stack) -> None:
        stack.services[service].pop("networks", None)
        stack.services[service]["network_mode"] = f"service:{target}"
    return mutate


def _host_network(stack: Stack) -> None:
    stack.services["app"].pop("networks", None)
    stack.services["app"]["network_mode"] = "host"


def _publish_admin_on_kong(stack: Stack) -> None:
    stack.services["kong"]["ports"].append("127.0.0.1:8001:8001")


def _forward_on_every_interface(stack: Stack) -> None:
    stack.services["admin-forwarder"]["ports"] = ["8001:8001"]


def _admin_alias_on_the_default_network(stack: Stack) -> None:
    # A service without `networks` joins `default`: the alias there is seen by app.
    stack.services["app"].pop("networks")
    del stack.services["kong"]["networks"]["admin-api"]
    _join("kong", "default", "kong-admin")(stack)


MUTATIONS: dict[str, Mutation] = {
    "app joins the admin network": _join("app", "admin-api"),
    "the alias is also on the app's network": _join("kong", "gateway", "kong-proxy", "kong-admin"),
    "kong-2 carries the admin alias too": _join("kong-2", "admin-api", "kong-admin"),
    "admin listens on every interface": _listen_on("0.0.0.0:8001 reuseport backlog=16384"),
    "admin listens on the service name": _listen_on("kong:8001"),
    "admin listens on a fixed address": _listen_on("172.28.0.2:8001"),
    "kong.conf listens on every interface": _conf_listen_on_all,
    "kong-2 inherits 0.0.0.0 from kong.conf": _conf_listen_on_all_for_kong_2,
    "app shares Kong's network namespace": _share_namespace("app", "kong"),
    "app uses the host's network": _host_network,
    "Kong publishes the admin port itself": _publish_admin_on_kong,
    "the forwarder publishes on 0.0.0.0": _forward_on_every_interface,
    "the admin alias moves to the default network": _admin_alias_on_the_default_network,
}


def test_the_stack_exposes_the_admin_api_to_no_one_else(stack: Stack) -> None:
    """No container but the provisioner and the forwarder reaches an Admin API."""
    assert admin_exposure(stack) == []


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_each_exposure_is_caught(stack: Stack, mutation: str) -> None:
    """The checker fails on each edit that would let another container in."""
    mutated = copy.deepcopy(stack)
    MUTATIONS[mutation](mutated)
    assert admin_exposure(mutated) != []


def test_the_app_cannot_reach_the_admin_listener(stack: Stack) -> None:
    """From `app`, kong:8001 is refused (nothing listens there) and kong-admin is unknown."""
    host, port = the_admin_endpoint(stack)
    kong_networks = support.service_networks(stack.services["kong"])
    app_networks = support.service_networks(stack.services["app"])
    carrying = {network for network, aliases in kong_networks.items() if host in aliases}
    assert carrying == {"admin-api"}
    assert not carrying & set(app_networks)
    assert port == 8001


def test_admin_network_members_are_exactly_kong_and_its_clients(stack: Stack) -> None:
    """The admin-api network is joined by Kong, the provisioner and the forwarder, and internal."""
    assert stack.members("admin-api") == {"kong"} | ADMIN_CLIENTS
    assert stack.networks["admin-api"].get("internal") is True


def test_no_network_has_a_fixed_subnet(stack: Stack) -> None:
    """Docker picks every subnet from its pools, so none collides with a network it knows."""
    for name, network in stack.networks.items():
        assert "ipam" not in (network or {}), name
    for name, service in stack.services.items():
        for network, spec in (service.get("networks") or {}).items() \
                if isinstance(service.get("networks"), dict) else []:
            assert not {"ipv4_address", "ipv6_address"} & set(spec or {}), (name, network)


def test_forwarder_relays_to_the_admin_listener(stack: Stack) -> None:
    """socat listens on the published container port and connects to Kong's admin alias."""
    host, port = the_admin_endpoint(stack)
    forwarder = stack.services["admin-forwarder"]
    listen, target = [arg for arg in forwarder["command"] if not arg.startswith("-")]
    listen_port = re.fullmatch(r"TCP-LISTEN:(\d+)(,.*)?", listen)
    assert listen_port is not None, listen
    assert ",fork" in listen  # one child per connection, each resolving the alias anew
    assert re.fullmatch(rf"TCP:{re.escape(host)}:{port}(,.*)?", target), target
    published = [support.parse_port(spec) for spec in forwarder["ports"]]
    assert [(ip, inner) for ip, _, inner in published] == [("127.0.0.1", listen_port.group(1))]
    # Docker publishes no port of a container whose networks are all internal.
    networks = support.service_networks(forwarder)
    assert any(not (stack.networks.get(n) or {}).get("internal") for n in networks)


def test_provisioner_uses_the_admin_alias(stack: Stack) -> None:
    """KONG_ADMIN_URL names the one address the provisioner can reach."""
    host, port = the_admin_endpoint(stack)
    assert _env(stack, "provision")["KONG_ADMIN_URL"] == f"http://{host}:{port}"
    assert "--admin-url" not in stack.services["provision"]["command"]
