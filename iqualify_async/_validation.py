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

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Final, TypeVar

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


def date_time(value: object, name: str, *, nullable: bool = False) -> str | None:
    """A ``str(date-time)``: an aware ``datetime`` (sent as ISO 8601) or an ISO 8601 string."""
    if value is None and nullable:
        return None
    _not_none(value, name)
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ParameterError(name, "must be a timezone-aware datetime")
        text = value.isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text
    if isinstance(value, str):
        try:
            datetime.fromisoformat(value)
        except ValueError:
            raise ParameterError(name, f"must be an ISO 8601 date-time, got {value!r}") from None
        return value
    raise ParameterError(name, f"must be a datetime or an ISO 8601 string, got {_kind(value)}")


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


_KIND_CHECKS: Final[dict[str, Callable[[object, str], object]]] = {
    "str": lambda v, n: string(v, n, nullable=True),
    "email": lambda v, n: string(v, n, email=True),
    "bool": lambda v, n: boolean(v, n, nullable=True),
    "int": lambda v, n: integer(v, n, nullable=True),
    "num": lambda v, n: number(v, n, nullable=True),
    "date-time": lambda v, n: date_time(v, n, nullable=True),
    "[str]": lambda v, n: string_list(v, n, nullable=True),
    "map": lambda v, n: mapping(v, n, None, nullable=True),
    "any": lambda v, n: v,
}


def mapping(
    value: object,
    name: str,
    fields: Mapping[str, str] | None,
    *,
    nullable: bool = False,
    required: tuple[str, ...] = (),
) -> dict[str, Any] | None:
    """A JSON object; keys listed in ``fields`` (wire name -> kind) are type-checked.

    Keys not listed are passed through unchanged, so newer API fields can be sent.
    """
    if value is None and nullable:
        return None
    _not_none(value, name)
    if not isinstance(value, Mapping):
        raise ParameterError(name, f"must be a mapping, got {_kind(value)}")
    out: dict[str, Any] = {}
    for key, item in value.items():
        if not isinstance(key, str):
            raise ParameterError(name, f"keys must be strings, got {key!r}")
        kind = fields.get(key) if fields else None
        out[key] = item if kind is None else _KIND_CHECKS[kind](item, f"{name}.{key}")
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
