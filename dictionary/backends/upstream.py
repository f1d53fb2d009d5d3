"""The Free Dictionary API (api.dictionaryapi.dev) as a backend.

Every call is bounded: connect and read timeouts, an overall deadline that
retries cannot stretch, a cap on the body size, retries only where they are
safe (connection errors, 502/503/504 on GET), a circuit breaker, and the
upstream's own `Retry-After` honoured when it rate-limits us (its limit of
450 requests per 5 minutes per IP is shared by all our users). A bulkhead
caps concurrent calls per worker below its thread count, so a hanging
upstream can never take the threads that serve cache hits and health checks.
"""

from __future__ import annotations

import json
import logging
import time
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, NewConnectionError
from urllib3.exceptions import ReadTimeoutError as Urllib3ReadTimeout
from urllib3.util.retry import Retry

from dictionary import metrics
from dictionary.backends.base import (
    BackendError,
    Lookup,
    UpstreamBadResponse,
    UpstreamRateLimited,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from dictionary.breaker import CircuitBreaker
from dictionary.bulkhead import Bulkhead
from dictionary.config import Config

log = logging.getLogger(__name__)

USER_AGENT = "dictionary-api/1.0 (python-requests)"
RETRY_STATUSES = frozenset({502, 503, 504})


class _ConnectFailure(Exception):
    """The request never reached the upstream: safe to retry."""

    def __init__(self, cause: Exception, error: BackendError) -> None:
        super().__init__(str(error))
        self.cause = cause
        self.error = error


class UpstreamDictionary:
    """Looks words up over HTTP with one pooled session per worker process."""

    name = "upstream"

    def __init__(self, config: Config, clock: Any = time.monotonic) -> None:
        self.base_url = config.upstream_url.rstrip("/")
        self.connect_timeout = config.connect_timeout
        self.read_timeout = config.read_timeout
        self.deadline = config.deadline
        self.max_body_bytes = config.max_body_bytes
        self.default_retry_after = config.rate_limit_retry_after
        self.breaker = CircuitBreaker(config.breaker_threshold, config.breaker_cooldown, clock)
        self.bulkhead = Bulkhead(config.upstream_concurrency, config.upstream_queue_wait)
        self.retry = Retry(
            total=config.retries,
            connect=config.retries,
            status=config.retries,
            read=0,
            other=0,
            redirect=0,
            allowed_methods=frozenset({"GET"}),
            status_forcelist=RETRY_STATUSES,
            backoff_factor=0.1,
            backoff_max=1.0,
            respect_retry_after_header=False,
            raise_on_status=False,
        )
        self.session = requests.Session()
        self.session.headers.update({"User-Agent": USER_AGENT, "Accept": "application/json"})
        # Retries happen in lookup() so that the deadline can bound them.
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=32, max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def ready(self) -> bool:
        """Usable unless the circuit breaker is refusing calls."""
        return not self.breaker.is_open

    def lookup(self, word: str) -> Lookup:
        """Bulkhead first: a slow upstream may hold only some of the worker's threads."""
        ticket = self.bulkhead.enter()
        if ticket is None:
            metrics.UPSTREAM_REQUESTS.labels("shed").inc()
            raise UpstreamUnavailable("too many concurrent upstream calls", retry_after=1)
        try:
            return self._guarded_lookup(word)
        finally:
            self.bulkhead.leave(ticket)

    def _guarded_lookup(self, word: str) -> Lookup:
        """The call behind the circuit breaker, which every outcome feeds."""
        if not self.breaker.allow():
            raise UpstreamUnavailable("circuit open", retry_after=self.breaker.retry_after())
        started = time.monotonic()
        try:
            result = self._fetch(word)
        except UpstreamRateLimited as exc:
            self.breaker.trip(exc.retry_after or self.default_retry_after)
            self._record(exc.error, started)
            log.warning("upstream rate-limited us; pausing calls for %ss", exc.retry_after)
            raise
        except BackendError as exc:
            self._record(exc.error, started)
            if self.breaker.record_failure():
                log.warning(
                    "upstream failing (%s); circuit open for %.0fs",
                    exc.detail,
                    self.breaker.cooldown,
                )
            if isinstance(exc, UpstreamUnavailable) and exc.retry_after is None:
                exc.retry_after = self.breaker.retry_after()
            raise
        finally:
            metrics.CIRCUIT_OPEN.set(int(self.breaker.is_open))
        self.breaker.record_success()
        self._record("found" if result.found else "not_found", started)
        return result

    @staticmethod
    def _record(outcome: str, started: float) -> None:
        metrics.UPSTREAM_REQUESTS.labels(outcome).inc()
        metrics.UPSTREAM_SECONDS.observe(time.monotonic() - started)

    def _fetch(self, word: str) -> Lookup:
        """One lookup with bounded retries, all inside the deadline."""
        url = f"{self.base_url}/{quote(word, safe='')}"
        deadline = time.monotonic() + self.deadline
        retry = self.retry
        while True:
            try:
                status, headers, body = self._send(url, deadline)
            except _ConnectFailure as failure:
                try:
                    retry = retry.increment("GET", url, error=failure.cause)
                except MaxRetryError:
                    raise failure.error from None
                self._back_off(retry, deadline)
                continue
            if status in RETRY_STATUSES:
                try:
                    retry = retry.increment("GET", url, response=_StatusOnly(status))
                except MaxRetryError:
                    pass
                else:
                    self._back_off(retry, deadline)
                    continue
            return self._interpret(word, status, headers, body)

    @staticmethod
    def _back_off(retry: Retry, deadline: float) -> None:
        pause = retry.get_backoff_time()
        if time.monotonic() + pause >= deadline:
            raise UpstreamTimeout("deadline exceeded")
        time.sleep(pause)

    def _send(self, url: str, deadline: float) -> tuple[int, Any, bytes]:
        """A single GET; translate requests' exceptions into our error classes."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise UpstreamTimeout("deadline exceeded")
        timeout = (min(self.connect_timeout, remaining), min(self.read_timeout, remaining))
        try:
            with self.session.get(
                url, timeout=timeout, stream=True, allow_redirects=False
            ) as response:
                return response.status_code, response.headers, self._read(response, deadline)
        except requests.ConnectionError as exc:
            raise _classify(exc) from None
        except requests.Timeout:
            raise UpstreamTimeout("read timeout") from None
        except requests.RequestException as exc:
            raise UpstreamBadResponse(f"broken response: {type(exc).__name__}") from None

    def _read(self, response: requests.Response, deadline: float) -> bytes:
        """Read the body, refusing more than the cap or past the deadline."""
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            raise UpstreamBadResponse("body too large")
        chunks, size = [], 0
        for chunk in response.iter_content(chunk_size=65_536):
            size += len(chunk)
            if size > self.max_body_bytes:
                raise UpstreamBadResponse("body too large")
            if time.monotonic() > deadline:
                raise UpstreamTimeout("deadline exceeded while reading")
            chunks.append(chunk)
        return b"".join(chunks)

    def _interpret(self, word: str, status: int, headers: Any, body: bytes) -> Lookup:
        """Map the final upstream answer onto a Lookup or one of our errors."""
        if status == 200:
            return Lookup.from_entries(word, _entries(body), self.name)
        if status == 404:
            return Lookup(word, None, self.name)
        if status == 429:
            retry_after = _retry_after(headers.get("Retry-After"), self.default_retry_after)
            raise UpstreamRateLimited("upstream rate limit", retry_after=retry_after)
        raise UpstreamBadResponse(f"upstream answered {status}")


class _StatusOnly:
    """What `Retry.increment` needs to count a retryable status."""

    def __init__(self, status: int) -> None:
        self.status = status

    @staticmethod
    def get_redirect_location() -> None:
        return None


def _classify(exc: requests.ConnectionError) -> Exception:
    """Tell 'never reached' (retryable), 'read timed out' and 'broke mid-answer' apart."""
    reason = exc.args[0] if exc.args else None
    if isinstance(reason, MaxRetryError):
        reason = reason.reason
    if isinstance(reason, NewConnectionError):
        return _ConnectFailure(reason, UpstreamUnavailable(f"cannot connect: {reason}"))
    if isinstance(reason, ConnectTimeoutError):
        return _ConnectFailure(reason, UpstreamTimeout("connect timeout"))
    if isinstance(reason, Urllib3ReadTimeout) or isinstance(exc, requests.Timeout):
        return UpstreamTimeout("read timeout")
    return UpstreamBadResponse("connection broken mid-response")


def _entries(body: bytes) -> list[dict[str, Any]]:
    """Parse and check the Free Dictionary API v2 shape: a non-empty list of entries."""
    try:
        data = json.loads(body)
    except ValueError:
        raise UpstreamBadResponse("invalid JSON") from None
    if not isinstance(data, list) or not data:
        raise UpstreamBadResponse("expected a non-empty JSON list")
    for entry in data:
        if not (
            isinstance(entry, dict)
            and isinstance(entry.get("word"), str)
            and isinstance(entry.get("meanings"), list)
        ):
            raise UpstreamBadResponse("entry without word or meanings")
    return data


def _retry_after(value: str | None, default: int) -> int:
    """Seconds from a Retry-After header (delta-seconds or HTTP date), else `default`."""
    if not value:
        return default
    if value.strip().isdigit():
        return max(1, int(value.strip()))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    return max(1, round(when.timestamp() - time.time()))
