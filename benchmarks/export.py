"""(6) Analytics export of the demo organisation: every offering, every kind.

``bulk.export_analytics(iq, "all", out_dir=..., format="jsonl", concurrency=20)`` against the
fake (demo seed, separate process, no faults) into a temporary directory, then the same to CSV
and (with pyarrow installed) Parquet. Records are the rows the export reports, checked against
the records actually written. The client is configured for a bulk job:
``RateLimit(max_concurrency=20, requests_per_second=None)``.
"""

from __future__ import annotations

import asyncio
import csv
import importlib.util
import tempfile
from pathlib import Path

import attrs

from iqualify_async import Client, RateLimit, bulk
from iqualify_async.bulk.export_files import Format

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


def _count_written(directory: Path, fmt: Format) -> int:
    records = 0
    for kind in bulk.ALL_KINDS:  # the ledger is a CSV file too
        path = directory / f"{kind}.{fmt}"
        if fmt == "parquet":
            import pyarrow.parquet as pq

            records += pq.ParquetFile(path).metadata.num_rows
            continue
        with path.open(encoding="utf-8", newline="") as lines:
            if fmt == "csv":
                records += sum(1 for _ in csv.reader(lines)) - 1  # the header row
            else:
                records += sum(1 for line in lines if line.strip())
    return records


async def _run_once(base_url: str, api_key: str, out: Path, fmt: Format = "jsonl") -> Run:
    async with Client(api_key=api_key, base_url=base_url, rate_limit=LIMIT) as iq:
        loop = asyncio.get_running_loop()
        started = loop.time()
        report = await bulk.export_analytics(
            iq, "all", out_dir=out, format=fmt, concurrency=CONCURRENCY
        )
        seconds = loop.time() - started
        requests = iq.stats.requests
    if not report.ok:
        raise RuntimeError(f"the export did not complete: {report.summary}")
    records = sum(report.rows.values())
    written = _count_written(out, fmt)
    if written != records:
        raise RuntimeError(f"the export reports {records} records but wrote {written}")
    summary = report.summary
    return Run(seconds, records, requests, summary.total, len(report.offering_ids))


def run(settings: Settings) -> list[Figure]:
    formats: list[Format] = ["jsonl", "csv"]
    if importlib.util.find_spec("pyarrow") is not None:
        formats.append("parquet")
    by_format: dict[str, list[Run]] = {fmt: [] for fmt in formats}
    with FakeServerProcess(seed="demo") as server:
        for _ in range(min(settings.reps, 3)):
            for fmt in formats:
                with tempfile.TemporaryDirectory(prefix="iq-bench-export-") as out:
                    by_format[fmt].append(
                        asyncio.run(_run_once(server.base_url, server.api_key, Path(out), fmt))
                    )
    runs = by_format["jsonl"]
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
        *(
            figure(
                NAME,
                f"records exported per second, {fmt.upper() if fmt == 'csv' else 'Parquet'}",
                "records/s",
                [r.per_second for r in by_format[fmt]],
            )
            for fmt in formats[1:]
        ),
    ]
