"""State round trips through HTTP, the API's error names, and the 207 multi-status case."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from iqualify_async.testing import FakeIQualify

from ._fake_http import Api

KEY = "state-key-0123456789"


@pytest.fixture
async def fake() -> AsyncIterator[FakeIQualify]:
    async with FakeIQualify(api_key=KEY, seed="demo") as server:
        yield server


@pytest.fixture
async def api(fake: FakeIQualify) -> AsyncIterator[Api]:
    async with aiohttp.ClientSession() as session:
        yield Api(session, fake.base_url, KEY)


async def test_user_round_trip(api: Api) -> None:
    status, created = await api(
        "POST", "/users", {"email": "Ana.Lee@example.com", "firstName": "Ana"}
    )
    assert status == 201 and created["email"] == "Ana.Lee@example.com"
    assert (await api("GET", "/users/ana.lee@example.com"))[1]["id"] == created["id"]
    status, updated = await api(
        "PATCH", "/users/ana.lee@example.com", {"lastName": "Lee", "email": "ana@example.com"}
    )
    assert status == 200 and updated["lastName"] == "Lee" and updated["email"] == "ana@example.com"
    assert (await api("GET", "/users/ana.lee@example.com"))[0] == 404
    status, body = await api("POST", "/users", {"email": "ana@example.com"})
    assert status == 400 and body["error"]["name"] == "ObjectExistsError"


async def test_offering_round_trip(api: Api, fake: FakeIQualify) -> None:
    course = next(iter(fake.state.courses))
    status, offering = await api(
        "POST",
        "/offerings",
        {"start": "2030-02-01T00:00:00+13:00", "contentId": course, "name": "Pilot"},
    )
    assert status == 201 and offering["start"] == "2030-01-31T11:00:00.000Z"
    oid = offering["id"]
    assert any(o["id"] == oid for o in (await api("GET", "/offerings/future"))[1])
    assert not any(o["id"] == oid for o in (await api("GET", "/offerings/current"))[1])
    status, patched = await api(
        "PATCH", f"/offerings/{oid}", {"name": "Pilot 2", "metadata": {"tags": ["x"]}}
    )
    assert status == 200 and patched["name"] == "Pilot 2" and patched["metadata"]["tags"] == ["x"]
    status, body = await api("PATCH", f"/offerings/{oid}", {"metadata": {"colour": "red"}})
    assert status == 400 and body["error"]["name"] == "SchemaValidationError"
    assert "colour" in body["error"]["details"]
    status, body = await api("PUT", f"/offerings/{oid}/metadata/level", {"level": "x", "extra": 1})
    assert status == 400 and body["error"]["name"] == "SchemaValidationError"
    status, body = await api("POST", "/offerings", {"contentId": course})
    assert status == 400 and body["error"]["details"] == "should have required property 'start'"
    status, body = await api("POST", "/offerings", {"start": "2030-01-01T00:00:00Z"})
    assert status == 400 and body["error"]["name"] == "InvalidContentError"


async def test_enrolment_round_trip_and_duplicate(api: Api, fake: FakeIQualify) -> None:
    oid = next(iter(fake.state.offerings))
    status, added = await api(
        "POST", f"/offerings/{oid}/users", [{"email": "kim@example.com", "isMarker": True}]
    )
    assert status == 201 and added[0]["isMarker"] is True
    users = (await api("GET", f"/offerings/{oid}/users?learners=false&facilitators=false"))[1]
    assert "kim@example.com" in {u["email"] for u in users}
    status, body = await api("POST", f"/offerings/{oid}/users", [{"email": "kim@example.com"}])
    assert status == 400 and body["error"]["name"] == "ObjectExistsError"
    assert (await api("DELETE", f"/offerings/{oid}/users/kim%40example.com"))[0] == 204
    users = (await api("GET", f"/offerings/{oid}/users"))[1]
    assert "kim@example.com" not in {u["email"] for u in users}
    status, body = await api("DELETE", f"/offerings/{oid}/users/kim%40example.com")
    assert status == 400 and body["error"]["name"] == "UserNotInOfferingError"


async def test_mixed_batch_answers_207_in_input_order(api: Api, fake: FakeIQualify) -> None:
    oid = next(iter(fake.state.offerings))
    enrolled = next(iter(fake.state.offerings[oid].enrolments))
    items = [
        {"email": "first@example.com"},
        {"email": enrolled},
        {"email": "not-an-email"},
        {"email": "second@example.com", "unknown": True},
        {"email": "third@example.com", "firstName": "Third"},
    ]
    status, body = await api("POST", f"/offerings/{oid}/users", items)
    assert status == 207
    assert [r.get("email") for r in body] == [
        "first@example.com",
        None,
        None,
        None,
        "third@example.com",
    ]
    assert [r["error"]["name"] for r in body[1:4]] == [
        "ObjectExistsError",
        "SchemaValidationError",
        "SchemaValidationError",
    ]
    assert fake.stats.writes["POST /offerings/{offeringId}/users"] == 1
    enrolments = fake.state.offerings[oid].enrolments
    assert "first@example.com" in enrolments and "third@example.com" in enrolments
    assert "second@example.com" not in enrolments


async def test_groups_channels_and_mappings(api: Api, fake: FakeIQualify) -> None:
    oid, offering = next(iter(fake.state.offerings.items()))
    learner = next(k for k, e in offering.enrolments.items() if e.is_learner)
    status, group = await api("POST", f"/offerings/{oid}/groups", {"title": "Night class"})
    assert status == 201
    gid = group["id"]
    assert (await api("POST", f"/offerings/{oid}/groups/{gid}/learners", {"email": learner}))[
        0
    ] == 201
    status, body = await api("POST", f"/offerings/{oid}/groups/{gid}/learners", {"email": learner})
    assert status == 400 and body["error"]["name"] == "ObjectExistsError"
    assert [
        u["email"].lower() for u in (await api("GET", f"/offerings/{oid}/groups/{gid}/learners"))[1]
    ] == [learner]
    assert (await api("DELETE", f"/offerings/{oid}/groups/{gid}/learners/{learner}"))[0] == 204
    assert (await api("GET", f"/offerings/{oid}/groups/{gid}/learners"))[1] == []
    assert (await api("GET", f"/offerings/{oid}/groups/not-hex/learners"))[0] == 400

    status, channel = await api("POST", f"/offerings/{oid}/channels", {"title": "Study"})
    cid = channel["id"]
    status, body = await api(
        "POST", f"/offerings/{oid}/channels/{cid}/learners", {"email": learner}
    )
    assert status == 400 and body["error"]["name"] == "InvalidGroupChannelError"
    await api("PATCH", f"/offerings/{oid}/channels/{cid}", {"groupDiscussion": True})
    assert (await api("POST", f"/offerings/{oid}/channels/{cid}/learners", {"email": learner}))[
        0
    ] == 204
    assert (await api("GET", f"/offerings/{oid}/channels/{cid}/learners"))[1]["learners"] == [
        learner
    ]
    status, body = await api("PATCH", f"/offerings/{oid}/channels/{cid}", {"isBroadcastOnly": True})
    assert status == 400 and body["error"]["name"] == "InvalidChannelPropertiesError"

    assert (await api("PUT", f"/course-mappings/{oid}/EXT-1"))[1][-1] == "EXT-1"
    assert oid in (await api("GET", "/course-mappings/externalcourse/EXT-1"))[1]
    assert (await api("DELETE", f"/course-mappings/{oid}/EXT-1"))[0] == 200
    assert (await api("GET", "/course-mappings/externalcourse/EXT-1"))[0] == 404


async def test_suspension_transfer_permissions_and_badges(api: Api, fake: FakeIQualify) -> None:
    state = fake.state
    source = next(o for o in state.offerings.values() if o.badge)
    target = next(
        o
        for o in state.offerings.values()
        if o.root_content_id == source.root_content_id and o.id != source.id
    )
    learner = next(
        k
        for k, e in source.enrolments.items()
        if e.is_learner and k not in target.enrolments and k not in source.awarded
    )
    assert (await api("POST", f"/offerings/{source.id}/users/{learner}/badges/award"))[0] == 201
    assert [b["offeringId"] for b in (await api("GET", f"/users/{learner}/badges"))[1]] == [
        source.id
    ]
    status, body = await api("POST", f"/offerings/{source.id}/users/{learner}/badges/award")
    assert status == 400 and body["error"]["name"] == "ObjectExistsError"

    transfer = {"fromOfferingId": source.id, "toOfferingId": target.id}
    assert (await api("PATCH", f"/users/{learner}/transfer", transfer))[0] == 200
    assert learner in target.enrolments and learner not in source.enrolments
    status, body = await api("PATCH", f"/users/{learner}/transfer", transfer)
    assert status == 400 and body["error"]["name"] == "UserNotInOfferingError"

    assert (await api("POST", f"/users/{learner}/permissions/manager"))[0] == 200
    status, body = await api("POST", f"/users/{learner}/permissions/manager")
    assert status == 400 and body["error"]["name"] == "ObjectAlreadyIsError"

    assert (await api("PUT", f"/users/{learner}/suspend", {"suspended": True}))[0] == 204
    status, body = await api("POST", f"/offerings/{source.id}/users", [{"email": learner}])
    assert status == 400 and body["error"]["name"] == "UserSuspendedError"


async def test_unknown_ids_are_object_not_found(api: Api) -> None:
    for path in (
        "/offerings/nope",
        "/courses/nope",
        "/users/nobody%40example.com",
        "/offerings/nope/analytics/marks/quizzes",
    ):
        status, body = await api("GET", path)
        assert status == 404 and body["error"]["name"] == "ObjectNotFoundError", path


async def test_bad_bodies_get_schema_errors(api: Api, fake: FakeIQualify) -> None:
    oid = next(iter(fake.state.offerings))
    cases = [
        ("POST", "/users", {"email": "x@example.com", "nickname": "x"}),
        ("POST", "/users", {"email": "not-an-email"}),
        ("POST", f"/offerings/{oid}/groups", {"title": ""}),
        ("POST", f"/offerings/{oid}/channels", {"title": 5}),
        ("POST", f"/offerings/{oid}/users", {"email": "x@example.com"}),
    ]
    for method, path, body in cases:
        status, answer = await api(method, path, body)
        assert status == 400 and answer["error"]["name"] == "SchemaValidationError", (path, body)
    async with api.session.post(
        api.base_url + "/users",
        data=b"{not json",
        headers={"Authorization": KEY, "Content-Type": "application/json"},
    ) as r:
        assert r.status == 400
    assert sum(fake.stats.writes.values()) == 0


async def test_analytics_follow_the_state(api: Api, fake: FakeIQualify) -> None:
    oid, offering = next(
        (i, o) for i, o in fake.state.offerings.items() if o.timing(fake.state.clock()) == "past"
    )
    rows = (await api("GET", f"/offerings/{oid}/analytics/submissions/assignments"))[1]
    assert rows, "a past offering has submissions"
    row = rows[0]
    email, aid = row["learnerEmail"], row["assessmentId"]
    assert (await api("DELETE", f"/offerings/{oid}/users/{email}/assessments/{aid}"))[0] == 204
    after = (await api("GET", f"/offerings/{oid}/analytics/submissions/assignments"))[1]
    assert (email, aid) not in {(r["learnerEmail"], r["assessmentId"]) for r in after}
    status, body = await api("DELETE", f"/offerings/{oid}/users/{email}/assessments/{aid}")
    assert status == 400 and body["error"]["name"] == "AssessmentNotSubmittedError"

    await api("DELETE", f"/offerings/{oid}/users/{email}")
    progress = (await api("GET", f"/offerings/{oid}/analytics/learners-progress"))[1]
    assert email not in {p["email"] for p in progress}
    assert len(progress) == offering.learner_count()

    types = {
        r["pulseType"]
        for r in (await api("GET", f"/offerings/{oid}/analytics/pulses/responses"))[1]
    }
    one = sorted(types)[0]
    filtered = (await api("GET", f"/offerings/{oid}/analytics/pulses/responses?pulseType={one}"))[1]
    assert filtered and {r["pulseType"] for r in filtered} == {one}
    everything = (await api("GET", f"/offerings/{oid}/analytics/pulses/responses"))[1]
    cut = sorted(r["responseTime"] for r in everything)[len(everything) // 2]
    later = (
        await api("GET", f"/offerings/{oid}/analytics/pulses/responses?responseTime=__gte__{cut}__")
    )[1]
    assert later and all(r["responseTime"] >= cut for r in later) and len(later) < len(everything)
