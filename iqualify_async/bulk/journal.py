"""On-disk journal of a bulk job (SQLite, standard library), so a re-run redoes nothing done.

Each item is one row keyed by its stable key. A row is marked ``started`` and committed *before*
the bulk function is called; the terminal outcome is written as soon as the call returns and
committed together with the next ``started`` mark (or after 100 outcomes, and at the end of the
job), which halves the commits per item.

Durability: the database runs in WAL mode. With the default ``synchronous="NORMAL"`` a commit
survives the process being killed (SIGKILL, crash, Ctrl-C), as it is in the operating system's
hands before the call returns; a power loss or OS crash may lose the last commits.
``synchronous="FULL"`` fsyncs every commit and survives power loss too, at a much higher cost per
item. Whatever is lost, an item is never left looking undone after its call was sent: a lost
terminal outcome leaves the item ``started``, which a re-run re-checks with ``verify`` before
anything is re-sent. A ``started`` mark is always on disk before its call is made.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterator
from typing import Any, Literal

import attrs

from .keys import to_jsonable
from .outcome import ErrorInfo, Status

__all__ = ["Journal", "JournalEntry", "JournalMismatchError"]

STARTED = "started"
_SCHEMA_VERSION = "1"
_MAX_UNCOMMITTED = 100
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at REAL NOT NULL,
    finished_at REAL,
    summary TEXT
);
CREATE TABLE IF NOT EXISTS items (
    key TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    uncertain INTEGER NOT NULL DEFAULT 0,
    run INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    reason TEXT,
    error TEXT,
    updated_at REAL NOT NULL
);
"""


@attrs.frozen
class JournalEntry:
    """What the journal knows about one item.

    ``status`` is ``"started"`` or an outcome status. ``uncertain`` is true when the item's last
    write may have been applied without that being confirmed (in flight at a kill, or an
    ambiguous write): it must be verified before the function is called again.
    """

    key: str
    status: str
    uncertain: bool
    run: int
    index: int
    reason: str | None
    error: ErrorInfo | None

    @property
    def done(self) -> bool:
        """True when a run recorded the item ``succeeded`` or ``skipped``."""
        return self.status in (Status.SUCCEEDED, Status.SKIPPED)

    @property
    def needs_verify(self) -> bool:
        return self.status == STARTED or self.uncertain


class JournalMismatchError(ValueError):
    """The journal was written by another job; ``path``, ``stored`` and ``job`` say which."""

    def __init__(self, path: str, stored: str, job: str) -> None:
        super().__init__(
            f"{path} is the journal of another job ({stored}), not of this one ({job}); "
            "use another journal file, or pass reuse_journal=True to hand it over to this job"
        )
        self.path = path
        self.stored = stored
        self.job = job


class Journal:
    """A SQLite journal file. Open it with ``Journal(path)``; pass it (or just the path) as
    ``journal=`` to :func:`iqualify_async.bulk.run`. Single-writer: one job at a time per file.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        synchronous: Literal["NORMAL", "FULL"] = "NORMAL",
    ) -> None:
        if synchronous not in ("NORMAL", "FULL"):
            raise ValueError(f"synchronous must be 'NORMAL' or 'FULL', not {synchronous!r}")
        self.path = os.fspath(path)
        self._uncommitted = 0
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(f"PRAGMA synchronous={synchronous}")
            self._db.executescript(_SCHEMA)
            row = self._db.execute("SELECT value FROM meta WHERE name='schema'").fetchone()
            if row is None:
                self._db.execute("INSERT INTO meta VALUES ('schema', ?)", (_SCHEMA_VERSION,))
            elif row[0] != _SCHEMA_VERSION:
                raise ValueError(f"{self.path}: journal schema {row[0]} is not supported")
        except sqlite3.DatabaseError as exc:
            self._db.close()
            raise ValueError(f"{self.path} is not a bulk journal: {exc}") from exc

    def __repr__(self) -> str:
        return f"Journal({self.path!r})"

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self.commit()
        self._db.close()

    @property
    def job(self) -> str | None:
        """The name of the job this journal belongs to (``None`` until a named job used it)."""
        row = self._db.execute("SELECT value FROM meta WHERE name='job'").fetchone()
        return None if row is None else str(row[0])

    def claim(self, job: str, *, reuse: bool = False) -> None:
        """Make this the journal of ``job``; raises :class:`JournalMismatchError` when it
        belongs to another job, unless ``reuse`` (the journal then belongs to ``job``)."""
        stored = self.job
        if stored == job:
            return
        if stored is not None and not reuse:
            raise JournalMismatchError(self.path, stored, job)
        self._db.execute("INSERT OR REPLACE INTO meta VALUES ('job', ?)", (job,))

    def begin_run(self) -> int:
        cur = self._db.execute("INSERT INTO runs (started_at) VALUES (?)", (time.time(),))
        assert cur.lastrowid is not None
        return cur.lastrowid

    def end_run(self, run: int, summary: dict[str, Any]) -> None:
        self.commit()
        self._db.execute(
            "UPDATE runs SET finished_at = ?, summary = ? WHERE id = ?",
            (time.time(), json.dumps(summary), run),
        )

    def get(self, key: str) -> JournalEntry | None:
        row = self._db.execute(
            "SELECT key, status, uncertain, run, idx, reason, error FROM items WHERE key = ?",
            (key,),
        ).fetchone()
        return None if row is None else _entry(row)

    def mark_started(self, key: str, *, run: int, index: int) -> None:
        """Record that the function is about to be called for ``key`` (committed on return)."""
        self._begin()
        self._db.execute(
            "INSERT INTO items (key, status, uncertain, run, idx, updated_at)"
            " VALUES (?, 'started', 1, ?, ?, ?)"
            " ON CONFLICT (key) DO UPDATE SET status = 'started', uncertain = 1,"
            " run = excluded.run, idx = excluded.idx, updated_at = excluded.updated_at",
            (key, run, index, time.time()),
        )
        self.commit()

    def mark_finished(
        self,
        key: str,
        status: Status,
        *,
        run: int,
        index: int,
        reason: str | None = None,
        error: ErrorInfo | None = None,
        uncertain: bool = False,
        commit: bool = True,
    ) -> None:
        """Record the terminal outcome of ``key``; with ``commit=False`` it is committed with the
        next write that commits (or by :meth:`commit`), at the latest 100 outcomes later.
        """
        error_json = None if error is None else json.dumps(_error_data(error))
        self._begin()
        self._db.execute(
            "INSERT INTO items (key, status, uncertain, run, idx, reason, error, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (key) DO UPDATE SET status = excluded.status,"
            " uncertain = excluded.uncertain, run = excluded.run, idx = excluded.idx,"
            " reason = excluded.reason, error = excluded.error, updated_at = excluded.updated_at",
            (key, str(status), int(uncertain), run, index, reason, error_json, time.time()),
        )
        self._uncommitted += 1
        if commit or self._uncommitted >= _MAX_UNCOMMITTED:
            self.commit()

    def commit(self) -> None:
        """Commit the outcomes written with ``commit=False``."""
        if self._db.in_transaction:
            self._db.execute("COMMIT")
        self._uncommitted = 0

    def _begin(self) -> None:
        if not self._db.in_transaction:
            self._db.execute("BEGIN")

    def entries(self) -> Iterator[JournalEntry]:
        """Every item recorded, in key order."""
        cur = self._db.execute(
            "SELECT key, status, uncertain, run, idx, reason, error FROM items ORDER BY key"
        )
        for row in cur:
            yield _entry(row)

    def counts(self) -> dict[str, int]:
        """How many items are recorded in each status (``"started"`` included)."""
        rows = self._db.execute("SELECT status, count(*) FROM items GROUP BY status")
        return {status: n for status, n in rows}


def _error_data(error: ErrorInfo) -> dict[str, Any]:
    try:
        details = to_jsonable(error.details)
    except TypeError:
        details = repr(error.details)
    return {
        "type": error.type,
        "message": error.message,
        "status": error.status,
        "name": error.name,
        "details": details,
    }


def _entry(row: tuple[Any, ...]) -> JournalEntry:
    key, status, uncertain, run, index, reason, error_json = row
    error = None
    if error_json:
        data = json.loads(error_json)
        error = ErrorInfo(
            data["type"], data["message"], data["status"], data["name"], data["details"]
        )
    return JournalEntry(key, status, bool(uncertain), run, index, reason, error)
