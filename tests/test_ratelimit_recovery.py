"""After a storm of 429s the limiter is back near full speed within seconds (virtual time)."""

from __future__ import annotations

from .test_ratelimit_limiter import FakeClock, make


async def test_full_speed_within_seconds_of_the_end_of_a_storm() -> None:
    clock = FakeClock()
    limiter, changes = make(clock, requests_per_second=10, max_concurrency=None)
    while clock.now < 5.0:  # normal traffic at the ceiling
        limiter.release(200, await limiter.acquire())
    while clock.now < 35.0:  # 30 s of nothing but 429s, each advising 1 s
        limiter.release(429, await limiter.acquire(), retry_after=1.0)
    assert limiter.rate == 0.5  # as slow as it may go
    storm_end = clock.now
    while limiter.rate is not None and limiter.rate < 9.0 and clock.now < storm_end + 120:
        limiter.release(200, await limiter.acquire())
    recovery = clock.now - storm_end
    print(f"back to 90% of the ceiling {recovery:.1f} s after the storm")
    assert recovery < 8.0
    while clock.now < storm_end + 20:
        limiter.release(200, await limiter.acquire())
    assert limiter.rate == 10.0 and changes[-1] == (10.0, "recovered")


async def test_full_speed_within_seconds_of_the_end_of_a_brownout() -> None:
    clock = FakeClock()
    limiter, _ = make(clock, requests_per_second=10, max_concurrency=None)
    while clock.now < 5.0:
        limiter.release(200, await limiter.acquire())
    served_at = 0.0
    while clock.now < 35.0:  # the server takes one request a second and refuses the rest
        epoch = await limiter.acquire()
        if clock.now - served_at >= 1.0:
            served_at = clock.now
            limiter.release(200, epoch)
        else:
            limiter.release(429, epoch, retry_after=1.0)
    rate_in_brownout = limiter.rate
    assert rate_in_brownout is not None and rate_in_brownout < 2.0
    end = clock.now
    while limiter.rate is not None and limiter.rate < 9.0 and clock.now < end + 120:
        limiter.release(200, await limiter.acquire())
    recovery = clock.now - end
    print(f"back to 90% of the ceiling {recovery:.1f} s after the brownout")
    assert recovery < 10.0
