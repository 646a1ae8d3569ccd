"""Counters a client keeps about its own traffic (``Client.stats``)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import attrs


@attrs.define(slots=True)
class ClientStats:
    """What a client has done so far. Counters only grow; read them at any time."""

    requests: int = 0
    """Attempts sent, retries included."""
    responses_by_status: Counter[int] = attrs.field(factory=Counter)
    connection_errors: int = 0
    retries_by_reason: Counter[str] = attrs.field(factory=Counter)
    rate_limited: int = 0
    """429 answers received."""
    wait_seconds: float = 0.0
    """Time spent waiting, summed over requests: retry backoff and rate-limiter waits."""
    ambiguous_writes: int = 0
    """Writes that failed without telling whether they were applied (``AmbiguousWriteError``)."""
    throttled: int = 0
    """Attempts that had to wait for the client's rate limiter."""
    rate_decreases: int = 0
    """Times the adaptive rate limiter slowed down after a 429."""

    @property
    def retries(self) -> int:
        return sum(self.retries_by_reason.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "responses_by_status": {str(k): v for k, v in sorted(self.responses_by_status.items())},
            "connection_errors": self.connection_errors,
            "retries": self.retries,
            "retries_by_reason": dict(sorted(self.retries_by_reason.items())),
            "rate_limited": self.rate_limited,
            "wait_seconds": round(self.wait_seconds, 3),
            "ambiguous_writes": self.ambiguous_writes,
            "throttled": self.throttled,
            "rate_decreases": self.rate_decreases,
        }
