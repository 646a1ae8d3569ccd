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


@pytest.mark.parametrize(
    "body",
    [
        {"start": "1000-01-01T00:30:00+01:00"},  # 0999-12-31 in UTC
        {"start": "2024-01-01T00:00:00Z", "end": "9999-12-31T23:30:00-02:00"},  # 10000 in UTC
    ],
)
async def test_the_year_range_is_checked_in_utc_and_the_org_stays_readable(
    api: tuple[Api, str], body: dict[str, str]
) -> None:
    call, offering = api
    status, answer = await call("PATCH", f"/offerings/{offering}", body)
    assert status == 400 and answer["error"]["name"] == "SchemaValidationError"
    status, one = await call("GET", f"/offerings/{offering}")
    assert status == 200 and one["start"][:4] != "999-"
    for path in ("/offerings", "/offerings/current", "/offerings/past", "/offerings/future"):
        status, _ = await call("GET", path)
        assert status == 200, path


async def test_a_leap_second_is_accepted_as_the_next_second(api: tuple[Api, str]) -> None:
    call, offering = api
    status, body = await call("PATCH", f"/offerings/{offering}", {"start": "2016-12-31T23:59:60Z"})
    assert status == 200 and body["start"] == "2017-01-01T00:00:00.000Z"


@pytest.mark.parametrize(
    "start",
    ["2024-01-02T00:00:00+0100", "2024-01-02T00:00+01:00", "20240102T000000Z", "2024-01-02T00:00Z"],
)
async def test_a_date_time_outside_rfc_3339_is_refused(api: tuple[Api, str], start: str) -> None:
    call, offering = api
    status, body = await call("PATCH", f"/offerings/{offering}", {"start": start})
    assert status == 400 and body["error"]["name"] == "SchemaValidationError"


@pytest.mark.parametrize(
    "value",
    [
        "2016-12-31T23:59:60Z",
        "2024-01-02t03:04:05.123456789z",
        "2024-01-02 03:04:05+13:00",
        "2024-01-02T03:04:05+0100",
        "2024-01-02T03:04Z",
        "1000-01-01T00:30:00+01:00",
        "9999-12-31T23:30:00-02:00",
        "2024-02-30T00:00:00Z",
    ],
)
def test_the_fake_and_the_client_share_one_date_time_rule(value: str) -> None:
    from iqualify_async import _validation
    from iqualify_async.errors import ParameterError
    from iqualify_async.testing.validation import is_datetime

    try:
        _validation.date_time(value, "start")
    except ParameterError:
        client_ok = False
    else:
        client_ok = True
    assert is_datetime(value) is client_ok


def test_the_fake_writes_every_year_with_four_digits() -> None:
    from datetime import UTC, datetime

    from iqualify_async.testing.state import iso

    assert iso(datetime(999, 12, 31, 23, 30, tzinfo=UTC).timestamp()) == "0999-12-31T23:30:00.000Z"
