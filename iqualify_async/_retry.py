"""Retry policy: which failures are retried, how long to wait, when to give up.

The loop itself is tenacity's :class:`~tenacity.AsyncRetrying`; this module supplies its
``retry``, ``wait`` and ``stop`` strategies built from a :class:`RetryPolicy`.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from typing import Any, Final

import attrs
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt
from tenacity.stop import stop_base
from tenacity.wait import wait_base

from ._deadline import CallDeadline
from .errors import (
    AmbiguousWriteError,
    APIConnectionError,
    APIError,
    APITimeoutError,
    DeadlineExceededError,
)

IDEMPOTENT_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
"""Methods that may be repeated freely: the API's state is the same after one or many."""

DEFAULT_RETRY_STATUSES: Final = frozenset({408, 429, 500, 502, 503, 504})

_RETRY_AFTER_STATUSES: Final = frozenset({429, 503})


def _non_negative(name: str) -> Callable[[Any, Any, float], None]:
    def check(instance: Any, attribute: Any, value: float) -> None:
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise ValueError(f"RetryPolicy.{name} must be a non-negative number, got {value!r}")

    return check


def _check_max_retries(instance: Any, attribute: Any, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"RetryPolicy.max_retries must be a non-negative integer, got {value!r}")


def _check_jitter(instance: Any, attribute: Any, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise ValueError(f"RetryPolicy.jitter must be between 0 and 1, got {value!r}")


def _check_total(instance: Any, attribute: Any, value: float | None) -> None:
    if value is not None:
        _non_negative("max_total_wait")(instance, attribute, value)


@attrs.frozen(slots=True)
class RetryPolicy:
    """When and how a failed request is sent again.

    - ``max_retries`` (5): retries after the first attempt; ``0`` disables retrying. Five
      retries make a call survive an API that fails one attempt in seven (2,000 calls at that
      failure rate all succeed 98 times in 100; with two retries, about six of them fail).
    - ``backoff_base`` (0.5 s) and ``backoff_max`` (8 s): the wait before retry *n* is
      ``min(backoff_max, backoff_base * 2 ** (n - 1))``, shortened at random by up to
      ``jitter`` (0.25, a share of the wait) so that many clients do not retry in step.
    - ``max_retry_after`` (60 s): a ``Retry-After`` on a 429 or 503 answer is waited for exactly
      when it is at most this long; a longer advice is not waited for and the error
      (:class:`~iqualify_async.RateLimitError` for 429, with ``retry_after``) is raised.
    - ``max_total_wait`` (120 s): a retry whose wait would bring the waiting of this call past
      this many seconds is not made; ``None`` removes the bound.
    - ``retry_statuses`` (408, 429, 500, 502, 503, 504): answers worth another attempt.

    Connection errors and timeouts are retried too. GET, HEAD, OPTIONS, PUT and DELETE are
    retried on every failure above. POST and PATCH are retried only when the API certainly did
    not apply them: a 408 or 429 answer, a 503 carrying ``Retry-After``, or a connection that
    was refused before the request was sent. Any other failure of a write is raised without a
    retry: a 5xx answer as :class:`~iqualify_async.ServerError`, and a timeout or connection
    lost after sending as :class:`~iqualify_async.AmbiguousWriteError`. Pass
    ``retry_unsafe=True`` to a call to retry it like a GET.
    """

    max_retries: int = attrs.field(default=5, validator=_check_max_retries)
    backoff_base: float = attrs.field(default=0.5, validator=_non_negative("backoff_base"))
    backoff_max: float = attrs.field(default=8.0, validator=_non_negative("backoff_max"))
    jitter: float = attrs.field(default=0.25, validator=_check_jitter)
    max_retry_after: float = attrs.field(default=60.0, validator=_non_negative("max_retry_after"))
    max_total_wait: float | None = attrs.field(default=120.0, validator=_check_total)
    retry_statuses: frozenset[int] = attrs.field(
        default=DEFAULT_RETRY_STATUSES, converter=frozenset
    )

    def backoff(self, retry_number: int, rand: float = 0.0) -> float:
        """Seconds to wait before retry ``retry_number`` (from 1); ``rand`` in [0, 1) is the jitter."""
        delay = min(self.backoff_max, self.backoff_base * 2.0 ** (retry_number - 1))
        return delay * (1.0 - self.jitter * rand)

    def advised_wait(self, error: BaseException) -> float | None:
        """The ``Retry-After`` this policy honours for ``error``, if any (may exceed the cap)."""
        if isinstance(error, APIError) and error.status in _RETRY_AFTER_STATUSES:
            return error.retry_after
        return None

    def is_retryable(self, error: BaseException, *, idempotent: bool) -> bool:
        """Whether ``error`` is worth another attempt of a request (before counting attempts)."""
        if isinstance(error, APIError):
            status = error.status
            if status not in self.retry_statuses:
                return False
            advised = self.advised_wait(error)
            if advised is not None and advised > self.max_retry_after:
                return False
            return idempotent or certainly_not_applied(error)
        if isinstance(error, AmbiguousWriteError | DeadlineExceededError):
            return False
        if isinstance(error, APIConnectionError):
            return idempotent or error.request_sent is False
        return False

    def retrying(
        self,
        *,
        idempotent: bool,
        sleep: Callable[[float], Awaitable[None]],
        before_sleep: Callable[[RetryCallState], None],
        random_: Callable[[], float] = random.random,
        deadline: CallDeadline | None = None,
    ) -> AsyncRetrying:
        """A tenacity loop applying this policy to one request (within ``deadline``, if any)."""
        stop = stop_after_attempt(self.max_retries + 1) | _StopPastTotalWait(self.max_total_wait)
        if deadline is not None:
            stop = stop | _StopPastDeadline(deadline)
        return AsyncRetrying(
            retry=retry_if_exception(lambda exc: self.is_retryable(exc, idempotent=idempotent)),
            wait=_PolicyWait(self, random_),
            stop=stop,
            sleep=sleep,
            before_sleep=before_sleep,
            reraise=True,
        )


def certainly_not_applied(error: APIError) -> bool:
    """Whether an error answer proves the API did not act on the request.

    429 (refused for rate), 408 (the API gave up waiting for the request) and a 503 that says
    when to come back are sent before any work is done. Other 5xx answers may come after a
    write was partly or wholly applied (a gateway timing out on a slow but successful call).
    """
    status = error.status
    return status in (408, 429) or (status == 503 and error.retry_after is not None)


def retry_reason(error: BaseException) -> str:
    """Short label of a failure for logs, events and ``stats.retries_by_reason``."""
    if isinstance(error, APIError):
        return str(error.status)
    if isinstance(error, APITimeoutError):
        return "timeout"
    if isinstance(error, APIConnectionError):
        return "connection"
    return type(error).__name__


class _PolicyWait(wait_base):
    """``Retry-After`` when the API gave one on a 429/503, else jittered exponential backoff."""

    def __init__(self, policy: RetryPolicy, random_: Callable[[], float]) -> None:
        self.policy = policy
        self.random = random_

    def __call__(self, retry_state: RetryCallState) -> float:
        outcome = retry_state.outcome
        error = outcome.exception() if outcome is not None else None
        if error is not None:
            advised = self.policy.advised_wait(error)
            if advised is not None:
                return advised
        return self.policy.backoff(retry_state.attempt_number, self.random())


class _StopPastTotalWait(stop_base):
    """Stop when the coming wait would bring this call's total waiting past the bound."""

    def __init__(self, max_total_wait: float | None) -> None:
        self.max_total_wait = max_total_wait

    def __call__(self, retry_state: RetryCallState) -> bool:
        if self.max_total_wait is None:
            return False
        return retry_state.idle_for + retry_state.upcoming_sleep > self.max_total_wait


class _StopPastDeadline(stop_base):
    """Stop when the coming wait would end at or past the call's deadline."""

    def __init__(self, deadline: CallDeadline) -> None:
        self.deadline = deadline

    def __call__(self, retry_state: RetryCallState) -> bool:
        if retry_state.upcoming_sleep < self.deadline.remaining():
            return False
        self.deadline.stopped_retry = True
        return True


DEFAULT_RETRY_POLICY: Final = RetryPolicy()

__all__ = [
    "DEFAULT_RETRY_POLICY",
    "DEFAULT_RETRY_STATUSES",
    "IDEMPOTENT_METHODS",
    "RetryPolicy",
    "certainly_not_applied",
    "retry_reason",
]
