"""``unenrol``, ``add-to-group``, ``add-to-channel``, ``assign-marker`` and ``transfer``: one
write per person of a file, on the same skeleton as ``enrol``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import click

from ...bulk.companions import DEFAULT_BATCH_SIZE, WOULD_DO
from ..people_job import (
    PEOPLE_HELP,
    JobOptions,
    PeopleJob,
    Target,
    Would,
    people_job_options,
    run_people_job,
)
from ..state import State

if TYPE_CHECKING:
    from ... import Client
    from ...bulk import Job, Person

Build = Callable[["Client", list["Person"], JobOptions, Callable[[Any], None]], "Job[Any, Any]"]


def _job(
    name: str,
    doing: str,
    where: str,
    offerings: list[str],
    build: Build,
    would: str,
    skip: str,
    targets: Sequence[Target] = (),
) -> PeopleJob:
    return PeopleJob(
        name=name,
        doing=doing,
        where=where,
        unit=("person", "people"),
        offerings=offerings,
        per_person=1,
        build=build,
        would=Would([(WOULD_DO, "do", would)], skip),
        targets=targets,
    )


def _offering_option(help: str) -> Callable[[Any], Any]:
    return click.option("--offering", "offering_id", required=True, metavar="ID", help=help)


@click.command(short_help="Remove the people of a file from an offering.", epilog=PEOPLE_HELP)
@_offering_option("Offering to remove them from.")
@people_job_options
@click.pass_obj
def unenrol(state: State, /, offering_id: str, **common: Any) -> int:
    """Remove everyone in PEOPLE from the --offering; people not in it are skipped."""

    def build(iq: Client, people: list[Person], o: JobOptions, progress: Any) -> Job[Any, Any]:
        from ...bulk import remove_from_offering

        return remove_from_offering(
            iq, offering_id, people, concurrency=o.concurrency, journal=o.journal,
            on_progress=progress, dry_run=o.dry_run,
        )  # fmt: skip

    job = _job("unenrol", "Removing", f"from offering {offering_id}", [offering_id], build,
               "would remove", "not in the offering (skip)")  # fmt: skip
    return run_people_job(state, job, JobOptions.take(common))


@click.command(
    "add-to-group",
    short_help="Add the people of a file to an assessment group.",
    epilog=PEOPLE_HELP,
)
@_offering_option("Offering of the group.")
@click.option("--group", "group_id", required=True, metavar="ID", help="Assessment group.")
@people_job_options
@click.pass_obj
def add_to_group(state: State, /, offering_id: str, group_id: str, **common: Any) -> int:
    """Add every learner in PEOPLE to the --group of the --offering; learners already in it
    are skipped."""

    def build(iq: Client, people: list[Person], o: JobOptions, progress: Any) -> Job[Any, Any]:
        from ...bulk import add_to_group

        return add_to_group(
            iq, offering_id, group_id, people, concurrency=o.concurrency, journal=o.journal,
            on_progress=progress, dry_run=o.dry_run,
        )  # fmt: skip

    job = _job("add-to-group", "Adding", f"to group {group_id} of offering {offering_id}",
               [offering_id], build, "would add", "already in the group (skip)",
               [Target("group", group_id,
                       lambda iq: iq.offerings.groups.list_learners(offering_id, group_id))],
               )  # fmt: skip
    return run_people_job(state, job, JobOptions.take(common))


@click.command(
    "add-to-channel", short_help="Add the people of a file to a group channel.", epilog=PEOPLE_HELP
)
@_offering_option("Offering of the channel.")
@click.option("--channel", "channel_id", required=True, metavar="ID", help="Group channel.")
@people_job_options
@click.pass_obj
def add_to_channel(state: State, /, offering_id: str, channel_id: str, **common: Any) -> int:
    """Add every learner in PEOPLE to the --channel of the --offering; learners already in it
    are skipped."""

    def build(iq: Client, people: list[Person], o: JobOptions, progress: Any) -> Job[Any, Any]:
        from ...bulk import add_to_channel

        return add_to_channel(
            iq, offering_id, channel_id, people, concurrency=o.concurrency, journal=o.journal,
            on_progress=progress, dry_run=o.dry_run,
        )  # fmt: skip

    job = _job("add-to-channel", "Adding", f"to channel {channel_id} of offering {offering_id}",
               [offering_id], build, "would add", "already in the channel (skip)",
               [Target("channel", channel_id,
                       lambda iq: iq.offerings.channels.get_with_learners(offering_id, channel_id))],
               )  # fmt: skip
    return run_people_job(state, job, JobOptions.take(common))


@click.command(
    "assign-marker", short_help="Put the learners of a file on a marker's list.", epilog=PEOPLE_HELP
)
@_offering_option("Offering of the marker.")
@click.option("--marker", "marker_email", required=True, metavar="EMAIL", help="The marker.")
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=DEFAULT_BATCH_SIZE,
    show_default=True,
    help="Learners per request (the API takes a list).",
)
@people_job_options
@click.pass_obj
def assign_marker(
    state: State, /, offering_id: str, marker_email: str, batch_size: int, **common: Any
) -> int:
    """Put every learner in PEOPLE on the --marker's list in the --offering; learners already
    on it are skipped."""

    def build(iq: Client, people: list[Person], o: JobOptions, progress: Any) -> Job[Any, Any]:
        from ...bulk import assign_to_marker

        return assign_to_marker(
            iq, offering_id, marker_email, people, concurrency=o.concurrency,
            batch_size=batch_size, journal=o.journal, on_progress=progress, dry_run=o.dry_run,
        )  # fmt: skip

    job = _job("assign-marker", "Assigning", f"to marker {marker_email} in offering {offering_id}",
               [offering_id], build, "would assign", "already assigned (skip)",
               [Target("marker", marker_email,
                       lambda iq: iq.offerings.markers.list_learners(offering_id, marker_email))],
               )  # fmt: skip
    return run_people_job(state, job, JobOptions.take(common))


@click.command(short_help="Move the learners of a file to another offering.", epilog=PEOPLE_HELP)
@click.option("--from", "from_id", required=True, metavar="ID", help="Offering they are in.")
@click.option("--to", "to_id", required=True, metavar="ID", help="Offering to move them to.")
@click.option(
    "--send-invite/--no-send-invite",
    default=None,
    help="Ask the API to send (or not) the invitation email (default: the API's own).",
)
@people_job_options
@click.pass_obj
def transfer(
    state: State, /, from_id: str, to_id: str, send_invite: bool | None, **common: Any
) -> int:
    """Move every learner in PEOPLE from the --from offering to the --to offering (same course
    content); learners already in the --to offering are skipped."""

    def build(iq: Client, people: list[Person], o: JobOptions, progress: Any) -> Job[Any, Any]:
        from ...bulk import transfer

        return transfer(
            iq, from_id, to_id, people, send_invite=send_invite, concurrency=o.concurrency,
            journal=o.journal, on_progress=progress, dry_run=o.dry_run,
        )  # fmt: skip

    job = _job("transfer", "Moving", f"from offering {from_id} to {to_id}", [from_id, to_id],
               build, "would move", "already in the target offering (skip)")  # fmt: skip
    return run_people_job(state, job, JobOptions.take(common))


COMMANDS = (unenrol, add_to_group, add_to_channel, assign_marker, transfer)
