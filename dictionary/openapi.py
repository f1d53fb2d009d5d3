"""The app's own OpenAPI description, derived from the gateway's `openapi.yaml`.

`openapi.yaml` at the repository root describes the API as clients see it through Kong. The app
answers the part behind the gateway, so its description is that document with the gateway's
parts taken out, never a second copy that could drift:

* paths lose the gateway's prefix (`/dictionary/{word}` -> `/{word}`, `/dictionary` -> `/`);
* the security scheme goes (Kong authenticates; the app never sees the key);
* every object marked `x-gateway: true` (a response, header, media type, or a schema in a
  `oneOf`), directly or through the component its `$ref` names, is dropped;
* `x-app-<field>` replaces `<field>` (a description without Kong in it, a header the app always
  sends); `x-app` supplies the app's info, servers and operational paths;
* components no longer referenced are dropped.

It is derived once per process, when the app is built, and served as ready-made bytes.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import yaml

from dictionary.backends.base import dump_json
from dictionary.config import REPO_ROOT

SOURCE = REPO_ROOT / "openapi.yaml"
EXTENSION = "openapi"  # app.extensions key of the served bytes
GATEWAY_ONLY = "x-gateway"
APP = "x-app"
APP_OVERRIDE = "x-app-"
REF = "$ref"

Node = Any


def load_source(path: Path = SOURCE) -> dict[str, Any]:
    """The gateway's description as data (libyaml's loader when PyYAML has it: 10x faster)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with path.open(encoding="utf-8") as stream:
        return yaml.load(stream, Loader=loader)  # noqa: S506 - a safe loader either way


def app_description(source: dict[str, Any]) -> dict[str, Any]:
    """The app's part of `source`, as a new document (`source` is left untouched)."""
    app = source[APP]
    prefix = app["strip-prefix"]
    paths = {_strip(path, prefix): item for path, item in source["paths"].items()}
    paths.update(app["paths"])
    components = {k: v for k, v in source["components"].items() if k != "securitySchemes"}
    document = {
        "openapi": source["openapi"],
        "info": app["info"],
        "servers": app["servers"],
        "paths": paths,
        "components": components,
    }
    pruned = _prune(document, source)
    pruned["components"] = _referenced(pruned)
    return pruned


@functools.cache
def served_bytes(path: Path = SOURCE) -> bytes:
    """What GET /-/openapi.json answers: derived once per process."""
    return dump_json(app_description(load_source(path)))


def _strip(path: str, prefix: str) -> str:
    if not path.startswith(prefix):
        raise ValueError(f"{path} is outside the gateway prefix {prefix}")
    return path[len(prefix) :] or "/"


def _resolve(root: dict[str, Any], ref: str) -> Node:
    node: Node = root
    for part in ref.removeprefix("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def _gateway_only(node: Node, root: dict[str, Any]) -> bool:
    if not isinstance(node, dict):
        return False
    if node.get(GATEWAY_ONLY):
        return True
    ref = node.get(REF)
    return isinstance(ref, str) and _gateway_only(_resolve(root, ref), root)


def _prune(node: Node, root: dict[str, Any]) -> Node:
    """A copy of `node` without gateway-only parts, with app overrides applied."""
    if isinstance(node, list):
        return [_prune(item, root) for item in node if not _gateway_only(item, root)]
    if not isinstance(node, dict):
        return node
    copy = {
        key: _prune(value, root)
        for key, value in node.items()
        if key != GATEWAY_ONLY
        and not key.startswith(APP_OVERRIDE)
        and not _gateway_only(value, root)
    }
    for key, value in node.items():
        if key.startswith(APP_OVERRIDE):
            copy[key.removeprefix(APP_OVERRIDE)] = _prune(value, root)
    if set(copy) == {"oneOf"} and len(copy["oneOf"]) == 1:
        return copy["oneOf"][0]  # the app's alternative alone
    return copy


def _refs(node: Node) -> set[str]:
    if isinstance(node, list):
        return set().union(*map(_refs, node)) if node else set()
    if not isinstance(node, dict):
        return set()
    found = {node[REF]} if isinstance(node.get(REF), str) else set()
    return found.union(*map(_refs, node.values())) if node else found


def _referenced(document: dict[str, Any]) -> dict[str, Any]:
    """The components that the paths still reach, directly or through other components."""
    seen: set[str] = set()
    pending = _refs(document["paths"])
    while pending:
        ref = pending.pop()
        if ref not in seen:
            seen.add(ref)
            pending |= _refs(_resolve(document, ref))
    kept: dict[str, Any] = {}
    for ref in sorted(seen):
        _, _, kind, name = ref.split("/", 3)
        kept.setdefault(kind, {})[name] = document["components"][kind][name]
    return kept
