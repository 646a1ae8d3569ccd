"""People to enrol: checked up front, from Python values or a CSV file.

Every bad entry is reported at once, by position (or CSV line), before any request is sent.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping, Sequence
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
_ROW_FIELDS = frozenset(
    {"email", "firstName", "lastName", "personId", "tags", "offering_id", "role"}
)
LEDGER_CONTEXT = frozenset({"offering_id", "role"})
"""Fields of an enrolment ledger's rows beside the person's: the job's own, not the person's."""
_EMAIL = re.compile(
    r"^[^@\s\x00-\x1f\x7f-\x9f]+@[^@\s\x00-\x1f\x7f-\x9f]+\.[^@\s\x00-\x1f\x7f-\x9f]+$"
)
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
    extra: Mapping[str, str] = attrs.field(factory=dict, eq=False, hash=False, repr=False)
    """Other columns of the person's row in a file: kept in the ledger, never sent."""

    def row(self) -> dict[str, str | None]:
        """This person in the columns of a people CSV file (tags as one cell)."""
        return {
            "email": self.email,
            "firstName": self.first_name,
            "lastName": self.last_name,
            "personId": self.person_id,
            "tags": join_tags(self.tags),
            **{k: v for k, v in self.extra.items() if k not in _ROW_FIELDS},
        }

    def ledger_fields(self) -> dict[str, str | None]:
        """A ledger row's item columns: this person as in a people CSV file (:meth:`row`), so
        the rows read back from a ledger are people a job takes again."""
        return self.row()


def split_tags(text: str) -> tuple[str, ...]:
    """Tags written in one cell, separated by ``;`` or ``|`` (or as a JSON list of text)."""
    if text.startswith("["):
        try:
            listed = json.loads(text)
        except ValueError:
            listed = None
        if isinstance(listed, list) and all(isinstance(t, str) for t in listed):
            return tuple(listed)
    return tuple(t.strip() for t in _TAG_SEPARATORS.split(text) if t.strip())


def join_tags(tags: Sequence[str]) -> str:
    """Tags as one cell that :func:`split_tags` reads back exactly: ``a;b``, or a JSON list
    when a tag holds a separator, surrounding spaces or is empty."""
    joined = ";".join(tags)
    plain = all(t and t == t.strip() and not _TAG_SEPARATORS.search(t) for t in tags)
    if plain and not joined.startswith("["):
        return joined
    return json.dumps(list(tags), ensure_ascii=False)


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
    unknown = [str(k) for k in value if k not in _FIELD_NAMES and k not in LEDGER_CONTEXT]
    if unknown:
        raise ValueError(
            f"unknown field(s) {', '.join(map(repr, unknown))}; "
            "expected email, firstName, lastName, personId, tags"
        )
    fields = {_FIELD_NAMES[k]: v for k, v in value.items() if k in _FIELD_NAMES}
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
    case) is an error too: a person is enrolled once. A mapping may be a row read back from an
    enrolment ledger (:func:`~iqualify_async.bulk.items_from_ledger`): its ``offering_id`` and
    ``role`` are the job's, not the person's, and are left out.
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


def read_people_csv(
    path: str | os.PathLike[str], *, encoding: str | None = None, strict_columns: bool = False
) -> list[Person]:
    """The people of a CSV file; every bad row is reported with its line number.

    The header row names the columns, in any order and any case: ``email`` (required),
    ``firstName``, ``lastName``, ``personId`` and ``tags`` (several tags in one cell separated
    by ``;`` or ``|``); other columns are kept with each person (see :attr:`Person.extra`) unless
    ``strict_columns``. Cells are separated by ``,``, ``;`` or tabs; the encoding is UTF-8 (with
    or without BOM), UTF-16 with BOM, or ``encoding``. Blank lines are ignored. Raises
    :class:`PeopleError` (a ``ValueError``) for bad rows, duplicate emails or an unreadable
    file. :func:`~iqualify_async.bulk.people_files.read_people_file` also reads ``.xlsx``,
    standard input and ledgers, and says what it guessed.
    """
    from .people_files import read_people_file

    return read_people_file(path, encoding=encoding, strict_columns=strict_columns).people
