"""Bulk jobs: run an async function over many items concurrently, every item accounted for.

``bulk.run(fn, items, concurrency=20)`` returns a :class:`Job`: iterate it for each item's
:class:`Outcome` as it completes, or await it for the :class:`Summary`. Add ``journal=`` to make
re-runs skip what is done, and write a ledger (CSV/JSONL, one row per input item) to fix and
feed back in.
"""

from .engine import Job, run
from .journal import Journal, JournalEntry
from .keys import default_key
from .ledger import LedgerWriter, items_from_ledger, write_ledger
from .outcome import ErrorInfo, Outcome, Skip, Skipped, Status, Summary
from .progress import Progress

__all__ = [
    "ErrorInfo",
    "Job",
    "Journal",
    "JournalEntry",
    "LedgerWriter",
    "Outcome",
    "Progress",
    "Skip",
    "Skipped",
    "Status",
    "Summary",
    "default_key",
    "items_from_ledger",
    "run",
    "write_ledger",
]
