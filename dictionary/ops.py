"""Operational endpoints under `/-/`, a prefix no word can have.

`health`, `ready` and `metrics` are English words, so the lookups of those
words stay at `/health`, `/ready` and `/metrics`. `/-/openapi.json` is the
app's own description, derived from the gateway's openapi.yaml.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app

from dictionary import metrics, openapi
from dictionary.backends import members
from dictionary.errors import NO_STORE, json_response

bp = Blueprint("ops", __name__)


@bp.get("/health")
def health() -> Response:
    """Liveness: the process answers HTTP. Never depends on the upstream."""
    return json_response({"status": "ok"}, **{"Cache-Control": NO_STORE})


@bp.get("/ready")
def ready() -> Response:
    """Readiness: 200 while at least one dictionary backend can answer, else 503."""
    backend = current_app.extensions["dictionary"].backend
    backends = {member.name: member.ready() for member in members(backend)}
    is_ready = any(backends.values())
    body = {"status": "ready" if is_ready else "unavailable", "backends": backends}
    return json_response(body, 200 if is_ready else 503, **{"Cache-Control": NO_STORE})


@bp.get("/metrics")
def prometheus() -> Response:
    """Prometheus exposition of all workers (text format, the one non-JSON body)."""
    payload, content_type = metrics.render()
    return Response(payload, content_type=content_type, headers={"Cache-Control": NO_STORE})


@bp.get("/openapi.json")
def description() -> Response:
    """The app's OpenAPI description, derived when the app was built (no work per request)."""
    body = current_app.extensions[openapi.EXTENSION]
    return Response(body, mimetype="application/json", headers={"Cache-Control": NO_STORE})
