"""``iqualify export-analytics``: every analytics report of the chosen offerings, to files."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import click

from ...bulk.export_files import FORMATS, Format
from ..app import configure_logging
from ..errors import EXIT_FAILURES, EXIT_OK, CommandError
from ..options import connection_options, output_options
from ..output import Output
from ..report import show_summaries, show_traffic, summary_json, summary_row
from ..state import State

if TYPE_CHECKING:
    from ...bulk import ExportReport


@click.command(
    "export-analytics", short_help="Export analytics of offerings to JSONL, CSV or Parquet files."
)
@click.option("--all", "all_", is_flag=True, help="Every offering (the default).")
@click.option("--current", is_flag=True, help="Current offerings only.")
@click.option(
    "--offering", "offerings", multiple=True, metavar="ID", help="These offerings (repeat)."
)
@click.option(
    "--kind",
    "kinds",
    multiple=True,
    metavar="KIND",
    help="Reports to export (repeat; default all): pulses, pulse-responses, "
    "assignment-marks, quiz-marks, learner-progress, unit-reactions, "
    "assignment-submissions, social-notes, activity-responses, channel-posts, "
    "channel-comments, channel-replies.",
)
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory for the files (one per kind) and the ledger.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["jsonl", "csv", "parquet"]),
    default="jsonl",
    show_default=True,
    help="File format (parquet needs the parquet extra: pip install 'iqualify-async[parquet]').",
)
@click.option(
    "--journal",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="Record progress here; an interrupted export re-run with the same journal does not "
    "fetch again the reports it already wrote.",
)
@click.option(
    "--concurrency",
    type=click.IntRange(1, 200),
    default=10,
    show_default=True,
    help="Reports fetched at once.",
)
@output_options
@connection_options
@click.pass_obj
def export_analytics(
    state: State,
    all_: bool,
    current: bool,
    offerings: Sequence[str],
    kinds: Sequence[str],
    out_dir: Path,
    fmt: str,
    journal: Path | None,
    concurrency: int,
) -> int:
    """Fetch every chosen analytics report of every chosen offering concurrently and write one
    file per kind under --out, each row carrying offeringId (and channelId). A report that
    fails is listed in the ledger (export-ledger.csv); the others are still written."""
    from ..jobs import check_kinds

    configure_logging(state)
    if sum((all_, current, bool(offerings))) > 1:
        raise CommandError("choose one of --all, --current or --offering")
    chosen_kinds = check_kinds(list(kinds))
    which: str | list[str] = "current" if current else list(offerings) if offerings else "all"
    client_kwargs = state.client_kwargs(concurrency=concurrency)
    if fmt == "parquet":
        from ...bulk.parquet import require_pyarrow

        try:
            require_pyarrow()
        except ImportError as exc:
            raise CommandError(str(exc)) from None
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CommandError(f"cannot create {str(out_dir)!r}: {exc.strerror or exc}") from None
    if journal is not None:
        state.interrupt_hint = "interrupted; re-run with the same --journal to resume"
    output = Output(state)
    return asyncio.run(
        _export(output, client_kwargs, which, chosen_kinds, out_dir, fmt, concurrency, journal)
    )


async def _export(
    output: Output,
    client_kwargs: dict[str, Any],
    which: str | list[str],
    kinds: list[str],
    out_dir: Path,
    fmt: str,
    concurrency: int,
    journal: Path | None,
) -> int:
    from ... import Client

    started = time.monotonic()
    async with Client(**client_kwargs) as iq:
        from ..people_job import preflight

        await preflight(iq, which if isinstance(which, list) else [])
        try:
            result = await run_export(
                output, iq, which, kinds, out_dir, fmt, concurrency, journal=journal
            )
        except (asyncio.CancelledError, KeyboardInterrupt):
            if output.json:
                output.print_json({"export": None, "interrupted": True, "files": {}})
            raise KeyboardInterrupt from None
        elapsed = time.monotonic() - started
        if output.json:
            output.print_json({**result.as_json(), "requests": iq.stats.as_dict()})
        else:
            output.line()
            show_summaries(output, [summary_row("export", result.summary)])
            output.line()
            show_traffic(output, iq.stats, elapsed)
            output.line()
            result.show_files(output)
    return EXIT_OK if result.summary.ok else EXIT_FAILURES


class ExportResult:
    """An export's report with its terminal and JSON renderings (used by ``demo`` too)."""

    def __init__(self, report: ExportReport) -> None:
        self.report = report
        self.summary = report.summary
        assert report.ledger is not None
        self.ledger: Path = report.ledger

    def as_json(self) -> dict[str, Any]:
        report = self.report
        return {
            "export": summary_json(report.summary),
            "offerings": len(report.offering_ids),
            "files": {
                k: {"path": str(p), "rows": report.rows.get(k, 0)} for k, p in report.files.items()
            },
            "ledger": str(self.ledger),
            "stale": [str(p) for p in report.stale],
            "interrupted": False,
        }

    def show_files(self, output: Output) -> None:
        output.line(f"Files in {self.ledger.parent}:")
        output.table(
            None,
            ("file", "rows"),
            [(p.name, self.report.rows.get(k, 0)) for k, p in sorted(self.report.files.items())],
        )
        output.line(f"Ledger: {self.ledger}")
        if self.report.stale:
            names = ", ".join(p.name for p in self.report.stale)
            output.warn(f"files from an earlier export, not written by this one: {names}")


async def run_export(
    output: Output,
    iq: Any,
    which: str | list[str],
    kinds: list[str],
    out_dir: Path,
    fmt: str,
    concurrency: int,
    *,
    journal: Path | None = None,
) -> ExportResult:
    """Run the export with a progress bar; used by ``demo`` too."""
    from ...bulk import export_analytics

    where = f"{len(which)} offering(s)" if isinstance(which, list) else f"{which} offerings"
    output.line(f"Exporting {len(kinds)} kind(s) of analytics for {where}")
    with output.jobs() as bars:
        report = await export_analytics(
            iq,
            which if isinstance(which, list) else _which(which),
            kinds,
            out_dir=out_dir,
            format=_format(fmt),
            concurrency=concurrency,
            journal=journal,
            on_progress=bars.track("export analytics"),
        )
    return ExportResult(report)


def _format(fmt: str) -> Format:
    for known in FORMATS:
        if fmt == known:
            return known
    raise CommandError(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")


def _which(which: str) -> Literal["all", "current"]:
    if which == "current":
        return "current"
    if which == "all":
        return "all"
    raise CommandError(f"choose --all, --current or --offering, not {which!r}")
