"""The public routes, their headers, and the JSON envelope on every error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from tests.fakes.upstream import DATA, FakeUpstream

ENVELOPE_KEYS = {"title", "message", "resolution", "error"}


def test_index_keeps_the_original_greeting(client: FlaskClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.json == {"data": "Welcome to dictionary"}
    assert response.headers["Content-Type"] == "application/json"


def test_lookup_returns_the_upstream_entries(client: FlaskClient) -> None:
    response = client.get("/hello")
    assert response.status_code == 200
    assert response.json == json.loads(Path(DATA, "hello.json").read_text())
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["X-Dictionary-Source"] == "upstream"


def test_license_and_source_urls_pass_through(client: FlaskClient) -> None:
    entry = client.get("/keyboard").json[0]
    assert entry["license"]["name"] == "CC BY-SA 3.0"
    assert entry["sourceUrls"] == ["https://en.wiktionary.org/wiki/keyboard"]
    assert entry["phonetic"] == "/ˈkiːbɔːd/"


def test_optional_fields_of_the_legacy_shape_are_tolerated(client: FlaskClient) -> None:
    response = client.get("/legacy")
    assert response.status_code == 200
    assert "origin" in response.json[0]


def test_lookup_is_case_insensitive_and_trimmed(
    client: FlaskClient, upstream: FakeUpstream
) -> None:
    assert client.get("/%20HeLLo%20").status_code == 200
    assert upstream.words_requested() == ["hello"]


def test_word_is_percent_encoded_upstream(client: FlaskClient, upstream: FakeUpstream) -> None:
    client.get("/ice%20cream")
    client.get("/o’clock")
    paths = [r["path"] for r in upstream.requests]
    assert paths == ["/api/v2/entries/en/ice%20cream", "/api/v2/entries/en/o%E2%80%99clock"]


def test_head_works_without_a_body(client: FlaskClient) -> None:
    response = client.head("/hello")
    assert response.status_code == 200
    assert response.data == b""
    assert response.headers["Content-Type"] == "application/json"


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
def test_other_methods_get_405_in_the_envelope(client: FlaskClient, method: str) -> None:
    response = client.open("/hello", method=method)
    assert response.status_code == 405
    assert set(response.json) == ENVELOPE_KEYS
    assert response.json["error"] == "method_not_allowed"
    assert response.headers["Allow"] == "GET, HEAD"
    assert response.headers["Content-Type"] == "application/json"


@pytest.mark.parametrize(
    "path",
    ["/100%25", "/a%2Fb", "/a/b", "/a%5Cb", "/tab%09", "/%00", "/%FF%FE", "/" + "a" * 65, "/%20"],
)
def test_invalid_words_get_400_and_never_reach_the_upstream(
    client: FlaskClient, upstream: FakeUpstream, path: str
) -> None:
    response = client.get(path)
    assert response.status_code == 400
    assert response.json["error"] == "invalid_word"
    assert set(response.json) == ENVELOPE_KEYS
    assert upstream.requests == []


@pytest.mark.parametrize("word", ["zz9zz", "mp3", "covid-19", "4-h", "1990s"])
def test_words_with_digits_are_looked_up(
    client: FlaskClient, upstream: FakeUpstream, word: str
) -> None:
    response = client.get(f"/{word.upper()}")
    assert response.status_code == 404  # the fake upstream does not know them
    assert response.json["error"] == "word_not_found"
    assert set(response.json) == ENVELOPE_KEYS
    assert upstream.words_requested() == [word]


def test_unknown_operational_path_is_a_json_404(client: FlaskClient) -> None:
    response = client.get("/-/nothing-here")
    assert response.status_code in (400, 404)
    assert set(response.json) == ENVELOPE_KEYS


def test_a_bug_is_a_json_500_without_a_stack_trace(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = client.application.extensions["dictionary"]

    def broken(word: str) -> None:
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(cache, "fetch", broken)
    response = client.get("/hello")
    assert response.status_code == 500
    assert response.json["error"] == "internal_error"
    assert set(response.json) == ENVELOPE_KEYS
    assert b"secret internal detail" not in response.data
    assert b"Traceback" not in response.data
    assert response.headers["Content-Type"] == "application/json"


@pytest.mark.parametrize("word", ["health", "metrics", "status", "ready"])
def test_operational_words_remain_lookups(
    client: FlaskClient, upstream: FakeUpstream, word: str
) -> None:
    response = client.get(f"/{word}")
    assert response.status_code == 404  # the fake upstream does not know them
    assert upstream.words_requested() == [word]


def test_no_path_is_served_from_files(client: FlaskClient) -> None:
    """Flask's default /static/<file> route would answer these from the filesystem."""
    response = client.get("/static/app.py")
    assert response.status_code == 400
    assert response.json["error"] == "invalid_word"
