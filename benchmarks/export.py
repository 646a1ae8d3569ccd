"""(6) Analytics export of the demo organisation: every offering, every kind.

Runs ``bulk.export_analytics`` against the fake (demo seed, separate process, no faults) into
a temporary directory and counts the records written (one JSON object per line). The client
is configured for a bulk job: ``RateLimit(max_concurrency=20, requests_per_second=None)``.

If ``export_analytics`` is not available, the same work is measured without it: the engine
(``bulk.run``) drives the generated analytics coroutines for every (offering, kind), channel
kinds once per channel, counting the records returned (nothing written to disk).
"""

from __future__ import annotations

import asyncio
import inspect
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs

from iqualify_async import Client, RateLimit

from ._common import Settings
from ._report import Figure, figure
from ._server import FakeServerProcess

NAME = "export"
CONCURRENCY = 20
LIMIT = RateLimit(max_concurrency=CONCURRENCY, requests_per_second=None)
OFFERING_KINDS = (
    "list_pulses",
    "pulse_responses",
    "assignment_marks",
    "quiz_marks",
    "learners_progress",
    "unit_reactions",
    "assignment_submissions",
    "social_notes",
    "activity_responses",
)
CHANNEL_KINDS = ("channel_posts", "channel_comments", "channel_replies")


@attrs.frozen
class Run:
    seconds: float
    records: int
    requests: int
    how: str

    @property
    def per_second(self) -> float:
        return self.records / self.seconds


def _export_function() -> Callable[..., Any] | None:
    try:
        from iqualify_async.bulk import export_analytics  # type: ignore[attr-defined,unused-ignore]
    except ImportError:
        return None
    found: Callable[..., Any] = export_analytics
    return found


def _count_lines(directory: Path) -> int:
    records = 0
    for path in directory.rglob("*.jsonl"):
        with path.open("rb") as lines:
            records += sum(1 for line in lines if line.strip())
    return records


def _count(data: Any) -> int:
    if isinstance(data, list):
        return len(data)
    if isinstance(data, dict) and isinstance(data.get("items"), list):
        return len(data["items"])
    return 1 if data else 0


async def _with_export(iq: Client, export: Callable[..., Any]) -> tuple[int, str]:
    with tempfile.TemporaryDirectory(prefix="iq-bench-export-") as out:
        result = export(iq, offerings="all", out_dir=out, format="jsonl")
        if inspect.isawaitable(result):
            result = await result
        records = _count_lines(Path(out))
    return records, "bulk.export_analytics to JSONL files"


async def _without_export(iq: Client) -> tuple[int, str]:
    from iqualify_async import bulk

    offerings: Any = await iq.request("GET", "/offerings")
    items = offerings["items"] if isinstance(offerings, dict) else offerings
    ids = [str(o["id"]) for o in items]
    analytics = iq.offerings.analytics

    async def channels(offering_id: str) -> list[str]:
        data: Any = await iq.request(
            "GET", "/offerings/{offeringId}/channels", path_params={"offeringId": offering_id}
        )
        rows = data["items"] if isinstance(data, dict) else data
        return [str(c["id"]) for c in rows]

    channel_lists = await asyncio.gather(*(channels(oid) for oid in ids))
    work: list[tuple[str, str, str | None]] = [
        (oid, kind, None) for oid in ids for kind in OFFERING_KINDS
    ] + [
        (oid, kind, cid)
        for oid, cids in zip(ids, channel_lists, strict=True)
        for cid in cids
        for kind in CHANNEL_KINDS
    ]

    async def fetch(job: tuple[str, str, str | None]) -> int:
        oid, kind, cid = job
        method = getattr(analytics, kind)
        data = await (method(oid, cid) if cid is not None else method(oid))
        return _count(data)

    records = 0
    async for outcome in bulk.run(fetch, work, concurrency=CONCURRENCY):
        if outcome.value is None:
            raise RuntimeError(f"{outcome.item} failed: {outcome.error}")
        records += outcome.value
    return records, "bulk.run over the generated analytics coroutines (export_analytics missing)"


async def _run_once(base_url: str, api_key: str) -> Run:
    async with Client(api_key=api_key, base_url=base_url, rate_limit=LIMIT) as iq:
        loop = asyncio.get_running_loop()
        export = _export_function()
        started = loop.time()
        if export is not None:
            records, how = await _with_export(iq, export)
        else:
            records, how = await _without_export(iq)
        return Run(loop.time() - started, records, iq.stats.requests, how)


def run(settings: Settings) -> list[Figure]:
    with FakeServerProcess(seed="demo") as server:
        runs = [
            asyncio.run(_run_once(server.base_url, server.api_key))
            for _ in range(min(settings.reps, 3))
        ]
    first = runs[0]
    setup = f"{first.records} records, {first.requests} requests; via {first.how}"
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
