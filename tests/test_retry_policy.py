"""RetryPolicy: validation, backoff arithmetic and which failures are worth another attempt."""

from __future__ import annotations

from typing import Any

import pytest

from iqualify_async import (
    AmbiguousWriteError,
    APIConnectionError,
    APIError,
    APITimeoutError,
    RateLimitError,
    RetryPolicy,
    ServerError,
)
from iqualify_async._retry import certainly_not_applied, retry_reason


def _error(status: int, retry_after: float | None = None) -> APIError:
    cls = RateLimitError if status == 429 else ServerError if status >= 500 else APIError
    return cls(status, method="GET", url="http://127.0.0.1/v1/x", retry_after=retry_after)


def _conn(request_sent: bool | None, cls: type[APIConnectionError] = APIConnectionError) -> Any:
    return cls("boom", method="POST", url="http://127.0.0.1/v1/x", request_sent=request_sent)


def test_defaults_match_the_documented_values() -> None:
    policy = RetryPolicy()
    assert policy.max_retries == 5
    assert (policy.backoff_base, policy.backoff_max) == (0.5, 8.0)
    assert policy.max_retry_after == 60.0
    assert policy.retry_statuses == {408, 429, 500, 502, 503, 504}


def test_backoff_doubles_from_base_and_stops_at_the_cap() -> None:
    policy = RetryPolicy(jitter=0)
    assert [policy.backoff(n) for n in range(1, 8)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0]


def test_jitter_only_shortens_the_wait_by_at_most_its_share() -> None:
    policy = RetryPolicy(jitter=0.25)
    assert policy.backoff(3, rand=0.0) == 2.0
    assert policy.backoff(3, rand=0.999) == pytest.approx(2.0 * (1 - 0.25 * 0.999))
    assert all(1.5 <= policy.backoff(3, rand=r / 10) <= 2.0 for r in range(10))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_retries": -1},
        {"max_retries": 1.5},
        {"max_retries": True},
        {"backoff_base": -0.1},
        {"jitter": 1.5},
        {"max_retry_after": -1},
        {"max_total_wait": -5},
    ],
)
def test_invalid_settings_are_refused_naming_the_field(kwargs: dict[str, Any]) -> None:
    name = next(iter(kwargs))
    with pytest.raises(ValueError, match=name):
        RetryPolicy(**kwargs)


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_reads_retry_every_listed_status(status: int) -> None:
    assert RetryPolicy().is_retryable(_error(status), idempotent=True)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422, 501])
def test_client_errors_are_never_retried(status: int) -> None:
    assert not RetryPolicy().is_retryable(_error(status), idempotent=True)


def test_connection_errors_and_timeouts_are_retried_for_reads() -> None:
    policy = RetryPolicy()
    assert policy.is_retryable(_conn(True), idempotent=True)
    assert policy.is_retryable(_conn(None, APITimeoutError), idempotent=True)


def test_writes_retry_only_what_certainly_was_not_applied() -> None:
    policy = RetryPolicy()
    assert policy.is_retryable(_error(429), idempotent=False)
    assert policy.is_retryable(_error(408), idempotent=False)
    assert policy.is_retryable(_error(503, retry_after=2), idempotent=False)
    assert policy.is_retryable(_conn(False), idempotent=False)
    assert not policy.is_retryable(_error(503), idempotent=False)
    for status in (500, 502, 504):
        assert not policy.is_retryable(_error(status), idempotent=False)
    assert not policy.is_retryable(_conn(True), idempotent=False)
    assert not policy.is_retryable(_conn(None, APITimeoutError), idempotent=False)
    assert not policy.is_retryable(AmbiguousWriteError(_conn(True)), idempotent=True)


def test_retry_after_beyond_the_cap_is_not_waited_for() -> None:
    policy = RetryPolicy(max_retry_after=30)
    assert policy.is_retryable(_error(429, retry_after=30), idempotent=True)
    assert not policy.is_retryable(_error(429, retry_after=31), idempotent=True)
    assert not policy.is_retryable(_error(503, retry_after=300), idempotent=True)


def test_retry_after_is_only_advice_on_429_and_503() -> None:
    policy = RetryPolicy()
    assert policy.advised_wait(_error(429, retry_after=3)) == 3
    assert policy.advised_wait(_error(503, retry_after=4)) == 4
    assert policy.advised_wait(_error(500, retry_after=5)) is None
    assert policy.advised_wait(_conn(True)) is None


def test_certainly_not_applied_and_reasons() -> None:
    assert certainly_not_applied(_error(429))
    assert not certainly_not_applied(_error(500))
    assert retry_reason(_error(503)) == "503"
    assert retry_reason(_conn(None, APITimeoutError)) == "timeout"
    assert retry_reason(_conn(True)) == "connection"
