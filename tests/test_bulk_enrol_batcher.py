"""How bulk enrolment groups people into requests: who sends a batch, and when."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from iqualify_async import Client, RateLimit, RetryPolicy, bulk
from iqualify_async.bulk import Person, Status
from iqualify_async.bulk.enrol import Enrolment, _Batcher
from iqualify_async.errors import APIConnectionError
from iqualify_async.events import RequestStarted
from iqualify_async.testing import FakeIQualify, Faults

KEY = "batcher-key-0123456789"
ADD = "POST /offerings/{offeringId}/users"


@pytest.fixture
async def fake() -> AsyncIterator[FakeIQualify]:
    async with FakeIQualify(KEY, seed="demo") as running:
        yield running


def first_offering(fake: FakeIQualify) -> str:
    return sorted(fake.state.offerings)[0]


async def test_with_batch_size_one_each_request_leaves_from_the_worker_enrolling_that_person(
    fake: FakeIQualify,
) -> None:
    senders: list[str] = []

    def on_event(event: object) -> None:
        if isinstance(event, RequestStarted) and event.method == "POST":
            task = asyncio.current_task()
            senders.append(task.get_name() if task is not None else "")

    offering_id = first_offering(fake)
    people = [f"inline.{n}@example.org" for n in range(30)]
    limit = RateLimit(max_concurrency=8, requests_per_second=None)
    async with Client(
        api_key=KEY, base_url=fake.base_url, rate_limit=limit, event_hooks=[on_event]
    ) as iq:
        summary = await bulk.enrol(iq, offering_id, people, batch_size=1, concurrency=8)
    assert summary.succeeded == 30
    assert len(senders) == 30 == fake.stats.by_route[ADD]
    # No flush or send task in between: the job's own workers send the requests.
    assert all(name.startswith("bulk-worker-") for name in senders), set(senders)
    assert set(people) <= set(fake.state.offering(offering_id).enrolments)


async def test_a_partial_batch_is_still_sent_once_nobody_else_joins(fake: FakeIQualify) -> None:
    offering_id = first_offering(fake)
    people = [f"partial.{n}@example.org" for n in range(7)]
    limit = RateLimit(max_concurrency=20, requests_per_second=None)
    async with Client(api_key=KEY, base_url=fake.base_url, rate_limit=limit) as iq:
        outcomes = [o async for o in bulk.enrol(iq, offering_id, people, batch_size=3)]
    assert sorted(o.index for o in outcomes if o.status is Status.SUCCEEDED) == list(range(7))
    assert fake.stats.by_route[ADD] == 3  # 3 + 3 + the last one alone
    assert set(people) <= set(fake.state.offering(offering_id).enrolments)


async def test_cancelling_the_task_sending_a_batch_tells_its_batch_mates_the_write_is_uncertain() -> (
    None
):
    async with FakeIQualify(KEY, seed="demo", faults=Faults(latency_ms=200)) as fake:
        offering_id = first_offering(fake)
        async with Client(
            api_key=KEY,
            base_url=fake.base_url,
            retry=RetryPolicy(max_retries=0),
            rate_limit=RateLimit(max_concurrency=5, requests_per_second=None),
        ) as iq:
            batcher = _Batcher(iq, batch_size=2, concurrency=5, send_invite=None)
            first = asyncio.ensure_future(
                batcher.add(Enrolment(offering_id, Person("mate.one@example.org")))
            )
            await asyncio.sleep(0)  # the first person waits for company
            second = asyncio.ensure_future(
                batcher.add(Enrolment(offering_id, Person("mate.two@example.org")))
            )
            await asyncio.sleep(0.05)  # the second filled the batch and is sending it
            assert not first.done() and not second.done()
            second.cancel()
            with pytest.raises(APIConnectionError, match="cancelled"):
                await asyncio.wait_for(first, timeout=5)
            with pytest.raises(asyncio.CancelledError):
                await second
