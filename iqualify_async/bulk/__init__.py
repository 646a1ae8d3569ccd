"""Bulk jobs: run an async function over many items concurrently, every item accounted for.

``bulk.run(fn, items, concurrency=20)`` returns a :class:`Job`: iterate it for each item's
:class:`Outcome` as it completes, or await it for the :class:`Summary`. Add ``journal=`` to make
re-runs skip what is done, and write a ledger (CSV/JSONL, one row per input item) to fix and
feed back in.

On top of it: :func:`enrol` / :func:`enrol_many` (batched, idempotent enrolment),
:func:`read_people_csv` / :func:`read_people_file`, :func:`export_analytics` / :func:`collect_analytics`, and thin helpers
(:func:`remove_from_offering`, :func:`add_to_group`, :func:`add_to_channel`,
:func:`assign_to_marker`, :func:`transfer`).
"""

from .analytics import (
    ALL_KINDS,
    AnalyticsRead,
    CollectedAnalytics,
    ExportReport,
    collect_analytics,
    export_analytics,
)
from .companions import (
    add_to_channel,
    add_to_group,
    assign_to_marker,
    remove_from_offering,
    transfer,
)
from .engine import Job, run
from .enrol import Enrolment, EnrolmentError, RoleConflictError, enrol, enrol_many
from .errors import JournalError, JournalLockedError, JournalMismatchError, LedgerError
from .journal import Journal, JournalEntry
from .journal_ledger import journal_outcomes, ledger_from_journal
from .journal_pg import PostgresJournal
from .keys import default_key
from .ledger import LedgerWriter, items_from_ledger, write_ledger
from .outcome import ErrorInfo, Outcome, Skip, Skipped, Status, Summary
from .parquet import analytics_schema
from .people import PeopleError, Person, people_from, read_people_csv
from .people_files import PeopleFile, read_people_file
from .progress import Progress
from .records import KIND_RECORDS

__all__ = [
    "ALL_KINDS",
    "KIND_RECORDS",
    "AnalyticsRead",
    "CollectedAnalytics",
    "Enrolment",
    "EnrolmentError",
    "ErrorInfo",
    "ExportReport",
    "Job",
    "Journal",
    "JournalEntry",
    "JournalError",
    "JournalLockedError",
    "JournalMismatchError",
    "LedgerError",
    "LedgerWriter",
    "Outcome",
    "PeopleError",
    "PeopleFile",
    "Person",
    "PostgresJournal",
    "Progress",
    "RoleConflictError",
    "Skip",
    "Skipped",
    "Status",
    "Summary",
    "add_to_channel",
    "add_to_group",
    "analytics_schema",
    "assign_to_marker",
    "collect_analytics",
    "default_key",
    "enrol",
    "enrol_many",
    "export_analytics",
    "items_from_ledger",
    "journal_outcomes",
    "ledger_from_journal",
    "people_from",
    "read_people_csv",
    "read_people_file",
    "remove_from_offering",
    "run",
    "transfer",
    "write_ledger",
]
