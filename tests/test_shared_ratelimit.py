"""RateLimit(shared=...): one budget in Redis for every process using a key."""

from __future__ import annotations

import asyncio
import logging
import math
import time

import pytest

from iqualify_async import Client, RateLimit, SharedLimitError, _shared_limit
from iqualify_async._ratelimit import AdaptiveLimiter
from iqualify_async._shared_limit import SharedLimiter, default_name
from iqualify_async.testing import FakeIQualify

from ._redis_service import REDIS_URL, OwnRedis, own_redis, redis_name  # noqa: F401  (fixtures)
from .conftest import API_KEY, RecordingServer

pytestmark = pytest.mark.services

DEAD_REDIS = "redis://:not-a-real-password@127.0.0.1:1/0"


@pytest.fixture
def new_budgets_at_the_ceiling(monkeypatch: pytest.MonkeyPatch) -> None:
    """New budgets start at ``requests_per_second`` (no slow start), for tests of other things."""
    monkeypatch.setattr(_shared_limit, "COLD_START", 1.0)


def shared_limiter(name: str, url: str = REDIS_URL, **settings: object) -> SharedLimiter:
    limit = RateLimit(shared=url, name=name, max_concurrency=None, **settings)  # type: ignore[arg-type]
    return SharedLimiter(limit, name=name)


async def count_grants(limiters: list[SharedLimiter], seconds: float) -> list[int]:
    """Tokens each limiter obtains in ``seconds`` with 5 greedy tasks each."""
    counts = [0] * len(limiters)
    end = time.monotonic() + seconds

    async def greedy(i: int) -> None:
        while True:
            epoch = await limiters[i].acquire()
            if time.monotonic() >= end:
                limiters[i].release(200, epoch)
                return
            counts[i] += 1
            limiters[i].release(200, epoch)

    await asyncio.gather(*(greedy(i) for i in range(len(limiters)) for _ in range(5)))
    return counts


@pytest.mark.usefixtures("new_budgets_at_the_ceiling")
async def test_two_limiters_share_one_budget(redis_name: str) -> None:  # noqa: F811
    alone = shared_limiter(redis_name + "-alone", requests_per_second=40, burst=4)
    a = shared_limiter(redis_name, requests_per_second=40, burst=4)
    b = shared_limiter(redis_name, requests_per_second=40, burst=4)
    try:
        (solo,) = await count_grants([alone], 0.5)
        both = await count_grants([a, b], 0.5)
    finally:
        for limiter in (alone, a, b):
            await limiter.aclose()
    # 0.5 s at 40/s plus the burst of 4: about 24 tokens, whether one process asks or two.
    assert 10 <= solo <= 26
    assert 10 <= sum(both) <= 26 and min(both) >= 3  # shared (not twice), both got a part


@pytest.mark.usefixtures("new_budgets_at_the_ceiling")
async def test_a_429_in_one_process_slows_and_pauses_the_others(redis_name: str) -> None:  # noqa: F811
    changes: list[tuple[float, str]] = []
    a = shared_limiter(redis_name, requests_per_second=50, burst=5)
    b = SharedLimiter(
        RateLimit(shared=REDIS_URL, name=redis_name, requests_per_second=50, burst=5),
        name=redis_name,
        on_rate_change=lambda rate, reason: changes.append((rate, reason)),
    )
    try:
        b.release(200, await b.acquire())
        b.release(429, await b.acquire(), retry_after=0.3)
        await asyncio.gather(*b._reports)
        assert changes == [(pytest.approx(30.0), "429")] and b.stats.rate_decreases == 1
        started = time.monotonic()
        a.release(200, await a.acquire())
        assert time.monotonic() - started >= 0.2  # the other process honoured the pause
        assert a.rate == pytest.approx(30.0)
        # A late 429 to a request sent before the slowdown changes nothing more.
        a.release(429, 0, retry_after=5.0)
        await asyncio.gather(*a._reports)
        assert a.stats.rate_decreases == 0
    finally:
        await a.aclose()
        await b.aclose()


def test_default_name_is_the_base_url_and_a_digest_never_the_key() -> None:
    name = default_name("https://api.iqualify.com/v1", API_KEY)
    assert name.startswith("https://api.iqualify.com/v1#") and API_KEY not in name
    assert default_name("https://api.iqualify.com/v1", API_KEY + "x") != name
    client = Client(api_key=API_KEY, rate_limit=RateLimit(shared=DEAD_REDIS))
    assert isinstance(client._limiter, SharedLimiter)
    assert client._limiter.key.endswith(name) and API_KEY not in client._limiter.key
    assert "not-a-real-password" not in repr(client.rate_limit)


async def test_redis_unreachable_falls_back_locally_with_one_warning(
    server: RecordingServer, caplog: pytest.LogCaptureFixture
) -> None:
    limit = RateLimit(shared=DEAD_REDIS, requests_per_second=20, expected_processes=4)
    async with Client(api_key=API_KEY, base_url=server.base_url, rate_limit=limit) as iq:
        results = await asyncio.gather(*(iq.request("GET", "/org") for _ in range(8)))
        assert iq.current_rate == 5.0  # 20 / 4 processes
    assert results == [{}] * 8 and len(server.requests) == 8
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "limiting this process alone at 5.00" in warnings[0].message
    assert "not-a-real-password" not in caplog.text


async def test_on_store_error_raise_stops_before_sending(server: RecordingServer) -> None:
    limit = RateLimit(shared=DEAD_REDIS, on_store_error="raise")
    async with Client(api_key=API_KEY, base_url=server.base_url, rate_limit=limit) as iq:
        with pytest.raises(SharedLimitError, match="unreachable") as info:
            await iq.request("GET", "/org")
    assert "not-a-real-password" not in str(info.value)
    assert info.value.__context__ is None and server.requests == []


@pytest.mark.slow
@pytest.mark.usefixtures("new_budgets_at_the_ceiling")
async def test_redis_killed_mid_run_and_restarted_loses_no_call(
    own_redis: OwnRedis,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A Redis of the test's own is killed while a job runs, then started again."""
    caplog.set_level(logging.INFO)
    calls, tasks = 300, 10
    limit = RateLimit(
        shared=own_redis.url,
        name="killed-mid-run",
        requests_per_second=400,
        max_concurrency=tasks,
        expected_processes=2,
    )
    async with (
        FakeIQualify(api_key=API_KEY) as fake,
        Client(api_key=API_KEY, base_url=fake.base_url, rate_limit=limit) as iq,
    ):
        limiter = iq._limiter
        assert isinstance(limiter, SharedLimiter)
        todo = iter(range(calls))
        done = 0

        async def worker() -> None:
            nonlocal done
            for _ in todo:
                await iq.request("GET", "/org")
                done += 1
                if done == calls // 3:
                    assert limiter.shared
                    await asyncio.to_thread(own_redis.kill)

        await asyncio.wait_for(asyncio.gather(*(worker() for _ in range(tasks))), 30.0)
        assert not limiter.shared and iq.current_rate == 200.0  # 400 / 2 processes
        assert fake.stats.requests == {("GET /org", 200): calls}  # each call made exactly once
        assert iq.stats.requests == calls
        await asyncio.to_thread(own_redis.start)
        limiter._down_until = 0.0  # do not wait for the next check, a second from now
        await asyncio.gather(*(iq.request("GET", "/org") for _ in range(20)))
        assert limiter.shared and iq.current_rate == 400.0
    assert fake.stats.requests == {("GET /org", 200): calls + 20}
    lines = [r for r in caplog.records if "shared rate limit" in r.message]
    assert [r.levelname for r in lines] == ["WARNING", "INFO"]
    assert f"127.0.0.1:{own_redis.port}" in lines[0].message


def test_shared_needs_a_rate_and_a_redis_url() -> None:
    with pytest.raises(ValueError, match="requests_per_second"):
        RateLimit(shared=REDIS_URL, requests_per_second=None)
    with pytest.raises(ValueError, match="on_store_error"):
        RateLimit(shared=REDIS_URL, on_store_error="ignore")
    with pytest.raises(ValueError, match="redis://"):
        Client(api_key=API_KEY, rate_limit=RateLimit(shared="http://127.0.0.1:6379"))


def test_local_limiter_unchanged_without_shared() -> None:
    client = Client(api_key=API_KEY, rate_limit=RateLimit())
    assert isinstance(client._limiter, AdaptiveLimiter)


def test_without_redis_the_tests_skip_saying_how_to_run_unless_required(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from . import _redis_service

    monkeypatch.setattr(_redis_service, "REDIS_URL", "redis://127.0.0.1:1/0")
    monkeypatch.delenv(_redis_service.REQUIRE_ENV, raising=False)
    with pytest.raises(pytest.skip.Exception, match="to run these tests, start Redis"):
        _redis_service.require_redis()
    monkeypatch.setenv(_redis_service.REQUIRE_ENV, "1")
    with pytest.raises(pytest.fail.Exception, match="IQUALIFY_REQUIRE_SERVICES=1 but Redis"):
        _redis_service.require_redis()


def test_without_redis_server_the_kill_test_skips_unless_required(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from . import _redis_service

    monkeypatch.setattr(_redis_service.shutil, "which", lambda name: None)
    monkeypatch.delenv(_redis_service.REQUIRE_ENV, raising=False)
    with pytest.raises(pytest.skip.Exception, match="redis-server is not on PATH; to run"):
        _redis_service.require_redis_server()
    monkeypatch.setenv(_redis_service.REQUIRE_ENV, "1")
    with pytest.raises(pytest.fail.Exception, match="IQUALIFY_REQUIRE_SERVICES=1 but redis-"):
        _redis_service.require_redis_server()


async def test_shared_concurrency_caps_requests_in_flight_across_processes(
    redis_name: str,  # noqa: F811
) -> None:
    a = shared_limiter(redis_name, requests_per_second=1000, shared_concurrency=2)
    b = shared_limiter(redis_name, requests_per_second=1000, shared_concurrency=2)
    try:
        held = [await a.acquire(), await a.acquire()]
        waiting = asyncio.ensure_future(b.acquire())
        await asyncio.sleep(0.2)
        assert not waiting.done()  # both slots are held by the other process
        a.release(200, held.pop())
        epoch = await asyncio.wait_for(waiting, 1.0)
        b.release(200, epoch)
        a.release(200, held.pop())
        await asyncio.gather(*a._reports, *b._reports)
    finally:
        await a.aclose()
        await b.aclose()


async def test_a_dead_holders_slot_is_freed_after_slot_ttl(redis_name: str) -> None:  # noqa: F811
    dead = shared_limiter(redis_name, requests_per_second=1000, shared_concurrency=1, slot_ttl=0.3)
    alive = shared_limiter(redis_name, requests_per_second=1000, shared_concurrency=1)
    try:
        await dead.acquire()  # and never released: its process "died"
        started = time.monotonic()
        alive.release(200, await asyncio.wait_for(alive.acquire(), 2.0))
        assert 0.2 <= time.monotonic() - started < 1.5
    finally:
        await dead.aclose()
        await alive.aclose()


async def test_shared_concurrency_falls_back_to_a_local_share(server: RecordingServer) -> None:
    limit = RateLimit(
        shared=DEAD_REDIS, requests_per_second=100, shared_concurrency=4, expected_processes=2
    )
    async with Client(api_key=API_KEY, base_url=server.base_url, rate_limit=limit) as iq:
        limiter = iq._limiter
        assert isinstance(limiter, SharedLimiter)
        held = [await limiter.acquire(), await limiter.acquire()]  # 4 / 2 processes
        third = asyncio.ensure_future(limiter.acquire())
        await asyncio.sleep(0.05)
        assert not third.done()
        limiter.release(200, held.pop())
        limiter.release(200, await asyncio.wait_for(third, 1.0))
        limiter.release(200, held.pop())
        assert await iq.request("GET", "/org") == {}


@pytest.mark.usefixtures("new_budgets_at_the_ceiling")
async def test_recovery_is_shared_and_fast(redis_name: str) -> None:  # noqa: F811
    a = shared_limiter(redis_name, requests_per_second=50, burst=5)
    b = shared_limiter(redis_name, requests_per_second=50, burst=5)
    try:
        a.release(200, await a.acquire())
        a.release(429, await a.acquire(), retry_after=0.0)
        await asyncio.gather(*a._reports)
        assert a.rate == pytest.approx(30.0)
        started = time.monotonic()
        b.release(200, await b.acquire())
        assert b.rate == pytest.approx(30.0)  # the other process saw the slowdown
        while (b.rate or 0.0) < 45.0 and time.monotonic() - started < 5.0:
            b.release(200, await b.acquire())  # the other process's successes lift the rate
        assert b.rate == pytest.approx(45.0, abs=0.5)  # 90% of the rate that met the 429
        assert time.monotonic() - started < 2.5
        a.release(200, await a.acquire())
        assert a.rate == pytest.approx(45.0, abs=1.0)  # seen by the first process too
    finally:
        await a.aclose()
        await b.aclose()


async def test_a_busy_process_does_not_pay_a_round_trip_per_request(
    redis_name: str,  # noqa: F811
) -> None:
    limiter = shared_limiter(redis_name, requests_per_second=1e6)
    try:
        granted = await count_grants([limiter], 0.3)
    finally:
        await limiter.aclose()
    assert granted[0] > 50
    assert limiter.round_trips <= 0.3 * granted[0]  # leases of a few tokens, fetched ahead


def test_a_new_budget_starts_at_a_sixteenth_of_the_ceiling_never_below_10() -> None:
    assert _shared_limit.cold_start_rate(1000.0) == 62.5
    assert _shared_limit.cold_start_rate(100.0) == 10.0
    assert _shared_limit.cold_start_rate(10.0) == 10.0  # the default: no slow start
    assert _shared_limit.cold_start_rate(4.0) == 4.0


async def test_a_new_budget_starts_low_and_doubles_with_successes(
    redis_name: str,  # noqa: F811
) -> None:
    a = shared_limiter(redis_name, requests_per_second=1600)
    b = shared_limiter(redis_name, requests_per_second=1600)
    try:
        a.release(200, await a.acquire())
        assert a.rate == pytest.approx(100.0)  # 1600 / 16, not the ceiling
        for _ in range(29):
            a.release(200, await a.acquire())
        b.release(200, await b.acquire())  # a has reported 29 or 30 of its 30 successes
        # Each success adds ln 2 / recovery_time: doubling every second of successes.
        assert 100.0 + 29 * math.log(2) - 0.1 <= (b.rate or 0.0) <= 100.0 + 30 * math.log(2) + 0.1
        assert b.stats.rate_decreases == 0
    finally:
        await a.aclose()
        await b.aclose()


async def test_slow_start_ends_at_the_first_429(redis_name: str) -> None:  # noqa: F811
    a = shared_limiter(redis_name, requests_per_second=1600, burst=5)
    try:
        for _ in range(3):
            a.release(200, await a.acquire())
        a.release(429, await a.acquire(), retry_after=0.0)
        await asyncio.gather(*a._reports)
        met = 100.0 + 2 * math.log(2)  # the rate that met the 429 (2 successes reported)
        assert a.rate == pytest.approx(0.6 * met, abs=0.5)
        for _ in range(60):
            a.release(200, await a.acquire())
        # Back up fast to 90% of the rate that met the 429, then only probing upward slowly.
        assert 0.9 * met - 0.5 <= (a.rate or 0.0) < met
    finally:
        await a.aclose()
