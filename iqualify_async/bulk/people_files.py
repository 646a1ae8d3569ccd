"""People files as administrators have them: any common CSV dialect and encoding, extra
columns, standard input, ``.xlsx`` workbooks, and ledgers fed back in.

Every bad row is reported by its line at once, before anything is sent.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
import sys
from collections.abc import Collection, Iterator, Sequence
from pathlib import Path
from typing import IO

import attrs

from .atomic import restore
from .ledger import LEDGER_HEAD, LEDGER_META, SCALAR_COLUMN
from .outcome import Status
from .people import CSV_COLUMNS, LEDGER_CONTEXT, PeopleError, Person, _normalise, _person

__all__ = ["DEFAULT_OUTCOMES", "PeopleFile", "read_people_file"]

DEFAULT_OUTCOMES: tuple[str, ...] = (str(Status.FAILED), str(Status.UNPROCESSED))
"""The rows of a ledger taken as people unless told otherwise: those to do again."""

_LEDGER_MARKS = frozenset(LEDGER_HEAD)
_SCALAR_ITEM = SCALAR_COLUMN
_DELIMITERS = (",", ";", "\t")
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


@attrs.frozen
class PeopleFile:
    """The people of a file, and notes for the reader (guessed encoding, extra columns, ...)."""

    people: list[Person]
    notes: list[str]
    ledger: bool = False
    """Whether the file was a ledger (its rows of the chosen outcomes were taken)."""


def _fail(where: str, message: str, line: str = "file") -> PeopleError:
    return PeopleError(where, [(line, message)], whole_file=True)


def _decode(data: bytes, where: str, encoding: str | None, notes: list[str]) -> str:
    if encoding is not None:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise _fail(where, f"unknown encoding {encoding!r}") from None
        try:
            return data.decode(encoding).removeprefix("\ufeff")
        except UnicodeDecodeError:
            raise _fail(where, f"not {encoding} text") from None
    for bom, name in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(name).removeprefix("\ufeff")
            except UnicodeDecodeError:
                raise _fail(where, f"not {name} text, though it starts like it") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        raise _fail(where, "not UTF-8 text; pass --encoding (e.g. latin-1)") from None
    notes.append(f"{where} is not UTF-8: read it as cp1252 (Windows); pass --encoding to choose")
    return text


Rows = Iterator[tuple[int, list[str]]]
"""Rows with the line each starts on (a quoted cell may span lines)."""


def _csv_rows(text: str) -> Rows:
    header = text.split("\n", 1)[0]
    delimiter = max(_DELIMITERS, key=header.count)
    # newline="": only the CSV's own line breaks end a row; quoted cells keep theirs.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    while True:
        start = reader.line_num + 1
        row = next(reader, None)
        if row is None:
            return
        yield start, row


def _xlsx_rows(data: bytes, where: str) -> list[tuple[int, list[str]]]:
    try:
        import openpyxl
    except ImportError:
        raise _fail(
            where, "reading .xlsx needs openpyxl: pip install 'iqualify-async[xlsx]'"
        ) from None
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:
        raise _fail(where, f"not an .xlsx workbook ({exc})") from None
    sheet = book.worksheets[0]
    rows = [
        (line, ["" if cell is None else str(cell) for cell in row])
        for line, row in enumerate(sheet.iter_rows(values_only=True), start=1)
    ]
    book.close()
    return rows


def _read_bytes(source: str | os.PathLike[str] | IO[bytes]) -> tuple[bytes, str]:
    if not isinstance(source, str | os.PathLike):
        return source.read(), getattr(source, "name", "<input>")
    if os.fspath(source) == "-":
        return sys.stdin.buffer.read(), "<stdin>"
    where = os.fspath(source)
    try:
        return Path(source).read_bytes(), where
    except OSError as exc:
        raise _fail(where, f"cannot read it: {exc.strerror or exc}") from None


def read_people_file(
    source: str | os.PathLike[str] | IO[bytes],
    *,
    encoding: str | None = None,
    strict_columns: bool = False,
    outcomes: Collection[str] | None = None,
) -> PeopleFile:
    """The people of a CSV file, an ``.xlsx`` workbook (first sheet) or a ledger.

    ``source`` is a path, ``"-"`` for standard input, or a binary stream. CSV: ``,``, ``;`` or
    tab separated (told by the header row); UTF-8 with or without BOM, UTF-16 with BOM, else
    cp1252 with a note, unless ``encoding`` is given. Columns: ``email`` (required),
    ``firstName``, ``lastName``, ``personId``, ``tags`` (any case; several tags in one cell
    separated by ``;`` or ``|``). Other columns are kept with each person (they reach the
    ledger, never the API) with a note, or refused with ``strict_columns``.

    A ledger (a file with ``index``, ``key`` and ``outcome`` columns) gives the people of its
    rows whose outcome is in ``outcomes`` (default failed and unprocessed), each once: the
    ledger of an enrolment or of a companion job (people in people-file columns), or of a job
    whose items are emails (its ``item`` column, as companion jobs wrote before their items were
    people).
    """
    data, where = _read_bytes(source)
    notes: list[str] = []
    rows: Rows
    if where.lower().endswith(".xlsx") or data.startswith(b"PK\x03\x04"):
        rows = iter(_xlsx_rows(data, where))
    else:
        rows = _csv_rows(_decode(data, where, encoding, notes))
    try:
        first = next(rows, None)
    except csv.Error as exc:
        raise _fail(where, str(exc), "line 1") from None
    header = None if first is None else first[1]
    if header is None or not any(h.strip() for h in header):
        raise _fail(where, "empty file; expected a header row with email", "line 1")
    header = [h.strip() for h in header]
    ledger = _LEDGER_MARKS <= set(header)
    if ledger and "email" not in header and _SCALAR_ITEM in header:
        # The ledger of a job whose items are emails (unenrol, add-to-group, ... before their
        # items were people).
        header = ["email" if h == _SCALAR_ITEM else h for h in header]
    if outcomes is not None and not ledger:
        raise _fail(where, "--outcomes applies to a ledger, and this file is not one", "line 1")
    wanted = frozenset(DEFAULT_OUTCOMES if outcomes is None else outcomes)
    if ledger:
        bad = sorted(wanted - {str(s) for s in Status})
        if bad:
            raise _fail(where, f"unknown outcome(s) {', '.join(bad)}", "--outcomes")
    people = _people(where, header, rows, ledger, wanted, strict_columns, notes)
    return PeopleFile(people, notes, ledger)


def _people(
    where: str,
    header: Sequence[str],
    rows: Rows,
    ledger: bool,
    wanted: frozenset[str],
    strict: bool,
    notes: list[str],
) -> list[Person]:
    names = [_normalise(h) for h in header]
    ignored = LEDGER_CONTEXT | LEDGER_META if ledger else frozenset()
    extra = [
        h
        for h, n in zip(header, names, strict=True)
        if n not in CSV_COLUMNS and h not in ignored and h.removeprefix("item.") not in ignored
    ]
    if "email" not in names:
        also = f"; unknown column(s) {', '.join(map(repr, extra))}" if extra else ""
        raise _fail(
            where,
            f"no email column (columns: {', '.join(header)}){also}; "
            f"expected {', '.join(CSV_COLUMNS.values())}",
            "line 1",
        )
    if extra and strict:
        raise _fail(
            where,
            f"unknown column(s) {', '.join(map(repr, extra))}; "
            f"expected {', '.join(CSV_COLUMNS.values())}",
            "line 1",
        )
    if extra:
        notes.append(
            f"column(s) {', '.join(map(repr, extra))} are not sent to the API; "
            "they are kept in the ledger"
        )
    people: list[Person] = []
    problems: list[tuple[str, str]] = []
    seen: dict[str, tuple[int, Person]] = {}
    start = 1
    while True:
        try:
            numbered = next(rows, None)
        except csv.Error as exc:
            problems.append((f"line {start + 1}", str(exc)))
            break
        if numbered is None:
            break
        start, row = numbered
        if not any(cell.strip() for cell in row):
            continue
        if len(row) > len(names):
            problems.append((f"line {start}", f"{len(row)} fields, the header has {len(names)}"))
            continue
        cells = dict(zip(header, [*row, *[""] * (len(header) - len(row))], strict=True))
        if ledger:
            if cells.get("outcome") not in wanted:
                continue
            cells = {k: restore(v) for k, v in cells.items()}
            if cells.get("extra_fields"):
                cells.update({k: str(v) for k, v in json.loads(cells["extra_fields"]).items()})
        by_name = {n: cells[h] for h, n in zip(header, names, strict=True) if n in CSV_COLUMNS}
        try:
            person = _person(
                by_name.get("email", ""),
                by_name.get("firstname"),
                by_name.get("lastname"),
                by_name.get("personid"),
                by_name.get("tags"),
            )
        except ValueError as exc:
            problems.append((f"line {start}", str(exc)))
            continue
        person = attrs.evolve(person, extra={h: cells[h] for h in extra if cells.get(h)})
        first = seen.get(person.email.lower())
        if first is not None:
            if ledger and first[1] == person:
                continue  # the same person in several offerings of one ledger
            problems.append((f"line {start}", f"{person.email} already on line {first[0]}"))
            continue
        seen[person.email.lower()] = (start, person)
        people.append(person)
    if problems:
        raise PeopleError(where, problems)
    if not people:
        what = f"no rows with outcome {', '.join(sorted(wanted))}" if ledger else "no people"
        raise _fail(where, f"{what} to enrol")
    return people
