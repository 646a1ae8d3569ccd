"""Errors of a bulk job's own machinery (its journal and its ledger), each naming its file."""

from __future__ import annotations

import datetime

__all__ = ["JournalError", "JournalLockedError", "JournalMismatchError", "LedgerError"]


class JournalError(Exception):
    """The journal at ``path`` cannot be used: ``reason`` says why (corrupt, not a journal,
    read-only, disk full, in use by another job, ...)."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"journal {path}: {reason}")
        self.path = path
        self.reason = reason


class JournalLockedError(JournalError):
    """Another job holds the journal: ``pid``, ``host`` and ``since`` (a UTC datetime, or
    ``None`` when unknown) name the holder."""

    def __init__(
        self, path: str, *, pid: int | None, host: str | None, since: datetime.datetime | None
    ) -> None:
        who = f"process {pid if pid is not None else '?'} on host {host or '?'}"
        when = f" since {since:%Y-%m-%d %H:%M:%S} UTC" if since is not None else ""
        super().__init__(
            path,
            f"in use by another job ({who}{when}); wait for it to end or use another journal",
        )
        self.pid = pid
        self.host = host
        self.since = since


class JournalMismatchError(JournalError, ValueError):
    """The journal was written by another job; ``path``, ``stored`` and ``job`` say which."""

    def __init__(self, path: str, stored: str, job: str) -> None:
        super().__init__(
            path,
            f"the journal of another job ({stored}), not of this one ({job}); use another "
            "journal, or pass reuse_journal=True to hand it over to this job",
        )
        self.stored = stored
        self.job = job


class LedgerError(Exception):
    """The ledger at ``path`` could not be written; ``reason`` says why."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"ledger {path}: {reason}")
        self.path = path
        self.reason = reason
