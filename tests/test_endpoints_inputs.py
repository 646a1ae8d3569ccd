"""Inputs are checked to the published rules before anything is sent, and sent in one form."""

from __future__ import annotations

import json
import operator
import re
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest

from iqualify_async import Client, ParameterError
from iqualify_async import _validation as _v
from iqualify_async.types import (
    OfferingBadgeBadgeExpiryInput,
    OfferingBadgeInput,
    OfferingUserInput,
    UserMetadataInput,
    params,
)

from .conftest import API_KEY, RecordingServer


@pytest.fixture
async def iq(server: RecordingServer) -> AsyncIterator[Client]:
    async with Client(api_key=API_KEY, base_url=server.base_url) as client:
        yield client
    assert server.requests == [], "a request was sent despite invalid arguments"


async def _refused(iq: Client, attr: str, *args: Any, **kwargs: Any) -> ParameterError:
    with pytest.raises(ParameterError) as info:
        await operator.attrgetter(attr)(iq)(*args, **kwargs)
    return info.value


@pytest.mark.parametrize(
    ("attr", "args", "kwargs", "parameter", "words"),
    [
        # a misspelt key, in camelCase or snake_case, is named with the key it resembles
        (
            "users.create",
            [],
            {"email": "a@example.com", "profile": {"displayNme": "Ann"}},
            "profile.displayNme",
            "did you mean 'displayName'",
        ),
        (
            "offerings.users.add",
            ["o1", [{"email": "a@example.com", "frstName": "Ann"}]],
            {},
            "users[0].frstName",
            "did you mean 'firstName'",
        ),
        (
            "offerings.users.add",
            ["o1", [{"email": "a@example.com", "metadata": {"tags": ["x"], "colour": "red"}}]],
            {},
            "users[0].metadata.colour",
            "not a known key",
        ),
        # minLength: 1 wherever the description says so
        ("offerings.groups.create", ["o1"], {"title": ""}, "title", "at least 1"),
        ("offerings.channels.create", ["o1"], {"title": ""}, "title", "at least 1"),
        ("users.update", ["a@example.com"], {"first_name": ""}, "first_name", "at least 1"),
        (
            "offerings.users.add",
            ["o1", [{"email": "a@example.com", "lastName": ""}]],
            {},
            "users[0].lastName",
            "at least 1",
        ),
        # enums inside objects
        (
            "offerings.update",
            ["o1"],
            {"badge": {"badgeExpiry": {"expiryType": "never"}}},
            "badge.badgeExpiry.expiryType",
            "date, timeframe",
        ),
        (
            "offerings.update",
            ["o1"],
            {"badge": {"badge_expiry": {"timeframe_unit": "weeks"}}},
            "badge.badge_expiry.timeframe_unit",
            "days, months, years",
        ),
    ],
)
async def test_inputs_breaking_the_published_rules_are_refused(
    iq: Client, attr: str, args: list[Any], kwargs: dict[str, Any], parameter: str, words: str
) -> None:
    error = await _refused(iq, attr, *args, **kwargs)
    assert error.parameter == parameter
    assert words in str(error)


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (datetime(2024, 1, 2, 9, 0), "naive datetime"),
        (date(2024, 1, 2), "date without a time"),
        ("2024-01-02", "not an RFC 3339 date-time"),
        ("2024-01-02T09:00:00", "not an RFC 3339 date-time"),
        ("2024-02-30T09:00:00Z", "not a valid date-time"),
    ],
)
async def test_date_times_without_an_offset_are_refused_saying_what_to_pass(
    iq: Client, value: object, words: str
) -> None:
    error = await _refused(iq, "offerings.update", "o1", start=value)
    assert error.parameter == "start"
    assert words in str(error)
    assert "aware datetime" in str(error) or "out of range" in str(error)


@pytest.mark.parametrize(
    ("value", "sent"),
    [
        (datetime(2024, 1, 2, 9, 0, tzinfo=UTC), "2024-01-02T09:00:00Z"),
        (datetime(2024, 1, 2, 9, 0, tzinfo=timezone(timedelta(hours=13))), "2024-01-01T20:00:00Z"),
        ("2024-01-02T09:00:00+13:00", "2024-01-01T20:00:00Z"),
        ("2024-01-02t09:00:00.250z", "2024-01-02T09:00:00.250000Z"),
    ],
)
async def test_date_times_are_sent_in_utc(
    server: RecordingServer, value: object, sent: str
) -> None:
    server.reply(200, {"id": "o1"})
    async with Client(api_key=API_KEY, base_url=server.base_url) as iq:
        await iq.offerings.update("o1", start=value)
    assert json.loads(server.requests[0].body) == {"start": sent}


async def test_object_keys_may_be_snake_case_and_go_out_camel_case(server: RecordingServer) -> None:
    async with Client(api_key=API_KEY, base_url=server.base_url) as iq:
        server.reply(201, {"id": "u1", "email": "a@example.com"})
        await iq.users.create(email="a@example.com", profile={"display_name": "Ann"})
        server.reply(201, [{"email": "b@example.com"}, {"email": "c@example.com"}])
        await iq.offerings.users.add(
            "o1",
            [
                {"email": "b@example.com", "first_name": "Bo", "is_marker": True},
                OfferingUserInput(email="c@example.com", last_name="Cy"),
            ],
        )
    created, added = (json.loads(r.body) for r in server.requests)
    assert created == {"email": "a@example.com", "profile": {"displayName": "Ann"}}
    assert added == [
        {"email": "b@example.com", "firstName": "Bo", "isMarker": True},
        {"email": "c@example.com", "lastName": "Cy"},
    ]


async def test_input_classes_are_sent_by_their_wire_keys(server: RecordingServer) -> None:
    server.reply(200, {"id": "o1"})
    badge = OfferingBadgeInput(
        title="Finisher",
        badge_expiry=OfferingBadgeBadgeExpiryInput(
            expiry_type="date", expiration_date=datetime(2030, 1, 1, tzinfo=UTC)
        ),
    )
    async with Client(api_key=API_KEY, base_url=server.base_url) as iq:
        await iq.offerings.update("o1", badge=badge)
        server.reply(201, [{"email": "a@example.com"}])
        user = OfferingUserInput(email="a@example.com", metadata=UserMetadataInput(tags=("x",)))
        await iq.offerings.users.add("o1", [user])
    updated, added = (json.loads(r.body) for r in server.requests)
    assert updated == {
        "badge": {
            "title": "Finisher",
            "badgeExpiry": {"expiryType": "date", "expirationDate": "2030-01-01T00:00:00Z"},
        }
    }
    assert added == [{"email": "a@example.com", "metadata": {"tags": ["x"]}}]


async def test_input_classes_are_checked_like_dicts(iq: Client) -> None:
    naive = OfferingBadgeInput(
        badge_expiry=OfferingBadgeBadgeExpiryInput(expiration_date=datetime(2030, 1, 1))
    )
    error = await _refused(iq, "offerings.update", "o1", badge=naive)
    assert error.parameter == "badge.badgeExpiry.expirationDate" and "naive" in str(error)
    wrong = OfferingBadgeInput(
        badge_expiry=OfferingBadgeBadgeExpiryInput(expiry_type="never")  # type: ignore[arg-type]
    )
    error = await _refused(iq, "offerings.update", "o1", badge=wrong)
    assert error.parameter == "badge.badgeExpiry.expiryType"


FIELDS = {name: getattr(params, name) for name in params.__all__ if name.endswith("_FIELDS")}


@pytest.mark.parametrize("const", list(FIELDS))
def test_every_object_argument_takes_both_spellings_and_names_a_misspelt_key(const: str) -> None:
    fields = FIELDS[const]
    for wire, rules in fields.items():
        snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", wire).lower()
        value = _valid(rules)
        for key in {wire, snake}:
            assert _v.mapping({key: value}, "arg", fields) == {wire: _v.check(value, "x", rules)}
        with pytest.raises(ParameterError, match=f"did you mean '{wire}'"):
            _v.mapping({wire + "x": value}, "arg", fields)


def _valid(rules: dict[str, Any]) -> Any:
    kind = rules.get("type")
    if kind == "string":
        if rules.get("enum"):
            return rules["enum"][-1]
        if rules.get("format") == "email":
            return "a@example.com"
        if rules.get("format") == "date-time":
            return "2024-01-02T03:04:05Z"
        return "text"
    if kind == "array":
        return [_valid(rules.get("items", {}))]
    if kind == "object":
        props = rules.get("properties", {})
        return {k: _valid(v) for k, v in list(props.items())[:1]}
    return {"boolean": True, "integer": 3, "number": 1.5}.get(str(kind), "anything")
