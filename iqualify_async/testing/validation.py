"""Request-body and parameter checks answering with the API's ``SchemaValidationError`` wording.

Schemas are plain dicts in a small JSON-Schema subset: ``type`` (object, array, string,
boolean, number, integer), ``properties`` (closed: see :func:`closed`; an optional field may
be null where :func:`nullable` says so), ``required``, ``additionalProperties``, ``items``,
``minLength``, ``format`` (email, date-time), ``enum`` and ``pattern``.
"""

from __future__ import annotations

import re
from datetime import UTC
from typing import Any

from .._converter import RFC3339, parse_datetime
from .._validation import _nullable as client_sends_null
from .errors import schema_error

Schema = dict[str, Any]

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "boolean": (bool,),
    "number": (int, float),
    "integer": (int,),
}


def is_email(value: str) -> bool:
    return EMAIL_RE.match(value) is not None


def is_datetime(value: str) -> bool:
    """An RFC 3339 date-time (the client's rule: leap seconds in, ``+0100`` out) whose UTC
    instant falls in the years 1000 to 9999, the ones the fake (and the API) can give back."""
    if RFC3339.fullmatch(value) is None:
        return False
    try:
        utc = parse_datetime(value).astimezone(UTC)
    except (ValueError, OverflowError):
        return False
    return 1000 <= utc.year <= 9999


def check_email_param(name: str, value: str) -> None:
    if not is_email(value):
        raise schema_error(f'{name} {value} should match format "email".')


def validate(value: Any, schema: Schema, where: str = "body") -> None:
    """Raise ``SchemaValidationError`` (400) naming the first problem in ``value``."""
    expected = schema.get("type")
    if expected is not None:
        ok = isinstance(value, _TYPES[expected])
        if expected in ("number", "integer", "string", "object", "array") and isinstance(
            value, bool
        ):
            ok = False
        if not ok:
            raise schema_error(f"[{where}] {_short(value)} should be {expected}")
    if "enum" in schema and value not in schema["enum"]:
        allowed = ", ".join(map(str, schema["enum"]))
        raise schema_error(
            f"[{where}] {_short(value)} should be equal to one of the allowed values {allowed}"
        )
    if isinstance(value, str):
        _validate_string(value, schema, where)
    elif isinstance(value, dict):
        _validate_object(value, schema, where)
    elif isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            validate(item, schema["items"], f"{where}[{i}]")


def _validate_string(value: str, schema: Schema, where: str) -> None:
    min_length = schema.get("minLength")
    if min_length is not None and len(value) < min_length:
        raise schema_error(f"[{where}] {value} should NOT be shorter than {min_length} characters")
    fmt = schema.get("format")
    if fmt == "email" and not is_email(value):
        raise schema_error(f'{where} {value} should match format "email".')
    if fmt == "date-time" and not is_datetime(value):
        raise schema_error(f'{where} {value} should match format "date-time"')
    pattern = schema.get("pattern")
    if pattern is not None and re.search(pattern, value) is None:
        raise schema_error(f'{where} {value} should match pattern "{pattern}"')


def _validate_object(value: dict[str, Any], schema: Schema, where: str) -> None:
    properties: dict[str, Schema] = schema.get("properties", {})
    for name in schema.get("required", ()):
        if name not in value:
            raise schema_error(f"should have required property '{name}'")
    if closed(schema):
        for name in value:
            if name not in properties:
                raise schema_error(f"should NOT have additional properties ('{name}')")
    required = schema.get("required", ())
    for name, sub in properties.items():
        if name in value:
            if value[name] is None and name not in required and nullable(sub):
                continue  # null clears the field
            validate(value[name], sub, name if where == "body" else f"{where}.{name}")


def nullable(schema: Schema) -> bool:
    """Whether an optional field with this schema may be null (asking to clear it): the
    client's own rule, so the fake takes exactly the nulls the client sends."""
    return client_sends_null(schema)


def closed(schema: Schema) -> bool:
    """Whether an object schema refuses keys it does not name.

    Like the client (which checks such objects key by key), an object listing ``properties``
    is closed unless it says ``additionalProperties: true``; one without (a map) is open.
    """
    extra = schema.get("additionalProperties")
    if extra is None:
        return bool(schema.get("properties"))
    return extra is False


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


# ---- schemas shared by handlers -------------------------------------------------------------
STR: Schema = {"type": "string"}
STR1: Schema = {"type": "string", "minLength": 1}
BOOL: Schema = {"type": "boolean"}
NUM: Schema = {"type": "number"}
DATETIME: Schema = {"type": "string", "format": "date-time"}
TAGS: Schema = {"type": "array", "items": STR}
EMAIL: Schema = {"type": "string", "format": "email", "minLength": 1}
USER_METADATA: Schema = {
    "type": "object",
    "additionalProperties": False,
    "properties": {"tags": TAGS},
}
PROFILE_REQUEST: Schema = {"type": "object", "properties": {"displayName": STR}}
BADGE_EXPIRY: Schema = {
    "type": "object",
    "properties": {
        "expirationDate": DATETIME,
        "expires": BOOL,
        "expiryType": {"type": "string", "enum": ["date", "timeframe"]},
        "timeframeAmount": NUM,
        "timeframeUnit": {"type": "string", "enum": ["days", "months", "years"]},
    },
}
BADGE: Schema = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "badgeExpiry": BADGE_EXPIRY,
        "description": STR,
        "requiresApproval": BOOL,
        "title": STR,
    },
}
OFFERING_METADATA: Schema = {
    "type": "object",
    "additionalProperties": False,
    "properties": {"category": STR, "level": STR, "tags": TAGS, "topic": STR},
}
USER: Schema = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "email": EMAIL,
        "firstName": STR1,
        "lastName": STR1,
        "metadata": USER_METADATA,
        "personId": STR1,
        "profile": PROFILE_REQUEST,
        "sendInvite": BOOL,
    },
}
OFFERING_USER: Schema = {
    "type": "object",
    "additionalProperties": False,
    "required": ["email"],
    "properties": {
        "email": EMAIL,
        "firstName": STR1,
        "lastName": STR1,
        "isFacilitator": BOOL,
        "isMarker": BOOL,
        "isReadonly": BOOL,
        "metadata": USER_METADATA,
        "personId": STR1,
        "profile": PROFILE_REQUEST,
        "sendInvite": BOOL,
        "sendNotificationEmail": BOOL,
    },
}
