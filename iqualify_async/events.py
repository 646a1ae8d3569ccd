"""Events a client reports to its ``event_hooks`` (for metrics, tracing, progress).

A hook is a plain callable taking one event; it runs inline, so keep it cheap. An exception
raised by a hook is logged and otherwise ignored.
"""

from __future__ import annotations

import attrs


@attrs.frozen(slots=True)
class RequestStarted:
    """An attempt of a request is about to be sent (``attempt`` counts from 1)."""

    method: str
    path: str
    url: str
    attempt: int


@attrs.frozen(slots=True)
class ResponseReceived:
    """An attempt got an HTTP answer (any status)."""

    method: str
    path: str
    url: str
    status: int
    elapsed: float
    attempt: int


@attrs.frozen(slots=True)
class RequestFailed:
    """An attempt got no HTTP answer (connection error or timeout)."""

    method: str
    path: str
    url: str
    error: BaseException
    elapsed: float
    attempt: int


@attrs.frozen(slots=True)
class RetryScheduled:
    """A failed attempt will be retried after ``wait`` seconds; ``reason`` is e.g. ``"503"``."""

    method: str
    path: str
    attempt: int
    reason: str
    wait: float


@attrs.frozen(slots=True)
class RateLimitChanged:
    """The client's adaptive request rate changed (``rate`` in requests per second)."""

    rate: float
    reason: str


Event = RequestStarted | ResponseReceived | RequestFailed | RetryScheduled | RateLimitChanged
