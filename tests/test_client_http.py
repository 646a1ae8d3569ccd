"""What reaches the wire: auth header, user agent, path encoding, query, JSON body, 204."""

from __future__ import annotations

import json
import platform
import urllib.parse

import aiohttp
import pytest

from iqualify_async import Client, ParameterError, __version__

from .conftest import API_KEY, RecordingServer, plain_client_options


def client_for(server: RecordingServer, **options: object) -> Client:
    return Client(
        api_key=API_KEY, base_url=server.base_url, **{**plain_client_options(), **options}
    )  # type: ignore[arg-type]


async def test_raw_key_sent_by_default(server: RecordingServer) -> None:
    async with client_for(server) as iq:
        await iq.request("GET", "/org")
    assert server.requests[0].headers["Authorization"] == API_KEY


async def test_bearer_scheme_is_one_keyword_away(server: RecordingServer) -> None:
    async with client_for(server, auth_scheme="Bearer") as iq:
        await iq.request("GET", "/org")
    assert server.requests[0].headers["Authorization"] == f"Bearer {API_KEY}"


async def test_user_agent_and_default_headers(server: RecordingServer) -> None:
    async with client_for(server, default_headers={"X-Team": "ops"}) as iq:
        await iq.request("GET", "/org", extra_headers={"X-Trace": "t1"})
        await iq.request("GET", "/org")
    first, second = server.requests
    ua = first.headers["User-Agent"]
    assert ua == (
        f"iqualify-async/{__version__} python/{platform.python_version()} aiohttp/{aiohttp.__version__}"
    )
    assert first.headers["X-Team"] == "ops" and first.headers["X-Trace"] == "t1"
    assert "X-Trace" not in second.headers


async def test_extra_headers_cannot_replace_authorization(server: RecordingServer) -> None:
    async with client_for(server) as iq:
        with pytest.raises(ValueError, match="Authorization"):
            await iq.request("GET", "/org", extra_headers={"authorization": "other"})
    assert server.requests == []


@pytest.mark.parametrize(
    "hostile",
    ["a+b/c@x.org", "../org", "..", ".", "%2F", "x?y=1#z", "ünïcode space", "a;b=c", "\\x"],
)
async def test_path_parameters_stay_one_segment(server: RecordingServer, hostile: str) -> None:
    async with client_for(server) as iq:
        await iq.request("GET", "/users/{userEmail}/offerings", path_params={"userEmail": hostile})
    seen = server.requests[0]
    segments = seen.raw_path.split("?")[0].split("/")
    assert segments[:3] == ["", "v1", "users"] and segments[4:] == ["offerings"]
    assert urllib.parse.unquote(segments[3]) == hostile
    assert seen.query == {}


async def test_missing_or_empty_path_parameter_refused_before_sending(
    server: RecordingServer,
) -> None:
    async with client_for(server) as iq:
        with pytest.raises(ParameterError, match="offeringId"):
            await iq.request("GET", "/offerings/{offeringId}", path_params={})
        with pytest.raises(ParameterError, match=r"offeringId.*empty"):
            await iq.request("GET", "/offerings/{offeringId}", path_params={"offeringId": ""})
    assert server.requests == []


async def test_query_and_json_body(server: RecordingServer) -> None:
    server.reply(201, {"id": "u1", "email": "a@x.org"})
    async with client_for(server) as iq:
        data = await iq.request(
            "POST",
            "/users",
            params={"$top": 5, "learners": False, "filter": "x"},
            json={"email": "a@x.org", "tags": ["é"]},
        )
    seen = server.requests[0]
    assert data == {"id": "u1", "email": "a@x.org"}
    assert seen.method == "POST"
    assert seen.query == {"$top": "5", "learners": "false", "filter": "x"}
    assert seen.headers["Content-Type"].startswith("application/json")
    assert json.loads(seen.body) == {"email": "a@x.org", "tags": ["é"]}


async def test_204_gives_none_and_raw_gives_status(server: RecordingServer) -> None:
    server.reply(204)
    async with client_for(server) as iq:
        assert await iq.request("DELETE", "/offerings/o1/users/a@x.org") is None
        raw = await iq.request_raw("DELETE", "/offerings/o1/users/a@x.org")
    assert raw.status == 204 and raw.data is None


async def test_one_session_one_connection_for_many_calls(server: RecordingServer) -> None:
    async with client_for(server) as iq:
        session = iq._session
        for _ in range(20):
            await iq.request("GET", "/org")
        assert iq._session is session
    assert len({r.peer for r in server.requests}) == 1


async def test_list_query_values_repeat_the_key(server: RecordingServer) -> None:
    async with client_for(server) as iq:
        await iq.request("GET", "/offerings/summary", params={"tag": ["a", "b"], "$top": 3})
    assert server.requests[0].raw_path.endswith("?tag=a&tag=b&$top=3")


@pytest.mark.parametrize("value", [None, {"a": 1}, [None]])
async def test_unsendable_query_values_refused_before_sending(
    server: RecordingServer, value: object
) -> None:
    async with client_for(server) as iq:
        with pytest.raises(ParameterError, match="filter"):
            await iq.request("GET", "/offerings/summary", params={"filter": value})
    assert server.requests == []


@pytest.mark.parametrize("timeout", [0, -1, "5"])
async def test_bad_per_call_timeout_is_a_parameter_error(
    server: RecordingServer, timeout: object
) -> None:
    async with client_for(server) as iq:
        with pytest.raises(ParameterError, match="timeout"):
            await iq.request("GET", "/org", timeout=timeout)  # type: ignore[arg-type]
    assert server.requests == []
