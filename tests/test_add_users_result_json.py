"""An add-users result turns into JSON like the models do, inputs and outcomes included."""

from __future__ import annotations

import json

from iqualify_async import Client
from iqualify_async.testing import FakeIQualify

KEY = "add-users-json-key-0123456789"


async def test_an_add_users_result_round_trips_through_json() -> None:
    async with FakeIQualify(KEY, seed="demo") as fake:
        offering_id = sorted(fake.state.offerings)[0]
        async with Client(api_key=KEY, base_url=fake.base_url) as iq:
            first = await iq.offerings.users.add(
                offering_id,
                [{"email": "json-a@example.org", "first_name": "Ann", "metadata": {"tags": ["x"]}}],
            )
            again = await iq.offerings.users.add(
                offering_id,
                [{"email": "json-a@example.org"}, {"email": "json-b@example.org"}],
            )

    data = json.loads(first.to_json())
    assert data["status"] == 201
    [item] = data["items"]
    assert item["input"] == {
        "email": "json-a@example.org",
        "firstName": "Ann",
        "metadata": {"tags": ["x"]},
    }
    assert item["status"] == "succeeded" and item["user"]["email"] == "json-a@example.org"
    assert item["error"] is None

    statuses = {i["input"]["email"]: i for i in again.to_dict()["items"]}
    assert again.status == 207
    assert statuses["json-b@example.org"]["status"] == "succeeded"
    refused = statuses["json-a@example.org"]
    assert refused["status"] == "failed" and refused["user"] is None
    assert refused["error"]["name"] == "ObjectExistsError"
    json.dumps(again.to_dict())  # plain JSON all the way down
