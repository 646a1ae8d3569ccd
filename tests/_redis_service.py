"""The local Redis for the shared-rate-limit tests: reachable, or a skip that says how to run.

Tests use the Redis at ``$IQUALIFY_TEST_REDIS_URL`` (default ``redis://127.0.0.1:6379/0``)
over real connections. Without it they are skipped, unless ``IQUALIFY_REQUIRE_SERVICES=1``
(as CI sets), which turns the skip into a failure. Each test gets its own key prefix, and
every key under it is deleted afterwards.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

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
    _skip_or_fail(unavailable(), HOW_TO_RUN)


HOW_TO_RUN_SERVER = (
    "install redis-server (apt-get install redis-server) so that it is on PATH, and the redis "
    "extra: pip install -e '.[test,redis]'"
)


def require_redis_server() -> str:
    """The ``redis-server`` binary; skip (or fail under IQUALIFY_REQUIRE_SERVICES=1) without it."""
    try:
        import redis  # noqa: F401
    except ImportError:
        _skip_or_fail("redis-py is not installed", HOW_TO_RUN_SERVER)
    binary = shutil.which("redis-server")
    if binary is None:
        _skip_or_fail("redis-server is not on PATH", HOW_TO_RUN_SERVER)
    assert binary is not None
    return binary


def _skip_or_fail(reason: str | None, how: str) -> None:
    if reason is None:
        return
    message = f"{reason}; to run these tests, {how}"
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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), 0.2) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class OwnRedis:
    """A ``redis-server`` of a test's own, on a free port, that the test kills and restarts.

    No persistence (``--save "" --appendonly no``), its files in a temporary directory; the
    shared Redis of the other tests is never touched.
    """

    def __init__(self, binary: str, directory: Path) -> None:
        self.binary = binary
        self.directory = directory
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 10.0) -> None:
        command = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--save", "", "--appendonly", "no", "--dir", str(self.directory)]
        self._proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while not _answers(self.port):
            if self._proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start on port {self.port}")
            time.sleep(0.02)

    def kill(self) -> None:
        """Stop it at once (SIGKILL), as a crashed or unplugged server would."""
        proc, self._proc = self._proc, None
        if proc is not None:
            proc.kill()
            proc.wait(10)


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[OwnRedis]:
    """A running Redis of this test's own (see :class:`OwnRedis`), killed afterwards."""
    server = OwnRedis(require_redis_server(), tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.kill()
