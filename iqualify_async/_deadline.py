"""The overall deadline of one call (``Timeout.deadline``) and the error when it passes."""

from __future__ import annotations

from collections.abc import Callable

import attrs

from .errors import DeadlineExceededError, IQualifyError


@attrs.define(slots=True)
class CallDeadline:
    """When one call must be over, on ``clock``; counts its attempts and remembers its last failure."""

    seconds: float
    started: float
    clock: Callable[[], float]
    attempts: int = 0
    last_error: IQualifyError | None = None
    stopped_retry: bool = False
    """Set when a retry was not made because its wait would have passed the deadline."""

    @classmethod
    def start(cls, seconds: float, clock: Callable[[], float]) -> CallDeadline:
        return cls(seconds, clock(), clock)

    def remaining(self) -> float:
        return self.started + self.seconds - self.clock()

    def exceeded(self, method: str, url: str, *, idempotent: bool) -> DeadlineExceededError:
        """The error to raise now; a write retried only when not applied has applied nothing."""
        return DeadlineExceededError(
            deadline=self.seconds,
            attempts=self.attempts,
            elapsed=self.clock() - self.started,
            last_error=self.last_error,
            method=method,
            url=url,
            request_sent=None if idempotent and self.attempts else False,
        )


__all__ = ["CallDeadline"]
