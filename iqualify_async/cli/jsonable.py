"""Turn what a generated method returns (attrs models, tuples, datetimes) into plain JSON data."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

import attrs

from .._converter import wire_name
from .._multistatus import ErrorDetail
from .._types import Unset


def jsonable(value: Any) -> Any:
    """Plain JSON data for ``value``; a response model gives back the payload it came from."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items() if not isinstance(v, Unset)}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, ErrorDetail):  # an item's error as the API named it, not its raw body
        return {"name": value.name, "details": jsonable(value.details)}
    if attrs.has(type(value)):
        fields = attrs.fields(type(value))
        if any(f.name == "raw" for f in fields) and value.raw is not None:
            return value.raw
        return {
            wire_name(f): jsonable(getattr(value, f.name))
            for f in fields
            if f.name != "raw" and not isinstance(getattr(value, f.name), Unset)
        }
    return value
