"""On-disk journal of a bulk job (SQLite, standard library), so a re-run redoes nothing done.

Each item is one row keyed by its stable key. A row is marked ``started`` and committed *before*
the bulk function is called; the terminal outcome (with the value the function returned) is
written as soon as the call returns and committed together with the next ``started`` mark (or
after 100 outcomes, and at the end of the job), which halves the commits per item.

Durability: the database runs in WAL mode. With the default ``synchronous="NORMAL"`` a commit
survives the process being killed (SIGKILL, crash, Ctrl-C), as it is in the operating system's
hands before the call returns; a power loss or OS crash may lose the last commits.
``synchronous="FULL"`` fsyncs every commit and survives power loss too, at a much higher cost per
item. Whatever is lost, an item is never left looking undone after its call was sent: a lost
terminal outcome leaves the item ``started``, which a re-run re-checks with ``verify`` before
anything is re-sent. A ``started`` mark is always on disk before its call is made.

One writer at a time: a second opener gets :class:`JournalLockedError` naming the holder (see
:mod:`.journal_lock`). Commits not yet copied into the main file live in the ``-wal`` file
beside it; when that file is found missing after a run that did not close the journal (as the
lock file or the main file itself says: a run's start is copied into the main file at once),
the journal is marked *suspect* for good: from then on every item it does not record as done is
treated as possibly started and verified before any call.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sqlite3
import time
import weakref
from collections.abc import Iterator
from typing import Any, Literal

import attrs

from .errors import JournalError, JournalLockedError, JournalMismatchError
from .journal_lock import JournalLock
from .keys import to_jsonable
from .outcome import ErrorInfo, Status

__all__ = [
    "Journal",
    "JournalEntry",
    "JournalError",
    "JournalLockedError",
    "JournalMismatchError",
]

logger = logging.getLogger("iqualify_async.bulk")

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
    updated_at REAL NOT NULL,
    value TEXT,
    item TEXT
);
"""
_COLUMNS = "key, status, uncertain, run, idx, reason, error, value"


@attrs.frozen
class JournalEntry:
    """What the journal knows about one item.

    ``status`` is ``"started"`` or an outcome status. ``uncertain`` is true when the item's last
    write may have been applied without that being confirmed (in flight at a kill, or an
    ambiguous write): it must be verified before the function is called again. ``value`` is
    what the function returned, as JSON data (``None`` when it returned nothing).
    """

    key: str
    status: str
    uncertain: bool
    run: int
    index: int
    reason: str | None
    error: ErrorInfo | None
    value: Any = None

    @property
    def done(self) -> bool:
        """True when a run recorded the item ``succeeded`` or ``skipped``."""
        return self.status in (Status.SUCCEEDED, Status.SKIPPED)

    @property
    def needs_verify(self) -> bool:
        return self.status == STARTED or self.uncertain


def describe(exc: sqlite3.Error) -> str:
    """What a SQLite error means for a journal, in words, with SQLite's own text."""
    text = str(exc)
    lowered = text.lower()
    if "disk is full" in lowered:
        return f"cannot write it: the disk is full ({text})"
    if "malformed" in lowered:
        return f"it is corrupt ({text})"
    if "not a database" in lowered:
        return f"it is not a bulk journal ({text})"
    if "readonly" in lowered or "read-only" in lowered:
        return f"it cannot be written ({text})"
    if "unable to open" in lowered:
        return f"it cannot be opened ({text})"
    if "disk i/o" in lowered:
        return f"cannot write it: disk I/O error ({text})"
    return text


class Journal:
    """A SQLite journal file. Open it with ``Journal(path)``; pass it (or just the path) as
    ``journal=`` to :func:`iqualify_async.bulk.run`. Single-writer: the file stays locked until
    :meth:`close`, and a second opener gets :class:`JournalLockedError`.

    Every problem with the file (corrupt, not a journal, read-only, disk full, ...) raises
    :class:`JournalError` naming it.
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
        folder = os.path.dirname(os.path.abspath(self.path))
        if not os.path.isdir(folder):
            raise JournalError(self.path, f"its directory {folder} does not exist")
        if os.path.isdir(self.path):
            raise JournalError(self.path, "it is a directory")
        self._lock = JournalLock(self.path)
        existed = os.path.exists(self.path)
        # Without its -wal file, a journal whose last user did not close it has lost commits;
        # the lock file says so, and so does the main file itself (which outlives the lock file
        # when only the journal is kept or copied).
        no_wal = existed and not os.path.exists(self.path + "-wal")
        try:
            with self._guard():
                self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            try:
                self._open(synchronous, no_wal=no_wal)
            except BaseException:
                self._db.close()
                raise
        except BaseException:
            self._lock.release()
            raise

    def _open(self, synchronous: str, *, no_wal: bool) -> None:
        with self._guard():
            tables = {
                row[0]
                for row in self._db.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
            if tables and "meta" not in tables:
                raise JournalError(
                    self.path, "it is not a bulk journal (a database of something else)"
                )
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(f"PRAGMA synchronous={synchronous}")
            self._db.executescript(_SCHEMA)
            columns = {row[1] for row in self._db.execute("PRAGMA table_info(items)")}
            for column in ("value", "item"):  # journals written before these were kept
                if column not in columns:
                    self._db.execute(f"ALTER TABLE items ADD COLUMN {column} TEXT")
            row = self._db.execute("SELECT value FROM meta WHERE name='schema'").fetchone()
            if row is None:
                self._db.execute("INSERT INTO meta VALUES ('schema', ?)", (_SCHEMA_VERSION,))
            elif row[0] != _SCHEMA_VERSION:
                raise JournalError(self.path, f"journal schema {row[0]} is not supported")
            state = self._db.execute("SELECT value FROM meta WHERE name='state'").fetchone()
            left_open = self._lock.previous.get("state") == "open" or (
                state is not None and state[0] == "open"
            )
            if no_wal and left_open:
                logger.warning(
                    "journal %s: its -wal file is missing after a run that did not close it; "
                    "items it does not record as done are verified before any call",
                    self.path,
                )
                self._db.execute(
                    "INSERT OR REPLACE INTO meta VALUES ('suspect', ?)", (str(time.time()),)
                )
            self.suspect = (
                self._db.execute("SELECT 1 FROM meta WHERE name='suspect'").fetchone() is not None
            )
        self._finalizer = weakref.finalize(self, _shut, self._db, self._lock, clean=True)

    @contextlib.contextmanager
    def _guard(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as exc:
            raise JournalError(self.path, describe(exc)) from exc

    def __repr__(self) -> str:
        return f"Journal({self.path!r})"

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Commit, fold the ``-wal`` file into the main file, close and unlock the journal.

        A journal dropped without being closed is closed the same way when it is collected
        or when the interpreter exits (without committing pending outcomes).
        """
        finalizer = self._finalizer
        if not finalizer.alive:
            return
        try:
            self.commit()
        except BaseException:
            finalizer.detach()
            _shut(self._db, self._lock, clean=False)
            raise
        finalizer()

    @property
    def job(self) -> str | None:
        """The name of the job this journal belongs to (``None`` until a job used it)."""
        with self._guard():
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
        with self._guard():
            self._db.execute("INSERT OR REPLACE INTO meta VALUES ('job', ?)", (job,))

    def begin_run(self) -> int:
        """Record a run; the main file (not only the ``-wal`` file) then says that the journal
        is in use until it is closed cleanly."""
        self.commit()
        with self._guard():
            self._db.execute("INSERT OR REPLACE INTO meta VALUES ('state', 'open')")
            cur = self._db.execute("INSERT INTO runs (started_at) VALUES (?)", (time.time(),))
            self._db.execute("PRAGMA wal_checkpoint(PASSIVE)")
        assert cur.lastrowid is not None
        return cur.lastrowid

    def end_run(self, run: int, summary: dict[str, Any]) -> None:
        self.commit()
        with self._guard():
            self._db.execute(
                "UPDATE runs SET finished_at = ?, summary = ? WHERE id = ?",
                (time.time(), json.dumps(summary), run),
            )

    def get(self, key: str) -> JournalEntry | None:
        """The item's entry; in a suspect journal, an item not recorded as done comes back as
        possibly started (to be verified), never as unknown."""
        with self._guard():
            row = self._db.execute(f"SELECT {_COLUMNS} FROM items WHERE key = ?", (key,)).fetchone()
        entry = None if row is None else _entry(row)
        if self.suspect and (entry is None or not entry.done):
            if entry is None:
                return JournalEntry(key, STARTED, True, 0, -1, None, None)
            return attrs.evolve(entry, uncertain=True)
        return entry

    def mark_started(self, key: str, *, run: int, index: int) -> None:
        """Record that the function is about to be called for ``key`` (committed on return)."""
        with self._guard():
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
        value: Any = None,
        item: Any = None,
        uncertain: bool = False,
        commit: bool = True,
    ) -> None:
        """Record the terminal outcome of ``key``; with ``commit=False`` it is committed with the
        next write that commits (or by :meth:`commit`), at the latest 100 outcomes later.
        """
        error_json = None if error is None else json.dumps(error_data(error))
        value_json = None if value is None else json.dumps(jsonable(value))
        item_json = None if item is None else json.dumps(jsonable(item))
        with self._guard():
            self._begin()
            self._db.execute(
                "INSERT INTO items"
                " (key, status, uncertain, run, idx, reason, error, value, item, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (key) DO UPDATE SET status = excluded.status,"
                " uncertain = excluded.uncertain, run = excluded.run, idx = excluded.idx,"
                " reason = excluded.reason, error = excluded.error, value = excluded.value,"
                " item = coalesce(excluded.item, item), updated_at = excluded.updated_at",
                (
                    key,
                    str(status),
                    int(uncertain),
                    run,
                    index,
                    reason,
                    error_json,
                    value_json,
                    item_json,
                    time.time(),
                ),
            )
        self._uncommitted += 1
        if commit or self._uncommitted >= _MAX_UNCOMMITTED:
            self.commit()

    def commit(self) -> None:
        """Commit the outcomes written with ``commit=False``."""
        with self._guard():
            if self._db.in_transaction:
                self._db.execute("COMMIT")
        self._uncommitted = 0

    def _begin(self) -> None:
        if not self._db.in_transaction:
            self._db.execute("BEGIN")

    def entries(self) -> Iterator[JournalEntry]:
        """Every item recorded, in key order."""
        with self._guard():
            rows = self._db.execute(f"SELECT {_COLUMNS} FROM items ORDER BY key").fetchall()
        for row in rows:
            yield _entry(row)

    def rows(self) -> Iterator[tuple[JournalEntry, Any]]:
        """Every item recorded, with the item itself as JSON data (``None`` when the journal
        was written before items were kept), in input order."""
        with self._guard():
            rows = self._db.execute(
                f"SELECT {_COLUMNS}, item FROM items ORDER BY idx, key"
            ).fetchall()
        for row in rows:
            yield _entry(row[:8]), None if row[8] is None else json.loads(row[8])

    def counts(self) -> dict[str, int]:
        """How many items are recorded in each status (``"started"`` included)."""
        with self._guard():
            rows = self._db.execute("SELECT status, count(*) FROM items GROUP BY status").fetchall()
        return {status: n for status, n in rows}


def _shut(db: sqlite3.Connection, lock: JournalLock, *, clean: bool) -> None:
    """Close the database and let go of its lock; with ``clean``, first fold the ``-wal`` file
    into the main file and record a clean close (so a missing ``-wal`` file later means loss)."""
    try:
        if clean:
            if db.in_transaction:
                db.execute("ROLLBACK")
            db.execute("INSERT OR REPLACE INTO meta VALUES ('state', 'closed')")
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            lock.mark_closed()
    except sqlite3.Error:
        pass  # left unclean: the -wal file keeps what the main file lacks
    finally:
        db.close()
        lock.release()


def jsonable(value: Any) -> Any:
    """``value`` as JSON data for a journal (its ``repr`` when it has no JSON form)."""
    try:
        return to_jsonable(value)
    except TypeError:
        return repr(value)


def error_data(error: ErrorInfo) -> dict[str, Any]:
    """An item's error as a journal stores it (JSON data); :func:`error_from_data` reverses it."""
    return {
        "type": error.type,
        "message": error.message,
        "status": error.status,
        "name": error.name,
        "details": jsonable(error.details),
    }


def error_from_data(data: Any) -> ErrorInfo | None:
    """The error a journal stored with :func:`error_data` (``None`` for none)."""
    if not data:
        return None
    return ErrorInfo(data["type"], data["message"], data["status"], data["name"], data["details"])


def _entry(row: tuple[Any, ...]) -> JournalEntry:
    key, status, uncertain, run, index, reason, error_json, value_json = row
    error = error_from_data(json.loads(error_json) if error_json else None)
    value = None if value_json is None else json.loads(value_json)
    return JournalEntry(key, status, bool(uncertain), run, index, reason, error, value)
