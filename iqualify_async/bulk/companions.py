"""Thin bulk helpers beside enrolment: one job item per person, every person accounted for.

Each returns a :class:`Job` (``await`` it for the :class:`Summary`, iterate it for outcomes)
whose items are :class:`~iqualify_async.bulk.Person` objects (``people`` may be emails, mappings
or people), so a ledger of the job lists each person in the columns of a people file, their
other columns included, and can be given back as the people of the same job.
With ``journal=``, an item's key and the job's name hold the operation and its target (e.g.
``add_to_group/<offering>/<group>/<email>``): a journal used by one job is refused by a job with
another target (:class:`~iqualify_async.bulk.JournalMismatchError`) unless ``reuse_journal=True``.
Answers saying the person is already in the wanted state end ``skipped``; ``dry_run=True``
sends no write: the members are read once and each person ends ``skipped`` (already in the
wanted state) or ``succeeded`` with the value ``"would do"``; a write that may
have been applied is checked by reading the state back before it is sent again. Where the API
takes a list (a marker's learners), people arriving together share one request.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Protocol

from .._types import UNSET, Unset
from ..errors import APIError
from .batcher import MicroBatcher
from .engine import Job, run
from .journal import Journal
from .outcome import Skip
from .people import Person, people_from
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
DEFAULT_BATCH_SIZE = 50


class _HasEmail(Protocol):
    @property
    def email(self) -> str: ...


async def _emails_in(rows: Awaitable[Sequence[_HasEmail]]) -> set[str]:
    return {row.email.lower() for row in await rows}


async def _channel_learners(iq: Client, offering_id: str, channel_id: str) -> set[str]:
    channel = await iq.offerings.channels.get_with_learners(offering_id, channel_id)
    return {email.lower() for email in channel.learners or ()}


def _job(
    write: Callable[[str], Awaitable[object]],
    people: list[Person],
    *,
    operation: str,
    target: Mapping[str, str],
    done_when: str,
    done_reason: str,
    members: Callable[[], Awaitable[set[str]]] | None,
    wanted_present: bool,
    concurrency: int,
    journal: JournalArg,
    reuse_journal: bool,
    on_progress: ProgressCallback | None,
    max_failures: int | None,
    dry_run: bool = False,
) -> Job[Person, str]:
    if dry_run:
        return _dry_run(
            people,
            operation=operation,
            done_reason=done_reason,
            members=members,
            wanted_present=wanted_present,
            concurrency=concurrency,
            on_progress=on_progress,
        )

    async def one(person: Person) -> str:
        try:
            await write(person.email)
        except APIError as exc:
            if exc.name != done_when:
                raise
        else:
            return "done"
        raise Skip(done_reason)  # outside the ``except``: the API error is not chained to it

    verify = None
    if members is not None:
        list_members = members

        async def check(person: Person) -> str | bool:
            present = person.email.lower() in await list_members()
            return "done" if present == wanted_present else False

        verify = check

    # Keys and the job's name carry the operation and its target, so a journal shared by two
    # jobs never passes one job's work off as the other's. A person's key is their lower-cased
    # email, as when the items were emails.
    prefix = "/".join([operation, *target.values()])

    def key(person: Person) -> str:
        return f"{prefix}/{person.email.lower()}"

    return run(
        one,
        people,
        concurrency=concurrency,
        key=key,
        journal=journal,
        name=" ".join([operation, *(f"{k}={v}" for k, v in target.items())]),
        reuse_journal=reuse_journal,
        verify=verify,
        on_progress=on_progress,
        max_failures=max_failures,
    )


WOULD_DO = "would do"
"""A dry run's value for a person whose write would be sent."""


def _dry_run(
    people: list[Person],
    *,
    operation: str,
    done_reason: str,
    members: Callable[[], Awaitable[set[str]]] | None,
    wanted_present: bool,
    concurrency: int,
    on_progress: ProgressCallback | None,
) -> Job[Person, str]:
    """Read the members once and say, per person, whether the write would be sent."""
    listed: asyncio.Future[set[str]] | None = None

    async def look(person: Person) -> str:
        nonlocal listed
        if members is None:
            return WOULD_DO
        if listed is None:
            listed = asyncio.ensure_future(members())
        if (person.email.lower() in await asyncio.shield(listed)) == wanted_present:
            raise Skip(done_reason)
        return WOULD_DO

    return run(
        look,
        people,
        concurrency=concurrency,
        key=lambda p: f"{operation}/{p.email.lower()}",
        on_progress=on_progress,
    )


def remove_from_offering(
    iq: Client,
    offering_id: str,
    people: Iterable[object],
    *,
    concurrency: int = 10,
    journal: JournalArg = None,
    reuse_journal: bool = False,
    on_progress: ProgressCallback | None = None,
    max_failures: int | None = None,
    dry_run: bool = False,
) -> Job[Person, str]:
    """Remove each person from the offering; people not in it end ``skipped``."""

    async def remove(email: str) -> None:
        await iq.offerings.users.remove(offering_id, email)

    return _job(
        remove,
        people_from(people),
        operation="remove_from_offering",
        target={"offering": offering_id},
        done_when="UserNotInOfferingError",
        done_reason="not in the offering",
        members=lambda: _emails_in(iq.offerings.users.list(offering_id)),
        wanted_present=False,
        concurrency=concurrency,
        journal=journal,
        reuse_journal=reuse_journal,
        on_progress=on_progress,
        max_failures=max_failures,
        dry_run=dry_run,
    )


def add_to_group(
    iq: Client,
    offering_id: str,
    group_id: str,
    people: Iterable[object],
    *,
    concurrency: int = 10,
    journal: JournalArg = None,
    reuse_journal: bool = False,
    on_progress: ProgressCallback | None = None,
    max_failures: int | None = None,
    dry_run: bool = False,
) -> Job[Person, str]:
    """Add each learner to an assessment group; learners already in it end ``skipped``."""

    async def add(email: str) -> None:
        await iq.offerings.groups.add_learner(offering_id, group_id, email=email)

    return _job(
        add,
        people_from(people),
        done_when="ObjectExistsError",
        done_reason="already in the group",
        operation="add_to_group",
        target={"offering": offering_id, "group": group_id},
        members=lambda: _emails_in(iq.offerings.groups.list_learners(offering_id, group_id)),
        wanted_present=True,
        concurrency=concurrency,
        journal=journal,
        reuse_journal=reuse_journal,
        on_progress=on_progress,
        max_failures=max_failures,
        dry_run=dry_run,
    )


def add_to_channel(
    iq: Client,
    offering_id: str,
    channel_id: str,
    people: Iterable[object],
    *,
    concurrency: int = 10,
    journal: JournalArg = None,
    reuse_journal: bool = False,
    on_progress: ProgressCallback | None = None,
    max_failures: int | None = None,
    dry_run: bool = False,
) -> Job[Person, str]:
    """Add each learner to a group channel; learners already in it end ``skipped``."""

    async def add(email: str) -> None:
        await iq.offerings.channels.add_learner(offering_id, channel_id, email=email)

    return _job(
        add,
        people_from(people),
        done_when="ObjectExistsError",
        done_reason="already in the channel",
        operation="add_to_channel",
        target={"offering": offering_id, "channel": channel_id},
        members=lambda: _channel_learners(iq, offering_id, channel_id),
        wanted_present=True,
        concurrency=concurrency,
        journal=journal,
        reuse_journal=reuse_journal,
        on_progress=on_progress,
        max_failures=max_failures,
        dry_run=dry_run,
    )


def _marker_batcher(
    iq: Client, offering_id: str, marker_email: str, batch_size: int, concurrency: int
) -> MicroBatcher[str, None]:
    """Learners' emails put on a marker's list together, one request per batch."""

    async def assign(_: str, emails: list[str]) -> list[None]:
        await iq.offerings.markers.add_learners(offering_id, marker_email, emails)
        return [None] * len(emails)

    return MicroBatcher(
        assign,
        size=batch_size,
        concurrency=concurrency,
        url=lambda _: f"/offerings/{offering_id}/users/{marker_email}/marks",
    )


def assign_to_marker(
    iq: Client,
    offering_id: str,
    marker_email: str,
    learners: Iterable[object],
    *,
    concurrency: int = 10,
    batch_size: int = DEFAULT_BATCH_SIZE,
    journal: JournalArg = None,
    reuse_journal: bool = False,
    on_progress: ProgressCallback | None = None,
    max_failures: int | None = None,
    dry_run: bool = False,
) -> Job[Person, str]:
    """Put each learner on the marker's list (adding twice is harmless: the list is a set).

    Up to ``batch_size`` learners go in one request, ``concurrency`` requests at a time, on the
    micro-batcher enrolment uses (:mod:`iqualify_async.bulk.batcher`): a batch refused as a whole
    is sent again learner by learner, so a learner the API refuses is reported failed with its
    own error.
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, not {batch_size!r}")
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise ValueError(f"concurrency must be a positive integer, not {concurrency!r}")

    batcher = _marker_batcher(iq, offering_id, marker_email, batch_size, concurrency)

    async def add(email: str) -> None:
        await batcher.add("", email)

    return _job(
        add,
        people_from(learners),
        done_when="ObjectExistsError",
        done_reason="already assigned",
        operation="assign_to_marker",
        target={"offering": offering_id, "marker": marker_email.lower()},
        members=lambda: _emails_in(iq.offerings.markers.list_learners(offering_id, marker_email)),
        wanted_present=True,
        concurrency=concurrency * batch_size,
        journal=journal,
        reuse_journal=reuse_journal,
        on_progress=on_progress,
        max_failures=max_failures,
        dry_run=dry_run,
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
    reuse_journal: bool = False,
    on_progress: ProgressCallback | None = None,
    max_failures: int | None = None,
    dry_run: bool = False,
) -> Job[Person, str]:
    """Move each learner from one offering to another (same course content); learners already
    in the target offering end ``skipped``."""

    invite: bool | Unset = UNSET if send_invite is None else send_invite

    async def move(email: str) -> None:
        await iq.users.transfer(
            email,
            from_offering_id=from_offering_id,
            to_offering_id=to_offering_id,
            send_invite=invite,
        )

    return _job(
        move,
        people_from(people),
        done_when="ObjectExistsError",
        done_reason="already in the target offering",
        operation="transfer",
        target={"from": from_offering_id, "to": to_offering_id},
        members=lambda: _emails_in(iq.offerings.users.list(to_offering_id)),
        wanted_present=True,
        concurrency=concurrency,
        journal=journal,
        reuse_journal=reuse_journal,
        on_progress=on_progress,
        max_failures=max_failures,
        dry_run=dry_run,
    )
