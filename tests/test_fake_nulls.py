"""The fake takes null exactly where the client sends it (to clear a field), as published."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest

import iqualify_async
from iqualify_async.testing import FakeIQualify
from iqualify_async.testing.handlers import OPERATIONS
from iqualify_async.testing.validation import OFFERING_USER, nullable

from ._fake_http import Api
from ._fake_samples import samples

DOCUMENT: dict[str, Any] = json.loads(
    (Path(iqualify_async.__file__).parent / "_openapi.json").read_text(encoding="utf-8")
)
FAKE_BODIES = {(op.method, op.path): op.body for op in OPERATIONS}
FAKE_BODIES[("POST", "/offerings/{offeringId}/users")] = {"type": "array", "items": OFFERING_USER}


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref is None:
        return schema
    resolved: dict[str, Any] = DOCUMENT["components"]["schemas"][ref.rsplit("/", 1)[1]]
    return resolved


def _fields(
    published: dict[str, Any], fake: dict[str, Any], where: str
) -> list[tuple[str, bool, bool]]:
    """(where, published nullable, the fake takes null) for each request-object field."""
    published = _resolve(published)
    out = []
    if published.get("type") == "array" and "items" in published:
        return _fields(published["items"], fake.get("items", {}), f"{where}[]")
    for name, sub in published.get("properties", {}).items():
        mine = fake.get("properties", {}).get(name, {})
        required = name in fake.get("required", ())
        if "$ref" not in sub:
            out.append(
                (f"{where}.{name}", bool(sub.get("nullable")), not required and nullable(mine))
            )
        out += _fields(sub, mine, f"{where}.{name}")
    return out


FIELDS = [
    field
    for path, item in DOCUMENT["paths"].items()
    for method, op in item.items()
    if "requestBody" in op
    for field in _fields(
        op["requestBody"]["content"]["application/json"]["schema"],
        FAKE_BODIES[(method.upper(), path)] or {},
        f"{method.upper()} {path}",
    )
]


def test_the_client_sends_null_for_the_published_nullable_top_level_fields() -> None:
    top = [w for w, published, _ in FIELDS if published and w.count(".") == 1 and "[]" not in w]
    assert len(top) >= 49


@pytest.mark.parametrize(("where", "published", "fake"), FIELDS, ids=[f[0] for f in FIELDS])
def test_the_fake_takes_null_exactly_where_it_is_published(
    where: str, published: bool, fake: bool
) -> None:
    assert published is fake


def _object_body(op: dict[str, Any]) -> dict[str, Any] | None:
    schema = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
    return schema if isinstance(schema, dict) and schema.get("type") == "object" else None


# Operations whose object body has at least one field published as nullable.
OBJECT_BODIES = sorted(
    (method.upper(), path)
    for path, item in DOCUMENT["paths"].items()
    for method, op in item.items()
    if (body := _object_body(op)) is not None
    and any(v.get("nullable") for v in body.get("properties", {}).values())
)


@pytest.mark.parametrize(("method", "path"), OBJECT_BODIES)
async def test_null_for_every_nullable_field_is_taken(method: str, path: str) -> None:
    schema = DOCUMENT["paths"][path][method.lower()]["requestBody"]["content"]["application/json"][
        "schema"
    ]
    nulls = {k: None for k, v in schema["properties"].items() if v.get("nullable")}
    async with FakeIQualify(api_key="d", seed="demo") as fake, aiohttp.ClientSession() as s:
        call = Api(s, fake.base_url, "d")
        sample = samples(fake.state)[(method, path)]
        status, answer = await call(method, sample.path, {**sample.body, **nulls})
        assert status == sample.status, answer
        for read in ("/offerings", "/offerings/current", "/offerings/past", "/offerings/future"):
            status, _ = await call("GET", read)
            assert status == 200, read


async def test_the_client_clears_fields_on_the_fake_with_none() -> None:
    from iqualify_async import Client

    key = "fake-key-0123456789"
    async with FakeIQualify(api_key=key, seed="demo") as fake:
        offering = sorted(fake.state.offerings)[0]
        user = next(iter(fake.state.users.values()))
        async with Client(api_key=key, base_url=fake.base_url) as iq:
            await iq.offerings.update(offering, identifier="x-1", end="2099-01-01T00:00:00Z")
            updated = await iq.offerings.update(offering, identifier=None, end=None, badge=None)
            assert updated.identifier is None and updated.end is None
            assert fake.state.offerings[offering].identifier is None
            assert (await iq.offerings.get(offering)).identifier is None
            await iq.offerings.list_current()
            await iq.users.update(user.email, profile=None, metadata=None)
            assert fake.state.users[user.key].display_name is None
            assert fake.state.users[user.key].tags == []


async def test_null_fields_of_added_users_are_taken() -> None:
    async with FakeIQualify(api_key="d", seed="demo") as fake, aiohttp.ClientSession() as s:
        call = Api(s, fake.base_url, "d")
        offering = sorted(fake.state.offerings)[0]
        item: dict[str, Any] = {"email": "nulls@example.com"}
        props = OFFERING_USER["properties"]
        item |= {k: None for k, v in props.items() if k != "email" and nullable(v)}
        item2 = {"email": "nulls2@example.com", "metadata": {"tags": None}, "profile": None}
        status, answer = await call("POST", f"/offerings/{offering}/users", [item, item2])
        assert status == 201, answer
        assert fake.state.users["nulls2@example.com"].tags == []


async def test_null_clears_a_stored_flag() -> None:
    async with FakeIQualify(api_key="d", seed="demo") as fake, aiohttp.ClientSession() as s:
        call = Api(s, fake.base_url, "d")
        user = next(iter(fake.state.users.values()))
        status, _ = await call("PUT", f"/users/{user.email}/suspend", {"suspended": True})
        assert status == 204 and fake.state.users[user.key].suspended is True
        status, _ = await call("PUT", f"/users/{user.email}/suspend", {"suspended": None})
        assert status == 204 and fake.state.users[user.key].suspended is False
        course = next(iter(fake.state.courses.values()))
        path = f"/courses/{course.root_content_id}/permissions/{user.email}"
        status, _ = await call("POST", path, {"isBuilder": None, "isReviewer": None})
        assert status == 201 and course.permissions[user.key] == (False, False)
