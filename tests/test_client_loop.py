"""A Client used from another event loop says so; the library's logger stays quiet unasked."""

from __future__ import annotations

import asyncio
import logging

import pytest

from iqualify_async import Client, ClientClosedError
from iqualify_async.testing import FakeIQualify


def test_a_client_from_an_ended_event_loop_says_what_happened() -> None:
    async def opened() -> tuple[FakeIQualify, Client]:
        fake = FakeIQualify("loop-key-0123456789", seed="demo")
        await fake.start()
        iq = Client(api_key=fake.api_key, base_url=fake.base_url)
        await iq.open()
        return fake, iq

    _fake, iq = asyncio.run(opened())

    async def use() -> None:
        await iq.request("GET", "/org")

    with pytest.raises(ClientClosedError, match="opened in another event loop \\(which has ended"):
        asyncio.run(use())
    # Nothing was sent: the pool holds no connection; mark it closed so that nothing warns.
    session = iq._session
    assert session is not None and session.connector is not None
    session.connector._close()


def test_the_library_logger_has_a_null_handler() -> None:
    handlers = logging.getLogger("iqualify_async").handlers
    assert any(isinstance(h, logging.NullHandler) for h in handlers)
