"""Stable item keys: what a journal and a ledger use to recognise an item across runs."""

from __future__ import annotations

import dataclasses
import datetime
import enum
import hashlib
import json
import uuid
from collections.abc import Mapping
from typing import Any

import attrs

__all__ = ["default_key", "to_jsonable"]


def to_jsonable(value: Any) -> Any:
    """``value`` as plain JSON data: attrs/dataclass instances become dicts, dates ISO strings."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, enum.Enum):
        return to_jsonable(value.value)
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if attrs.has(type(value)):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in attrs.fields(type(value))}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple | set | frozenset):
        items = [to_jsonable(v) for v in value]
        return sorted(items, key=repr) if isinstance(value, set | frozenset) else items
    if isinstance(value, datetime.date | datetime.time | uuid.UUID):
        return value.isoformat() if not isinstance(value, uuid.UUID) else str(value)
    raise TypeError(f"cannot represent {type(value).__name__} as JSON")


def default_key(item: Any) -> str:
    """A stable key for ``item``.

    Strings and numbers are their own key (``"ada@example.com"``); dicts, lists, attrs and
    dataclass instances get ``"sha256:"`` plus a digest of their canonical JSON, equal across runs
    for equal content. Other objects raise :class:`TypeError`: pass ``key=`` to the job instead.
    """
    if isinstance(item, str):
        return item
    if isinstance(item, bool | int | float | uuid.UUID):
        return str(item)
    try:
        canonical = json.dumps(to_jsonable(item), sort_keys=True, separators=(",", ":"))
    except TypeError:
        raise TypeError(
            f"no stable key for a {type(item).__name__} item; pass key= (e.g. key=lambda p: p.email)"
        ) from None
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()[:32]
