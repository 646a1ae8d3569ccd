"""The local Redis for the shared-rate-limit tests: reachable, or a skip that says how to run.

Tests use the Redis at ``$IQUALIFY_TEST_REDIS_URL`` (default ``redis://127.0.0.1:6379/0``)
over real connections. Without it they are skipped, unless ``IQUALIFY_REQUIRE_SERVICES=1``
(as CI sets), which turns the skip into a failure. Each test gets its own key prefix, and
every key under it is deleted afterwards.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import AsyncIterator

import pytest
from yarl import URL

REDIS_URL = os.environ.get("IQUALIFY_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
REQUIRE_ENV = "IQUALIFY_REQUIRE_SERVICES"
HOW_TO_RUN = (
    "start Redis on 127.0.0.1:6379 (or point IQUALIFY_TEST_REDIS_URL at one) and install "
    "the redis extra: pip install -e '.[test,redis]'"
)


def unavailable() -> str | None:
    """Why the Redis tests cannot run here, or ``None`` when they can."""
    try:
        import redis  # noqa: F401
    except ImportError:
        return "redis-py is not installed"
    url = URL(REDIS_URL)
    try:
        with socket.create_connection((url.host or "127.0.0.1", url.port or 6379), 1.0) as sock:
            sock.sendall(b"PING\r\n")
            if not sock.recv(64).startswith(b"+PONG"):
                return f"no PONG from Redis at {url.host}:{url.port}"
    except OSError as exc:
        return f"Redis at {url.host}:{url.port} unreachable ({exc})"
    return None


def require_redis() -> None:
    """Skip (or fail under IQUALIFY_REQUIRE_SERVICES=1) when Redis is not available."""
    reason = unavailable()
    if reason is None:
        return
    message = f"{reason}; to run these tests, {HOW_TO_RUN}"
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{REQUIRE_ENV}=1 but {message}", pytrace=False)
    pytest.skip(message)


@pytest.fixture
async def redis_name() -> AsyncIterator[str]:
    """A shared-limit name of this test's own; its Redis keys are deleted afterwards."""
    require_redis()
    import redis.asyncio

    from iqualify_async._shared_limit import KEY_PREFIX

    name = f"test-{uuid.uuid4().hex}"
    yield name
    client = redis.asyncio.Redis.from_url(REDIS_URL)
    try:
        keys = [key async for key in client.scan_iter(match=f"{KEY_PREFIX}{name}*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()
