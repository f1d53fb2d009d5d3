"""Admin API request bodies: JSON, form-urlencoded and multipart, parsed the way Kong does."""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qsl

from . import errors
from .plugins import config_fields
from .schema import Field, Json

HTML_415 = ("<html>\r\n<head><title>415 Unsupported Media Type</title></head>\r\n<body>\r\n"
            "<center><h1>415 Unsupported Media Type</h1></center>\r\n</body>\r\n</html>\r\n")
INDEXED = re.compile(r"^(.*)\[(\d*)\]$")


def parse_body(content_type: str | None, body: bytes) -> dict:
    """The request's arguments; raises KongError for 415/400/500 exactly as Kong answers."""
    media = (content_type or "").split(";")[0].strip().lower()
    if not content_type:
        if body:
            raise errors.KongError(415, HTML_415, html=True)
        return {}
    if media == "application/json":
        return _parse_json(body)
    if media == "application/x-www-form-urlencoded":
        return _nest(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    if media == "multipart/form-data":
        return _nest(_multipart_pairs(content_type, body))
    raise errors.KongError(415, HTML_415, html=True)


def _parse_json(body: bytes) -> dict:
    try:
        data = json.loads(body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise errors.bad_request("Cannot parse JSON body") from None
    if not isinstance(data, dict):
        raise errors.KongError(500, {"message": "An unexpected error occurred"})
    return data


def _multipart_pairs(content_type: str, body: bytes) -> list[tuple[str, str]]:
    boundary = re.search(r'boundary="?([^";]+)"?', content_type)
    if not boundary:
        return []
    pairs = []
    for part in body.split(b"--" + boundary.group(1).encode())[1:]:
        head, _, value = part.partition(b"\r\n\r\n")
        name = re.search(rb'name="([^"]*)"', head)
        if name:
            pairs.append((name.group(1).decode(), value.rstrip(b"\r\n").decode()))
    return pairs


def _nest(pairs: list[tuple[str, str]]) -> dict:
    """`a.b=1`, `a[]=x`, `a[1]=x` and repeated keys become nested dicts and lists."""
    out: dict = {}
    for key, value in pairs:
        match = INDEXED.match(key)
        path = (match.group(1) if match else key).split(".")
        node = out
        for part in path[:-1]:
            node = node.setdefault(part, {})
        last = path[-1]
        if match or last in node:
            existing = node.get(last)
            node[last] = ([*existing] if isinstance(existing, list)
                          else [] if existing is None else [existing]) + [value]
        else:
            node[last] = value
    return out


def coerce(fields: dict[str, Field], data: dict) -> dict:
    """Form values are strings: convert them to the schema's types, as Kong does."""
    out = dict(data)
    for name, value in data.items():
        spec = fields.get(name)
        if spec is not None:
            out[name] = _coerce_value(spec, value)
    if isinstance(out.get("config"), dict):
        config = config_fields(str(out.get("name")))
        if config:
            out["config"] = coerce(config, out["config"])
    return out


def _coerce_value(spec: Field, value: Json) -> Json:
    if spec.type in ("array", "set"):
        items = value if isinstance(value, list) else [value]
        return [_coerce_value(spec.elements, v) if spec.elements else v for v in items]
    if spec.type == "record" and isinstance(value, dict):
        return coerce(spec.fields, value)
    if not isinstance(value, str):
        return value
    return _coerce_scalar(spec.type, value)


def _coerce_scalar(kind: str, value: str) -> Json:
    try:
        if kind == "integer":
            return int(value)
        if kind == "number":
            number = float(value)
            return int(number) if number.is_integer() else number
    except ValueError:
        return value
    if kind == "boolean" and value in ("true", "false"):
        return value == "true"
    return value
