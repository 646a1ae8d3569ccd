"""Adding users answers 201 or 207; every input gets its own outcome, in input order."""

from __future__ import annotations

import pytest

from iqualify_async import Client, ResponseDecodeError
from iqualify_async.types import AddUsersResult, OfferingUserAdded, OfferingUserInput

from .conftest import API_KEY, RecordingServer, plain_client_options

USERS = [
    OfferingUserInput(email="ann@example.com", first_name="Ann", is_marker=True),
    {"email": "bob@example.com"},
    OfferingUserInput(email="cy@example.com"),
]


async def _add(server: RecordingServer) -> AddUsersResult:
    async with Client(api_key=API_KEY, base_url=server.base_url, **plain_client_options()) as iq:
        return await iq.offerings.users.add("off-1", USERS)


async def test_partial_success_reports_each_item(server: RecordingServer) -> None:
    server.reply(
        207,
        [
            {"email": "ann@example.com", "isMarker": True, "invite": {"url": "https://i/1"}},
            {"error": {"name": "UserSuspendedError", "details": "bob is suspended"}},
            {"name": "ObjectExistsError", "details": "cy is already enrolled"},
        ],
    )
    result = await _add(server)
    assert result.status == 207
    assert not result.all_succeeded
    ann, bob, cy = result.items
    assert (ann.index, ann.status, ann.ok) == (0, "succeeded", True)
    assert isinstance(ann.user, OfferingUserAdded)
    assert ann.user.is_marker is True and ann.user.invite is not None
    assert ann.user.invite.url == "https://i/1"
    assert ann.input.first_name == "Ann"
    assert (bob.status, bob.error and bob.error.name) == ("failed", "UserSuspendedError")
    assert bob.error is not None and bob.error.details == "bob is suspended"
    assert bob.input.email == "bob@example.com"
    assert (cy.status, cy.error and cy.error.name) == ("failed", "ObjectExistsError")
    assert [o.input.email for o in result.failed] == ["bob@example.com", "cy@example.com"]
    assert [o.input.email for o in result.succeeded] == ["ann@example.com"]


async def test_created_means_all_succeeded(server: RecordingServer) -> None:
    server.reply(
        201, [{"email": u} for u in ("ann@example.com", "bob@example.com", "cy@example.com")]
    )
    result = await _add(server)
    assert result.status == 201 and result.all_succeeded and len(result) == 3


async def test_short_answer_matches_by_email_and_marks_the_rest_unknown(
    server: RecordingServer,
) -> None:
    server.reply(207, [{"email": "CY@example.com"}, {"name": "UserSuspendedError", "details": "x"}])
    result = await _add(server)
    # The error names no one: it is not pinned on whoever comes first.
    assert [o.status for o in result.items] == ["unknown", "unknown", "succeeded"]
    assert [o.input.email for o in result.unknown] == ["ann@example.com", "bob@example.com"]


async def test_short_answer_gives_an_error_only_to_the_input_it_names(
    server: RecordingServer,
) -> None:
    server.reply(
        207,
        [
            {"name": "ObjectExistsError", "details": "User CY@example.com is already enrolled"},
            {"email": "bob@example.com", "error": {"name": "UserSuspendedError"}},
        ],
    )
    result = await _add(server)
    ann, bob, cy = result.items
    assert ann.status == "unknown" and ann.error is None
    assert (bob.status, bob.error and bob.error.name) == ("failed", "UserSuspendedError")
    assert (cy.status, cy.error and cy.error.name) == ("failed", "ObjectExistsError")
    # Details naming several inputs, or an email that merely contains an input's, name no one.
    server.reply(
        207,
        [
            {"name": "ObjectExistsError", "details": "ann@example.com, bob@example.com"},
            {"name": "ObjectExistsError", "details": "jann@example.com exists"},
        ],
    )
    assert [o.status for o in (await _add(server)).items] == ["unknown"] * 3
    # An email in a details object names its input.
    server.reply(207, [{"name": "UserSuspendedError", "details": {"email": "ANN@example.com"}}])
    result = await _add(server)
    assert [o.status for o in result.items] == ["failed", "unknown", "unknown"]
    assert result.items[0].error is not None and result.items[0].error.name == "UserSuspendedError"


async def test_wire_body_is_the_array_of_users(server: RecordingServer) -> None:
    server.reply(
        201,
        [{"email": "ann@example.com"}, {"email": "bob@example.com"}, {"email": "cy@example.com"}],
    )
    await _add(server)
    import json

    assert json.loads(server.requests[0].body) == [
        {"email": "ann@example.com", "firstName": "Ann", "isMarker": True},
        {"email": "bob@example.com"},
        {"email": "cy@example.com"},
    ]


async def test_non_array_answer_is_a_decode_error(server: RecordingServer) -> None:
    server.reply(207, {"oops": True})
    with pytest.raises(ResponseDecodeError):
        await _add(server)
