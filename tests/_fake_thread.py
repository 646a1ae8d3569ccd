"""A fake server running in a background thread, for synchronous tools (schemathesis)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from iqualify_async.testing import FakeIQualify


@contextmanager
def fake_in_thread(**kwargs: object) -> Iterator[FakeIQualify]:
    loop = asyncio.new_event_loop()
    fake = FakeIQualify(**kwargs)  # type: ignore[arg-type]
    ready = threading.Event()
    stop = asyncio.Event()

    async def main() -> None:
        async with fake:
            ready.set()
            await stop.wait()

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    if not ready.wait(10):
        raise RuntimeError("fake server did not start")
    try:
        yield fake
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(10)
        loop.close()
