"""Argument checks the generated endpoint methods run before sending anything.

Each function takes the value and the Python parameter name, raises :class:`ParameterError`
naming that parameter when the value is not acceptable, and returns the value as it goes on
the wire.

``None`` is refused, since neither API description allows null for any parameter, with one
exception: passing ``None`` on purpose to an optional body field sends JSON null (the only
way to ask the API to clear a field). The generated methods allow that (``nullable=True``)
only where null could be meant: plain text, numbers, booleans, dates, lists and mappings. They
refuse it for email addresses, enum members and pattern- or length-checked strings, where
null is never a valid value, for required arguments, and for path and query parameters.

A whole array request body must hold at least one item: every such operation adds or
removes the listed items, so an empty list can only be a mistake upstream.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any, Final, TypeVar

from ._converter import RFC3339, converter, format_datetime, parse_datetime
from .errors import ParameterError

T = TypeVar("T")

_EMAIL: Final = re.compile(
    r"[^@\s\x00-\x1f\x7f-\x9f]+@[^@\s\x00-\x1f\x7f-\x9f]+\.[^@\s\x00-\x1f\x7f-\x9f]+"
)


def _kind(value: object) -> str:
    return "None" if value is None else type(value).__name__


def _not_none(value: object, name: str) -> None:
    if value is None:
        raise ParameterError(name, "must not be None (the API accepts no null here)")


def given(value: T, name: str) -> T:
    """A value of any shape, except ``None``."""
    _not_none(value, name)
    return value


def _str(value: object, name: str) -> str:
    _not_none(value, name)
    if not isinstance(value, str):
        raise ParameterError(name, f"must be a string, got {_kind(value)}")
    return value


def _check_text(
    text: str, name: str, email: bool, pattern: re.Pattern[str] | None, min_length: int | None
) -> str:
    if email and not _EMAIL.fullmatch(text):
        raise ParameterError(name, f"must be an email address, got {text!r}")
    if min_length is not None and len(text) < min_length:
        raise ParameterError(name, f"must be at least {min_length} characters long, got {text!r}")
    if pattern is not None and not pattern.search(text):
        raise ParameterError(name, f"must match {pattern.pattern}, got {text!r}")
    return text


def segment(
    value: object,
    name: str,
    *,
    email: bool = False,
    pattern: re.Pattern[str] | None = None,
    min_length: int | None = None,
) -> str:
    """A path parameter: a non-empty string."""
    text = _str(value, name)
    if not text:
        raise ParameterError(name, "must not be empty")
    return _check_text(text, name, email, pattern, min_length)


def string(
    value: object,
    name: str,
    *,
    email: bool = False,
    pattern: re.Pattern[str] | None = None,
    min_length: int | None = None,
    nullable: bool = False,
) -> str | None:
    """A string query parameter or body field."""
    if value is None and nullable:
        return None
    return _check_text(_str(value, name), name, email, pattern, min_length)


def choice(value: object, name: str, choices: tuple[str, ...], *, nullable: bool = False) -> Any:
    """One of ``choices`` (a LAP enum such as ``str(builder/manager)``)."""
    if value is None and nullable:
        return None
    _not_none(value, name)
    if not isinstance(value, str) or value not in choices:
        raise ParameterError(name, f"must be one of {', '.join(choices)}; got {value!r}")
    return value


def flag(value: object, name: str) -> str:
    """A ``str(true/false)`` parameter: a bool or the strings "true"/"false"."""
    if value is True or value == "true":
        return "true"
    if value is False or value == "false":
        return "false"
    raise ParameterError(name, f"must be True, False, 'true' or 'false'; got {value!r}")


def boolean(value: object, name: str, *, nullable: bool = False) -> bool | None:
    if value is None and nullable:
        return None
    _not_none(value, name)
    if not isinstance(value, bool):
        raise ParameterError(name, f"must be a bool, got {_kind(value)}")
    return value


def integer(value: object, name: str, *, nullable: bool = False) -> int | None:
    if value is None and nullable:
        return None
    _not_none(value, name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ParameterError(name, f"must be an int, got {_kind(value)}")
    return value


def number(value: object, name: str, *, nullable: bool = False) -> float | int | None:
    if value is None and nullable:
        return None
    _not_none(value, name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ParameterError(name, f"must be a number, got {_kind(value)}")
    return value


def count(value: object, name: str) -> str:
    """A non-negative count sent as a string (``$top``): an int or a string of digits."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return str(value)
    if isinstance(value, str) and value.isdigit() and value.isascii():
        return value
    raise ParameterError(name, f"must be a non-negative int or a string of digits; got {value!r}")


_DATE_TIME_HINT: Final = (
    "pass an aware datetime (e.g. datetime(2024, 1, 2, tzinfo=UTC)) or an RFC 3339 string "
    "with a time and an offset (e.g. '2024-01-02T09:00:00Z' or '2024-01-02T09:00:00+13:00')"
)


def date_time(value: object, name: str, *, nullable: bool = False) -> str | None:
    """A ``str(date-time)``: an aware ``datetime`` or an RFC 3339 string with an offset, sent
    in one form, UTC with a ``Z`` (``2024-01-02T03:04:05Z``).

    Naive datetimes, dates and strings without a time or an offset are refused: the instant
    they mean depends on a time zone the API would have to guess.
    """
    if value is None and nullable:
        return None
    _not_none(value, name)
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ParameterError(name, f"is a naive datetime ({value!r}); {_DATE_TIME_HINT}")
    elif isinstance(value, date):
        raise ParameterError(name, f"is a date without a time ({value!r}); {_DATE_TIME_HINT}")
    elif isinstance(value, str):
        if not RFC3339.fullmatch(value):
            raise ParameterError(
                name, f"is not an RFC 3339 date-time: {value!r}; {_DATE_TIME_HINT}"
            )
        try:
            value = parse_datetime(value)
        except ValueError as exc:
            raise ParameterError(name, f"is not a valid date-time: {value!r} ({exc})") from None
    if isinstance(value, datetime):
        try:
            utc = value.astimezone(UTC)
        except OverflowError:
            utc = datetime.min.replace(tzinfo=UTC)
        if utc.year < 1000:
            raise ParameterError(name, f"must be in the years 1000 to 9999 (UTC), got {value!r}")
        return format_datetime(utc)
    raise ParameterError(
        name, f"must be a datetime or a string, got {_kind(value)}; {_DATE_TIME_HINT}"
    )


def string_list(
    value: object, name: str, *, nullable: bool = False, non_empty: bool = False
) -> list[str] | None:
    """A ``[str]``: a list or tuple of strings (a bare string is refused).

    ``non_empty``: the list is a whole request body and must hold at least one string.
    """
    if value is None and nullable:
        return None
    _not_none(value, name)
    if isinstance(value, str | bytes) or not isinstance(value, Sequence):
        raise ParameterError(name, f"must be a list of strings, got {_kind(value)}")
    if non_empty and not value:
        raise ParameterError(name, "must not be empty: give at least one item")
    for i, item in enumerate(value):
        if not isinstance(item, str):
            raise ParameterError(f"{name}[{i}]", f"must be a string, got {_kind(item)}")
    return list(value)


def _nullable(schema: Mapping[str, Any]) -> bool:
    """Whether JSON null may be sent for an optional field with this schema (to clear it)."""
    return not (
        schema.get("enum")
        or schema.get("minLength")
        or (schema.get("pattern") and schema.get("format") != "date-time")
        or schema.get("format") == "email"
    )


def check(value: object, name: str, schema: Mapping[str, Any], *, nullable: bool = False) -> Any:
    """``value`` checked against a JSON schema (the subset the API description uses)."""
    kind = schema.get("type")
    if value is None and nullable and _nullable(schema):
        return None
    _not_none(value, name)
    if kind == "string":
        if schema.get("format") == "date-time":
            return date_time(value, name)
        if schema.get("enum"):
            return choice(value, name, tuple(schema["enum"]))
        pattern = schema.get("pattern")
        return _check_text(
            _str(value, name),
            name,
            schema.get("format") == "email",
            re.compile(pattern) if pattern else None,
            schema.get("minLength"),
        )
    if kind == "boolean":
        return boolean(value, name)
    if kind == "integer":
        return integer(value, name)
    if kind == "number":
        return number(value, name)
    if kind == "array":
        if isinstance(value, str | bytes | Mapping) or not isinstance(value, Sequence):
            raise ParameterError(name, f"must be a list, got {_kind(value)}")
        items = schema.get("items", {})
        return [check(item, f"{name}[{i}]", items) for i, item in enumerate(value)]
    if kind == "object":
        return mapping(value, name, schema.get("properties"))
    return value


def _snake(wire: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", wire).lower()


def mapping(
    value: object,
    name: str,
    fields: Mapping[str, Any] | None,
    *,
    nullable: bool = False,
    required: tuple[str, ...] = (),
) -> dict[str, Any] | None:
    """A JSON object. With ``fields`` (wire name -> JSON schema), keys may be given as the
    API's camelCase or as snake_case; each value is checked, and an unknown key is refused
    (naming the closest known one). Without ``fields`` any JSON object passes.
    """
    if value is None and nullable:
        return None
    _not_none(value, name)
    if getattr(type(value), "__iq_input__", False):  # an input class: its fields, by wire name
        value = converter.unstructure(value)
    if not isinstance(value, Mapping):
        raise ParameterError(name, f"must be a mapping, got {_kind(value)}")
    if fields is None:
        for key in value:
            if not isinstance(key, str):
                raise ParameterError(name, f"keys must be strings, got {key!r}")
        return dict(value)
    names = {**{_snake(k): k for k in fields}, **{k: k for k in fields}}
    out: dict[str, Any] = {}
    for key, item in value.items():
        wire = names.get(key) if isinstance(key, str) else None
        if wire is None:
            close = difflib.get_close_matches(str(key), list(names), n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            known = ", ".join(fields)
            raise ParameterError(f"{name}.{key}", f"is not a known key (known: {known}){hint}")
        if wire in out:
            raise ParameterError(f"{name}.{key}", f"is given twice (as {wire!r} too)")
        out[wire] = check(item, f"{name}.{key}", fields[wire], nullable=True)
    for key in required:
        if key not in out:
            raise ParameterError(f"{name}.{key}", "is required")
    return out


def sequence(value: object, name: str) -> Sequence[object]:
    """A whole array request body: a non-empty list or tuple (a string or mapping is refused)."""
    _not_none(value, name)
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Sequence):
        raise ParameterError(name, f"must be a list, got {_kind(value)}")
    if not value:
        raise ParameterError(name, "must not be empty: give at least one item")
    return value
