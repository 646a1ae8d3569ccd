"""Timeout.deadline bounds a whole call: limiter waits, every attempt and every backoff."""

from __future__ import annotations

import asyncio
import pickle
import socket
import time

import pytest
from aiohttp import web

from iqualify_async import (
    AmbiguousWriteError,
    APIConnectionError,
    Client,
    DeadlineExceededError,
    RateLimit,
    RateLimitError,
    RetryPolicy,
    ServerError,
    Timeout,
)

from .conftest import API_KEY, RecordingServer


class FakeTime:
    """Virtual time for the client: its backoff sleeps advance the clock at once."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.waits: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


def dead_url() -> str:
    with socket.socket() as sock:  # a port nobody listens on: every connection is refused
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


async def test_no_retry_whose_backoff_would_pass_the_deadline() -> None:
    fake = FakeTime()
    async with Client(
        api_key=API_KEY,
        base_url=dead_url(),
        timeout=Timeout(deadline=3.0),
        retry=RetryPolicy(max_retries=10, backoff_base=0.5, jitter=0),
        rate_limit=None,
    ) as iq:
        iq._clock, iq._sleep = fake, fake.sleep
        with pytest.raises(DeadlineExceededError) as info:
            await iq.org.get()
    error = info.value
    assert fake.waits == [0.5, 1.0]  # the next wait (2 s) would end past the 3 s deadline
    assert (error.attempts, error.elapsed, error.deadline) == (3, 1.5, 3.0)
    assert isinstance(error.last_error, APIConnectionError)
    assert "deadline of 3 s passed after 3 attempts in 1.50 s (last: cannot connect" in str(error)
    assert error.request_sent is None
    copy = pickle.loads(pickle.dumps(error))
    assert (type(copy), str(copy), copy.attempts) == (type(error), str(error), 3)


async def test_limiter_waits_count_against_the_deadline(server: RecordingServer) -> None:
    server.reply(429, {"name": "TooManyRequestsError"}, headers={"Retry-After": "30"})
    async with Client(
        api_key=API_KEY,
        base_url=server.base_url,
        retry=RetryPolicy(max_retries=0),
        rate_limit=RateLimit(requests_per_second=100),
    ) as iq:
        with pytest.raises(RateLimitError):
            await iq.request("GET", "/org")  # the whole client now pauses for 30 s
        started = time.monotonic()
        with pytest.raises(DeadlineExceededError) as info:
            await iq.request("GET", "/org", timeout=Timeout(deadline=0.2))
        took = time.monotonic() - started
        with pytest.raises(DeadlineExceededError) as write_info:
            await iq.request("POST", "/things", json={}, timeout=Timeout(deadline=0.05))
    assert 0.15 < took < 2.5  # not the 30 s pause
    assert info.value.attempts == 0 and info.value.request_sent is False
    assert "waiting for the rate limiter, before any attempt" in str(info.value)
    assert write_info.value.request_sent is False  # nothing was sent: safe to send again
    assert len(server.requests) == 1


async def test_the_last_attempt_is_cut_short_at_the_deadline(
    server: RecordingServer, never: asyncio.Event
) -> None:
    async def hang(request: web.Request) -> web.StreamResponse:
        await never.wait()
        return web.json_response({})

    server.handler = hang
    limits = Timeout(connect=10, total=60, deadline=0.3)
    async with Client(api_key=API_KEY, base_url=server.base_url, timeout=limits) as iq:
        started = time.monotonic()
        with pytest.raises(DeadlineExceededError) as info:
            await iq.request("GET", "/org")
        took = time.monotonic() - started
        with pytest.raises(AmbiguousWriteError):  # a write cut short may have been applied
            await iq.request("POST", "/things", json={})
    assert 0.25 < took < 2.5  # not the 60 s per-attempt limit
    assert info.value.attempts == 1 and "request timed out" in str(info.value)


async def test_client_default_deadline_and_per_call_seconds(server: RecordingServer) -> None:
    server.reply(503)
    fake = FakeTime()
    async with Client(
        api_key=API_KEY,
        base_url=server.base_url,
        timeout=Timeout(deadline=2.0),
        retry=RetryPolicy(max_retries=10, backoff_base=0.5, jitter=0),
        rate_limit=None,
    ) as iq:
        iq._clock, iq._sleep = fake, fake.sleep
        with pytest.raises(DeadlineExceededError) as info:
            await iq.request("GET", "/org", timeout=5.0)  # seconds per attempt, same deadline
        assert info.value.attempts == 3 and isinstance(info.value.last_error, ServerError)
        with pytest.raises(ServerError):  # a write is not retried after a 503: no deadline story
            await iq.request("POST", "/things", json={})
        fake.waits.clear()
        with pytest.raises(ServerError):  # no deadline: the retry policy alone decides
            await iq.request("GET", "/org", timeout=Timeout(), retry=RetryPolicy(max_retries=2))
        assert len(fake.waits) == 2


@pytest.mark.parametrize("value", [0, -1, float("nan")])
def test_deadline_must_be_positive(value: float) -> None:
    with pytest.raises(ValueError, match=r"Timeout\.deadline"):
        Timeout(deadline=value)
