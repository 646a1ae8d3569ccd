"""Exit codes of the ``iqualify`` command and the error that carries one."""

from __future__ import annotations

from typing import Final

EXIT_OK: Final = 0
"""Everything asked for was done."""
EXIT_FAILURES: Final = 1
"""The command ran but some items failed (the ledger says which), or the API refused a call."""
EXIT_USAGE: Final = 2
"""Bad arguments, bad input file or bad configuration; nothing was sent."""
EXIT_INTERRUPTED: Final = 130
"""Interrupted (Ctrl-C); a journal, if any, is consistent and a re-run resumes."""


class CommandError(Exception):
    """A problem to report as one line, then exit with ``exit_code``."""

    def __init__(self, message: str, exit_code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code
