"""Bodies and emails that cannot be sent as given: one clear ParameterError, nothing sent."""

from __future__ import annotations

from typing import Any

import pytest

from iqualify_async import Client, ParameterError
from iqualify_async.types import OfferingUserInput

from .conftest import API_KEY, RecordingServer


def nested(levels: int) -> Any:
    value: Any = []
    for _ in range(levels - 1):
        value = [value]
    return value


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({"score": float("nan")}, "$.score"),
        ({"items": [1.0, float("inf")]}, "$.items[1]"),
        ([{"x": -float("inf")}], "$[0].x"),
    ],
)
async def test_non_finite_numbers_are_refused_not_sent_as_null(
    server: RecordingServer, body: Any, where: str
) -> None:
    async with Client(api_key=API_KEY, base_url=server.base_url) as iq:
        with pytest.raises(ParameterError, match="not a JSON number") as info:
            await iq.request("POST", "/things", json=body)
    assert info.value.parameter == "json" and where in str(info.value)
    assert info.value.__cause__ is None and info.value.__context__ is None
    assert server.requests == []


async def test_too_deep_nesting_is_a_parameter_error(server: RecordingServer) -> None:
    async with Client(api_key=API_KEY, base_url=server.base_url) as iq:
        await iq.request("POST", "/things", json=nested(254))  # as deep as JSON may go here
        with pytest.raises(ParameterError, match="nested deeper than 254 levels"):
            await iq.request("POST", "/things", json=nested(300))
        with pytest.raises(ParameterError, match="cannot be sent as JSON"):
            await iq.request("POST", "/things", json={"tags": {"a", "b"}})
    assert len(server.requests) == 1


@pytest.mark.parametrize("email", ["ann\x00@example.com", "ann@exa\x01mple.com", "ann\x7f@x.org"])
async def test_emails_with_control_characters_are_refused(
    server: RecordingServer, email: str
) -> None:
    async with Client(api_key=API_KEY, base_url=server.base_url) as iq:
        with pytest.raises(ParameterError, match="email"):
            await iq.users.get(email)
        with pytest.raises(ParameterError, match="email"):
            await iq.offerings.users.add("o1", [OfferingUserInput(email=email)])
    assert server.requests == []
