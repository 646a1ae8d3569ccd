"""Bulk enrolment: people into offerings, batched, idempotent, every person accounted for.

Each job item is one :class:`Enrolment` (offering, person, role), so the engine's ledger,
journal and progress count people, while requests carry up to ``batch_size`` people each
(``POST /offerings/{offeringId}/users`` takes an array; every answer item is tied back to its
person). Each offering's members are read once per run, so people already enrolled end
``skipped``. After an answer that leaves a write uncertain (connection lost, 5xx, a 207 item
without a result) the offering's members are read again before anyone is re-sent.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Literal

import attrs

from .._multistatus import AddUserOutcome
from .._types import UNSET, Unset
from ..errors import APIConnectionError, APIError, NotFoundError, ServerError
from ..types.models import OfferingMember
from ..types.params import OfferingUserInput, UserMetadataInput
from .batcher import MicroBatcher
from .engine import Job, run
from .journal import Journal
from .outcome import Skipped
from .people import Person, people_from
from .progress import ProgressCallback

if TYPE_CHECKING:
    from .._client import Client

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "ROLES",
    "Enrolment",
    "EnrolmentError",
    "Role",
    "RoleConflictError",
    "check_role",
    "enrol",
    "enrol_many",
]

Role = Literal["learner", "facilitator", "marker"]
ROLES: tuple[Role, ...] = ("learner", "facilitator", "marker")

ENROLLED = "enrolled"
WOULD_ENROL = "would enrol"
WOULD_CREATE = "would create the user and enrol"
_MAX_SENDS = 6
DEFAULT_BATCH_SIZE = 50
"""People per ``POST /offerings/{offeringId}/users`` request unless told otherwise."""


@attrs.frozen
class Enrolment:
    """One person to enrol into one offering with one role (a bulk job item)."""

    offering_id: str
    person: Person
    role: Role = "learner"

    @property
    def email(self) -> str:
        return self.person.email

    def key(self) -> str:
        """Stable across runs: offering, lower-cased email and role."""
        return f"{self.offering_id}/{self.email.lower()}/{self.role}"

    def ledger_fields(self) -> dict[str, str | None]:
        """A ledger row's item columns: the offering, the role and the person as in a people
        CSV file, so the rows read back from a ledger are people the job takes again."""
        return {"offering_id": self.offering_id, "role": self.role, **self.person.row()}


class EnrolmentError(APIError):
    """The API refused one person of a batch (a 207 answer item); ``name``/``details`` say why."""


class RoleConflictError(Exception):
    """The person is already in the offering with another role (the API cannot change it)."""

    def __init__(self, email: str, held: Role, wanted: Role) -> None:
        super().__init__(
            f"{email} is already enrolled as {held}, not {wanted}; the API cannot change a "
            "role: remove them from the offering first, or enrol them with their role"
        )
        self.held = held
        self.wanted = wanted


def _role_of(member: OfferingMember) -> Role:
    if member.is_facilitator:
        return "facilitator"
    if member.is_marker:
        return "marker"
    return "learner"


class _Members:
    """Who is in one offering: read once, then again only after an uncertain write."""

    def __init__(self, iq: Client, offering_id: str) -> None:
        self._iq = iq
        self._offering_id = offering_id
        self.roles: dict[str, Role] = {}
        self._first: asyncio.Task[None] | None = None
        self._refresh: asyncio.Task[None] | None = None
        self._reads = 0  # number of the latest read started
        self._refresh_read = 0

    @property
    def reads(self) -> int:
        return self._reads

    async def _read(self) -> None:
        for member in await self._iq.offerings.users.list(self._offering_id):
            self.roles[member.email.lower()] = _role_of(member)

    async def known(self) -> dict[str, Role]:
        """The members as first read (a failed read is tried again by the next caller)."""
        if self._first is None or (self._first.done() and _transient(self._first)):
            self._reads += 1
            self._first = asyncio.ensure_future(self._read())
        await asyncio.shield(self._first)
        return self.roles

    async def fresh(self, after: int) -> dict[str, Role]:
        """Members read by a request started after read number ``after`` was started."""
        while True:
            task = self._refresh
            if task is not None and self._refresh_read > after:
                await asyncio.shield(task)
                return self.roles
            if task is not None and not task.done():
                await asyncio.wait([task])
                continue
            self._reads += 1
            self._refresh_read = self._reads
            self._refresh = asyncio.ensure_future(self._read())


def _transient(task: asyncio.Task[None]) -> bool:
    if task.cancelled():
        return True
    error = task.exception()
    return error is not None and not (isinstance(error, APIError) and error.status < 500)


class _Batcher:
    """Sends enrolments bound for the same offering together, on the shared
    :class:`~iqualify_async.bulk.batcher.MicroBatcher` (its split rule included): one
    ``POST /offerings/{offeringId}/users`` per batch, each person getting their answer item."""

    def __init__(self, iq: Client, *, batch_size: int, concurrency: int, send_invite: bool | None):
        self._iq = iq
        self._send_invite = send_invite
        self._batcher: MicroBatcher[Enrolment, AddUserOutcome] = MicroBatcher(
            self._send,
            size=batch_size,
            concurrency=concurrency,
            url=lambda offering_id: f"/offerings/{offering_id}/users",
        )

    async def add(self, item: Enrolment) -> AddUserOutcome:
        return await self._batcher.add(item.offering_id, item)

    def _input(self, item: Enrolment) -> OfferingUserInput:
        person = item.person

        def given(value: str | None) -> str | Unset:
            return UNSET if value is None else value

        return OfferingUserInput(
            email=person.email,
            first_name=given(person.first_name),
            last_name=given(person.last_name),
            person_id=given(person.person_id),
            metadata=UserMetadataInput(tags=person.tags) if person.tags else UNSET,
            is_facilitator=True if item.role == "facilitator" else UNSET,
            is_marker=True if item.role == "marker" else UNSET,
            send_invite=UNSET if self._send_invite is None else self._send_invite,
        )

    async def _send(self, offering_id: str, items: list[Enrolment]) -> Sequence[AddUserOutcome]:
        result = await self._iq.offerings.users.add(offering_id, [self._input(i) for i in items])
        return result.items


def _uncertain(exc: BaseException) -> bool:
    """Whether a failed write may have been applied (look before sending it again)."""
    return isinstance(exc, APIConnectionError | ServerError)


def _already(email: str, role: Role, wanted: Role) -> Skipped:
    if role != wanted:
        raise RoleConflictError(email, role, wanted)
    return Skipped("already enrolled")


class _Enroller:
    def __init__(
        self,
        iq: Client,
        *,
        create_missing_users: bool,
        dry_run: bool,
        batcher: _Batcher,
    ) -> None:
        self._iq = iq
        self._create = create_missing_users
        self._dry_run = dry_run
        self._batcher = batcher
        self._members: dict[str, _Members] = {}

    def members(self, offering_id: str) -> _Members:
        found = self._members.get(offering_id)
        if found is None:
            found = self._members[offering_id] = _Members(self._iq, offering_id)
        return found

    async def _user_exists(self, email: str) -> bool:
        try:
            await self._iq.users.get(email)
        except NotFoundError:
            return False
        return True

    async def enrol(self, item: Enrolment) -> str | Skipped:
        members = self.members(item.offering_id)
        role = (await members.known()).get(item.email.lower())
        if role is not None:
            return _already(item.email, role, item.role)
        if self._dry_run or not self._create:
            exists = await self._user_exists(item.email)
            if not exists and not self._create:
                raise LookupError(
                    f"no user {item.email}; pass create_missing_users=True to create it"
                )
            if self._dry_run:
                return WOULD_ENROL if exists else WOULD_CREATE
        sends = 0
        while True:
            sends += 1
            try:
                outcome = await self._batcher.add(item)
            except APIError as exc:
                if exc.name == "ObjectExistsError":
                    return Skipped("already enrolled")
                if not _uncertain(exc) or sends >= _MAX_SENDS:
                    raise
            except APIConnectionError:
                if sends >= _MAX_SENDS:
                    raise
            else:
                if outcome.status == "succeeded":
                    members.roles[item.email.lower()] = item.role
                    return ENROLLED
                error = outcome.error
                if outcome.status == "failed" and error is not None:
                    if error.name == "ObjectExistsError":
                        return Skipped("already enrolled")
                    raise EnrolmentError(
                        207,
                        name=error.name,
                        details=error.details,
                        body=error.raw,
                        method="POST",
                        url=f"/offerings/{item.offering_id}/users",
                    )
                if sends >= _MAX_SENDS:
                    raise EnrolmentError(
                        207, details="the API gave no result for this person", method="POST"
                    )
            # The write may have been applied: look (with a read started from now on) before
            # sending it again.
            if item.email.lower() in await members.fresh(members.reads):
                return ENROLLED

    async def verify(self, item: Enrolment) -> str | bool:
        """For the engine: whether an interrupted enrolment was in fact applied."""
        members = self.members(item.offering_id)
        return ENROLLED if item.email.lower() in await members.fresh(members.reads) else False


def check_role(role: str) -> Role:
    """``role`` as a :data:`Role`; ``ValueError`` naming the choices otherwise."""
    for known in ROLES:
        if role == known:
            return known
    raise ValueError(f"role must be one of {', '.join(ROLES)}, not {role!r}")


def _positive(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer, not {value!r}")
    return value


def enrol_many(
    iq: Client,
    offering_ids: Sequence[str],
    people: Iterable[object],
    *,
    role: Role = "learner",
    create_missing_users: bool = True,
    send_invite: bool | None = None,
    dry_run: bool = False,
    concurrency: int = 10,
    batch_size: int = DEFAULT_BATCH_SIZE,
    journal: Journal | str | os.PathLike[str] | None = None,
    reuse_journal: bool = False,
    on_progress: ProgressCallback | None = None,
    max_failures: int | None = None,
    max_failure_rate: float | None = None,
) -> Job[Enrolment, str]:
    """Enrol every person into every offering; returns the bulk :class:`Job` (not yet started).

    ``await job`` runs it and returns the :class:`Summary`; ``async for outcome in job`` streams
    one :class:`Outcome` per (offering, person) with the :class:`Enrolment` as its item;
    ``await job.wait(ledger="out.csv")`` also writes the ledger.

    ``people``: emails, mappings (``email``, ``firstName``/``first_name``, ``lastName``,
    ``personId``, ``tags``), :class:`Person` or ``OfferingUserInput`` objects. They are all
    checked now: :class:`PeopleError` lists every bad entry and nothing is sent.

    Outcomes: ``succeeded`` with value ``"enrolled"``; ``skipped`` ("already enrolled");
    ``failed`` with the API's error for that person, or :class:`RoleConflictError` naming both
    roles when the person is already in the offering with another role (the API has no role
    change, so that is left for you to decide). Users that do not exist are created by the enrolment itself; with
    ``create_missing_users=False`` they fail instead. ``send_invite`` is sent when given.
    ``dry_run=True`` writes nothing: people who would be enrolled end ``succeeded`` with value
    ``"would enrol"`` or ``"would create the user and enrol"``.

    ``concurrency`` bounds the requests in flight and ``batch_size`` the people per request.
    With ``journal``, a re-run redoes nothing recorded as done, and people whose request was
    interrupted are looked up in the offering before being sent again. A journal written by
    another kind of job is refused (:class:`~iqualify_async.bulk.JournalMismatchError`) unless ``reuse_journal``.
    """
    wanted = check_role(role)
    _positive("concurrency", concurrency)
    _positive("batch_size", batch_size)
    if isinstance(offering_ids, str):
        raise TypeError("offering_ids must be a list of offering ids; use enrol() for one")
    ids = list(dict.fromkeys(offering_ids))
    if not ids or not all(isinstance(o, str) and o for o in ids):
        raise ValueError("offering_ids must be a non-empty list of offering ids")
    checked = people_from(people)
    items = [Enrolment(o, p, wanted) for o in ids for p in checked]
    batcher = _Batcher(
        iq,
        batch_size=1 if dry_run else batch_size,
        concurrency=concurrency,
        send_invite=send_invite,
    )
    enroller = _Enroller(
        iq, create_missing_users=create_missing_users, dry_run=dry_run, batcher=batcher
    )
    fn: Callable[[Enrolment], Awaitable[str | Skipped]] = enroller.enrol
    return run(
        fn,
        items,
        concurrency=concurrency if dry_run else concurrency * batch_size,
        key=Enrolment.key,
        journal=None if dry_run else journal,
        # Keys name the offering and role, so one journal serves enrolments into any offerings.
        name="enrol",
        reuse_journal=reuse_journal,
        verify=enroller.verify,
        on_progress=on_progress,
        max_failures=max_failures,
        max_failure_rate=max_failure_rate,
    )


def enrol(
    iq: Client,
    offering_id: str,
    people: Iterable[object],
    *,
    role: Role = "learner",
    create_missing_users: bool = True,
    send_invite: bool | None = None,
    dry_run: bool = False,
    concurrency: int = 10,
    batch_size: int = DEFAULT_BATCH_SIZE,
    journal: Journal | str | os.PathLike[str] | None = None,
    reuse_journal: bool = False,
    on_progress: ProgressCallback | None = None,
    max_failures: int | None = None,
    max_failure_rate: float | None = None,
) -> Job[Enrolment, str]:
    """Enrol ``people`` into one offering; see :func:`enrol_many` for everything else."""
    if not isinstance(offering_id, str) or not offering_id:
        raise ValueError(f"offering_id must be a non-empty string, not {offering_id!r}")
    return enrol_many(
        iq,
        [offering_id],
        people,
        role=role,
        create_missing_users=create_missing_users,
        send_invite=send_invite,
        dry_run=dry_run,
        concurrency=concurrency,
        batch_size=batch_size,
        journal=journal,
        reuse_journal=reuse_journal,
        on_progress=on_progress,
        max_failures=max_failures,
        max_failure_rate=max_failure_rate,
    )
