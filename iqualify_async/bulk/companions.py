"""Thin bulk helpers beside enrolment: one job item per person, every person accounted for.

Each returns a :class:`Job` (``await`` it for the :class:`Summary`, iterate it for outcomes).
Answers saying the person is already in the wanted state end ``skipped``; a write that may
have been applied is checked by reading the state back before it is sent again.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ..errors import APIError
from .engine import Job, run
from .journal import Journal
from .outcome import Skip
from .people import people_from
from .progress import ProgressCallback

if TYPE_CHECKING:
    from .._client import Client

__all__ = [
    "add_to_channel",
    "add_to_group",
    "assign_to_marker",
    "remove_from_offering",
    "transfer",
]

JournalArg = Journal | str | os.PathLike[str] | None


def _emails(people: Iterable[object]) -> list[str]:
    return [p.email for p in people_from(people)]


def _emails_in(rows: Any) -> set[str]:
    found = set()
    for row in rows or ():
        email = row.get("email") if isinstance(row, Mapping) else row
        if isinstance(email, str):
            found.add(email.lower())
    return found


def _job(
    write: Callable[[str], Awaitable[object]],
    emails: list[str],
    *,
    done_when: str,
    done_reason: str,
    members: Callable[[], Awaitable[Any]] | None,
    wanted_present: bool,
    concurrency: int,
    journal: JournalArg,
    on_progress: ProgressCallback | None,
    max_failures: int | None,
) -> Job[str, str]:
    async def one(email: str) -> str:
        try:
            await write(email)
        except APIError as exc:
            if exc.name == done_when:
                raise Skip(done_reason) from None
            raise
        return "done"

    verify = None
    if members is not None:
        list_members = members

        async def check(email: str) -> str | bool:
            present = email.lower() in _emails_in(await list_members())
            return "done" if present == wanted_present else False

        verify = check
    return run(
        one,
        emails,
        concurrency=concurrency,
        key=str.lower,
        journal=journal,
        verify=verify,
        on_progress=on_progress,
        max_failures=max_failures,
    )


def remove_from_offering(
    iq: Client,
    offering_id: str,
    people: Iterable[object],
    *,
    concurrency: int = 10,
    journal: JournalArg = None,
    on_progress: ProgressCallback | None = None,
    max_failures: int | None = None,
) -> Job[str, str]:
    """Remove each person from the offering; people not in it end ``skipped``."""

    async def remove(email: str) -> None:
        await iq.offerings.users.remove(offering_id, email)

    return _job(
        remove,
        _emails(people),
        done_when="UserNotInOfferingError",
        done_reason="not in the offering",
        members=lambda: iq.offerings.users.list(offering_id),
        wanted_present=False,
        concurrency=concurrency,
        journal=journal,
        on_progress=on_progress,
        max_failures=max_failures,
    )


def add_to_group(
    iq: Client,
    offering_id: str,
    group_id: str,
    people: Iterable[object],
    *,
    concurrency: int = 10,
    journal: JournalArg = None,
    on_progress: ProgressCallback | None = None,
    max_failures: int | None = None,
) -> Job[str, str]:
    """Add each learner to an assessment group; learners already in it end ``skipped``."""

    async def add(email: str) -> None:
        await iq.offerings.groups.add_learner(offering_id, group_id, email=email)

    return _job(
        add,
        _emails(people),
        done_when="ObjectExistsError",
        done_reason="already in the group",
        members=lambda: iq.offerings.groups.list_learners(offering_id, group_id),
        wanted_present=True,
        concurrency=concurrency,
        journal=journal,
        on_progress=on_progress,
        max_failures=max_failures,
    )


def add_to_channel(
    iq: Client,
    offering_id: str,
    channel_id: str,
    people: Iterable[object],
    *,
    concurrency: int = 10,
    journal: JournalArg = None,
    on_progress: ProgressCallback | None = None,
    max_failures: int | None = None,
) -> Job[str, str]:
    """Add each learner to a group channel; learners already in it end ``skipped``."""

    async def add(email: str) -> None:
        await iq.offerings.channels.add_learner(offering_id, channel_id, email=email)

    return _job(
        add,
        _emails(people),
        done_when="ObjectExistsError",
        done_reason="already in the channel",
        members=lambda: iq.offerings.channels.list_learners(offering_id, channel_id),
        wanted_present=True,
        concurrency=concurrency,
        journal=journal,
        on_progress=on_progress,
        max_failures=max_failures,
    )


def assign_to_marker(
    iq: Client,
    offering_id: str,
    marker_email: str,
    learners: Iterable[object],
    *,
    concurrency: int = 10,
    journal: JournalArg = None,
    on_progress: ProgressCallback | None = None,
    max_failures: int | None = None,
) -> Job[str, str]:
    """Put each learner on the marker's list (adding twice is harmless: the list is a set)."""

    async def assign(email: str) -> None:
        await iq.offerings.markers.add_learners(offering_id, marker_email, [email])

    return _job(
        assign,
        _emails(learners),
        done_when="ObjectExistsError",
        done_reason="already assigned",
        members=lambda: iq.offerings.markers.list_learners(offering_id, marker_email),
        wanted_present=True,
        concurrency=concurrency,
        journal=journal,
        on_progress=on_progress,
        max_failures=max_failures,
    )


def transfer(
    iq: Client,
    from_offering_id: str,
    to_offering_id: str,
    people: Iterable[object],
    *,
    send_invite: bool | None = None,
    concurrency: int = 10,
    journal: JournalArg = None,
    on_progress: ProgressCallback | None = None,
    max_failures: int | None = None,
) -> Job[str, str]:
    """Move each learner from one offering to another (same course content); learners already
    in the target offering end ``skipped``."""

    async def move(email: str) -> None:
        if send_invite is None:
            await iq.users.transfer(
                email, from_offering_id=from_offering_id, to_offering_id=to_offering_id
            )
        else:
            await iq.users.transfer(
                email,
                from_offering_id=from_offering_id,
                to_offering_id=to_offering_id,
                send_invite=send_invite,
            )

    return _job(
        move,
        _emails(people),
        done_when="ObjectExistsError",
        done_reason="already in the target offering",
        members=lambda: iq.offerings.users.list(to_offering_id),
        wanted_present=True,
        concurrency=concurrency,
        journal=journal,
        on_progress=on_progress,
        max_failures=max_failures,
    )
