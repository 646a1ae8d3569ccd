"""Shared fixtures: a scriptable loopback HTTP server that records what it receives."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, Any

import attrs
import pytest
from aiohttp import web

if TYPE_CHECKING:
    from iqualify_async.testing import FakeIQualify

API_KEY = "sk-test-0123456789-SECRET"


@attrs.define
class Recorded:
    method: str
    raw_path: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    peer: Any


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@attrs.define
class RecordingServer:
    """Answers every request with ``handler`` (JSON ``{}`` by default) and records it."""

    base_url: str = ""
    requests: list[Recorded] = attrs.field(factory=list)
    handler: Handler | None = None

    def reply(
        self,
        status: int = 200,
        body: Any = None,
        *,
        text: str | None = None,
        headers: dict[str, str] | None = None,
        content_type: str = "application/json",
    ) -> None:
        async def handler(request: web.Request) -> web.StreamResponse:
            if text is not None:
                return web.Response(
                    status=status, text=text, content_type=content_type, headers=headers
                )
            if body is None:
                return web.Response(status=status, headers=headers)
            return web.json_response(body, status=status, headers=headers)

        self.handler = handler


@pytest.fixture
async def server() -> AsyncIterator[RecordingServer]:
    recorder = RecordingServer()

    async def catch_all(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        recorder.requests.append(
            Recorded(
                method=request.method,
                raw_path=request.raw_path,
                path=request.path,
                query=dict(request.query),
                headers=dict(request.headers),
                body=body,
                peer=request.transport.get_extra_info("peername") if request.transport else None,
            )
        )
        if recorder.handler is None:
            return web.json_response({})
        return await recorder.handler(request)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", catch_all)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    recorder.base_url = f"http://127.0.0.1:{port}/v1"
    try:
        yield recorder
    finally:
        await runner.cleanup()


@pytest.fixture
async def never() -> AsyncIterator[asyncio.Event]:
    """An event set only at teardown: a handler awaiting it hangs until the client gives up."""
    event = asyncio.Event()
    yield event
    event.set()


def plain_client_options() -> dict[str, Any]:
    """Client options that turn retries off, so a test sees each answer exactly once."""
    import iqualify_async

    policy = getattr(iqualify_async, "RetryPolicy", None)
    return {} if policy is None else {"retry": policy(max_retries=0)}


THREAD_KEY = "thread-key-7f3a9c-SECRET"
"""The API key of the fake servers below."""


@pytest.fixture
def threaded_fake() -> Iterator[FakeIQualify]:
    """The demo organisation on a fake server in its own thread, fresh for each test: for code
    that runs ``asyncio.run`` itself (the command line)."""
    from ._fake_thread import fake_in_thread

    with fake_in_thread(api_key=THREAD_KEY, seed="demo") as running:
        yield running


@pytest.fixture(scope="module")
def module_threaded_fake() -> Iterator[FakeIQualify]:
    """Like ``threaded_fake``, shared by the tests of one module."""
    from ._fake_thread import fake_in_thread

    with fake_in_thread(api_key=THREAD_KEY, seed="demo") as running:
        yield running
