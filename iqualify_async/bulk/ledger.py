"""Ledgers: one row per input item with its outcome, as CSV or JSONL, written as a stream.

A ledger is meant to be fixed and fed back in: the item's own fields keep their names (nested
fields flattened as ``a.b`` in CSV; an item with a ``ledger_fields()`` method, such as an
enrolment or a person, is written as the columns it gives), and :func:`items_from_ledger` reads the items of
chosen outcomes back, e.g. the failed ones after correcting them.

A ledger written to a path appears whole: it is written to ``<path>.partial`` and renamed into
place when the job ends, so a killed or failed run leaves the previous ledger intact. CSV cells
that a spreadsheet would run as a formula get a leading ``'`` (read back without it).
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import AsyncIterable, Collection, Iterator, Mapping
from pathlib import Path
from typing import IO, Any, Literal

from .atomic import AtomicFile, csv_cell, neutralise, restore
from .keys import to_jsonable
from .outcome import Outcome, Status

__all__ = ["LedgerWriter", "items_from_ledger", "write_ledger"]

Format = Literal["csv", "jsonl"]

LEDGER_HEAD = ("index", "key", "outcome")
"""A ledger's first columns (the item's follow), which also tell a ledger from a people file."""
_TAIL = (
    "value",
    "error_type",
    "error_status",
    "error_name",
    "error_details",
    "message",
    "from_journal",
    "verified",
    "extra_fields",
)
LEDGER_META = frozenset(LEDGER_HEAD + _TAIL)
"""A ledger's own columns; an item field of the same name is written as ``item.<name>``."""
SCALAR_COLUMN = "item"
"""The column of an item that is not a mapping."""


def _format_of(path: str | os.PathLike[str], format: Format | None) -> Format:
    if format is not None:
        if format not in ("csv", "jsonl"):
            raise ValueError(f"ledger format must be 'csv' or 'jsonl', not {format!r}")
        return format
    suffix = Path(path).suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    raise ValueError(f"cannot tell the ledger format of {os.fspath(path)!r}; pass format=")


def _plain(item: Any) -> Any:
    fields = getattr(item, "ledger_fields", None)
    if callable(fields):
        return to_jsonable(fields())
    try:
        return to_jsonable(item)
    except TypeError:
        return str(item)


def _flatten(value: Any, prefix: str, out: dict[str, Any]) -> None:
    for name, field in value.items():
        column = f"{prefix}{name}"
        if isinstance(field, dict) and field:
            _flatten(field, column + ".", out)
        else:
            out[column] = field


def _item_columns(item: Any) -> dict[str, Any]:
    plain = _plain(item)
    if not isinstance(plain, dict):
        return {SCALAR_COLUMN: plain}
    flat: dict[str, Any] = {}
    _flatten(plain, "", flat)
    return {(f"item.{k}" if k in LEDGER_META else k): v for k, v in flat.items()}


class LedgerWriter:
    """Writes outcomes to a CSV or JSONL file, one row per outcome, as they come.

    ``statuses`` keeps only outcomes with those statuses (e.g. ``{"failed", "unprocessed"}`` for
    a file of items to retry). CSV columns are ``index, key, outcome``, the item's fields (taken
    from the first row unless ``fields`` is given; a scalar item is one ``item`` column), then
    ``value, error_type, error_status, error_name, error_details, message, from_journal,
    verified, extra_fields`` (fields of later items not in the header, as JSON). ``value`` is
    what the function returned for a ``succeeded`` item (e.g. ``"would enrol"`` in a dry run),
    JSON text when it is not a string. JSONL rows hold the same, with ``item``, ``value`` and
    ``error`` as JSON values.

    Given a path, the file is written as ``<path>.partial`` and renamed onto ``path`` by
    :meth:`close` (``close(complete=False)``, or leaving a ``with`` block with an exception,
    keeps it under the ``.partial`` name). Opening it raises ``OSError`` at once for a path
    that cannot be written.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | IO[str],
        *,
        format: Format | None = None,
        statuses: Collection[Status | str] | None = None,
        fields: Collection[str] | None = None,
    ) -> None:
        if isinstance(path, str | os.PathLike):
            self.format = _format_of(path, format)
            self._atomic: AtomicFile | None = AtomicFile(path)
            self._file: IO[str] = self._atomic.file
        else:
            if format is None:
                raise ValueError("pass format='csv' or 'jsonl' when writing to an open file")
            self.format = _format_of("", format)
            self._atomic = None
            self._file = path
        self._statuses = None if statuses is None else frozenset(Status(s) for s in statuses)
        self._fields = None if fields is None else list(fields)
        self._csv: csv.DictWriter[str] | None = None
        self.rows = 0

    def __enter__(self) -> LedgerWriter:
        return self

    def __exit__(self, exc_type: object, *exc_info: object) -> None:
        self.close(complete=exc_type is None)

    def write(self, outcome: Outcome[Any, Any]) -> None:
        if self._statuses is not None and outcome.status not in self._statuses:
            return
        if self.format == "jsonl":
            self._file.write(json.dumps(self._json_row(outcome), ensure_ascii=False) + "\n")
        else:
            self._write_csv(outcome)
        self.rows += 1

    @property
    def path(self) -> Path | None:
        """Where the ledger is (or, until it is complete, will be); ``None`` for an open file."""
        return None if self._atomic is None else self._atomic.target

    def discard(self) -> None:
        """Drop a ledger the job never started: the ``.partial`` file is removed."""
        if self._atomic is not None:
            self._atomic.discard()

    def close(self, *, complete: bool = True) -> Path | None:
        """Finish the file: renamed into place when ``complete``, else left as ``.partial``.

        Returns the path of the file left behind (``None`` when writing to an open file).
        """
        if self._atomic is None:
            self._file.flush()
            return None
        return self._atomic.close(complete=complete)

    def _json_row(self, outcome: Outcome[Any, Any]) -> dict[str, Any]:
        error = outcome.error
        return {
            "index": outcome.index,
            "key": outcome.key,
            "outcome": str(outcome.status),
            "item": _plain(outcome.item),
            "value": _plain(outcome.value),
            "error": None
            if error is None
            else {
                "type": error.type,
                "status": error.status,
                "name": error.name,
                "details": _plain(error.details),
            },
            "message": outcome.message,
            "from_journal": outcome.from_journal,
            "verified": outcome.verified,
        }

    def _write_csv(self, outcome: Outcome[Any, Any]) -> None:
        columns = _item_columns(outcome.item)
        if self._csv is None:
            item_fields = self._fields if self._fields is not None else list(columns)
            header = [*LEDGER_HEAD, *item_fields, *_TAIL]
            self._csv = csv.DictWriter(self._file, header, lineterminator="\r\n")
            self._csv.writeheader()
            self._known = frozenset(item_fields)
        extra = {k: v for k, v in columns.items() if k not in self._known}
        error = outcome.error
        row = {k: csv_cell(v) for k, v in columns.items() if k in self._known}
        row.update(
            index=str(outcome.index),
            key=outcome.key,
            outcome=str(outcome.status),
            value=csv_cell(_plain(outcome.value)),
            error_type=csv_cell(error and error.type),
            error_status=csv_cell(error and error.status),
            error_name=csv_cell(error and error.name),
            error_details=csv_cell(error and _plain(error.details)),
            message=csv_cell(outcome.message),
            from_journal=csv_cell(outcome.from_journal),
            verified=csv_cell(outcome.verified),
            extra_fields=neutralise(json.dumps(extra, ensure_ascii=False)) if extra else "",
        )
        self._csv.writerow(row)


async def write_ledger(
    outcomes: AsyncIterable[Outcome[Any, Any]],
    path: str | os.PathLike[str] | IO[str],
    *,
    format: Format | None = None,
    statuses: Collection[Status | str] | None = None,
) -> int:
    """Write every outcome of ``outcomes`` (e.g. a running job) to a ledger; returns rows written."""
    with LedgerWriter(path, format=format, statuses=statuses) as writer:
        async for outcome in outcomes:
            writer.write(outcome)
        return writer.rows


def items_from_ledger(
    path: str | os.PathLike[str],
    *,
    statuses: Collection[Status | str] | None = (Status.FAILED, Status.UNPROCESSED),
    format: Format | None = None,
) -> Iterator[Any]:
    """The input items of a ledger's rows with the given statuses (all rows for ``None``).

    JSONL gives the items back as written (JSON data). CSV gives dicts of strings with dotted
    columns nested again, or the plain ``item`` string for scalar items. Either way, an item
    written from ``ledger_fields()`` (an enrolment, a person) comes back as a mapping its job
    takes again.
    """
    wanted = None if statuses is None else frozenset(str(Status(s)) for s in statuses)
    fmt = _format_of(path, format)
    with open(path, encoding="utf-8", newline="") as f:
        if fmt == "jsonl":
            for line in f:
                if line.strip():
                    row = json.loads(line)
                    if wanted is None or row["outcome"] in wanted:
                        yield row["item"]
            return
        for csv_row in csv.DictReader(f):
            if wanted is None or csv_row["outcome"] in wanted:
                yield _item_from_csv(csv_row)


def _item_from_csv(row: Mapping[str, str | None]) -> Any:
    fields = {k: restore(v or "") for k, v in row.items() if k is not None and k not in LEDGER_META}
    if list(fields) == [SCALAR_COLUMN]:
        return fields[SCALAR_COLUMN]
    extra = restore(row.get("extra_fields") or "")
    if extra:
        fields.update({k: restore(csv_cell(v)) for k, v in json.loads(extra).items()})
    item: dict[str, Any] = {}
    for column, value in fields.items():
        name = (
            column.removeprefix("item.") if column.removeprefix("item.") in LEDGER_META else column
        )
        *parents, leaf = name.split(".")
        target = item
        for parent in parents:
            target = target.setdefault(parent, {})
        target[leaf] = value
    return item
