"""The one micro-batcher behind enrolment and a marker's learners, and its split rule."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from iqualify_async import (
    APIError,
    BadRequestError,
    Client,
    NotFoundError,
    RateLimit,
    RateLimitError,
    RetryPolicy,
)
from iqualify_async.bulk import Person
from iqualify_async.bulk.batcher import split_refused
from iqualify_async.bulk.companions import _marker_batcher
from iqualify_async.bulk.enrol import Enrolment, _Batcher
from iqualify_async.testing import FakeIQualify, Faults
from iqualify_async.testing.state import Offering

KEY = "microbatch-key-0123456789"
ROUTES = {
    "enrol": "POST /offerings/{offeringId}/users",
    "marker": "POST /offerings/{offeringId}/users/{markerEmail}/marks",
}


@pytest.mark.parametrize(
    ("status", "items", "split"),
    [
        (400, 2, True),
        (409, 3, True),
        (422, 2, True),
        (400, 1, False),  # one item has its own answer already
        (401, 2, False),  # the key: every item's answer
        (403, 2, False),
        (404, 2, False),  # the offering, the marker: every item's answer
        (429, 2, False),  # the rate: sending each alone would only add requests
        (500, 2, False),
    ],
)
def test_the_split_rule(status: int, items: int, split: bool) -> None:
    assert split_refused(APIError(status), items) is split


def test_only_api_errors_split() -> None:
    assert not split_refused(ValueError("x"), 3)


Sender = Callable[[list[str]], Awaitable[list[BaseException | object]]]


def sender(caller: str, iq: Client, offering_id: str, marker: str) -> Sender:
    """Sends a batch of emails through one caller of the micro-batcher, together."""
    if caller == "enrol":
        enrol = _Batcher(iq, batch_size=10, concurrency=1, send_invite=None)

        def one(email: str) -> Awaitable[object]:
            return enrol.add(Enrolment(offering_id, Person(email)))
    else:
        marks = _marker_batcher(iq, offering_id, marker, batch_size=10, concurrency=1)

        def one(email: str) -> Awaitable[object]:
            return marks.add("", email)

    async def send(emails: list[str]) -> list[BaseException | object]:
        return await asyncio.gather(*(one(e) for e in emails), return_exceptions=True)

    return send


def client(fake: FakeIQualify) -> Client:
    limit = RateLimit(max_concurrency=10, requests_per_second=None)
    return Client(
        api_key=KEY, base_url=fake.base_url, rate_limit=limit, retry=RetryPolicy(max_retries=0)
    )


def marker_of(offering: Offering) -> str:
    return next(k for k, e in offering.enrolments.items() if e.is_marker)


@pytest.mark.parametrize("caller", sorted(ROUTES))
async def test_a_batch_refused_as_a_whole_is_sent_again_item_by_item(caller: str) -> None:
    async with FakeIQualify(KEY, seed="demo") as fake:
        offering = fake.state.offerings[sorted(fake.state.offerings)[0]]
        # Every one of them is refused: enrolled already (enrol), not in the offering (marker).
        if caller == "enrol":
            people = [k for k, e in offering.enrolments.items() if e.is_learner][:3]
        else:
            people = [k for k in fake.state.users if k not in offering.enrolments][:3]
        async with client(fake) as iq:
            results = await sender(caller, iq, offering.id, marker_of(offering))(people)
    assert len(people) == 3 and all(isinstance(r, BadRequestError) for r in results)
    for email, error in zip(people, results, strict=True):
        assert isinstance(error, BadRequestError) and email in str(error.details)
    assert fake.stats.by_route[ROUTES[caller]] == 1 + 3


@pytest.mark.parametrize("caller", sorted(ROUTES))
async def test_a_missing_target_is_every_items_answer(caller: str) -> None:
    async with FakeIQualify(KEY, seed="demo") as fake:
        offering = fake.state.offerings[sorted(fake.state.offerings)[0]]
        people = [k for k, e in offering.enrolments.items() if e.is_learner][:3]
        offering_id = "no-such-offering" if caller == "enrol" else offering.id
        async with client(fake) as iq:
            results = await sender(caller, iq, offering_id, "nobody@example.org")(people)
    assert all(isinstance(r, NotFoundError) for r in results)
    assert fake.stats.by_route[ROUTES[caller]] == 1


@pytest.mark.parametrize("caller", sorted(ROUTES))
async def test_a_rate_limited_batch_is_not_split(caller: str) -> None:
    faults = Faults(rate_limit=0.001, burst=1)
    async with FakeIQualify(KEY, seed="demo", faults=faults) as fake:
        offering = fake.state.offerings[sorted(fake.state.offerings)[0]]
        people = [k for k, e in offering.enrolments.items() if e.is_learner][:3]
        async with client(fake) as iq:
            await iq.org.get()  # takes the one token
            results = await sender(caller, iq, offering.id, marker_of(offering))(people)
    assert all(isinstance(r, RateLimitError) for r in results)
    assert fake.stats.by_route[ROUTES[caller]] == 1
