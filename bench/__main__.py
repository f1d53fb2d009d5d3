"""`python -m bench [--smoke] [--out DIR]`: run every scenario, print and save the results.

The full run takes about ten minutes; `--smoke` runs every scenario for a second
with short upstream timeouts, to check the harness, not the app.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from urllib.parse import quote

from bench import gateway, procs, report, wordnet, wrk
from bench.runner import Row, Settings, run_group
from bench.scenarios import Group, groups
from dictionary.backends.wordnet import WordNetDictionary
from tests.servers import REPO

RESULTS = Path(__file__).resolve().parent / "results"
IN_PROCESS = "wordnet"  # the pseudo-group of the embedded dictionary's in-process figures
GATEWAY = "gateway"  # the pseudo-group of a real Kong's figures (KONG_ADMIN_URL, KONG_PROXY_URL)
SMOKE = Settings(
    seconds=1,
    warmup=0,
    rounds=1,
    long_seconds=2,
    long_warmup=0,
    # A hang is cut off in half a second instead of five.
    env={
        "DICTIONARY_CONNECT_TIMEOUT": "0.2",
        "DICTIONARY_READ_TIMEOUT": "0.5",
        "DICTIONARY_DEADLINE": "1",
    },
)


def wordnet_database(out: Path) -> Path:
    """The compiled WordNet file: `make wordnet`'s if it is current, else one built under `out`."""
    default = REPO / "data" / "wordnet.sqlite3"
    if WordNetDictionary(default).ready():
        return default
    built = out / "wordnet.sqlite3"
    if not WordNetDictionary(built).ready():  # missing, or of an older schema
        script = REPO / "scripts" / "build_wordnet.py"
        command = [sys.executable, str(script), "--output", str(built)]
        subprocess.run(command, check=True)  # noqa: S603 - the repository's own script
    return built


def words_file(out: Path) -> Path:
    """Every WordNet lemma the app accepts, one URL path a line, for random lookups."""
    path = out / "wordnet-lemmas.txt"
    lemmas = wordnet.accepted(wordnet.words("index.{pos}"))
    path.write_text("".join(f"/{quote(lemma, safe='')}\n" for lemma in lemmas))
    return path


def gateway_section(settings: Settings, words: Path) -> list[str]:
    """The gateway group, against the Kong the environment names, or why it did not run."""
    targets = gateway.targets_from_env()
    if targets is None:
        print(f"bench: {GATEWAY}: {gateway.NOT_RUN}", file=sys.stderr, flush=True)
        return gateway.section(None)
    print(f"bench: {GATEWAY} against {targets[1]} ...", file=sys.stderr, flush=True)
    return gateway.section(gateway.measure(*targets, words, settings.seconds, settings.rounds,
                                           settings.warmup))


def run_all(todo: list[Group], settings: Settings, logs: Path, parallel: bool) -> list[Row]:
    """One group after another; the smoke mode runs them all at once (its figures mean nothing)."""
    if parallel:
        with ThreadPoolExecutor(len(todo)) as pool:
            results = list(pool.map(lambda group: run_group(group, settings, logs), todo))
        return [row for rows in results for row in rows]
    rows: list[Row] = []
    for group in todo:
        print(f"bench: {group.name} ...", file=sys.stderr, flush=True)
        rows += run_group(group, settings, logs)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="a few seconds: check the harness")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where results are written")
    parser.add_argument(
        "--group",
        action="append",
        help=f"run only this group (repeatable), e.g. ceiling; {IN_PROCESS}: the embedded "
        f"dictionary's figures; {GATEWAY}: a real Kong's (KONG_ADMIN_URL, KONG_PROXY_URL)",
    )
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    wrk.wrk_path()  # fail early with the install hint
    base = SMOKE if args.smoke else Settings()
    database = wordnet_database(args.out)
    settings = replace(base, env={**base.env, "DICTIONARY_WORDNET_PATH": str(database)})
    stamp = time.strftime("%Y%m%d-%H%M%S")
    logs = args.out / f"logs-{stamp}"
    todo = [g for g in groups(str(words_file(args.out))) if not args.group or g.name in args.group]
    in_process = not args.group or IN_PROCESS in args.group
    with_gateway = not args.group or GATEWAY in args.group
    if not todo and not in_process and not with_gateway:
        parser.error(f"no such group: {', '.join(args.group)}")
    rows = run_all(todo, settings, logs, parallel=args.smoke)
    figures = None
    if in_process:
        print(f"bench: {IN_PROCESS} ...", file=sys.stderr, flush=True)
        lookups = 200 if args.smoke else 5000
        figures = wordnet.measure(database, args.out, lookups, build=not args.smoke)
    text = report.render(rows, settings, args.smoke, figures)
    if with_gateway:
        text += "\n" + "\n".join(gateway_section(settings, words_file(args.out)))
    (args.out / f"bench-{stamp}.md").write_text(text)
    (args.out / "latest.md").write_text(text)
    summary = {
        "rows": [
            {"scenario": r.scenario, "server": r.server, "rounds": len(r.results)} for r in rows
        ],
        "pids": procs.STARTED,
    }
    (args.out / "latest.json").write_text(json.dumps(summary, indent=1))
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
