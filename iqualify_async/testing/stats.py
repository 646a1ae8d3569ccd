"""Counters of everything the fake server did, for tests to read."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

NO_RESPONSE = 0
"""Status recorded when the connection was closed without a response."""


@dataclass
class FakeStats:
    """What the server saw and did.

    ``requests`` counts ``(route, status)`` pairs, route being ``"METHOD /template"`` (or
    ``"METHOD <unmatched>"``) and status ``0`` when the connection was dropped without an answer.
    ``faults`` counts injected faults by kind (``latency``, ``rate_limit``, ``error``, ``reset``,
    ``apply_then_drop``). ``writes`` counts state-changing requests actually applied, by route.
    """

    requests: Counter[tuple[str, int]] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)
    writes: Counter[str] = field(default_factory=Counter)

    @property
    def total_requests(self) -> int:
        return sum(self.requests.values())

    @property
    def by_route(self) -> Counter[str]:
        out: Counter[str] = Counter()
        for (route, _), n in self.requests.items():
            out[route] += n
        return out

    @property
    def by_status(self) -> Counter[int]:
        out: Counter[int] = Counter()
        for (_, status), n in self.requests.items():
            out[status] += n
        return out

    def reset(self) -> None:
        self.requests.clear()
        self.faults.clear()
        self.writes.clear()
