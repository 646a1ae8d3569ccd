"""Reading the people to enrol from a CSV file, every bad row reported before anything is sent."""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any

from .errors import CommandError

COLUMNS = {
    "email": "email",
    "firstname": "firstName",
    "lastname": "lastName",
    "personid": "personId",
    "tags": "tags",
}
"""Accepted header names (compared case-insensitively, ignoring ``_``, ``-`` and spaces)."""

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_MAX_SHOWN = 20


def _normalise(header: str) -> str:
    return re.sub(r"[\s_\-]", "", header).lower()


def read_people(path: Path) -> list[dict[str, Any]]:
    """Rows of ``path`` as API user records (``email``, ``firstName``, ... ``tags`` as a list).

    Raises :class:`CommandError` naming every bad row by its line number (the header is line 1).
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise CommandError(f"cannot read {str(path)!r}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise CommandError(f"{path}: not UTF-8 text") from None
    reader = csv.reader(text.splitlines())
    header = next(reader, None)
    if header is None:
        raise CommandError(f"{path}: empty file; expected a header row with an email column")
    names = [_normalise(h) for h in header]
    unknown = [h for h, n in zip(header, names, strict=True) if n not in COLUMNS]
    if unknown:
        raise CommandError(
            f"{path}: unknown column(s) {', '.join(map(repr, unknown))}; "
            f"expected {', '.join(COLUMNS.values())}"
        )
    if "email" not in names:
        raise CommandError(f"{path}: no email column (columns: {', '.join(header)})")
    people: list[dict[str, Any]] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) > len(names):
            problems.append(f"line {line}: {len(row)} fields, the header has {len(names)}")
            continue
        row += [""] * (len(names) - len(row))
        record: dict[str, Any] = {}
        for name, cell in zip(names, row, strict=True):
            value = cell.strip()
            if not value:
                continue
            if name == "tags":
                record["tags"] = [t.strip() for t in re.split(r"[;|]", value) if t.strip()]
            else:
                record[COLUMNS[name]] = value
        email = record.get("email", "")
        if not email:
            problems.append(f"line {line}: no email")
        elif not _EMAIL.match(email):
            problems.append(f"line {line}: invalid email {email!r}")
        elif email.lower() in seen:
            problems.append(f"line {line}: {email} already on line {seen[email.lower()]}")
        else:
            seen[email.lower()] = line
            people.append(record)
    if problems:
        shown = "; ".join(problems[:_MAX_SHOWN])
        more = f"; and {len(problems) - _MAX_SHOWN} more" if len(problems) > _MAX_SHOWN else ""
        raise CommandError(f"{path}: {len(problems)} bad row(s), nothing sent: {shown}{more}")
    if not people:
        raise CommandError(f"{path}: no people to enrol")
    return people
