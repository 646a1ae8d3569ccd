"""``iqualify enrol``: enrol the people of a CSV file into one or more offerings."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ...bulk.enrol import DEFAULT_BATCH_SIZE
from ..app import configure_logging
from ..errors import EXIT_FAILURES, EXIT_OK
from ..options import connection_options, output_options
from ..output import Output
from ..people import read_people
from ..report import show_summaries, show_traffic, summary_json, summary_row
from ..state import State

if TYPE_CHECKING:
    from ...bulk import Person
    from ...bulk.enrol import Role

ROLES: tuple[Role, ...] = ("learner", "facilitator", "marker")


@click.command(short_help="Enrol the people of a CSV file into offerings.")
@click.argument("people_csv", metavar="PEOPLE.csv", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--offering",
    "offerings",
    multiple=True,
    required=True,
    metavar="ID",
    help="Offering to enrol into (repeat for several).",
)
@click.option(
    "--role",
    type=click.Choice(ROLES),
    default="learner",
    show_default=True,
    help="Role in the offerings.",
)
@click.option(
    "--dry-run", is_flag=True, help="Report what would be enrolled or skipped; write nothing."
)
@click.option(
    "--journal",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="Record progress here; a re-run with the same journal redoes nothing done.",
)
@click.option(
    "--concurrency",
    type=click.IntRange(1, 200),
    default=10,
    show_default=True,
    help="Requests in flight at once (each enrols up to --batch-size people).",
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=DEFAULT_BATCH_SIZE,
    show_default=True,
    help="People per enrolment request (the API takes a list).",
)
@click.option(
    "--ledger",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="Per-row outcome file, .csv or .jsonl (default: enrol-ledger-<time>.csv).",
)
@output_options
@connection_options
@click.pass_obj
def enrol(
    state: State,
    people_csv: Path,
    offerings: Sequence[str],
    role: str,
    dry_run: bool,
    journal: Path | None,
    concurrency: int,
    batch_size: int,
    ledger: Path | None,
) -> int:
    """Enrol everyone in PEOPLE.csv into each --offering, creating users that do not exist.

    \b
    PEOPLE.csv has a header row; columns (any case): email (required), firstName, lastName,
    personId, tags (separated by ; or |). Every bad row is reported with its line number
    before anything is sent. People already enrolled are skipped, so re-runs are safe.
    """
    configure_logging(state)
    people = read_people(people_csv)
    client_kwargs = state.client_kwargs(concurrency=concurrency)
    if ledger is None:
        ledger = Path(f"enrol-ledger-{time.strftime('%Y%m%d-%H%M%S')}.csv")
    if ledger.suffix.lower() not in (".csv", ".jsonl"):
        raise click.BadParameter("must end in .csv or .jsonl", param_hint="--ledger")
    output = Output(state)
    return asyncio.run(
        _enrol(
            output,
            client_kwargs,
            list(offerings),
            people,
            role,
            dry_run,
            journal,
            concurrency,
            batch_size,
            ledger,
        )
    )


async def _enrol(
    output: Output,
    client_kwargs: dict[str, Any],
    offering_ids: list[str],
    people: list[Person],
    role: str,
    dry_run: bool,
    journal: Path | None,
    concurrency: int,
    batch_size: int,
    ledger: Path,
) -> int:
    from ... import Client
    from ...bulk import enrol_many

    enrolments = len(offering_ids) * len(people)
    verb = "Checking" if dry_run else "Enrolling"
    output.line(
        f"{verb} {len(people)} people into {len(offering_ids)} offering(s) as {role}: {enrolments} enrolments"
    )
    started = time.monotonic()
    async with Client(**client_kwargs) as iq:
        with output.jobs() as bars:
            job = enrol_many(
                iq,
                offering_ids,
                people,
                role=_role(role),
                dry_run=dry_run,
                concurrency=concurrency,
                batch_size=batch_size,
                journal=journal,
                on_progress=bars.track("dry run" if dry_run else "enrol", enrolments),
            )
            summary = await job.wait(ledger=ledger)
        elapsed = time.monotonic() - started
        if output.json:
            output.print_json(
                {
                    "enrol": summary_json(summary),
                    "dry_run": dry_run,
                    "ledger": str(ledger),
                    "requests": iq.stats.as_dict(),
                }
            )
        else:
            output.line()
            show_summaries(output, [summary_row("dry run" if dry_run else "enrol", summary)])
            output.line()
            show_traffic(output, iq.stats, elapsed)
            output.line()
            output.line(f"Ledger: {ledger}")
            if summary.failed or summary.unprocessed:
                output.line(
                    "Some enrolments did not succeed: see the ledger; fix and re-run (people already enrolled are skipped)."
                )
    return EXIT_OK if summary.ok and summary.total == enrolments else EXIT_FAILURES


def _role(role: str) -> Role:
    for known in ROLES:
        if role == known:
            return known
    raise click.BadParameter(f"unknown role {role!r}", param_hint="--role")
