"""(4) Memory: many items through the bulk engine (no network), peak RSS growth.

Each repetition runs in a fresh interpreter (``python -m benchmarks.memory N``) so the baseline
is clean: the library is imported and the event loop warmed up first, then the baseline RSS is
taken, then N items (small dicts, as a CSV row would be) stream through ``bulk.run`` at
concurrency 50 while the consumer counts outcomes with ``async for``. Growth is the process's
peak RSS (``ru_maxrss``, so no short peak is missed) minus the baseline.
"""

from __future__ import annotations

import asyncio
import json
import resource
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

from ._common import Settings
from ._report import Figure, Target, figure

NAME = "memory"
CONCURRENCY = 50


def _peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # kB on Linux


def _items(n: int) -> Iterator[dict[str, str]]:
    for i in range(n):
        yield {"email": f"person{i}@example.com", "firstName": "Ada", "lastName": f"L{i}"}


async def _child(n: int, keep: bool = False) -> dict[str, Any]:
    import psutil  # type: ignore[import-untyped,unused-ignore]

    from iqualify_async import bulk

    async def work(item: dict[str, str]) -> str:
        await asyncio.sleep(0)
        return item["email"]

    warm = bulk.run(work, _items(1000), concurrency=CONCURRENCY)
    await warm
    process = psutil.Process()
    baseline = process.memory_info().rss
    peak_before = _peak_rss_bytes()
    sampled_peak = baseline
    counts: dict[str, int] = {}
    kept: list[object] = []  # --keep: hold every outcome, to show the figure can fail
    loop = asyncio.get_running_loop()
    started = loop.time()
    async for outcome in bulk.run(work, _items(n), concurrency=CONCURRENCY):
        counts[outcome.status.value] = counts.get(outcome.status.value, 0) + 1
        if keep:
            kept.append(outcome)
        if outcome.index % 500 == 0:
            sampled_peak = max(sampled_peak, process.memory_info().rss)
    seconds = loop.time() - started
    sampled_peak = max(sampled_peak, process.memory_info().rss)
    peak_after = _peak_rss_bytes()
    # ru_maxrss also catches a short peak between samples, once it rises above the import peak
    peak = max(sampled_peak, peak_after if peak_after > peak_before else 0)
    return {
        "items": n,
        "counts": counts,
        "baseline_mb": baseline / 2**20,
        "growth_mb": (peak - baseline) / 2**20,
        "items_per_second": n / seconds,
    }


def _measure_once(n: int) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.memory", str(n)],
        capture_output=True,
        text=True,
        check=True,
    )
    data: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    if data["counts"] != {"succeeded": n}:
        raise RuntimeError(f"not every item succeeded: {data['counts']}")
    return data


def run(settings: Settings) -> list[Figure]:
    n = settings.n(100_000, 5_000)
    runs = [_measure_once(n) for _ in range(min(settings.reps, 3))]
    return [
        figure(
            NAME,
            f"peak RSS growth, {n:,} items through bulk.run",
            "MB",
            [r["growth_mb"] for r in runs],
            Target("<", 50),
            note=f"baseline RSS after import + warm-up {runs[0]['baseline_mb']:.1f} MB; "
            f"concurrency {CONCURRENCY}, consumed with async for",
        ),
        figure(
            NAME,
            "bulk engine throughput (no network)",
            "items/s",
            [r["items_per_second"] for r in runs],
        ),
    ]


if __name__ == "__main__":
    print(json.dumps(asyncio.run(_child(int(sys.argv[1]), keep="--keep" in sys.argv))))
