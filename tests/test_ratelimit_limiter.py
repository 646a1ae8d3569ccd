"""The adaptive limiter on a fake clock: pacing, pauses, AIMD arithmetic, cancellation."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from iqualify_async import Client, ConfigurationError, RateLimit, RetryPolicy, events
from iqualify_async._ratelimit import AdaptiveLimiter
from iqualify_async._stats import ClientStats

from .conftest import RecordingServer


class FakeClock:
    """Virtual time: ``sleep`` advances it. Only the limiter's head waiter sleeps, one at a time."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await asyncio.sleep(0)


def make(clock: FakeClock, **settings: Any) -> tuple[AdaptiveLimiter, list[tuple[float, str]]]:
    changes: list[tuple[float, str]] = []
    limiter = AdaptiveLimiter(
        RateLimit(**settings),
        on_rate_change=lambda rate, reason: changes.append((rate, reason)),
        clock=clock,
        sleep=clock.sleep,
        stats=ClientStats(),
    )
    return limiter, changes


async def grant_times(limiter: AdaptiveLimiter, clock: FakeClock, n: int) -> list[float]:
    granted: list[tuple[int, float]] = []

    async def one(i: int) -> None:
        epoch = await limiter.acquire()
        granted.append((i, clock.now))
        limiter.release(200, epoch)

    await asyncio.gather(*(one(i) for i in range(n)))
    assert [i for i, _ in granted] == list(range(n)), "tokens must be handed out in arrival order"
    return [t for _, t in granted]


async def test_burst_goes_at_once_then_requests_are_paced_at_the_rate() -> None:
    clock = FakeClock()
    limiter, _ = make(clock, requests_per_second=10, burst=5, max_concurrency=None)
    times = await grant_times(limiter, clock, 25)
    assert times[:5] == [0.0] * 5
    assert times[5:] == pytest.approx([0.1 * k for k in range(1, 21)])
    assert limiter.stats.throttled == 20
    assert limiter.queued == 0


async def test_idle_time_refills_the_bucket_up_to_the_burst_only() -> None:
    clock = FakeClock()
    limiter, _ = make(clock, requests_per_second=10, burst=3, max_concurrency=None)
    await grant_times(limiter, clock, 3)
    clock.now += 60.0
    times = await grant_times(limiter, clock, 6)
    assert times[:3] == [60.0] * 3
    assert times[3:] == pytest.approx([60.1, 60.2, 60.3])


async def test_429_slows_down_and_pauses_everyone_for_retry_after() -> None:
    clock = FakeClock()
    limiter, changes = make(
        clock, requests_per_second=10, burst=1, max_concurrency=None, increase=0
    )
    epoch = await limiter.acquire()
    limiter.release(429, epoch, retry_after=2.0)
    assert limiter.rate == pytest.approx(6.0)
    assert changes == [(pytest.approx(6.0), "429")]
    assert limiter.paused_until == 2.0
    times = await grant_times(limiter, clock, 3)
    assert times == pytest.approx([2.0 + 1 / 6, 2.0 + 2 / 6, 2.0 + 3 / 6])


async def test_429_without_retry_after_pauses_for_the_configured_default() -> None:
    clock = FakeClock()
    limiter, _ = make(clock, requests_per_second=10, pause_without_retry_after=0.75)
    limiter.release(429, await limiter.acquire())
    assert limiter.paused_until == 0.75


async def test_a_wave_of_429s_from_one_overload_slows_down_once() -> None:
    clock = FakeClock()
    limiter, changes = make(clock, requests_per_second=100, burst=50, max_concurrency=None)
    epochs = [await limiter.acquire() for _ in range(50)]
    for epoch in epochs:  # all were sent before the client knew
        limiter.release(429, epoch, retry_after=1.0)
    assert limiter.stats.rate_decreases == 1
    assert limiter.rate == pytest.approx(60.0)
    assert len(changes) == 1
    later = await limiter.acquire()
    limiter.release(429, later, retry_after=1.0)  # sent after the decrease: a new overload
    assert limiter.stats.rate_decreases == 2
    assert limiter.rate == pytest.approx(36.0)


async def test_rate_never_falls_below_the_floor() -> None:
    clock = FakeClock()
    limiter, _ = make(clock, requests_per_second=2, burst=1, min_rate=1.5)
    for _ in range(5):
        limiter.on_rate_limited(limiter._epoch, 0.0)
    assert limiter.rate == 1.5


async def test_successes_add_rate_back_gradually_and_never_pass_the_ceiling() -> None:
    clock = FakeClock()
    limiter, changes = make(
        clock, requests_per_second=10, burst=1, max_concurrency=None, increase=0.05
    )
    limiter.release(200, await limiter.acquire())  # a success, then a 429: a limit found
    limiter.release(429, await limiter.acquire(), retry_after=0.0)
    assert limiter.rate == pytest.approx(6.0)
    # Back fast to 90% of the rate that met the 429 ...
    while clock.now < 1.0:
        limiter.release(200, await limiter.acquire())
    assert limiter.rate is not None and 9.0 <= limiter.rate <= 9.3
    # ... then gently: 5% of 9 per second, about 0.9 req/s over 2 s.
    while clock.now < 3.0:
        limiter.release(200, await limiter.acquire())
    assert limiter.rate == pytest.approx(9.9, abs=0.2)
    while limiter.rate is not None and limiter.rate < 10.0 and clock.now < 60:
        limiter.release(200, await limiter.acquire())
    assert limiter.rate == 10.0
    assert changes[-1] == (10.0, "recovered")
    for _ in range(20):
        limiter.release(200, await limiter.acquire())
    assert limiter.rate == 10.0


async def test_failures_without_an_answer_do_not_add_rate() -> None:
    clock = FakeClock()
    limiter, _ = make(clock, requests_per_second=10, burst=1)
    limiter.release(429, await limiter.acquire(), retry_after=0.0)
    before = limiter.rate
    for status in (0, 500, 503):
        limiter.release(status, await limiter.acquire())
    assert limiter.rate == before


async def test_adaptive_off_keeps_the_rate_fixed() -> None:
    clock = FakeClock()
    limiter, changes = make(clock, requests_per_second=10, adaptive=False)
    limiter.release(429, await limiter.acquire(), retry_after=5.0)
    assert limiter.rate == 10.0 and changes == [] and limiter.paused_until < 0


async def test_concurrency_bound_holds() -> None:
    limiter, _ = make(FakeClock(), requests_per_second=None, max_concurrency=3)
    in_flight = peak = 0

    async def one() -> None:
        nonlocal in_flight, peak
        epoch = await limiter.acquire()
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        in_flight -= 1
        limiter.release(200, epoch)

    await asyncio.gather(*(one() for _ in range(20)))
    assert peak == 3 and limiter.in_flight == 0


async def test_cancelled_slot_waiters_leak_no_slot() -> None:
    limiter, _ = make(FakeClock(), requests_per_second=None, max_concurrency=2)
    held = [await limiter.acquire(), await limiter.acquire()]
    waiters = [asyncio.create_task(limiter.acquire()) for _ in range(5)]
    await asyncio.sleep(0)
    for task in waiters:
        task.cancel()
    await asyncio.gather(*waiters, return_exceptions=True)
    for epoch in held:
        limiter.release(200, epoch)
    assert limiter.in_flight == 0
    await asyncio.wait_for(asyncio.gather(limiter.acquire(), limiter.acquire()), 1)
    assert limiter.in_flight == 2


async def test_cancelled_token_waiters_leak_no_token_and_no_slot() -> None:
    clock = FakeClock()
    limiter, _ = make(clock, requests_per_second=10, burst=1, max_concurrency=50)
    granted: list[float] = []

    async def one() -> None:
        epoch = await limiter.acquire()
        granted.append(clock.now)
        limiter.release(200, epoch)

    clock_sleep = clock.sleep
    gate = asyncio.Event()

    async def slow_sleep(seconds: float) -> None:  # hold time still until the cancels happen
        await gate.wait()
        await clock_sleep(seconds)

    limiter._sleep = slow_sleep
    await one()  # takes the only token
    tasks = [asyncio.create_task(one()) for _ in range(10)]
    await asyncio.sleep(0)
    assert limiter.queued == 10
    for task in tasks[:3] + tasks[5:8]:  # the head (sleeping) among them
        task.cancel()
    await asyncio.sleep(0)
    gate.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    assert len(granted) == 1 + 4
    assert granted[1:] == pytest.approx([0.1, 0.2, 0.3, 0.4])
    assert limiter.queued == 0 and limiter.in_flight == 0
    assert [t.cancelled() for t in tasks].count(True) == 6


async def test_cancellation_of_a_task_just_handed_the_head_passes_it_on() -> None:
    clock = FakeClock()
    limiter, _ = make(clock, requests_per_second=10, burst=1, max_concurrency=None)
    limiter.release(200, await limiter.acquire())
    first = asyncio.create_task(limiter.acquire())
    second = asyncio.create_task(limiter.acquire())
    third = asyncio.create_task(limiter.acquire())
    await asyncio.sleep(0)
    await first  # hands the head to ``second`` ...
    second.cancel()  # ... which is cancelled before it runs
    await asyncio.wait_for(third, 1)
    assert second.cancelled()
    assert limiter.queued == 0


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_concurrency": 0},
        {"requests_per_second": 0},
        {"requests_per_second": -1.0},
        {"burst": 0},
        {"decrease_factor": 1.0},
        {"decrease_factor": 0},
        {"increase": -0.1},
        {"min_rate": 0},
    ],
)
def test_invalid_settings_are_refused_naming_the_field(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        RateLimit(**kwargs)


def test_client_settings_and_defaults() -> None:
    key = {"api_key": "limiter-key-0123456789", "base_url": "http://127.0.0.1:1/v1"}
    default = Client(**key)
    assert default.rate_limit == RateLimit(
        max_concurrency=10, requests_per_second=10.0, burst=20, adaptive=True
    )
    assert default.current_rate == 10.0
    assert Client(**key, rate_limit=None).rate_limit is None
    assert Client(**key, rate_limit=None).current_rate is None
    only_slots = Client(**key, rate_limit=None, max_concurrency=4).rate_limit
    assert only_slots is not None
    assert (only_slots.max_concurrency, only_slots.requests_per_second) == (4, None)
    custom = Client(**key, rate_limit=RateLimit(requests_per_second=50), max_concurrency=7)
    assert custom.rate_limit == RateLimit(requests_per_second=50, max_concurrency=7)
    with pytest.raises(ConfigurationError, match="max_concurrency"):
        Client(**key, max_concurrency=0)
    with pytest.raises(ConfigurationError, match="RateLimit"):
        Client(**key, rate_limit=10)  # type: ignore[arg-type]


async def test_client_slows_down_on_a_429_and_says_so(
    server: RecordingServer, caplog: pytest.LogCaptureFixture
) -> None:
    from aiohttp import web

    answers = [429]

    async def handler(request: web.Request) -> web.Response:
        status = answers.pop() if answers else 200
        return web.json_response({}, status=status, headers={"Retry-After": "0"})

    server.handler = handler
    seen: list[object] = []
    waits: list[float] = []

    async def no_sleep(seconds: float) -> None:
        waits.append(seconds)

    async with Client(
        api_key="limiter-key-0123456789",
        base_url=server.base_url,
        rate_limit=RateLimit(requests_per_second=100),
        retry=RetryPolicy(jitter=0),
        event_hooks=[seen.append],
    ) as iq:
        iq._sleep = no_sleep
        await iq.request("GET", "/x")
        assert iq.current_rate == pytest.approx(60.0, abs=1.0)  # lowered; one success back
    changed = [e for e in seen if isinstance(e, events.RateLimitChanged)]
    assert changed == [events.RateLimitChanged(pytest.approx(60.0), "429")]
    assert "slowing down to 60.00 requests/s" in caplog.text
    assert iq.stats.rate_decreases == 1 and iq.stats.rate_limited == 1
