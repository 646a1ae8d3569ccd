"""``users.suspend`` suspends and ``users.unsuspend`` unsuspends: the flag is not an argument."""

from __future__ import annotations

import inspect
import json

import pytest
from click.testing import CliRunner

from iqualify_async import ENDPOINTS, SHORTCUTS, Client
from iqualify_async.cli import cli
from iqualify_async.testing import FakeIQualify

from .conftest import API_KEY, THREAD_KEY, RecordingServer, plain_client_options


async def test_suspend_and_unsuspend_against_the_fake() -> None:
    async with FakeIQualify("test-key-0123456789", seed="demo") as fake:
        user = next(iter(fake.state.users.values()))
        async with Client(api_key="test-key-0123456789", base_url=fake.base_url) as iq:
            await iq.users.suspend(user.email)
            suspended = user.suspended
            await iq.users.suspend(user.email)  # twice is still suspended
            again = user.suspended
            await iq.users.unsuspend(user.email)
    assert suspended is True and again is True and user.suspended is False


async def test_each_sends_its_own_flag(server: RecordingServer) -> None:
    server.reply(204, None)
    async with Client(api_key=API_KEY, base_url=server.base_url, **plain_client_options()) as iq:
        await iq.users.suspend("ann@example.com")
        await iq.users.unsuspend("ann@example.com")
    assert [json.loads(r.body) for r in server.requests] == [
        {"suspended": True},
        {"suspended": False},
    ]
    assert {r.method for r in server.requests} == {"PUT"}


def test_the_flag_is_no_argument() -> None:
    from iqualify_async.resources.users.users import UsersResource

    for method in (UsersResource.suspend, UsersResource.unsuspend):
        assert "suspended" not in inspect.signature(method).parameters
    (endpoint,) = [e for e in ENDPOINTS if e.attr == "users.suspend"]
    assert [p.name for p in endpoint.params] == ["userEmail"]
    assert endpoint.fixed == (("suspended", True),)
    (sibling,) = SHORTCUTS.values()
    assert (sibling.attr, sibling.method, sibling.path) == (
        "users.unsuspend",
        endpoint.method,
        endpoint.path,
    )
    assert sibling.params == endpoint.params and sibling.fixed == (("suspended", False),)


@pytest.mark.parametrize(
    ("operation", "suspended"), [("users.suspend", True), ("users.unsuspend", False)]
)
def test_the_command_line_calls_both(
    threaded_fake: FakeIQualify, operation: str, suspended: bool
) -> None:
    user = next(u for u in threaded_fake.state.users.values() if u.suspended is not suspended)
    result = CliRunner().invoke(
        cli,
        ["call", operation, "--user-email", user.email, "--base-url", threaded_fake.base_url],
        env={"IQUALIFY_API_KEY": THREAD_KEY},
    )
    assert result.exit_code == 0, result.stderr
    assert user.suspended is suspended
    refused = CliRunner().invoke(
        cli,
        ["call", operation, "--user-email", user.email, "--suspended", "true"],
        env={"IQUALIFY_API_KEY": THREAD_KEY, "IQUALIFY_BASE_URL": threaded_fake.base_url},
    )
    assert refused.exit_code != 0 and "suspended" in refused.stderr
