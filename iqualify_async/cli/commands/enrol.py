"""``iqualify enrol``: enrol the people of a CSV file into one or more offerings."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ...bulk.enrol import DEFAULT_BATCH_SIZE, ROLES, check_role
from ..app import configure_logging
from ..errors import EXIT_FAILURES, EXIT_OK, CommandError
from ..options import connection_options, output_options
from ..output import Output
from ..people import read_people
from ..report import show_summaries, show_traffic, summary_json, summary_row
from ..state import State

if TYPE_CHECKING:
    from ...bulk import Outcome, Person


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
    "--dry-run",
    is_flag=True,
    help="Report who would be created, enrolled or skipped; change nothing on the server, "
    "and write a ledger only when --ledger is given.",
)
@click.option(
    "--journal",
    metavar="FILE|URL",
    help="Record progress here (a SQLite file, or a postgresql:// URL that several workers "
    "may share); a re-run with the same journal redoes nothing done.",
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
    help="Per-row outcome file, .csv or .jsonl (default: enrol-ledger-<time>.csv; "
    "none for a --dry-run).",
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
    journal: str | None,
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
    if ledger is None and not dry_run:
        ledger = Path(f"enrol-ledger-{time.strftime('%Y%m%d-%H%M%S')}.csv")
    if ledger is not None and ledger.suffix.lower() not in (".csv", ".jsonl"):
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
    journal: str | None,
    concurrency: int,
    batch_size: int,
    ledger: Path | None,
) -> int:
    from ... import Client
    from ...bulk import JournalMismatchError, enrol_many

    enrolments = len(offering_ids) * len(people)
    verb = "Checking" if dry_run else "Enrolling"
    output.line(
        f"{verb} {len(people)} people into {len(offering_ids)} offering(s) as {role}: {enrolments} enrolments"
    )
    started = time.monotonic()
    plan = DryRunPlan()
    async with Client(**client_kwargs) as iq:
        with output.jobs() as bars:
            job = enrol_many(
                iq,
                offering_ids,
                people,
                role=check_role(role),
                dry_run=dry_run,
                concurrency=concurrency,
                batch_size=batch_size,
                journal=journal,
                on_progress=bars.track(
                    "dry run" if dry_run else "enrol",
                    enrolments,
                    ok_label="to do" if dry_run else "ok",
                ),
            )
            try:
                summary = await job.wait(ledger=ledger, on_outcome=plan.count)
            except JournalMismatchError as exc:
                raise CommandError(
                    f"{exc.path} is the journal of another job ({exc.stored}); "
                    "use another --journal file"
                ) from None
        elapsed = time.monotonic() - started
        if output.json:
            output.print_json(
                {
                    "enrol": summary_json(summary),
                    "dry_run": dry_run,
                    **({"would": plan.as_json()} if dry_run else {}),
                    "ledger": None if ledger is None else str(ledger),
                    "requests": iq.stats.as_dict(),
                }
            )
        else:
            output.line()
            show_summaries(output, [summary_row("dry run" if dry_run else "enrol", summary)])
            output.line()
            if dry_run:
                output.table("Dry run: nothing was changed", ("", ""), plan.rows(), header=False)
                output.line()
            show_traffic(output, iq.stats, elapsed)
            output.line()
            if ledger is not None:
                output.line(f"Ledger: {ledger}")
            if summary.failed or summary.unprocessed:
                output.line(
                    "Some enrolments did not succeed: see the ledger; fix and re-run (people already enrolled are skipped)."
                )
    return EXIT_OK if summary.ok and summary.total == enrolments else EXIT_FAILURES


class DryRunPlan:
    """What a dry run found, by what the real run would do."""

    def __init__(self) -> None:
        self.create = self.enrol = self.skip = self.failed = self.unprocessed = 0

    def count(self, outcome: Outcome[Any, Any]) -> None:
        from ...bulk.enrol import WOULD_CREATE, WOULD_ENROL

        status = str(outcome.status)
        if status == "succeeded" and outcome.value == WOULD_CREATE:
            self.create += 1
        elif status == "succeeded" and outcome.value == WOULD_ENROL:
            self.enrol += 1
        elif status == "skipped":
            self.skip += 1
        elif status == "failed":
            self.failed += 1
        elif status == "unprocessed":
            self.unprocessed += 1

    def rows(self) -> list[tuple[str, int]]:
        rows = [
            ("would create the user and enrol", self.create),
            ("would enrol", self.enrol),
            ("already enrolled (skip)", self.skip),
        ]
        if self.failed:
            rows.append(("failed", self.failed))
        if self.unprocessed:
            rows.append(("unprocessed", self.unprocessed))
        return rows

    def as_json(self) -> dict[str, int]:
        return {
            "create": self.create,
            "enrol": self.enrol,
            "skip": self.skip,
            "failed": self.failed,
            "unprocessed": self.unprocessed,
        }
