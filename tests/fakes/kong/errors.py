"""Kong's Admin API error bodies (codes, names and message formats of kong/db/errors.lua)."""

from __future__ import annotations

from typing import Any

Json = Any
NOT_FOUND = {"message": "Not found"}


class KongError(Exception):
    """An Admin API error: HTTP status plus Kong's JSON (or nginx HTML) body."""

    def __init__(self, status: int, body: Json, html: bool = False) -> None:
        super().__init__(status)
        self.status, self.body, self.html = status, body, html


def not_found() -> KongError:
    """Kong's terse 404 for GET/DELETE of something missing."""
    return KongError(404, dict(NOT_FOUND))


def _lua_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _lua_table(value: Json) -> str:
    """Kong renders nested errors with Lua's table pretty-printer (inspect)."""
    if isinstance(value, list):
        items = [_lua_string(v) for v in value if v]
    else:
        items = [f"{k} = {_lua_string(v)}" for k, v in sorted(value.items())]
    return "{\n  " + ",\n  ".join(items) + "\n}"


def _flatten(key: str, value: Json, depth: int) -> list[str]:
    if isinstance(value, str):
        return [f"{key}: {value}"]
    if isinstance(value, list) and depth == 0:
        return [f"{key}.{i}: {v}" for i, v in enumerate(value, 1) if v]
    if isinstance(value, dict) and depth == 0:
        return [m for k in sorted(value) for m in _flatten(f"{key}.{k}", value[k], depth + 1)]
    return [f"{key}: {_lua_table(value)}"]


def schema_violation(fields: dict) -> KongError:
    """400 code 2, with Kong's one-line summary of every field error."""
    messages = list(fields.get("@entity", []))
    for key in sorted(k for k in fields if k != "@entity"):
        messages.extend(_flatten(key, fields[key], 0))
    if len(messages) == 1:
        message = f"schema violation ({messages[0]})"
    else:
        message = f"{len(messages)} schema violations ({'; '.join(messages)})"
    return KongError(400, {"code": 2, "name": "schema violation", "message": message,
                           "fields": fields})


def lua_key(values: dict) -> str:
    """Render a unique/primary key the way Kong prints it: {a="x",b=null,c={id="..."}}."""
    def render(v: Json) -> str:
        if v is None:
            return "null"
        if isinstance(v, dict):
            return lua_key(v)
        return f'"{v}"'
    return "{" + ",".join(f"{k}={render(values[k])}" for k in sorted(values)) + "}"


def unique_violation(values: dict) -> KongError:
    """409 code 5."""
    return KongError(409, {"code": 5, "name": "unique constraint violation",
                           "message": f"UNIQUE violation detected on '{lua_key(values)}'",
                           "fields": values})


def primary_key_violation(entity_id: str) -> KongError:
    """400 code 3 (Kong's generic endpoints answer 400, not 409)."""
    return KongError(400, {"code": 3, "name": "primary key violation",
                           "message": f"primary key violation on key '{{id=\"{entity_id}\"}}'",
                           "fields": {"id": entity_id}})


def foreign_key_violation(field: str, kind: str, ref: dict) -> KongError:
    """400 code 4: the referenced parent does not exist."""
    return KongError(400, {"code": 4, "name": "foreign key violation",
                           "message": f"the foreign key '{lua_key(ref)}' does not reference "
                                      f"an existing '{kind}' entity.",
                           "fields": {field: ref}})


def referenced_by(child: str, parent: str) -> KongError:
    """400 code 4: a parent still referenced by children cannot be deleted."""
    return KongError(400, {"code": 4, "name": "foreign key violation",
                           "message": f"an existing '{child}' entity references this "
                                      f"'{parent}' entity",
                           "fields": {"@referenced_by": child}})


def foreign_key_unresolved(field: str, kind: str, ref: dict) -> KongError:
    """400 code 13: a foreign key given by name matches nothing."""
    (key, value), = ref.items()
    text = (f"the foreign key cannot be resolved with '{{{key}=\"{value}\"}}' "
            f"for an existing '{kind}' entity")
    return KongError(400, {"code": 13, "name": "foreign keys unresolved",
                           "message": f"foreign key unresolved ({field}.{key}: {text})",
                           "fields": {field: {key: text}}})


def invalid_unique(field: str, message: str) -> KongError:
    """400 code 10: a lookup key that could never be valid (no `fields`)."""
    return KongError(400, {"code": 10, "name": f"invalid unique {field}", "message": message})


def not_found_patch(key: str, value: str) -> KongError:
    """PATCH of a missing service/route/consumer: 404 with a full error object (code 6)."""
    return KongError(404, {"code": 6, "name": "not found",
                           "message": f"could not find the entity with '{{{key}=\"{value}\"}}'",
                           "fields": {key: value}})


def operation_unsupported(kind: str, verb: str = "create") -> KongError:
    """405 code 12: every write to a DB-less Kong."""
    return KongError(405, {"code": 12, "name": "operation unsupported",
                           "message": f"cannot {verb} '{kind}' entities when not using a database"})


def bad_request(message: str) -> KongError:
    """400 with only a message (bad JSON, bad filters)."""
    return KongError(400, {"message": message})
