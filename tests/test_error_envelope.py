"""One reader of the API's error bodies, nested or flat, for whole answers and 207 items."""

from __future__ import annotations

from typing import Any

import pytest

from iqualify_async import BadRequestError, Client
from iqualify_async._error_envelope import read_error

from .conftest import API_KEY, RecordingServer, plain_client_options

SHAPES: dict[str, tuple[Any, tuple[str | None, Any]]] = {
    "nested": (
        {"error": {"name": "ObjectExistsError", "details": "ann is enrolled"}},
        ("ObjectExistsError", "ann is enrolled"),
    ),
    "flat": (
        {"name": "ObjectExistsError", "details": "ann is enrolled"},
        ("ObjectExistsError", "ann is enrolled"),
    ),
    "nested, message": (
        {"error": {"name": "ServerError", "message": "oops"}},
        ("ServerError", "oops"),
    ),
    "flat, message": ({"name": "ServerError", "message": "oops"}, ("ServerError", "oops")),
    "string error beside details": (
        {"error": "ObjectExistsError", "details": "ann is enrolled"},
        ("ObjectExistsError", "ann is enrolled"),
    ),
    "string error alone": ({"error": "Something broke"}, (None, "Something broke")),
    "name not a string": ({"error": {"name": 5, "details": "x"}}, (None, "x")),
    "details not text": (
        {"name": "SchemaValidationError", "details": [{"field": "email"}]},
        ("SchemaValidationError", [{"field": "email"}]),
    ),
}


@pytest.mark.parametrize("case", sorted(SHAPES))
def test_read_error_reads_both_shapes(case: str) -> None:
    body, expected = SHAPES[case]
    assert read_error(body) == expected


@pytest.mark.parametrize("body", [None, "text", [], ["x"], {"email": "a@example.com"}, {}])
def test_what_is_no_envelope(body: object) -> None:
    assert read_error(body) is None


@pytest.mark.parametrize("case", ["nested", "flat", "string error beside details"])
async def test_error_answers_and_207_items_are_read_alike(
    server: RecordingServer, case: str
) -> None:
    body, (name, details) = SHAPES[case]
    async with Client(api_key=API_KEY, base_url=server.base_url, **plain_client_options()) as iq:
        server.reply(400, body)
        with pytest.raises(BadRequestError) as info:
            await iq.request("GET", "/org")
        server.reply(207, [{"email": "bob@example.com"}, body])
        result = await iq.offerings.users.add(
            "o1", [{"email": "bob@example.com"}, {"email": "ann@example.com"}]
        )
    assert (info.value.name, info.value.details) == (name, details)
    bob, ann = result.items
    assert bob.ok and ann.status == "failed"
    assert ann.error is not None and (ann.error.name, ann.error.details) == (name, details)
    assert ann.error.raw == body


@pytest.mark.parametrize("flat", [False, True], ids=["nested", "flat"])
async def test_the_fakes_errors_and_207_items_in_either_shape(flat: bool) -> None:
    from iqualify_async.testing import FakeIQualify, Faults

    key = "envelope-key-0123456789"
    async with FakeIQualify(key, seed="demo", faults=Faults(flat_errors=flat)) as fake:
        offering = fake.state.offerings[sorted(fake.state.offerings)[0]]
        enrolled = next(iter(offering.enrolments))
        async with Client(api_key=key, base_url=fake.base_url) as iq:
            raw = await iq.request_raw(
                "POST",
                "/offerings/{offeringId}/users",
                path_params={"offeringId": offering.id},
                json=[{"email": "new.person@example.org"}, {"email": enrolled}],
            )
            result = await iq.offerings.users.add(
                offering.id, [{"email": "other.person@example.org"}, {"email": enrolled}]
            )
            with pytest.raises(BadRequestError) as info:
                await iq.offerings.users.add(offering.id, [{"email": enrolled}])
    assert raw.status == 207
    assert ("error" not in raw.data[1]) is flat and read_error(raw.data[1]) is not None
    new, again = result.items
    assert new.ok and again.error is not None and again.error.name == "ObjectExistsError"
    assert info.value.name == "ObjectExistsError" and enrolled in str(info.value.details)
