"""Wait until every Kong worker serves what provisioning just wrote.

Kong 3.9 (worker_consistency = eventual) applies a new or changed route or plugin on each nginx
worker only when that worker's timer rebuilds its router and plugins iterator, every
`worker_state_update_frequency` seconds, and on other nodes only after they have polled the
change (`db_update_frequency`). Until then a consumer's key may already work while its plan (a
plugin) does not. So before a key is created, and before apply returns, provisioning writes a
new *generation* into a probe route it owns (its path) and that route's request-termination
plugin (its body), then polls Kong's proxy on fresh connections until, at every address the
proxy's name resolves to (every node), as many distinct workers as Kong runs have answered with
the new generation. A worker that serves the new generation has rebuilt both its router and its
plugins iterator after every write before it. A correlation-id plugin on the probe route names
the worker (`<worker uuid>#<counter>`).
"""

from __future__ import annotations

import json
import secrets
import socket
import time
from dataclasses import dataclass, field
from urllib.parse import SplitResult, urlsplit

import requests

from .admin import AdminClient
from .errors import KongNotPropagated
from .model import Gateway

WORKER_HEADER = "X-Probe-Worker"
MARGIN = 5.0          # seconds beyond Kong's own timers before giving up
PER_WORKER = 1.0      # and per worker: fresh connections land on workers at random
POLL_INTERVAL = 0.02
UNREACHED_GRACE = 3.0  # seconds a node that refuses every connection gets before it is skipped


@dataclass
class Node:
    """One Kong node as the probe sees it."""

    label: str
    workers: set[str] = field(default_factory=set)
    reached: bool = False


@dataclass
class Propagation:
    """What a wait saw: how long, how many nodes and workers answered the new generation."""

    seconds: float
    nodes: int
    workers: int
    confirmed: bool = True
    silent: list[str] = field(default_factory=list)    # nodes that never answered

    def line(self) -> str:
        if not self.confirmed:
            return (f"Kong's proxy could not be reached to confirm the change; waited "
                    f"{self.seconds:.1f} s, the longest Kong needs to apply it.")
        line = (f"Every Kong worker serves the change: {self.workers} worker(s) on "
                f"{self.nodes} node(s), after {self.seconds:.1f} s.")
        if self.silent:
            line += (f" Not answering, so not waited for (a node starting later loads the "
                     f"change itself): {', '.join(self.silent)}.")
        return line


class Barrier:
    """The probe route and the wait; `proxy_urls` are Kong's proxies as seen from here (every
    address each name resolves to is a node)."""

    def __init__(self, client: AdminClient, gateway: Gateway, proxy_urls: list[str]) -> None:
        self.client, self.gateway = client, gateway
        self.proxies = [urlsplit(url) for url in proxy_urls]
        self.name = gateway.probe_name

    def bound(self, root: dict | None = None) -> float:
        """The longest Kong itself takes to apply a write everywhere (one rebuild period of a
        worker after the slowest node has polled the change), plus time to meet every worker
        (the kernel hands each fresh connection to one of them at random)."""
        root = root or self.client.root()
        settings = root.get("configuration") or {}
        workers = len((root.get("pids") or {}).get("workers") or [1])
        return (float(settings.get("worker_state_update_frequency") or 5)
                + float(settings.get("db_update_frequency") or 5)
                + float(settings.get("db_update_propagation") or 0)
                + MARGIN + PER_WORKER * workers)

    def wait(self) -> Propagation:
        """Write a new generation and poll until every worker of every running node serves it.

        A node that never answers (not started yet, or down) is not waited for: a Kong node
        builds its router and plugins from the database when it starts."""
        root = self.client.root()
        workers = len((root.get("pids") or {}).get("workers") or [1])
        bound = self.bound(root)
        generation = secrets.token_hex(8)
        self._write(generation)
        started = time.monotonic()
        nodes = self._poll(generation, workers, started + bound)
        seconds = time.monotonic() - started
        running = [n for n in nodes.values() if n.reached]
        if not running:
            time.sleep(max(0.0, bound - seconds))
            return Propagation(time.monotonic() - started, 0, 0, confirmed=False)
        short = [f"{n.label}: {len(n.workers)} of {workers} workers answered"
                 for n in running if len(n.workers) < workers]
        if short:
            raise KongNotPropagated(
                f"Kong did not serve the change on every worker within {bound:g} s "
                f"({'; '.join(short)}); nothing after it was written. "
                f"Run apply again once Kong is healthy")
        return Propagation(seconds, len(running), sum(len(n.workers) for n in running),
                           silent=[n.label for n in nodes.values() if not n.reached])

    def _write(self, generation: str) -> None:
        tag = [self.gateway.tag]
        route = {"name": self.name, "paths": [f"/-/{self.name}/{generation}"],
                 "methods": ["GET"], "service": {"name": self.gateway.service_name},
                 "tags": tag}
        self.client.put(f"/routes/{self.name}", route)
        body = json.dumps({"generation": generation})
        self.client.put(f"/plugins/{self.name}-termination", {
            "name": "request-termination", "route": {"name": self.name}, "tags": tag,
            "config": {"status_code": 200, "content_type": "application/json", "body": body}})
        self.client.put(f"/plugins/{self.name}-worker", {
            "name": "correlation-id", "route": {"name": self.name}, "tags": tag,
            "config": {"header_name": WORKER_HEADER, "generator": "uuid#counter",
                       "echo_downstream": True}})

    def _poll(self, generation: str, workers: int, deadline: float) -> dict[tuple, Node]:
        """Every node (proxy, address) seen, with the distinct workers that served the
        generation. Stops when every node that answers has all its workers, and nodes that
        have not answered at all have had UNREACHED_GRACE seconds to do so."""
        nodes: dict[tuple, Node] = {}
        grace = time.monotonic() + UNREACHED_GRACE
        while time.monotonic() < deadline:
            for target in [t for proxy in self.proxies for t in _nodes(proxy)]:
                node = nodes.setdefault(target, Node(f"{target[0].netloc} at {target[1]}"))
                answer = self._probe(target, generation)
                node.reached = node.reached or answer is not None
                if answer:
                    node.workers.add(answer)
            done = all(len(n.workers) >= workers for n in nodes.values() if n.reached)
            if nodes and done and (all(n.reached for n in nodes.values())
                                   or time.monotonic() > grace):
                return nodes
            time.sleep(POLL_INTERVAL)
        return nodes

    def _probe(self, node: tuple[SplitResult, str], generation: str) -> str | None:
        """The answering worker's id if it served this generation; "" if it answered anything
        else (an older generation, 404); None if the proxy was not reached."""
        proxy, address = node
        host = f"[{address}]" if ":" in address else address
        url = f"{proxy.scheme}://{host}:{proxy.port or 80}/-/{self.name}/{generation}"
        try:
            response = requests.get(url, timeout=(1, 2), headers={
                "Host": proxy.netloc, "Connection": "close"})
        except requests.RequestException:
            return None
        try:
            served = response.status_code == 200 and response.json().get(
                "generation") == generation
        except ValueError:
            served = False
        worker = response.headers.get(WORKER_HEADER, "").split("#")[0]
        return worker if served and worker else ""


def _nodes(proxy: SplitResult) -> list[tuple[SplitResult, str]]:
    """Every address of a proxy's host name: one per Kong node behind it. IPv4 ones when
    there are any (`localhost` is also ::1, the same node again)."""
    try:
        infos = socket.getaddrinfo(proxy.hostname, proxy.port or 80, type=socket.SOCK_STREAM)
    except OSError:
        return []
    v4 = {info[4][0] for info in infos if info[0] == socket.AF_INET}
    addresses = v4 or {info[4][0] for info in infos}
    return [(proxy, address) for address in sorted(addresses)]
