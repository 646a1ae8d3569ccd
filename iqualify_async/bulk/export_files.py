"""The files of an analytics export: one per kind, complete or clearly partial, nothing stale.

Each report's records are written, as JSONL, to a file of their own under ``export.partial/``
in the output directory as the report arrives (renamed into place once whole, so a report's
file exists only when all of it is on disk); without a journal, where nothing reads them after
a crash, they are appended to one spool file per kind instead. When the export ends, each
kind's reports are joined in plan order into ``<kind>.jsonl`` (or converted to CSV or
Parquet), every file through
the same :class:`~iqualify_async.bulk.atomic.AtomicFile`. A killed or failed export leaves the
previous files intact and ``export.partial/`` behind, where a resumed export (with a journal)
finds the reports it does not fetch again. Export files in the directory that this run did not
write are reported as stale.
"""

from __future__ import annotations

import csv
import hashlib
import os
import shutil
import threading
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any, Literal

from .._json import dumps, loads
from .atomic import PARTIAL_SUFFIX, AtomicFile, csv_cell

__all__ = ["FORMATS", "Format", "KindFiles"]

Format = Literal["jsonl", "csv", "parquet"]
FORMATS: tuple[Format, ...] = ("jsonl", "csv", "parquet")


PARTIAL_DIR = "export" + PARTIAL_SUFFIX


class KindFiles:
    """One output file per kind, made of one spooled file per report (resumable exports) or of
    one spool file per kind holding every report (``resume=False``)."""

    def __init__(self, out_dir: Path, kinds: Sequence[str], fmt: Format, *, resume: bool) -> None:
        self.out_dir = out_dir
        self.format = fmt
        self.kinds = list(kinds)
        self.rows: dict[str, int] = dict.fromkeys(kinds, 0)
        self.spool_dir = out_dir / PARTIAL_DIR
        self.missing = 0
        """Reports done (by the journal's record) whose records were not found on disk."""
        self.resume = resume
        # Without a journal nothing reads the spool after a crash (the next export removes
        # it): each kind's reports go to one file, at offsets kept here, rather than to one
        # synced file each (creating a file costs more than writing most reports).
        self._spools: dict[str, IO[bytes]] = {}
        self._segments: dict[tuple[str, str], tuple[int, int]] = {}
        self._lock = threading.Lock()  # reports are written from worker threads
        if not resume:
            shutil.rmtree(self.spool_dir, ignore_errors=True)

    def path(self, kind: str) -> Path:
        return self.out_dir / f"{kind}.{self.format}"

    def _chunk(self, kind: str, key: str) -> Path:
        digest = hashlib.sha256(key.encode()).hexdigest()[:32]
        return self.spool_dir / kind / f"{digest}.jsonl"

    def write(self, kind: str, key: str, rows: Iterable[Mapping[str, Any]]) -> None:
        """The records of one report (``key`` names it), on disk whole or not at all."""
        lines = [dumps(row) for row in rows]  # orjson with the ``fast`` extra
        data = b"\n".join(lines) + b"\n" if lines else b""
        if not self.resume:
            with self._lock:
                spool = self._spools.get(kind)
                if spool is None:
                    self.spool_dir.mkdir(parents=True, exist_ok=True)
                    spool = self._spools[kind] = open(self.spool_dir / f"{kind}.jsonl", "w+b")
                offset = spool.seek(0, os.SEEK_END)
                spool.write(data)
                self._segments[kind, key] = (offset, len(data))  # once all of it is written
            return
        path = self._chunk(kind, key)
        path.parent.mkdir(parents=True, exist_ok=True)
        chunk = AtomicFile(path, newline=None)
        try:
            chunk.file.write(data.decode())
        except BaseException:
            chunk.discard()
            raise
        chunk.commit()

    def _report(self, kind: str, key: str) -> str | None:
        """The lines of one report written earlier (``None``: not found)."""
        if not self.resume:
            segment = self._segments.get((kind, key))
            if segment is None:
                return None
            spool = self._spools[kind]
            spool.seek(segment[0])
            return spool.read(segment[1]).decode()
        chunk = self._chunk(kind, key)
        if not chunk.exists():
            return None
        with chunk.open(encoding="utf-8") as lines:
            return lines.read()

    def finish(
        self,
        complete: Iterable[str],
        done: Mapping[str, Sequence[str]],
        headers: Mapping[str, Sequence[str]],
    ) -> dict[str, Path]:
        """Put the file of each kind in ``complete`` in place, joining the reports of ``done``
        (the keys of each kind's reports that succeeded, in plan order); an empty kind is a
        file too (in CSV, its ``headers`` columns). Removes the spool afterwards."""
        try:
            return self._finish(complete, done, headers)
        finally:
            self.close()

    def _finish(
        self,
        complete: Iterable[str],
        done: Mapping[str, Sequence[str]],
        headers: Mapping[str, Sequence[str]],
    ) -> dict[str, Path]:
        paths: dict[str, Path] = {}
        for kind in complete:
            joined = AtomicFile(self.out_dir / f"{kind}.jsonl", newline=None)
            try:
                for key in done.get(kind, ()):
                    text = self._report(kind, key)
                    if text is None:
                        self.missing += 1
                        continue
                    # One record a line: JSON text holds no line break of its own.
                    joined.file.write(text)
                    self.rows[kind] += text.count("\n")
            except BaseException:
                joined.discard()
                raise
            if self.format == "jsonl":
                paths[kind] = joined.commit()
                continue
            source = joined.abandon()
            try:
                if self.format == "csv":
                    paths[kind] = _to_csv(source, self.path(kind), headers.get(kind, ()))
                else:
                    from .parquet import write_parquet

                    paths[kind] = write_parquet(source, self.path(kind), kind)
            finally:
                source.unlink(missing_ok=True)
        self.close()
        shutil.rmtree(self.spool_dir, ignore_errors=True)
        return paths

    def close(self) -> None:
        """Close the spool files of a run without a journal (left for the next run to remove)."""
        for spool in self._spools.values():
            spool.close()
        self._spools.clear()

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


def _to_csv(source: Path, target: Path, header: Sequence[str]) -> Path:
    """Rewrite a JSONL spool as CSV: the kind's columns (``header``) first, then any other
    field in order of first appearance."""
    columns: dict[str, None] = dict.fromkeys(header)
    with source.open(encoding="utf-8") as lines:
        for line in lines:
            columns.update(dict.fromkeys(loads(line)))
    names = list(columns)
    out = AtomicFile(target)
    try:
        with source.open(encoding="utf-8") as lines:
            writer = csv.writer(out.file, lineterminator="\r\n")
            writer.writerow(names)
            for line in lines:
                row = loads(line)
                get = row.get
                writer.writerow([csv_cell(get(name)) for name in names])  # absent: ""
    except BaseException:
        out.abandon()
        raise
    return out.commit()
