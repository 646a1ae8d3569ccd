"""The files of an analytics export: one per kind, complete or clearly partial, nothing stale.

Records are spooled as JSONL to ``<kind>.jsonl.partial`` as reports arrive; when the export
ends each kind is renamed into place (JSONL) or converted (CSV, Parquet) through the same
:class:`~iqualify_async.bulk.atomic.AtomicFile`. A killed or failed export leaves the previous
files intact. Export files in the directory that this run did not write are reported as stale.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from .atomic import PARTIAL_SUFFIX, AtomicFile, neutralise

__all__ = ["FORMATS", "Format", "KindFiles"]

Format = Literal["jsonl", "csv", "parquet"]
FORMATS: tuple[Format, ...] = ("jsonl", "csv", "parquet")


class KindFiles:
    """One output file per kind, written for every kind given to :meth:`finish`."""

    def __init__(self, out_dir: Path, kinds: Sequence[str], fmt: Format) -> None:
        self.out_dir = out_dir
        self.format = fmt
        self.rows: dict[str, int] = dict.fromkeys(kinds, 0)
        self._spools: dict[str, AtomicFile] = {}

    def path(self, kind: str) -> Path:
        return self.out_dir / f"{kind}.{self.format}"

    def _spool(self, kind: str) -> AtomicFile:
        spool = self._spools.get(kind)
        if spool is None:
            spool = self._spools[kind] = AtomicFile(self.out_dir / f"{kind}.jsonl", newline=None)
        return spool

    def write(self, kind: str, rows: Iterable[Mapping[str, Any]]) -> None:
        stream = self._spool(kind).file
        for row in rows:
            stream.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
            self.rows[kind] += 1

    def abandon(self) -> None:
        """The export did not end: leave every spool under its ``.partial`` name."""
        for spool in self._spools.values():
            spool.abandon()

    def finish(
        self, complete: Iterable[str], headers: Mapping[str, Sequence[str]]
    ) -> dict[str, Path]:
        """Put the file of each kind in ``complete`` in place (an empty kind too, with its
        ``headers`` columns in CSV); the spools of the other kinds stay ``.partial``."""
        paths: dict[str, Path] = {}
        done = set(complete)
        for kind in self.rows:
            spool = self._spool(kind) if kind in done else self._spools.get(kind)
            if spool is None:
                continue
            if kind not in done:
                spool.abandon()
                continue
            if self.format == "jsonl":
                paths[kind] = spool.commit()
                continue
            source = spool.abandon()
            try:
                if self.format == "csv":
                    paths[kind] = _to_csv(source, self.path(kind), headers.get(kind, ()))
                else:
                    from .parquet import write_parquet

                    paths[kind] = write_parquet(source, self.path(kind), kind)
            finally:
                source.unlink(missing_ok=True)
        return paths

    def stale(self, kinds: Iterable[str], written: Iterable[Path]) -> list[Path]:
        """Export files of ``kinds`` in the directory that this run did not write."""
        mine = {p.name for p in written}
        found = []
        for kind in kinds:
            for fmt in FORMATS:
                for name in (f"{kind}.{fmt}", f"{kind}.{fmt}{PARTIAL_SUFFIX}"):
                    if name not in mine and (self.out_dir / name).exists():
                        found.append(self.out_dir / name)
        return sorted(found)


def csv_value(value: Any) -> str:
    """A record's value as a CSV cell: ``true``/``false``, nested values as JSON, text made
    safe for spreadsheets (numbers are left as they are)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, str):
        return neutralise(value)
    return str(value)


def _to_csv(source: Path, target: Path, header: Sequence[str]) -> Path:
    """Rewrite a JSONL spool as CSV: columns in order of first appearance."""
    columns: dict[str, None] = dict.fromkeys(header)
    with source.open(encoding="utf-8") as lines:
        for line in lines:
            columns.update(dict.fromkeys(json.loads(line)))
    out = AtomicFile(target)
    try:
        with source.open(encoding="utf-8") as lines:
            writer = csv.DictWriter(out.file, fieldnames=list(columns), lineterminator="\r\n")
            writer.writeheader()
            for line in lines:
                writer.writerow({k: csv_value(v) for k, v in json.loads(line).items()})
    except BaseException:
        out.abandon()
        raise
    return out.commit()
