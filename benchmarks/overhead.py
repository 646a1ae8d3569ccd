"""(1) Per-request overhead: the library against raw aiohttp and httpx, same server, same load.

``N`` x ``GET /offerings/{id}`` at concurrency 50 from one process against the fake server in
another. Each client first sends a warm-up round on the same connections (not timed). The
library runs without its client-side limiter (``rate_limit=None``; raw aiohttp and httpx have
none) and, separately, with the limiter on but its ceiling far above the achieved rate, so the
limiter's own cost shows. A short run with the default settings shows what the default limiter
(10 requests/s) allows.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from contextlib import AbstractAsyncContextManager
from typing import Any

import aiohttp
import httpx

from iqualify_async import Client, RateLimit

from ._common import Settings, Timed, drive
from ._report import Figure, Target, figure
from ._server import FakeServerProcess

NAME = "overhead"
CONCURRENCY = 50
HIGH_CEILING = RateLimit(max_concurrency=None, requests_per_second=1_000_000.0, burst=1000)

Runner = Callable[[str, str, list[str], int], Coroutine[Any, Any, Timed]]


async def _offering_ids(base_url: str, api_key: str) -> list[str]:
    async with (
        aiohttp.ClientSession(headers={"Authorization": api_key}) as session,
        session.get(base_url + "/offerings") as response,
    ):
        response.raise_for_status()
        data: Any = await response.json()
    items = data["items"] if isinstance(data, dict) and "items" in data else data
    ids = [str(item["id"]) for item in items]
    if not ids:
        raise RuntimeError("the fake server has no offerings; was it seeded?")
    return ids


def _warmup(n: int) -> int:
    return min(n, 2 * CONCURRENCY)


async def _timed(
    client: AbstractAsyncContextManager[Any],
    fetch: Callable[[Any, int], Awaitable[object]],
    n: int,
) -> Timed:
    async with client as c:
        await drive(lambda i: fetch(c, i), _warmup(n), CONCURRENCY)
        return await drive(lambda i: fetch(c, i), n, CONCURRENCY)


def _library(rate_limit: RateLimit | None) -> Runner:
    async def run(base_url: str, api_key: str, ids: list[str], n: int) -> Timed:
        async def fetch(iq: Client, i: int) -> object:
            return await iq.offerings.get(ids[i % len(ids)])

        client = Client(api_key=api_key, base_url=base_url, rate_limit=rate_limit)
        return await _timed(client, fetch, n)

    return run


async def _library_json(base_url: str, api_key: str, ids: list[str], n: int) -> Timed:
    """The session layer alone: ``iq.request`` returns the decoded JSON, no model is built."""

    async def fetch(iq: Client, i: int) -> object:
        return await iq.request(
            "GET", "/offerings/{offeringId}", path_params={"offeringId": ids[i % len(ids)]}
        )

    client = Client(api_key=api_key, base_url=base_url, rate_limit=None)
    return await _timed(client, fetch, n)


async def _raw_aiohttp(base_url: str, api_key: str, ids: list[str], n: int) -> Timed:
    urls = [f"{base_url}/offerings/{oid}" for oid in ids]

    async def fetch(session: aiohttp.ClientSession, i: int) -> object:
        async with session.get(urls[i % len(urls)]) as response:
            if response.status != 200:
                raise RuntimeError(f"unexpected status {response.status}")
            return await response.json()

    connector = aiohttp.TCPConnector(limit=100)
    session = aiohttp.ClientSession(headers={"Authorization": api_key}, connector=connector)
    return await _timed(session, fetch, n)


async def _httpx(base_url: str, api_key: str, ids: list[str], n: int) -> Timed:
    urls = [f"{base_url}/offerings/{oid}" for oid in ids]

    async def fetch(client: httpx.AsyncClient, i: int) -> object:
        response = await client.get(urls[i % len(urls)])
        if response.status_code != 200:
            raise RuntimeError(f"unexpected status {response.status_code}")
        return response.json()

    limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
    client = httpx.AsyncClient(headers={"Authorization": api_key}, limits=limits)
    return await _timed(client, fetch, n)


VARIANTS: dict[str, Runner] = {
    "library": _library(None),
    "library_limiter": _library(HIGH_CEILING),
    "library_json": _library_json,
    "aiohttp": _raw_aiohttp,
    "httpx": _httpx,
}


async def _default_limiter(base_url: str, api_key: str, ids: list[str], n: int) -> Timed:
    async def fetch(iq: Client, i: int) -> object:
        return await iq.offerings.get(ids[i % len(ids)])

    async with Client(api_key=api_key, base_url=base_url) as iq:
        return await drive(lambda i: fetch(iq, i), n, CONCURRENCY)


def run(settings: Settings) -> list[Figure]:
    n = settings.n(5000, 150)
    runs: dict[str, list[Timed]] = {name: [] for name in VARIANTS}
    server_cpu: list[float] = []
    with FakeServerProcess(seed="demo") as server:
        ids = asyncio.run(_offering_ids(server.base_url, server.api_key))
        names = list(VARIANTS)
        for rep in range(min(settings.reps, 3)):  # httpx alone takes ~20 s per round
            order = names[rep % len(names) :] + names[: rep % len(names)]  # rotate for fairness
            for name in order:
                before = server.cpu_seconds()
                runs[name].append(
                    asyncio.run(VARIANTS[name](server.base_url, server.api_key, ids, n))
                )
                if name == "aiohttp":
                    server_cpu.append((server.cpu_seconds() - before) / (n + _warmup(n)))
        default = asyncio.run(
            _default_limiter(server.base_url, server.api_key, ids, settings.n(40, 22))
        )

    def rps(name: str) -> list[float]:
        return [t.per_second for t in runs[name]]

    def cpu_us(name: str) -> list[float]:
        return [t.cpu_seconds / t.count * 1e6 for t in runs[name]]

    def ratios(a: str, b: str) -> list[float]:
        # per repetition: the two ran back to back, so they saw the same machine load
        return [x / y for x, y in zip(rps(a), rps(b), strict=True)]

    setup = f"N={n} GET /offerings/{{id}}, concurrency {CONCURRENCY}"
    figures = [
        figure(NAME, "library req/s (rate_limit=None)", "req/s", rps("library"), note=setup),
        figure(NAME, "library req/s (limiter on, ceiling 1e6/s)", "req/s", rps("library_limiter")),
        figure(NAME, "raw aiohttp req/s", "req/s", rps("aiohttp")),
        figure(NAME, "httpx req/s", "req/s", rps("httpx")),
        figure(NAME, "library / aiohttp", "x", ratios("library", "aiohttp"), Target(">=", 0.9)),
        figure(NAME, "library / httpx", "x", ratios("library", "httpx"), Target(">=", 1.3)),
        figure(NAME, "library (limiter on) / aiohttp", "x", ratios("library_limiter", "aiohttp")),
        figure(
            NAME,
            "session layer alone (iq.request, no model) / aiohttp",
            "x",
            ratios("library_json", "aiohttp"),
            note="the difference to library / aiohttp is the cost of building typed models",
        ),
        figure(NAME, "library client CPU per request", "µs", cpu_us("library")),
        figure(
            NAME, "library (limiter on) client CPU per request", "µs", cpu_us("library_limiter")
        ),
        figure(NAME, "iq.request (no model) client CPU per request", "µs", cpu_us("library_json")),
        figure(NAME, "raw aiohttp client CPU per request", "µs", cpu_us("aiohttp")),
        figure(NAME, "httpx client CPU per request", "µs", cpu_us("httpx")),
        figure(
            NAME,
            "server CPU per request (fake, during aiohttp)",
            "µs",
            [s * 1e6 for s in server_cpu],
            note="if this is close to 1e6 / (raw aiohttp req/s), the fake server is the bottleneck",
        ),
        figure(
            NAME,
            "library req/s with default RateLimit()",
            "req/s",
            [default.per_second],
            note=f"{default.count} requests: the default limiter (10 req/s, burst 20) caps it",
        ),
    ]
    cpu_ratios = [b / a for a, b in zip(cpu_us("library"), cpu_us("aiohttp"), strict=True)]
    figures.append(
        figure(
            NAME,
            "aiohttp CPU ÷ library CPU per request",
            "x",
            cpu_ratios,
            note="what library/aiohttp would be if the client process alone were the limit",
        ),
    )
    return figures
