"""People to enrol: checked up front, from Python values or a CSV file.

Every bad entry is reported at once, by position (or CSV line), before any request is sent.
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from .._types import Unset
from ..types.params import OfferingUserInput

__all__ = ["CSV_COLUMNS", "PeopleError", "Person", "people_from", "read_people_csv"]

CSV_COLUMNS: Mapping[str, str] = {
    "email": "email",
    "firstname": "firstName",
    "lastname": "lastName",
    "personid": "personId",
    "tags": "tags",
}
"""CSV header names (compared ignoring case, spaces, ``_`` and ``-``) and the field each fills."""

_FIELD_NAMES: Mapping[str, str] = {
    "email": "email",
    "firstName": "first_name",
    "first_name": "first_name",
    "lastName": "last_name",
    "last_name": "last_name",
    "personId": "person_id",
    "person_id": "person_id",
    "tags": "tags",
}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_TAG_SEPARATORS = re.compile(r"[;|]")
_MAX_SHOWN = 20


class PeopleError(ValueError):
    """Some people are not valid; ``problems`` lists each as ``(where, message)``."""

    def __init__(
        self, source: str, problems: Sequence[tuple[str, str]], *, whole_file: bool = False
    ) -> None:
        self.source = source
        self.problems = list(problems)
        if whole_file:
            super().__init__(f"{source}: {problems[0][1]}")
            return
        shown = "; ".join(f"{where}: {message}" for where, message in self.problems[:_MAX_SHOWN])
        more = len(self.problems) - _MAX_SHOWN
        extra = f"; and {more} more" if more > 0 else ""
        super().__init__(f"{source}: {len(self.problems)} bad row(s), nothing sent: {shown}{extra}")


def _as_tuple(tags: Iterable[str]) -> tuple[str, ...]:
    return tuple(tags)


@attrs.frozen
class Person:
    """One person to enrol: ``email`` plus optional names, ``person_id`` and ``tags``."""

    email: str
    first_name: str | None = None
    last_name: str | None = None
    person_id: str | None = None
    tags: tuple[str, ...] = attrs.field(default=(), converter=_as_tuple)

    def wire(self) -> dict[str, Any]:
        """The API's user record for this person (``metadata.tags`` when there are tags)."""
        out: dict[str, Any] = {"email": self.email}
        if self.first_name is not None:
            out["firstName"] = self.first_name
        if self.last_name is not None:
            out["lastName"] = self.last_name
        if self.person_id is not None:
            out["personId"] = self.person_id
        if self.tags:
            out["metadata"] = {"tags": list(self.tags)}
        return out


def split_tags(text: str) -> tuple[str, ...]:
    """Tags written in one cell, separated by ``;`` or ``|``."""
    return tuple(t.strip() for t in _TAG_SEPARATORS.split(text) if t.strip())


def _email_problem(email: object) -> str | None:
    if not isinstance(email, str) or not email.strip():
        return "no email"
    if not _EMAIL.match(email.strip()):
        return f"invalid email {email!r}"
    return None


def _optional_text(value: object, name: str) -> str | None:
    if value is None or isinstance(value, Unset):
        return None
    if not isinstance(value, str):
        raise ValueError(f"{name} must be text, not {type(value).__name__}")
    return value.strip() or None


def _tags(value: object) -> tuple[str, ...]:
    if value is None or isinstance(value, Unset):
        return ()
    if isinstance(value, str):
        return split_tags(value)
    if isinstance(value, Iterable) and all(isinstance(t, str) for t in value):
        return tuple(t.strip() for t in value if t.strip())
    raise ValueError("tags must be text or a list of text")


def _from_mapping(value: Mapping[str, Any]) -> Person:
    unknown = [str(k) for k in value if k not in _FIELD_NAMES]
    if unknown:
        raise ValueError(
            f"unknown field(s) {', '.join(map(repr, unknown))}; "
            "expected email, firstName, lastName, personId, tags"
        )
    fields = {_FIELD_NAMES[k]: v for k, v in value.items()}
    return _person(
        fields.get("email"),
        fields.get("first_name"),
        fields.get("last_name"),
        fields.get("person_id"),
        fields.get("tags"),
    )


def _person(email: object, first: object, last: object, pid: object, tags: object) -> Person:
    problem = _email_problem(email)
    if problem is not None:
        raise ValueError(problem)
    assert isinstance(email, str)
    return Person(
        email.strip(),
        _optional_text(first, "firstName"),
        _optional_text(last, "lastName"),
        _optional_text(pid, "personId"),
        _tags(tags),
    )


def to_person(value: object) -> Person:
    """``value`` (an email, a mapping, an :class:`OfferingUserInput` or a :class:`Person`)."""
    if isinstance(value, Person):
        problem = _email_problem(value.email)
        if problem is not None:
            raise ValueError(problem)
        return value
    if isinstance(value, str):
        return _person(value, None, None, None, None)
    if isinstance(value, Mapping):
        return _from_mapping(value)
    if isinstance(value, OfferingUserInput):
        meta = value.metadata
        if isinstance(meta, Mapping):
            tags = meta.get("tags")
        else:
            tags = None if isinstance(meta, Unset) or isinstance(meta.tags, Unset) else meta.tags
        return _person(value.email, value.first_name, value.last_name, value.person_id, tags)
    raise ValueError(f"expected an email, a mapping or a Person, not {type(value).__name__}")


def people_from(values: Iterable[object], *, source: str = "people") -> list[Person]:
    """Every value as a :class:`Person`; raises :class:`PeopleError` listing every bad one.

    Entries are named by position (``item 0`` is the first). The same email twice (ignoring
    case) is an error too: a person is enrolled once.
    """
    if isinstance(values, str | bytes | Mapping):
        raise TypeError("people must be a list of emails, mappings or Person objects")
    people: list[Person] = []
    problems: list[tuple[str, str]] = []
    seen: dict[str, int] = {}
    for index, value in enumerate(values):
        try:
            person = to_person(value)
        except ValueError as exc:
            problems.append((f"item {index}", str(exc)))
            continue
        first = seen.setdefault(person.email.lower(), index)
        if first != index:
            problems.append((f"item {index}", f"{person.email} already at item {first}"))
            continue
        people.append(person)
    if problems:
        raise PeopleError(source, problems)
    return people


def _normalise(header: str) -> str:
    return re.sub(r"[\s_\-]", "", header).lower()


def read_people_csv(path: str | os.PathLike[str]) -> list[Person]:
    """The people of a CSV file; every bad row is reported with its line number.

    The header row names the columns, in any order and any case: ``email`` (required),
    ``firstName``, ``lastName``, ``personId`` and ``tags`` (several tags in one cell separated
    by ``;`` or ``|``). Blank lines are ignored. Raises :class:`PeopleError` (a ``ValueError``)
    for bad rows, duplicate emails, unknown columns or an unreadable file.
    """
    where = os.fspath(path)
    try:
        text = Path(path).read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise PeopleError(
            where, [("file", f"cannot read it: {exc.strerror or exc}")], whole_file=True
        ) from None
    except UnicodeDecodeError:
        raise PeopleError(where, [("file", "not UTF-8 text")], whole_file=True) from None
    # newline="": only the CSV's own line breaks end a row; quoted cells keep theirs (and
    # characters such as U+2028 that str.splitlines() would take for line ends).
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise PeopleError(where, [("line 1", str(exc))], whole_file=True) from None
    if header is None:
        raise PeopleError(
            where, [("line 1", "empty file; expected a header row with email")], whole_file=True
        )
    names = [_normalise(h) for h in header]
    unknown = [h for h, n in zip(header, names, strict=True) if n not in CSV_COLUMNS]
    if unknown:
        raise PeopleError(
            where,
            [
                (
                    "line 1",
                    f"unknown column(s) {', '.join(map(repr, unknown))}; "
                    f"expected {', '.join(CSV_COLUMNS.values())}",
                )
            ],
            whole_file=True,
        )
    if "email" not in names:
        raise PeopleError(
            where, [("line 1", f"no email column (columns: {', '.join(header)})")], whole_file=True
        )
    people: list[Person] = []
    problems: list[tuple[str, str]] = []
    seen: dict[str, int] = {}
    while True:
        line = reader.line_num + 1  # where the row starts; a quoted cell may span lines
        try:
            row = next(reader, None)
        except csv.Error as exc:
            problems.append((f"line {line}", str(exc)))
            break
        if row is None:
            break
        if not any(cell.strip() for cell in row):
            continue
        if len(row) > len(names):
            problems.append((f"line {line}", f"{len(row)} fields, the header has {len(names)}"))
            continue
        cells = dict(zip(names, [*row, *[""] * (len(names) - len(row))], strict=True))
        try:
            person = _person(
                cells.get("email", ""),
                cells.get("firstname"),
                cells.get("lastname"),
                cells.get("personid"),
                cells.get("tags"),
            )
        except ValueError as exc:
            problems.append((f"line {line}", str(exc)))
            continue
        first = seen.setdefault(person.email.lower(), line)
        if first != line:
            problems.append((f"line {line}", f"{person.email} already on line {first}"))
            continue
        people.append(person)
    if problems:
        raise PeopleError(where, problems)
    if not people:
        raise PeopleError(where, [("file", "no people to enrol")], whole_file=True)
    return people
