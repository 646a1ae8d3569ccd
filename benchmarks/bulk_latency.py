"""(2) Latency-bound bulk enrolment against Little's law.

The fake answers every request after ``LATENCY`` seconds. With ``C`` requests in flight, no
client can finish more than ``C / LATENCY`` requests per second; the figure is the achieved
request rate divided by that limit. Each repetition enrols ``N`` users who do not exist yet
(fresh e-mail addresses), so every item is a real write.

The headline figure is a fresh client, as a bulk job starts (it opens its connections during the
first wave); a second figure opens the connection pool first.

The client is configured as a bulk job would be: ``RateLimit(max_concurrency=C,
requests_per_second=None)`` (the default 10 requests/s ceiling would otherwise be the limit),
retries on default settings.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Callable
from typing import Any

import attrs

from iqualify_async import Client, RateLimit
from iqualify_async._events import ResponseReceived

from ._common import Settings
from ._report import Figure, Target, figure
from ._server import FakeServerProcess

NAME = "bulk_latency"
LATENCY = 0.050
CONCURRENCY = 50
C_WARM = CONCURRENCY


@attrs.frozen
class Run:
    seconds: float
    items: int
    requests: int
    succeeded: int
    how: str
    round_trips: tuple[float, ...]
    server_cpu: float
    client_cpu: float

    @property
    def mean_round_trip(self) -> float:
        return sum(self.round_trips) / len(self.round_trips)

    @property
    def requests_per_second(self) -> float:
        return self.requests / self.seconds

    @property
    def items_per_second(self) -> float:
        return self.items / self.seconds


def _people(rep: int, n: int) -> list[dict[str, str]]:
    return [
        {"email": f"bench{rep}-{i}@example.com", "firstName": "Bench", "lastName": f"Person {i}"}
        for i in range(n)
    ]


def _bulk_enrol() -> Callable[..., Any] | None:
    try:
        from iqualify_async.bulk import enrol  # type: ignore[attr-defined,unused-ignore]
    except ImportError:
        return None
    found: Callable[..., Any] = enrol
    return found


async def _run_once(
    server: FakeServerProcess, offering_id: str, rep: int, n: int, *, warm: bool
) -> Run:
    base_url, api_key, server_cpu = server.base_url, server.api_key, server.cpu_seconds
    from iqualify_async import bulk

    people = _people(rep, n)
    limit = RateLimit(max_concurrency=CONCURRENCY, requests_per_second=None)
    round_trips: list[float] = []

    def on_event(event: object) -> None:
        if isinstance(event, ResponseReceived):
            round_trips.append(event.elapsed)

    client = Client(api_key=api_key, base_url=base_url, rate_limit=limit, event_hooks=[on_event])
    async with client as iq:
        # A fresh client opens its connections during the first wave; a warm one has them.
        await asyncio.gather(*(iq.offerings.get(offering_id) for _ in range(C_WARM if warm else 1)))
        requests_before = iq.stats.requests
        round_trips.clear()
        server_before = server_cpu()
        loop = asyncio.get_running_loop()
        enrol = _bulk_enrol()
        started = loop.time()
        cpu = time.process_time()
        if enrol is not None:
            how = "bulk.enrol"
            result = enrol(iq, offering_id, people, concurrency=CONCURRENCY)
            summary = await result if inspect.isawaitable(result) else result
        else:
            how = "bulk.run over offerings.users.add, one user per call"

            async def add(person: dict[str, str]) -> object:
                return await iq.offerings.users.add(offering_id, [person])

            summary = await bulk.run(add, people, concurrency=CONCURRENCY)
        seconds = loop.time() - started
        client_cpu = time.process_time() - cpu
        requests = iq.stats.requests - requests_before
        server_seconds = server_cpu() - server_before
    succeeded = int(getattr(summary, "succeeded", 0))
    if succeeded != n:
        raise RuntimeError(f"only {succeeded} of {n} people were enrolled: {summary!r}")
    return Run(
        seconds,
        n,
        requests,
        succeeded,
        how,
        tuple(round_trips),
        server_seconds / requests,
        client_cpu,
    )


async def _first_offering(base_url: str, api_key: str) -> str:
    async with Client(api_key=api_key, base_url=base_url, rate_limit=None) as iq:
        data: Any = await iq.request("GET", "/offerings")
    items = data["items"] if isinstance(data, dict) and "items" in data else data
    return str(items[0]["id"])


def run(settings: Settings) -> list[Figure]:
    n = settings.n(1000, 100)
    limit = CONCURRENCY / LATENCY
    with FakeServerProcess(seed="demo", faults={"latency_ms": LATENCY * 1000}) as server:
        offering_id = asyncio.run(_first_offering(server.base_url, server.api_key))
        runs: list[Run] = []
        warm_runs: list[Run] = []
        for rep in range(settings.reps):
            runs.append(asyncio.run(_run_once(server, offering_id, 2 * rep, n, warm=False)))
            warm_runs.append(asyncio.run(_run_once(server, offering_id, 2 * rep + 1, n, warm=True)))
    setup = (
        f"{n} new users, C={CONCURRENCY}, latency {LATENCY * 1000:.0f} ms, "
        f"limit C/latency = {limit:.0f} req/s; via {runs[0].how}; "
        f"{runs[0].requests} requests per run"
    )
    return [
        figure(
            NAME,
            "achieved req/s ÷ Little's-law limit",
            "x",
            [r.requests_per_second / limit for r in runs],
            Target(">=", 0.8),
            note=setup,
        ),
        figure(
            NAME,
            "same, connection pool opened beforehand",
            "x",
            [r.requests_per_second / limit for r in warm_runs],
            note="C connections opened before the clock starts",
        ),
        figure(
            NAME,
            "mean round trip seen by the client",
            "ms",
            [r.mean_round_trip * 1000 for r in runs],
            note=f"the fake sleeps {LATENCY * 1000:.0f} ms; the rest is CPU time and queueing "
            "on both sides",
        ),
        figure(
            NAME,
            "achieved req/s ÷ C / mean round trip",
            "x",
            [r.requests_per_second * r.mean_round_trip / CONCURRENCY for r in runs],
            note="how well the client keeps C requests in flight, whatever each one costs",
        ),
        figure(
            NAME,
            "server CPU per request (fake)",
            "µs",
            [r.server_cpu * 1e6 for r in runs],
        ),
        figure(NAME, "client CPU per user", "µs", [r.client_cpu / r.items * 1e6 for r in runs]),
        figure(NAME, "enrolment rate", "users/s", [r.items_per_second for r in runs]),
        figure(NAME, "request rate", "req/s", [r.requests_per_second for r in runs]),
        figure(NAME, "time for the whole enrolment", "s", [r.seconds for r in runs]),
    ]
