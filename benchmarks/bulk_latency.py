"""(2) Latency-bound bulk enrolment against Little's law.

The fake answers every request after ``LATENCY`` seconds. With ``C`` requests in flight, no
client can finish more than ``C / LATENCY`` requests per second; the figure is the achieved
request rate divided by that limit. Each repetition enrols ``N`` users who do not exist yet
(fresh e-mail addresses) with ``bulk.enrol(iq, offering, people, concurrency=C, ...)``.

- Headline: ``batch_size=1``, one person per request (``C`` people in flight), from a fresh
  client, as a bulk job starts (it opens its connections during the first wave).
- The same with the connection pool opened before the clock starts.
- For comparison, the engine alone (``bulk.run`` calling ``iq.offerings.users.add`` with one
  person), without enrol's batcher.
- The default ``batch_size=50``: the API's array endpoint carries 50 people per request, so
  people/s can exceed ``C / LATENCY``; printed as people/s and as a multiple of that limit.

The client is configured as a bulk job would be: ``RateLimit(max_concurrency=C,
requests_per_second=None)`` (the default 10 requests/s ceiling would otherwise be the limit),
retries on default settings. Every request's round trip is recorded (``ResponseReceived``
events) so the shortfall can be split into "requests not in flight" and "each request took
longer than the fake's latency".
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import attrs

from iqualify_async import Client, RateLimit, bulk
from iqualify_async.events import ResponseReceived

from ._common import Settings
from ._report import Figure, Target, figure
from ._server import FakeServerProcess

NAME = "bulk_latency"
LATENCY = 0.050
CONCURRENCY = 50
BATCHED = 50


@attrs.frozen
class Run:
    seconds: float
    items: int
    requests: int
    round_trips: tuple[float, ...]
    server_cpu: float
    client_cpu: float

    @property
    def requests_per_second(self) -> float:
        return self.requests / self.seconds

    @property
    def items_per_second(self) -> float:
        return self.items / self.seconds

    @property
    def mean_round_trip(self) -> float:
        return sum(self.round_trips) / len(self.round_trips)


def _people(label: str, n: int) -> list[dict[str, str]]:
    return [
        {"email": f"bench-{label}-{i}@example.com", "firstName": "Bench", "lastName": f"P{i}"}
        for i in range(n)
    ]


async def _run_once(
    server: FakeServerProcess, offering_id: str, label: str, n: int, *, batch: int, warm: bool
) -> Run:
    people = _people(label, n)
    limit = RateLimit(max_concurrency=CONCURRENCY, requests_per_second=None)
    round_trips: list[float] = []

    def on_event(event: object) -> None:
        if isinstance(event, ResponseReceived):
            round_trips.append(event.elapsed)

    client = Client(
        api_key=server.api_key, base_url=server.base_url, rate_limit=limit, event_hooks=[on_event]
    )
    async with client as iq:
        warm_calls = CONCURRENCY if warm else 1
        await asyncio.gather(*(iq.offerings.get(offering_id) for _ in range(warm_calls)))
        requests_before = iq.stats.requests
        round_trips.clear()
        server_before = server.cpu_seconds()
        loop = asyncio.get_running_loop()
        started = loop.time()
        cpu = time.process_time()
        if batch:
            job = bulk.enrol(iq, offering_id, people, concurrency=CONCURRENCY, batch_size=batch)
            summary = await job
        else:  # the engine alone, one generated call per person: no batcher in between

            async def add(person: dict[str, str]) -> object:
                return await iq.offerings.users.add(offering_id, [person])

            summary = await bulk.run(add, people, concurrency=CONCURRENCY)
        seconds = loop.time() - started
        client_cpu = time.process_time() - cpu
        requests = iq.stats.requests - requests_before
        server_seconds = server.cpu_seconds() - server_before
    if summary.succeeded != n:
        raise RuntimeError(f"only {summary.succeeded} of {n} people were enrolled: {summary!r}")
    return Run(seconds, n, requests, tuple(round_trips), server_seconds / requests, client_cpu)


async def _first_offering(base_url: str, api_key: str) -> str:
    async with Client(api_key=api_key, base_url=base_url, rate_limit=None) as iq:
        data: Any = await iq.request("GET", "/offerings")
    items = data["items"] if isinstance(data, dict) and "items" in data else data
    return str(items[0]["id"])


def run(settings: Settings) -> list[Figure]:
    n = settings.n(1000, 100)
    limit = CONCURRENCY / LATENCY
    cold: list[Run] = []
    warm: list[Run] = []
    batched: list[Run] = []
    engine: list[Run] = []
    with FakeServerProcess(seed="demo", faults={"latency_ms": LATENCY * 1000}) as server:
        offering_id = asyncio.run(_first_offering(server.base_url, server.api_key))
        for rep in range(settings.reps):
            for runs, label, batch, is_warm in (
                (cold, f"cold{rep}", 1, False),
                (warm, f"warm{rep}", 1, True),
                (batched, f"batched{rep}", BATCHED, False),
                (engine, f"engine{rep}", 0, False),
            ):
                runs.append(
                    asyncio.run(_run_once(server, offering_id, label, n, batch=batch, warm=is_warm))
                )
    setup = (
        f"bulk.enrol of {n} new users, C={CONCURRENCY}, batch_size=1, latency "
        f"{LATENCY * 1000:.0f} ms: limit C/latency = {limit:.0f} req/s; "
        f"{cold[0].requests} requests per run (one read of the offering's members + one per user)"
    )
    return [
        figure(
            NAME,
            "achieved req/s ÷ Little's-law limit",
            "x",
            [r.requests_per_second / limit for r in cold],
            Target(">=", 0.8),
            note=setup,
        ),
        figure(
            NAME,
            "same, connection pool opened beforehand",
            "x",
            [r.requests_per_second / limit for r in warm],
        ),
        figure(
            NAME,
            "mean round trip seen by the client",
            "ms",
            [r.mean_round_trip * 1000 for r in cold],
            note=f"the fake sleeps {LATENCY * 1000:.0f} ms; the rest is CPU time and queueing "
            "on both sides",
        ),
        figure(
            NAME,
            "achieved req/s ÷ (C / mean round trip)",
            "x",
            [r.requests_per_second * r.mean_round_trip / CONCURRENCY for r in cold],
            note="how well the client keeps C requests in flight, whatever each one costs",
        ),
        figure(
            NAME,
            "bulk.run + offerings.users.add per user: ÷ limit",
            "x",
            [r.requests_per_second / limit for r in engine],
            note="the engine driving the generated coroutine directly, without enrol's batcher",
        ),
        figure(
            NAME,
            "same: achieved ÷ (C / mean round trip)",
            "x",
            [r.requests_per_second * r.mean_round_trip / CONCURRENCY for r in engine],
        ),
        figure(
            NAME,
            "same: client CPU per user",
            "µs",
            [r.client_cpu / r.items * 1e6 for r in engine],
        ),
        figure(NAME, "server CPU per request (fake)", "µs", [r.server_cpu * 1e6 for r in cold]),
        figure(NAME, "client CPU per user", "µs", [r.client_cpu / r.items * 1e6 for r in cold]),
        figure(NAME, "enrolment rate, batch_size=1", "users/s", [r.items_per_second for r in cold]),
        figure(
            NAME,
            f"enrolment rate, batch_size={BATCHED} (default)",
            "users/s",
            [r.items_per_second for r in batched],
            note=f"{batched[0].requests} requests per run",
        ),
        figure(
            NAME,
            f"batch_size={BATCHED}: users/s ÷ (C / latency)",
            "x",
            [r.items_per_second / limit for r in batched],
        ),
    ]
