"""``FakeIQualify``: start the fake server on loopback, from tests, scripts or the command line."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from types import TracebackType

from aiohttp import web

from .app import API_PREFIX, Dispatcher, build_app
from .auth import KeyChecker
from .faults import Faults
from .seed import build_state
from .state import State
from .stats import FakeStats


class FakeIQualify:
    """A stateful stand-in for the iQualify Management API, served over HTTP on loopback.

    ``async with FakeIQualify(api_key="test-key-0123456789", seed="demo") as fake:`` then point a client at
    ``fake.base_url``. ``seed=None`` starts an empty organisation (one course, no users);
    ``"demo"`` (or any other string or integer) builds a realistic, deterministic one.
    ``faults`` (mutable, or replaced via ``fake.faults = Faults(...)``) injects latency, rate
    limits, errors and dropped connections; ``fake.stats`` counts what happened.
    """

    def __init__(
        self,
        api_key: str = "test-key-0123456789",
        *,
        seed: str | int | None = None,
        faults: Faults | None = None,
        read_only_key: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        state: State | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.api_key = api_key
        self.host = host
        self._port = port
        self.state = state if state is not None else build_state(seed, clock=clock or time.time)
        self._dispatcher = Dispatcher(
            self.state,
            KeyChecker(api_key, read_only_key),
            faults if faults is not None else Faults(),
            monotonic=clock or time.monotonic,
        )
        self.app = build_app(self._dispatcher)
        self._runner: web.AppRunner | None = None

    def __repr__(self) -> str:
        where = self.base_url if self._runner is not None else "not started"
        return f"<FakeIQualify {where}>"

    @property
    def stats(self) -> FakeStats:
        return self._dispatcher.stats

    @property
    def faults(self) -> Faults:
        return self._dispatcher.faults

    @faults.setter
    def faults(self, faults: Faults) -> None:
        self._dispatcher.faults = faults

    @property
    def port(self) -> int:
        if self._runner is None:
            raise RuntimeError("the fake server is not running")
        return self._port

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/v1``."""
        return f"http://{self.host}:{self.port}{API_PREFIX}"

    async def start(self) -> None:
        if self._runner is not None:
            return
        runner = web.AppRunner(self.app, access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self._port, reuse_address=True)
        await site.start()
        server = site._server
        if isinstance(server, asyncio.base_events.Server) and server.sockets:
            self._port = server.sockets[0].getsockname()[1]
        self._runner = runner
        self._dispatcher.base_url = self.base_url

    async def close(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> FakeIQualify:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


async def serve(
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    api_key: str = "test-key-0123456789",
    seed: str | int | None = "demo",
    faults: Faults | None = None,
    read_only_key: str | None = None,
    on_ready: Callable[[FakeIQualify], None] | None = None,
) -> None:
    """Run a fake server until cancelled; ``on_ready(fake)`` is called once it listens."""
    async with FakeIQualify(
        api_key, seed=seed, faults=faults, read_only_key=read_only_key, host=host, port=port
    ) as fake:
        if on_ready is not None:
            on_ready(fake)
        await asyncio.Event().wait()


def run_forever(
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    api_key: str = "test-key-0123456789",
    seed: str | int | None = "demo",
    faults: Faults | None = None,
    read_only_key: str | None = None,
    on_ready: Callable[[FakeIQualify], None] | None = None,
) -> None:
    """Blocking form of ``serve`` for command lines: runs until Ctrl-C."""
    try:
        asyncio.run(
            serve(
                host=host,
                port=port,
                api_key=api_key,
                seed=seed,
                faults=faults,
                read_only_key=read_only_key,
                on_ready=on_ready,
            )
        )
    except KeyboardInterrupt:
        pass
