"""Rate adherence and fault survival against the embedded fake server.

``python -m benchmarks.rate_limit [--rate R] [--requests N] [--tasks T] [--json PATH]``

1. The fake allows R requests/s (token bucket, burst R); T tasks send N GETs through a client
   whose ceiling is 5R: the achieved rate must be at least 0.9 R with at most 2% 429 answers.
2. 10% 503 answers and 5% connections reset before handling: N GETs must all succeed with the
   default retry policy.
3. 20% of POSTs applied, then the connection dropped: no POST is sent twice, every dropped one
   is reported as ``AmbiguousWriteError``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import time
from collections import Counter
from pathlib import Path
from typing import Any

from iqualify_async import AmbiguousWriteError, Client, RateLimit, RetryPolicy
from iqualify_async.testing import FakeIQualify, Faults

KEY = "bench-key-0123456789"


async def _spread(total: int, tasks: int, call: Any) -> list[object]:
    per_task, extra = divmod(total, tasks)

    async def worker(index: int, n: int) -> list[object]:
        out: list[object] = []
        for k in range(n):
            try:
                out.append(await call(index, k))
            except Exception as exc:
                out.append(exc)
        return out

    chunks = await asyncio.gather(*(worker(i, per_task + (i < extra)) for i in range(tasks)))
    return [r for chunk in chunks for r in chunk]


async def rate_adherence(rate: float, requests: int, tasks: int) -> dict[str, Any]:
    async with FakeIQualify(api_key=KEY, faults=Faults(rate_limit=rate)) as fake:
        async with Client(
            api_key=KEY,
            base_url=fake.base_url,
            rate_limit=RateLimit(requests_per_second=5 * rate, max_concurrency=tasks),
        ) as iq:
            started = time.perf_counter()
            results = await _spread(requests, tasks, lambda i, k: iq.request("GET", "/"))
            elapsed = time.perf_counter() - started
            final_rate = iq.current_rate
        by_status = fake.stats.by_status
    ok = sum(1 for r in results if not isinstance(r, Exception))
    sent = sum(by_status.values())
    achieved = ok / elapsed
    share = by_status[429] / sent
    return {
        "server_rate": rate,
        "client_ceiling": 5 * rate,
        "requests": requests,
        "tasks": tasks,
        "succeeded": ok,
        "seconds": round(elapsed, 3),
        "achieved_per_second": round(achieved, 1),
        "achieved_ratio": round(achieved / rate, 3),
        "target_ratio": 0.9,
        "responses_429": by_status[429],
        "share_429": round(share, 4),
        "target_share_429": 0.02,
        "final_client_rate": None if final_rate is None else round(final_rate, 1),
        "client_stats": iq.stats.as_dict(),
        "pass": ok == requests and achieved >= 0.9 * rate and share <= 0.02,
    }


async def fault_survival(requests: int, tasks: int) -> dict[str, Any]:
    faults = Faults(error_rate=0.10, error_statuses=(503,), reset_rate=0.05, seed=1)
    async with FakeIQualify(api_key=KEY, faults=faults) as fake:
        async with Client(api_key=KEY, base_url=fake.base_url, rate_limit=None) as iq:
            started = time.perf_counter()
            results = await _spread(requests, tasks, lambda i, k: iq.request("GET", "/"))
            elapsed = time.perf_counter() - started
        injected = dict(fake.stats.faults)
    failed = [r for r in results if isinstance(r, Exception)]
    return {
        "requests": requests,
        "tasks": tasks,
        "succeeded": requests - len(failed),
        "failed": len(failed),
        "failures": dict(Counter(type(f).__name__ for f in failed)),
        "faults_injected": injected,
        "retries_by_reason": dict(iq.stats.retries_by_reason),
        "seconds": round(elapsed, 3),
        "retry_policy": f"default (max_retries={RetryPolicy().max_retries})",
        "pass": not failed,
    }


async def ambiguous_writes(calls: int, tasks: int) -> dict[str, Any]:
    async with FakeIQualify(api_key=KEY, seed="demo") as fake:
        async with Client(
            api_key=KEY, base_url=fake.base_url, rate_limit=RateLimit(requests_per_second=None)
        ) as iq:
            summary = await iq.request("GET", "/offerings/summary")
            content_id = summary[0]["contentId"]
            fake.stats.reset()
            fake.faults = Faults(apply_then_drop_rate=0.2, seed=2)

            async def create(index: int, k: int) -> object:
                body = {
                    "start": "2026-05-01T00:00:00.000Z",
                    "contentId": content_id,
                    "name": f"bench-{index}-{k}",
                }
                return await iq.request("POST", "/offerings", json=body)

            results = await _spread(calls, tasks, create)
        stats = fake.stats
    posts = sum(n for (route, _), n in stats.requests.items() if route == "POST /offerings")
    ambiguous = sum(1 for r in results if isinstance(r, AmbiguousWriteError))
    return {
        "calls": calls,
        "posts_received_by_server": posts,
        "writes_applied": stats.writes["POST /offerings"],
        "duplicate_posts": posts - calls,
        "dropped_after_apply": stats.faults["apply_then_drop"],
        "reported_ambiguous": ambiguous,
        "pass": posts == calls and ambiguous == stats.faults["apply_then_drop"],
    }


def _line(name: str, text: str, ok: bool) -> None:
    print(f"{name:<22} {text}  [{'ok' if ok else 'MISSED'}]")


async def main(args: argparse.Namespace) -> dict[str, Any]:
    logging.getLogger("iqualify_async").setLevel(logging.ERROR)
    rate = await rate_adherence(args.rate, args.requests, args.tasks)
    _line(
        "rate adherence",
        f"achieved/R {rate['achieved_ratio']:.3f} (target >= 0.90), "
        f"429 share {rate['share_429']:.2%} (target <= 2%), "
        f"{rate['requests']} GETs from {rate['tasks']} tasks at R={args.rate:g}/s, "
        f"client ceiling {rate['client_ceiling']:g}/s, {rate['seconds']} s",
        rate["pass"],
    )
    survival = await fault_survival(args.requests, args.tasks)
    _line(
        "503s + resets",
        f"{survival['succeeded']}/{survival['requests']} succeeded (target all), "
        f"retries {survival['retries_by_reason']}, {survival['seconds']} s",
        survival["pass"],
    )
    writes = await ambiguous_writes(args.writes, min(args.tasks, 50))
    _line(
        "apply-then-drop POSTs",
        f"duplicate POSTs {writes['duplicate_posts']} (target 0), "
        f"{writes['reported_ambiguous']}/{writes['dropped_after_apply']} drops reported",
        writes["pass"],
    )
    return {"rate_adherence": rate, "fault_survival": survival, "ambiguous_writes": writes}


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=200.0, help="server rate limit R (req/s)")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--tasks", type=int, default=200)
    parser.add_argument("--writes", type=int, default=500)
    parser.add_argument("--json", default="benchmarks/results/rate_limit.json")
    args = parser.parse_args()
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    report = asyncio.run(main(args))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
        print(f"results written to {args.json}")
    raise SystemExit(0 if all(part["pass"] for part in report.values()) else 1)


if __name__ == "__main__":
    cli()
