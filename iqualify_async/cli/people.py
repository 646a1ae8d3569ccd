"""Reading the people to enrol from a CSV file, every bad row reported before anything is sent."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .errors import CommandError

if TYPE_CHECKING:
    from ..bulk.people import Person


def read_people(path: Path) -> list[Person]:
    """The people of ``path`` (see :func:`iqualify_async.bulk.read_people_csv`).

    Raises :class:`CommandError` naming every bad row by its line number (the header is line 1).
    """
    from ..bulk.people import PeopleError, read_people_csv

    try:
        return read_people_csv(path)
    except PeopleError as exc:
        raise CommandError(str(exc)) from None
