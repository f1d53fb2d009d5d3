"""The dictionary API: a Flask application factory.

Data flows one way: request -> validation -> cache -> backend -> response.
"""

from __future__ import annotations

import logging
import os

from flask import Flask, Response, request

from dictionary import errors, metrics, openapi, ops, views
from dictionary.backends import build_dictionary
from dictionary.backends.base import Dictionary, Lookup
from dictionary.cache import LookupCache
from dictionary.config import Config


def create_app(config: Config | None = None, backend: Dictionary | None = None) -> Flask:
    """Build the app from `config` (default: the environment) and an optional backend."""
    config = config or Config.from_env()
    # No static folder: every path belongs to the API (Flask would route /static/... to files).
    app = Flask(__name__, static_folder=None)
    # Flask's automatic OPTIONS answers have an HTML content type; ours are JSON 405s.
    app.config["PROVIDE_AUTOMATIC_OPTIONS"] = False
    app.url_map.converters["anytext"] = views.AnyTextConverter
    app.extensions[openapi.EXTENSION] = openapi.served_bytes()
    app.extensions["dictionary"] = LookupCache(
        backend or build_dictionary(config),
        max_bytes=config.cache_max_bytes,
        ttl_for=lambda lookup: _ttl(config, lookup),
        stale_ttl=config.cache_stale_ttl,
    )
    _configure_logging()
    errors.register_error_handlers(app)
    app.register_blueprint(ops.bp, url_prefix="/-")
    app.register_blueprint(views.bp)
    app.wsgi_app = metrics.RequestClock(app.wsgi_app)  # type: ignore[method-assign]
    app.after_request(_count_response)
    return app


def _configure_logging() -> None:
    """Send the app's own log lines to stderr beside gunicorn's, at LOG_LEVEL."""
    logger = logging.getLogger("dictionary")
    if logger.handlers:
        return
    handler = logging.StreamHandler()
    handler.setFormatter(
        logging.Formatter("[%(asctime)s] [%(process)d] [%(levelname)s] %(name)s: %(message)s")
    )
    logger.addHandler(handler)
    logger.setLevel(os.environ.get("LOG_LEVEL", "info").upper())


def _ttl(config: Config, lookup: Lookup) -> int:
    """Long for found words, short for unknown words and for fallback answers."""
    if lookup.found and not lookup.degraded:
        return config.cache_ttl
    return config.cache_negative_ttl


def _count_response(response: Response) -> Response:
    current = request._get_current_object()  # type: ignore[attr-defined]  # one proxy lookup
    metrics.observe_request(
        current.method,
        current.endpoint or "none",
        response.status_code,
        metrics.RequestClock.elapsed(current.environ),
    )
    return response
