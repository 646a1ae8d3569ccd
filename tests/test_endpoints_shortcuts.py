"""``users.unsuspend`` is ``users.suspend(..., suspended=False)`` by its name."""

from __future__ import annotations

from iqualify_async import Client
from iqualify_async.testing import FakeIQualify


async def test_suspend_and_unsuspend_against_the_fake() -> None:
    async with FakeIQualify("test-key-0123456789", seed="demo") as fake:
        user = next(iter(fake.state.users.values()))
        async with Client(api_key="test-key-0123456789", base_url=fake.base_url) as iq:
            await iq.users.suspend(user.email)
            suspended = user.suspended
            await iq.users.unsuspend(user.email)
    assert suspended is True and user.suspended is False
