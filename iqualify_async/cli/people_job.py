"""The one skeleton of the commands that do something to each person of a file.

``enrol``, ``unenrol``, ``add-to-group``, ``add-to-channel``, ``assign-marker`` and ``transfer``
share their options (:func:`people_job_options`), the reading of the people file, the checks
made before anything is sent (ledger writable, key accepted, offerings exist), the run with its
progress bar, ledger and journal, and the report (:func:`run_people_job`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import attrs
import click

from ..bulk.people_files import DEFAULT_OUTCOMES
from .app import configure_logging
from .errors import EXIT_FAILURES, EXIT_OK, CommandError
from .options import connection_options, output_options
from .output import Output, plural
from .report import show_summaries, show_traffic, summary_json, summary_row
from .state import State

if TYPE_CHECKING:
    from .. import Client
    from ..bulk import Job, LedgerWriter, Outcome, Person

F = TypeVar("F", bound=Callable[..., Any])

OUTCOME_CHOICES = ("succeeded", "skipped", "failed", "unprocessed")

logger = logging.getLogger("iqualify_async.cli")


def people_job_options(fn: F) -> F:
    """PEOPLE and the options every people command takes."""
    decorators = [
        click.argument(
            "people_file",
            metavar="PEOPLE",
            type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
        ),
        click.option(
            "--dry-run",
            is_flag=True,
            help="Report what would be done; change nothing on the server, and write a ledger "
            "only when --ledger is given.",
        ),
        click.option(
            "--journal",
            metavar="FILE|URL",
            help="Record progress here (a SQLite file, or a postgresql:// URL that several "
            "workers may share); a re-run with the same journal redoes nothing done.",
        ),
        click.option(
            "--concurrency",
            type=click.IntRange(1, 200),
            default=10,
            show_default=True,
            help="Requests in flight at once.",
        ),
        click.option(
            "--ledger",
            type=click.Path(dir_okay=False, path_type=Path),
            metavar="FILE",
            help="Per-person outcome file, .csv or .jsonl (default: <command>-ledger-<time>.csv; "
            "none for a --dry-run).",
        ),
        click.option(
            "--outcomes",
            metavar="LIST",
            help="When PEOPLE is a ledger: the rows to take, comma-separated "
            f"(default {','.join(DEFAULT_OUTCOMES)}).",
        ),
        click.option(
            "--encoding",
            metavar="NAME",
            help="Encoding of PEOPLE (default: UTF-8 or UTF-16 by their BOM, else cp1252 "
            "with a warning).",
        ),
        click.option(
            "--strict-columns",
            is_flag=True,
            help="Refuse a PEOPLE file with columns other than the known ones.",
        ),
        output_options,
        connection_options,
    ]
    for decorate in reversed(decorators):
        fn = decorate(fn)
    return fn


PEOPLE_HELP = """\b
PEOPLE is a CSV file (, ; or tab separated), an .xlsx workbook, - for standard input, or a
ledger of an earlier run (its failed and unprocessed rows are done again; --outcomes to
choose). Columns (any case): email (required), firstName, lastName, personId, tags
(separated by ; or |); other columns are kept in the ledger and not sent. Every bad row is
reported with its line number before anything is sent.
"""


@attrs.frozen
class JobOptions:
    """The common options, as given."""

    people_file: Path
    dry_run: bool
    journal: str | None
    concurrency: int
    ledger: Path | None
    outcomes: str | None
    encoding: str | None
    strict_columns: bool

    @classmethod
    def take(cls, options: dict[str, Any]) -> JobOptions:
        """Take the common options out of a command's keyword arguments."""
        return cls(**{f.name: options.pop(f.name) for f in attrs.fields(cls)})


@attrs.frozen
class Would:
    """How a dry run's outcomes are reported: each value of a ``succeeded`` item, by label."""

    values: Sequence[tuple[str, str, str]]
    """``(value, json key, label)`` for each kind of write a real run would send."""
    skip_label: str


@attrs.frozen
class PeopleJob:
    """What one command does to the people, for :func:`run_people_job`."""

    name: str
    """The command and job name (ledger, bar and JSON key)."""
    doing: str
    """``"Enrolling"``, ``"Removing"`` ... as the headline's first word."""
    where: str
    """The rest of the headline after the people, e.g. ``"into 2 offerings as learner"``."""
    unit: tuple[str, str]
    """What one item is called, singular and plural (``("enrolment", "enrolments")``)."""
    offerings: Sequence[str]
    """Offerings that must exist; checked before anything is sent."""
    per_person: int
    """Items per person (one per offering for ``enrol``)."""
    build: Callable[[Client, list[Person], JobOptions, Callable[[Any], None]], Job[Any, Any]]
    """Makes the job: ``(client, people, options, on_progress)``."""
    would: Would
    targets: Sequence[Target] = ()
    """Other things that must exist (a group, a channel, a marker); checked with the offerings."""
    hints: Mapping[str, str] = attrs.field(factory=dict)
    """Library advice in failure messages and what to say instead on the command line."""


@attrs.frozen
class Target:
    """Something a command acts on besides offerings, and one cheap read that fails when it
    does not exist (or its id has the wrong shape)."""

    kind: str
    """``"group"``, ``"channel"``, ``"marker"``."""
    id: str
    read: Callable[[Client], Awaitable[object]]


def read_people(output: Output, options: JobOptions) -> list[Person]:
    """The people of PEOPLE; notes (guessed encoding, extra columns) go to stderr."""
    from ..bulk.people import PeopleError
    from ..bulk.people_files import read_people_file

    outcomes = None
    if options.outcomes is not None:
        outcomes = [o.strip() for o in options.outcomes.split(",") if o.strip()]
        bad = [o for o in outcomes if o not in OUTCOME_CHOICES]
        if bad:
            raise CommandError(
                f"--outcomes: unknown outcome(s) {', '.join(bad)}; "
                f"choose from {', '.join(OUTCOME_CHOICES)}"
            )
    try:
        found = read_people_file(
            options.people_file,
            encoding=options.encoding,
            strict_columns=options.strict_columns,
            outcomes=outcomes,
        )
    except PeopleError as exc:
        raise CommandError(str(exc)) from None
    for note in found.notes:
        output.warn(note)
    return found.people


def open_ledger(job_name: str, options: JobOptions) -> LedgerWriter | None:
    """The ledger, opened now so that a place that cannot be written stops the run first."""
    from ..bulk import LedgerWriter

    ledger = options.ledger
    if ledger is None and not options.dry_run:
        ledger = Path(f"{job_name}-ledger-{time.strftime('%Y%m%d-%H%M%S')}.csv")
    if ledger is None:
        return None
    if ledger.suffix.lower() not in (".csv", ".jsonl"):
        raise click.BadParameter("must end in .csv or .jsonl", param_hint="--ledger")
    try:
        return LedgerWriter(ledger)
    except OSError as exc:
        raise CommandError(
            f"cannot write the ledger {str(ledger)!r}: {exc.strerror or exc}"
        ) from None


async def preflight(iq: Client, offerings: Sequence[str], targets: Sequence[Target] = ()) -> None:
    """One cheap read for the key, one per offering and one per other target: a wrong one is
    one line, nothing sent."""
    from ..errors import (
        AuthenticationError,
        BadRequestError,
        NotFoundError,
        ParameterError,
        PermissionDeniedError,
    )

    # Errors are raised outside the ``except`` blocks: nothing that holds an answer's body is
    # chained to them.
    refused = ""
    try:
        await iq.org.get()
    except (AuthenticationError, PermissionDeniedError) as exc:
        refused = str(exc)
    if refused:
        raise CommandError(f"the API key was refused: {refused}")

    async def exists(offering_id: str) -> None:
        try:
            await iq.offerings.get(offering_id)
        except NotFoundError:
            pass
        else:
            return
        raise CommandError(f"offering {offering_id!r} not found")

    for offering_id in dict.fromkeys(offerings):
        await exists(offering_id)

    for target in targets:
        missing = False
        try:
            await target.read(iq)
        except (NotFoundError, ParameterError):
            missing = True
        except BadRequestError as exc:
            if exc.name != "ObjectIsNotError":  # e.g. "The user ... is not a marker."
                raise
            missing = True
        if missing:
            raise CommandError(f"{target.kind} {target.id!r} not found")


class Tally:
    """What the outcomes say beyond the summary: a dry run's plan, the failures' causes."""

    def __init__(self, would: Would, hints: Mapping[str, str] | None = None) -> None:
        self.would = would
        self.hints = dict(hints or {})
        self.values: Counter[str] = Counter()
        self.statuses: Counter[str] = Counter()
        self.causes: Counter[tuple[int | None, str | None, str]] = Counter()
        self.examples: dict[tuple[int | None, str | None, str], str] = {}

    def count(self, outcome: Outcome[Any, Any]) -> None:
        status = str(outcome.status)
        self.statuses[status] += 1
        if status == "succeeded" and isinstance(outcome.value, str):
            self.values[outcome.value] += 1
        error = outcome.error
        if status == "failed" and error is not None:
            cause = (error.status, error.name, error.type)
            self.causes[cause] += 1
            # The API's own words; the message repeats the status and name shown beside them.
            example = error.details if isinstance(error.details, str) else error.message
            for said, instead in self.hints.items():
                example = example.replace(said, instead)
            self.examples.setdefault(cause, example)

    def common_cause(self) -> dict[str, Any] | None:
        """The cause most failures share (more than half of them), if there is one."""
        failed = self.statuses["failed"]
        if not self.causes:
            return None
        cause, count = self.causes.most_common(1)[0]
        if count * 2 <= failed:
            return None
        status, name, kind = cause
        return {
            "count": count,
            "status": status,
            "name": name,
            "type": kind,
            "message": self.examples[cause],
        }

    def plan_rows(self) -> list[tuple[str, int]]:
        rows = [(label, self.values[value]) for value, _, label in self.would.values]
        rows.append((self.would.skip_label, self.statuses["skipped"]))
        for status in ("failed", "unprocessed"):
            if self.statuses[status]:
                rows.append((status, self.statuses[status]))
        return rows

    def plan_json(self) -> dict[str, int]:
        plan = {key: self.values[value] for value, key, _ in self.would.values}
        plan["skip"] = self.statuses["skipped"]
        plan["failed"] = self.statuses["failed"]
        plan["unprocessed"] = self.statuses["unprocessed"]
        return plan


def cause_line(cause: dict[str, Any]) -> str:
    """``"1,000 failed: 403 AccessDeniedError: ..."``."""
    head = " ".join(str(p) for p in (cause["status"], cause["name"] or cause["type"]) if p)
    message = str(cause["message"]).removeprefix(f"{head}: ")
    return f"{cause['count']:,} failed: {head}: {message}"


def run_people_job(state: State, job: PeopleJob, options: JobOptions) -> int:
    """Read, check, run and report one people command; returns the exit code."""
    configure_logging(state)
    output = Output(state)
    people = read_people(output, options)
    client_kwargs = state.client_kwargs(concurrency=options.concurrency)
    writer = open_ledger(job.name, options)
    if options.journal is not None:
        resume_hint = "interrupted; re-run with the same --journal to resume"
    elif writer is not None:
        resume_hint = (
            f"interrupted; the ledger {writer.path} lists who was not done: give it as PEOPLE "
            "to do them"
        )
    else:
        resume_hint = state.interrupt_hint

    began = False

    def on_start() -> None:
        # From the first item on, the journal and the ledger account for every person.
        state.interrupt_hint = resume_hint

    def on_work() -> None:
        nonlocal began
        began = True

    try:
        code = asyncio.run(
            _run(output, client_kwargs, job, people, options, writer, on_start, on_work)
        )
    except BaseException:
        if writer is not None:
            if began:
                # Work began: the ledger (left as .partial) accounts for every person, whatever
                # ended the run (a journal or ledger that cannot be written included).
                try:
                    writer.close(complete=False)
                except Exception:
                    logger.warning("cannot keep the ledger %s", writer.path, exc_info=True)
            else:
                writer.discard()  # a refusal before the first item: nothing to keep
        raise
    return code


async def _run(
    output: Output,
    client_kwargs: dict[str, Any],
    job: PeopleJob,
    people: list[Person],
    options: JobOptions,
    writer: LedgerWriter | None,
    on_start: Callable[[], None],
    on_work: Callable[[], None],
) -> int:
    from .. import Client
    from ..bulk import JournalMismatchError

    total = len(people) * job.per_person
    doing = "Checking" if options.dry_run else job.doing
    started = time.monotonic()
    tally = Tally(job.would, job.hints)
    interrupted = False
    async with Client(**client_kwargs) as iq:
        await preflight(iq, job.offerings, job.targets)
        # An enrolment per person and offering is worth counting; a person per person is not.
        items = "" if job.unit[0] == "person" else f": {plural(total, *job.unit)}"
        output.line(f"{doing} {plural(len(people), 'person', 'people')} {job.where}{items}")
        with output.jobs() as bars:
            on_progress = bars.track(
                "dry run" if options.dry_run else job.name,
                total,
                ok_label="to do" if options.dry_run else "ok",
            )
            track = on_progress

            def progress(p: Any) -> None:
                if getattr(p, "in_flight", 0) or getattr(p, "done", 0) > getattr(
                    p, "unprocessed", 0
                ):
                    on_work()  # the first item started
                track(p)

            def count(outcome: Outcome[Any, Any]) -> None:
                if str(outcome.status) != "unprocessed":
                    on_work()
                tally.count(outcome)

            running = job.build(iq, people, options, progress)
            on_start()
            try:
                summary = await running.wait(ledger=writer, on_outcome=count)
            except JournalMismatchError as exc:
                raise CommandError(
                    f"{exc.path} is the journal of another job ({exc.stored}); "
                    "use another --journal file"
                ) from None
            except (asyncio.CancelledError, KeyboardInterrupt):
                interrupted = True
                summary = running.summary
        if writer is not None:
            writer.close()
        elapsed = time.monotonic() - started
        cause = tally.common_cause()
        ledger = None if writer is None else writer.path
        if output.json:
            output.print_json(
                {
                    job.name: summary_json(summary),
                    "dry_run": options.dry_run,
                    **({"would": tally.plan_json()} if options.dry_run else {}),
                    "common_failure": cause,
                    "ledger": None if ledger is None else str(ledger),
                    "interrupted": interrupted,
                    "requests": iq.stats.as_dict(),
                }
            )
        else:
            output.line()
            show_summaries(
                output, [summary_row("dry run" if options.dry_run else job.name, summary)]
            )
            output.line()
            if summary.from_journal:
                done = plural(summary.from_journal, *job.unit)
                output.line(f"{done} done by an earlier run, as the journal says: not sent again")
                output.line()
            if cause is not None:
                output.line(cause_line(cause))
                output.line()
            if options.dry_run:
                output.table(
                    "Dry run: nothing was changed", ("", ""), tally.plan_rows(), header=False
                )
                output.line()
            show_traffic(output, iq.stats, elapsed)
            output.line()
            if ledger is not None:
                output.line(f"Ledger: {ledger}")
            if (summary.failed or summary.unprocessed) and not interrupted:
                where = (
                    "see the ledger; fix it and give it as PEOPLE to re-run what did not succeed"
                    if ledger
                    else "re-run with --ledger to see which"
                )
                output.line(f"Some {job.unit[1]} did not succeed: {where}.")
    if interrupted:
        raise KeyboardInterrupt
    return EXIT_OK if summary.ok and summary.total == total else EXIT_FAILURES
