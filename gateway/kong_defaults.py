"""Kong 3.9.3's defaults for the fields provisioning manages but may leave undeclared.

PUT replaces a whole entity, so Kong resets undeclared fields to these values; comparing against
them lets `plan` notice hand-made changes (drift) in fields the declared gateway does not mention.
Source: the recorded corpus (kong-observed), kong-3.9.md §4.5, §5-8, §10, and Kong 3.9.3's
plugin schemas (kong/tools/redis/schema.lua, kong/plugins/pre-function/_schema.lua).
"""

from __future__ import annotations

from typing import Any

Json = Any

SERVICE = {"retries": 5, "protocol": "http", "port": 80, "path": None, "connect_timeout": 60000,
           "write_timeout": 60000, "read_timeout": 60000, "enabled": True,
           "tls_verify": None, "tls_verify_depth": None, "client_certificate": None,
           "ca_certificates": None}
ROUTE = {"protocols": ["http", "https"], "methods": None, "hosts": None, "headers": None,
         "snis": None, "sources": None, "destinations": None,
         "https_redirect_status_code": 426, "regex_priority": 0, "strip_path": True,
         "path_handling": "v0", "preserve_host": False, "request_buffering": True,
         "response_buffering": True}
CONSUMER = {"custom_id": None}
PLUGIN = {"enabled": True, "protocols": ["grpc", "grpcs", "http", "https"]}
UPSTREAM = {"algorithm": "round-robin", "hash_on": "none", "hash_fallback": "none",
            "slots": 10000, "host_header": None, "use_srv_name": False}
TARGET = {"weight": 100}
PLUGIN_CONFIGS: dict[str, dict[str, Json]] = {
    "key-auth": {"key_names": ["apikey"], "hide_credentials": False, "anonymous": None,
                 "key_in_header": True, "key_in_query": True, "key_in_body": False,
                 "run_on_preflight": True, "realm": None},
    "rate-limiting": {"second": None, "minute": None, "hour": None, "day": None, "month": None,
                      "year": None, "limit_by": "consumer", "policy": "local",
                      "fault_tolerant": True, "hide_client_headers": False, "error_code": 429,
                      "error_message": "API rate limit exceeded", "header_name": None,
                      "path": None, "sync_rate": -1,
                      "redis": {"host": None, "port": 6379, "timeout": 2000, "username": None,
                                "password": None, "database": 0, "ssl": False,
                                "ssl_verify": False, "server_name": None}},
    "proxy-cache": {"response_code": [200, 301, 404], "request_method": ["GET", "HEAD"],
                    "content_type": ["text/plain", "application/json"], "cache_ttl": 300,
                    "cache_control": False, "ignore_uri_case": False, "storage_ttl": None,
                    "vary_query_params": None, "vary_headers": None},
    "request-termination": {"status_code": 503, "message": None, "content_type": None,
                            "body": None, "echo": False, "trigger": None},
    "request-size-limiting": {"allowed_payload_size": 128, "size_unit": "megabytes",
                              "require_content_length": False},
    "post-function": {phase: [] for phase in ("certificate", "rewrite", "access",
                                              "header_filter", "body_filter", "log")},
    "prometheus": {"per_consumer": False, "status_code_metrics": False, "ai_metrics": False,
                   "latency_metrics": False, "bandwidth_metrics": False,
                   "upstream_health_metrics": False},
}
ENTITY_DEFAULTS = {"services": SERVICE, "routes": ROUTE, "consumers": CONSUMER,
                   "plugins": PLUGIN, "upstreams": UPSTREAM, "targets": TARGET}
