"""``$top``, ``$orderby`` and ``$filter`` on the two endpoints that take them."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from iqualify_async.testing import FakeIQualify

from ._fake_http import Api


@pytest.fixture
async def api() -> AsyncIterator[Api]:
    async with FakeIQualify(api_key="q", seed="demo") as fake, aiohttp.ClientSession() as s:
        yield Api(s, fake.base_url, "q")


async def test_summary_top_orderby_filter(api: Api) -> None:
    status, everything = await api("GET", "/offerings/summary?$top=100")
    assert status == 200 and len(everything) == 20
    assert len((await api("GET", "/offerings/summary?$top=3"))[1]) == 3
    # any whole number, as the served document says (no undocumented maximum)
    assert (await api("GET", "/offerings/summary?$top=58829963"))[1] == everything
    ordered = (await api("GET", "/offerings/summary?$orderby=learnersCount desc&$top=100"))[1]
    counts = [o["learnersCount"] for o in ordered]
    assert counts == sorted(counts, reverse=True)
    course = everything[0]["contentId"]
    same = (await api("GET", f"/offerings/summary?$filter=contentId eq '{course}'&$top=100"))[1]
    assert same and all(o["contentId"] == course for o in same)
    big = (
        await api(
            "GET", "/offerings/summary?$filter=learnersCount gt 100 and contains(name,'data')"
        )
    )[1]
    assert all(o["learnersCount"] > 100 and "data" in o["name"].lower() for o in big)


async def test_all_progress_top_and_filter(api: Api) -> None:
    status, body = await api("GET", "/users/all/progress")
    assert status == 200 and body["top"] == 50 and len(body["data"]["progress"]) == 50
    body = (
        await api(
            "GET", "/users/all/progress?$filter=startswith(email,'aroha')&$orderby=email desc"
        )
    )[1]
    emails = [p["email"] for p in body["data"]["progress"]]
    assert (
        emails
        and all(e.startswith("aroha") for e in emails)
        and emails == sorted(emails, reverse=True)
    )
    assert all(p["offerings"] for p in body["data"]["progress"])


@pytest.mark.parametrize(
    "query",
    [
        "$top=-1",
        "$top=lots",
        "$top=１２",
        "$orderby=password",
        "$orderby=name sideways",
        "$filter=name like 'x'",
        "$filter=secret eq 'x'",
        "$filter=contains(name)",
    ],
)
async def test_unsupported_query_is_api_validation_error(api: Api, query: str) -> None:
    for path in ("/offerings/summary", "/users/all/progress"):
        status, body = await api("GET", f"{path}?{query}")
        assert status == 400 and body["error"]["name"] == "ApiValidationError", (path, query)


async def test_unknown_query_parameter_is_schema_error(api: Api) -> None:
    status, body = await api("GET", "/offerings/summary?$skip=10")
    assert status == 400 and body["error"]["name"] == "SchemaValidationError"
