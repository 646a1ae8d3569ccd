"""The API key never leaks; misuse of the client lifecycle gives clear errors."""

from __future__ import annotations

import logging

import pytest

from iqualify_async import APIError, Client, ClientClosedError, events

from .conftest import API_KEY, RecordingServer, plain_client_options


async def test_key_never_in_repr_exceptions_logs_or_events(
    server: RecordingServer, caplog: pytest.LogCaptureFixture
) -> None:
    seen_events: list[object] = []
    # A misbehaving proxy that echoes the Authorization header back in its error page.
    server.reply(401, {"error": {"name": "NotAuthorizedError", "details": f"bad key {API_KEY}"}})
    caplog.set_level(logging.DEBUG)
    client = Client(
        api_key=API_KEY,
        base_url=server.base_url,
        event_hooks=[seen_events.append],
        **plain_client_options(),
    )
    texts = [repr(client), str(client)]
    async with client as iq:
        with pytest.raises(APIError) as info:
            await iq.request("GET", "/org")
        texts += [repr(iq)]
    texts += [str(info.value), repr(info.value), repr(info.value.body), repr(info.value.details)]
    texts += [record.getMessage() for record in caplog.records]
    texts += [repr(event) for event in seen_events]
    assert any(isinstance(e, events.ResponseReceived) for e in seen_events)
    assert any("GET" in t and "/v1/org" in t for t in (r.getMessage() for r in caplog.records))
    for text in texts:
        assert API_KEY not in text
    assert "***" in repr(client)


async def test_request_before_open_is_a_clear_error(server: RecordingServer) -> None:
    client = Client(api_key=API_KEY, base_url=server.base_url)
    with pytest.raises(ClientClosedError, match="async with"):
        await client.request("GET", "/org")
    assert server.requests == []


async def test_request_after_close_and_double_close(server: RecordingServer) -> None:
    async with Client(api_key=API_KEY, base_url=server.base_url) as iq:
        await iq.request("GET", "/org")
    await iq.aclose()
    with pytest.raises(ClientClosedError, match="closed"):
        await iq.request("GET", "/org")
    with pytest.raises(ClientClosedError):
        async with iq:
            pass
    assert len(server.requests) == 1


async def test_failing_hook_does_not_break_requests(server: RecordingServer) -> None:
    def broken(event: object) -> None:
        raise RuntimeError("metrics backend down")

    async with Client(api_key=API_KEY, base_url=server.base_url, event_hooks=[broken]) as iq:
        assert await iq.request("GET", "/org") == {}


async def test_events_and_stats_describe_each_attempt(server: RecordingServer) -> None:
    seen: list[object] = []
    async with Client(api_key=API_KEY, base_url=server.base_url, event_hooks=[seen.append]) as iq:
        await iq.request("GET", "/offerings/{offeringId}", path_params={"offeringId": "o 1"})
        assert iq.stats.requests == 1 and iq.stats.responses_by_status[200] == 1
    started = [e for e in seen if isinstance(e, events.RequestStarted)]
    received = [e for e in seen if isinstance(e, events.ResponseReceived)]
    assert len(started) == 1 and len(received) == 1
    assert received[0].path == "/offerings/{offeringId}" and received[0].status == 200
    assert received[0].url.endswith("/v1/offerings/o%201") and received[0].elapsed >= 0


async def test_every_occurrence_of_the_key_is_hidden_also_glued_to_words(
    server: RecordingServer,
) -> None:
    server.reply(
        404,
        {
            "name": "ObjectNotFoundError",
            "details": f"x{API_KEY}y _{API_KEY}_ {API_KEY}{API_KEY} offering not found",
        },
    )
    async with Client(api_key=API_KEY, base_url=server.base_url, **plain_client_options()) as iq:
        with pytest.raises(APIError) as info:
            await iq.request("GET", "/offerings/Thok")
    assert info.value.details == "x***y _***_ ****** offering not found"
    assert API_KEY not in str(info.value) and API_KEY not in repr(info.value.body)


def test_cli_and_client_hide_the_key_by_the_same_rule() -> None:
    from iqualify_async.cli.redact import redact as cli_redact

    text = f"Bearer {API_KEY}; id={API_KEY}abc; offering"
    assert cli_redact(text, API_KEY) == "Bearer ***; id=***abc; offering"
    client = Client(api_key=API_KEY, base_url="http://127.0.0.1:9/v1")
    assert client._redact(text) == cli_redact(text, API_KEY)
    # A key the client refuses is never sent, so nothing is hidden (nor mangled) for it.
    assert cli_redact("The offering nope was not found", "offering") == (
        "The offering nope was not found"
    )
