"""A 429's Retry-After advice, however large or odd, never pauses the client beyond the cap."""

from __future__ import annotations

import asyncio
import time

import pytest
from aiohttp import web

from iqualify_async import Client, RateLimit, RateLimitError, RetryPolicy
from iqualify_async._base_client import parse_retry_after

from .conftest import API_KEY, RecordingServer

CAP = 0.2


def first_429_then_ok(server: RecordingServer, advice: str) -> None:
    answered = 0

    async def handler(request: web.Request) -> web.StreamResponse:
        nonlocal answered
        answered += 1
        if answered == 1:
            return web.json_response({}, status=429, headers={"Retry-After": advice})
        return web.json_response({"ok": answered})

    server.handler = handler


def client(server: RecordingServer) -> Client:
    return Client(
        api_key=API_KEY,
        base_url=server.base_url,
        retry=RetryPolicy(max_retry_after=CAP, backoff_base=0.01, jitter=0),
        rate_limit=RateLimit(requests_per_second=100, pause_without_retry_after=0.05),
    )


@pytest.mark.parametrize(
    ("advice", "at_least"),
    [
        ("999999", 999999.0),
        ("inf", float("inf")),
        ("1e400", float("inf")),
        ("Fri, 31 Dec 9999 23:59:59 GMT", 2e11),  # some 8,000 years from now
    ],
)
async def test_huge_advice_raises_at_once_and_the_next_call_is_not_held(
    server: RecordingServer, advice: str, at_least: float
) -> None:
    first_429_then_ok(server, advice)
    async with client(server) as iq:
        with pytest.raises(RateLimitError) as info:
            await iq.request("GET", "/org")
        retry_after = info.value.retry_after  # the advice, for the caller to act on
        assert retry_after is not None and retry_after >= at_least
        started = time.monotonic()
        assert await asyncio.wait_for(iq.request("GET", "/org"), 5) == {"ok": 2}
        assert time.monotonic() - started < CAP + 1.5  # not 999999 s: paused CAP at most
    assert len(server.requests) == 2


@pytest.mark.parametrize(
    ("advice", "parsed"),
    [
        ("-5", 0.0),
        ("nan", None),
        ("soon-ish", None),
        ("", None),
        ("Thu, 01 Jan 1970 00:00:00 GMT", 0.0),
    ],
)
async def test_negative_nan_garbage_and_past_advice_retry_promptly(
    server: RecordingServer, advice: str, parsed: float | None
) -> None:
    assert parse_retry_after(advice) == parsed
    first_429_then_ok(server, advice)
    async with client(server) as iq:
        started = time.monotonic()
        assert await asyncio.wait_for(iq.request("GET", "/org"), 5) == {"ok": 2}
        assert time.monotonic() - started < 1.5
        assert iq.stats.retries_by_reason["429"] == 1
