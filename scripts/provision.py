"""Converge Kong to the declared gateway (gateway.yaml) through its Admin API.

Thin command line over the `gateway` package: apply (default), plan, destroy, key show/rotate.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gateway import report
from gateway.admin import AdminClient
from gateway.checks import check_kong_version, check_redis_name
from gateway.errors import ConfigError, ProvisionError
from gateway.keys import rotate_key, show_keys
from gateway.model import Gateway, load_gateway
from gateway.plan import Planner, apply, destroy_plan
from gateway.propagation import Barrier

DESCRIPTION = """\
Make Kong look like the declared gateway file, safely and repeatably.

commands:
  apply (default)       create or replace, by name, every declared entity that differs from Kong
                        (service, upstream + target, route, plugins, QoS plans, consumers), wait
                        until every Kong worker serves them, then give each consumer without a
                        key a Kong-generated key and print it once, and delete entities tagged
                        as ours that the file no longer declares
  plan                  show what apply would change (drift included); writes nothing
  destroy               delete every entity tagged as managed by this tool, nothing else
  key show USER         print the API key(s) of a managed consumer
  key rotate USER       give USER a new key (Kong generates it, or --key), delete the old ones

exit codes: 0 done; 1 Kong refused a change (its message is shown); 2 bad usage or gateway file
            (or a Kong release the file is not written for); 3 Kong unreachable or not ready in
            time; 4 Kong runs DB-less (Admin API read-only); 5 Kong's workers did not all serve
            a change in time (keys are not created before their plans)
"""
EPILOG = """\
examples:
  python scripts/provision.py                       # apply against $KONG_ADMIN_URL
  python scripts/provision.py plan --json
  python scripts/provision.py --admin-url http://kong:8001 --service-url http://app:5000
  python scripts/provision.py key rotate demo
"""


def _common_options() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False, argument_default=argparse.SUPPRESS)
    common.add_argument("--admin-url", help="Kong Admin API (default: $KONG_ADMIN_URL, "
                                            "else http://localhost:8001)")
    common.add_argument("--service-url", help="where Kong finds the app (default: "
                                              "$DICTIONARY_SERVICE_URL, else http://app:5000)")
    common.add_argument("--proxy-url", action="append",
                        help="Kong's proxy as seen from here, polled until every worker of "
                             "every node it resolves to serves a change; repeat it for nodes "
                             "behind other names (default: $KONG_PROXY_URL, comma-separated, "
                             "else the Admin API's host on port 8000)")
    common.add_argument("--public-url", help="the proxy address clients use, for the printed "
                                             "curl line (default: $GATEWAY_PUBLIC_URL, else "
                                             "public_url in the gateway file)")
    common.add_argument("--redis-url", help="Kong's Redis for the plans' counters (default: "
                                            "$GATEWAY_REDIS_URL, else rate_limiting.redis_url)")
    common.add_argument("--file", help="declared gateway (default: $GATEWAY_FILE, else "
                                       "gateway.yaml at the repository root)")
    common.add_argument("--wait", type=float, help="seconds to wait for Kong to be ready "
                                                   "(default 60)")
    common.add_argument("--json", action="store_true", help="machine-readable output")
    return common


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Options are accepted before or after the command."""
    common = _common_options()
    parser = argparse.ArgumentParser(prog="provision.py", description=DESCRIPTION, epilog=EPILOG,
                                     parents=[common],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    key_help = "apply: use KEY for USER if USER has no key yet (else Kong generates one)"
    parser.add_argument("--key", action="append", metavar="USER=KEY", help=key_help)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    apply_cmd = commands.add_parser("apply", parents=[common], help="converge Kong (default)")
    apply_cmd.add_argument("--key", action="append", metavar="USER=KEY", help=key_help,
                           default=argparse.SUPPRESS)
    show_help = "apply: also print USER's existing key (docker compose asks for demo's)"
    for command in (parser, apply_cmd):
        command.add_argument("--show-key", action="append", metavar="USER", help=show_help,
                             **({} if command is parser else {"default": argparse.SUPPRESS}))
    commands.add_parser("plan", parents=[common], help="show changes, write nothing")
    commands.add_parser("destroy", parents=[common], help="delete what this tool manages")
    key_cmd = commands.add_parser("key", parents=[common], help="show or rotate a consumer's key")
    key_cmd.add_argument("action", choices=("show", "rotate"))
    key_cmd.add_argument("username")
    key_cmd.add_argument("--key", dest="new_key", help="rotate: use this key instead")
    args = parser.parse_args(argv)
    defaults = {"command": args.command or "apply", "key": [], "show_key": [], "json": False,
                "wait": 60.0,
                "admin_url": os.environ.get("KONG_ADMIN_URL") or "http://localhost:8001",
                "proxy_url": [u for u in (os.environ.get("KONG_PROXY_URL") or "").split(",")
                              if u.strip()], "public_url": None,
                "redis_url": None, "service_url": None, "file": None}
    for name, value in defaults.items():
        if getattr(args, name, None) in (None, []):
            setattr(args, name, value)
    return args


def connect(args: argparse.Namespace, converge: bool = False) -> tuple[Gateway, AdminClient]:
    """The declared gateway and a ready Kong; `converge` also checks what apply and plan need
    (the Kong release, the Redis host's name) before anything is written."""
    gateway = load_gateway(args.file, args.service_url, args.public_url, args.redis_url)
    client = AdminClient(args.admin_url)
    client.wait_ready(args.wait)
    if converge:
        check_kong_version(client, gateway)
        note = check_redis_name(gateway)
        if note:
            print(f"provision: note: {note}", file=sys.stderr)
    return gateway, client


def barrier(args: argparse.Namespace, gateway: Gateway, client: AdminClient) -> Barrier:
    """Waits on Kong's proxy: --proxy-url, else the Admin API's host on port 8000."""
    admin = urlsplit(args.admin_url)
    default = f"{admin.scheme}://{admin.hostname}:8000"
    return Barrier(client, gateway, [u.strip() for u in args.proxy_url] or [default])


def supplied_keys(pairs: list[str]) -> dict[str, str]:
    keys = {}
    for pair in pairs:
        user, sep, key = pair.partition("=")
        if not sep or not user or not key:
            raise ConfigError(f"--key expects USER=KEY, got '{pair.split('=')[0]}=...'")
        keys[user] = key
    return keys


def run_apply(args: argparse.Namespace) -> int:
    gateway, client = connect(args, converge=True)
    keys_in = supplied_keys(args.key)
    client.secrets.update(keys_in.values())
    if gateway.counting and gateway.counting.redis and gateway.counting.redis.password:
        client.secrets.add(gateway.counting.redis.password)
    waits = barrier(args, gateway, client)
    changes = Planner(client, gateway).plan(keys_in)
    applied = apply(client, changes, waits)
    if args.json:
        print(report.as_json(changes, "apply", client.writes, applied.keys, applied.waits))
        return 0
    print(f"Kong Admin API {args.admin_url}:")
    print(report.human(changes, "Applied"))
    for wait in applied.waits:
        print(wait.line())
    requested = [u for u in args.show_key if u not in applied.keys]
    shown = {u: keys[0] for u in requested if (keys := show_keys(client, u, gateway.tag))}
    print(report.keys_section(gateway, {**applied.keys, **shown}))
    return 0


def run_plan(args: argparse.Namespace) -> int:
    gateway, client = connect(args, converge=True)
    changes = Planner(client, gateway).plan()
    if args.json:
        print(report.as_json(changes, "plan", client.writes, {}))
    else:
        print(f"Kong Admin API {args.admin_url} (plan only, nothing written):")
        print(report.human(changes, "Plan", done=False))
    return 0


def run_destroy(args: argparse.Namespace) -> int:
    gateway, client = connect(args)
    changes = destroy_plan(client, gateway.tag)
    apply(client, changes)                   # deletions only: nothing to wait for
    print(report.as_json(changes, "destroy", client.writes, {}) if args.json
          else report.human(changes, "Destroyed") if changes
          else f"Nothing tagged '{gateway.tag}' in Kong: nothing to destroy.")
    return 0


def run_key(args: argparse.Namespace) -> int:
    gateway, client = connect(args)
    if args.action == "show":
        keys = show_keys(client, args.username, gateway.tag)
    else:
        keys = [rotate_key(client, gateway, args.username, barrier(args, gateway, client),
                           args.new_key)]
    if args.json:
        print(report.json_keys(args.username, keys))
    else:
        print(report.key_lines(gateway, [(args.username, k) for k in keys]) if keys
              else f"consumer '{args.username}' has no key; run apply or key rotate")
    return 0


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "apply": run_apply, "plan": run_plan, "destroy": run_destroy, "key": run_key}


def main(argv: list[str] | None = None) -> int:
    """Run one command; every failure becomes a one-line message and a documented exit code."""
    args = parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except ProvisionError as error:
        print(f"provision: error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("provision: interrupted", file=sys.stderr)
        return 130
    except Exception as error:
        print(f"provision: internal error: {type(error).__name__}: {error}", file=sys.stderr)
        return 70


if __name__ == "__main__":
    raise SystemExit(main())
