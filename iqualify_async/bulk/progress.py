"""Progress of a bulk job: counted outcomes, rate, ETA, and throttled delivery to listeners."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import attrs

from .outcome import Outcome, Status, Summary

__all__ = ["Progress", "ProgressCallback"]


@attrs.frozen
class Progress:
    """A snapshot of a running job.

    ``done`` counts finished items (all four outcomes); ``total`` is the number of input items
    when known (a sized input, or ``total=`` given), else ``None``. ``rate`` is items finished
    per second by this run (journal replays excluded), ``eta`` the seconds left at that rate
    (``None`` while unknown). ``finished`` is true on the last snapshot of a job.
    """

    done: int
    total: int | None
    succeeded: int
    skipped: int
    failed: int
    unprocessed: int
    in_flight: int
    elapsed: float
    rate: float
    eta: float | None
    finished: bool = False

    @property
    def fraction(self) -> float | None:
        """``done / total`` when the total is known."""
        if not self.total:
            return None
        return min(1.0, self.done / self.total)


ProgressCallback = Callable[[Progress], object]


class _Broadcast:
    """Latest-value channel: listeners always get the newest snapshot and never slow the job."""

    def __init__(self) -> None:
        self._latest: Progress | None = None
        self._version = 0
        self._closed = False
        self._changed = asyncio.Event()

    def publish(self, snapshot: Progress) -> None:
        self._latest = snapshot
        self._version += 1
        self._closed = snapshot.finished
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    async def listen(self) -> AsyncIterator[Progress]:
        seen = 0
        while True:
            if self._version > seen and self._latest is not None:
                seen = self._version
                yield self._latest
            elif self._closed:
                return
            else:
                await self._changed.wait()


class Tracker:
    """Counts outcomes and publishes throttled :class:`Progress` snapshots."""

    def __init__(
        self,
        *,
        total: int | None,
        clock: Callable[[], float],
        interval: float,
        callback: ProgressCallback | None,
        on_error: Callable[[Exception], None] | None = None,
    ) -> None:
        self.total = total
        self.on_error = on_error
        self.clock = clock
        self.interval = interval
        self.callback = callback
        self.broadcast = _Broadcast()
        self.counts = dict.fromkeys(Status, 0)
        self.read = 0
        self.worked = 0
        self.from_journal = 0
        self.in_flight = 0
        self.started_at = clock()
        self._next_emit = self.started_at

    @property
    def done(self) -> int:
        return sum(self.counts.values())

    def count(self, outcome: Outcome[Any, Any], *, worked: bool) -> None:
        self.counts[outcome.status] += 1
        if outcome.from_journal:
            self.from_journal += 1
        if worked:
            self.worked += 1
        now = self.clock()
        if now >= self._next_emit:
            self.emit(now)

    def count_unprocessed(self, n: int) -> None:
        """Count ``n`` items that end ``unprocessed`` without being read (a cancelled job)."""
        self.counts[Status.UNPROCESSED] += n

    def emit(self, now: float | None = None, *, finished: bool = False) -> None:
        now = self.clock() if now is None else now
        self._next_emit = now + self.interval
        snapshot = self.snapshot(now, finished=finished)
        self.broadcast.publish(snapshot)
        if self.callback is not None:
            try:
                self.callback(snapshot)
            except Exception as exc:
                if self.on_error is None:
                    raise
                self.callback = None  # called no more: the job is ending on its error
                self.on_error(exc)

    def snapshot(self, now: float, *, finished: bool = False) -> Progress:
        elapsed = max(0.0, now - self.started_at)
        done = self.done
        rate = self.worked / elapsed if elapsed > 0 else 0.0
        eta: float | None = None
        if finished:
            eta = 0.0
        elif self.total is not None and rate > 0:
            eta = max(0, self.total - done) / rate
        c = self.counts
        return Progress(
            done=done,
            total=self.total if not finished else max(done, self.total or 0),
            succeeded=c[Status.SUCCEEDED],
            skipped=c[Status.SKIPPED],
            failed=c[Status.FAILED],
            unprocessed=c[Status.UNPROCESSED],
            in_flight=0 if finished else self.in_flight,
            elapsed=elapsed,
            rate=rate,
            eta=eta,
            finished=finished,
        )

    def summary(self, *, stopped: str | None, cancelled: bool, unread: int | None = 0) -> Summary:
        c = self.counts
        return Summary(
            total=self.done,
            succeeded=c[Status.SUCCEEDED],
            skipped=c[Status.SKIPPED],
            failed=c[Status.FAILED],
            unprocessed=c[Status.UNPROCESSED],
            from_journal=self.from_journal,
            elapsed=max(0.0, self.clock() - self.started_at),
            stopped=stopped,
            cancelled=cancelled,
            unread=unread,
        )
