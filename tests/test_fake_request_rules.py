"""The fake's published request rules match the client's, and the fake keeps them."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

import iqualify_async
from iqualify_async.testing import FakeIQualify
from iqualify_async.testing.handlers import OPERATIONS
from iqualify_async.testing.validation import OFFERING_USER, closed
from iqualify_async.types import params

from ._fake_http import Api

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


def _objects(
    published: dict[str, Any], fake: dict[str, Any] | None, where: str
) -> Iterator[tuple[str, dict[str, Any], dict[str, Any] | None]]:
    """Every object schema of a request body: (where, published, the fake's own)."""
    published = _resolve(published)
    if published.get("type") == "object" and published.get("properties"):
        yield where, published, fake
        for name, sub in published["properties"].items():
            inner = (fake or {}).get("properties", {}).get(name)
            yield from _objects(sub, inner, f"{where}.{name}")
    elif published.get("type") == "array" and "items" in published:
        yield from _objects(published["items"], (fake or {}).get("items"), f"{where}[]")


def _request_objects() -> list[tuple[str, dict[str, Any], dict[str, Any] | None]]:
    out = []
    for path, item in DOCUMENT["paths"].items():
        for method, op in item.items():
            body = op.get("requestBody")
            if body is None:
                continue
            schema = body["content"]["application/json"]["schema"]
            fake = FAKE_BODIES[(method.upper(), path)]
            out += _objects(schema, fake, f"{method.upper()} {path}")
    return out


REQUEST_OBJECTS = _request_objects()


@pytest.mark.parametrize(("where", "published", "fake"), REQUEST_OBJECTS, ids=lambda v: "")
def test_every_request_object_is_published_closed_and_the_fake_closes_it(
    where: str, published: dict[str, Any], fake: dict[str, Any] | None
) -> None:
    assert published.get("additionalProperties") is False, where
    assert fake is not None and closed(fake), where
    assert set(fake["properties"]) == set(published["properties"]), where


@pytest.mark.parametrize("name", [n for n in params.__all__ if n.endswith("_FIELDS")])
def test_each_object_the_client_closes_is_published_closed(name: str) -> None:
    keys = set(getattr(params, name))
    matches = [p for _, p, _ in REQUEST_OBJECTS if set(p["properties"]) == keys]
    assert matches and all(p.get("additionalProperties") is False for p in matches), name


@pytest.fixture
async def api() -> AsyncIterator[tuple[Api, FakeIQualify]]:
    async with FakeIQualify(api_key="d", seed="demo") as fake, aiohttp.ClientSession() as s:
        yield Api(s, fake.base_url, "d"), fake


async def test_an_unknown_key_in_a_nested_object_is_refused(
    api: tuple[Api, FakeIQualify],
) -> None:
    call, fake = api
    offering = sorted(fake.state.offerings)[0]
    status, channel = await call("POST", f"/offerings/{offering}/channels", {"title": "t"})
    assert status == 201
    for method, path, body in [
        ("POST", "/users", {"email": "n@example.com", "profile": {"displayName": "d", "other": 1}}),
        ("PATCH", f"/offerings/{offering}", {"badge": {"badgeExpiry": {"other": 1}}}),
        ("POST", "/offerings", {"start": "2024-01-01T00:00:00Z", "settings": {"other": True}}),
        ("PATCH", f"/offerings/{offering}/channels/{channel['id']}", {"group": {"other": True}}),
    ]:
        status, answer = await call(method, path, body)
        assert status == 400, (method, path)
        assert "should NOT have additional properties ('other')" in json.dumps(answer)
