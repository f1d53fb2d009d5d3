"""request-size-limiting (PRIORITY 951) on the proxy: kilobytes are 1024 bytes, chunked bodies
count, `Expect: 100-continue` gets 417 (rate limiting lives in ratelimit.py)."""

from __future__ import annotations

from .context import Context
from .responses import ProxyResponse, error, negotiate

UNITS = {"bytes": 1, "kilobytes": 1024, "megabytes": 1024 * 1024}


def size_limit(ctx: Context, conf: dict) -> ProxyResponse | None:
    """413 over the limit (417 with Expect: 100-continue), 411 without a required length."""
    request = ctx.request
    allowed = int(conf.get("allowed_payload_size") or 128) * UNITS[conf.get("size_unit")
                                                                    or "megabytes"]
    length = request.header("content-length")
    media = negotiate(request.header("accept"))
    if conf.get("require_content_length") and length is None and not request.chunked:
        return ctx.reply(error(411, "A valid Content-Length header is required", ctx.rid, media))
    size = int(length) if length and length.isdigit() else len(request.body)
    if size <= allowed:
        return None
    expects = (request.header("expect") or "").lower() == "100-continue" and length is not None
    return ctx.reply(error(417 if expects else 413, "Request size limit exceeded", ctx.rid, media))
