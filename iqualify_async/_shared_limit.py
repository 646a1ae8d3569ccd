"""A rate limit shared through Redis by every process that uses one API key.

The budget (a token bucket), the adaptive rate and any ``Retry-After`` pause live in one Redis
hash, changed only by two small Lua scripts, so every change is atomic and seen by every
process at its next round trip. Tokens are taken in small leases (a few at a time, valid
for a fraction of a second), so a busy process does not pay a round trip per request.
Successes are counted locally and reported with the next lease; a 429 is reported at once.
The in-flight cap stays per process. A new budget starts low (:func:`cold_start_rate`) and
doubles with successes until the first 429.

When Redis cannot be reached the limiter falls back to a local :class:`AdaptiveLimiter` at
``requests_per_second / expected_processes``, logs one WARNING, and tries Redis again every
second; ``on_store_error="raise"`` raises :class:`SharedLimitError` instead.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Final

import attrs
from yarl import URL

from ._shared_lua import LIMITED_SCRIPT, SLOT_SCRIPT, TAKE_SCRIPT
from ._stats import ClientStats
from .errors import ConfigurationError, SharedLimitError

if TYPE_CHECKING:
    from ._ratelimit import AdaptiveLimiter, RateLimit, RateListener

logger: Final = logging.getLogger("iqualify_async")

KEY_PREFIX: Final = "iqualify-async:rate:"
LEASE_SECONDS: Final = 0.05
"""A lease holds at most this many seconds' worth of the shared rate (at least one token)."""
LEASE_MAX: Final = 5
"""... and never more than this many tokens."""
LEASE_TTL: Final = 0.25
"""Leased tokens not used within this many seconds are dropped (the budget stays honest)."""
RECHECK_SECONDS: Final = 1.0
"""While Redis is unreachable it is tried again this often."""
STORE_TIMEOUT: Final = 0.25
"""Seconds a Redis connection or command may take before the store counts as unreachable."""
_MAX_SLEEP: Final = 0.5
_STATE_TTL_MS: Final = 3_600_000

COLD_START = 1 / 16
"""A new budget starts at this fraction of ``requests_per_second`` (1 turns slow start off) ..."""
COLD_START_FLOOR = 10.0
"""... never below this many requests/s (nor above ``requests_per_second``)."""

_SLOT_POLL: Final = (0.005, 0.1)
"""A process waiting for a shared slot polls Redis from every 5 ms up to every 100 ms."""


def default_name(base_url: str, api_key: str) -> str:
    """The shared limit's name: the base URL and a digest of the key, never the key."""
    return f"{base_url}#{hashlib.sha256(api_key.encode()).hexdigest()[:16]}"


def cold_start_rate(ceiling: float) -> float:
    """The rate a new budget starts at; it doubles every ``recovery_time`` of successes from there.

    Several processes starting together at the ceiling would each meet the server's limit in a
    wave of 429s per halving on the way down; starting low and doubling finds it with one.
    """
    return min(ceiling, max(COLD_START_FLOOR, ceiling * COLD_START))


def safe_url(url: str) -> str:
    """``url`` without its password, for reprs and messages."""
    try:
        parsed = URL(url)
    except (TypeError, ValueError):
        return "<invalid URL>"
    return str(parsed.with_password(None)) if parsed.password else url


def check_shared_url(url: str) -> None:
    """A clear error now for a URL or an environment that cannot work."""
    parsed = URL(url)
    if parsed.scheme not in ("redis", "rediss", "unix"):
        raise ConfigurationError(f"RateLimit.shared must be a redis:// URL, got {safe_url(url)!r}")
    try:
        import redis.asyncio  # noqa: F401
    except ImportError:
        raise ConfigurationError(
            "RateLimit(shared=...) needs redis-py: pip install 'iqualify-async[redis]'"
        ) from None


class SharedLimiter:
    """Applies a :class:`RateLimit` with ``shared=``; the same interface as AdaptiveLimiter."""

    def __init__(
        self,
        settings: RateLimit,
        *,
        name: str,
        on_rate_change: RateListener | None = None,
        stats: ClientStats | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        from ._ratelimit import AdaptiveLimiter

        assert settings.shared is not None and settings.requests_per_second is not None
        self.settings = settings
        self.stats = stats if stats is not None else ClientStats()
        self.key = KEY_PREFIX + name
        self._url = settings.shared
        self._clock = clock
        self._sleep = sleep
        self._on_rate_change = on_rate_change
        concurrency = settings.max_concurrency
        self._slots = asyncio.Semaphore(concurrency) if concurrency is not None else None
        self._ceiling = float(settings.requests_per_second)
        self._rate = self._ceiling
        self._start = cold_start_rate(self._ceiling)
        local = attrs.evolve(
            settings,
            max_concurrency=None,
            requests_per_second=self._ceiling / settings.expected_processes,
            shared=None,
            shared_concurrency=None,
        )
        self._fallback: AdaptiveLimiter = AdaptiveLimiter(
            local, on_rate_change=on_rate_change, clock=clock, sleep=sleep, stats=self.stats
        )
        self._lock = asyncio.Lock()
        self._leases: deque[list[float]] = deque()  # [epoch, tokens left, expiry] each
        self._prefetch: asyncio.Task[None] | None = None
        self._budget_to_spare = False  # the last lease got all it asked for
        self._waiting = 0
        self._successes = 0
        self._success_epoch = 0
        self._down_until = float("-inf")
        self._outage = False
        self._redis: Any = None
        self._scripts: tuple[Any, Any, Any] | None = None
        self._reports: set[asyncio.Task[None]] = set()
        self._cap = settings.shared_concurrency
        self._slots_key = self.key + ":slots"
        self._held: list[str | None] = []  # shared slots held (None: a fallback slot)
        local_cap = math.ceil((self._cap or 1) / settings.expected_processes)
        self._fallback_slots = asyncio.Semaphore(local_cap)
        self.round_trips = 0
        """Redis calls made so far (leases and 429 reports)."""

    # -- what the client reads ----------------------------------------------------------

    @property
    def rate(self) -> float | None:
        """The shared rate last seen (the local fallback's while Redis is unreachable)."""
        return self._fallback.rate if self._outage else self._rate

    @property
    def shared(self) -> bool:
        """Whether the limit is taken from Redis now (``False`` while falling back)."""
        return not self._outage

    @property
    def in_flight(self) -> int:
        slots, cap = self._slots, self.settings.max_concurrency
        return 0 if slots is None or cap is None else cap - slots._value

    # -- acquire / release ----------------------------------------------------------------

    async def acquire(self) -> int:
        """Wait for a slot and a token; returns the epoch to give back to :meth:`release`.

        Epochs of tokens from the local fallback are negative (``-1 - epoch``).
        """
        slots = self._slots
        if slots is not None:
            await slots.acquire()
        try:
            if self._cap is not None:
                self._held.append(await self._shared_slot())
            try:
                return await self._token()
            except BaseException:
                self._free_slot()
                raise
        except BaseException:
            if slots is not None:
                slots.release()
            raise

    def release(self, status: int, epoch: int, retry_after: float | None = None) -> None:
        """Give back the slot; ``status`` is the HTTP answer (0 for none) of the request."""
        if self._slots is not None:
            self._slots.release()
        self._free_slot()
        if epoch < 0:
            self._fallback.release(status, -1 - epoch, retry_after)
            return
        if not self.settings.adaptive:
            return
        if status == 429:
            self._leases.clear()  # this process stops at once; the others at their next lease
            pause = self.settings.pause_without_retry_after if retry_after is None else retry_after
            self._report(self._limited(epoch, pause if pause >= 0 else 0.0))
        elif 0 < status < 429:
            if epoch != self._success_epoch:
                self._success_epoch, self._successes = epoch, 0
            self._successes += 1

    async def _shared_slot(self) -> str | None:
        """Hold one of the ``shared_concurrency`` slots (``None``: a local one, Redis being down)."""
        cap = self._cap
        assert cap is not None
        delay = _SLOT_POLL[0]
        while True:
            if self._clock() < self._down_until:
                await self._fallback_slots.acquire()
                return None
            holder = uuid.uuid4().hex
            self.round_trips += 1
            failure: Exception | None = None
            try:
                got = await self._store()[2](
                    keys=[self._slots_key], args=[cap, self.settings.slot_ttl, holder]
                )
            except Exception as exc:
                failure = exc
            if failure is not None:
                self._store_failed(failure)
                continue
            self._store_back()
            if int(got):
                return holder
            await self._sleep(delay)
            delay = min(2 * delay, _SLOT_POLL[1])

    def _free_slot(self) -> None:
        if self._cap is None or not self._held:
            return
        holder = self._held.pop()  # slots are interchangeable: any of ours will do
        if holder is None:
            self._fallback_slots.release()
        else:
            self._report(self._remove_holder(holder))

    async def _remove_holder(self, holder: str) -> None:
        self.round_trips += 1
        try:
            await self._redis.zrem(self._slots_key, holder)
        except Exception:  # its lease expires after slot_ttl anyway
            logger.debug("could not free a shared slot; it expires on its own", exc_info=True)

    async def aclose(self) -> None:
        """Wait for pending reports and close the Redis connection."""
        if self._prefetch is not None:
            await asyncio.gather(self._prefetch, return_exceptions=True)
        if self._reports:
            await asyncio.gather(*self._reports, return_exceptions=True)
        client, self._redis, self._scripts = self._redis, None, None
        if client is not None:
            await client.aclose()

    # -- internals ------------------------------------------------------------------------

    async def _token(self) -> int:
        self._waiting += 1
        started = self._clock()
        waited = False
        try:
            while True:
                epoch = self._take_leased()
                if epoch is not None:
                    self._maybe_prefetch()
                    return epoch
                if self._clock() < self._down_until:
                    return -1 - await self._fallback.acquire()
                wait = await self._lease()
                if wait > 0:
                    waited = True
                    await self._sleep(min(wait, _MAX_SLEEP))
        finally:
            self._waiting -= 1
            if waited:
                self.stats.throttled += 1
                self.stats.wait_seconds += self._clock() - started

    def _take_leased(self) -> int | None:
        """A token from the leases in hand (their epoch), or ``None``."""
        now = self._clock()
        leases = self._leases
        while leases:
            lease = leases[0]
            if lease[2] <= now or lease[1] < 1:
                leases.popleft()
                continue
            lease[1] -= 1
            return int(lease[0])
        return None

    def _in_hand(self) -> int:
        now = self._clock()
        return sum(int(lease[1]) for lease in self._leases if lease[2] > now)

    def _maybe_prefetch(self) -> None:
        """Lease more in the background when the tokens in hand will not serve who waits.

        Only while the budget has tokens to spare: when it is the limit, waiting tasks lease
        in turn and sleep until the next token, with no extra round trips.
        """
        if (
            self._budget_to_spare
            and self._prefetch is None
            and not self._outage
            and self._waiting > self._in_hand()
        ):
            self._prefetch = asyncio.ensure_future(self._prefetch_lease())

    async def _prefetch_lease(self) -> None:
        try:
            await self._lease(prefetch=True)
        except SharedLimitError:
            pass  # the next call that needs a token raises it
        finally:
            self._prefetch = None

    async def _lease(self, *, prefetch: bool = False) -> float:
        """Take a lease of tokens from Redis; returns how long to wait when none was granted."""
        async with self._lock:
            in_hand = self._in_hand()
            if in_hand and (not prefetch or in_hand >= self._waiting):
                return 0.0
            settings = self.settings
            lease_max = max(
                1, min(settings.burst, LEASE_MAX, math.floor(self._rate * LEASE_SECONDS))
            )
            want = max(1, min(self._waiting, lease_max))
            successes, self._successes = self._successes, 0
            failure: Exception | None = None
            self.round_trips += 1
            try:
                take = self._store()[0]
                granted, wait, epoch, rate = await take(
                    keys=[self.key],
                    args=[
                        self._ceiling,
                        settings.burst,
                        _STATE_TTL_MS,
                        want,
                        successes,
                        self._success_epoch,
                        settings.increase,
                        settings.recovery_time,
                        self._start,
                    ],
                )
            except Exception as exc:  # any failure of the store: never hang, never lose a call
                failure = exc
            if failure is not None:
                self._store_failed(failure)  # raised here, with no store error chained
                return 0.0
            self._store_back()
            self._seen_rate(float(rate))
            self._budget_to_spare = int(granted) >= want
            if int(granted) > 0:
                self._leases.append([int(epoch), int(granted), self._clock() + LEASE_TTL])
                return 0.0
            return max(float(wait), 0.001)

    async def _limited(self, epoch: int, pause: float) -> None:
        settings = self.settings
        failure: Exception | None = None
        self.round_trips += 1
        try:
            limited = self._store()[1]
            applied, rate, _ = await limited(
                keys=[self.key],
                args=[
                    self._ceiling,
                    settings.burst,
                    _STATE_TTL_MS,
                    epoch,
                    pause,
                    settings.decrease_factor,
                    settings.min_rate,
                    self._successes if self._success_epoch == epoch else 0,
                    self._start,
                ],
            )
        except Exception as exc:
            failure = exc
        if failure is not None:
            self._store_failed(failure, raising=False)
            return
        self._rate = float(rate)
        if int(applied):
            self.stats.rate_decreases += 1
            if self._on_rate_change is not None:
                self._on_rate_change(self._rate, "429")

    def _report(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self._reports.add(task)
        task.add_done_callback(self._reports.discard)

    def _store(self) -> tuple[Any, Any, Any]:
        if self._scripts is None:
            import redis.asyncio
            from redis.asyncio.retry import Retry
            from redis.backoff import NoBackoff

            self._redis = redis.asyncio.Redis.from_url(
                self._url,
                socket_timeout=STORE_TIMEOUT,
                socket_connect_timeout=STORE_TIMEOUT,
                retry=Retry(NoBackoff(), 0),
            )
            self._scripts = (
                self._redis.register_script(TAKE_SCRIPT),
                self._redis.register_script(LIMITED_SCRIPT),
                self._redis.register_script(SLOT_SCRIPT),
            )
        return self._scripts

    def _store_failed(self, exc: BaseException, *, raising: bool = True) -> None:
        reason = f"{type(exc).__name__}: {exc}"
        where = safe_url(self._url)
        if self.settings.on_store_error == "raise" and raising:
            raise SharedLimitError(f"shared rate limit store {where} unreachable ({reason})")
        self._down_until = self._clock() + RECHECK_SECONDS
        if not self._outage:
            self._outage = True
            logger.warning(
                "shared rate limit: %s unreachable (%s); limiting this process alone at "
                "%.2f requests/s until it is back",
                where,
                reason,
                self._fallback.rate or 0.0,
            )

    def _store_back(self) -> None:
        if self._outage:
            self._outage = False
            logger.info("shared rate limit: %s reachable again", safe_url(self._url))

    def _seen_rate(self, rate: float) -> None:
        before, self._rate = self._rate, rate
        if rate >= self._ceiling > before and self._on_rate_change is not None:
            self._on_rate_change(rate, "recovered")


__all__ = ["SharedLimiter", "check_shared_url", "default_name", "safe_url"]
