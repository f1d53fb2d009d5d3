"""The gateway group of the benchmark: it measures only a Kong the environment names, and its
harness works against one (the Kong double here: figures of a one-second run mean nothing)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
import requests
import yaml

from bench import gateway
from tests.e2e.conftest import Stack, _double_stack, gateway_spec
from tests.servers import Redis


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, sample_db: Path,
          redis: Redis) -> Iterator[Stack]:
    folder = tmp_path_factory.mktemp("bench-gateway")
    gateway_file = folder / "gateway.yaml"
    gateway_file.write_text(yaml.safe_dump(gateway_spec(redis)), encoding="utf-8")
    with ExitStack() as stack_:
        built = _double_stack(stack_, folder, gateway_file, sample_db, redis)
        built.provision()
        yield built


def test_without_a_kong_named_it_says_so(monkeypatch) -> None:
    monkeypatch.delenv("KONG_ADMIN_URL", raising=False)
    monkeypatch.setenv("KONG_PROXY_URL", "http://127.0.0.1:9")
    assert gateway.targets_from_env() is None
    assert "The gateway group was not run" in "\n".join(gateway.section(None))


@pytest.mark.timeout(120)
def test_every_row_is_measured_and_the_bench_entities_go_again(stack: Stack,
                                                               tmp_path: Path) -> None:
    words = tmp_path / "words.txt"
    words.write_text("/goose\n/geese\n/hello\n/walked\n")
    figures = gateway.measure(stack.admin_url, stack.proxy_url, words, seconds=1, rounds=1,
                              warmup=0)
    assert set(figures.rps) == {"terminate", "hit", "miss", "key-auth"}
    assert all(rps > 0 for rps in figures.rps.values()), figures
    assert all(set(statuses) == {"200"} for statuses in figures.statuses.values()), figures
    text = "\n".join(gateway.section(figures))
    assert "| full chain, Hit / Kong answering itself |" in text
    assert "full chain, Miss / key-auth alone" in text
    left = requests.get(f"{stack.admin_url}/routes?tags={gateway.TAG}", timeout=10).json()
    assert left["data"] == []
    assert requests.get(f"{stack.admin_url}/consumers/{gateway.CONSUMER}",
                        timeout=10).status_code == 404
