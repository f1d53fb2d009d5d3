"""The ceiling: a bare Flask app with one trivial `GET /`, run with our gunicorn settings.

Nothing a Flask app does under these settings can be faster, so our routes are
measured as a fraction of this one.
"""

from __future__ import annotations

from flask import Flask

app = Flask(__name__)


@app.get("/")
def index() -> dict[str, str]:
    return {"data": "Welcome to dictionary"}
