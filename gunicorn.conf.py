"""gunicorn settings for the app: `gunicorn -c gunicorn.conf.py app:app`.

Threaded workers because the work is I/O-bound (waiting for the upstream);
counts and bind address come from the environment, defaults fit a small
container. The access log carries Kong's request id and consumer, and never
a query string or an `apikey` header.
"""

from __future__ import annotations

import os
import shutil
import tempfile


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:5000")  # all interfaces: in a container
worker_class = "gthread"
workers = _int("WEB_CONCURRENCY", 2)
threads = _int("GUNICORN_THREADS", 8)
# Above the app's own upstream deadline, so gunicorn never kills a worker that is still bounded.
timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 20)
# Longer than Kong's upstream keepalive idle timeout (60 s) so Kong, not gunicorn, closes idle
# connections; otherwise Kong may reuse a connection gunicorn just closed and answer 502.
keepalive = _int("GUNICORN_KEEPALIVE", 75)
# gunicorn's maximum (default 4094). Kong's nginx refuses request lines over its 8 KiB header
# buffer itself (414); anything shorter that it forwards must reach the app, which answers in
# JSON, not gunicorn's HTML 414 page.
limit_request_line = 8190
max_requests = _int("GUNICORN_MAX_REQUESTS", 0)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 0)

loglevel = os.environ.get("LOG_LEVEL", "info")
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = "-"
# %(U)s is the path without the query string: a key sent as ?apikey=... never reaches the log.
access_log_format = (
    '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms '
    'request_id=%({x-kong-request-id}i)s consumer=%({x-consumer-username}i)s'
)
# gunicorn 27's control socket would be written under $HOME; the app needs no runtime control.
control_socket_disable = True
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

# Prometheus multiprocess mode: each worker writes its samples under this directory and
# /-/metrics aggregates them. A fresh directory per server start, removed on exit.
_owned_metrics_dir = None
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    _owned_metrics_dir = tempfile.mkdtemp(prefix="dictionary-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = _owned_metrics_dir


def child_exit(server: object, worker: object) -> None:
    """Drop a dead worker's live gauges so they do not linger in the aggregate."""
    # Imported here, after PROMETHEUS_MULTIPROC_DIR is set: prometheus_client picks its
    # storage when first imported, and workers inherit the master's modules.
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[attr-defined]


def on_exit(server: object) -> None:
    if _owned_metrics_dir:
        shutil.rmtree(_owned_metrics_dir, ignore_errors=True)
