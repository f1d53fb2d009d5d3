"""Compile Debian's WordNet 3.0 files into the SQLite file of the embedded dictionary.

    python scripts/build_wordnet.py [--source /usr/share/wordnet] [--output data/wordnet.sqlite3]

Exit status 2 with a one-line hint when the WordNet files are missing, 1 when they
cannot be parsed. The Dockerfile, `.ci/run` and `make wordnet` all run this script.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=Path("/usr/share/wordnet"))
    parser.add_argument("--output", type=Path, default=REPO_ROOT / "data" / "wordnet.sqlite3")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # Imported here so that the script runs from any directory without installing the app.
    sys.path.insert(0, str(REPO_ROOT))
    from dictionary.backends.wordnet import compiler

    started = time.perf_counter()
    try:
        report = compiler.compile_wordnet(args.source, args.output)
    except compiler.SourceMissing as error:
        print(f"build_wordnet: {error}", file=sys.stderr)
        return 2
    except compiler.WordNetFormatError as error:
        print(f"build_wordnet: {error}", file=sys.stderr)
        return 1
    counts = report.counts
    print(
        f"build_wordnet: wrote {report.output} ({report.size / 1e6:.1f} MB; "
        f"{counts.lemmas:,} lemmas, {counts.synsets:,} synsets, {counts.senses:,} senses, "
        f"{counts.exceptions:,} exceptions, {counts.forms:,} forms answered in advance) "
        f"and {report.license_path.name}"
        f" in {time.perf_counter() - started:.1f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
