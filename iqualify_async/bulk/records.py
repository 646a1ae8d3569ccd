"""The columns of each analytics kind, derived from its record model.

Every kind is read by one ``iq.offerings.analytics`` method whose answer is a list of one typed
record model (:data:`KIND_RECORDS`; ``pulses`` answers plain strings, one ``value`` column).
The columns of a kind are ``offeringId`` (and ``channelId`` for channel kinds), then every
field of its model in the model's order, named as the API names them (camelCase, the ``wire``
name). Each column has a :class:`ColumnType`, from the field's annotation:

- ``str`` → ``string``, ``int`` → ``int``, ``float`` → ``float``, ``bool`` → ``bool``,
  ``datetime`` → ``timestamp`` (UTC);
- ``tuple[X, ...]`` (or ``list[X]``) → a list of X;
- a nested model → a struct of its own fields, the same way (so its date-times are typed too);
- anything else (free-form JSON) → ``json``: the value as JSON text.

A field without a default (one the API always sends) is ``required``. This module needs no
third-party package: the CSV export takes its header row from it, and
:mod:`~iqualify_async.bulk.parquet` the Arrow schema.
"""

from __future__ import annotations

import enum
import functools
import types
import typing
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal, Union

import attrs

from .._model import Model
from ..types import models

__all__ = [
    "KIND_RECORDS",
    "Column",
    "ColumnType",
    "ListOf",
    "StructOf",
    "column_names",
    "record_columns",
]

KIND_RECORDS: Mapping[str, type[Model] | type[str]] = {
    "pulses": str,
    "pulse-responses": models.PulseResponse,
    "assignment-marks": models.AssignmentMark,
    "quiz-marks": models.QuizMark,
    "learner-progress": models.LearnerCompletion,
    "unit-reactions": models.UnitReactions,
    "assignment-submissions": models.AssignmentMark,
    "social-notes": models.SocialNote,
    "activity-responses": models.ActivityResponse,
    "channel-posts": models.ChannelPost,
    "channel-comments": models.ChannelComment,
    "channel-replies": models.ChannelComment,
}
"""The record each analytics kind is a list of (the answer type of the method reading it)."""

Scalar = Literal["string", "int", "float", "bool", "timestamp", "json"]


@attrs.frozen
class ListOf:
    """A list (the API's array) of one item type."""

    item: ColumnType


@attrs.frozen
class StructOf:
    """A nested model: its fields as named, typed children."""

    fields: tuple[Column, ...]


ColumnType = Scalar | ListOf | StructOf


@attrs.frozen
class Column:
    """One column (or struct field): its API name, type, and whether it is always present."""

    name: str
    type: ColumnType
    required: bool = False


_SCALARS: Mapping[Any, Scalar] = {
    str: "string",
    bool: "bool",
    int: "int",
    float: "float",
    datetime: "timestamp",
}


def _column_type(tp: Any, seen: frozenset[type]) -> ColumnType:
    origin = typing.get_origin(tp)
    if origin in (Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return _column_type(args[0], seen) if len(args) == 1 else "json"
    if tp in _SCALARS:
        return _SCALARS[tp]
    if origin is Literal:
        values = typing.get_args(tp)
        return "string" if all(isinstance(v, str) for v in values) else "json"
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return "string" if issubclass(tp, str) else "json"
    if origin in (tuple, list):
        args = [a for a in typing.get_args(tp) if a is not Ellipsis]
        if len(args) == 1:
            return ListOf(_column_type(args[0], seen))
        return "json"
    if isinstance(tp, type) and attrs.has(tp) and tp not in seen:
        return StructOf(_model_columns(tp, seen | {tp}))
    return "json"


def _model_columns(cls: type, seen: frozenset[type]) -> tuple[Column, ...]:
    hints = typing.get_type_hints(cls)
    columns = []
    for field in attrs.fields(cls):
        if field.name == "raw":
            continue
        columns.append(
            Column(
                str(field.metadata.get("wire", field.name)),
                _column_type(hints[field.name], seen),
                required=field.default is attrs.NOTHING,
            )
        )
    return tuple(columns)


@functools.cache
def record_columns(kind: str) -> tuple[Column, ...]:
    """The columns of ``kind``: ``offeringId`` (and ``channelId``), then its record's fields.

    ``KeyError`` for a kind not in :data:`KIND_RECORDS`.
    """
    from .analytics import CHANNEL_KINDS

    record = KIND_RECORDS[kind]
    added = [Column("offeringId", "string", required=True)]
    if kind in CHANNEL_KINDS:
        added.append(Column("channelId", "string", required=True))
    if record is str:
        fields: tuple[Column, ...] = (Column("value", "string", required=True),)
    else:
        fields = _model_columns(record, frozenset({record}))
    # A record naming the offering itself (activity responses) shares the added column.
    taken = {c.name for c in added}
    return (*added, *(c for c in fields if c.name not in taken))


def column_names(kind: str) -> tuple[str, ...]:
    """The names of :func:`record_columns` (the CSV export's header row)."""
    return tuple(c.name for c in record_columns(kind))
