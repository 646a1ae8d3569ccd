"""Every one of the 84 operations: answered with the key, refused without it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import jsonschema_rs
import pytest

from iqualify_async._endpoints import ENDPOINTS
from iqualify_async.testing import FakeIQualify, build_state
from iqualify_async.testing.handlers import OPERATIONS
from iqualify_async.testing.openapi import DOCUMENT_PATH

from ._fake_samples import Sample, samples

KEY = "route-key-0123456789"
READ_ONLY = "read-only-key-0123456789"
LAP = Path(__file__).resolve().parent.parent / "spec" / "iqualify-management-v1.lap"
ROUTES = sorted({(e.method, e.path) for e in ENDPOINTS})
WRITES = [r for r in ROUTES if r[0] != "GET"]
SAMPLES = samples(build_state("demo"))
DOCUMENT: dict[str, Any] = json.loads(DOCUMENT_PATH.read_text())


def _lap_routes() -> set[tuple[str, str]]:
    lines = LAP.read_text().splitlines()
    return {tuple(line.split()[1:3]) for line in lines if line.startswith("@endpoint ")}  # type: ignore[misc]


def test_fake_serves_exactly_the_spec_operations() -> None:
    fake_routes = {(op.method, op.path) for op in OPERATIONS}
    assert len(OPERATIONS) == 84
    assert fake_routes == set(ROUTES) == _lap_routes()


def test_every_operation_has_a_sample() -> None:
    assert set(SAMPLES) == set(ROUTES)


def _response_schema(method: str, path: str, status: int) -> dict[str, Any] | None:
    response = DOCUMENT["paths"][path][method.lower()]["responses"].get(str(status), {})
    schema = response.get("content", {}).get("application/json", {}).get("schema")
    if schema is None:
        return None
    return {**schema, "components": DOCUMENT["components"]}


async def _send(
    session: aiohttp.ClientSession, base: str, method: str, sample: Sample, auth: str | None
) -> tuple[int, Any]:
    headers = {} if auth is None else {"Authorization": auth}
    kwargs: dict[str, Any] = {"headers": headers}
    if sample.body is not None:
        kwargs["json"] = sample.body
    async with session.request(method, base + sample.path, **kwargs) as response:
        text = await response.text()
        return response.status, json.loads(text) if text else None


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


@pytest.mark.parametrize(("method", "path"), ROUTES, ids=lambda v: str(v))
async def test_operation_answers_with_the_key(
    method: str, path: str, session: aiohttp.ClientSession
) -> None:
    sample = SAMPLES[(method, path)]
    auth = KEY if len(path) % 2 else f"Bearer {KEY}"  # both header forms, spread over routes
    async with FakeIQualify(api_key=KEY, seed="demo") as fake:
        status, body = await _send(session, fake.base_url, method, sample, auth)
        assert status == sample.status, body
        schema = _response_schema(method, path, status)
        if schema is not None:
            jsonschema_rs.validator_for(schema).validate(body)
        label = f"{method} {path}"
        assert fake.stats.requests[(label, status)] == 1
        assert fake.stats.writes[label] == (0 if method == "GET" else 1)


@pytest.mark.parametrize(("method", "path"), ROUTES, ids=lambda v: str(v))
async def test_operation_refuses_missing_and_wrong_keys(
    method: str, path: str, session: aiohttp.ClientSession
) -> None:
    sample = SAMPLES[(method, path)]
    async with FakeIQualify(api_key=KEY) as fake:
        for auth, details in ((None, "No authorization token was found."), ("nope", None)):
            status, body = await _send(session, fake.base_url, method, sample, auth)
            assert status == 401
            assert body["error"]["name"] == "NotAuthorizedError"
            if details:
                assert body["error"]["details"] == details
        assert sum(fake.stats.writes.values()) == 0


@pytest.mark.parametrize(("method", "path"), WRITES, ids=lambda v: str(v))
async def test_read_only_key_cannot_write(
    method: str, path: str, session: aiohttp.ClientSession
) -> None:
    sample = SAMPLES[(method, path)]
    async with FakeIQualify(api_key=KEY, read_only_key=READ_ONLY, seed="demo") as fake:
        status, body = await _send(session, fake.base_url, method, sample, READ_ONLY)
        assert status == 403
        assert body == {
            "error": {
                "name": "AccessDeniedError",
                "details": "You are not allowed to access this resource",
            }
        }
        assert sum(fake.stats.writes.values()) == 0
        status, _ = await _send(session, fake.base_url, "GET", Sample("/org", None, 200), READ_ONLY)
        assert status == 200


async def test_unknown_routes_and_methods_are_route_not_found(
    session: aiohttp.ClientSession,
) -> None:
    async with FakeIQualify(api_key=KEY) as fake:
        for method, url in (
            ("GET", fake.base_url + "/nothing/here"),
            ("DELETE", fake.base_url + "/org"),
            ("GET", fake.base_url.removesuffix("/v1") + "/v2/org"),
        ):
            async with session.request(method, url, headers={"Authorization": KEY}) as r:
                assert r.status == 404
                assert (await r.json())["error"]["name"] == "RouteNotFoundError"


async def test_encoded_slash_stays_inside_one_path_segment(
    session: aiohttp.ClientSession,
) -> None:
    async with FakeIQualify(api_key=KEY, seed="demo") as fake:
        url = fake.base_url + "/users/a%2Fb%40example.com"
        async with session.get(
            aiohttp.client.URL(url, encoded=True), headers={"Authorization": KEY}
        ) as r:
            body = await r.json()
        assert r.status == 404
        assert body["error"]["details"] == "The user a/b@example.com was not found."


async def test_openapi_document_is_served_with_the_fakes_own_base_url(
    session: aiohttp.ClientSession,
) -> None:
    async with FakeIQualify(api_key=KEY) as fake:
        async with session.get(fake.base_url + "/openapi.json") as r:
            document = await r.json()
        assert r.status == 200
        assert document["servers"][0]["url"] == fake.base_url
        assert document["paths"].keys() == DOCUMENT["paths"].keys()
