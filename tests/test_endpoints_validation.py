"""Bad arguments raise ParameterError naming the parameter, and nothing is sent."""

from __future__ import annotations

import operator
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import pytest

from iqualify_async import Client, ParameterError
from iqualify_async._endpoints import ENDPOINTS
from iqualify_async._registry import Endpoint
from iqualify_async.types import OfferingUserInput

from ._endpoint_samples import call_arguments
from .conftest import API_KEY, RecordingServer


@pytest.fixture
async def iq(server: RecordingServer) -> AsyncIterator[Client]:
    async with Client(api_key=API_KEY, base_url=server.base_url) as client:
        yield client
    assert server.requests == [], "a request was sent despite invalid arguments"


WITH_PATH = [e for e in ENDPOINTS if any(p.location == "path" for p in e.params)]


@pytest.mark.parametrize("endpoint", WITH_PATH, ids=[f"{e.method} {e.path}" for e in WITH_PATH])
@pytest.mark.parametrize("bad", ["", 123, None])
async def test_path_params_refused(iq: Client, endpoint: Endpoint, bad: Any) -> None:
    args, kwargs, *_ = call_arguments(endpoint)
    method = operator.attrgetter(endpoint.attr)(iq)
    path_params = [p for p in endpoint.params if p.location == "path"]
    for i, p in enumerate(path_params):
        broken = list(args)
        broken[i] = bad
        with pytest.raises(ParameterError) as info:
            await method(*broken, **kwargs)
        assert info.value.parameter == p.python_name


async def _call(iq: Client, attr: str, *args: Any, **kwargs: Any) -> ParameterError:
    with pytest.raises(ParameterError) as info:
        await operator.attrgetter(attr)(iq)(*args, **kwargs)
    assert isinstance(info.value, ValueError)
    return info.value


@pytest.mark.parametrize(
    ("attr", "args", "kwargs", "parameter"),
    [
        ("users.get", ["not-an-email"], {}, "user_email"),
        ("users.get", ["a b@example.com"], {}, "user_email"),
        ("users.add_permission", ["a@example.com", "root"], {}, "permission_name"),
        ("offerings.find_by_info", ["ab"], {}, "text_pattern"),
        ("offerings.groups.list_learners", ["o1", "xyz"], {}, "group_id"),
        ("offerings.groups.list_learners", ["o1", "0123456789abcdef0123456"], {}, "group_id"),
        ("offerings.analytics.pulse_responses", ["o1"], {"pulse_type": "mcq"}, "pulse_type"),
        ("offerings.users.list", ["o1"], {"learners": "yes"}, "learners"),
        ("offerings.users.list", ["o1"], {"markers": 1}, "markers"),
        ("offerings.summary", [], {"top": -1}, "top"),
        ("offerings.summary", [], {"top": "ten"}, "top"),
        ("offerings.summary", [], {"order_by": 5}, "order_by"),
        ("offerings.create", [], {"start": datetime(2024, 1, 1)}, "start"),
        ("offerings.create", [], {"start": "next tuesday"}, "start"),
        ("offerings.create", [], {"start": "2024-01-01T00:00:00Z", "name": 7}, "name"),
        (
            "offerings.create",
            [],
            {"start": "2024-01-01T00:00:00Z", "hidden_page_ids": "p1"},
            "hidden_page_ids",
        ),
        ("offerings.create", [], {"start": "2024-01-01T00:00:00Z", "metadata": ["x"]}, "metadata"),
        (
            "offerings.create",
            [],
            {"start": "2024-01-01T00:00:00Z", "metadata": {"tags": "a"}},
            "metadata.tags",
        ),
        (
            "offerings.channels.create",
            ["o1"],
            {"title": "t", "is_broadcast_only": "true"},
            "is_broadcast_only",
        ),
        ("users.update", ["a@example.com"], {"email": "nope"}, "email"),
        ("users.offerings.add", ["a@example.com"], {"offering_ids": "o1"}, "offering_ids"),
        ("users.offerings.add", ["a@example.com"], {"offering_ids": ["o1", 2]}, "offering_ids[1]"),
        (
            "offerings.markers.add_learners",
            ["o1", "m@example.com"],
            {"learner_emails": {"a": 1}},
            "learner_emails",
        ),
        ("offerings.users.add", ["o1"], {"users": {"email": "a@example.com"}}, "users"),
        ("offerings.users.add", ["o1"], {"users": [{"firstName": "A"}]}, "users[0].email"),
        (
            "offerings.users.add",
            ["o1"],
            {"users": [OfferingUserInput(email="bad")]},
            "users[0].email",
        ),
        (
            "offerings.users.add",
            ["o1"],
            {"users": [{"email": "a@example.com", "isMarker": "no"}]},
            "users[0].isMarker",
        ),
        ("offerings.users.add", ["o1"], {"users": ["a@example.com"]}, "users[0]"),
    ],
)
async def test_invalid_arguments(
    iq: Client, attr: str, args: list[Any], kwargs: dict[str, Any], parameter: str
) -> None:
    error = await _call(iq, attr, *args, **kwargs)
    assert error.parameter == parameter
    assert parameter in str(error)


async def test_missing_required_keyword_is_refused(iq: Client) -> None:
    with pytest.raises(TypeError, match="title"):
        await iq.offerings.groups.create("o1")  # type: ignore[call-arg]


async def test_flags_accept_bools_and_strings(server: RecordingServer) -> None:
    server.reply(200, [])
    async with Client(api_key=API_KEY, base_url=server.base_url) as iq:
        await iq.offerings.users.list("o1", facilitators=True, learners="false")
    assert server.requests[0].query == {"facilitators": "true", "learners": "false"}


async def test_none_is_sent_as_null_only_when_passed(server: RecordingServer) -> None:
    server.reply(200, {"id": "c1"})
    async with Client(api_key=API_KEY, base_url=server.base_url) as iq:
        await iq.offerings.channels.update("o1", "c1", title=None)
    assert (
        server.requests[0].body == b'{"title":null}'
        or server.requests[0].body == b'{"title": null}'
    )
