"""A bulk job journal in PostgreSQL, which several workers (processes, hosts) may share.

``journal="postgresql://user@host/db"`` (psycopg 3, the ``postgres`` extra). Tables
``iqualify_journal_meta``, ``_runs`` and ``_items`` are created in the connection's schema
(choose one with ``?options=-csearch_path%3Dmyschema``); ``?journal=NAME`` keeps several
journals in one database (default ``default``). Only the URL is needed to resume a job from
another machine.

Each item row is claimed by one worker at a time: a worker inserts it, or takes it over with
``SELECT ... FOR UPDATE SKIP LOCKED`` when no live worker holds it, and holds it with a lease
(``lease`` seconds) that a background task renews. A ``started`` mark is committed (and so
durable) before the call, only while the lease is held; the outcome is written after it and
frees the item. Items another worker holds are put aside and looked at again once the input is
read: by then they are done (reported from the journal), or their holder died and its lease
expired, and they are verified before anything is sent again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from .errors import JournalError, JournalMismatchError
from .journal import STARTED, JournalEntry, error_data, error_from_data, jsonable
from .outcome import ErrorInfo, Status

__all__ = ["PostgresJournal"]

logger = logging.getLogger("iqualify_async.bulk")

_T = TypeVar("_T")

PENDING = "pending"  # claimed, not started
_COLUMNS = "key, status, uncertain, run, idx, reason, error, value"
# Claim an item in one statement: insert it as ours, or take it over (FOR UPDATE SKIP LOCKED)
# when it is not done and no live worker holds it; the row comes back either way.
_CLAIM = """
WITH ins AS (
    INSERT INTO iqualify_journal_items (journal, key, status, run, idx, owner, lease_until)
    VALUES (%(j)s, %(k)s, 'pending', %(run)s, %(idx)s, %(me)s,
            now() + make_interval(secs => %(lease)s))
    ON CONFLICT DO NOTHING
    RETURNING 1
), found AS (
    SELECT key, status, uncertain, run, idx, reason, error, value, owner,
           coalesce(lease_until > now(), false) AS live
    FROM iqualify_journal_items
    WHERE journal = %(j)s AND key = %(k)s AND NOT EXISTS (SELECT 1 FROM ins)
    FOR UPDATE SKIP LOCKED
), took AS (
    UPDATE iqualify_journal_items AS i
    SET owner = %(me)s, lease_until = now() + make_interval(secs => %(lease)s)
    FROM found
    WHERE i.journal = %(j)s AND i.key = found.key
      AND found.status NOT IN ('succeeded', 'skipped')
      AND (found.owner IS NULL OR found.owner = %(me)s OR NOT found.live)
    RETURNING 1
)
SELECT EXISTS (SELECT 1 FROM ins), EXISTS (SELECT 1 FROM took),
       found.key, found.status, found.uncertain, found.run, found.idx, found.reason,
       found.error, found.value, found.owner
FROM (SELECT 1) AS one LEFT JOIN found ON true
"""
_SCHEMA = """
CREATE TABLE IF NOT EXISTS iqualify_journal_meta (
    journal TEXT NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (journal, name)
);
CREATE TABLE IF NOT EXISTS iqualify_journal_runs (
    id BIGSERIAL PRIMARY KEY,
    journal TEXT NOT NULL,
    worker TEXT NOT NULL,
    started_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    finished_at TIMESTAMPTZ,
    summary JSONB
);
CREATE TABLE IF NOT EXISTS iqualify_journal_items (
    journal TEXT NOT NULL,
    key TEXT NOT NULL,
    status TEXT NOT NULL,
    uncertain BOOLEAN NOT NULL DEFAULT false,
    run BIGINT NOT NULL,
    idx BIGINT NOT NULL,
    reason TEXT,
    error JSONB,
    value JSONB,
    item JSONB,
    owner TEXT,
    lease_until TIMESTAMPTZ,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (journal, key)
);
"""


_OURS = ("journal", "lease", "poll")


def _split_url(url: str) -> tuple[str, str, str, dict[str, float]]:
    """``(connection URL, journal name, URL shown in messages without a password, settings)``:
    ``journal``, ``lease`` and ``poll`` are ours, the rest of the query goes to libpq."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    ours = {k: v for k, v in query if k in _OURS}
    rest = [(k, v) for k, v in query if k not in _OURS]
    journal = ours.get("journal", "default")
    if not journal:
        raise ValueError("the journal= of a PostgreSQL journal URL must not be empty")
    settings: dict[str, float] = {}
    for name in ("lease", "poll"):
        if name in ours:
            try:
                settings[name] = float(ours[name])
            except ValueError:
                raise ValueError(
                    f"{name}= in a journal URL must be seconds, not {ours[name]!r}"
                ) from None
    conninfo = urlunsplit(parts._replace(query=urlencode(rest)))
    netloc = parts.hostname or ""
    if parts.port:
        netloc += f":{parts.port}"
    if parts.username:
        netloc = f"{parts.username}@{netloc}"
    shown = urlunsplit((parts.scheme, netloc, parts.path, "", ""))
    return conninfo, journal, f"{shown}?journal={journal}", settings


def _message(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


class PostgresJournal:
    """A journal in a PostgreSQL database, shared by every worker given the same URL.

    ``lease`` is how long (seconds) a worker's claim on an item lasts without renewal (renewed
    every third of it while the worker lives): a worker killed mid-item leaves its items to the
    others after this. ``poll`` is how often items another worker holds are looked at again.
    Both may also be given in the URL (``?journal=enrol-march&lease=10``).
    Use it as ``journal=`` (or pass the URL itself); ``async with`` it, or :meth:`aclose` it,
    when you made it yourself.
    """

    def __init__(
        self,
        url: str,
        *,
        lease: float | None = None,
        poll: float | None = None,
        connect_timeout: float = 10.0,
    ) -> None:
        self._conninfo, self.journal, self._shown, settings = _split_url(url)
        self.lease = float(lease if lease is not None else settings.get("lease", 30.0))
        self.poll = float(poll if poll is not None else settings.get("poll", 0.2))
        if not (self.lease > 0 and self.poll > 0):
            raise ValueError("lease and poll must be positive numbers of seconds")
        self._connect_timeout = connect_timeout
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._conn: Any = None
        self._heartbeat: asyncio.Task[None] | None = None
        self._lock: asyncio.Lock | None = None  # one transaction at a time on the connection
        self._claims_conn: Any = None
        self._claims_lock: asyncio.Lock | None = None
        self._queue: list[tuple[str, tuple[Any, ...], asyncio.Future[list[tuple[Any, ...]]]]] = []
        self._flusher: asyncio.Task[None] | None = None

    @property
    def name(self) -> str:
        return self._shown

    def __repr__(self) -> str:
        return f"PostgresJournal({self._shown!r})"

    async def __aenter__(self) -> PostgresJournal:
        await self._connection()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def _psycopg(self) -> Any:
        """The psycopg module, or a JournalError saying how to install it."""
        try:
            import psycopg
        except ImportError:
            pass
        else:
            return psycopg
        raise JournalError(
            self._shown,
            "a PostgreSQL journal needs psycopg: pip install 'iqualify-async[postgres]'",
        )

    async def _guarded(self, work: Callable[[], Awaitable[_T]]) -> _T:
        """``await work()``, a psycopg error becoming a JournalError naming the journal.

        The JournalError is raised after the ``except`` block, so that neither its cause nor
        its context is the psycopg error (whose text or attributes may show the password)."""
        psycopg = self._psycopg()
        try:
            return await work()
        except psycopg.Error as exc:
            message = _message(exc)
        raise JournalError(self._shown, message)

    async def _connect(self) -> Any:
        import psycopg

        return await psycopg.AsyncConnection.connect(
            self._conninfo, autocommit=True, connect_timeout=int(self._connect_timeout)
        )

    async def _connection(self) -> Any:
        """The connection for marks and outcomes (each commit flushed to disk); the tables
        are created on first use."""
        if self._conn is not None:
            return self._conn
        conn = await self._guarded(self._connect)

        async def create_tables() -> None:
            async with conn.transaction():
                # Workers starting together must not race to create the tables.
                await conn.execute("SELECT pg_advisory_xact_lock(7243900011)")
                await conn.execute(_SCHEMA)

        try:
            await self._guarded(create_tables)
        except BaseException:
            with contextlib.suppress(Exception):
                await conn.close()
            raise
        self._conn = conn
        self._heartbeat = asyncio.create_task(self._renew(), name="journal-lease")
        return conn

    async def _claims(self) -> Any:
        """A second connection for claims, which need no disk flush: a claim the database
        loses in a crash makes the started mark that must follow it fail, and the function is
        then not called."""
        if self._claims_conn is None:
            await self._connection()
            conn = await self._guarded(self._connect)
            await self._guarded(lambda: conn.execute("SET synchronous_commit TO OFF"))
            self._claims_conn = conn
        return self._claims_conn

    def _serial(self) -> asyncio.Lock:
        if self._lock is None:
            self._lock = asyncio.Lock()
        return self._lock

    async def _execute(self, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Run one statement and return its rows once committed. Statements issued while a
        commit is under way wait for the next one and share it (group commit): one disk flush
        for many ``started`` marks and outcomes."""
        conn = await self._connection()
        future: asyncio.Future[list[tuple[Any, ...]]] = asyncio.get_running_loop().create_future()
        self._queue.append((query, params, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush(conn), name="journal-commit")
        return await future

    async def _flush(self, conn: Any) -> None:
        while self._queue:
            batch, self._queue = self._queue, []
            results: list[list[tuple[Any, ...]]] = []

            async def commit(batch: list[Any] = batch, results: list[Any] = results) -> None:
                async with self._serial():
                    async with conn.pipeline(), conn.transaction():  # one round trip
                        cursors = [await conn.execute(q, p) for q, p, _ in batch]
                    for cur in cursors:
                        rows = await cur.fetchall() if cur.description is not None else []
                        results.append(list(rows))

            try:
                await self._guarded(commit)
            except BaseException as exc:
                error = (
                    exc
                    if isinstance(exc, JournalError)
                    else JournalError(
                        self._shown, f"the journal's connection was closed ({type(exc).__name__})"
                    )
                )
                for *_, future in batch:
                    if not future.done():
                        future.set_exception(error)
                if not isinstance(exc, Exception):
                    raise
                continue
            for (*_, future), rows in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(rows)

    async def _renew(self) -> None:
        while True:
            await asyncio.sleep(self.lease / 3)
            try:
                await self._execute(
                    "UPDATE iqualify_journal_items SET lease_until = now() + make_interval("
                    "secs => %s) WHERE journal = %s AND owner = %s",
                    (self.lease, self.journal, self.owner),
                )
            except JournalError as exc:
                logger.warning("cannot renew the leases on journal items: %s", exc)

    async def aclose(self) -> None:
        """Stop renewing leases, let the last commit finish, and close the connection."""
        if self._flusher is not None:
            with contextlib.suppress(Exception):
                await self._flusher
            self._flusher = None
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._heartbeat
            self._heartbeat = None
        for name in ("_conn", "_claims_conn"):
            conn = getattr(self, name)
            setattr(self, name, None)
            if conn is not None:
                with contextlib.suppress(Exception):
                    await conn.close()

    # -- the store interface ----------------------------------------------------------------

    async def claim_job(self, job: str, *, reuse: bool) -> None:
        await self._execute(
            "INSERT INTO iqualify_journal_meta VALUES (%s, 'job', %s) ON CONFLICT DO NOTHING",
            (self.journal, job),
        )
        [(stored,)] = await self._execute(
            "SELECT value FROM iqualify_journal_meta WHERE journal = %s AND name = 'job'",
            (self.journal,),
        )
        if stored == job:
            return
        if not reuse:
            raise JournalMismatchError(self._shown, stored, job)
        await self._execute(
            "UPDATE iqualify_journal_meta SET value = %s WHERE journal = %s AND name = 'job'",
            (job, self.journal),
        )

    async def begin_run(self) -> int:
        [(run,)] = await self._execute(
            "INSERT INTO iqualify_journal_runs (journal, worker) VALUES (%s, %s) RETURNING id",
            (self.journal, self.owner),
        )
        return int(run)

    async def acquire(self, key: str, *, run: int, index: int) -> JournalEntry | Any | None:
        from .store import Busy

        conn = await self._claims()
        if self._claims_lock is None:
            self._claims_lock = asyncio.Lock()
        params = {
            "j": self.journal,
            "k": key,
            "run": run,
            "idx": index,
            "me": self.owner,
            "lease": self.lease,
        }
        claims_lock = self._claims_lock

        async def claim() -> Any:
            async with claims_lock:
                cur = await conn.execute(_CLAIM, params)
                return await cur.fetchone()

        row = await self._guarded(claim)
        assert row is not None
        inserted, took, rest = row[0], row[1], row[2:]
        if inserted:
            return None
        if rest[0] is None:
            return Busy("another worker")  # being claimed or written this very moment
        entry = _entry(rest[:8])
        if entry.done:
            return entry
        if not took:
            return Busy(str(rest[8]))
        return None if entry.status == PENDING else entry

    async def mark_started(self, key: str, *, run: int, index: int, item: Any) -> bool:
        held = await self._execute(
            "UPDATE iqualify_journal_items SET status = 'started', uncertain = true, run = %s,"
            " idx = %s, item = %s, updated_at = now(),"
            " lease_until = now() + make_interval(secs => %s)"
            " WHERE journal = %s AND key = %s AND owner = %s RETURNING 1",
            (run, index, json.dumps(jsonable(item)), self.lease, self.journal, key, self.owner),
        )
        return bool(held)

    async def mark_finished(
        self,
        key: str,
        status: Status,
        *,
        run: int,
        index: int,
        item: Any,
        reason: str | None,
        error: ErrorInfo | None,
        value: Any,
        uncertain: bool,
    ) -> None:
        error_json = None if error is None else json.dumps(error_data(error))
        value_json = None if value is None else json.dumps(jsonable(value))
        held = await self._execute(
            "UPDATE iqualify_journal_items SET status = %s, uncertain = %s, run = %s, idx = %s,"
            " item = %s, reason = %s, error = %s, value = %s, updated_at = now(),"
            " owner = NULL, lease_until = NULL"
            " WHERE journal = %s AND key = %s AND owner = %s RETURNING 1",
            (
                str(status),
                uncertain,
                run,
                index,
                json.dumps(jsonable(item)),
                reason,
                error_json,
                value_json,
                self.journal,
                key,
                self.owner,
            ),
        )
        if not held:
            logger.warning(
                "journal %s: item %s was taken over by another worker before its outcome (%s) "
                "could be recorded; that worker verifies it",
                self._shown,
                key,
                status,
            )

    async def end_run(self, run: int, summary: dict[str, Any]) -> None:
        await self._execute(
            "UPDATE iqualify_journal_runs SET finished_at = now(), summary = %s WHERE id = %s",
            (json.dumps(summary), run),
        )
        await self._execute(
            "UPDATE iqualify_journal_items SET owner = NULL, lease_until = NULL"
            " WHERE journal = %s AND owner = %s",
            (self.journal, self.owner),
        )

    async def close(self) -> None:
        await self.aclose()

    # -- reading ----------------------------------------------------------------------------

    async def rows(self) -> AsyncIterator[tuple[JournalEntry, Any]]:
        """Every item recorded, with the item itself (as JSON data), in input order."""
        conn = await self._connection()
        psycopg = self._psycopg()
        try:
            async with self._serial(), conn.transaction():
                async with conn.cursor(name=f"rows_{uuid.uuid4().hex[:8]}") as cur:
                    await cur.execute(
                        f"SELECT {_COLUMNS}, item FROM iqualify_journal_items"
                        " WHERE journal = %s ORDER BY idx, key",
                        (self.journal,),
                    )
                    async for row in cur:
                        yield _entry(row[:8]), row[8]
        except psycopg.Error as exc:
            message = _message(exc)
        else:
            return
        raise JournalError(self._shown, message)

    async def counts(self) -> dict[str, int]:
        """How many items are recorded in each status (``pending`` and ``started`` included)."""
        rows = await self._execute(
            "SELECT status, count(*) FROM iqualify_journal_items WHERE journal = %s"
            " GROUP BY status",
            (self.journal,),
        )
        return {str(status): int(n) for status, n in rows}


def _entry(row: tuple[Any, ...]) -> JournalEntry:
    key, status, uncertain, run, index, reason, error, value = row
    info = error_from_data(error)
    if status == PENDING:
        status, uncertain = PENDING, False
    elif status == STARTED:
        uncertain = True
    return JournalEntry(key, status, bool(uncertain), int(run), int(index), reason, info, value)
