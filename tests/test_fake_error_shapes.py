"""The fake answers errors nested (default) or flat; the client reads both the same."""

from __future__ import annotations

import aiohttp
import pytest

from iqualify_async import Client, NotFoundError
from iqualify_async.testing import FakeIQualify, Faults

KEY = "test-key-0123456789"


@pytest.mark.parametrize("flat", [False, True])
async def test_both_error_shapes_give_the_same_error(flat: bool) -> None:
    async with FakeIQualify(KEY, seed="demo", faults=Faults(flat_errors=flat)) as fake:
        async with aiohttp.ClientSession() as session:
            url = f"{fake.base_url}/users/nobody@example.com"
            async with session.get(url, headers={"Authorization": KEY}) as response:
                body = await response.json()
        async with Client(api_key=KEY, base_url=fake.base_url) as iq:
            with pytest.raises(NotFoundError) as caught:
                await iq.users.get("nobody@example.com")
    expected = {"name": "ObjectNotFoundError", "details": caught.value.details}
    assert body == (expected if flat else {"error": expected})
    assert caught.value.name == "ObjectNotFoundError" and caught.value.details
