"""Course activations and permissions: the fake answers a JSON array the client decodes."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import aiohttp
import jsonschema_rs
import pytest

from iqualify_async import Client
from iqualify_async.testing import FakeIQualify
from iqualify_async.testing.openapi import DOCUMENT_PATH
from iqualify_async.types import Activation, CoursePermission

from ._fake_http import Api

KEY = "courses-key-0123456789"
DOCUMENT: dict[str, Any] = json.loads(DOCUMENT_PATH.read_text())


def _validator(path: str, alternative: int) -> Any:
    """Validator of one ``oneOf`` alternative (0: one object, 1: array) of a 200 answer."""
    schema = DOCUMENT["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
    chosen = schema["schema"]["oneOf"][alternative]
    return jsonschema_rs.validator_for({**chosen, "components": DOCUMENT["components"]})


def _spec_fields(model: str) -> set[str]:
    return set(DOCUMENT["components"]["schemas"][model]["properties"])


@pytest.fixture
async def fake() -> AsyncIterator[FakeIQualify]:
    async with FakeIQualify(api_key=KEY, seed="demo") as server:
        yield server


@pytest.fixture
async def api(fake: FakeIQualify) -> AsyncIterator[Api]:
    async with aiohttp.ClientSession() as session:
        yield Api(session, fake.base_url, KEY)


async def test_activations_are_every_offering_of_the_course_oldest_first(
    api: Api, fake: FakeIQualify
) -> None:
    course = next(iter(fake.state.courses.values()))
    expected = [
        o.id for o in fake.state.offerings.values() if o.root_content_id == course.root_content_id
    ]
    assert len(expected) > 1

    status, body = await api("GET", f"/courses/{course.id}/activations")
    assert status == 200
    _validator("/courses/{contentId}/activations", 1).validate(body)
    assert all(set(row) <= _spec_fields("Activation") for row in body)

    async with Client(api_key=KEY, base_url=fake.base_url) as iq:
        activations = await iq.courses.list_activations(course.id)
    assert all(isinstance(a, Activation) for a in activations)
    assert sorted(a.id for a in activations if a.id) == sorted(expected)
    starts = [a.start or "" for a in activations]
    assert all(starts) and starts == sorted(starts)
    assert {a.metadata.root_content_id for a in activations if a.metadata} == {
        course.root_content_id
    }


async def test_permissions_list_every_user_granted_access(api: Api, fake: FakeIQualify) -> None:
    course = next(iter(fake.state.courses.values()))
    builder, reviewer = (u.email for u in list(fake.state.users.values())[:2])
    path = f"/courses/{course.root_content_id}/permissions"
    assert (await api("POST", f"{path}/{quote(builder)}", {"isBuilder": True}))[0] == 201
    granted = {"isBuilder": False, "isReviewer": True}
    assert (await api("POST", f"{path}/{quote(reviewer)}", granted))[0] == 201

    status, body = await api("GET", f"/courses/{course.id}/permissions")
    assert status == 200
    _validator("/courses/{contentId}/permissions", 1).validate(body)
    assert all(set(row) == _spec_fields("CoursePermission") for row in body)

    async with Client(api_key=KEY, base_url=fake.base_url) as iq:
        permissions = await iq.courses.permissions.list(course.id)
    assert all(isinstance(p, CoursePermission) for p in permissions)
    assert {(p.email, p.is_builder, p.is_reviewer) for p in permissions} == {
        (builder, True, False),
        (reviewer, False, True),
    }


async def test_a_course_nobody_was_granted_has_an_empty_permission_list(
    fake: FakeIQualify,
) -> None:
    course = next(iter(fake.state.courses.values()))
    async with Client(api_key=KEY, base_url=fake.base_url) as iq:
        assert await iq.courses.permissions.list(course.id) == []
