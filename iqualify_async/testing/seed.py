"""Deterministic organisations for the fake server: the same seed always builds the same state."""

from __future__ import annotations

import random
import time
from collections.abc import Callable

from .state import (
    Assessment,
    Channel,
    Course,
    Group,
    Offering,
    Pulse,
    State,
    User,
    iso,
    stable_int,
)

DAY = 86_400.0

FIRST_NAMES = (
    "Aroha Ava Ben Charlotte Daniel Eli Emma Finn Grace Hana Isla Jack Kahu Leo Lily Mia Noah "
    "Oliver Olivia Ruby Sam Sofia Tama Theo Wiremu Zoe Amelia Harper Lucas Maia"
).split()
LAST_NAMES = (
    "Smith Williams Brown Wilson Taylor Jones Singh Nguyen Ngata Walker Harris Martin Clarke "
    "Thompson White Young King Wright Patel Kumar Li Chen Moana Parata Scott"
).split()
COURSES = (
    ("Foundations of Data Literacy", "data", "beginner"),
    ("Project Management Essentials", "business", "intermediate"),
    ("Te Reo Māori for the Workplace", "language", "beginner"),
    ("Applied Machine Learning", "technology", "advanced"),
)
PULSE_TYPES = ("submit_text", "MCQ", "spatial_triangular", "spatial_planar", "spatial_linear")


def default_anchor() -> float:
    """Midnight UTC today: offerings are laid out around it, so 'current' stays current."""
    now = time.time()
    return now - now % DAY


def build_state(
    seed: str | int | None,
    *,
    anchor: float | None = None,
    users: int = 2000,
    offerings: int = 20,
    clock: Callable[[], float] = time.time,
) -> State:
    """Build the organisation for ``seed`` (``None``: an empty organisation with one course).

    A seed (``"demo"`` or any string or integer) builds a few courses, ``offerings`` offerings
    spread over past, current and future dates around ``anchor``, ``users`` users, enrolments,
    marker assignments, groups, channels, assessments, pulses and badges.
    """
    anchor = default_anchor() if anchor is None else anchor
    key = "empty" if seed is None else str(seed)
    rng = random.Random(f"iqualify-fake:{key}")
    state = State(seed_key=key, clock=clock, rng=random.Random(f"iqualify-fake-runtime:{key}"))
    state.org_id = f"{rng.getrandbits(96):024x}"
    state.org_name = "Example Organisation" if seed is None else "Kōwhai Institute of Learning"
    course_specs = COURSES[:1] if seed is None else COURSES
    courses = [_course(rng, anchor, *spec) for spec in course_specs]
    for course in courses:
        state.courses[course.id] = course
    if seed is None:
        return state

    people = [_user(rng, anchor, i) for i in range(users)]
    for user in people:
        state.users[user.key] = user
    staff, learners = people[:40], people[40:]
    for i, user in enumerate(staff):
        user.permissions = [("builder", "manager", "insights", "userAdmin")[i % 4]]
    for user in rng.sample(learners, max(1, len(learners) // 200)):
        user.suspended = True
    active_learners = [u for u in learners if not u.suspended]

    for i in range(offerings):
        course = courses[i % len(courses)]
        timing = ("past", "current", "future")[i % 3]
        offering = _offering(rng, state, course, anchor, timing, i)
        state.offerings[offering.id] = offering
        size = rng.randint(20, 60) if timing == "future" else rng.randint(80, 160)
        _populate(state, offering, rng.sample(staff, 4), rng.sample(active_learners, size))
        if timing == "past" and offering.badge is not None:
            for key in list(offering.enrolments)[4 : 4 + size // 3]:
                offering.awarded[key] = offering.end or offering.start
        if i % 4 == 0:
            state.course_mappings[offering.id] = [f"EXT-{course.name.split()[0].upper()}-{i:03d}"]
    return state


def _course(rng: random.Random, anchor: float, name: str, category: str, level: str) -> Course:
    content_id = f"{rng.getrandbits(96):024x}"
    return Course(
        id=content_id,
        root_content_id=content_id,
        name=name,
        created_at=iso(anchor - rng.randint(200, 900) * DAY),
        cover_image_url=f"https://cdn.example.com/covers/{content_id}.png",
        tasks_enabled=rng.random() < 0.5,
        category=category,
        level=level,
        topic=name.split()[-1].lower(),
        tags=[category, level],
        learning_outcomes=[
            {"id": f"lo-{content_id[:6]}-{n}", "description": f"Outcome {n} of {name}"}
            for n in range(1, 4)
        ],
    )


def _user(rng: random.Random, anchor: float, index: int) -> User:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    first_access = anchor - rng.randint(30, 700) * DAY
    return User(
        id=f"{rng.getrandbits(96):024x}",
        email=f"{first.lower()}.{last.lower()}{index}@example.com",
        first_name=first,
        last_name=last,
        person_id=f"P{100000 + index}",
        display_name=f"{first} {last[0]}.",
        mobile=f"+6421{rng.randint(1000000, 9999999)}" if rng.random() < 0.3 else None,
        tags=["staff"] if index < 40 else [],
        first_access_at=iso(first_access),
        last_access_at=iso(first_access + rng.randint(0, 29) * DAY),
    )


def _offering(
    rng: random.Random, state: State, course: Course, anchor: float, timing: str, index: int
) -> Offering:
    offset = {"past": -rng.randint(150, 400), "current": -rng.randint(5, 60)}.get(
        timing, rng.randint(10, 120)
    )
    start = anchor + offset * DAY
    end = start + rng.choice((60, 90, 120)) * DAY
    if timing == "current":
        end = max(end, anchor + 14 * DAY)
    if timing == "past":
        end = min(end, anchor - 7 * DAY)
    term = f"{time.gmtime(start).tm_year} T{(time.gmtime(start).tm_mon - 1) // 4 + 1}"
    offering = Offering(
        id=state.new_push_id(),
        content_id=course.id,
        root_content_id=course.root_content_id,
        start=iso(start),
        end=iso(end),
        name=f"{course.name} ({term})",
        identifier=f"OFF-{index + 1:03d}",
        description=f"{course.name}, delivered {term}.",
        overview=f"<p>Welcome to {course.name}.</p>",
        info=f"{course.name} {term} cohort {index + 1}",
        cover_image_url=course.cover_image_url,
        tasks_enabled=course.tasks_enabled,
        enrollment_limit=200,
        price=float(rng.choice((0, 199, 499))),
        currency="NZD",
        settings={
            "aggregateProgressScore": True,
            "allowSocialFeatures": True,
            "allowTasks": course.tasks_enabled,
            "enablePrivateSupportChannel": rng.random() < 0.5,
            "strictStartDate": False,
        },
        category=course.category,
        topic=course.topic,
        level=course.level,
        tags=list(course.tags),
    )
    if index % 2 == 0:
        offering.badge = {
            "title": f"{course.name} completion",
            "description": f"Awarded for completing {course.name}.",
            "requiresApproval": False,
            "badgeExpiry": {"expires": False},
        }
    kinds = ("assignment", "assignment", "quiz", "quiz", "openresponse")
    for n, kind in enumerate(kinds, start=1):
        due = start + (14 * n) * DAY
        aid = f"{stable_int(state.seed_key, offering.id, 'assessment', n):024x}"[:24]
        offering.assessments[aid] = Assessment(
            id=aid,
            title=f"{kind.capitalize()} {n}",
            type=kind,
            content=f"<p>Instructions for {kind} {n}.</p>",
            points="100",
            open_date=iso(due - 14 * DAY),
            due_date=iso(due),
            max_attempts=3 if kind == "quiz" else 1,
            duration_minutes=30 if kind == "quiz" else 0,
            total_questions=10 if kind == "quiz" else 0,
            documents=[
                {
                    "id": f"doc-{aid[:8]}",
                    "filename": f"brief-{n}.pdf",
                    "mimetype": "application/pdf",
                    "size": 20480 + n,
                    "url": f"https://cdn.example.com/docs/{aid}/brief-{n}.pdf",
                    "createdAt": iso(due - 20 * DAY),
                }
            ],
        )
    for n in range(3):
        base = f"pulse-{offering.id[2:8]}-{n}"
        offering.pulses.append(
            Pulse(
                base_id=base,
                instance_id=f"{base}-i1",
                question=f"How confident do you feel about topic {n + 1}?",
                type=PULSE_TYPES[(index + n) % len(PULSE_TYPES)],
                run_start=iso(start + (7 + 10 * n) * DAY),
                duration_minutes=15,
            )
        )
    offering.pages = [f"page-{offering.id[2:8]}-{n}" for n in range(8)]
    offering.activities = [
        {"activityId": f"act-{offering.id[2:8]}-{n}", "title": f"Reflection {n + 1}", "time": 10}
        for n in range(3)
    ]
    return offering


def _populate(state: State, offering: Offering, staff: list[User], learners: list[User]) -> None:
    facilitators, markers = staff[:2], staff[2:]
    for user in facilitators:
        state.enrol(offering, user, is_facilitator=True)
    for user in markers:
        state.enrol(offering, user, is_marker=True)
    for user in learners:
        state.enrol(offering, user)
    for enrolment in offering.enrolments.values():
        enrolment.enrolled_at = offering.start
    keys = [u.key for u in learners]
    for n, marker in enumerate(markers):
        offering.marking[marker.key] = dict.fromkeys(keys[n :: len(markers)])
    created = offering.start
    for n in range(2):
        group = Group(id=state.new_hex_id(), title=f"Study group {n + 1}", created_at=created)
        group.learners = dict.fromkeys(keys[n : len(keys) // 2 : 2])
        offering.groups[group.id] = group
    general = Channel(id=state.new_push_id(), title="General")
    news = Channel(id=state.new_push_id(), title="Announcements", is_broadcast_only=True)
    team = Channel(id=state.new_push_id(), title="Team discussion", group_discussion=True)
    team.learners = dict.fromkeys(keys[: max(1, len(keys) // 3)])
    for channel in (general, news, team):
        offering.channels[channel.id] = channel
