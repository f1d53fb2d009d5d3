"""Entry point: `gunicorn -c gunicorn.conf.py app:app`, or `python app.py` for development."""

from __future__ import annotations

import os

from dictionary import create_app

app = create_app()

if __name__ == "__main__":
    # The development server, never with the debugger: it would run code sent by a client.
    app.run(
        host=os.environ.get("FLASK_RUN_HOST", "127.0.0.1"),
        port=int(os.environ.get("FLASK_RUN_PORT", "5000")),
        debug=False,
    )
