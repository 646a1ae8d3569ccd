"""Answers decode into models exactly: right JSON types only, identity fields present, RFC 3339."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from iqualify_async import Client, ResponseDecodeError
from iqualify_async.types import Assessment, Channel, Offering, QuizMark, UnitReactions

from .conftest import API_KEY, RecordingServer, plain_client_options

OFFERING = {
    "id": "o1",
    "name": "Spring",
    "start": "2024-03-01T09:30:00.000Z",
    "enrollmentLimit": 30,
    "metadata": {"tags": ["a", "b"], "category": "c"},
}


async def _get_offering(server: RecordingServer, body: Any) -> Offering:
    server.reply(200, body)
    async with Client(api_key=API_KEY, base_url=server.base_url, **plain_client_options()) as iq:
        return await iq.offerings.get("o1")


async def test_an_answer_is_a_model_with_nested_models_and_the_payload_kept(
    server: RecordingServer,
) -> None:
    body = {**OFFERING, "fieldFromTheFuture": {"x": 1}}
    offering = await _get_offering(server, body)
    assert offering.id == "o1" and offering.enrollment_limit == 30.0
    assert offering.start == datetime(2024, 3, 1, 9, 30, tzinfo=UTC)
    assert offering.metadata is not None and offering.metadata.tags == ("a", "b")
    assert offering.description is None
    assert offering.raw == body


@pytest.mark.parametrize(
    ("change", "field", "problem"),
    [
        ({"id": None}, "id", "missing"),
        ({"name": 5}, "name", "expected a string, got number 5"),
        ({"enrollmentLimit": "30"}, "enrollmentLimit", "expected a number, got string '30'"),
        ({"useRelativeDates": "false"}, "useRelativeDates", "expected a boolean"),
        ({"start": "2024-03-01"[:7]}, "start", "not an RFC 3339 date-time"),
        ({"metadata": {"tags": ["a", 1]}}, "metadata.tags[1]", "expected a string"),
        ({"metadata": []}, "metadata", "expected a JSON object"),
    ],
)
async def test_a_value_of_the_wrong_type_is_a_decode_error_naming_field_and_operation(
    server: RecordingServer, change: dict[str, Any], field: str, problem: str
) -> None:
    body = {k: v for k, v in {**OFFERING, **change}.items() if v is not None}
    with pytest.raises(ResponseDecodeError) as caught:
        await _get_offering(server, body)
    message = str(caught.value)
    assert f"field '{field}'" in message and problem in message
    assert "GET" in message and "/offerings/" in message


def test_integers_and_booleans_are_never_converted() -> None:
    with pytest.raises(
        ResponseDecodeError, match=r"maxAttempts.*expected an integer, got number 2\.9"
    ):
        Assessment.from_dict({"id": "a", "maxAttempts": 2.9})
    with pytest.raises(ResponseDecodeError, match=r"isBroadcastOnly.*expected a boolean"):
        Channel.from_dict({"id": "c", "isBroadcastOnly": "false"})
    with pytest.raises(ResponseDecodeError, match=r"maxAttempts.*expected an integer"):
        Assessment.from_dict({"id": "a", "maxAttempts": True})
    assert Assessment.from_dict({"id": "a", "maxAttempts": 2}).max_attempts == 2


def test_any_mapping_is_an_object_and_anything_else_is_not() -> None:
    from types import MappingProxyType

    assert Assessment.from_dict(MappingProxyType({"id": "a"})).id == "a"
    for value in (["id", "a"], "a", 1, None):
        with pytest.raises(ResponseDecodeError, match=r"expected a JSON object for Assessment"):
            Assessment.from_dict(value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-03-01T09:30:00Z", datetime(2024, 3, 1, 9, 30, tzinfo=UTC)),
        ("2024-03-01t09:30:00z", datetime(2024, 3, 1, 9, 30, tzinfo=UTC)),
        ("2024-03-01 09:30:00.5+00:00", datetime(2024, 3, 1, 9, 30, 0, 500000, tzinfo=UTC)),
        ("2024-03-01T09:30:00.123456789Z", datetime(2024, 3, 1, 9, 30, 0, 123456, tzinfo=UTC)),
        (
            "2024-03-01T09:30:00-05:30",
            datetime(2024, 3, 1, 9, 30, tzinfo=timezone(-timedelta(hours=5, minutes=30))),
        ),
        ("2016-12-31T23:59:60Z", datetime(2017, 1, 1, tzinfo=UTC)),  # a leap second
    ],
)
def test_every_rfc3339_form_parses_to_an_aware_datetime(text: str, expected: datetime) -> None:
    when = QuizMark.from_dict({"lastAttemptAt": text}).last_attempt_at
    assert when == expected and when is not None and when.utcoffset() == expected.utcoffset()


@pytest.mark.parametrize(
    "text", ["2024-03-01T09:30", "2024-03-01T09:30:00", "yesterday", "2024-13-01T00:00:00Z"]
)
def test_a_malformed_date_time_is_a_decode_error(text: str) -> None:
    with pytest.raises(ResponseDecodeError, match="lastAttemptAt"):
        QuizMark.from_dict({"lastAttemptAt": text})


def test_to_dict_gives_the_api_json_back() -> None:
    offering = Offering.from_dict({**OFFERING, "start": "2024-03-01T10:30:00+01:00"})
    assert offering.to_dict() == {
        "id": "o1",
        "name": "Spring",
        "start": "2024-03-01T09:30:00Z",
        "enrollmentLimit": 30.0,
        "metadata": {"tags": ["a", "b"], "category": "c"},
    }
    assert json.loads(offering.to_json()) == offering.to_dict()
    reactions = UnitReactions.from_dict({"pageId": "p", "feedback": {"thumbs-up": 2}})
    assert reactions.to_dict() == {"pageId": "p", "feedback": {"thumbs-up": 2.0}}
