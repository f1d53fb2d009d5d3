"""A small schema language mirroring Kong's, so the double validates and fills defaults like 3.9.3.

Messages are Kong's own wording, as recorded in tests/data/kong-observed/. Only the fields and
checks the corpus exercises (or provisioning touches) are modelled; the rest is accepted as given.
"""

from __future__ import annotations

import copy
import ipaddress
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Json = Any
Check = Callable[[Json], "str | None"]

NAME_CHARS = re.compile(r"^[A-Za-z0-9.\-_~\u0080-\U0010ffff]+$")
UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")


@dataclass
class Field:
    """One field of an entity or record: its type, default and constraints."""

    type: str
    default: Json = None
    required: bool = False
    one_of: tuple | None = None
    between: tuple[int, int] | None = None
    gt: float | None = None
    len_min: int | None = None
    elements: Field | None = None
    fields: dict[str, Field] = field(default_factory=dict)
    checks: tuple[Check, ...] = ()
    auto: bool = False


def utf8_name(value: str) -> str | None:
    """Kong's `utf8_name` typedef check (names, usernames, instance names)."""
    if NAME_CHARS.match(value):
        return None
    return (f"invalid value '{value}': the only accepted ascii characters are alphanumerics "
            "or ., -, _, and ~")


def starts_with_slash(value: str) -> str | None:
    """Kong's `path` typedef (service path)."""
    return None if value.startswith("/") else "should start with: /"


TYPE_ERRORS = {"string": "expected a string", "integer": "expected an integer",
               "number": "expected a number", "boolean": "expected a boolean",
               "array": "expected an array", "set": "expected a set", "map": "expected a map",
               "record": "expected a record"}


def _type_ok(kind: str, value: Json) -> bool:
    if kind == "string":
        return isinstance(value, str)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind in ("array", "set"):
        return isinstance(value, list)
    return isinstance(value, dict)


def _fmt_num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def check_value(spec: Field, value: Json) -> Json:
    """Validate one present, non-null value; return Kong's error (str, list or dict) or None."""
    if not _type_ok(spec.type, value):
        return TYPE_ERRORS[spec.type]
    if spec.type in ("array", "set"):
        return _check_elements(spec, value)
    if spec.type == "record":
        errors = check_record(spec.fields, value)
        return errors or None
    return _check_scalar(spec, value)


def _check_elements(spec: Field, value: list) -> Json:
    if spec.elements is None:
        return None
    errors = [check_value(spec.elements, v) if v is not None else None for v in value]
    return errors if any(errors) else None


def _check_scalar(spec: Field, value: Json) -> str | None:
    if spec.one_of is not None and value not in spec.one_of:
        return "expected one of: " + ", ".join(str(x) for x in spec.one_of)
    if spec.between is not None and not spec.between[0] <= value <= spec.between[1]:
        return f"value should be between {spec.between[0]} and {spec.between[1]}"
    if spec.gt is not None and not value > spec.gt:
        return f"value must be greater than {_fmt_num(spec.gt)}"
    if spec.len_min is not None and len(value) < spec.len_min:
        return f"length must be at least {spec.len_min}"
    for check in spec.checks:
        error = check(value)
        if error:
            return error
    return None


def check_record(fields: dict[str, Field], data: dict) -> dict:
    """Validate a record's fields (unknown, missing-required and per-field errors)."""
    errors: dict[str, Json] = {}
    for name in data:
        if name not in fields:
            errors[name] = "unknown field"
    for name, spec in fields.items():
        value = data.get(name)
        if value is None:
            if spec.required and not spec.auto:
                errors[name] = "required field missing"
            continue
        error = check_value(spec, value)
        if error:
            errors[name] = error
    return errors


def fill_defaults(fields: dict[str, Field], data: dict) -> dict:
    """Return `data` with every declared field present: given value, else default, else null."""
    out = {}
    for name, spec in fields.items():
        value = data.get(name)
        if (value is None and name not in data) or (value is None and spec.type == "record"):
            value = copy.deepcopy(spec.default)
        if spec.type == "record" and isinstance(value, dict):
            value = fill_defaults(spec.fields, value)
        out[name] = value
    for name, value in data.items():
        out.setdefault(name, value)
    return out


def is_uuid(value: Json) -> bool:
    """True for a canonical UUID string (how Kong tells ids from endpoint keys)."""
    return isinstance(value, str) and bool(UUID_RE.match(value))


def new_id() -> str:
    """A random id, as Kong assigns them."""
    return str(uuid.uuid4())


def is_ip(value: str) -> bool:
    """True if `value` is an IPv4/IPv6 literal."""
    try:
        ipaddress.ip_address(value.strip("[]"))
    except ValueError:
        return False
    return True
