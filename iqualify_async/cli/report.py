"""End-of-job reporting shared by ``enrol``, ``export-analytics`` and ``demo``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .. import ClientStats
from ..bulk import Summary
from .output import Output


def summary_row(name: str, summary: Summary) -> tuple[Any, ...]:
    rate = summary.total / summary.elapsed if summary.elapsed > 0 else 0.0
    return (
        name,
        summary.total,
        summary.succeeded,
        summary.skipped,
        summary.failed,
        summary.unprocessed,
        round(summary.elapsed, 2),
        round(rate, 1),
    )


SUMMARY_COLUMNS = (
    "job",
    "items",
    "succeeded",
    "skipped",
    "failed",
    "unprocessed",
    "seconds",
    "items/s",
)


def summary_json(summary: Summary) -> dict[str, Any]:
    return {
        "items": summary.total,
        "succeeded": summary.succeeded,
        "skipped": summary.skipped,
        "failed": summary.failed,
        "unprocessed": summary.unprocessed,
        "from_journal": summary.from_journal,
        "seconds": round(summary.elapsed, 3),
        "stopped": summary.stopped,
        "cancelled": summary.cancelled,
    }


def traffic_rows(stats: ClientStats, elapsed: float) -> list[tuple[str, str]]:
    statuses = ", ".join(f"{s}: {n}" for s, n in sorted(stats.responses_by_status.items()))
    reasons = ", ".join(f"{r}: {n}" for r, n in sorted(stats.retries_by_reason.items()))
    rate = stats.requests / elapsed if elapsed > 0 else 0.0
    return [
        ("requests sent", f"{stats.requests:,} ({rate:,.0f}/s)"),
        ("responses", statuses or "none"),
        ("retries", f"{stats.retries}" + (f" ({reasons})" if reasons else "")),
        ("429 answers", str(stats.rate_limited)),
        ("connection errors", str(stats.connection_errors)),
        ("waiting, summed over requests", f"{stats.wait_seconds:.1f}s"),
        ("elapsed", f"{elapsed:.1f}s"),
    ]


def show_summaries(output: Output, rows: Sequence[tuple[Any, ...]]) -> None:
    output.table("Items", SUMMARY_COLUMNS, rows)


def show_traffic(output: Output, stats: ClientStats, elapsed: float) -> None:
    output.table("Requests", ("", ""), traffic_rows(stats, elapsed), header=False)
