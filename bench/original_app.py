"""The original project's app, re-created for comparison: no pool, no timeout, no handling.

Each lookup opens a new connection with `requests.get` (no timeout, so a hanging
upstream blocks a worker thread for as long as it hangs) and passes the JSON
through; any failure is an unhandled exception: a 500 and a traceback in the log.
"""

from __future__ import annotations

import os

import requests
from flask import Flask, Response, jsonify

UPSTREAM = os.environ.get(
    "DICTIONARY_UPSTREAM_URL", "https://api.dictionaryapi.dev/api/v2/entries/en"
)

app = Flask(__name__)


@app.get("/")
def index() -> Response:
    return jsonify({"data": "Welcome to dictionary"})


@app.get("/<word>")
def lookup(word: str) -> Response:
    response = requests.get(f"{UPSTREAM}/{word}")  # noqa: S113 - faithfully: no timeout
    return jsonify(response.json())
