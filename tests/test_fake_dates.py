"""The fake refuses date-times it could not give back: years before 1000, no offset."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from iqualify_async.testing import FakeIQualify

from ._fake_http import Api


@pytest.fixture
async def api() -> AsyncIterator[tuple[Api, str]]:
    async with FakeIQualify(api_key="d", seed="demo") as fake, aiohttp.ClientSession() as s:
        yield Api(s, fake.base_url, "d"), sorted(fake.state.offerings)[0]


@pytest.mark.parametrize("start", ["0999-12-31T00:00:00Z", "2024-01-02T00:00:00", "2024-01-02"])
async def test_a_date_time_the_fake_cannot_give_back_is_refused(
    api: tuple[Api, str], start: str
) -> None:
    call, offering = api
    status, body = await call("PATCH", f"/offerings/{offering}", {"start": start})
    assert status == 400 and body["error"]["name"] == "SchemaValidationError"


async def test_a_date_time_in_range_is_kept(api: tuple[Api, str]) -> None:
    call, offering = api
    status, body = await call("PATCH", f"/offerings/{offering}", {"start": "1000-01-01T00:00:00Z"})
    assert status == 200 and body["start"].startswith("1000-01-01T00:00:00")
