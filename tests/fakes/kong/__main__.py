"""Serve the Kong double for manual use.

    python -m tests.fakes.kong --admin-port 8001 --proxy-port 8000
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import threading

from .double import KongDouble


def main(argv: list[str] | None = None) -> int:
    """Run until interrupted; prints where the Admin API and the proxy listen."""
    parser = argparse.ArgumentParser(
        prog="python -m tests.fakes.kong",
        description="Kong 3.9.3 double (Admin API and proxy) on 127.0.0.1.")
    parser.add_argument("--admin-port", type=int, default=8001, help="0 picks a free port")
    parser.add_argument("--proxy-port", type=int, default=8000, help="0 picks a free port")
    parser.add_argument("--dbless", action="store_true", help="answer writes like DB-less Kong")
    args = parser.parse_args(argv)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with KongDouble(admin_port=args.admin_port, dbless=args.dbless,
                    proxy_port=args.proxy_port) as kong:
        print(f"Kong double: Admin API on {kong.admin_url}, proxy on {kong.proxy_url}",
              flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
