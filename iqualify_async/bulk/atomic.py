"""Output files that appear whole or not at all, and CSV cells a spreadsheet will not run.

:class:`AtomicFile` writes to ``<target>.partial`` beside the target and renames it into place
on :meth:`~AtomicFile.commit`; a run that is killed or fails leaves the previous target intact
and its own output under the ``.partial`` name. Ledgers and analytics exports both use it.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import IO, Any

__all__ = ["PARTIAL_SUFFIX", "AtomicFile", "csv_cell", "neutralise", "restore"]

PARTIAL_SUFFIX = ".partial"

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# A sign followed only by word characters, dots and dashes calls nothing: an id such as
# ``-MFnSwtl...`` or a number such as ``-5`` stays as it is.
# Left alone after a sign: a plain number, or an iQualify push id ("-" and 19 more characters
# of [A-Za-z0-9_-], e.g. a channel's "-MFnSwtlCEnhYlt6cYS7"). Anything else (``-A1-B1``, ``+A1``)
# a spreadsheet may evaluate.
_SPECIAL_FIRST = "'" + "".join(_FORMULA_STARTS)
_INERT = re.compile(r"[+-][0-9]+(\.[0-9]+)?|-[A-Za-z0-9_-]{19}", re.ASCII)


def partial_path(target: str | os.PathLike[str]) -> Path:
    """Where the output bound for ``target`` is written until it is complete."""
    target = Path(target)
    return target.with_name(target.name + PARTIAL_SUFFIX)


class AtomicFile:
    """A text file written beside ``target`` and renamed onto it when complete.

    Opening creates (truncates) ``<target>.partial`` at once, so an unwritable place is found
    before any work is done (``OSError``).
    """

    def __init__(self, target: str | os.PathLike[str], *, newline: str | None = "") -> None:
        self.target = Path(target)
        self.partial = partial_path(self.target)
        self.file: IO[str] = open(self.partial, "w", encoding="utf-8", newline=newline)
        self.committed = False

    def commit(self) -> Path:
        """Flush, sync and rename the file into place; returns the target."""
        if not self.file.closed:
            self.file.flush()
            os.fsync(self.file.fileno())
            self.file.close()
        if not self.committed:
            os.replace(self.partial, self.target)
            self.committed = True
        return self.target

    def abandon(self) -> Path:
        """Close the file and leave it under its ``.partial`` name; returns that path."""
        if not self.file.closed:
            self.file.close()
        return self.partial

    def discard(self) -> None:
        """Close and remove the partial file (nothing was done worth keeping)."""
        self.abandon()
        if not self.committed:
            self.partial.unlink(missing_ok=True)

    def close(self, *, complete: bool = True) -> Path:
        return self.commit() if complete else self.abandon()


def neutralise(text: str) -> str:
    """``text`` made safe for a spreadsheet (the OWASP rule against CSV injection).

    A cell starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return gets a leading
    ``'`` (spreadsheets show it as text and hide the quote), except a plain signed number
    (``-5``, ``+64``, ``-1.5``) and an iQualify push id (``-`` and 19 letters, digits, ``_`` or
    ``-``); so does a cell that already
    starts with ``'``, so that :func:`restore` gives every cell back exactly.
    """
    if not text or text[0] not in _SPECIAL_FIRST:  # most cells: nothing to look at
        return text
    if text[0] == "'" or not _INERT.fullmatch(text):
        return "'" + text
    return text


def csv_cell(value: Any) -> str:
    """A value as a CSV cell, in ledgers and analytics exports alike: nothing for ``None``,
    ``true``/``false``, nested values as JSON, text made safe by :func:`neutralise` (numbers
    are left as they are)."""
    cls = value.__class__
    if cls is str:
        return neutralise(value)
    if cls is int or cls is float:
        return str(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, str):
        return neutralise(value)
    return str(value)


def restore(text: str) -> str:
    """The cell as given to :func:`neutralise`."""
    return text[1:] if text.startswith("'") else text
