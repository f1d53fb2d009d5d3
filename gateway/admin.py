"""A small client for Kong's Admin API: readiness, reads with pagination, and counted writes."""

from __future__ import annotations

import time
from typing import Any

import requests

from .errors import KongDbless, KongRejected, KongUnreachable

Json = Any
DBLESS_HINT = ("Kong runs without a database (DB-less, KONG_DATABASE=off): its Admin API refuses "
               "every write with 405 'operation unsupported'. Run Kong with "
               "KONG_DATABASE=postgres, "
               "or load a declarative file instead")
TIMEOUT = (3.05, 15)


class AdminClient:
    """One Kong Admin API; never logs bodies, and redacts registered secrets from errors."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()
        self.writes = 0
        self.secrets: set[str] = set()

    # -- readiness -----------------------------------------------------------
    def wait_ready(self, timeout: float, interval: float = 0.5) -> dict:
        """Poll GET /status until Kong answers (bounded); refuse a DB-less Kong up front."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                status = self._status()
                break
            except requests.RequestException as error:
                if time.monotonic() + interval > deadline:
                    raise KongUnreachable(
                        f"Kong Admin API at {self.base_url} is not reachable after waiting "
                        f"{timeout:g} s ({_reason(error)}); check --admin-url / KONG_ADMIN_URL"
                    ) from None
                time.sleep(interval)
        if "database" not in status:
            raise KongDbless(DBLESS_HINT)
        return status

    def _status(self) -> dict:
        response = self.session.get(self.base_url + "/status", timeout=TIMEOUT)
        body = _json(response)
        if response.status_code != 200 or not isinstance(body, dict) or "server" not in body:
            raise KongUnreachable(f"{self.base_url} does not look like a Kong Admin API "
                                  f"(GET /status answered {response.status_code})")
        return body

    # -- reads ---------------------------------------------------------------
    def root(self) -> dict:
        """`GET /`: version, configuration (timers), worker pids."""
        return _json(self._send("GET", "/")) or {}

    def get(self, path: str) -> dict | None:
        """An entity, or None when Kong answers 404."""
        response = self._send("GET", path)
        return None if response.status_code == 404 else _json(response)

    def list(self, path: str) -> list[dict]:
        """Every row of a collection, following Kong's `next` links."""
        rows: list[dict] = []
        next_path: str | None = path
        while next_path:
            response = self._send("GET", next_path)
            if response.status_code == 404:
                return rows
            body = _json(response)
            rows.extend(body["data"])
            next_path = body.get("next")
        return rows

    # -- writes --------------------------------------------------------------
    def put(self, path: str, body: dict) -> dict:
        return _json(self._send("PUT", path, body))

    def post(self, path: str, body: dict) -> dict:
        return _json(self._send("POST", path, body))

    def delete(self, path: str) -> None:
        self._send("DELETE", path)

    def _send(self, method: str, path: str, body: dict | None = None) -> requests.Response:
        if method != "GET":
            self.writes += 1
        try:
            response = self.session.request(method, self.base_url + path, json=body,
                                            timeout=TIMEOUT)
        except requests.RequestException as error:
            raise KongUnreachable(f"lost the Kong Admin API at {self.base_url} during "
                                  f"{method} {path} ({_reason(error)})") from None
        if response.status_code >= 400 and not (method == "GET" and response.status_code == 404):
            raise self._rejection(method, path, response)
        return response

    def _rejection(self, method: str, path: str, response: requests.Response) -> Exception:
        body = _json(response)
        if response.status_code == 405 and isinstance(body, dict) and body.get("code") == 12:
            return KongDbless(DBLESS_HINT)
        message = body.get("message") if isinstance(body, dict) else response.text.strip()
        text = f"Kong refused {method} {path}: {response.status_code} {message or response.reason}"
        for secret in self.secrets:
            text = text.replace(secret, "<redacted>")
        return KongRejected(" ".join(text.split()))


def _json(response: requests.Response) -> Json:
    try:
        return response.json() if response.content else None
    except ValueError:
        return None


def _reason(error: requests.RequestException) -> str:
    if isinstance(error, requests.ConnectionError):
        return "connection refused or host unknown"
    if isinstance(error, requests.Timeout):
        return "timed out"
    return type(error).__name__
