"""The ledger of a job from its journal: one row per item recorded, whichever worker did it."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Collection
from typing import IO, Any

from .errors import JournalError
from .journal import STARTED, Journal, JournalEntry
from .journal_pg import PENDING, PostgresJournal
from .ledger import Format, LedgerWriter
from .outcome import Outcome, Status
from .store import is_postgres_url

__all__ = ["journal_outcomes", "ledger_from_journal"]

_NOT_FINISHED = {
    STARTED: "started but not confirmed: a re-run verifies it",
    PENDING: "claimed but never started",
}


_ENROLMENT_FIELDS = frozenset({"offering_id", "person", "role"})
_PERSON_FIELDS = frozenset({"email", "first_name", "last_name", "person_id", "tags", "extra"})


def _person(data: Any, *, every_field: bool) -> Any:
    """A person as a journal recorded it (JSON data), rebuilt; ``None`` when it is not one
    (with ``every_field``, data holding other fields than exactly a person's is not one)."""
    if not (isinstance(data, dict) and isinstance(data.get("email"), str)):
        return None
    if every_field and set(data) != _PERSON_FIELDS:
        return None
    from .people import Person

    extra = data.get("extra")
    return Person(
        data["email"],
        data.get("first_name"),
        data.get("last_name"),
        data.get("person_id"),
        tuple(data.get("tags") or ()),
        extra=extra if isinstance(extra, dict) else {},
    )


def _item(data: Any) -> Any:
    """The item a journal recorded as JSON data, rebuilt as the job's item type where the data
    is an enrolment's or a person's (the items of the companion jobs), so that its ledger row is
    a person in people-file columns."""
    person = _person(data, every_field=True)
    if person is not None:
        return person
    if not (isinstance(data, dict) and set(data) == _ENROLMENT_FIELDS):
        return data
    person = _person(data["person"], every_field=False)
    if person is None:
        return data
    from .enrol import Enrolment

    return Enrolment(str(data["offering_id"]), person, data["role"])


def _outcome(entry: JournalEntry, data: Any) -> Outcome[Any, Any]:
    item = _item(data)
    if entry.status in _NOT_FINISHED:
        return Outcome(
            entry.index, entry.key, item, Status.UNPROCESSED, reason=_NOT_FINISHED[entry.status]
        )
    return Outcome(
        entry.index,
        entry.key,
        item,
        Status(entry.status),
        value=entry.value,
        reason=entry.reason,
        error=entry.error,
    )


def _existing(journal: Journal | str | os.PathLike[str]) -> Journal:
    if isinstance(journal, Journal):
        return journal
    if not os.path.isfile(journal):
        raise JournalError(os.fspath(journal), "there is no journal at this path")
    return Journal(journal)


async def journal_outcomes(
    journal: Journal | PostgresJournal | str | os.PathLike[str],
) -> AsyncIterator[Outcome[Any, Any]]:
    """The outcome of every item a journal records, in input order, items as JSON data
    (enrolments as :class:`~iqualify_async.bulk.Enrolment`, written to a ledger as people).

    Items started but not confirmed, or claimed and never started, are ``unprocessed``.
    """
    if isinstance(journal, PostgresJournal) or is_postgres_url(journal):
        pg = journal if isinstance(journal, PostgresJournal) else PostgresJournal(str(journal))
        try:
            async for entry, item in pg.rows():
                yield _outcome(entry, item)
        finally:
            if pg is not journal:
                await pg.aclose()
        return
    sqlite = _existing(journal)
    try:
        for entry, item in sqlite.rows():
            yield _outcome(entry, item)
    finally:
        if sqlite is not journal:
            sqlite.close()


async def ledger_from_journal(
    journal: Journal | PostgresJournal | str | os.PathLike[str],
    path: str | os.PathLike[str] | IO[str],
    *,
    format: Format | None = None,
    statuses: Collection[Status | str] | None = None,
) -> int:
    """Write the ledger of the job a journal records (e.g. one run by several workers) to
    ``path`` (CSV or JSONL, as :class:`LedgerWriter`); returns the number of rows written."""
    with LedgerWriter(path, format=format, statuses=statuses) as writer:
        async for outcome in journal_outcomes(journal):
            writer.write(outcome)
        return writer.rows
