"""Route matching and upstream paths, as Kong 3.9.3's `traditional_compatible` router does them.

Paths match the percent-decoded, slash-merged request path; plain paths by string prefix (not by
segment: `/dict` matches `/dictionary`), `~` paths as regexes anchored at the start. strip_path
removes the matched prefix as a string; the upstream receives the rest of the *raw* path (its
percent-encoding untouched), joined to the service path with the v0 rules the corpus recorded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

MERGE_SLASHES = re.compile(r"/{2,}")


@dataclass
class Match:
    """A matched route and what the upstream request needs from the match."""

    route: dict
    service: dict | None
    prefix: str | None        # what strip_path removed (X-Forwarded-Prefix), if anything
    upstream_path: str


def escapes_root(raw_path: str) -> bool:
    """True when dot segments (after decoding) climb above `/`: nginx answers 400."""
    depth = 0
    for segment in unquote(raw_path).split("/"):
        if segment == "..":
            depth -= 1
            if depth < 0:
                return True
        elif segment not in ("", "."):
            depth += 1
    return False


def match_route(routes: list[dict], services: dict[str, dict], method: str, host: str,
                raw_path: str) -> Match | None:
    """The best route for a request, or None (404 `no Route matched with those values`)."""
    merged = MERGE_SLASHES.sub("/", raw_path)
    decoded = unquote(merged)
    hostname = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    candidates = []
    for route in routes:
        service = services.get((route.get("service") or {}).get("id", ""))
        if service is not None and not service.get("enabled", True):
            continue
        if not _other_conditions(route, method, hostname):
            continue
        found = _path_match(route, decoded)
        if found is not None:
            candidates.append((_priority(route, found), route, service, found))
    if not candidates:
        return None
    _, route, service, (matched, _) = max(candidates, key=lambda c: c[0])
    return _build(route, service, merged, matched)


def _other_conditions(route: dict, method: str, hostname: str) -> bool:
    methods, hosts = route.get("methods"), route.get("hosts")
    if methods and method not in methods:
        return False
    return not hosts or hostname in hosts


def _path_match(route: dict, decoded: str) -> tuple[str, bool] | None:
    """(matched prefix, is_regex) of the route's best path, or None."""
    paths = route.get("paths") or ["/"]
    best: tuple[str, bool] | None = None
    for path in paths:
        if path.startswith("~"):
            found = re.match(path[1:], decoded)
            hit = (found.group(0), True) if found else None
        else:
            hit = (path, False) if decoded.startswith(path) else None
        if hit and (best is None or len(hit[0]) > len(best[0])):
            best = hit
    return best


def _priority(route: dict, found: tuple[str, bool]) -> tuple:
    """More conditions first, then regex_priority, then regex over prefix, then longer paths."""
    conditions = sum(bool(route.get(k)) for k in ("methods", "hosts", "headers"))
    matched, is_regex = found
    return (conditions, route.get("regex_priority") or 0, is_regex, len(matched),
            -(route.get("created_at") or 0))


def _build(route: dict, service: dict | None, merged: str, matched: str) -> Match:
    prefix = None
    rest = merged
    if route.get("strip_path", True):
        rest = _strip(merged, matched)
        prefix = matched if matched not in ("", "/") else None
    service_path = (service or {}).get("path")
    return Match(route, service, prefix, join_service_path(service_path, rest))


def _strip(merged: str, matched: str) -> str:
    """Remove the raw characters that decode to `matched` (the upstream keeps %-encoding)."""
    wanted, taken, i = len(matched.encode()), 0, 0
    while taken < wanted and i < len(merged):
        escaped = merged[i] == "%" and re.fullmatch(r"[0-9A-Fa-f]{2}", merged[i + 1:i + 3])
        i += 3 if escaped else 1
        taken += 1 if escaped else len(merged[i - 1].encode())
    return merged[i:]


def join_service_path(service_path: str | None, rest: str) -> str:
    """Kong's path_handling v0: `/api` + `` -> `/api`, `/api/` + `` -> `/api`, `` -> `/`."""
    if not service_path:
        return rest if rest.startswith("/") else "/" + rest
    if not rest:
        return service_path.rstrip("/") or "/"
    return service_path.rstrip("/") + (rest if rest.startswith("/") else "/" + rest)
