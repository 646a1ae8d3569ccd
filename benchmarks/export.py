"""(6) Analytics export of the demo organisation: every offering, every kind.

``bulk.export_analytics(iq, "all", out_dir=..., format="jsonl", concurrency=20)`` against the
fake (demo seed, separate process, no faults) into a temporary directory. Records are the rows
the export reports, checked against the lines actually written. The client is configured for a
bulk job: ``RateLimit(max_concurrency=20, requests_per_second=None)``.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

import attrs

from iqualify_async import Client, RateLimit, bulk

from ._common import Settings
from ._report import Figure, figure
from ._server import FakeServerProcess

NAME = "export"
CONCURRENCY = 20
LIMIT = RateLimit(max_concurrency=CONCURRENCY, requests_per_second=None)


@attrs.frozen
class Run:
    seconds: float
    records: int
    requests: int
    reports: int
    offerings: int

    @property
    def per_second(self) -> float:
        return self.records / self.seconds


def _count_lines(directory: Path) -> int:
    records = 0
    for path in directory.glob("*.jsonl"):
        with path.open("rb") as lines:
            records += sum(1 for line in lines if line.strip())
    return records


async def _run_once(base_url: str, api_key: str, out: Path) -> Run:
    async with Client(api_key=api_key, base_url=base_url, rate_limit=LIMIT) as iq:
        loop = asyncio.get_running_loop()
        started = loop.time()
        report = await bulk.export_analytics(
            iq, "all", out_dir=out, format="jsonl", concurrency=CONCURRENCY
        )
        seconds = loop.time() - started
        requests = iq.stats.requests
    if not report.ok:
        raise RuntimeError(f"the export did not complete: {report.summary}")
    records = sum(report.rows.values())
    written = _count_lines(out)
    if written != records:
        raise RuntimeError(f"the export reports {records} records but wrote {written} lines")
    summary = report.summary
    return Run(seconds, records, requests, summary.total, len(report.offering_ids))


def run(settings: Settings) -> list[Figure]:
    runs: list[Run] = []
    with FakeServerProcess(seed="demo") as server:
        for _ in range(min(settings.reps, 3)):
            with tempfile.TemporaryDirectory(prefix="iq-bench-export-") as out:
                runs.append(asyncio.run(_run_once(server.base_url, server.api_key, Path(out))))
    first = runs[0]
    setup = (
        f"{first.offerings} offerings, {len(bulk.ALL_KINDS)} kinds, {first.reports} reports, "
        f"{first.records} records, {first.requests} requests, concurrency {CONCURRENCY}, JSONL"
    )
    return [
        figure(
            NAME,
            "records exported per second",
            "records/s",
            [r.per_second for r in runs],
            note=setup,
        ),
        figure(NAME, "total time of the export", "s", [r.seconds for r in runs]),
    ]
