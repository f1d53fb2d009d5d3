"""Fixtures shared by every test package: the fake upstream and app builders."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from dictionary import create_app
from dictionary.backends.wordnet.compiler import compile_wordnet
from dictionary.config import Config
from tests.fakes.upstream import FakeUpstream
from tests.servers import Redis, redis_server

# Short bounds so that fault tests finish quickly; the relations between them are the
# production ones (connect < read < deadline).
FAST = {"connect_timeout": 0.5, "read_timeout": 1.0, "deadline": 2.0}
WORDNET_SAMPLE = Path(__file__).resolve().parent / "data" / "wordnet-sample"


@pytest.fixture(scope="session")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The hand-written WordNet sample, compiled once per test session."""
    output = tmp_path_factory.mktemp("wordnet-sample") / "wordnet.sqlite3"
    compile_wordnet(WORDNET_SAMPLE, output)
    return output


@pytest.fixture(scope="session")
def redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Redis]:
    """One password-protected redis-server on 127.0.0.1 for the whole session."""
    with redis_server(tmp_path_factory.mktemp("redis") / "redis.log") as server:
        yield server


@pytest.fixture
def upstream() -> Iterator[FakeUpstream]:
    with FakeUpstream() as fake:
        yield fake


@pytest.fixture
def make_app(upstream: FakeUpstream) -> Callable[..., Flask]:
    """Build an app against the fake upstream; keyword arguments override Config fields."""

    def build(**overrides: Any) -> Flask:
        settings: dict[str, Any] = {"backend": "upstream", "upstream_url": upstream.url, **FAST}
        settings.update(overrides)
        return create_app(Config(**settings))

    return build


@pytest.fixture
def client(make_app: Callable[..., Flask]) -> FlaskClient:
    return make_app().test_client()
