"""Seeded organisations: realistic, deterministic, and analytics that repeat exactly."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import aiohttp

from iqualify_async.testing import FakeIQualify, State, build_state
from iqualify_async.testing.views import offering_json, user_json

ANCHOR = 1_750_000_000.0


def _snapshot(state: State) -> Any:
    return (
        state.org_id,
        [user_json(u) for u in state.users.values()],
        [offering_json(o) for o in state.offerings.values()],
        [
            (o.id, sorted((k, vars_(e)) for k, e in o.enrolments.items()))
            for o in state.offerings.values()
        ],
        [(o.id, {m: list(v) for m, v in o.marking.items()}) for o in state.offerings.values()],
        [
            (o.id, [(g.id, list(g.learners)) for g in o.groups.values()])
            for o in state.offerings.values()
        ],
        dict(state.course_mappings),
    )


def vars_(enrolment: Any) -> tuple[Any, ...]:
    return (
        enrolment.is_facilitator,
        enrolment.is_marker,
        enrolment.completion,
        enrolment.enrolled_at,
    )


def test_same_seed_builds_identical_state() -> None:
    assert _snapshot(build_state("demo", anchor=ANCHOR)) == _snapshot(
        build_state("demo", anchor=ANCHOR)
    )
    assert _snapshot(build_state(7, anchor=ANCHOR)) != _snapshot(build_state("demo", anchor=ANCHOR))


def test_demo_organisation_is_realistic() -> None:
    state = build_state("demo")
    assert len(state.users) == 2000
    assert 3 <= len(state.courses) <= 6
    timings = Counter(o.timing(time.time()) for o in state.offerings.values())
    assert sum(timings.values()) == 20 and min(timings.values()) >= 5
    roles = Counter(
        ("facilitator" if e.is_facilitator else "marker" if e.is_marker else "learner")
        for o in state.offerings.values()
        for e in o.enrolments.values()
    )
    assert roles["learner"] > 1000 and roles["facilitator"] == 40 and roles["marker"] == 40
    assert any(u.suspended for u in state.users.values())


def test_empty_seed_has_one_course_and_no_people() -> None:
    state = build_state(None)
    assert len(state.courses) == 1 and not state.users and not state.offerings


async def test_analytics_are_identical_across_servers_with_the_same_seed() -> None:
    bodies = []
    for _ in range(2):
        state = build_state("demo", anchor=ANCHOR, clock=lambda: ANCHOR)
        async with (
            FakeIQualify(api_key="k", state=state) as fake,
            aiohttp.ClientSession(headers={"Authorization": "k"}) as session,
        ):
            oid = next(o.id for o in state.offerings.values() if o.timing(ANCHOR) == "past")
            collected = []
            for kind in ("marks/assignments", "marks/quizzes", "pulses/responses", "social-notes"):
                async with session.get(f"{fake.base_url}/offerings/{oid}/analytics/{kind}") as r:
                    collected.append(await r.json())
            bodies.append(collected)
    assert bodies[0] == bodies[1]
    assert all(bodies[0]), "every analytics list has rows for a past offering"
