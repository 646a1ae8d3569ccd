"""Client-wide limiter: requests in flight, requests per second, and adaptation to 429 answers.

The rate is a token bucket refilled lazily (no background task). Tasks that find it empty
queue in arrival order; only the task at the head sleeps, until the next token or the end of
a pause, then hands the head over. A task cancelled while queued takes nothing with it.

Adaptation: a 429 multiplies the rate by ``decrease_factor`` and pauses the whole client for
the advised ``Retry-After``. A 429 to a request sent before the last decrease is a late echo
of the same overload and changes nothing, so one wave of 429s slows the client once.

Recovery has two speeds. A 429 that follows successes at the current rate tells where the
server's limit lies: the *target* becomes 90% of the rate that met the 429. A 429 with no success since the last decrease (a storm: the server refuses
everything for a while) says nothing about the limit and leaves the target alone. Below the
target the rate doubles every ``recovery_time`` of successful answers (each success adds
``ln 2 / recovery_time``), so the end of a storm is followed by full speed within seconds.
Above it the rate probes upward: it grows by ``increase`` of itself per second (each success
adds ``increase`` requests/s), a step that doubles every ``recovery_time`` without a 429, so a limit that was raised (or a
brownout that lowered the target) is found again within seconds too.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, Final

import attrs

from ._stats import ClientStats


def _check_positive_or_none(instance: Any, attribute: Any, value: float | None) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ValueError(f"RateLimit.{attribute.name} must be a positive number or None")


def _check_positive(instance: Any, attribute: Any, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ValueError(f"RateLimit.{attribute.name} must be a positive number")


def _check_store_error(instance: Any, attribute: Any, value: str) -> None:
    if value not in ("fallback", "raise"):
        raise ValueError(f"RateLimit.on_store_error must be 'fallback' or 'raise', got {value!r}")


def _safe_url(url: str | None) -> str | None:
    from ._shared_limit import safe_url

    return None if url is None else safe_url(url)


def _check_positive_int_or_none(instance: Any, attribute: Any, value: int | None) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"RateLimit.{attribute.name} must be a positive integer or None")


def _check_factor(instance: Any, attribute: Any, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1:
        raise ValueError(f"RateLimit.decrease_factor must be between 0 and 1, got {value!r}")


def _check_non_negative(instance: Any, attribute: Any, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ValueError(f"RateLimit.{attribute.name} must be a non-negative number")


@attrs.frozen(slots=True)
class RateLimit:
    """Client-side limits, shared by every call of one client.

    - ``max_concurrency`` (10): requests in flight at once; ``None`` for no bound (the
      connection pool, ``max_connections``, still bounds it).
    - ``requests_per_second`` (10): the ceiling of the request rate; ``None`` for no bound.
    - ``burst`` (20): requests that may start at once after a quiet spell.
    - ``adaptive`` (on): on a 429 answer the rate is multiplied by ``decrease_factor`` (0.6,
      never below ``min_rate``, 0.5/s) and all requests pause for the ``Retry-After`` advice
      (``pause_without_retry_after``, 1 s, when the API gives none). While requests succeed
      the rate grows back: it doubles every ``recovery_time`` (1 s) up to 90% of the rate that
      met the last 429 (the rate before a whole storm of 429s), then probes upward by
      ``increase`` (5%) of itself per second, a step that doubles every ``recovery_time``
      without a 429; never above ``requests_per_second``. ``increase=0`` keeps the lowered
      rate.

    Shared by several processes (``shared="redis://host:6379/0"``, needs the ``redis`` extra):
    the budget, the adaptive rate and any pause live in Redis under ``name`` (default: the
    base URL and a digest of the API key); ``max_concurrency`` stays per process, and
    ``shared_concurrency`` caps the requests in flight across all of them (slots held by a
    process that died are freed after ``slot_ttl`` seconds, 90); a new budget starts at a
    sixteenth of ``requests_per_second`` (at least 10/s) and doubles with successes until the
    first 429. While Redis is unreachable each process limits itself to
    ``requests_per_second / expected_processes``
    (one WARNING, back to shared when Redis is), or raises
    :class:`~iqualify_async.SharedLimitError` with ``on_store_error="raise"``.
    """

    max_concurrency: int | None = attrs.field(default=10, validator=_check_positive_int_or_none)
    requests_per_second: float | None = attrs.field(default=10.0, validator=_check_positive_or_none)
    burst: int = attrs.field(default=20, validator=_check_positive_int_or_none)
    adaptive: bool = True
    decrease_factor: float = attrs.field(default=0.6, validator=_check_factor)
    increase: float = attrs.field(default=0.05, validator=_check_non_negative)
    min_rate: float = attrs.field(default=0.5, validator=_check_positive_or_none)
    pause_without_retry_after: float = attrs.field(default=1.0, validator=_check_non_negative)
    recovery_time: float = attrs.field(default=1.0, validator=_check_positive)
    shared: str | None = attrs.field(default=None, repr=lambda url: repr(_safe_url(url)))
    name: str | None = None
    expected_processes: int = attrs.field(default=1, validator=_check_positive_int_or_none)
    on_store_error: str = attrs.field(default="fallback", validator=_check_store_error)
    shared_concurrency: int | None = attrs.field(
        default=None, validator=_check_positive_int_or_none
    )
    slot_ttl: float = attrs.field(default=90.0, validator=_check_positive)

    def __attrs_post_init__(self) -> None:
        if self.shared is not None and self.requests_per_second is None:
            raise ValueError("RateLimit.shared needs requests_per_second: the budget to share")
        if self.shared_concurrency is not None and self.shared is None:
            raise ValueError("RateLimit.shared_concurrency needs shared=: a Redis URL")


DEFAULT_RATE_LIMIT: Final = RateLimit()

RateListener = Callable[[float, str], None]

_TARGET_SHARE: Final = 0.9
"""Fast recovery after a slowdown goes back to this share of the rate that met the 429."""

_MAX_DOUBLINGS: Final = 20.0

_ALMOST_ONE: Final = 1.0 - 1e-9  # a token refilled by float arithmetic may fall short by a hair


class AdaptiveLimiter:
    """Applies a :class:`RateLimit`: ``await acquire()`` before sending, ``release(...)`` after."""

    def __init__(
        self,
        settings: RateLimit,
        *,
        on_rate_change: RateListener | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        stats: ClientStats | None = None,
    ) -> None:
        self.settings = settings
        self.stats = stats if stats is not None else ClientStats()
        self._clock = clock
        self._sleep = sleep
        self._on_rate_change = on_rate_change
        concurrency = settings.max_concurrency
        self._slots = asyncio.Semaphore(concurrency) if concurrency is not None else None
        ceiling = settings.requests_per_second
        self._ceiling = float(ceiling) if ceiling is not None else 0.0
        self._rate = self._ceiling
        self._tokens = float(settings.burst)
        self._capacity = float(settings.burst)
        self._updated = clock()
        self._paused_until = float("-inf")
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._epoch = 0
        self._increase_step = 0.0
        self._target = self._ceiling
        self._succeeded_in_epoch = False
        self._recovery_time = settings.recovery_time
        self._recovery_step = math.log(2.0) / settings.recovery_time
        self._probing_since: float | None = None

    @property
    def rate(self) -> float | None:
        """The current request rate (requests per second), ``None`` when unbounded."""
        return self._rate if self._ceiling else None

    @property
    def paused_until(self) -> float:
        """Clock time until which no request starts (in the past when not paused)."""
        return self._paused_until

    @property
    def in_flight(self) -> int:
        """Requests holding a concurrency slot now."""
        slots = self._slots
        if slots is None or self.settings.max_concurrency is None:
            return 0
        return self.settings.max_concurrency - slots._value

    @property
    def queued(self) -> int:
        """Tasks waiting for a token."""
        return len(self._waiters)

    async def acquire(self) -> int:
        """Wait for a slot and a token; returns the epoch to give back to :meth:`release`."""
        slots = self._slots
        if slots is not None:
            await slots.acquire()
        if self._ceiling:
            try:
                if self._waiters or not self._take():
                    await self._wait_for_token()
            except BaseException:
                if slots is not None:
                    slots.release()
                raise
        return self._epoch

    def release(self, status: int, epoch: int, retry_after: float | None = None) -> None:
        """Give back the slot; ``status`` is the HTTP answer (0 for none) of the request."""
        if self._slots is not None:
            self._slots.release()
        if not self._ceiling or not self.settings.adaptive:
            return
        if status == 429:
            self.on_rate_limited(epoch, retry_after)
        elif 0 < status < 429:
            if epoch == self._epoch:
                self._succeeded_in_epoch = True
            if self._rate < self._ceiling and self._increase_step > 0:
                self._recover()

    def _recover(self) -> None:
        """One success: fast growth up to the target, then probing upward from it."""
        rate = self._rate
        if rate < self._target:
            rate = min(self._target, rate + self._recovery_step)
        else:
            now = self._clock()
            if self._probing_since is None:
                self._probing_since = now
            doublings = min(_MAX_DOUBLINGS, (now - self._probing_since) / self._recovery_time)
            rate += self._increase_step * 2.0**doublings
        self._rate = rate = min(self._ceiling, rate)
        self._capacity = self._capacity_for(rate)
        if rate >= self._ceiling and self._on_rate_change is not None:
            self._on_rate_change(rate, "recovered")

    def on_rate_limited(self, epoch: int, retry_after: float | None) -> None:
        """React to a 429 on a request sent in ``epoch``: slow down and pause, once per wave."""
        if epoch != self._epoch:
            return
        self._epoch += 1
        self.stats.rate_decreases += 1
        settings = self.settings
        before = self._rate
        self._rate = max(min(settings.min_rate, self._ceiling), before * settings.decrease_factor)
        if self._succeeded_in_epoch:  # a limit found, not a storm: recover to just below it
            self._target = _TARGET_SHARE * before
        self._succeeded_in_epoch = False
        self._probing_since = None
        self._increase_step = settings.increase
        self._capacity = self._capacity_for(self._rate)
        pause = settings.pause_without_retry_after if retry_after is None else retry_after
        if not pause >= 0.0:  # NaN or negative advice: no pause beyond the slowdown
            pause = 0.0
        now = self._clock()
        self._paused_until = max(self._paused_until, now + pause)
        self._tokens = 0.0
        self._updated = self._paused_until
        if self._on_rate_change is not None:
            self._on_rate_change(self._rate, "429")

    def _capacity_for(self, rate: float) -> float:
        return max(1.0, self.settings.burst * rate / self._ceiling)

    def _take(self) -> bool:
        """Take a token if one is ready now."""
        now = self._clock()
        if now < self._paused_until:
            return False
        tokens = self._tokens + (now - self._updated) * self._rate
        if tokens > self._capacity:
            tokens = self._capacity
        self._updated = now
        if tokens > _ALMOST_ONE:
            self._tokens = tokens - 1.0
            return True
        self._tokens = tokens
        return False

    def _delay(self) -> float:
        """Seconds until a token can be taken (after a failed :meth:`_take`)."""
        now = self._clock()
        if now < self._paused_until:
            return self._paused_until - now
        return max((1.0 - self._tokens) / self._rate, 0.0)

    async def _wait_for_token(self) -> None:
        waiters = self._waiters
        me: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        waiters.append(me)
        started = self._clock()
        try:
            if waiters[0] is not me:
                await me  # resolved when this task reaches the head of the queue
            while not self._take():
                await self._sleep(self._delay())
        finally:
            if waiters and waiters[0] is me:
                waiters.popleft()
                if waiters and not waiters[0].done():
                    waiters[0].set_result(None)
            else:
                waiters.remove(me)
            stats = self.stats
            stats.throttled += 1
            stats.wait_seconds += self._clock() - started


__all__ = ["DEFAULT_RATE_LIMIT", "AdaptiveLimiter", "RateLimit"]
