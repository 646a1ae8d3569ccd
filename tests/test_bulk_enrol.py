"""Bulk enrolment against the fake server: batches, faults, re-runs, dry runs, bad input."""

from __future__ import annotations

import asyncio
import csv
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from iqualify_async import Client, RateLimit, RetryPolicy, bulk
from iqualify_async.bulk import PeopleError, Person, Status
from iqualify_async.testing import FakeIQualify, Faults

KEY = "enrol-key-0123456789"
ADD = "POST /offerings/{offeringId}/users"
FAST_RETRY = RetryPolicy(backoff_base=0.001, backoff_max=0.01)
NO_PACING = RateLimit(max_concurrency=20, requests_per_second=None)


def client(fake: FakeIQualify) -> Client:
    return Client(api_key=KEY, base_url=fake.base_url, retry=FAST_RETRY, rate_limit=NO_PACING)


@pytest.fixture(params=[False, True], ids=["nested-errors", "flat-errors"])
async def fake(request: pytest.FixtureRequest) -> AsyncIterator[FakeIQualify]:
    """The demo organisation, answering errors in each of the API's two shapes."""
    faults = Faults(flat_errors=request.param)
    async with FakeIQualify(KEY, seed="demo", faults=faults) as running:
        yield running


def first_offering(fake: FakeIQualify) -> str:
    return sorted(fake.state.offerings)[0]


async def test_a_thousand_people_through_faults_are_each_enrolled_exactly_once(
    tmp_path: Path,
) -> None:
    faults = Faults(
        error_rate=0.10,
        error_statuses=(503,),
        reset_rate=0.05,
        apply_then_drop_rate=0.05,
        seed=11,
    )
    people = [
        {"email": f"Person.{n}@new.example.org", "firstName": "P", "lastName": str(n)}
        for n in range(1000)
    ]
    async with FakeIQualify(KEY, seed="demo", faults=faults) as fake:
        offering_id = first_offering(fake)
        users_before = len(fake.state.users)
        members_before = set(fake.state.offering(offering_id).enrolments)
        ledger = tmp_path / "ledger.csv"
        async with client(fake) as iq:
            summary = await bulk.enrol(iq, offering_id, people, batch_size=50).wait(ledger=ledger)
        assert fake.stats.faults["error"] and fake.stats.faults["reset"]
        assert fake.stats.faults["apply_then_drop"]
        assert (summary.total, summary.succeeded, summary.failed) == (1000, 1000, 0)
        rows = list(csv.DictReader(ledger.open()))
        assert sorted(int(r["index"]) for r in rows) == list(range(1000))
        assert {r["outcome"] for r in rows} == {"succeeded"}
        added = set(fake.state.offering(offering_id).enrolments) - members_before
        assert added == {p["email"].lower() for p in people}
        assert len(fake.state.users) - users_before == 1000  # no user created twice
        # Nothing already applied was sent again: no "already exists" answers at all.
        assert fake.stats.requests[(ADD, 400)] == 0
        assert fake.stats.by_route[ADD] < 100  # batched, not one request per person

        # A re-run finds everyone there: all skipped, nothing written.
        fake.faults.error_rate = fake.faults.reset_rate = 0.0
        writes = sum(fake.stats.writes.values())
        async with client(fake) as iq:
            again = await bulk.enrol(iq, offering_id, people)
        assert (again.skipped, again.succeeded, again.failed) == (1000, 0, 0)
        assert sum(fake.stats.writes.values()) == writes


async def test_batches_map_each_answer_back_to_its_person(fake: FakeIQualify) -> None:
    offering_id = first_offering(fake)
    for email in ("stopped.one@example.org", "stopped.two@example.org"):
        fake.state.add_user(email).suspended = True
    people = [
        "good.one@example.org",
        "stopped.one@example.org",
        Person("good.two@example.org", first_name="Two", tags=("a", "b")),
        "stopped.two@example.org",
    ]
    async with client(fake) as iq:
        outcomes = {o.item.email: o async for o in bulk.enrol(iq, offering_id, people)}
    assert fake.stats.requests[(ADD, 207)] == 1
    assert outcomes["good.one@example.org"].status is Status.SUCCEEDED
    assert outcomes["good.two@example.org"].value == "enrolled"
    for email in ("stopped.one@example.org", "stopped.two@example.org"):
        failed = outcomes[email]
        assert failed.status is Status.FAILED and failed.error is not None
        assert failed.error.name == "UserSuspendedError" and email in str(failed.error.details)
    assert fake.state.user("good.two@example.org").tags == ["a", "b"]
    enrolled = fake.state.offering(offering_id).enrolments
    assert "good.one@example.org" in enrolled and "stopped.one@example.org" not in enrolled


async def test_a_batch_refused_as_a_whole_is_answered_person_by_person(
    fake: FakeIQualify,
) -> None:
    offering_id = first_offering(fake)
    fake.state.add_user("held@example.org").suspended = True
    members = fake.state.offering(offering_id).enrolments
    existing = next(k for k in fake.state.users if k not in members)
    fake.state.users[existing].suspended = True
    async with client(fake) as iq:
        outcomes = [o async for o in bulk.enrol(iq, offering_id, ["held@example.org", existing])]
    assert fake.stats.requests[(ADD, 400)] == 3  # the batch, then each person alone
    assert {o.error.name for o in outcomes if o.error} == {"UserSuspendedError"}
    assert sorted(o.index for o in outcomes) == [0, 1]


async def test_people_already_enrolled_are_skipped_or_fail_naming_both_roles(
    fake: FakeIQualify,
) -> None:
    offering_id = first_offering(fake)
    members = fake.state.offering(offering_id).enrolments
    learner = next(k for k, e in members.items() if e.is_learner)
    facilitator = next(k for k, e in members.items() if e.is_facilitator)
    async with client(fake) as iq:
        outcomes = {
            o.item.email: o async for o in bulk.enrol(iq, offering_id, [learner, facilitator])
        }
    assert outcomes[learner].reason == "already enrolled"
    conflict = outcomes[facilitator]
    assert conflict.status is Status.FAILED and conflict.error is not None
    assert conflict.error.type == "RoleConflictError"
    assert (
        f"{facilitator} is already enrolled as facilitator, not learner" in conflict.error.message
    )
    assert sum(fake.stats.writes.values()) == 0


async def test_dry_run_says_what_would_happen_and_writes_nothing(fake: FakeIQualify) -> None:
    offering_id = first_offering(fake)
    members = fake.state.offering(offering_id).enrolments
    member = next(k for k, e in members.items() if e.is_learner)
    outsider = next(k for k in fake.state.users if k not in members)
    people = [member, outsider, "brand.new@example.org"]
    async with client(fake) as iq:
        outcomes = [o async for o in bulk.enrol(iq, offering_id, people, dry_run=True)]
    by_email = {o.item.email: o for o in outcomes}
    assert by_email[member].status is Status.SKIPPED
    assert by_email[outsider].value == "would enrol"
    assert by_email["brand.new@example.org"].value == "would create the user and enrol"
    assert sum(fake.stats.writes.values()) == 0
    assert "brand.new@example.org" not in fake.state.users


async def test_bad_people_are_all_reported_before_any_request(fake: FakeIQualify) -> None:
    people: list[object] = [
        "ok@example.org",
        "not-an-email",
        {"email": "x@example.org", "fristName": "typo"},
        {"firstName": "Nobody"},
        "OK@example.org",
        42,
    ]
    async with client(fake) as iq:
        with pytest.raises(PeopleError) as caught:
            bulk.enrol(iq, first_offering(fake), people)
    assert [where for where, _ in caught.value.problems] == [
        "item 1",
        "item 2",
        "item 3",
        "item 4",
        "item 5",
    ]
    message = str(caught.value)
    assert "invalid email 'not-an-email'" in message and "'fristName'" in message
    assert "OK@example.org already at item 0" in message
    assert fake.stats.total_requests == 0
    with pytest.raises(ValueError, match="role must be one of"):
        bulk.enrol(iq, "o", ["a@example.org"], role="teacher")  # type: ignore[arg-type]


async def test_missing_users_are_not_created_when_told_not_to(fake: FakeIQualify) -> None:
    offering_id = first_offering(fake)
    outsider = next(
        k for k in fake.state.users if k not in fake.state.offering(offering_id).enrolments
    )
    async with client(fake) as iq:
        outcomes = {
            o.item.email: o
            async for o in bulk.enrol(
                iq, offering_id, [outsider, "nobody@example.org"], create_missing_users=False
            )
        }
    assert outcomes[outsider].status is Status.SUCCEEDED
    assert outcomes["nobody@example.org"].status is Status.FAILED
    assert "nobody@example.org" not in fake.state.users


async def test_enrol_many_covers_every_offering_and_role(fake: FakeIQualify) -> None:
    offerings = sorted(fake.state.offerings)[:3]
    people = [f"marker.{n}@example.org" for n in range(5)]
    async with client(fake) as iq:
        summary = await bulk.enrol_many(iq, offerings, people, role="marker", batch_size=2)
    assert (summary.total, summary.succeeded) == (15, 15)
    for offering_id in offerings:
        members = fake.state.offering(offering_id).enrolments
        assert all(members[p].is_marker for p in people)


def test_read_people_csv_names_bad_lines_and_accepts_any_header_case(tmp_path: Path) -> None:
    good = tmp_path / "good.csv"
    good.write_text(
        "EMAIL,First_Name,lastname,PersonID,Tags\n"
        "ana@example.org,Ana,Lee,P1,red; blue\n"
        "\n"
        "ben@example.org,,,,x|y\n",
        encoding="utf-8",
    )
    assert bulk.read_people_csv(good) == [
        Person("ana@example.org", "Ana", "Lee", "P1", ("red", "blue")),
        Person("ben@example.org", tags=("x", "y")),
    ]
    bad = tmp_path / "bad.csv"
    bad.write_text("email\nok@example.org\nnope\n\nok@example.org\n", encoding="utf-8")
    with pytest.raises(PeopleError) as caught:
        bulk.read_people_csv(bad)
    assert caught.value.problems == [
        ("line 3", "invalid email 'nope'"),
        ("line 5", "ok@example.org already on line 2"),
    ]
    with pytest.raises(PeopleError, match="unknown column"):
        (tmp_path / "h.csv").write_text("mail\nx@y.z\n")
        bulk.read_people_csv(tmp_path / "h.csv")
    with pytest.raises(PeopleError, match="unknown column"):
        (tmp_path / "h.csv").write_text("email,mail\nx@y.z,\n")
        bulk.read_people_csv(tmp_path / "h.csv", strict_columns=True)


def test_read_people_csv_keeps_quoted_cells_whole_and_counts_their_lines(tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_bytes(
        (
            "email,firstName,lastName,tags\r\n"
            '"mary@example.org","Mary\u2028Ann","O\x1cNeil\x85","a\r\nb"\r\n'
            '"bad-email","Two\nLines"\r\n'
            "zoe@example.org,Zoe,,\r\n"
            "nope,,,\r\n"
        ).encode()
    )
    with pytest.raises(PeopleError) as caught:
        bulk.read_people_csv(path)
    # A row is named by the line it starts on, multi-line quoted cells counted.
    assert caught.value.problems == [
        ("line 4", "invalid email 'bad-email'"),
        ("line 7", "invalid email 'nope'"),
    ]
    path.write_bytes(
        b"email,firstName,lastName,tags\n"
        + '"mary@example.org","Mary\u2028Ann","O\x1cNeil\x85","a\nb"\n'.encode()
    )
    [mary] = bulk.read_people_csv(path)
    assert (mary.first_name, mary.last_name) == ("Mary\u2028Ann", "O\x1cNeil")
    assert mary.tags == ("a\nb",)


async def test_cancelling_an_enrolment_leaves_no_request_behind() -> None:
    async with FakeIQualify(KEY, seed="demo", faults=Faults(latency_ms=100)) as fake:
        offering_id = first_offering(fake)
        people = [f"cancel.{n}@example.org" for n in range(40)]
        async with client(fake) as iq:
            job = bulk.enrol(iq, offering_id, people, batch_size=10, concurrency=2)
            async for _ in job:
                break  # leave after the first outcome, with batches still in flight
            await job.aclose()
            leftovers = job.leftovers
            await asyncio.sleep(0.3)
        assert job.summary.cancelled
        assert {o.status for o in leftovers} <= {Status.UNPROCESSED, Status.SUCCEEDED}
        enrolled = set(people) & set(fake.state.offering(offering_id).enrolments)
        assert len(enrolled) <= 20  # at most the two batches that were in flight
        assert not [t for t in asyncio.all_tasks() if "_send" in repr(t) or "_flush" in repr(t)]
