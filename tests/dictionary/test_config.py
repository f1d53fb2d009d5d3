"""Configuration from the environment: defaults, overrides and refusals."""

from __future__ import annotations

import pytest

from dictionary.config import Config


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DICTIONARY_BACKEND", "DICTIONARY_UPSTREAM_URL", "DICTIONARY_DEADLINE"):
        monkeypatch.delenv(name, raising=False)
    config = Config.from_env()
    assert config.backend == "auto"
    assert config.upstream_url == "https://api.dictionaryapi.dev/api/v2/entries/en"
    assert (config.connect_timeout, config.read_timeout, config.deadline) == (2.0, 5.0, 8.0)


def test_environment_is_read_and_typed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DICTIONARY_BACKEND", "upstream")
    monkeypatch.setenv("DICTIONARY_DEADLINE", "3.5")
    monkeypatch.setenv("DICTIONARY_CACHE_MAX_BYTES", "42")
    config = Config.from_env()
    assert (config.backend, config.deadline, config.cache_max_bytes) == ("upstream", 3.5, 42)


def test_overrides_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DICTIONARY_RETRIES", "5")
    assert Config.from_env(retries=1).retries == 1


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("DICTIONARY_BACKEND", "google", "DICTIONARY_BACKEND must be one of"),
        ("DICTIONARY_DEADLINE", "soon", "DICTIONARY_DEADLINE='soon' is not a valid float"),
        ("DICTIONARY_READ_TIMEOUT", "0", "must be positive"),
        ("DICTIONARY_RETRIES", "-1", "retries and the cache size must be >= 0"),
    ],
)
def test_bad_values_are_refused_with_the_variable_name(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=message):
        Config.from_env()
