"""The build: tables, licence, determinism, atomic replacement and its CLI."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from dictionary.backends.wordnet import compiler, schema
from dictionary.backends.wordnet.wndb import WordNetFormatError
from tests.conftest import WORDNET_SAMPLE as SAMPLE_SOURCE

SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "build_wordnet.py"


def body_lines(path: Path) -> list[str]:
    return [line for line in path.read_text().splitlines() if line.strip() and line[:2] != "  "]


def meta(db: Path) -> dict[str, str | bytes]:
    with sqlite3.connect(db) as connection:
        return dict(connection.execute("SELECT key, value FROM meta"))


def copy_sample(tmp_path: Path) -> Path:
    return Path(shutil.copytree(SAMPLE_SOURCE, tmp_path / "source"))


def test_every_sense_and_exception_of_the_source_is_stored(sample_db: Path) -> None:
    names = schema.POS_FILES
    synsets = sum(len(body_lines(SAMPLE_SOURCE / f"data.{n}")) for n in names)
    index = {
        (fields[0], pos): int(fields[2])
        for pos, n in enumerate(names)
        for fields in map(str.split, body_lines(SAMPLE_SOURCE / f"index.{n}"))
    }
    exceptions = sum(
        len(line.split()) - 1 for n in names for line in body_lines(SAMPLE_SOURCE / f"{n}.exc")
    )
    stored = meta(sample_db)
    with sqlite3.connect(sample_db) as connection:
        zdict = stored[schema.ZDICT_KEY]
        definitions = {
            (lemma, pos): len(json.loads(schema.decompress(body, zdict))["definitions"])
            for lemma, pos, body in connection.execute("SELECT lemma, pos, body FROM meaning")
        }
        stored_exceptions = connection.execute("SELECT count(*) FROM exception").fetchone()[0]
    assert definitions == index  # one meaning per (lemma, pos), with every sense
    assert stored_exceptions == exceptions
    assert (stored["lemmas"], stored["synsets"], stored["senses"]) == (
        str(len({lemma for lemma, _ in index})),
        str(synsets),
        str(sum(index.values())),
    )


def test_every_lemma_and_exception_form_is_answered_in_advance(sample_db: Path) -> None:
    names = schema.POS_FILES
    lemmas = {line.split()[0] for n in names for line in body_lines(SAMPLE_SOURCE / f"index.{n}")}
    irregular = {line.split()[0] for n in names for line in body_lines(SAMPLE_SOURCE / f"{n}.exc")}
    with sqlite3.connect(sample_db) as connection:
        forms = {form for (form,) in connection.execute("SELECT DISTINCT form FROM answer")}
        answered = connection.execute(
            "SELECT lemma, pos FROM answer WHERE form = 'better' ORDER BY rank"
        ).fetchall()
    assert lemmas <= forms
    # An exception form whose bases are all missing from the sample has no answer rows.
    assert forms - lemmas <= irregular
    assert meta(sample_db)["forms"] == str(len(lemmas | irregular))
    assert answered == [("better", 2), ("better", 3), ("good", 2), ("well", 2), ("well", 3)]


def test_the_licence_is_stored_inside_and_written_beside_the_database(sample_db: Path) -> None:
    stored = meta(sample_db)
    beside = (sample_db.parent / compiler.LICENSE_FILE_NAME).read_text()
    assert stored["license_text"] == beside
    assert "WordNet 3.0 Copyright 2006 by Princeton University" in beside
    assert stored["license_name"] == schema.LICENSE_NAME
    assert stored["schema_version"] == schema.SCHEMA_VERSION


def test_the_same_input_gives_the_same_bytes(tmp_path: Path, sample_db: Path) -> None:
    again = tmp_path / "again.sqlite3"
    compiler.compile_wordnet(SAMPLE_SOURCE, again)
    assert again.read_bytes() == sample_db.read_bytes()


def test_a_changed_input_changes_the_recorded_checksum(tmp_path: Path, sample_db: Path) -> None:
    source = copy_sample(tmp_path)
    with (source / "noun.exc").open("a") as exc:
        exc.write("oxen ox\n")
    output = compiler.compile_wordnet(source, tmp_path / "out" / "wordnet.sqlite3").output
    assert meta(output)["source_sha256"] != meta(sample_db)["source_sha256"]


def test_the_output_is_readable_by_everyone_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    report = compiler.compile_wordnet(SAMPLE_SOURCE, tmp_path / "wordnet.sqlite3")
    assert report.output.stat().st_mode & 0o777 == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == ["wordnet-LICENSE", "wordnet.sqlite3"]


def test_a_failed_build_keeps_the_previous_database(tmp_path: Path) -> None:
    output = tmp_path / "out" / "wordnet.sqlite3"
    compiler.compile_wordnet(SAMPLE_SOURCE, output)
    previous = output.read_bytes()
    source = copy_sample(tmp_path)
    data = source / "data.noun"
    data.write_text(data.read_text().replace(" | a man who", " | a grown man who"))
    with pytest.raises(WordNetFormatError, match="is at byte"):
        compiler.compile_wordnet(source, output)
    assert output.read_bytes() == previous
    assert sorted(p.name for p in output.parent.iterdir()) == ["wordnet-LICENSE", "wordnet.sqlite3"]


def test_an_index_pointing_nowhere_is_refused(tmp_path: Path) -> None:
    source = copy_sample(tmp_path)
    with (source / "index.adv").open("a") as index:
        index.write("nowhere r 1 0 1 0 99999999  \n")
    with pytest.raises(WordNetFormatError, match="nowhere points to missing synset"):
        compiler.compile_wordnet(source, tmp_path / "wordnet.sqlite3")


def test_missing_source_files_name_the_package_to_install(tmp_path: Path) -> None:
    source = copy_sample(tmp_path)
    (source / "verb.exc").unlink()
    with pytest.raises(
        compiler.SourceMissing, match=r"verb\.exc is missing; install .*wordnet-base"
    ):
        compiler.compile_wordnet(source, tmp_path / "wordnet.sqlite3")
    assert not (tmp_path / "wordnet.sqlite3").exists()


def run_script(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, check=False
    )


def test_cli_builds_the_database(tmp_path: Path) -> None:
    output = tmp_path / "nested" / "wordnet.sqlite3"
    result = run_script("--source", str(SAMPLE_SOURCE), "--output", str(output))
    assert result.returncode == 0, result.stderr
    assert f"wrote {output}" in result.stdout
    assert meta(output)["schema_version"] == schema.SCHEMA_VERSION


def test_cli_exits_2_with_one_line_when_wordnet_is_not_installed(tmp_path: Path) -> None:
    result = run_script("--source", str(tmp_path / "absent"), "--output", str(tmp_path / "x.db"))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "apt-get install --no-install-recommends wordnet-base" in result.stderr
    assert not (tmp_path / "x.db").exists()


def test_cli_exits_1_on_a_malformed_source(tmp_path: Path) -> None:
    source = copy_sample(tmp_path)
    (source / "adv.exc").write_text("lonely\n")
    result = run_script("--source", str(source), "--output", str(tmp_path / "x.db"))
    assert result.returncode == 1
    assert "has no base form" in result.stderr
