"""The PostgreSQL server tests use: the one every development machine and CI runs.

``IQUALIFY_TEST_POSTGRES`` names it (default ``postgresql://postgres@127.0.0.1:5432/test``).
When it cannot be reached the tests that need it are skipped, saying how to run them, unless
``IQUALIFY_REQUIRE_SERVICES=1`` (set in CI), which makes that a failure. Each test gets a schema
of its own, dropped afterwards.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from urllib.parse import quote

import pytest

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"


def base_url() -> str:
    return os.environ.get("IQUALIFY_TEST_POSTGRES", DEFAULT_URL)


def _unavailable(why: str) -> None:
    message = (
        f"PostgreSQL is not available ({why}). Start a server reachable at {base_url()} "
        "(trust auth, database 'test'), or point IQUALIFY_TEST_POSTGRES at one, and install "
        "the extra: pip install -e '.[postgres]'"
    )
    if os.environ.get("IQUALIFY_REQUIRE_SERVICES") == "1":
        pytest.fail(message + " (IQUALIFY_REQUIRE_SERVICES=1: not skipped)")
    pytest.skip(message)


@contextlib.contextmanager
def fresh_schema() -> Iterator[str]:
    """A PostgreSQL URL whose connections use a fresh schema of their own (dropped after);
    skips (or fails, see the module) when the server cannot be reached."""
    try:
        import psycopg
    except ImportError:
        _unavailable("psycopg is not installed")
        raise AssertionError("unreachable") from None
    schema = f"iq_test_{uuid.uuid4().hex[:12]}"
    try:
        with psycopg.connect(base_url(), autocommit=True, connect_timeout=3) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
    except psycopg.OperationalError as exc:
        _unavailable(" ".join(str(exc).split())[:200])
    separator = "&" if "?" in base_url() else "?"
    try:
        yield f"{base_url()}{separator}options={quote(f'-csearch_path={schema}')}"
    finally:
        with psycopg.connect(base_url(), autocommit=True, connect_timeout=3) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")
