"""One JSON error envelope for every error the app can produce.

The envelope is modelled on the upstream's own 404 body, so a client handles
ours and theirs alike: `{"title", "message", "resolution", "error"}`, where
`error` is a stable machine-readable code. No stack trace and no HTML ever
reaches a client; unexpected exceptions are logged here and answered with 500.
"""

from __future__ import annotations

import logging

from flask import Flask, Response
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound

from dictionary.backends.base import BackendError, dump_json
from dictionary.validation import InvalidWord

log = logging.getLogger(__name__)

RESOLUTION = "You can try the search again at later time or head to the web instead."
NO_STORE = "no-store"


def json_response(payload: object, status: int = 200, **headers: str) -> Response:
    """A response whose Content-Type is exactly `application/json` (Kong caches only that)."""
    response = Response(dump_json(payload), status=status, mimetype="application/json")
    response.headers.update(headers)
    return response


def error_response(
    status: int, error: str, title: str, message: str, resolution: str = RESOLUTION
) -> Response:
    body = {"title": title, "message": message, "resolution": resolution, "error": error}
    return json_response(body, status, **{"Cache-Control": NO_STORE})


def _invalid_word(exc: InvalidWord) -> Response:
    return error_response(
        400, "invalid_word", "Invalid Word", str(exc), "Check the spelling and try again."
    )


def _backend_error(exc: BackendError) -> Response:
    response = error_response(exc.status, exc.error, exc.title, exc.message, exc.resolution)
    if exc.retry_after is not None:
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


def _http_error(exc: HTTPException) -> Response:
    """Werkzeug's own errors (404 no such route, 405, ...) in our envelope."""
    status = exc.code or 500
    if isinstance(exc, NotFound):
        return error_response(404, "not_found", "Not Found", "There is nothing at this path.")
    response = error_response(
        status, _code(exc.name), exc.name, exc.description or exc.name, "Check the request."
    )
    if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
        response.headers["Allow"] = ", ".join(sorted(exc.valid_methods))
    return response


def _unexpected(exc: Exception) -> Response:
    log.exception("unhandled error")
    return error_response(
        500,
        "internal_error",
        "Something Went Wrong",
        "Sorry pal, something went wrong, and it's not your fault.",
    )


def _code(name: str) -> str:
    return name.lower().replace(" ", "_").replace("-", "_")


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(InvalidWord, _invalid_word)
    app.register_error_handler(BackendError, _backend_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
