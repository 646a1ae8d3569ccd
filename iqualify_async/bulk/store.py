"""The one interface a bulk job uses to talk to its journal, whichever store holds it.

``journal=`` chooses the store by its value: a :class:`~.journal.Journal` or a path is the
SQLite journal (one writer at a time); a :class:`~.journal_pg.PostgresJournal` or a
``postgresql://`` URL is the PostgreSQL journal, which several workers may share. Both keep
the same promises: a ``started`` mark durable before each call, the outcome after it, and an
item that may have been applied verified before anything is sent again.
"""

from __future__ import annotations

import os
from typing import Any, Protocol

import attrs

from .journal import Journal, JournalEntry
from .outcome import ErrorInfo, Status

__all__ = ["Busy", "JournalStore", "SQLiteStore", "is_postgres_url", "open_store"]


@attrs.frozen
class Busy:
    """The item is claimed by another live worker (its lease has not expired)."""

    owner: str


class JournalStore(Protocol):
    """What the engine needs from a journal."""

    @property
    def name(self) -> str:
        """The file or the database named in messages (never with a password)."""

    async def claim_job(self, job: str, *, reuse: bool) -> None: ...

    async def begin_run(self) -> int: ...

    async def acquire(self, key: str, *, run: int, index: int) -> JournalEntry | Busy | None:
        """What the journal knows of ``key``, the item now held by this worker; or
        :class:`Busy` when another worker holds it."""

    async def mark_started(self, key: str, *, run: int, index: int, item: Any) -> bool:
        """Make the ``started`` mark durable; ``False`` when this worker no longer holds the
        item (its function must then not be called)."""

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
    ) -> None: ...

    async def end_run(self, run: int, summary: dict[str, Any]) -> None: ...

    async def close(self) -> None: ...


class SQLiteStore:
    """The SQLite :class:`Journal` behind the store interface (its calls never suspend)."""

    def __init__(self, journal: Journal) -> None:
        self.journal = journal

    @property
    def name(self) -> str:
        return self.journal.path

    async def claim_job(self, job: str, *, reuse: bool) -> None:
        self.journal.claim(job, reuse=reuse)

    async def begin_run(self) -> int:
        return self.journal.begin_run()

    async def acquire(self, key: str, *, run: int, index: int) -> JournalEntry | Busy | None:
        return self.journal.get(key)

    async def mark_started(self, key: str, *, run: int, index: int, item: Any) -> bool:
        self.journal.mark_started(key, run=run, index=index)
        return True

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
        self.journal.mark_finished(
            key,
            status,
            run=run,
            index=index,
            reason=reason,
            error=error,
            value=value,
            item=item,
            uncertain=uncertain,
            commit=False,
        )

    async def end_run(self, run: int, summary: dict[str, Any]) -> None:
        self.journal.end_run(run, summary)

    async def close(self) -> None:
        self.journal.close()


def is_postgres_url(value: object) -> bool:
    return isinstance(value, str) and value.startswith(("postgresql://", "postgres://"))


def open_store(journal: object) -> tuple[JournalStore, bool]:
    """The store for a ``journal=`` value, and whether the job owns it (opened it, so closes it).

    A path is opened now; a ``postgresql://`` URL is connected to on first use.
    """
    from .journal_pg import PostgresJournal

    if isinstance(journal, Journal):
        return SQLiteStore(journal), False
    if isinstance(journal, PostgresJournal):
        return journal, False
    if is_postgres_url(journal):
        assert isinstance(journal, str)
        return PostgresJournal(journal), True
    if isinstance(journal, str | os.PathLike):
        return SQLiteStore(Journal(journal)), True
    raise TypeError(
        "journal must be a path, a postgresql:// URL, a Journal or a PostgresJournal, "
        f"not {type(journal).__name__}"
    )
