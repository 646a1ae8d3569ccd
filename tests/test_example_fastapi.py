"""examples/fastapi_app.py: lifespan-managed client with a shared limit, through ASGI."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from iqualify_async.testing import FakeIQualify

from ._redis_service import REDIS_URL, redis_name  # noqa: F401  (a fixture)

pytestmark = pytest.mark.services

KEY = "example-key-0123456789"


@pytest.fixture
async def fake() -> AsyncIterator[FakeIQualify]:
    async with FakeIQualify(KEY, seed="demo") as running:
        yield running


async def call(app: object, *paths: str) -> list[httpx.Response]:
    from fastapi import FastAPI

    assert isinstance(app, FastAPI)
    async with app.router.lifespan_context(app):  # what uvicorn runs at start and stop
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://app") as http:
            return [await http.get(path) for path in paths]


async def test_the_app_answers_through_a_shared_limit(
    fake: FakeIQualify,
    redis_name: str,  # noqa: F811
) -> None:
    from examples.fastapi_app import create_app

    offering = next(iter(fake.state.offerings.values()))
    app = create_app(
        api_key=KEY, base_url=fake.base_url, redis_url=REDIS_URL, limit_name=redis_name
    )
    found, missing, health = await call(
        app, f"/offerings/{offering.id}", "/offerings/nope", "/health"
    )
    assert found.status_code == 200 and found.json() == {"id": offering.id, "name": offering.name}
    assert missing.status_code == 404
    assert health.json() == {"rate_per_second": 10.0, "shared_limit": True}


async def test_the_app_keeps_answering_when_redis_is_gone(
    fake: FakeIQualify, monkeypatch: pytest.MonkeyPatch
) -> None:
    from examples.fastapi_app import create_app

    monkeypatch.setenv("WEB_CONCURRENCY", "4")
    offering = next(iter(fake.state.offerings.values()))
    app = create_app(api_key=KEY, base_url=fake.base_url, redis_url="redis://127.0.0.1:1/0")
    found, health = await call(app, f"/offerings/{offering.id}", "/health")
    assert found.status_code == 200
    assert health.json() == {"rate_per_second": 2.5, "shared_limit": False}  # 10 / 4 workers


def test_the_example_reads_only_public_client_attributes() -> None:
    source = (Path(__file__).resolve().parent.parent / "examples" / "fastapi_app.py").read_text()
    assert "._" not in source.replace("__", "")


async def test_a_client_without_a_shared_limit_says_so() -> None:
    from iqualify_async import Client

    async with Client(api_key="Example-Key-0123456789", base_url="http://127.0.0.1:9/v1") as iq:
        assert iq.shared_limit_active is False
