"""The nginx workers of one double node, each with its own router and plugins iterator.

Kong 3.9.3 with `worker_consistency = eventual` (the default) keeps a router and a plugins
iterator per worker and rebuilds each on its own timer, every `worker_state_update_frequency`
seconds, when the version the node knows has moved (kong/runloop/handler.lua 3.9.3,
`rebuild_router_timer` and `rebuild_plugins_iterator_timer`). So a new route or plugin (a
consumer's plan, say) reaches each worker 0 to ~5.5 s after the write, the two workers at
different moments, while consumers and credentials, read through the entity cache, work at once
(facts §1; corpus README, "propagation"). A node hears of its own Admin API's writes at once and
of other nodes' writes every `db_update_frequency` seconds (cluster events).

Consumers, credentials, upstreams and targets are not snapshotted: the proxy reads them live.
"""

from __future__ import annotations

import copy
import itertools
import random
import threading
import time
import uuid
from dataclasses import dataclass, field

from .store import Store

STATES = {"router": ("routes", "services"), "plugins": ("plugins",)}
STATE_OF = {kind: state for state, kinds in STATES.items() for kind in kinds}


@dataclass
class Snapshot:
    """Rows of the kinds one rebuilt state holds, as of the version the worker built."""

    version: int = -1
    rows: dict[str, list[dict]] = field(default_factory=dict)


class Worker:
    """One nginx worker: its router and plugins iterator, and correlation-id's worker uuid."""

    def __init__(self, index: int) -> None:
        self.index = index
        self.uuid = str(uuid.uuid4())           # correlation-id: `uuid#counter` per worker
        self.counter = itertools.count(1)
        self.lock = threading.Lock()
        self.states = {name: Snapshot() for name in STATES}

    def rows(self, kind: str) -> list[dict]:
        """The rows of `kind` as this worker last built them."""
        with self.lock:
            return self.states[STATE_OF[kind]].rows[kind]

    def rebuild(self, store: Store, known: dict[str, int], force: bool = False) -> None:
        """Rebuild every state whose known version moved (the DB is read as it is now)."""
        for name, kinds in STATES.items():
            if not force and self.states[name].version == known[name]:
                continue
            with store.lock:
                rows = {kind: copy.deepcopy(store.rows(kind)) for kind in kinds}
            with self.lock:
                self.states[name] = Snapshot(known[name], rows)


class Workers:
    """A node's workers and the timers that rebuild them.

    `worker_state_update_frequency=None` starts no timers: the workers change only when a test
    calls `rebuild()` (as the corpus replay does at each recorded propagation barrier)."""

    def __init__(self, store: Store, count: int = 2,
                 worker_state_update_frequency: float | None = 5.0,
                 db_update_frequency: float = 5.0) -> None:
        self.store = store
        self.frequency = worker_state_update_frequency
        self.db_update_frequency = db_update_frequency
        self.workers = [Worker(i) for i in range(count)]
        self.known = dict(store.versions)
        self.pinned: int | None = None          # tests may send every connection to one worker
        self.random = random.Random()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.rebuild()                          # a worker builds both states when it starts

    def pick(self) -> Worker:
        """The worker a new connection lands on (the kernel spreads reuseport sockets)."""
        if self.pinned is not None:
            return self.workers[self.pinned]
        return self.random.choice(self.workers)

    def heard(self) -> None:
        """This node's Admin API wrote: its workers' next timer tick sees the new versions."""
        with self.store.lock:
            self.known = dict(self.store.versions)

    def rebuild(self, index: int | None = None) -> None:
        """Rebuild now (all workers, or one), as if their timers had just fired."""
        self.heard()
        for worker in self.workers if index is None else [self.workers[index]]:
            worker.rebuild(self.store, self.known, force=True)

    def start(self) -> None:
        if self.frequency:
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _run(self) -> None:
        """Each worker ticks on its own phase; the node polls cluster events on another."""
        now = time.monotonic()
        due = {w.index: now + self.random.uniform(0, self.frequency) for w in self.workers}
        poll = now + self.random.uniform(0, self.db_update_frequency)
        while not self._stop.is_set():
            index, when = min(due.items(), key=lambda item: item[1])
            if self._stop.wait(max(0.0, min(when, poll) - time.monotonic())):
                return
            if poll <= when:
                self.heard()
                poll += self.db_update_frequency
                continue
            self.workers[index].rebuild(self.store, self.known)
            due[index] += self.frequency
