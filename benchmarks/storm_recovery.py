"""(7) Recovery after a storm of 429s: seconds from the storm's end to 90% of the server's rate.

``python -m benchmarks.storm_recovery [--rate R] [--storm S] [--json PATH]``

The fake allows R requests/s; 50 tasks send GETs without pause through a client whose
ceiling is 5R. After a warm-up the fake answers 429 (no ``Retry-After``) to everything for S
seconds, then allows R again. Figure: seconds from the end of the storm until the successes
of the last second reach 0.9 R (target: 10 s), also for a brownout (the fake allows 1
request/s instead of none). The run is bounded: it gives up 30 s after the storm.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import time
from pathlib import Path
from typing import Any

from iqualify_async import Client, IQualifyError, RateLimit, RetryPolicy
from iqualify_async.testing import FakeIQualify, Faults

from ._common import Settings
from ._report import Figure, Target, figure

NAME = "storm_recovery"
KEY = "bench-key-0123456789"
TASKS = 50
GIVE_UP = 30.0
TARGET_SECONDS = 10.0


def _recovered_at(successes: list[float], since: float, rate: float) -> float | None:
    """First time after ``since`` when the successes of the second before reach 0.9 ``rate``."""
    need = 0.9 * rate
    window: list[float] = []
    for t in successes:
        if t < since:
            continue
        window.append(t)
        while window[0] < t - 1.0:
            window.pop(0)
        if t - since >= 1.0 and len(window) >= need:
            return t
    return None


async def storm(rate: float, warm_up: float, storm_seconds: float, during: float) -> dict[str, Any]:
    """One run; ``during`` is the rate the fake allows in the storm (0: none at all)."""
    async with FakeIQualify(api_key=KEY, faults=Faults(rate_limit=rate)) as fake:
        async with Client(
            api_key=KEY,
            base_url=fake.base_url,
            rate_limit=RateLimit(requests_per_second=5 * rate, max_concurrency=TASKS),
            retry=RetryPolicy(max_retries=2),
        ) as iq:
            successes: list[float] = []
            stop = False

            async def worker() -> None:
                while not stop:
                    try:
                        await iq.request("GET", "/")
                    except IQualifyError:
                        continue
                    successes.append(time.monotonic())

            tasks = [asyncio.create_task(worker()) for _ in range(TASKS)]
            await asyncio.sleep(warm_up)
            fake.faults = Faults(rate_limit=during or 1e-9, burst=1, retry_after=False)
            await asyncio.sleep(storm_seconds)
            lowest = iq.current_rate
            fake.faults = Faults(rate_limit=rate)
            storm_end = time.monotonic()
            recovered = None
            while recovered is None and time.monotonic() - storm_end < GIVE_UP:
                await asyncio.sleep(0.25)
                recovered = _recovered_at(successes, storm_end, rate)
            stop = True
            await asyncio.gather(*tasks)
    seconds = GIVE_UP if recovered is None else recovered - storm_end
    return {
        "server_rate": rate,
        "client_ceiling": 5 * rate,
        "storm_seconds": storm_seconds,
        "allowed_during_storm": during,
        "client_rate_at_storm_end": None if lowest is None else round(lowest, 2),
        "seconds_to_90_percent": round(seconds, 2),
        "target_seconds": TARGET_SECONDS,
        "pass": recovered is not None and seconds <= TARGET_SECONDS,
    }


def run(settings: Settings) -> list[Figure]:
    logging.getLogger("iqualify_async").setLevel(logging.ERROR)  # 429 warnings are expected
    storm_seconds = 2.0 if settings.quick else 10.0
    storms = [asyncio.run(storm(100.0, 2.0, storm_seconds, 0.0))]
    note = f"R=100/s, client ceiling 500/s, {TASKS} tasks, {storm_seconds:g} s of 429s"
    figures = [
        figure(
            NAME,
            "storm end to 0.9 R",
            "s",
            [r["seconds_to_90_percent"] for r in storms],
            Target("<=", TARGET_SECONDS),
            note=note,
        )
    ]
    if settings.quick:
        return figures
    brownouts = [asyncio.run(storm(100.0, 2.0, storm_seconds, 1.0))]
    return [
        *figures,
        figure(
            NAME,
            "brownout end to 0.9 R",
            "s",
            [r["seconds_to_90_percent"] for r in brownouts],
            Target("<=", TARGET_SECONDS),
            note="the same, the fake allowing 1 request/s during the storm",
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=100.0, help="server rate limit R (req/s)")
    parser.add_argument("--storm", type=float, default=10.0, help="seconds of 429s")
    parser.add_argument("--json", default="benchmarks/results/storm_recovery.json")
    args = parser.parse_args()
    logging.getLogger("iqualify_async").setLevel(logging.ERROR)
    results = [asyncio.run(storm(args.rate, 2.0, args.storm, during)) for during in (0.0, 1.0)]
    for result, label in zip(results, ("storm", "brownout"), strict=True):
        print(
            f"{label}: client at {result['client_rate_at_storm_end']} req/s when the "
            f"{args.storm:g} s storm ended; {result['seconds_to_90_percent']} s to 0.9 R "
            f"(target <= {TARGET_SECONDS:g} s) {'MET' if result['pass'] else 'MISSED'}"
        )
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
