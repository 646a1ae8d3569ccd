"""Fault injection settings and the machinery that applies them (token bucket, seeded dice)."""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Faults:
    """What the fake server does wrong, on purpose. Mutable while the server runs.

    - ``latency_ms`` + up to ``jitter_ms`` of extra delay before each request is handled.
    - ``rate_limit`` requests per second with a bucket of ``burst`` (default: one second's worth);
      over it the answer is 429 ``TooManyRequestsError`` with ``Retry-After`` (integer seconds,
      at least 1) unless ``retry_after`` is false.
    - ``error_rate``: share of requests answered with a status drawn from ``error_statuses``.
    - ``reset_rate``: share of requests whose connection is closed before they are handled.
    - ``apply_then_drop_rate``: share of writes that are applied, then the connection is closed
      before the response is sent.
    - ``flat_errors``: error answers, and the failed items of a 207, are ``{"name", "details"}``
      (the shape of the vendor's examples) instead of ``{"error": {"name", "details"}}``.
    - ``seed`` makes the random choices repeatable.
    """

    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    rate_limit: float | None = None
    burst: int | None = None
    retry_after: bool = True
    error_rate: float = 0.0
    error_statuses: tuple[int, ...] = (500, 502, 503)
    reset_rate: float = 0.0
    apply_then_drop_rate: float = 0.0
    flat_errors: bool = False
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("error_rate", "reset_rate", "apply_then_drop_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"Faults.{name} must be between 0 and 1, got {value!r}")
        if self.latency_ms < 0 or self.jitter_ms < 0:
            raise ValueError("Faults.latency_ms and Faults.jitter_ms must not be negative")
        if self.rate_limit is not None and self.rate_limit <= 0:
            raise ValueError(f"Faults.rate_limit must be positive, got {self.rate_limit!r}")
        if self.burst is not None and self.burst < 1:
            raise ValueError(f"Faults.burst must be at least 1, got {self.burst!r}")
        bad = [s for s in self.error_statuses if not 500 <= s <= 599]
        if bad or not self.error_statuses:
            raise ValueError(f"Faults.error_statuses must be non-empty 5xx codes, got {bad!r}")

    @property
    def active(self) -> bool:
        return bool(
            self.latency_ms
            or self.jitter_ms
            or self.rate_limit is not None
            or self.error_rate
            or self.reset_rate
            or self.apply_then_drop_rate
        )


@dataclass
class TokenBucket:
    """Token bucket refilled continuously at ``rate`` tokens per second, capped at ``capacity``."""

    clock: Callable[[], float]
    rate: float = 0.0
    capacity: float = 0.0
    tokens: float = 0.0
    updated: float = field(default=0.0)

    def configure(self, rate: float, capacity: float) -> None:
        if (rate, capacity) != (self.rate, self.capacity):
            self.rate, self.capacity = rate, capacity
            self.tokens = capacity
            self.updated = self.clock()

    def take(self) -> float:
        """Take one token. Returns 0.0 if granted, else the seconds until one is available."""
        now = self.clock()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / self.rate


class FaultDice:
    """Seeded random choices for one ``Faults`` configuration."""

    def __init__(self, faults: Faults) -> None:
        self.rng = random.Random(faults.seed)

    def hit(self, rate: float) -> bool:
        return rate > 0.0 and self.rng.random() < rate

    def latency_seconds(self, faults: Faults) -> float:
        jitter = self.rng.uniform(0.0, faults.jitter_ms) if faults.jitter_ms else 0.0
        return (faults.latency_ms + jitter) / 1000.0

    def error_status(self, faults: Faults) -> int:
        return self.rng.choice(faults.error_statuses)


def retry_after_header(wait_seconds: float) -> str:
    """``Retry-After`` as whole seconds, never below 1."""
    return str(max(1, math.ceil(wait_seconds)))
