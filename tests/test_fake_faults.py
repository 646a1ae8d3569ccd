"""Fault injection: latency, rate limit, server errors, resets and apply-then-drop."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import aiohttp
import pytest

from iqualify_async.testing import FakeIQualify, Faults

KEY = "fault-key-0123456789"


class ManualClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    # no connection reuse: a dropped connection must not be silently retried by the client
    async with aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(force_close=True), headers={"Authorization": KEY}
    ) as s:
        yield s


async def _status(session: aiohttp.ClientSession, url: str) -> tuple[int, dict[str, str]]:
    async with session.get(url) as r:
        await r.read()
        return r.status, dict(r.headers)


async def test_latency_delays_answers(session: aiohttp.ClientSession) -> None:
    async with FakeIQualify(api_key=KEY, faults=Faults(latency_ms=30, jitter_ms=10)) as fake:
        started = time.perf_counter()
        assert (await _status(session, fake.base_url + "/org"))[0] == 200
        assert time.perf_counter() - started >= 0.03
        assert fake.stats.faults["latency"] == 1


async def test_token_bucket_answers_429_with_retry_after(session: aiohttp.ClientSession) -> None:
    clock = ManualClock()
    faults = Faults(rate_limit=2, burst=3)
    async with FakeIQualify(api_key=KEY, faults=faults, clock=clock) as fake:
        url = fake.base_url + "/org"
        statuses = [(await _status(session, url))[0] for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        async with session.get(url) as r:
            assert r.status == 429
            assert r.headers["Retry-After"] == "1"
            assert await r.json() == {
                "error": {"name": "TooManyRequestsError", "details": "Request rate is too large."}
            }
        clock.now += 0.5  # one token back at 2 per second
        assert [(await _status(session, url))[0] for _ in range(2)] == [200, 429]
        fake.faults.retry_after = False
        status, headers = await _status(session, url)
        assert status == 429 and "Retry-After" not in headers
        fake.faults.rate_limit = None
        assert (await _status(session, url))[0] == 200
        assert fake.stats.faults["rate_limit"] == 4
        assert fake.stats.requests[("GET /org", 429)] == 4


async def test_random_server_errors_follow_the_rate_and_seed(
    session: aiohttp.ClientSession,
) -> None:
    async with FakeIQualify(api_key=KEY) as fake:
        url = fake.base_url + "/org"
        fake.faults = Faults(error_rate=1.0, error_statuses=(502, 503))
        first = [(await _status(session, url))[0] for _ in range(10)]
        assert set(first) <= {502, 503} and len(set(first)) == 2
        fake.faults = Faults(error_rate=1.0, error_statuses=(502, 503))
        assert [
            (await _status(session, url))[0] for _ in range(10)
        ] == first  # same seed, same dice
        fake.faults = Faults(error_rate=0.3, seed=7)
        mixed = [(await _status(session, url))[0] for _ in range(50)]
        assert 5 <= sum(s >= 500 for s in mixed) <= 25 and 200 in mixed
        assert fake.stats.faults["error"] == 20 + sum(s >= 500 for s in mixed)


async def test_reset_closes_the_connection_before_handling(session: aiohttp.ClientSession) -> None:
    async with FakeIQualify(api_key=KEY, seed="demo", faults=Faults(reset_rate=1.0)) as fake:
        with pytest.raises(aiohttp.ClientConnectionError):
            await session.post(fake.base_url + "/users", json={"email": "r@example.com"})
        assert "r@example.com" not in fake.state.users
        assert fake.stats.faults["reset"] == 1
        assert fake.stats.requests[("POST /users", 0)] == 1
        assert sum(fake.stats.writes.values()) == 0


async def test_apply_then_drop_applies_the_write_but_sends_nothing(
    session: aiohttp.ClientSession,
) -> None:
    async with FakeIQualify(
        api_key=KEY, seed="demo", faults=Faults(apply_then_drop_rate=1.0)
    ) as fake:
        with pytest.raises(aiohttp.ClientConnectionError):
            await session.post(fake.base_url + "/users", json={"email": "d@example.com"})
        assert "d@example.com" in fake.state.users
        assert fake.stats.writes["POST /users"] == 1
        assert fake.stats.faults["apply_then_drop"] == 1
        # reads are never dropped; a blind re-send is visible as a duplicate attempt
        assert (await _status(session, fake.base_url + "/users/d%40example.com"))[0] == 200
        fake.faults.apply_then_drop_rate = 0.0
        async with session.post(fake.base_url + "/users", json={"email": "d@example.com"}) as r:
            assert r.status == 400 and (await r.json())["error"]["name"] == "ObjectExistsError"
        assert fake.stats.writes["POST /users"] == 1


def test_faults_refuse_nonsense() -> None:
    for bad in ({"error_rate": 1.5}, {"rate_limit": 0}, {"burst": 0}, {"error_statuses": (404,)}):
        with pytest.raises(ValueError):
            Faults(**bad)  # type: ignore[arg-type]
