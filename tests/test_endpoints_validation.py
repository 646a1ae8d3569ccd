"""Bad arguments raise ParameterError naming the parameter, and nothing is sent."""

from __future__ import annotations

import json
import operator
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import pytest

from iqualify_async import Client, ParameterError
from iqualify_async._endpoints import ENDPOINTS
from iqualify_async._registry import Endpoint, Param
from iqualify_async.types import OfferingUserInput

from ._endpoint_samples import OPENAPI, call_arguments, success_payload
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
        await iq.offerings.channels.update("o1", "c1", is_broadcast_only=None)
    assert json.loads(server.requests[0].body) == {"isBroadcastOnly": None}


async def test_none_is_refused_where_the_published_rules_need_a_string(iq: Client) -> None:
    error = await _call(iq, "offerings.channels.update", "o1", "c1", title=None)
    assert error.parameter == "title" and "None" in str(error)


ARRAY_BODIES = [e for e in ENDPOINTS if e.body == "array"]


@pytest.mark.parametrize("endpoint", ARRAY_BODIES, ids=[e.attr for e in ARRAY_BODIES])
@pytest.mark.parametrize("empty", [[], ()])
async def test_empty_array_body_is_refused(iq: Client, endpoint: Endpoint, empty: Any) -> None:
    args, kwargs, *_ = call_arguments(endpoint)
    [body_param] = [p for p in endpoint.params if p.location == "body"]
    error = await _call(iq, endpoint.attr, *args[:-1], empty, **kwargs)
    assert error.parameter == body_param.python_name
    assert "empty" in str(error)


def test_the_four_array_bodies_are_covered() -> None:
    assert {e.attr for e in ARRAY_BODIES} == {
        "offerings.users.add",
        "offerings.markers.add_learners",
        "offerings.markers.remove_learners",
        "users.offerings.add",
    }


def _published(endpoint: Endpoint, p: Param) -> dict[str, Any]:
    """The published schema of a body field (the fake's /v1/openapi.json)."""
    op = OPENAPI["paths"][endpoint.path][endpoint.method.lower()]
    body = op["requestBody"]["content"]["application/json"]["schema"]
    return body.get("properties", {}).get(p.name, {})  # type: ignore[no-any-return]


def _sends_null(endpoint: Endpoint, p: Param) -> bool:
    """Only an optional body field whose published rules any value meets takes None as null:
    not an email, an enum member, a pattern- or length-checked string."""
    if endpoint.body != "object" or p.location != "body" or p.required:
        return False
    rules = _published(endpoint, p)
    return not (
        rules.get("enum")
        or rules.get("minLength")
        or (rules.get("pattern") and rules.get("format") != "date-time")
        or rules.get("format") == "email"
    )


NONE_REFUSED = [
    (e, p) for e in ENDPOINTS for p in e.params if p.location != "path" and not _sends_null(e, p)
]
NONE_SENT = [(e, p) for e in ENDPOINTS for p in e.params if _sends_null(e, p)]


def _with(endpoint: Endpoint, p: Param, value: Any) -> tuple[list[Any], dict[str, Any]]:
    args, kwargs, *_ = call_arguments(endpoint)
    if endpoint.body == "array" and p.location == "body":
        args[-1] = value
    else:
        kwargs[p.python_name] = value
    return args, kwargs


@pytest.mark.parametrize(
    ("endpoint", "param"), NONE_REFUSED, ids=[f"{e.attr}:{p.python_name}" for e, p in NONE_REFUSED]
)
async def test_none_is_refused_where_the_api_has_no_null(
    iq: Client, endpoint: Endpoint, param: Param
) -> None:
    args, kwargs = _with(endpoint, param, None)
    error = await _call(iq, endpoint.attr, *args, **kwargs)
    assert error.parameter == param.python_name
    assert "None" in str(error)


def test_none_refusals_cover_what_review_found() -> None:
    refused = {(e.attr, p.python_name) for e, p in NONE_REFUSED}
    assert {
        ("users.create", "email"),
        ("users.update", "email"),
        ("offerings.create", "start"),
        ("offerings.groups.create", "title"),
        ("offerings.analytics.pulse_responses", "pulse_type"),
        ("offerings.analytics.pulse_responses", "response_time"),
        ("offerings.users.add", "users"),
        ("users.offerings.add", "offering_ids"),
    } <= refused


@pytest.mark.parametrize(
    ("endpoint", "param"), NONE_SENT, ids=[f"{e.attr}:{p.python_name}" for e, p in NONE_SENT]
)
async def test_none_is_sent_as_null_for_optional_free_form_body_fields(
    server: RecordingServer, endpoint: Endpoint, param: Param
) -> None:
    args, kwargs = _with(endpoint, param, None)
    server.reply(endpoint.success_status, success_payload(endpoint))
    async with Client(api_key=API_KEY, base_url=server.base_url) as client:
        await operator.attrgetter(endpoint.attr)(client)(*args, **kwargs)
    [request] = server.requests
    body = json.loads(request.body)
    assert param.name in body
    assert body[param.name] is None


@pytest.mark.parametrize(
    ("attr", "args", "kwargs", "parameter"),
    [
        ("offerings.users.add", ["o1", [{"email": None}]], {}, "users[0].email"),
        ("offerings.users.add", ["o1", [None]], {}, "users[0]"),
        ("users.offerings.add", ["a@example.com", [None]], {}, "offering_ids[0]"),
    ],
)
async def test_none_inside_an_array_body_is_refused(
    iq: Client, attr: str, args: list[Any], kwargs: dict[str, Any], parameter: str
) -> None:
    error = await _call(iq, attr, *args, **kwargs)
    assert error.parameter == parameter
