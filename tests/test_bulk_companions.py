"""The thin bulk helpers beside enrolment, against the demo organisation of the fake server."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from iqualify_async import Client, RateLimit, RetryPolicy, bulk
from iqualify_async.bulk import Status
from iqualify_async.testing import FakeIQualify, Faults
from iqualify_async.testing.state import Offering

from .conftest import API_KEY, RecordingServer

KEY = "companions-key-0123456789"
GROUP_ADD = "POST /offerings/{offeringId}/groups/{groupId}/learners"


@pytest.fixture(params=[False, True], ids=["nested-errors", "flat-errors"])
async def fake(request: pytest.FixtureRequest) -> AsyncIterator[FakeIQualify]:
    """The demo organisation, answering errors in each of the API's two shapes."""
    faults = Faults(flat_errors=request.param)
    async with FakeIQualify(KEY, seed="demo", faults=faults) as running:
        yield running


def client(fake: FakeIQualify) -> Client:
    limit = RateLimit(max_concurrency=10, requests_per_second=None)
    return Client(api_key=KEY, base_url=fake.base_url, rate_limit=limit)


def learners(offering: Offering, n: int) -> list[str]:
    return [k for k, e in offering.enrolments.items() if e.is_learner][:n]


async def statuses(job: bulk.Job[bulk.Person, str]) -> dict[str, Status]:
    return {o.item.email: o.status async for o in job}


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
        with pytest.raises(ValueError, match="batch_size must be a positive integer, not 0"):
            bulk.assign_to_marker(iq, "o", "m@example.org", ["a@example.org"], batch_size=0)
    assert fake.stats.total_requests == 0


def outsiders(offering: Offering, group_learners: dict[str, None]) -> list[str]:
    """Learners of ``offering`` not yet in the group."""
    return [p for p in learners(offering, 40) if p not in group_learners]


async def test_a_write_applied_then_cut_off_is_verified_not_sent_again() -> None:
    async with FakeIQualify(KEY, seed="demo", faults=Faults(apply_then_drop_rate=1.0)) as fake:
        offering = fake.state.offerings[sorted(fake.state.offerings)[0]]
        group = next(iter(offering.groups.values()))
        people = outsiders(offering, group.learners)[:4]
        assert len(people) == 4
        async with client(fake) as iq:
            outcomes = [o async for o in bulk.add_to_group(iq, offering.id, group.id, people)]
            ambiguous = iq.stats.ambiguous_writes
    assert {(o.item.email, o.status, o.value) for o in outcomes} == {
        (p, Status.SUCCEEDED, "done") for p in people
    }
    assert ambiguous == 4 and fake.stats.faults["apply_then_drop"] == 4
    assert fake.stats.by_route[GROUP_ADD] == 4  # each checked by reading the group, not re-sent
    assert set(people) <= set(group.learners)


CHANNEL_ADD = "POST /offerings/{offeringId}/channels/{channelId}/learners"


async def test_channel_adds_cut_off_after_being_applied_are_checked_in_the_channel() -> None:
    async with FakeIQualify(KEY, seed="demo", faults=Faults(apply_then_drop_rate=1.0)) as fake:
        offering = fake.state.offerings[sorted(fake.state.offerings)[0]]
        channel = next(c for c in offering.channels.values() if c.group_discussion)
        people = [p for p in learners(offering, 100) if p not in channel.learners][:3]
        assert len(people) == 3
        async with client(fake) as iq:
            job = bulk.add_to_channel(iq, offering.id, channel.id, people)
            outcomes = [o async for o in job]
    assert {(o.item.email, o.status, o.message) for o in outcomes} == {
        (p, Status.SUCCEEDED, None) for p in people
    }
    assert fake.stats.by_route[CHANNEL_ADD] == 3  # each found in the channel, not re-sent
    assert set(people) <= set(channel.learners)


async def test_writes_cut_off_are_sent_again_only_when_the_check_finds_them_missing() -> None:
    faults = Faults(reset_rate=0.2, apply_then_drop_rate=0.2, seed=3)
    async with FakeIQualify(KEY, seed="demo", faults=faults) as fake:
        offering = fake.state.offerings[sorted(fake.state.offerings)[0]]
        group = next(iter(offering.groups.values()))
        people = outsiders(offering, group.learners)[:10]
        limit = RateLimit(max_concurrency=10, requests_per_second=None)
        retry = RetryPolicy(backoff_base=0.001, backoff_max=0.01)
        async with Client(api_key=KEY, base_url=fake.base_url, rate_limit=limit, retry=retry) as iq:
            job = bulk.add_to_group(iq, offering.id, group.id, people, concurrency=1)
            summary = await job
            ambiguous = iq.stats.ambiguous_writes
    assert summary.succeeded == len(people) == 10
    applied_then_cut = fake.stats.faults["apply_then_drop"]
    assert applied_then_cut and ambiguous > applied_then_cut  # both kinds of cut-off happened
    # Cut off after being applied: checked, not re-sent. Cut off before: re-sent once.
    assert fake.stats.by_route[GROUP_ADD] == 10 + ambiguous - applied_then_cut
    assert fake.stats.writes[GROUP_ADD] == 10
    assert set(people) <= set(group.learners)


MARKS_ADD = "POST /offerings/{offeringId}/users/{markerEmail}/marks"


def marker_of(offering: Offering) -> str:
    return next(k for k, e in offering.enrolments.items() if e.is_marker)


async def test_assign_to_marker_sends_learners_in_batches(fake: FakeIQualify) -> None:
    offering = fake.state.offerings[sorted(fake.state.offerings)[0]]
    marker = marker_of(offering)
    people = learners(offering, 12)
    assert len(people) == 12
    async with client(fake) as iq:
        job = bulk.assign_to_marker(iq, offering.id, marker, people, batch_size=5, concurrency=2)
        done = await statuses(job)
    assert done == dict.fromkeys(people, Status.SUCCEEDED)
    assert fake.stats.by_route[MARKS_ADD] == 3  # 5 + 5 + 2
    assert set(people) <= set(offering.marking[marker])


async def test_assign_to_marker_reports_a_refused_learner_alone(fake: FakeIQualify) -> None:
    offering = fake.state.offerings[sorted(fake.state.offerings)[0]]
    marker = marker_of(offering)
    people = learners(offering, 4)
    outsider = next(k for k in fake.state.users if k not in offering.enrolments)
    async with client(fake) as iq:
        job = bulk.assign_to_marker(iq, offering.id, marker, [*people, outsider])
        outcomes = {o.item.email: o async for o in job}
    assert {p: outcomes[p].status for p in people} == dict.fromkeys(people, Status.SUCCEEDED)
    refused = outcomes[outsider]
    assert refused.status is Status.FAILED and refused.error is not None
    assert refused.error.name == "UserNotInOfferingError" and outsider in str(refused.error.details)
    assert set(people) <= set(offering.marking[marker])
    assert outsider not in offering.marking[marker]
    assert fake.stats.by_route[MARKS_ADD] == 1 + 5  # the batch, then each learner alone


async def test_assign_to_marker_checks_a_batch_cut_off_after_being_applied() -> None:
    async with FakeIQualify(KEY, seed="demo", faults=Faults(apply_then_drop_rate=1.0)) as fake:
        offering = fake.state.offerings[sorted(fake.state.offerings)[0]]
        marker = marker_of(offering)
        people = learners(offering, 6)
        async with client(fake) as iq:
            job = bulk.assign_to_marker(iq, offering.id, marker, people)
            done = await statuses(job)
    assert done == dict.fromkeys(people, Status.SUCCEEDED)
    assert fake.stats.by_route[MARKS_ADD] == 1  # one batch, checked by reading, not re-sent
    assert set(people) <= set(offering.marking[marker])


async def test_a_journal_is_never_replayed_into_a_job_with_another_target(
    fake: FakeIQualify, tmp_path: Path
) -> None:
    offering = next(o for o in fake.state.offerings.values() if len(o.groups) >= 2)
    group_a, group_b = list(offering.groups.values())[:2]
    people = [
        p for p in learners(offering, 10_000) if p not in {**group_a.learners, **group_b.learners}
    ][:3]
    journal = tmp_path / "groups.db"
    async with client(fake) as iq:
        first = await bulk.add_to_group(iq, offering.id, group_a.id, people, journal=journal)
        assert first.succeeded == 3
        with pytest.raises(bulk.JournalMismatchError) as refused:
            await bulk.add_to_group(iq, offering.id, group_b.id, people, journal=journal)
        message = str(refused.value)
        assert str(journal) in message
        assert f"add_to_group offering={offering.id} group={group_a.id}" in message
        assert f"add_to_group offering={offering.id} group={group_b.id}" in message
        assert not set(people) & set(group_b.learners)
        # Handed over explicitly, the journal's entries for group A are not taken for group B.
        second = await bulk.add_to_group(
            iq, offering.id, group_b.id, people, journal=journal, reuse_journal=True
        )
    assert second.succeeded == 3 and second.from_journal == 0
    assert set(people) <= set(group_b.learners)


@pytest.mark.parametrize(("send_invite", "expected"), [(None, {}), (False, {"sendInvite": False})])
async def test_transfer_sends_the_invite_flag_only_when_given(
    server: RecordingServer, send_invite: bool | None, expected: dict[str, object]
) -> None:
    async with Client(api_key=API_KEY, base_url=server.base_url, rate_limit=None) as iq:
        summary = await bulk.transfer(
            iq, "from1", "to1", ["a@example.org"], send_invite=send_invite
        )
    assert summary.succeeded == 1
    (seen,) = server.requests
    assert seen.method == "PATCH" and seen.path == "/v1/users/a@example.org/transfer"
    assert json.loads(seen.body) == {"fromOfferingId": "from1", "toOfferingId": "to1", **expected}


REWRITES = {
    "remove_from_offering": "DELETE /offerings/{offeringId}/users/{userEmail}",
    "add_to_group": GROUP_ADD,
    "add_to_channel": CHANNEL_ADD,
    "transfer": "PATCH /users/{userEmail}/transfer",
}


@pytest.mark.parametrize("helper", list(REWRITES))
async def test_a_person_left_started_by_a_killed_run_is_checked_not_sent_again(
    fake: FakeIQualify, tmp_path: Path, helper: str
) -> None:
    """Each helper's re-check path: done items whose journal entry says ``started`` (as after
    a SIGKILL between the call and its record) are looked up, and found done."""
    offering = fake.state.offerings[sorted(fake.state.offerings)[0]]
    group = next(iter(offering.groups.values()))
    channel = next(c for c in offering.channels.values() if c.group_discussion)
    outside = set(channel.learners) | set(group.learners)
    people = [p for p in learners(offering, 200) if p not in outside][:2]
    assert len(people) == 2
    target = (
        next(
            o
            for o in fake.state.offerings.values()
            if o.root_content_id == offering.root_content_id and o.id != offering.id
        )
        if helper == "transfer"
        else None
    )
    journal = tmp_path / f"{helper}.db"

    def job(iq: Client) -> bulk.Job[str, str]:
        if helper == "remove_from_offering":
            return bulk.remove_from_offering(iq, offering.id, people, journal=journal)
        if helper == "add_to_group":
            return bulk.add_to_group(iq, offering.id, group.id, people, journal=journal)
        if helper == "add_to_channel":
            return bulk.add_to_channel(iq, offering.id, channel.id, people, journal=journal)
        assert target is not None
        return bulk.transfer(iq, offering.id, target.id, people, journal=journal)

    async with client(fake) as iq:
        assert (await job(iq)).succeeded == 2
        with bulk.Journal(journal) as j:  # as if killed after the calls, before their records
            run = j.begin_run()
            for index, entry in enumerate(list(j.entries())):
                j.mark_started(entry.key, run=run, index=index)
        sent = fake.stats.by_route[REWRITES[helper]]
        again = [o async for o in job(iq)]
    assert [(o.status, o.verified) for o in again] == [(Status.SUCCEEDED, True)] * 2
    assert fake.stats.by_route[REWRITES[helper]] == sent  # found done, nothing re-sent
