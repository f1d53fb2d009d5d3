"""key-auth on the proxy (PRIORITY 1250): find the key, identify the consumer, set headers.

Follows kong/plugins/key-auth/handler.lua 3.9.3 as recorded: header beats query, header names are
case-insensitive, a repeated query key is `Duplicate API key found`, every 401 carries
`WWW-Authenticate`, forged consumer headers are overwritten or removed.
"""

from __future__ import annotations

from .context import Context
from .responses import ProxyResponse, error, negotiate
from .store import Store

CONSUMER_HEADERS = ("X-Consumer-ID", "X-Consumer-Custom-ID", "X-Consumer-Username",
                    "X-Credential-Identifier", "X-Anonymous-Consumer")
NO_KEY, BAD_KEY, DUPLICATE = ("No API key found in request", "Unauthorized",
                              "Duplicate API key found")


def key_auth(store: Store, ctx: Context, conf: dict) -> ProxyResponse | None:
    """Access phase: None lets the request through (consumer set), else the 401/500."""
    request = ctx.request
    if request.method == "OPTIONS" and not conf.get("run_on_preflight", True):
        return None
    key, problem = _find_key(ctx, conf)
    credential = _credential(store, key) if key else None
    if credential is None:
        return _fail(store, ctx, conf, problem or (BAD_KEY if key else NO_KEY))
    consumer = store.find("consumers", credential["consumer"]["id"])
    if consumer is None:
        return ctx.reply(error(500, "An unexpected error occurred", ctx.rid,
                               negotiate(request.header("accept"))))
    set_consumer(ctx, consumer, credential)
    return None


def _find_key(ctx: Context, conf: dict) -> tuple[str | None, str | None]:
    """(key, problem): the first key found, or the reason there is none usable."""
    request = ctx.request
    for name in conf.get("key_names") or ["apikey"]:
        if conf.get("key_in_header", True):
            value = request.header(name)
            if value:
                if conf.get("hide_credentials"):
                    ctx.set_upstream(name, None)
                return value, None
        if conf.get("key_in_query", True):
            values = [v for k, v in request.query_args() if k == name]
            if len(values) > 1:
                return None, DUPLICATE
            if values and values[0]:
                if conf.get("hide_credentials"):
                    ctx.upstream_query = _drop_arg(ctx.upstream_query, name)
                return values[0], None
    return None, None


def _drop_arg(query: str, name: str) -> str:
    return "&".join(p for p in query.split("&") if p and p.split("=", 1)[0] != name)


def _credential(store: Store, key: str) -> dict | None:
    return next((c for c in store.rows("keyauth_credentials") if c.get("key") == key), None)


def _fail(store: Store, ctx: Context, conf: dict, message: str) -> ProxyResponse | None:
    anonymous = conf.get("anonymous")
    media = negotiate(ctx.request.header("accept"))
    if anonymous:
        consumer = store.find("consumers", anonymous)      # by id or username
        if consumer is None:
            return ctx.reply(error(500, "An unexpected error occurred", ctx.rid, media))
        set_consumer(ctx, consumer, None)
        return None
    realm = conf.get("realm")
    challenge = f'Key realm="{realm}"' if realm else "Key"
    return ctx.reply(error(401, message, ctx.rid, media, [("WWW-Authenticate", challenge)]))


def set_consumer(ctx: Context, consumer: dict, credential: dict | None) -> None:
    """Kong's set_consumer(): overwrite or clear every X-Consumer-* header a client sent."""
    ctx.consumer, ctx.credential = consumer, credential
    values = {"X-Consumer-ID": consumer["id"],
              "X-Consumer-Custom-ID": consumer.get("custom_id"),
              "X-Consumer-Username": consumer.get("username"),
              "X-Credential-Identifier": credential["id"] if credential else None,
              "X-Anonymous-Consumer": None if credential else "true"}
    for name in CONSUMER_HEADERS:
        ctx.set_upstream(name, values[name])
