"""Human and JSON renderings of plans and results (keys appear only when passed in)."""

from __future__ import annotations

import json

from .model import Gateway
from .plan import Change
from .propagation import Propagation

SYMBOLS = {"create": "+", "update": "~", "delete": "-", "unchanged": "="}


def summary(changes: list[Change]) -> dict[str, int]:
    """How many entities get created, updated, deleted or stay unchanged."""
    counts = dict.fromkeys(SYMBOLS, 0)
    for change in changes:
        counts[change.action] += 1
    return counts


def human(changes: list[Change], verb: str, done: bool = True) -> str:
    """One line per change, then a summary; says plainly when nothing changes."""
    lines = [f"  {SYMBOLS[c.action]} {c.label}: {c.action}"
             + (f" ({', '.join(c.fields)})" if c.fields else "") for c in changes]
    counts = summary(changes)
    writes = counts["create"] + counts["update"] + counts["delete"]
    if writes == 0:
        lines.append(f"Kong already matches the declared gateway: "
                     f"{counts['unchanged']} entities unchanged, 0 writes.")
    else:
        tense = "" if done else "to "
        made = ("created", "updated", "deleted") if done else ("create", "update", "delete")
        lines.append(f"{verb}: {counts['create']} {tense}{made[0]}, {counts['update']} "
                     f"{tense}{made[1]}, {counts['delete']} {tense}{made[2]}, "
                     f"{counts['unchanged']} unchanged.")
    return "\n".join(lines)


def key_lines(gateway: Gateway, keys: list[tuple[str, str]]) -> str:
    """The keys and a ready-to-paste curl command for each."""
    lines = []
    for username, key in keys:
        lines.append(f"API key for consumer '{username}': {key}")
        lines.append(f'  try: curl -H "apikey: {key}" '
                     f"{gateway.public_url}{gateway.route_prefix}/hello")
    return "\n".join(lines)


def as_json(changes: list[Change], mode: str, writes: int, keys: dict[str, str],
            waits: list[Propagation] | None = None) -> str:
    """Machine-readable result for scripts (`propagation`: each wait for Kong's workers)."""
    return json.dumps({"mode": mode, "writes": writes, "summary": summary(changes),
                       "changes": [c.as_dict() for c in changes], "keys": keys,
                       "propagation": [vars(w) for w in waits or []]}, indent=2)


def keys_section(gateway: Gateway, created: dict[str, str]) -> str:
    """New keys in full; for consumers that kept theirs, how to print it (never the key)."""
    lines = [key_lines(gateway, list(created.items()))] if created else []
    kept = [c.username for c in gateway.consumers if c.username not in created]
    lines += [f"Consumer '{u}' keeps its existing key; print it with: "
              f"python scripts/provision.py key show {u}" for u in kept]
    return "\n".join(lines)


def json_keys(username: str, keys: list[str]) -> str:
    """Keys of one consumer, for scripts."""
    return json.dumps({"consumer": username, "keys": keys}, indent=2)
