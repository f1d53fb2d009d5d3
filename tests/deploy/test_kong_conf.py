"""kong.conf holds only keys Kong 3.9.3 reads, with listener values Kong can parse.

Kong drops unknown keys without a word (kong-3.9.md §3.1), so a misspelt key is a setting
that silently never applies. The key lists in tests/data/kong were extracted from Kong 3.9.3's
kong.conf.default and kong_defaults.lua (kong-3.9.md §3.3-3.4).
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest

from tests.deploy import support

KONG_CONF = support.KONG_CONF
# DYNAMIC_KEY_NAMESPACES in kong/conf_loader/constants.lua: injected nginx directives etc.
DYNAMIC_KEY = re.compile(
    r"^(nginx_(main|events|http|upstream|proxy|location|status|admin|stream|supstream|sproxy"
    r"|wasm)_|pluginserver_|vault_)[a-z0-9_]+$"
)
LISTENERS = ("proxy_listen", "admin_listen", "status_listen", "admin_gui_listen")
BOOLEANS = {"on", "off", "true", "false"}
LOG_LEVELS = {"debug", "info", "notice", "warn", "error", "crit", "alert", "emerg"}
# What the proxy path of a known consumer reads from Kong's caches: the DAO names (kong/db).
WARMUP_NEEDED = {"services", "consumers", "keyauth_credentials"}
# Entities warmup skips on purpose (kong/cache/warmup.lua l.176-192): listing them is a mistake.
WARMUP_IGNORED = {"routes", "plugins"}
# The dictionary gateway.yaml's proxy-cache must name (memory.dictionary_name).
PROXY_CACHE_DICTIONARY = "gateway_proxy_cache"
parse_kong_conf = support.parse_kong_conf
parse_listeners = support.parse_listeners
settings = cache(support.kong_conf)


@cache
def key_list(name: str) -> frozenset[str]:
    """One of the copied Kong 3.9.3 key lists."""
    return frozenset((support.DATA / name).read_text(encoding="utf-8").split())


def key_problem(key: str) -> str | None:
    """Why Kong 3.9.3 would ignore `key`, or None if it reads it."""
    if key in key_list("kong_defaults_keys.txt") or DYNAMIC_KEY.match(key):
        return None
    if key in key_list("kong_conf_keys.txt"):
        return f"{key} is documented but not in the OSS defaults: Kong ignores it"
    return f"{key} is not a Kong 3.9 key: Kong would silently ignore it"


def only_listener(key: str) -> tuple[str, int, set[str]]:
    """The single listener a key in kong.conf declares."""
    listeners = parse_listeners(settings()[key])
    assert len(listeners) == 1, f"{key}: expected one listener, got {listeners}"
    return listeners[0]


# ---------------------------------------------------------------- the checkers can fail


def test_key_lists_are_the_kong_3_9_3_lists() -> None:
    """The copied data is complete: 177 documented keys, 204 defaults, and the known gap."""
    documented, defaults = key_list("kong_conf_keys.txt"), key_list("kong_defaults_keys.txt")
    assert (len(documented), len(defaults)) == (177, 204)
    # kong-3.9.md §3.4: the five documented keys the OSS loader does not hold.
    assert documented - defaults == {
        "debug_ssl_cert", "debug_ssl_cert_key", "vault_env_prefix",
        "nginx_http_client_header_buffer_size", "nginx_http_large_client_header_buffers",
    }


@pytest.mark.parametrize(
    ("key", "valid"),
    [
        ("admin_listen", True),
        ("nginx_http_client_body_buffer_size", True),
        ("nginx_proxy_real_ip_header", True),
        ("pluginserver_py_hello_socket", True),
        ("admin_listn", False),
        ("pg_passwd", False),
        ("debug_ssl_cert", False),
        ("nginx_foo_bar", False),
    ],
)
def test_key_checker(key: str, valid: bool) -> None:
    """Typos and Enterprise-only keys are rejected; dynamic namespaces are accepted."""
    assert (key_problem(key) is None) == valid


@pytest.mark.parametrize(
    "value",
    ["0.0.0.0", "0.0.0.0:8000 sssl", "0.0.0.0:0", "0.0.0.0:8000;", "127.0.0.1:8001 backlog=x"],
)
def test_listener_parser_rejects(value: str) -> None:
    """Values Kong refuses to start with are refused here too."""
    with pytest.raises(ValueError, match="must be of form"):
        parse_listeners(value)


def test_listener_parser_accepts_kong_defaults() -> None:
    """Kong's own default values parse, including IPv6 and several entries."""
    default = "0.0.0.0:8000 reuseport backlog=16384, 0.0.0.0:8443 http2 ssl reuseport backlog=16384"
    assert [port for _, port, _ in parse_listeners(default)] == [8000, 8443]
    assert parse_listeners("[::1]:8001 ssl") == [("[::1]", 8001, {"ssl"})]
    assert parse_listeners("off") == []


def test_parser_rejects_a_line_without_assignment() -> None:
    """A stray word is an error, not a silently skipped line."""
    with pytest.raises(ValueError, match=r"kong\.conf:2"):
        parse_kong_conf("log_level = info\nanonymous_reports off\n")


# ---------------------------------------------------------------- kong.conf itself


def test_every_key_is_a_kong_3_9_key() -> None:
    """No key in kong.conf would be dropped by Kong 3.9.3."""
    problems = [
        f"line {number}: {key_problem(key)}"
        for number, key, _ in parse_kong_conf(KONG_CONF.read_text("utf-8"))
        if key_problem(key)
    ]
    assert problems == []


def test_no_key_is_set_twice() -> None:
    """The last of two assignments wins silently; one per key keeps the file honest."""
    keys = [key for _, key, _ in parse_kong_conf(KONG_CONF.read_text("utf-8"))]
    assert sorted(keys) == sorted(set(keys))


@pytest.mark.parametrize("key", LISTENERS)
def test_listeners_parse(key: str) -> None:
    """Each listener value has the form Kong accepts."""
    parse_listeners(settings()[key])


def test_database_settings_name_the_compose_db() -> None:
    """PostgreSQL on the compose `db` service, database and user kong, password never here."""
    conf = settings()
    assert conf["database"] == "postgres"
    assert conf["pg_host"] in support.raw_compose()["services"]
    assert (conf["pg_user"], conf["pg_database"]) == ("kong", "kong")
    assert "pg_password" not in conf
    assert "pg_ro_password" not in conf


def test_production_settings() -> None:
    """No usage reports, bundled plugins, valid booleans and log level."""
    conf = settings()
    assert conf["anonymous_reports"] == "off"
    assert conf["plugins"] == "bundled"
    assert conf["log_level"] in LOG_LEVELS
    for key in ("anonymous_reports", "pg_ssl", "real_ip_recursive"):
        assert conf[key] in BOOLEANS, key


def test_logs_go_to_stdout_and_stderr() -> None:
    """Containers log to their standard streams, where `docker compose logs` finds them."""
    conf = settings()
    for kind in ("proxy", "admin"):
        assert conf[f"{kind}_access_log"] == "/dev/stdout"
        assert conf[f"{kind}_error_log"] == "/dev/stderr"
    assert conf["status_error_log"] == "/dev/stderr"


def test_client_addresses_are_not_trusted_blindly() -> None:
    """Kong is the edge: trusting every address would let clients forge their IP."""
    trusted = settings().get("trusted_ips", "")
    assert "0.0.0.0/0" not in trusted
    assert "::/0" not in trusted


def test_proxy_listener_is_the_published_port() -> None:
    """Compose publishes the container port Kong's proxy listens on, and only plain HTTP."""
    host, port, flags = only_listener("proxy_listen")
    assert (host, port) == ("0.0.0.0", 8000)
    assert "ssl" not in flags
    for name in ("kong", "kong-2"):
        published = support.services(support.example_env())[name]["ports"]
        assert any(spec.endswith(f":{port}") for spec in published), name


def test_admin_listener_defaults_to_loopback() -> None:
    """Kong's own default: any node started from this file keeps its Admin API to itself.

    Only the compose service that sets KONG_ADMIN_LISTEN (checked in test_admin_isolation.py)
    listens anywhere else.
    """
    host, port, flags = only_listener("admin_listen")
    assert (host, port) == ("127.0.0.1", 8001)
    assert "ssl" not in flags


def test_kong_environment_names_kong_keys() -> None:
    """KONG_<KEY> (and the entrypoint's KONG_<KEY>_FILE) in compose name keys Kong reads."""
    for name, service in support.services(support.example_env()).items():
        if not str(service.get("image", "")).startswith("kong:"):
            continue
        for variable in service.get("environment", {}):
            key = variable.removeprefix("KONG_").removesuffix("_FILE").lower()
            assert key_problem(key) is None, f"{name}: {variable}: {key_problem(key)}"


def test_cache_warmup_covers_the_proxy_path_of_known_consumers() -> None:
    """Consumers and their key-auth credentials are cached at start, under their DAO names."""
    entities = [entity.strip() for entity in settings()["db_cache_warmup_entities"].split(",")]
    assert set(entities) >= WARMUP_NEEDED
    assert not set(entities) & WARMUP_IGNORED
    assert all(" " not in entity for entity in settings()["db_cache_warmup_entities"].split(","))


def test_proxy_cache_has_a_dictionary_of_its_own() -> None:
    """Cached responses cannot evict (or flush) the warmed consumers in kong_db_cache."""
    name, size = settings()["nginx_http_lua_shared_dict"].split()
    assert name == PROXY_CACHE_DICTIONARY
    assert not name.startswith("kong_")         # Kong's own dictionaries use that prefix
    assert "prometheus_metrics" not in name     # Kong would then not inject its own
    assert re.fullmatch(r"\d+[km]", size)
    assert settings()["mem_cache_size"] == "128m"


def test_dns_failures_are_forgotten_within_seconds() -> None:
    """A stopped container's name error is cached 1 s, not Kong's default 30 s."""
    conf = settings()
    assert int(conf["dns_not_found_ttl"]) <= 2
    assert int(conf["dns_error_ttl"]) <= 2
    assert int(conf["dns_valid_ttl"]) <= 10
    assert conf.get("new_dns_client", "off") == "off"    # the dns_* keys configure this client


def test_status_listener_is_what_the_healthcheck_polls() -> None:
    """The healthcheck connects to the Status API's address and port."""
    host, port, flags = only_listener("status_listen")
    assert host in {"127.0.0.1", "0.0.0.0"}
    assert "ssl" not in flags
    script = " ".join(support.services({})["kong"]["healthcheck"]["test"])
    assert f"/dev/tcp/127.0.0.1/{port}" in script


def test_kong_manager_is_off() -> None:
    """No unused GUI listener on every interface of the container."""
    assert parse_listeners(settings()["admin_gui_listen"]) == []


def test_file_has_comments_explaining_host_use() -> None:
    """The same file serves `kong start -c kong.conf` on a host; it says what to change."""
    text = KONG_CONF.read_text("utf-8")
    for override in ("KONG_PG_HOST", "KONG_PG_PASSWORD", "KONG_PROXY_ACCESS_LOG"):
        assert override in text, override


def test_key_lists_are_project_data() -> None:
    """The tests read their own copy, never ../shared (the project must stand alone)."""
    for name in ("kong_conf_keys.txt", "kong_defaults_keys.txt"):
        assert (support.DATA / name).is_file()
    assert support.DATA.resolve().is_relative_to(Path(support.REPO).resolve())
