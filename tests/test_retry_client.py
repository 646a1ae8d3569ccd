"""Retries as a caller sees them: scripted answer sequences from a loopback server, fake sleep."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import AsyncIterator
from email.utils import formatdate
from typing import Any

import pytest
from aiohttp import web

from iqualify_async import (
    AmbiguousWriteError,
    APIConnectionError,
    APITimeoutError,
    Client,
    ConfigurationError,
    NotFoundError,
    RateLimitError,
    RetryPolicy,
    ServerError,
    events,
)

from .conftest import RecordingServer

KEY = "sk-retry-test-SECRET-123"

Step = int | tuple[int, dict[str, str]] | str


class FakeSleep:
    """Records waits instead of sleeping; ``then`` runs on each wait (to change the world)."""

    def __init__(self) -> None:
        self.waits: list[float] = []
        self.then: Any = None

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        if self.then is not None:
            await self.then()
        await asyncio.sleep(0)


def script(server: RecordingServer, *steps: Step) -> None:
    """Answer successive requests with ``steps``: a status, (status, headers), "drop" or "hang".

    After the script runs out every request gets 200 ``{"ok": true}``.
    """
    pending = list(steps)

    async def handler(request: web.Request) -> web.StreamResponse:
        await request.read()
        step = pending.pop(0) if pending else 200
        if step == "drop":
            assert request.transport is not None
            request.transport.abort()
            return web.Response()
        if step == "hang":  # until the client gives up and closes the connection
            for _ in range(1000):
                if request.transport is None or request.transport.is_closing():
                    break
                await asyncio.sleep(0.01)
            return web.Response()
        status, headers = step if isinstance(step, tuple) else (step, {})
        assert isinstance(status, int)
        if status == 204:
            return web.Response(status=204, headers=headers)
        body = {"ok": True} if status < 300 else {"name": "Err", "details": str(status)}
        return web.json_response(body, status=status, headers=headers)

    server.handler = handler


def sent(server: RecordingServer, method: str | None = None) -> int:
    return sum(1 for r in server.requests if method is None or r.method == method)


@pytest.fixture
def sleep() -> FakeSleep:
    return FakeSleep()


@pytest.fixture
def seen() -> list[object]:
    return []


@pytest.fixture
async def iq(
    server: RecordingServer, sleep: FakeSleep, seen: list[object]
) -> AsyncIterator[Client]:
    async with Client(
        api_key=KEY,
        base_url=server.base_url,
        retry=RetryPolicy(max_retries=2, jitter=0),
        rate_limit=None,
        timeout=5.0,
        event_hooks=[seen.append],
    ) as client:
        client._sleep = sleep
        yield client


async def test_503s_then_success_returns_the_answer_after_two_backoffs(
    iq: Client, server: RecordingServer, sleep: FakeSleep, seen: list[object]
) -> None:
    script(server, 503, 503)
    assert await iq.request("GET", "/offerings") == {"ok": True}
    assert sleep.waits == [0.5, 1.0]
    assert iq.stats.requests == 3 and sent(server) == 3
    assert iq.stats.retries_by_reason == {"503": 2}
    assert iq.stats.wait_seconds == pytest.approx(1.5)
    scheduled = [e for e in seen if isinstance(e, events.RetryScheduled)]
    assert [(e.attempt, e.reason, e.wait) for e in scheduled] == [(2, "503", 0.5), (3, "503", 1.0)]
    assert [e.attempt for e in seen if isinstance(e, events.RequestStarted)] == [1, 2, 3]


async def test_gives_up_after_max_retries_with_the_last_error(
    iq: Client, server: RecordingServer, sleep: FakeSleep
) -> None:
    script(server, 500, 504, 502)
    with pytest.raises(ServerError) as info:
        await iq.request("GET", "/offerings")
    assert info.value.status == 502
    assert sent(server) == 3 and len(sleep.waits) == 2


async def test_retry_after_seconds_is_waited_exactly(
    iq: Client, server: RecordingServer, sleep: FakeSleep
) -> None:
    script(server, (429, {"Retry-After": "3"}))
    await iq.request("GET", "/offerings")
    assert sleep.waits == [3.0]
    assert iq.stats.rate_limited == 1
    assert iq.stats.retries_by_reason == {"429": 1}


async def test_retry_after_http_date_is_honoured(
    iq: Client, server: RecordingServer, sleep: FakeSleep
) -> None:
    script(server, (503, {"Retry-After": formatdate(time.time() + 5, usegmt=True)}))
    await iq.request("GET", "/offerings")
    assert len(sleep.waits) == 1 and 3.0 <= sleep.waits[0] <= 5.0


async def test_retry_after_beyond_the_cap_raises_rate_limit_error_with_the_advice(
    iq: Client, server: RecordingServer, sleep: FakeSleep
) -> None:
    script(server, (429, {"Retry-After": "600"}))
    with pytest.raises(RateLimitError) as info:
        await iq.request("GET", "/offerings")
    assert info.value.retry_after == 600
    assert sleep.waits == [] and sent(server) == 1


async def test_per_call_policy_overrides_the_client_default(
    iq: Client, server: RecordingServer, sleep: FakeSleep
) -> None:
    script(server, 503)
    with pytest.raises(ServerError):
        await iq.request("GET", "/offerings", retry=RetryPolicy(max_retries=0))
    assert sent(server) == 1 and sleep.waits == []

    script(server, 500, 500, 500, 500)
    raw = await iq.request_raw("GET", "/offerings", retry=RetryPolicy(max_retries=4, jitter=0))
    assert raw.data == {"ok": True}
    assert sleep.waits == [0.5, 1.0, 2.0, 4.0]


async def test_client_policy_applies_to_every_call(server: RecordingServer) -> None:
    script(server, 503, 503, 503)
    async with Client(
        api_key=KEY, base_url=server.base_url, retry=RetryPolicy(max_retries=1), rate_limit=None
    ) as iq:
        iq._sleep = FakeSleep()
        with pytest.raises(ServerError):
            await iq.request("GET", "/offerings")
        assert iq.retry_policy.max_retries == 1
    assert sent(server) == 2


async def test_max_total_wait_stops_before_a_wait_that_would_pass_it(
    iq: Client, server: RecordingServer, sleep: FakeSleep
) -> None:
    script(server, 500, 500, 500, 500, 500)
    policy = RetryPolicy(max_retries=4, jitter=0, max_total_wait=3.0)
    with pytest.raises(ServerError):
        await iq.request("GET", "/offerings", retry=policy)
    assert sleep.waits == [0.5, 1.0]  # the next wait (2.0) would make 3.5 s
    assert sent(server) == 3


@pytest.mark.parametrize("status", [400, 401, 403, 409, 422])
async def test_client_errors_are_raised_at_once(
    iq: Client, server: RecordingServer, sleep: FakeSleep, status: int
) -> None:
    script(server, status)
    with pytest.raises(Exception) as info:
        await iq.request("GET", "/offerings")
    assert getattr(info.value, "status", None) == status
    assert sent(server) == 1 and sleep.waits == []


async def test_not_found_is_not_retried_even_for_reads(iq: Client, server: RecordingServer) -> None:
    script(server, 404)
    with pytest.raises(NotFoundError):
        await iq.request("GET", "/offerings")
    assert iq.stats.retries == 0


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
async def test_idempotent_methods_retry_timeouts_and_dropped_connections(
    iq: Client, server: RecordingServer, method: str
) -> None:
    script(server, "hang", "drop", 204)
    assert await iq.request(method, "/offerings", json={"a": 1}, timeout=0.1) is None
    assert iq.stats.retries_by_reason == {"timeout": 1, "connection": 1}
    assert iq.stats.ambiguous_writes == 0
    assert sent(server, method) == 3 == iq.stats.requests  # no re-send the policy did not count


async def test_post_5xx_is_raised_without_a_retry(
    iq: Client, server: RecordingServer, sleep: FakeSleep
) -> None:
    script(server, 500)
    with pytest.raises(ServerError):
        await iq.request("POST", "/offerings", json={"name": "x"})
    assert sent(server, "POST") == 1 and sleep.waits == []


async def test_post_retries_answers_that_prove_nothing_was_applied(
    iq: Client, server: RecordingServer, sleep: FakeSleep
) -> None:
    script(server, (429, {"Retry-After": "1"}), (503, {"Retry-After": "2"}))
    assert await iq.request("POST", "/offerings", json={}) == {"ok": True}
    assert sleep.waits == [1.0, 2.0]
    assert sent(server, "POST") == 3


async def test_post_503_without_retry_after_is_not_retried(
    iq: Client, server: RecordingServer
) -> None:
    script(server, 503)
    with pytest.raises(ServerError):
        await iq.request("POST", "/offerings", json={})
    assert sent(server, "POST") == 1


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def test_post_retries_a_refused_connection() -> None:
    port = _free_port()
    received: list[str] = []

    async def created(request: web.Request) -> web.Response:
        received.append(request.method)
        return web.json_response({"id": "n"}, status=201)

    app = web.Application()
    app.router.add_post("/v1/offerings", created)
    runner = web.AppRunner(app)
    await runner.setup()
    sleep = FakeSleep()

    async def start_server() -> None:
        await web.TCPSite(runner, "127.0.0.1", port).start()

    sleep.then = start_server
    try:
        async with Client(
            api_key=KEY, base_url=f"http://127.0.0.1:{port}/v1", rate_limit=None
        ) as iq:
            iq._sleep = sleep
            assert await iq.request("POST", "/offerings", json={}) == {"id": "n"}
            assert iq.stats.retries_by_reason == {"connection": 1}
            assert iq.stats.ambiguous_writes == 0
    finally:
        await runner.cleanup()
    assert received == ["POST"]


async def test_refused_connection_exhausting_retries_is_a_plain_connection_error() -> None:
    async with Client(
        api_key=KEY, base_url=f"http://127.0.0.1:{_free_port()}/v1", rate_limit=None
    ) as iq:
        iq._sleep = FakeSleep()
        with pytest.raises(APIConnectionError) as info:
            await iq.request("POST", "/offerings", json={})
    assert not isinstance(info.value, AmbiguousWriteError)
    assert info.value.request_sent is False
    assert iq.stats.retries_by_reason == {"connection": 5}


@pytest.mark.parametrize("failure", ["drop", "hang"])
@pytest.mark.parametrize("method", ["POST", "PATCH"])
async def test_ambiguous_write_is_reported_and_never_resent(
    iq: Client,
    server: RecordingServer,
    sleep: FakeSleep,
    caplog: pytest.LogCaptureFixture,
    method: str,
    failure: str,
) -> None:
    script(server, failure)
    caplog.set_level(logging.INFO, logger="iqualify_async")
    with pytest.raises(AmbiguousWriteError) as info:
        await iq.request(method, "/offerings", json={"name": "x"}, timeout=0.1)
    error = info.value
    assert (error.method, error.url) == (method, server.base_url + "/offerings")
    assert error.cause.request_sent is not False
    assert isinstance(error.cause, APITimeoutError) == (failure == "hang")
    assert sent(server, method) == 1 and sleep.waits == []
    assert iq.stats.ambiguous_writes == 1
    assert "may or may not have been applied" in caplog.text
    assert KEY not in caplog.text and KEY not in str(error)


async def test_ambiguous_write_after_a_retry_is_still_reported(
    iq: Client, server: RecordingServer
) -> None:
    script(server, 429, "drop")
    with pytest.raises(AmbiguousWriteError):
        await iq.request("POST", "/offerings", json={})
    assert sent(server, "POST") == 2
    assert iq.stats.ambiguous_writes == 1


async def test_ambiguous_write_is_reported_even_with_retries_off(
    iq: Client, server: RecordingServer
) -> None:
    script(server, "drop")
    with pytest.raises(AmbiguousWriteError):
        await iq.request("POST", "/offerings", json={}, retry=RetryPolicy(max_retries=0))
    assert iq.stats.ambiguous_writes == 1


async def test_retry_unsafe_opts_a_write_into_full_retries(
    iq: Client, server: RecordingServer
) -> None:
    script(server, "drop", 500)
    assert await iq.request("POST", "/offerings", json={}, retry_unsafe=True) == {"ok": True}
    assert sent(server, "POST") == 3
    assert iq.stats.ambiguous_writes == 0


async def test_retries_are_logged_without_the_key(
    iq: Client, server: RecordingServer, caplog: pytest.LogCaptureFixture
) -> None:
    script(server, 503)
    caplog.set_level(logging.INFO, logger="iqualify_async")
    await iq.request("GET", "/offerings")
    lines = [r.getMessage() for r in caplog.records if "retry" in r.getMessage()]
    assert lines == ["GET /v1/offerings failed (503); retry 1 of 2 in 0.50 s"]
    assert KEY not in caplog.text


async def test_bad_retry_argument_is_refused_before_sending(server: RecordingServer) -> None:
    with pytest.raises(ConfigurationError, match="RetryPolicy"):
        Client(api_key=KEY, base_url=server.base_url, retry=3)  # type: ignore[arg-type]
    async with Client(api_key=KEY, base_url=server.base_url) as iq:
        bad: Any = {"max_retries": 1}
        with pytest.raises(ConfigurationError, match="RetryPolicy"):
            await iq.request("GET", "/offerings", retry=bad)
    assert sent(server) == 0


async def test_jitter_keeps_waits_within_the_documented_band(server: RecordingServer) -> None:
    script(server, *[504] * 6)
    async with Client(api_key=KEY, base_url=server.base_url, rate_limit=None) as iq:
        sleep = FakeSleep()
        iq._sleep = sleep
        with pytest.raises(ServerError):
            await iq.request("GET", "/offerings")
    assert sent(server) == 6  # the default: five retries
    bands = [(0.375, 0.5), (0.75, 1.0), (1.5, 2.0), (3.0, 4.0), (6.0, 8.0)]
    assert all(low <= w <= high for w, (low, high) in zip(sleep.waits, bands, strict=True))
    assert len(set(sleep.waits)) == 5
