"""What happened to each item of a bulk job, and to the job as a whole."""

from __future__ import annotations

import enum
from typing import Any, Generic, TypeVar

import attrs

from ..errors import APIError

__all__ = ["ErrorInfo", "Outcome", "Skip", "Skipped", "Status", "Summary"]

I = TypeVar("I")  # noqa: E741 - the conventional name for "item"
R = TypeVar("R")


class Status(enum.StrEnum):
    """How an item ended. Every input item ends with exactly one of these."""

    SUCCEEDED = "succeeded"
    SKIPPED = "skipped"
    FAILED = "failed"
    UNPROCESSED = "unprocessed"


@attrs.frozen
class Skipped:
    """Return this from a bulk function when the item was already in the wanted state."""

    reason: str = "already done"


class Skip(Exception):
    """Raise this from a bulk function when the item was already in the wanted state."""

    def __init__(self, reason: str = "already done") -> None:
        super().__init__(reason)
        self.reason = reason


@attrs.frozen
class ErrorInfo:
    """Why an item failed: the exception type and message, plus the API's answer for API errors."""

    type: str
    message: str
    status: int | None = None
    name: str | None = None
    details: Any = None

    @classmethod
    def from_exception(cls, exc: BaseException) -> ErrorInfo:
        message = str(exc) or type(exc).__name__
        if isinstance(exc, APIError):
            return cls(type(exc).__name__, message, exc.status, exc.name, exc.details)
        return cls(type(exc).__name__, message)


@attrs.frozen
class Outcome(Generic[I, R]):
    """The final result of one input item.

    ``index`` is the item's position in the input (from 0) and ``key`` its stable key. ``value`` is
    what the function returned (``None`` unless ``status`` is ``succeeded``, and ``None`` for
    outcomes replayed from a journal); ``reason`` says why an item was skipped or unprocessed;
    ``error`` describes a failure and ``exception`` holds the exception itself (not persisted).
    ``from_journal`` marks items a previous run already completed; ``verified`` marks items whose
    state was confirmed by the ``verify`` hook instead of (re)running the function.
    """

    index: int
    key: str
    item: I
    status: Status
    value: R | None = None
    reason: str | None = None
    error: ErrorInfo | None = None
    from_journal: bool = False
    verified: bool = False
    exception: BaseException | None = attrs.field(default=None, eq=False, repr=False)

    @property
    def ok(self) -> bool:
        """True for ``succeeded`` and ``skipped``: the item is in the wanted state."""
        return self.status is Status.SUCCEEDED or self.status is Status.SKIPPED

    @property
    def message(self) -> str | None:
        """The error message of a failure, else the reason of a skip or of an unprocessed item."""
        return self.error.message if self.error is not None else self.reason


@attrs.frozen
class Summary:
    """Counts of a finished (or stopped, or cancelled) bulk job.

    ``total`` counts the input items, each in exactly one of the four outcome counts (after a
    cancellation, the unread items of a sized input count as ``unprocessed``).
    ``from_journal`` says how many of them a previous run had completed. ``stopped`` holds why the
    job stopped taking new items early (failure threshold, :meth:`Job.stop`), ``cancelled`` is
    true when the job was cancelled. ``unread`` is how many input items have no outcome because
    the job ended before reading them from an iterator or async iterable (not read further, as
    that could have side effects): 0 normally, ``None`` when their number is unknown.
    """

    total: int
    succeeded: int
    skipped: int
    failed: int
    unprocessed: int
    from_journal: int
    elapsed: float
    stopped: str | None = None
    cancelled: bool = False
    unread: int | None = 0

    @property
    def ok(self) -> bool:
        """True when every input item ended ``succeeded`` or ``skipped``."""
        return self.failed == 0 and self.unprocessed == 0 and self.unread == 0
