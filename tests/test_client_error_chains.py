"""Malformed answers from a hostile server: no exception, cause or context holds the key."""

from __future__ import annotations

import asyncio
import pickle
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from iqualify_async import (
    APIConnectionError,
    BadRequestError,
    Client,
    IQualifyError,
    ResponseDecodeError,
    RetryPolicy,
)

from .conftest import API_KEY

Answer = Callable[[str], bytes]
"""The raw bytes to answer, given the Authorization header the client sent."""


@pytest.fixture
async def raw_server() -> AsyncIterator[Callable[[Answer], Awaitable[str]]]:
    """Starts loopback TCP servers answering every request with scripted raw bytes."""
    servers: list[asyncio.Server] = []

    async def start(answer: Answer) -> str:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
            fields = dict(
                (name.strip().lower(), value.strip())
                for name, _, value in (line.partition(":") for line in head.split("\r\n")[1:])
            )
            await reader.readexactly(int(fields.get("content-length", "0")))
            auth = fields["authorization"]
            status_line, _, rest = answer(auth).partition(b"\r\n")
            writer.write(status_line + b"\r\nConnection: close\r\n" + rest)
            await writer.drain()
            writer.close()

        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        servers.append(server)
        port = server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/v1"

    yield start
    for server in servers:
        server.close()
        await server.wait_closed()


def chain(error: BaseException) -> list[BaseException]:
    """The error and everything reachable through causes, contexts and ``.cause``."""
    seen: list[BaseException] = []
    todo = [error]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.append(current)
        for linked in (current.__cause__, current.__context__, getattr(current, "cause", None)):
            if isinstance(linked, BaseException):
                todo.append(linked)
    return seen


def assert_no_key_anywhere(error: BaseException) -> None:
    assert API_KEY not in "".join(traceback.format_exception(error))
    for linked in chain(error):
        texts = [repr(linked), str(linked), *(repr(v) for v in vars(linked).values())]
        for text in texts:
            assert API_KEY not in text, (type(linked).__name__, text)
        assert API_KEY.encode() not in pickle.dumps(linked), type(linked).__name__


ANSWERS: dict[str, tuple[Answer, type[IQualifyError]]] = {
    "bad status line": (
        lambda auth: f"HTTP/1.1 2OO {auth}\r\n\r\n".encode(),
        APIConnectionError,
    ),
    "bad header": (
        lambda auth: f"HTTP/1.1 200 OK\r\nX-Echo {auth}\r\n\r\n".encode(),
        APIConnectionError,
    ),
    "bad content-length": (
        lambda auth: f"HTTP/1.1 200 OK\r\nContent-Length: {auth}\r\n\r\n{{}}".encode(),
        APIConnectionError,
    ),
    "short body": (
        lambda auth: f'HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n{{"echo": "{auth}"'.encode(),
        APIConnectionError,
    ),
    "not JSON": (
        lambda auth: (
            f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
            f"{len(auth) + 13}\r\n\r\n<html>{auth}</html>".encode()
        ),
        ResponseDecodeError,
    ),
    "error with echo": (
        lambda auth: (
            f"HTTP/1.1 400 Bad Request\r\nContent-Length: {len(auth) + 4}\r\n\r\nbad {auth}"
        ).encode(),
        BadRequestError,
    ),
}


@pytest.mark.parametrize("case", sorted(ANSWERS))
async def test_no_cause_or_context_carries_the_key(
    raw_server: Callable[[Answer], Awaitable[str]], case: str
) -> None:
    answer, expected = ANSWERS[case]
    base_url = await raw_server(answer)
    async with Client(
        api_key=API_KEY,
        base_url=base_url,
        auth_scheme="Bearer",
        retry=RetryPolicy(max_retries=0),
    ) as iq:
        with pytest.raises(expected) as info:
            await iq.request("GET", "/org")
        with pytest.raises(expected) as write_info:  # AmbiguousWriteError for connection errors
            await iq.request("POST", "/things", json={"a": 1})
    for error in (info.value, write_info.value):
        assert_no_key_anywhere(error)


BODY_TEXT = "body-text-9f1c"
"""Text only the answer body holds: it may be in the error's snippet, never in what it chains."""


def _json_answer(body: str) -> Answer:
    """A 200 with ``body``, in which ``AUTH`` stands for the Authorization header echoed."""

    def answer(auth: str) -> bytes:
        data = body.replace("AUTH", auth).encode()
        head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(data)}"
        return head.encode() + b"\r\n\r\n" + data

    return answer


ILL_TYPED: dict[str, tuple[str, Callable[[Client], Awaitable[object]]]] = {
    "model": (
        f'{{"id": "u1", "email": "a@example.com", "lastAccessAt": "{BODY_TEXT}"}}',
        lambda iq: iq.users.get("a@example.com"),
    ),
    "nested model": (
        f'{{"id": "u1", "email": "a@example.com", "profile": {{"displayName": ["{BODY_TEXT}"]}}}}',
        lambda iq: iq.users.get("a@example.com"),
    ),
    "list item": (
        f'[{{"title": "b1"}}, {{"title": ["{BODY_TEXT}"]}}]',
        lambda iq: iq.users.list_badges("a@example.com"),
    ),
    "add-users item": (
        f'[{{"email": "a@example.com", "isMarker": "{BODY_TEXT}"}}]',
        lambda iq: iq.offerings.users.add("o1", [{"email": "a@example.com"}]),
    ),
    "echoed key in a model": (
        f'{{"id": "u1", "email": "a@example.com", "lastAccessAt": "{BODY_TEXT} AUTH"}}',
        lambda iq: iq.users.get("a@example.com"),
    ),
    "echoed key in a list item": (
        f'[{{"title": "AUTH"}}, {{"title": ["{BODY_TEXT}", "AUTH"]}}]',
        lambda iq: iq.users.list_badges("a@example.com"),
    ),
    "echoed key in strings": (
        f'["{BODY_TEXT}", 5, "AUTH"]',
        lambda iq: iq.offerings.analytics.pulses("o1"),
    ),
    "echoed key in a string map": (
        f'{{"a": "{BODY_TEXT}", "b": 5, "c": "AUTH"}}',
        lambda iq: iq.course_mappings.list(),
    ),
    "echoed key in add-users items": (
        f'[{{"email": "a@example.com", "isMarker": "{BODY_TEXT} AUTH"}}]',
        lambda iq: iq.offerings.users.add("o1", [{"email": "a@example.com"}]),
    ),
    "echoed key instead of add-users items": (
        f'{{"echo": "{BODY_TEXT} AUTH"}}',
        lambda iq: iq.offerings.users.add("o1", [{"email": "a@example.com"}]),
    ),
}


@pytest.mark.parametrize("case", sorted(ILL_TYPED))
async def test_a_decode_error_chains_nothing_from_the_body(
    raw_server: Callable[[Answer], Awaitable[str]], case: str
) -> None:
    body, call = ILL_TYPED[case]
    base_url = await raw_server(_json_answer(body))
    async with Client(
        api_key=API_KEY, base_url=base_url, auth_scheme="Bearer", retry=RetryPolicy(max_retries=0)
    ) as iq:
        with pytest.raises(ResponseDecodeError) as info:
            await call(iq)
    error = info.value
    assert error.__cause__ is None and error.__context__ is None
    for linked in chain(error)[1:]:  # nothing is linked; should anything be, it holds no body
        assert BODY_TEXT not in repr(linked) and BODY_TEXT not in str(linked)
    assert_no_key_anywhere(error)  # the error's own message and snippet included
    if "AUTH" in body:
        assert "***" in error.snippet
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is ResponseDecodeError
    assert (str(copy), copy.snippet, copy.status, copy.url) == (
        str(error),
        error.snippet,
        error.status,
        error.url,
    )
    assert copy.__context__ is None


async def test_command_line_preflight_errors_chain_no_api_error() -> None:
    from iqualify_async.cli.errors import CommandError
    from iqualify_async.cli.people_job import preflight
    from iqualify_async.testing import FakeIQualify

    key = "preflight-key-0123456789"
    async with FakeIQualify(key, seed="demo") as fake:
        async with Client(api_key=key, base_url=fake.base_url) as iq:
            with pytest.raises(CommandError) as missing:
                await preflight(iq, ["no-such-offering"])
        async with Client(api_key="wrong-key-0123456789", base_url=fake.base_url) as iq:
            with pytest.raises(CommandError) as refused:
                await preflight(iq, [])
    for error in (missing.value, refused.value):
        assert error.__context__ is None and error.__cause__ is None
