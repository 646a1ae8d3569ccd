"""Analytics as Arrow tables and Parquet files (needs ``pyarrow``, the ``parquet`` extra),
imported only when used.

Each kind has one schema, derived from its record model (:mod:`~iqualify_async.bulk.records`),
whatever records a run happens to get: every Parquet file of a kind, and every table of
:meth:`CollectedAnalytics.to_arrow <iqualify_async.bulk.CollectedAnalytics.to_arrow>`, has
exactly :func:`analytics_schema` ``(kind)``, also with no records or a column all null.

Types: ``string``, ``int64``, ``float64``, ``bool``; date-times ``timestamp[us, tz=UTC]``
(the API's RFC 3339 text converted, whatever offset it was given in); arrays ``list<...>``;
nested models ``struct<...>`` of their own fields, typed the same way; free-form JSON as JSON
text. Fields the API always sends are non-nullable. Fields a record carries that its model does
not know are left out (with a warning): they stay in the JSONL and CSV exports.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from .._converter import parse_datetime
from .._json import loads
from .atomic import AtomicFile
from .records import Column, ColumnType, ListOf, StructOf, record_columns

__all__ = ["analytics_schema", "require_pyarrow", "table_of", "write_parquet"]

logger = logging.getLogger("iqualify_async.bulk")

INSTALL_HINT = "pip install 'iqualify-async[parquet]'"


def require_pyarrow() -> Any:
    """The ``pyarrow`` module, or ``ImportError`` saying how to install it."""
    try:
        import pyarrow
    except ImportError:
        raise ImportError(f"Parquet and Arrow output need pyarrow: {INSTALL_HINT}") from None
    return pyarrow


def _arrow_type(pa: Any, tp: ColumnType) -> Any:
    if isinstance(tp, ListOf):
        return pa.list_(_arrow_type(pa, tp.item))
    if isinstance(tp, StructOf):
        return pa.struct([_arrow_field(pa, c) for c in tp.fields])
    return {
        "string": pa.string(),
        "int": pa.int64(),
        "float": pa.float64(),
        "bool": pa.bool_(),
        "timestamp": pa.timestamp("us", tz="UTC"),
        "json": pa.string(),
    }[tp]


def _arrow_field(pa: Any, column: Column) -> Any:
    return pa.field(column.name, _arrow_type(pa, column.type), nullable=not column.required)


@functools.cache
def analytics_schema(kind: str) -> Any:
    """The ``pyarrow.Schema`` of ``kind`` (a name from ``bulk.ALL_KINDS``)."""
    pa = require_pyarrow()
    return pa.schema([_arrow_field(pa, c) for c in record_columns(kind)])


Convert = Callable[[Any], Any]


def _json_text(value: Any) -> Any:
    return value if value is None else json.dumps(value, ensure_ascii=False)


def _timestamp(value: Any) -> Any:
    return parse_datetime(value) if isinstance(value, str) else value


def _converter(tp: ColumnType) -> Convert | None:
    """How a JSON value becomes what ``pyarrow.array`` takes for ``tp`` (``None``: as it is)."""
    if tp == "timestamp":
        return _timestamp
    if tp == "json":
        return _json_text
    if tp == "float":
        return None  # pyarrow takes JSON integers for a float column
    if isinstance(tp, ListOf):
        item = _converter(tp.item)
        if item is None:
            return None
        convert_item = item

        def items(value: Any) -> Any:
            return value if value is None else [convert_item(v) for v in value]

        return items
    if isinstance(tp, StructOf):
        children = [(c.name, _converter(c.type)) for c in tp.fields]
        if all(convert is None for _, convert in children):
            return None  # pyarrow picks the struct's fields out of the dict itself

        def struct(value: Any) -> Any:
            if value is None:
                return None
            return {
                name: value.get(name) if convert is None else convert(value.get(name))
                for name, convert in children
            }

        return struct
    return None


@functools.cache
def _converters(kind: str) -> tuple[tuple[str, Convert | None], ...]:
    return tuple((c.name, _converter(c.type)) for c in record_columns(kind))


def table_of(records: Iterable[Mapping[str, Any]], kind: str) -> Any:
    """A ``pyarrow.Table`` of one kind's records (JSON objects as the API sent them, with
    ``offeringId``/``channelId``), with the schema :func:`analytics_schema` ``(kind)``."""
    pa = require_pyarrow()
    schema = analytics_schema(kind)
    rows = records if isinstance(records, list) else list(records)
    known = {name for name, _ in _converters(kind)}
    unknown: dict[str, None] = {}
    arrays = []
    for (name, convert), field in zip(_converters(kind), schema, strict=True):
        values = [row.get(name) for row in rows]
        if convert is not None:
            values = [convert(v) for v in values]
        arrays.append(pa.array(values, type=field.type))
    for row in rows:
        if row.keys() - known:
            unknown.update(dict.fromkeys(k for k in row if k not in known))
    if unknown:
        logger.warning(
            "%s: field(s) %s are not in its record model and are left out of its Arrow table "
            "(JSONL and CSV exports keep them)",
            kind,
            ", ".join(unknown),
        )
    return pa.Table.from_arrays(arrays, schema=schema)


def write_parquet(source: Path, target: Path, kind: str) -> Path:
    """Convert a JSONL spool of one kind to a Parquet file, renamed into place when whole."""
    import pyarrow.parquet as pq

    with source.open(encoding="utf-8") as lines:
        records = [loads(line) for line in lines]
    table = table_of(records, kind)
    out = AtomicFile(target)
    out.file.close()
    try:
        pq.write_table(table, out.partial)
    except BaseException:
        out.abandon()
        raise
    return out.commit()
