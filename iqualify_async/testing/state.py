"""In-memory organisation held by the fake server: the objects and the rules that change them."""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .._converter import parse_datetime
from .errors import FakeAPIError, bad_request, not_found

ROLE_LEARNER = "learner"
ROLE_FACILITATOR = "facilitator"
ROLE_MARKER = "marker"
USER_PERMISSIONS = ("builder", "manager", "insights", "userAdmin")
DAY_SECONDS = 86_400.0


def iso(ts: float) -> str:
    """Epoch seconds as an RFC 3339 UTC timestamp with millisecond precision."""
    moment = datetime.fromtimestamp(ts, UTC)
    # The year by hand: strftime("%Y") does not pad years before 1000 to four digits.
    return (
        f"{moment.year:04d}" + moment.strftime("-%m-%dT%H:%M:%S.") + f"{int(ts * 1000) % 1000:03d}Z"
    )


def parse_iso(value: str) -> float:
    """Epoch seconds of an RFC 3339 date-time (a leap second reads as the next second)."""
    return parse_datetime(value).timestamp()


def canonical(value: str) -> str:
    """A validated RFC 3339 timestamp in the server's own form (UTC, milliseconds)."""
    return iso(parse_iso(value))


def stable_int(*parts: object) -> int:
    """A 64-bit integer that depends only on ``parts`` (same input, same number, every run)."""
    digest = hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


@dataclass(slots=True)
class User:
    id: str
    email: str
    first_name: str | None = None
    last_name: str | None = None
    person_id: str | None = None
    display_name: str | None = None
    mobile: str | None = None
    tags: list[str] = field(default_factory=list)
    first_access_at: str | None = None
    last_access_at: str | None = None
    suspended: bool = False
    permissions: list[str] = field(default_factory=list)
    invite_url: str | None = None
    invites_sent: int = 0

    @property
    def key(self) -> str:
        return self.email.lower()


@dataclass(slots=True)
class Course:
    id: str
    root_content_id: str
    name: str
    created_at: str
    cover_image_url: str
    tasks_enabled: bool = False
    category: str | None = None
    topic: str | None = None
    level: str | None = None
    tags: list[str] = field(default_factory=list)
    learning_outcomes: list[dict[str, str]] = field(default_factory=list)
    permissions: dict[str, tuple[bool, bool]] = field(
        default_factory=dict
    )  # email -> (builder, reviewer)


@dataclass(slots=True)
class Enrolment:
    email: str
    is_facilitator: bool = False
    is_marker: bool = False
    is_readonly: bool = False
    enrolled_at: str = ""
    completion: int = 0

    @property
    def is_learner(self) -> bool:
        return not (self.is_facilitator or self.is_marker)


@dataclass(slots=True)
class Group:
    id: str
    title: str
    created_at: str
    learners: dict[str, None] = field(default_factory=dict)


@dataclass(slots=True)
class Channel:
    id: str
    title: str
    is_broadcast_only: bool = False
    private_support: bool = False
    group_discussion: bool = False
    auto_assign: bool = False
    learners: dict[str, None] = field(default_factory=dict)


@dataclass(slots=True)
class Assessment:
    id: str
    title: str
    type: str  # "assignment" | "quiz" | "openresponse"
    content: str
    points: str
    open_date: str | None
    due_date: str | None
    mark_type: str = "percentage"
    mark_number: str = "100"
    hidden: bool = False
    max_attempts: int = 1
    duration_minutes: int = 0
    total_questions: int = 0
    documents: list[dict[str, Any]] = field(default_factory=list)


@dataclass(slots=True)
class Pulse:
    base_id: str
    instance_id: str
    question: str
    type: str
    run_start: str
    duration_minutes: int


@dataclass(slots=True)
class Offering:
    id: str
    content_id: str
    root_content_id: str
    start: str
    end: str | None
    name: str | None = None
    identifier: str | None = None
    description: str | None = None
    overview: str | None = None
    info: str = ""
    use_relative_dates: bool = False
    cover_image_url: str | None = None
    trailer_video_url: str | None = None
    is_readonly: bool = False
    has_early_close_off: bool = False
    early_close_off_date: str | None = None
    enrollment_limit: float | None = None
    price: float | None = None
    currency: str | None = None
    allow_enrollment: bool = True
    tasks_enabled: bool = False
    settings: dict[str, bool] = field(default_factory=dict)
    category: str | None = None
    topic: str | None = None
    level: str | None = None
    tags: list[str] = field(default_factory=list)
    badge: dict[str, Any] | None = None
    hidden_page_ids: list[str] = field(default_factory=list)
    enrolments: dict[str, Enrolment] = field(default_factory=dict)  # user key -> enrolment
    marking: dict[str, dict[str, None]] = field(default_factory=dict)  # marker key -> learner keys
    groups: dict[str, Group] = field(default_factory=dict)
    channels: dict[str, Channel] = field(default_factory=dict)
    assessments: dict[str, Assessment] = field(default_factory=dict)
    pulses: list[Pulse] = field(default_factory=list)
    pages: list[str] = field(default_factory=list)
    activities: list[dict[str, Any]] = field(default_factory=list)
    awarded: dict[str, str] = field(default_factory=dict)  # user key -> awardedAt
    due_overrides: dict[tuple[str, str], str] = field(default_factory=dict)
    drafts: set[tuple[str, str]] = field(default_factory=set)  # (assessment id, user key)

    def timing(self, now: float) -> str:
        """``"past"``, ``"current"`` or ``"future"`` relative to ``now`` (epoch seconds)."""
        if parse_iso(self.start) > now:
            return "future"
        if self.end is not None and parse_iso(self.end) < now:
            return "past"
        return "current"

    def learner_count(self) -> int:
        return sum(1 for e in self.enrolments.values() if e.is_learner)


@dataclass
class State:
    """The organisation: users, courses, offerings and everything hanging off them.

    Mutating methods enforce the API's rules and raise ``FakeAPIError`` with the spec's error
    names, so tests (and handlers) can drive the state directly.
    """

    seed_key: str = "empty"
    org_id: str = "org-0001"
    org_name: str = "Example Organisation"
    clock: Callable[[], float] = time.time
    users: dict[str, User] = field(default_factory=dict)
    courses: dict[str, Course] = field(default_factory=dict)
    offerings: dict[str, Offering] = field(default_factory=dict)
    course_mappings: dict[str, list[str]] = field(default_factory=dict)  # offering -> external ids
    rng: random.Random = field(default_factory=lambda: random.Random(0))

    # ---- identifiers -------------------------------------------------------------------
    def new_hex_id(self) -> str:
        return f"{self.rng.getrandbits(96):024x}"

    def new_push_id(self) -> str:
        alphabet = "-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
        return "-M" + "".join(self.rng.choice(alphabet) for _ in range(18))

    def now_iso(self) -> str:
        return iso(self.clock())

    # ---- lookups -----------------------------------------------------------------------
    def user(self, email: str) -> User:
        user = self.users.get(email.lower())
        if user is None:
            raise not_found("user", email)
        return user

    def course(self, content_id: str) -> Course:
        course = self.courses.get(content_id)
        if course is None:
            raise not_found("content", content_id)
        return course

    def course_by_root(self, root_content_id: str) -> Course:
        for course in self.courses.values():
            if root_content_id in (course.root_content_id, course.id):
                return course
        raise not_found("content", root_content_id)

    def offering(self, offering_id: str) -> Offering:
        offering = self.offerings.get(offering_id)
        if offering is None:
            raise not_found("offering", offering_id)
        return offering

    def enrolment(self, offering: Offering, email: str, *, learner: bool = False) -> Enrolment:
        """The user's enrolment; ``UserNotInOfferingError`` if absent (or not a learner)."""
        user = self.user(email)
        enrolment = offering.enrolments.get(user.key)
        if enrolment is None or (learner and not enrolment.is_learner):
            raise bad_request(
                "UserNotInOfferingError",
                f"The user {email} is not a learner in the offering {offering.id}.",
            )
        return enrolment

    def user_offerings(self, user: User) -> list[Offering]:
        return [o for o in self.offerings.values() if user.key in o.enrolments]

    # ---- users -------------------------------------------------------------------------
    def add_user(self, email: str, **fields: Any) -> User:
        existing = self.users.get(email.lower())
        if existing is not None:
            if existing.suspended:
                raise bad_request("UserSuspendedError", f"The user ({email}) has been suspended.")
            raise bad_request("ObjectExistsError", f"The user {email} already exists.")
        user = User(id=self.new_hex_id(), email=email, **fields)
        self.users[user.key] = user
        return user

    def rename_user(self, user: User, new_email: str) -> None:
        new_key = new_email.lower()
        if new_key == user.key:
            user.email = new_email
            return
        if new_key in self.users:
            raise bad_request("ObjectExistsError", f"The user {new_email} already exists.")
        old_key = user.key
        del self.users[old_key]
        user.email = new_email
        self.users[new_key] = user
        for offering in self.offerings.values():
            _rekey_in_offering(offering, old_key, new_key)

    # ---- enrolments --------------------------------------------------------------------
    def enrol(
        self,
        offering: Offering,
        user: User,
        *,
        is_facilitator: bool = False,
        is_marker: bool = False,
        is_readonly: bool = False,
    ) -> Enrolment:
        if user.suspended:
            raise bad_request("UserSuspendedError", f"The user ({user.email}) has been suspended.")
        if user.key in offering.enrolments:
            raise bad_request(
                "ObjectExistsError",
                f"The user {user.email} already exists in the offering {offering.id}.",
            )
        enrolment = Enrolment(
            email=user.key,
            is_facilitator=is_facilitator,
            is_marker=is_marker,
            is_readonly=is_readonly,
            enrolled_at=self.now_iso(),
            completion=stable_int(self.seed_key, offering.id, user.key, "completion") % 101,
        )
        offering.enrolments[user.key] = enrolment
        return enrolment

    def unenrol(self, offering: Offering, user: User) -> Enrolment:
        enrolment = offering.enrolments.pop(user.key, None)
        if enrolment is None:
            raise bad_request(
                "UserNotInOfferingError",
                f"The user {user.email} is not a learner in the offering {offering.id}.",
            )
        offering.marking.pop(user.key, None)
        for learners in offering.marking.values():
            learners.pop(user.key, None)
        for group in offering.groups.values():
            group.learners.pop(user.key, None)
        for channel in offering.channels.values():
            channel.learners.pop(user.key, None)
        offering.awarded.pop(user.key, None)
        return enrolment

    def transfer(self, user: User, source: Offering, target: Offering) -> None:
        if source.id == target.id:
            raise bad_request(
                "InvalidSourceAndTargetError", "Source and target offerings cannot be the same."
            )
        if source.root_content_id != target.root_content_id:
            raise bad_request(
                "ContentDoNotMatchError",
                "contentId needs to be the same in order to perform the requested operation.",
            )
        enrolment = self.enrolment(source, user.email, learner=True)
        if user.key in target.enrolments:
            raise bad_request(
                "ObjectExistsError",
                f"The user {user.email} already exists in the offering {target.id}.",
            )
        self.unenrol(source, user)
        target.enrolments[user.key] = enrolment

    def marker(self, offering: Offering, email: str) -> Enrolment:
        enrolment = offering.enrolments.get(self.user(email).key)
        if enrolment is None or not enrolment.is_marker:
            raise bad_request("ObjectIsNotError", f"The user {email} is not a marker.")
        return enrolment


def _rekey_in_offering(offering: Offering, old: str, new: str) -> None:
    enrolment = offering.enrolments.pop(old, None)
    if enrolment is not None:
        enrolment.email = new
        offering.enrolments[new] = enrolment
    if old in offering.marking:
        offering.marking[new] = offering.marking.pop(old)
    for members in (
        [*offering.marking.values()]
        + [g.learners for g in offering.groups.values()]
        + [c.learners for c in offering.channels.values()]
    ):
        if old in members:
            del members[old]
            members[new] = None
    if old in offering.awarded:
        offering.awarded[new] = offering.awarded.pop(old)


def ensure(condition: bool, error: FakeAPIError) -> None:
    if not condition:
        raise error
