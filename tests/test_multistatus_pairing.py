"""Add-users answers are tied to inputs by email; position counts only when it is consistent."""

from __future__ import annotations

import json

from aiohttp import web

from iqualify_async import Client, bulk
from iqualify_async.types import AddUsersResult

from .conftest import API_KEY, RecordingServer, plain_client_options

EMAILS = ["p0@example.com", "p1@example.com", "p2@example.com"]


async def _add(server: RecordingServer) -> AddUsersResult:
    async with Client(api_key=API_KEY, base_url=server.base_url, **plain_client_options()) as iq:
        return await iq.offerings.users.add("O1", [{"email": e} for e in EMAILS])


async def test_a_reordered_answer_gives_each_input_its_own_record(server: RecordingServer) -> None:
    server.reply(201, [{"email": EMAILS[2]}, {"email": EMAILS[0]}, {"email": EMAILS[1]}])
    result = await _add(server)
    assert [o.status for o in result.items] == ["succeeded"] * 3
    assert [o.user.email if o.user else None for o in result.items] == EMAILS


async def test_an_unnamed_error_in_a_reordered_answer_is_given_to_no_one(
    server: RecordingServer,
) -> None:
    # p0 and p2 added, p1 refused, answered out of order: position means nothing here.
    server.reply(
        207,
        [
            {"email": EMAILS[2]},
            {"email": EMAILS[0]},
            {"name": "ObjectExistsError", "details": "already enrolled"},
        ],
    )
    p0, p1, p2 = (await _add(server)).items
    assert (p0.status, p0.user and p0.user.email) == ("succeeded", EMAILS[0])
    assert (p2.status, p2.user and p2.user.email) == ("succeeded", EMAILS[2])
    assert p1.status == "unknown" and p1.error is None


async def test_an_email_not_asked_for_makes_position_untrustworthy(
    server: RecordingServer,
) -> None:
    server.reply(
        207,
        [
            {"email": EMAILS[0]},
            {"email": "stranger@example.com"},
            {"name": "UserSuspendedError", "details": "suspended"},
        ],
    )
    assert [o.status for o in (await _add(server)).items] == ["succeeded", "unknown", "unknown"]


async def test_position_is_used_when_the_answer_is_in_order(server: RecordingServer) -> None:
    server.reply(207, [{"email": EMAILS[0]}, {"name": "UserSuspendedError"}, {"email": EMAILS[2]}])
    statuses = [o.status for o in (await _add(server)).items]
    assert statuses == ["succeeded", "failed", "succeeded"]


async def test_enrolment_rechecks_people_a_reordered_answer_leaves_unknown(
    server: RecordingServer,
) -> None:
    members: list[str] = []
    reads = 0

    async def handler(request: web.Request) -> web.StreamResponse:
        nonlocal reads
        if request.method == "GET":
            reads += 1
            rows = [{"id": f"u-{e}", "email": e} for e in members]
            if reads == 1:
                members.append(EMAILS[1])  # p1 gets enrolled by someone else meanwhile
            return web.json_response(rows)
        body = json.loads(await request.read())
        answer = []
        for user in body:
            if user["email"] in members:
                answer.append({"name": "ObjectExistsError", "details": "already enrolled"})
            else:
                members.append(user["email"])
                answer.append({"id": f"u-{user['email']}", "email": user["email"]})
        return web.json_response(answer[::-1], status=207)  # the answer comes back reversed

    server.handler = handler
    async with Client(api_key=API_KEY, base_url=server.base_url, **plain_client_options()) as iq:
        outcomes = {o.item.email: o async for o in bulk.enrol(iq, "O1", EMAILS, batch_size=3)}

    # By position, p0 would get p2's record and p2 the error; by email each gets its own, and
    # p1 (whose error names no one) is looked up in the offering instead.
    assert outcomes[EMAILS[0]].value == "enrolled" and outcomes[EMAILS[2]].value == "enrolled"
    assert outcomes[EMAILS[1]].ok and reads == 2
    assert sum(r.method == "POST" for r in server.requests) == 1
