"""Every endpoint sends the right request and decodes a spec-shaped answer (loopback server)."""

from __future__ import annotations

import json
import operator
from datetime import datetime
from typing import Any

import attrs
import pytest

import iqualify_async.types as types
from iqualify_async import Client
from iqualify_async._converter import wire_name
from iqualify_async._endpoints import ENDPOINTS
from iqualify_async._registry import Endpoint

from ._endpoint_samples import OPENAPI, call_arguments, sample, success_payload
from .conftest import API_KEY, RecordingServer, plain_client_options

IDS = [f"{e.method} {e.path}" for e in ENDPOINTS]


def _list_payload(endpoint: Endpoint) -> list[dict[str, Any]]:
    """Two items of a list answer (an array, or ``oneOf: [object, array]``)."""
    op = OPENAPI["paths"][endpoint.path][endpoint.method.lower()]
    schema = op["responses"][str(endpoint.success_status)]["content"]["application/json"]["schema"]
    if "oneOf" in schema:
        one, many = schema["oneOf"]
        assert many == {"type": "array", "items": one}
    else:
        one = schema["items"]
    first, second = sample(one), sample(one)
    first["fieldFromTheFuture"] = {"x": 1}
    second["email" if "email" in second else "id"] = "second"
    return [first, second]


def _check_model(obj: Any, payload: dict[str, Any]) -> None:
    assert obj.raw == payload
    for field in attrs.fields(type(obj)):
        if field.name == "raw":
            continue
        wire = wire_name(field)
        value = getattr(obj, field.name)
        if wire not in payload:
            assert value is None
            continue
        sent = payload[wire]
        if attrs.has(type(value)):
            _check_model(value, sent)
        elif isinstance(value, datetime):
            assert value == datetime.fromisoformat(sent)
            assert value.tzinfo is not None
        elif isinstance(value, tuple):
            assert len(value) == len(sent)
            for item, sent_item in zip(value, sent, strict=True):
                if attrs.has(type(item)):
                    _check_model(item, sent_item)
                else:
                    assert item == sent_item
        else:
            assert value == sent


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=IDS)
async def test_request_and_response(server: RecordingServer, endpoint: Endpoint) -> None:
    args, kwargs, path, query, body = call_arguments(endpoint)
    payload = success_payload(endpoint)
    if endpoint.attr == "offerings.users.add":
        payload = [{"email": u["email"], "invite": {"url": "https://x"}} for u in body]
    if endpoint.returns == "list[str]":
        payload = ["one", "two"]
    elif endpoint.returns == "dict[str, str]":
        payload = {"offering-1": "external-1", "offering-2": "external-2"}
    elif endpoint.returns is not None and endpoint.returns.startswith("list["):
        payload = _list_payload(endpoint)
    server.reply(endpoint.success_status, payload)

    async with Client(api_key=API_KEY, base_url=server.base_url, **plain_client_options()) as iq:
        method = operator.attrgetter(endpoint.attr)(iq)
        result = await method(*args, **kwargs)

    [request] = server.requests
    assert request.method == endpoint.method
    assert request.raw_path.split("?")[0] == path
    assert request.query == query
    if body is None:
        assert request.body == b""
    else:
        assert json.loads(request.body) == body
        assert request.headers["Content-Type"].startswith("application/json")

    if endpoint.attr == "offerings.users.add":
        assert isinstance(result, types.AddUsersResult)
        assert [o.status for o in result.items] == ["succeeded", "succeeded"]
        assert [o.user.email for o in result.items if o.user] == ["a@example.com", "b@example.com"]
    elif endpoint.returns in ("list[str]", "dict[str, str]"):
        assert result == payload
    elif endpoint.returns is not None and endpoint.returns.startswith("list["):
        model = getattr(types, endpoint.returns.removeprefix("list[").removesuffix("]"))
        assert isinstance(result, list) and len(result) == len(payload) == 2
        for item, sent in zip(result, payload, strict=True):
            assert isinstance(item, model)
            _check_model(item, sent)
    elif endpoint.returns is not None:
        assert isinstance(result, getattr(types, endpoint.returns))
        _check_model(result, payload)
    else:
        assert result == payload
