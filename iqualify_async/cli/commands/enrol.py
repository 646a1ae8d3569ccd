"""``iqualify enrol``: enrol the people of a file into one or more offerings."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import click

from ...bulk.enrol import DEFAULT_BATCH_SIZE, ROLES, WOULD_CREATE, WOULD_ENROL, check_role
from ..output import plural
from ..people_job import (
    PEOPLE_HELP,
    JobOptions,
    PeopleJob,
    Would,
    people_job_options,
    run_people_job,
)
from ..state import State

if TYPE_CHECKING:
    from ... import Client
    from ...bulk import Job, Person


@click.command(short_help="Enrol the people of a file into offerings.", epilog=PEOPLE_HELP)
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
    "--batch-size",
    type=click.IntRange(min=1),
    default=DEFAULT_BATCH_SIZE,
    show_default=True,
    help="People per enrolment request (the API takes a list).",
)
@click.option(
    "--send-invite/--no-send-invite",
    default=None,
    help="Ask the API to send (or not) the invitation email (default: the API's own).",
)
@click.option(
    "--no-create",
    is_flag=True,
    help="Do not create users that do not exist: they fail instead.",
)
@people_job_options
@click.pass_obj
def enrol(
    state: State,
    /,
    offerings: Sequence[str],
    role: str,
    batch_size: int,
    send_invite: bool | None,
    no_create: bool,
    **common: Any,
) -> int:
    """Enrol everyone in PEOPLE into each --offering, creating users that do not exist.

    People already enrolled are skipped, so re-runs are safe; someone enrolled with another
    role fails (the API cannot change a role).
    """
    options = JobOptions.take(common)
    ids = list(dict.fromkeys(offerings))

    def build(
        iq: Client, people: list[Person], options: JobOptions, on_progress: Callable[[Any], None]
    ) -> Job[Any, Any]:
        from ...bulk import enrol_many

        return enrol_many(
            iq,
            ids,
            people,
            role=check_role(role),
            create_missing_users=not no_create,
            send_invite=send_invite,
            dry_run=options.dry_run,
            concurrency=options.concurrency,
            batch_size=batch_size,
            journal=options.journal,
            on_progress=on_progress,
        )

    job = PeopleJob(
        name="enrol",
        doing="Enrolling",
        where=f"into {plural(len(ids), 'offering', 'offerings')} as {role}",
        unit=("enrolment", "enrolments"),
        offerings=ids,
        per_person=len(ids),
        build=build,
        would=Would(
            [
                (WOULD_CREATE, "create", "would create the user and enrol"),
                (WOULD_ENROL, "enrol", "would enrol"),
            ],
            "already enrolled (skip)",
        ),
        hints={
            "pass create_missing_users=True to create it": "run without --no-create to create it"
        },
    )
    return run_people_job(state, job, options)
