"""DICTIONARY_BACKEND=auto: every upstream failure becomes a WordNet answer for a known word."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask

from tests.fakes.upstream import FakeUpstream, refused_url

FAILURES = [
    "rate_limited",
    "server_error",
    "cloudflare_522",
    "invalid_json",
    "json_object",
    "oversized",
    "hang",
]


@pytest.fixture
def make_auto(make_app: Callable[..., Flask], sample_db: Path) -> Callable[..., Flask]:
    def build(**overrides: object) -> Flask:
        return make_app(backend="auto", wordnet_path=str(sample_db), **overrides)

    return build


@pytest.mark.parametrize("fault", FAILURES)
def test_upstream_failures_are_answered_from_wordnet(
    make_auto: Callable[..., Flask], upstream: FakeUpstream, fault: str
) -> None:
    upstream.fault("goose", fault)
    response = make_auto().test_client().get("/goose")
    assert response.status_code == 200
    assert response.headers["X-Dictionary-Source"] == "wordnet"
    assert response.json[0]["word"] == "goose"
    assert response.json[0]["meanings"][0]["partOfSpeech"] == "noun"
    assert upstream.words_requested()[0] == "goose"


def test_connection_refused_is_answered_from_wordnet(make_auto: Callable[..., Flask]) -> None:
    response = make_auto(upstream_url=refused_url()).test_client().get("/geese")
    assert response.status_code == 200
    assert response.headers["X-Dictionary-Source"] == "wordnet"
    assert response.json[0]["word"] == "goose"


def test_open_circuit_is_answered_from_wordnet_without_calling_upstream(
    make_auto: Callable[..., Flask], upstream: FakeUpstream
) -> None:
    upstream.fault("*", "server_error")
    client = make_auto(breaker_threshold=1).test_client()
    client.get("/goose")
    response = client.get("/run")
    assert response.status_code == 200
    assert response.headers["X-Dictionary-Source"] == "wordnet"
    assert upstream.words_requested() == ["goose"]


def test_upstream_404_is_answered_from_wordnet(
    make_auto: Callable[..., Flask], upstream: FakeUpstream
) -> None:
    response = make_auto().test_client().get("/run")  # the fake upstream does not know "run"
    assert response.status_code == 200
    assert response.headers["X-Dictionary-Source"] == "wordnet"
    assert {m["partOfSpeech"] for m in response.json[0]["meanings"]} == {"noun", "verb"}


def test_upstream_answer_wins_when_it_has_one(make_auto: Callable[..., Flask]) -> None:
    response = make_auto().test_client().get("/hello")
    assert response.headers["X-Dictionary-Source"] == "upstream"
    assert response.json[0]["license"]["name"] == "CC BY-SA 3.0"


def test_both_missing_is_the_upstream_404(make_auto: Callable[..., Flask]) -> None:
    response = make_auto().test_client().get("/qwertyuiop")
    assert response.status_code == 404
    assert response.json["title"] == "No Definitions Found"


def test_failure_and_unknown_word_keeps_the_upstream_status(
    make_auto: Callable[..., Flask], upstream: FakeUpstream
) -> None:
    upstream.fault("*", "server_error")
    response = make_auto().test_client().get("/qwertyuiop")
    assert response.status_code == 502


def test_fallback_answers_are_cached_only_briefly(
    make_auto: Callable[..., Flask], upstream: FakeUpstream
) -> None:
    upstream.fault("goose", "server_error")
    client = make_auto(cache_ttl=86_400, cache_negative_ttl=60).test_client()
    assert client.get("/goose").headers["Cache-Control"] == "public, max-age=60"


def test_upstream_mode_still_maps_failures(
    make_app: Callable[..., Flask], upstream: FakeUpstream, sample_db: Path
) -> None:
    upstream.fault("goose", "server_error")
    app = make_app(backend="upstream", wordnet_path=str(sample_db))
    assert app.test_client().get("/goose").status_code == 502


def test_wordnet_mode_never_calls_the_upstream(
    make_app: Callable[..., Flask], upstream: FakeUpstream, sample_db: Path
) -> None:
    client = make_app(backend="wordnet", wordnet_path=str(sample_db)).test_client()
    response = client.get("/better")
    assert response.status_code == 200
    assert [entry["word"] for entry in response.json] == ["better", "good", "well"]
    assert client.get("/qwertyuiop").status_code == 404
    assert upstream.requests == []


def test_readiness_reports_both_backends(
    make_app: Callable[..., Flask], sample_db: Path, tmp_path: Path
) -> None:
    ready = make_app(backend="auto", wordnet_path=str(sample_db)).test_client().get("/-/ready")
    assert ready.json == {"status": "ready", "backends": {"upstream": True, "wordnet": True}}
    missing = make_app(backend="wordnet", wordnet_path=str(tmp_path / "absent.sqlite3"))
    response = missing.test_client().get("/-/ready")
    assert response.status_code == 503
    assert response.json["backends"] == {"wordnet": False}


def test_missing_wordnet_file_is_a_503_envelope(
    make_app: Callable[..., Flask], tmp_path: Path
) -> None:
    app = make_app(backend="wordnet", wordnet_path=str(tmp_path / "absent.sqlite3"))
    response = app.test_client().get("/goose")
    assert response.status_code == 503
    assert response.json["error"] == "dictionary_unavailable"
    assert str(tmp_path) not in response.get_data(as_text=True)


ACCENTED = [("café", "cafe"), ("naïve", "naive"), ("résumé", "resume")]


@pytest.mark.parametrize(("typed", "found"), ACCENTED)
@pytest.mark.parametrize("fault", ["not_found", "server_error"])
def test_the_fallback_finds_a_word_without_its_accents(
    make_auto: Callable[..., Flask], upstream: FakeUpstream, fault: str, typed: str, found: str
) -> None:
    upstream.fault("*", fault)
    response = make_auto().test_client().get(f"/{typed}")
    assert response.status_code == 200
    assert response.headers["X-Dictionary-Source"] == "wordnet"
    assert response.json[0]["word"] == found
    assert upstream.words_requested()[0] == typed  # the upstream gets the word as typed


def test_the_fallback_without_an_upstream_finds_a_word_without_its_accents(
    make_auto: Callable[..., Flask],
) -> None:
    response = make_auto(upstream_url=refused_url()).test_client().get("/caf%C3%A9s")
    assert response.status_code == 200
    assert response.json[0]["word"] == "cafe"


@pytest.mark.parametrize(("typed", "found"), [*ACCENTED, ("Y2K", "y2k"), ("CAFÉ", "cafe")])
def test_wordnet_mode_finds_words_with_digits_and_without_their_accents(
    make_app: Callable[..., Flask], upstream: FakeUpstream, sample_db: Path, typed: str, found: str
) -> None:
    client = make_app(backend="wordnet", wordnet_path=str(sample_db)).test_client()
    response = client.get(f"/{typed}")
    assert response.status_code == 200
    assert [entry["word"] for entry in response.json] == [found]
    unknown = client.get("/zz9zz")
    assert (unknown.status_code, unknown.json["error"]) == (404, "word_not_found")
    assert upstream.requests == []
