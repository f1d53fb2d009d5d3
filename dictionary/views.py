"""The public routes kept from the original project: `/` and `/<word>`."""

from __future__ import annotations

from flask import Blueprint, Response, current_app
from werkzeug.routing import PathConverter

from dictionary import metrics
from dictionary.cache import STALE, Answer, LookupCache
from dictionary.errors import json_response
from dictionary.validation import normalise_word

bp = Blueprint("dictionary", __name__)

WELCOME = {"data": "Welcome to dictionary"}


class AnyTextConverter(PathConverter):
    """werkzeug's `path`, but its `.` also matches line breaks: a word with `%0A` is a lookup
    (answered 400 `invalid_word`), not a path that matches no route (404 `not_found`)."""

    regex = "[^/](?s:.*?)"


@bp.get("/")
def index() -> Response:
    """A greeting, as the original project answered."""
    return json_response(WELCOME)


@bp.get("/<anytext:word>")
def lookup(word: str) -> Response:
    """Definitions of `word` in the Free Dictionary API's shape, or a 404 envelope."""
    cache: LookupCache = current_app.extensions["dictionary"]
    answer = cache.fetch(normalise_word(word))
    return _lookup_response(answer)


def _lookup_response(answer: Answer) -> Response:
    lookup = answer.lookup
    metrics.count_lookup(lookup.source, answer.cache, "found" if lookup.found else "not_found")
    # A stale answer was served only because the backend failed: nobody should keep it.
    stale = answer.cache == STALE
    response = Response(
        lookup.response_body, 200 if lookup.found else 404, mimetype="application/json"
    )
    response.headers.extend(  # one call: 1 us less than a dict or three assignments
        [
            ("Cache-Control", "no-cache" if stale else f"public, max-age={answer.max_age}"),
            ("X-Dictionary-Source", lookup.source),
            ("X-Dictionary-Cache", answer.cache),
        ]
    )
    return response
