"""Analytics as Parquet (needs ``pyarrow``, the ``parquet`` extra), imported only when used.

Each kind's schema is built from its records: ``offeringId`` (and ``channelId``) first, then
the fields in order of first appearance. A column whose every value is an ISO-8601 date-time
is a UTC ``timestamp[ms]`` column; numbers, booleans and text keep their types, nested values
are JSON text.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

from .atomic import AtomicFile

__all__ = ["require_pyarrow", "write_parquet"]


def require_pyarrow() -> Any:
    """The ``pyarrow`` module, or ``ImportError`` saying how to install it."""
    try:
        import pyarrow
    except ImportError:
        raise ImportError(
            "Parquet output needs pyarrow: pip install 'iqualify-async[parquet]'"
        ) from None
    return pyarrow


def _timestamp(value: Any) -> datetime.datetime | None:
    if not isinstance(value, str) or len(value) < 19 or value[10:11] != "T":
        return None
    try:
        parsed = datetime.datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.UTC)
    return parsed


def _column(values: list[Any]) -> tuple[Any, list[Any]]:
    pa = require_pyarrow()
    present = [v for v in values if v is not None]
    if present and all(_timestamp(v) is not None for v in present):
        return pa.timestamp("ms", tz="UTC"), [_timestamp(v) for v in values]
    if any(isinstance(v, dict | list) for v in present):
        return pa.string(), [
            None if v is None else json.dumps(v, ensure_ascii=False) for v in values
        ]
    if present and all(isinstance(v, bool) for v in present):
        return pa.bool_(), values
    if present and all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        return pa.int64(), values
    if present and all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        return pa.float64(), [None if v is None else float(v) for v in values]
    return pa.string(), [None if v is None else str(v) for v in values]


def table_of(records: list[dict[str, Any]], kind: str) -> Any:
    """A ``pyarrow.Table`` of one kind's records (the schema described in the module)."""
    pa = require_pyarrow()
    from .analytics import CHANNEL_KINDS

    columns: dict[str, None] = dict.fromkeys(
        ("offeringId", "channelId") if kind in CHANNEL_KINDS else ("offeringId",)
    )
    for record in records:
        columns.update(dict.fromkeys(record))
    fields, arrays = [], []
    for name in columns:
        kind_type, values = _column([r.get(name) for r in records])
        fields.append(pa.field(name, kind_type))
        arrays.append(pa.array(values, type=kind_type))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def write_parquet(source: Path, target: Path, kind: str) -> Path:
    """Convert a JSONL spool of one kind to a Parquet file, renamed into place when whole."""
    import pyarrow.parquet as pq

    with source.open(encoding="utf-8") as lines:
        records = [json.loads(line) for line in lines]
    out = AtomicFile(target)
    out.file.close()
    try:
        pq.write_table(table_of(records, kind), out.partial)
    except BaseException:
        out.abandon()
        raise
    return out.commit()
