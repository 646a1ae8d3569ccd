"""The thin bulk helpers beside enrolment, against the demo organisation of the fake server."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from iqualify_async import Client, RateLimit, bulk
from iqualify_async.bulk import Status
from iqualify_async.testing import FakeIQualify
from iqualify_async.testing.state import Offering

KEY = "companions-key"


@pytest.fixture
async def fake() -> AsyncIterator[FakeIQualify]:
    async with FakeIQualify(KEY, seed="demo") as running:
        yield running


def client(fake: FakeIQualify) -> Client:
    limit = RateLimit(max_concurrency=10, requests_per_second=None)
    return Client(api_key=KEY, base_url=fake.base_url, rate_limit=limit)


def learners(offering: Offering, n: int) -> list[str]:
    return [k for k, e in offering.enrolments.items() if e.is_learner][:n]


async def statuses(job: bulk.Job[str, str]) -> dict[str, Status]:
    return {o.item: o.status async for o in job}


async def test_remove_from_offering_then_again_skips(fake: FakeIQualify) -> None:
    offering = fake.state.offerings[sorted(fake.state.offerings)[0]]
    people = learners(offering, 3)
    async with client(fake) as iq:
        first = await bulk.remove_from_offering(iq, offering.id, people)
        again = await statuses(bulk.remove_from_offering(iq, offering.id, people))
    assert first.succeeded == 3 and not set(people) & set(offering.enrolments)
    assert set(again.values()) == {Status.SKIPPED}


async def test_groups_channels_and_markers(fake: FakeIQualify) -> None:
    offering = fake.state.offerings[sorted(fake.state.offerings)[0]]
    people = learners(offering, 4)
    group = next(iter(offering.groups.values()))
    channel = next(c for c in offering.channels.values() if c.group_discussion)
    marker = next(k for k, e in offering.enrolments.items() if e.is_marker)
    async with client(fake) as iq:
        in_group = await statuses(bulk.add_to_group(iq, offering.id, group.id, people))
        in_channel = await statuses(bulk.add_to_channel(iq, offering.id, channel.id, people))
        assigned = await bulk.assign_to_marker(iq, offering.id, marker, people)
        twice = await statuses(bulk.add_to_group(iq, offering.id, group.id, people))
    already = {p for p in people if in_group[p] is Status.SKIPPED}
    assert set(people) <= set(group.learners) and set(people) <= set(channel.learners)
    assert set(in_channel.values()) <= {Status.SUCCEEDED, Status.SKIPPED}
    assert assigned.ok and set(people) <= set(offering.marking[marker])
    assert set(twice.values()) == {Status.SKIPPED} and already != set(people)


async def test_transfer_moves_learners_between_offerings_of_one_course(
    fake: FakeIQualify,
) -> None:
    by_root: dict[str, list[Offering]] = {}
    for offering in fake.state.offerings.values():
        by_root.setdefault(offering.root_content_id, []).append(offering)
    source, target = next(group for group in by_root.values() if len(group) > 1)[:2]
    people = [p for p in learners(source, 10) if p not in target.enrolments][:3]
    async with client(fake) as iq:
        moved = await bulk.transfer(iq, source.id, target.id, people)
    assert moved.succeeded == 3
    assert set(people) <= set(target.enrolments) and not set(people) & set(source.enrolments)


async def test_bad_emails_are_refused_before_any_request(fake: FakeIQualify) -> None:
    async with client(fake) as iq:
        with pytest.raises(bulk.PeopleError, match="item 1"):
            bulk.remove_from_offering(iq, "o", ["a@example.org", "nope"])
    assert fake.stats.total_requests == 0
