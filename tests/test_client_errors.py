"""Error statuses map to exceptions; odd bodies never crash; timeouts and refusals are typed."""

from __future__ import annotations

import asyncio
import socket

import pytest
from aiohttp import web

from iqualify_async import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    Client,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ResponseDecodeError,
    ServerError,
)
from iqualify_async._base_client import parse_retry_after

from .conftest import API_KEY, RecordingServer, plain_client_options

STATUS_CLASSES = [
    (400, BadRequestError),
    (401, AuthenticationError),
    (403, PermissionDeniedError),
    (404, NotFoundError),
    (409, ConflictError),
    (418, APIError),
    (429, RateLimitError),
    (500, ServerError),
    (502, ServerError),
    (503, ServerError),
]


def client_for(server: RecordingServer, **options: object) -> Client:
    return Client(
        api_key=API_KEY, base_url=server.base_url, **{**plain_client_options(), **options}
    )  # type: ignore[arg-type]


@pytest.mark.parametrize("nested", [True, False], ids=["nested-body", "flat-body"])
@pytest.mark.parametrize(("status", "cls"), STATUS_CLASSES)
async def test_status_maps_to_exception(
    server: RecordingServer, status: int, cls: type[APIError], nested: bool
) -> None:
    error = {"name": "ObjectNotFoundError", "details": "Offering not found"}
    server.reply(status, {"error": error} if nested else error)
    async with client_for(server) as iq:
        with pytest.raises(cls) as info:
            await iq.request("GET", "/offerings/{offeringId}", path_params={"offeringId": "o1"})
    exc = info.value
    assert type(exc) is cls
    assert exc.status == status
    assert exc.name == "ObjectNotFoundError" and exc.details == "Offering not found"
    assert exc.method == "GET" and exc.url.endswith("/v1/offerings/o1")
    assert "ObjectNotFoundError" in str(exc) and str(status) in str(exc)
    assert len(server.requests) == 1


@pytest.mark.parametrize(
    "body",
    [
        [],
        ["x"],
        "plain",
        {"error": "Something broke"},
        {"error": {"name": 5}},
        {"unexpected": 1},
        None,
    ],
)
async def test_odd_error_bodies_do_not_crash(server: RecordingServer, body: object) -> None:
    server.reply(400, body)
    async with client_for(server) as iq:
        with pytest.raises(BadRequestError) as info:
            await iq.request("GET", "/org")
    assert info.value.status == 400
    assert info.value.name is None
    if body == {"error": "Something broke"}:
        assert info.value.details == "Something broke"


async def test_html_error_page_keeps_status_class_and_snippet(server: RecordingServer) -> None:
    server.reply(
        502, text="<html><body>Bad gateway from proxy</body></html>", content_type="text/html"
    )
    async with client_for(server) as iq:
        with pytest.raises(ServerError) as info:
            await iq.request("GET", "/org")
    assert "Bad gateway from proxy" in str(info.value.body)


async def test_html_success_body_is_a_decode_error(server: RecordingServer) -> None:
    server.reply(200, text="<html>Login to the captive portal</html>", content_type="text/html")
    async with client_for(server) as iq:
        with pytest.raises(ResponseDecodeError) as info:
            await iq.request("GET", "/org")
    assert info.value.status == 200
    assert "captive portal" in info.value.snippet
    assert "captive portal" in str(info.value)


async def test_retry_after_is_exposed(server: RecordingServer) -> None:
    server.reply(429, {"name": "TooManyRequestsError"}, headers={"Retry-After": "7"})
    async with client_for(server) as iq:
        with pytest.raises(RateLimitError) as info:
            await iq.request("GET", "/org")
    assert info.value.retry_after == 7.0


def test_retry_after_parsing() -> None:
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after("1.5") == 1.5
    assert parse_retry_after("-2") == 0.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480.0) == 10.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


async def test_timeout_becomes_api_timeout_error(
    server: RecordingServer, never: asyncio.Event
) -> None:
    async def hang(request: web.Request) -> web.StreamResponse:
        await never.wait()
        return web.json_response({})

    server.handler = hang
    async with client_for(server) as iq:
        with pytest.raises(APITimeoutError) as info:
            await iq.request("GET", "/org", timeout=0.05)
    assert info.value.method == "GET" and "/v1/org" in info.value.url


async def test_connection_refused_is_connection_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async with Client(
        api_key=API_KEY, base_url=f"http://127.0.0.1:{port}/v1", **plain_client_options()
    ) as iq:
        with pytest.raises(APIConnectionError) as info:
            await iq.request("GET", "/org")
    assert not isinstance(info.value, APITimeoutError)
    assert info.value.request_sent is False
    assert "cannot connect" in str(info.value)


def test_api_errors_pickle_round_trip() -> None:
    import pickle

    exc = NotFoundError(404, name="ObjectNotFoundError", details="gone", method="GET", url="u")
    copy = pickle.loads(pickle.dumps(exc))
    assert (
        type(copy) is NotFoundError and copy.name == "ObjectNotFoundError" and str(copy) == str(exc)
    )
