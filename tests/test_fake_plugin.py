"""The ``iqualify_fake`` pytest fixture, as a library user's test suite would use it."""

from __future__ import annotations

import aiohttp
import pytest

from iqualify_async.testing import FakeIQualify, Faults


async def test_fixture_yields_a_running_empty_server(iqualify_fake: FakeIQualify) -> None:
    async with aiohttp.ClientSession(headers={"Authorization": iqualify_fake.api_key}) as s:
        async with s.get(iqualify_fake.base_url + "/org") as r:
            assert r.status == 200
    assert iqualify_fake.base_url.startswith("http://127.0.0.1:")
    assert not iqualify_fake.state.users


@pytest.mark.iqualify_fake(seed="demo", api_key="k2", faults=Faults(error_rate=1.0))
async def test_marker_configures_the_fixture(iqualify_fake: FakeIQualify) -> None:
    assert iqualify_fake.api_key == "k2" and len(iqualify_fake.state.users) == 2000
    async with aiohttp.ClientSession(headers={"Authorization": "k2"}) as s:
        async with s.get(iqualify_fake.base_url + "/org") as r:
            assert r.status >= 500
