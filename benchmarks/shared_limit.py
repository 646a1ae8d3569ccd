"""Shared rate limit on Redis: several processes on one key against a rate-limited fake.

``python -m benchmarks.shared_limit [--requests N] [--processes P] [--redis URL] [--json PATH]``

1. P processes (4), each with its own ``Client`` (ceiling 1,000/s, 20 tasks), send N GETs in
   all (default 800; the issue's figure uses 2,000) to the fake limited to R = 100/s: first
   sharing one budget in Redis, then with local limiters only. Targets for the shared run:
   combined rate >= 0.9 R, <= 2% answered 429.
2. Storm propagation: four clients share a budget of R; one of them meets a fake that
   answers 429 to everything for 3 s. Time until every client's rate has dropped (target:
   1 s), and from the storm's end until every client's rate is back at 0.9 R (target: 10 s).
   ``--only start`` runs the shared case twice: with a new budget starting at the ceiling (as
   before slow start) and starting low (the default), for a before/after comparison.
3. Overhead: GETs to an unlimited fake through a shared limiter (ceiling 1e6/s) and through a
   local one; the difference per request in µs, and Redis round trips per request.
4. Throughput: 1, 2 and 4 processes (20 tasks each) send N GETs in all to an unlimited fake
   (ceiling 1e6/s), sharing one budget in Redis and with local limiters; requests per second
   of each, side by side.

Needs the local Redis (``redis://127.0.0.1:6379/0`` or ``--redis``); about 30 s by default.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import multiprocessing
import time
import uuid
from pathlib import Path
from typing import Any

from iqualify_async import Client, IQualifyError, RateLimit, RetryPolicy, _shared_limit
from iqualify_async._shared_limit import KEY_PREFIX, SharedLimiter
from iqualify_async.testing import FakeIQualify, Faults

from ._server import FakeServerProcess

KEY = "bench-key-0123456789"
RATE = 100.0
TASKS = 20


def _limit(shared: str | None, name: str, ceiling: float = 1000.0) -> RateLimit:
    # max_concurrency per process, as a web worker would set it.
    return RateLimit(requests_per_second=ceiling, max_concurrency=TASKS, shared=shared, name=name)


async def _worker(
    base_url: str,
    shared: str | None,
    name: str,
    n: int,
    ceiling: float = 1000.0,
    cold_start: float | None = None,
) -> dict[str, Any]:
    logging.getLogger("iqualify_async").setLevel(logging.ERROR)
    if cold_start is not None:
        _shared_limit.COLD_START = cold_start
    limit = _limit(shared, name, ceiling)
    async with Client(api_key=KEY, base_url=base_url, rate_limit=limit) as iq:
        todo = iter(range(n))
        failed = 0

        async def task() -> None:
            nonlocal failed
            for _ in todo:
                try:
                    await iq.request("GET", "/org")
                except IQualifyError:
                    failed += 1

        started = time.perf_counter()
        await asyncio.gather(*(task() for _ in range(TASKS)))
        elapsed = time.perf_counter() - started
        return {
            "ok": n - failed,
            "seconds": elapsed,
            "sent": iq.stats.requests,
            "answered_429": iq.stats.rate_limited,
        }


def _process(args: tuple[Any, ...]) -> dict[str, Any]:
    return asyncio.run(_worker(*args))


def many_processes(
    redis_url: str, processes: int, requests: int, shared: bool, cold_start: float | None = None
) -> dict[str, Any]:
    name = f"bench-{uuid.uuid4().hex}"
    with FakeServerProcess(seed=None, faults={"rate_limit": RATE}, api_key=KEY) as server:
        jobs = [
            (
                server.base_url,
                redis_url if shared else None,
                name,
                requests // processes,
                1000.0,
                cold_start,
            )
            for _ in range(processes)
        ]
        with multiprocessing.get_context("spawn").Pool(processes) as pool:
            results = pool.map(_process, jobs)
    ok = sum(r["ok"] for r in results)
    sent = sum(r["sent"] for r in results)
    share = sum(r["answered_429"] for r in results) / sent
    ratio = ok / max(r["seconds"] for r in results) / RATE
    mode = "shared (Redis)" if shared else "local limiters"
    if shared and cold_start is not None:
        mode += f", new budget at {min(1.0, cold_start):g} x ceiling"
    return {
        "mode": mode,
        "processes": processes,
        "requests": requests,
        "succeeded": ok,
        "rate_ratio": round(ratio, 3),
        "share_429": round(share, 4),
        "pass": ratio >= 0.9 and share <= 0.02 if shared else None,
    }


async def storm_propagation(redis_url: str) -> dict[str, Any]:
    name = f"bench-{uuid.uuid4().hex}"
    calm = Faults(rate_limit=RATE)
    async with FakeIQualify(api_key=KEY, faults=calm) as fake, FakeIQualify(api_key=KEY) as bad:
        clients = [
            Client(
                api_key=KEY,
                base_url=(bad if i == 0 else fake).base_url,
                rate_limit=_limit(redis_url, name, ceiling=RATE),
                retry=RetryPolicy(max_retries=0),
            )
            for i in range(4)
        ]
        stop = False

        async def load(iq: Client) -> None:
            while not stop:
                try:
                    await iq.request("GET", "/org")
                except IQualifyError:
                    pass

        for iq in clients:
            await iq.open()
        tasks = [asyncio.create_task(load(iq)) for iq in clients for _ in range(5)]
        await asyncio.sleep(1.0)
        before = [iq.current_rate or 0.0 for iq in clients]
        bad.faults = Faults(rate_limit=1e-9, burst=1, retry_after=False)
        started = time.monotonic()
        dropped: dict[int, float] = {}
        while len(dropped) < len(clients) and time.monotonic() - started < 5.0:
            await asyncio.sleep(0.01)
            for i, iq in enumerate(clients):
                if i not in dropped and (iq.current_rate or 0.0) < 0.7 * before[i]:
                    dropped[i] = time.monotonic() - started
        await asyncio.sleep(max(0.0, 3.0 - (time.monotonic() - started)))  # a 3 s storm
        bad.faults = calm
        ended = time.monotonic()
        recovered = None
        while recovered is None and time.monotonic() - ended < 20.0:
            await asyncio.sleep(0.01)
            if all((iq.current_rate or 0.0) >= 0.9 * RATE for iq in clients):
                recovered = time.monotonic() - ended
        stop = True
        await asyncio.gather(*tasks)
        for iq in clients:
            await iq.aclose()
    slowest = max(dropped.values()) if len(dropped) == len(clients) else float("inf")
    return {
        "clients": len(clients),
        "seconds_until_every_rate_dropped": round(slowest, 3),
        "per_client": {str(i): round(t, 3) for i, t in sorted(dropped.items())},
        "seconds_from_storm_end_to_90_percent": None if recovered is None else round(recovered, 2),
        "pass": slowest <= 1.0 and recovered is not None and recovered <= 10.0,
    }


async def overhead(redis_url: str, requests: int) -> dict[str, Any]:
    name = f"bench-{uuid.uuid4().hex}"
    per_request: dict[str, float] = {}
    round_trips = 0.0
    async with FakeIQualify(api_key=KEY) as fake:
        for label, shared in (("local", None), ("shared", redis_url)) * 2:
            limit = _limit(shared, name, ceiling=1e6)
            async with Client(api_key=KEY, base_url=fake.base_url, rate_limit=limit) as iq:
                await iq.request("GET", "/org")
                todo = iter(range(requests))

                async def task(iq: Client = iq, todo: Any = todo) -> None:
                    for _ in todo:
                        await iq.request("GET", "/org")

                started = time.perf_counter()
                await asyncio.gather(*(task() for _ in range(TASKS)))
                per_request[label] = (time.perf_counter() - started) / requests
                if isinstance(iq._limiter, SharedLimiter):
                    round_trips = iq._limiter.round_trips / (requests + 1)
    return {
        "requests": requests,
        "local_us_per_request": round(per_request["local"] * 1e6, 1),
        "shared_us_per_request": round(per_request["shared"] * 1e6, 1),
        "added_us_per_request": round((per_request["shared"] - per_request["local"]) * 1e6, 1),
        "redis_round_trips_per_request": round(round_trips, 3),
    }


def throughput(
    redis_url: str, requests: int, counts: tuple[int, ...] = (1, 2, 4)
) -> dict[str, Any]:
    """Requests per second with 1, 2, 4 processes against an unlimited fake, shared vs local."""
    rows: dict[str, Any] = {}
    with FakeServerProcess(seed=None, api_key=KEY) as server:
        for processes in counts:
            row: dict[str, Any] = {"processes": processes, "requests": requests}
            for label, shared in (("local", None), ("shared", redis_url)):
                name = f"bench-{uuid.uuid4().hex}"
                jobs = [
                    (server.base_url, shared, name, requests // processes, 1e6)
                    for _ in range(processes)
                ]
                with multiprocessing.get_context("spawn").Pool(processes) as pool:
                    results = pool.map(_process, jobs)
                ok = sum(r["ok"] for r in results)
                row[f"{label}_per_second"] = round(ok / max(r["seconds"] for r in results))
            rows[str(processes)] = row
    return rows


async def _cleanup(redis_url: str) -> None:
    import redis.asyncio

    client = redis.asyncio.Redis.from_url(redis_url)
    try:
        keys = [k async for k in client.scan_iter(match=f"{KEY_PREFIX}bench-*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


PARTS = ("processes", "start", "storm", "overhead", "throughput")
DEFAULT_PARTS = ("processes", "storm", "overhead", "throughput")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=800)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--json", default="benchmarks/results/shared_limit.json")
    parser.add_argument("--only", nargs="+", choices=PARTS, default=list(DEFAULT_PARTS))
    args = parser.parse_args()
    logging.getLogger("iqualify_async").setLevel(logging.ERROR)
    out: dict[str, Any] = {}
    try:
        runs: list[tuple[bool, float | None]] = []
        if "start" in args.only:  # a new budget at the ceiling (as before slow start), then now
            runs += [(True, 1.0), (True, None)]
        if "processes" in args.only:
            runs += [(True, None), (False, None)]
        for shared, cold_start in runs:
            run = many_processes(args.redis, args.processes, args.requests, shared, cold_start)
            out[run["mode"]] = run
            print(
                f"{run['mode']}: {run['processes']} processes, {run['succeeded']} of "
                f"{run['requests']} GETs, combined rate {run['rate_ratio']:.2f} x R "
                f"(R={RATE:g}/s), {run['share_429']:.1%} answered 429"
                + ("  [target >= 0.9 x R, <= 2%]" if shared else "")
            )
        if "storm" in args.only:
            storm = asyncio.run(storm_propagation(args.redis))
            out["storm"] = storm
            print(
                f"storm shown to one of {storm['clients']} clients: every rate dropped within "
                f"{storm['seconds_until_every_rate_dropped']} s  [target <= 1 s]; every rate "
                f"back to 0.9 R {storm['seconds_from_storm_end_to_90_percent']} s after the "
                "3 s storm [target <= 10 s]"
            )
        if "overhead" in args.only:
            cost = asyncio.run(overhead(args.redis, 2000))
            out["overhead"] = cost
            print(
                f"overhead: {cost['shared_us_per_request']} µs per request shared vs "
                f"{cost['local_us_per_request']} µs local (+{cost['added_us_per_request']} µs), "
                f"{cost['redis_round_trips_per_request']} Redis round trips per request"
            )
        if "throughput" in args.only:
            rows = throughput(args.redis, max(args.requests * 3, 2400))
            out["throughput"] = rows
            for row in rows.values():
                print(
                    f"unlimited fake, {row['processes']} process(es), {row['requests']} GETs in "
                    f"all: {row['shared_per_second']}/s shared vs {row['local_per_second']}/s "
                    "local"
                )
    finally:
        asyncio.run(_cleanup(args.redis))
    path = Path(args.json)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
