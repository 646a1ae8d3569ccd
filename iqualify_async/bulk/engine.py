"""The fan-out engine: an async function over a stream of items, every item accounted for."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import itertools
import logging
import os
import time
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Generator,
    Iterable,
    Iterator,
    Sized,
)
from typing import TYPE_CHECKING, Any, Generic, TypeVar, Union

import attrs

from ..errors import AmbiguousWriteError
from .errors import LedgerError
from .journal import Journal, JournalEntry
from .keys import default_key
from .ledger import LedgerWriter
from .outcome import ErrorInfo, Outcome, Skip, Skipped, Status, Summary
from .progress import Progress, ProgressCallback, Tracker
from .store import Busy, JournalStore, open_store

if TYPE_CHECKING:
    from .journal_pg import PostgresJournal

__all__ = ["Job", "run"]

I = TypeVar("I")  # noqa: E741 - the conventional name for "item"
R = TypeVar("R")

JournalArg = Union[Journal, "PostgresJournal", str, os.PathLike[str], None]

logger = logging.getLogger("iqualify_async.bulk")

_MAX_AMBIGUOUS_ATTEMPTS = 3
_NEEDS_VERIFY = "may have been applied by an earlier attempt; pass verify= to check it"
_NOT_STARTED = "cancelled before it was started"
_JOB_FAILED = "not started: the job stopped on an error of its own ({})"
_TAKEN_OVER = "not started: another worker took it over (this worker's claim had expired)"
_NO_ITEM = object()
_DEFAULT_POLL = 0.2


@attrs.frozen
class _End:
    error: BaseException | None = None


@attrs.define(slots=True)
class _Slot(Generic[I, R]):
    """An item read from the input and not yet handed to the consumer."""

    index: int
    key: str
    item: I
    entry: JournalEntry | None = None
    outcome: Outcome[I, R] | None = None
    busy: bool = False  # held by another worker of a shared journal: looked at again later


class Job(Generic[I, R]):
    """A bulk job created by :func:`run`. It starts when first iterated or awaited.

    ``async for outcome in job`` yields every item's :class:`Outcome` as it completes;
    ``await job`` (or ``await job.wait(ledger="out.csv")``) runs it to the end and returns the
    :class:`Summary`. A job runs once: iterate it or await it, not both at the same time.

    Stopping: :meth:`stop` (and a failure threshold) stops taking new items, lets calls in flight
    finish, and reports every remaining input item ``unprocessed``. Cancelling the task that
    iterates or awaits the job cancels the calls in flight at once: they end ``unprocessed``
    (still ``started`` in the journal, so a re-run verifies them) and the cancellation
    propagates. Breaking out of ``async for`` early cancels the job the same way; use
    ``async with job:`` to have that happen right away.

    Items not yet read from the input when the job is cancelled: when the input is a sized
    collection (a list, tuple, range, ...), reading the rest has no side effects, so each of them
    ends ``unprocessed`` too: they are counted in the summary, :meth:`unread_outcomes` yields their
    outcomes one by one, and :meth:`wait` writes them to its ledger before the cancellation
    propagates. An iterator, generator or async iterable is not read any further (that could
    have side effects): the summary counts the items read, and ``summary.unread`` says how many
    were left (``None`` when the input's length is unknown). The journal holds no row for unread
    items, so a re-run with it does them.
    """

    def __init__(
        self,
        fn: Callable[[I], Awaitable[R | Skipped]],
        items: Iterable[I] | AsyncIterable[I],
        *,
        concurrency: int,
        key: Callable[[I], object] | None,
        journal: JournalArg,
        verify: Callable[[I], Awaitable[R | Skipped | bool | None]] | None,
        on_progress: ProgressCallback | None,
        progress_interval: float,
        max_failures: int | None,
        max_failure_rate: float | None,
        min_sample: int,
        total: int | None,
        clock: Callable[[], float],
        name: str | None = None,
        reuse_journal: bool = False,
    ) -> None:
        self._fn = fn
        self._name = name
        self._reuse_journal = reuse_journal
        self._items = items
        self._concurrency = concurrency
        self._key_fn: Callable[[I], object] = key if key is not None else default_key
        self._journal_arg = journal
        self._store: JournalStore | None = None
        self._store_owned = False
        self._deferred: collections.deque[_Slot[I, R]] = collections.deque()
        self._started = False
        self._run_id = 0
        self._verify = verify
        self._max_failures = max_failures
        self._max_failure_rate = max_failure_rate
        self._min_sample = min_sample
        # Reading more of a sized collection has no side effects; of an iterator it might.
        self._drainable = isinstance(items, Sized) and not isinstance(
            items, Iterator | AsyncIterable
        )
        self._unread: int | None = 0
        self._undrained = 0
        if total is None and isinstance(items, Sized):
            total = len(items)
        self._fault: BaseException | None = None
        self._tracker = Tracker(
            total=total,
            clock=clock,
            interval=progress_interval,
            callback=on_progress,
            on_error=self._machinery_failed,
        )
        self._sync_items: Iterator[I] | None = None
        self._async_items: AsyncIterator[I] | None = None
        self._pull_lock = asyncio.Lock()
        self._read = 0
        self._exhausted = False
        self._out: asyncio.Queue[Outcome[I, R] | _End] = asyncio.Queue(max(16, 2 * concurrency))
        self._pending: dict[int, _Slot[I, R]] = {}
        self._pending_keys: dict[str, int] = {}
        self._failed = 0
        self._stopped: str | None = None
        self._cancelled = False
        self._iterating = False
        self._supervisor: asyncio.Task[None] | None = None
        self._iterator: AsyncGenerator[Outcome[I, R], None] | None = None
        self._leftovers: list[Outcome[I, R]] = []
        self._summary: Summary | None = None
        self._input_error: Exception | None = None

    # -- public surface ---------------------------------------------------------------------

    def __aiter__(self) -> AsyncIterator[Outcome[I, R]]:
        if self._iterator is not None:
            raise RuntimeError("this bulk job was already started; a job runs once")
        self._iterator = self._iterate()
        return self._iterator

    def __await__(self) -> Generator[Any, None, Summary]:
        return self.wait().__await__()

    async def __aenter__(self) -> Job[I, R]:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def wait(
        self,
        *,
        ledger: str | os.PathLike[str] | LedgerWriter | None = None,
        on_outcome: Callable[[Outcome[I, R]], object] | None = None,
    ) -> Summary:
        """Run the job to the end and return its summary.

        With ``ledger`` (a ``.csv``/``.jsonl`` path or a :class:`LedgerWriter`), every outcome is
        written to it as it arrives (a path is renamed into place at the end, or left as
        ``<path>.partial`` if the job fails), and ``on_outcome`` is called with each. On cancellation the
        outcomes of the items in flight, and of the unread items of a sized input (see the
        class), are written and passed on too before the cancellation propagates.
        """
        if self._summary is not None and self._iterator is not None and ledger is None:
            return self._summary
        if self._iterator is None:
            # The journal first: a job refused by it (held by another run, corrupt, ...) must
            # not truncate a ledger file on its way out.
            await self._start()
        name = os.fspath(ledger) if isinstance(ledger, str | os.PathLike) else repr(ledger)
        try:
            writer = LedgerWriter(ledger) if isinstance(ledger, str | os.PathLike) else ledger
        except BaseException as exc:
            await self.aclose()  # nothing is done that no ledger shows
            if isinstance(exc, OSError):
                raise LedgerError(name, exc.strerror or str(exc)) from exc
            raise
        broken = False

        def deliver(outcome: Outcome[I, R]) -> None:
            nonlocal broken
            if writer is not None and not broken:
                try:
                    writer.write(outcome)
                except Exception as exc:
                    # The job ends: no item is done that its ledger could not show.
                    broken = True
                    why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
                    self._machinery_failed(LedgerError(name, f"cannot write it: {why}"))
            if on_outcome is not None:
                on_outcome(outcome)

        complete = True
        try:
            async for outcome in self:
                deliver(outcome)
        except BaseException as exc:
            # Cancelled: every outcome is still written below. Failed: the ledger stays partial.
            complete = isinstance(exc, asyncio.CancelledError | KeyboardInterrupt)
            if writer is not None or on_outcome is not None:
                for outcome in itertools.chain(self._leftovers, self.unread_outcomes()):
                    deliver(outcome)
            raise
        finally:
            if writer is not None and writer is not ledger:
                try:
                    writer.close(complete=complete and not broken)
                except OSError as exc:
                    if not broken:
                        raise LedgerError(name, exc.strerror or str(exc)) from exc
        return self.summary

    def stop(self, reason: str = "stopped by the caller") -> None:
        """Take no new items: calls in flight finish, the remaining items end ``unprocessed``."""
        self._stop(reason)

    async def aclose(self) -> None:
        """Cancel the job if it is still running (calls in flight end ``unprocessed``)."""
        if self._iterator is not None:
            with contextlib.suppress(RuntimeError):  # being iterated by another task right now
                await self._iterator.aclose()
        if self._supervisor is not None and not self._supervisor.done():
            self._leftovers = await self._shutdown()

    def progress(self) -> AsyncIterator[Progress]:
        """Progress snapshots as an async stream (latest value: a slow reader skips some)."""
        return self._tracker.broadcast.listen()

    @property
    def summary(self) -> Summary:
        """The final summary once the job ended, else the counts so far."""
        if self._summary is not None:
            return self._summary
        return self._tracker.summary(
            stopped=self._stopped, cancelled=self._cancelled, unread=self._unread
        )

    @property
    def leftovers(self) -> list[Outcome[I, R]]:
        """After a cancellation: the outcomes the consumer did not receive (in-flight items)."""
        return list(self._leftovers)

    @property
    def read(self) -> int:
        """How many items the job has read from its input so far."""
        return self._read

    def unread_outcomes(self) -> Iterator[Outcome[I, R]]:
        """After a cancellation: an ``unprocessed`` outcome for each item of a sized input that
        was never read, produced from the input as you iterate (nothing is held in memory).

        Empty for an iterator or async iterable input, and when every item was read. The
        outcomes can be taken once; :meth:`wait` takes them itself for its ledger.
        """
        if not self._undrained:
            return iter(())
        self._undrained = 0
        items = self._sync_items
        if items is None:
            assert isinstance(self._items, Iterable)
            items = iter(self._items)
        return self._drain(items, self._read)

    def _drain(self, items: Iterator[I], index: int) -> Iterator[Outcome[I, R]]:
        for item in items:
            try:
                key = str(self._key_fn(item))
            except Exception:
                key = f"#{index}"
            yield Outcome(index, key, item, Status.UNPROCESSED, reason=_NOT_STARTED)
            index += 1

    # -- running ----------------------------------------------------------------------------

    async def _iterate(self) -> AsyncGenerator[Outcome[I, R], None]:
        if not self._started:
            await self._start()
        try:
            while True:
                got = await self._out.get()
                if isinstance(got, _End):
                    if got.error is not None:
                        raise got.error
                    return
                yield got
        except BaseException:
            self._leftovers = await self._shutdown()
            raise

    async def _start(self) -> None:
        if self._started:
            return
        if self._journal_arg is not None:
            store, owned = open_store(self._journal_arg)
            try:
                name = self._name if self._name is not None else default_job_name(self._fn)
                await store.claim_job(name, reuse=self._reuse_journal)
                self._run_id = await store.begin_run()
            except BaseException:
                if owned:
                    with contextlib.suppress(Exception):
                        await store.close()
                raise
            self._store, self._store_owned = store, owned
        self._tracker.started_at = self._tracker.clock()
        self._tracker.emit()
        self._supervisor = asyncio.create_task(self._supervise(), name="bulk-job")
        self._started = True

    async def _supervise(self) -> None:
        if isinstance(self._items, AsyncIterable):
            self._async_items = aiter(self._items)
        else:
            self._sync_items = iter(self._items)
        workers = [
            asyncio.create_task(self._work_loop(), name=f"bulk-worker-{n}")
            for n in range(self._concurrency)
        ]
        tasks = workers
        error: BaseException | None = None
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
            for task in tasks:
                if task.done() and not task.cancelled() and task.exception() is not None:
                    error = task.exception()
                    break
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        if error is not None:
            # A bug or a BaseException escaped a task: account for what was in flight, then fail.
            for outcome in self._settle_pending("the job failed"):
                await self._out.put(outcome)
            self._count_unread()
        await self._finish()
        await self._out.put(_End(error or self._fault or self._input_error))

    async def _shutdown(self) -> list[Outcome[I, R]]:
        """Cancel a running job; returns the outcomes the consumer has not received."""
        supervisor = self._supervisor
        leftovers: list[Outcome[I, R]] = []
        if supervisor is None:
            return leftovers
        if not supervisor.done():
            self._cancelled = True
            supervisor.cancel()
            await asyncio.wait([supervisor])
        while not self._out.empty():
            got = self._out.get_nowait()
            if not isinstance(got, _End):
                leftovers.append(got)
        leftovers.extend(self._settle_pending("cancelled"))
        if self._cancelled:
            self._count_unread()
        await self._finish()
        self._out.put_nowait(_End())  # ends an iteration still waiting in another task
        return leftovers

    def _settle_pending(self, reason: str) -> list[Outcome[I, R]]:
        outcomes = []
        for index in sorted(self._pending):
            slot = self._pending[index]
            if slot.outcome is None:
                self._settle(slot, self._outcome(slot, Status.UNPROCESSED, reason=reason))
            assert slot.outcome is not None
            outcomes.append(slot.outcome)
        self._pending.clear()
        self._pending_keys.clear()
        return outcomes

    def _count_unread(self) -> None:
        """The job ends before reading all its input: account for the items left unread."""
        if self._exhausted or self._summary is not None:
            return
        self._exhausted = True
        if self._drainable:
            assert isinstance(self._items, Sized)
            self._undrained = max(0, len(self._items) - self._read)
            self._tracker.count_unprocessed(self._undrained)
            return
        total = self._tracker.total
        self._unread = None if total is None else max(0, total - self._read)
        logger.info(
            "bulk job ended after reading %d item(s); the rest of its input was not read",
            self._read,
        )

    async def _finish(self) -> None:
        """Close the books; never raises (a journal error is kept in ``_fault`` for the caller)."""
        if self._summary is not None:
            return
        self._tracker.emit(finished=True)
        self._summary = self._tracker.summary(
            stopped=self._stopped, cancelled=self._cancelled, unread=self._unread
        )
        store = self._store
        if store is not None:
            try:
                await store.end_run(self._run_id, attrs.asdict(self._summary))
            except Exception as exc:
                self._machinery_failed(exc)
            finally:
                if self._store_owned:
                    try:
                        await store.close()
                    except Exception as exc:
                        self._machinery_failed(exc)

    def _machinery_failed(self, exc: BaseException) -> None:
        """The job's own machinery (journal, ledger, progress callback) failed: take no new
        items (calls in flight finish, the rest end ``unprocessed``), then raise ``exc``."""
        if self._fault is None:
            self._fault = exc
            logger.error("bulk job stopping: %s", exc)
        self._stop(f"stopped: {exc}")

    # -- reading the input and working ---------------------------------------------------------

    async def _work_loop(self) -> None:
        while True:
            slot: _Slot[I, R] | None
            if self._sync_items is not None:
                item = self._next_sync(self._sync_items)
                slot = None if item is _NO_ITEM else await self._admit(self._register(item))
            else:
                async with self._pull_lock:
                    item = await self._next_async()
                    registered = None if item is _NO_ITEM else self._register(item)
                slot = None if registered is None else await self._admit(registered)
            if slot is None:
                slot = await self._next_deferred()
                if slot is None:
                    return
            elif slot.busy:
                self._deferred.append(slot)
                continue
            if slot.outcome is None:
                self._tracker.in_flight += 1
                try:
                    outcome = await self._process(slot)
                finally:
                    self._tracker.in_flight -= 1
                self._settle(slot, outcome, worked=outcome.status is not Status.UNPROCESSED)
            await self._deliver(slot)

    def _next_sync(self, items: Iterator[I]) -> Any:
        if self._exhausted:
            return _NO_ITEM
        try:
            return next(items)
        except StopIteration:
            self._exhausted = True
        except Exception as exc:
            self._input_failed(exc)
        return _NO_ITEM

    async def _next_async(self) -> Any:
        if self._exhausted or self._async_items is None:
            return _NO_ITEM
        try:
            return await anext(self._async_items)
        except StopAsyncIteration:
            self._exhausted = True
        except Exception as exc:
            self._input_failed(exc)
        return _NO_ITEM

    def _input_failed(self, exc: Exception) -> None:
        # The items read so far are still processed, then iterating the job raises the error.
        self._exhausted = True
        self._input_error = exc

    def _register(self, item: I) -> _Slot[I, R]:
        """Number an item just read and give it its key (a key that fails settles it)."""
        index = self._read
        self._read += 1
        try:
            key = str(self._key_fn(item))
        except Exception as exc:
            slot: _Slot[I, R] = _Slot(index, f"#{index}", item)
            self._pending[index] = slot
            self._settle(slot, self._failure(slot, exc))
            return slot
        slot = _Slot(index, key, item)
        self._pending[index] = slot
        return slot

    async def _admit(self, slot: _Slot[I, R]) -> _Slot[I, R]:
        """Ask the journal about a registered item; settle it at once when it needs no call,
        or mark it ``busy`` when another worker holds it."""
        if slot.outcome is not None:
            return slot
        store = self._store
        if store is not None and self._fault is None:
            first = self._pending_keys.get(slot.key)
            if first is not None:
                return self._duplicate(slot, first)
            self._pending_keys[slot.key] = slot.index  # before any await: duplicates wait
            try:
                got = await store.acquire(slot.key, run=self._run_id, index=slot.index)
            except Exception as exc:
                self._machinery_failed(exc)
                return self._unprocessed(slot)
            if isinstance(got, Busy):
                if self._stopped is None:
                    slot.busy = True
                    return slot
            else:
                slot.entry = entry = got
                if entry is not None and entry.run == self._run_id:
                    return self._duplicate(slot, entry.index)
                if entry is not None and entry.done:
                    self._settle(slot, self._replay(slot, entry))
                    return slot
        if self._stopped is not None:
            return self._unprocessed(slot)
        return slot

    def _unprocessed(self, slot: _Slot[I, R]) -> _Slot[I, R]:
        """End ``slot`` ``unprocessed`` for the reason the job stopped."""
        self._settle(slot, self._outcome(slot, Status.UNPROCESSED, reason=self._stopped))
        return slot

    def _duplicate(self, slot: _Slot[I, R], first: int) -> _Slot[I, R]:
        reason = f"duplicate of input item {first} (same key)"
        self._settle(slot, self._outcome(slot, Status.SKIPPED, reason=reason))
        return slot

    def _replay(self, slot: _Slot[I, R], entry: JournalEntry) -> Outcome[I, R]:
        return self._outcome(
            slot, Status(entry.status), value=entry.value, reason=entry.reason, from_journal=True
        )

    async def _next_deferred(self) -> _Slot[I, R] | None:
        """The next item another worker held when it was read, once that worker is done with
        it (its outcome is then replayed) or gone (its claim expired: the item is ours)."""
        store = self._store
        while self._deferred and store is not None:
            slot = self._deferred.popleft()
            if self._stopped is not None:
                return self._unprocessed(slot)
            try:
                got = await store.acquire(slot.key, run=self._run_id, index=slot.index)
            except Exception as exc:
                self._machinery_failed(exc)
                return self._unprocessed(slot)
            if isinstance(got, Busy):
                self._deferred.append(slot)
                await asyncio.sleep(getattr(store, "poll", _DEFAULT_POLL))
                continue
            slot.busy, slot.entry = False, got
            if got is not None and (
                got.done or (got.status == Status.FAILED and not got.uncertain)
            ):
                # Another worker of this job finished it: its outcome is this job's too (a
                # failure is tried again by a later run, not by every worker in turn).
                self._settle(slot, self._replay(slot, got))
            return slot
        return None

    async def _process(self, slot: _Slot[I, R]) -> Outcome[I, R]:
        """Call the function for one item (verifying first where needed); record the result.

        The outcome is written to the journal before it is returned, so an outcome the caller
        sees as final is final in the journal too.
        """
        store = self._store
        needs_verify = slot.entry is not None and slot.entry.needs_verify
        ambiguous: BaseException | None = None
        attempts = 0
        while True:
            if needs_verify:
                if self._verify is None:
                    if ambiguous is not None:
                        return await self._record(self._failure(slot, ambiguous), uncertain=True)
                    return self._outcome(slot, Status.UNPROCESSED, reason=_NEEDS_VERIFY)
                try:
                    answer = await self._verify(slot.item)
                except asyncio.CancelledError:
                    if _cancelling():
                        raise
                    return await self._record(
                        self._failure(slot, _cancelled_error()), uncertain=True
                    )
                except Exception as exc:
                    return await self._record(self._failure(slot, exc), uncertain=True)
                if answer is not None and answer is not False:
                    return await self._record(self._verified(slot, answer))
                if attempts >= _MAX_AMBIGUOUS_ATTEMPTS and ambiguous is not None:
                    return await self._record(self._failure(slot, ambiguous))
            if store is not None:
                if self._fault is not None:
                    return self._outcome(slot, Status.UNPROCESSED, reason=self._stopped)
                try:
                    held = await store.mark_started(
                        slot.key, run=self._run_id, index=slot.index, item=slot.item
                    )
                except Exception as exc:
                    # Its mark is not on disk: the function must not be called.
                    self._machinery_failed(exc)
                    return self._outcome(slot, Status.UNPROCESSED, reason=_JOB_FAILED.format(exc))
                if not held:
                    return self._outcome(slot, Status.UNPROCESSED, reason=_TAKEN_OVER)
            attempts += 1
            try:
                value = await self._fn(slot.item)
            except Skip as skip:
                return await self._record(self._outcome(slot, Status.SKIPPED, reason=skip.reason))
            except AmbiguousWriteError as exc:
                ambiguous = exc
                needs_verify = True
                continue
            except asyncio.CancelledError:
                if _cancelling():
                    raise
                return await self._record(self._failure(slot, _cancelled_error()))
            except Exception as exc:
                return await self._record(self._failure(slot, exc))
            if isinstance(value, Skipped):
                return await self._record(self._outcome(slot, Status.SKIPPED, reason=value.reason))
            return await self._record(self._outcome(slot, Status.SUCCEEDED, value=value))

    async def _record(self, outcome: Outcome[I, R], *, uncertain: bool = False) -> Outcome[I, R]:
        """Write the outcome to the journal; it is delivered even when that fails (it happened),
        and the job then ends (the item stays ``started`` there, so a re-run verifies it)."""
        if self._store is not None and self._fault is None:
            try:
                await self._store.mark_finished(
                    outcome.key,
                    outcome.status,
                    run=self._run_id,
                    index=outcome.index,
                    item=outcome.item,
                    reason=outcome.reason,
                    error=outcome.error,
                    value=outcome.value,
                    uncertain=uncertain,
                )
            except Exception as exc:
                self._machinery_failed(exc)
        return outcome

    # -- outcomes ---------------------------------------------------------------------------

    def _outcome(
        self,
        slot: _Slot[I, R],
        status: Status,
        *,
        value: R | None = None,
        reason: str | None = None,
        from_journal: bool = False,
        verified: bool = False,
    ) -> Outcome[I, R]:
        return Outcome(
            slot.index,
            slot.key,
            slot.item,
            status,
            value=value,
            reason=reason,
            from_journal=from_journal,
            verified=verified,
        )

    def _failure(self, slot: _Slot[I, R], exc: BaseException) -> Outcome[I, R]:
        return Outcome(
            slot.index,
            slot.key,
            slot.item,
            Status.FAILED,
            error=ErrorInfo.from_exception(exc),
            exception=exc,
        )

    def _verified(self, slot: _Slot[I, R], answer: R | Skipped | bool) -> Outcome[I, R]:
        if isinstance(answer, Skipped):
            return self._outcome(slot, Status.SKIPPED, reason=answer.reason, verified=True)
        value: R | None = None if isinstance(answer, bool) else answer
        return self._outcome(slot, Status.SUCCEEDED, value=value, verified=True)

    def _settle(self, slot: _Slot[I, R], outcome: Outcome[I, R], *, worked: bool = False) -> None:
        slot.outcome = outcome
        self._tracker.count(outcome, worked=worked)
        if outcome.status is Status.FAILED and not outcome.from_journal:
            self._failed += 1
            self._check_thresholds()

    async def _deliver(self, slot: _Slot[I, R]) -> None:
        assert slot.outcome is not None
        await self._out.put(slot.outcome)
        del self._pending[slot.index]
        if self._pending_keys.get(slot.key) == slot.index:
            del self._pending_keys[slot.key]

    def _check_thresholds(self) -> None:
        if self._max_failures is not None and self._failed >= self._max_failures:
            self._stop(f"stopped after {self._failed} failures (max_failures={self._max_failures})")
            return
        rate = self._max_failure_rate
        worked = self._tracker.worked
        if rate is not None and worked >= self._min_sample and self._failed / worked > rate:
            self._stop(
                f"stopped: {self._failed} of {worked} items failed (max_failure_rate={rate:g})"
            )

    def _stop(self, reason: str) -> None:
        if self._stopped is None:
            self._stopped = reason
            logger.info("bulk job %s", reason)


def default_job_name(fn: Callable[..., object]) -> str:
    """The name a journal knows a job by when none is given: the function's qualified name,
    with what it is bound to: the arguments bound by :func:`functools.partial`, the variables
    a closure captured and the defaults of its parameters, e.g. ``"enrol"``,
    ``"Sender.send(offering='O1', Client)"`` or ``"adder.<locals>.add(group='G1')"`` (strings,
    numbers, booleans and ``None`` by value, other objects by type, so that the name is the
    same in every run and another closure of the same function is another job)."""
    args: list[str] = []
    while isinstance(fn, functools.partial):
        bound = [*map(_stable, fn.args), *(f"{k}={_stable(v)}" for k, v in fn.keywords.items())]
        args = [*bound, *args]
        fn = fn.func
    args.extend(_captured(fn))
    name = getattr(fn, "__qualname__", None) or type(fn).__qualname__
    return f"{name}({', '.join(args)})" if args else str(name)


def _captured(fn: object) -> list[str]:
    """What a function carries besides its code: closure variables and parameter defaults."""
    fn = getattr(fn, "__func__", fn)  # a bound method: its function
    code = getattr(fn, "__code__", None)
    found: list[str] = []
    cells = getattr(fn, "__closure__", None) or ()
    if code is not None:
        for var, cell in zip(code.co_freevars, cells, strict=False):
            try:
                value = cell.cell_contents
            except ValueError:  # not yet assigned
                continue
            if value is fn:
                continue
            found.append(f"{var}={_stable(value)}")
    defaults = getattr(fn, "__defaults__", None) or ()
    if code is not None and defaults:
        names = code.co_varnames[: code.co_argcount][-len(defaults) :]
        found.extend(f"{k}={_stable(v)}" for k, v in zip(names, defaults, strict=False))
    kwdefaults = getattr(fn, "__kwdefaults__", None) or {}
    found.extend(f"{k}={_stable(v)}" for k, v in kwdefaults.items())
    return found


def _stable(value: object) -> str:
    if value is None or isinstance(value, str | int | float | bool):
        return repr(value)
    return type(value).__qualname__


def _cancelling() -> bool:
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


def _cancelled_error() -> Exception:
    return RuntimeError("the call was cancelled from inside the function")


def run(
    fn: Callable[[I], Awaitable[R | Skipped]],
    items: Iterable[I] | AsyncIterable[I],
    *,
    concurrency: int = 10,
    key: Callable[[I], object] | None = None,
    journal: JournalArg = None,
    verify: Callable[[I], Awaitable[R | Skipped | bool | None]] | None = None,
    on_progress: ProgressCallback | None = None,
    progress_interval: float = 0.1,
    max_failures: int | None = None,
    max_failure_rate: float | None = None,
    min_sample: int = 20,
    total: int | None = None,
    clock: Callable[[], float] = time.monotonic,
    name: str | None = None,
    reuse_journal: bool = False,
) -> Job[I, R]:
    """Run ``await fn(item)`` for every item with at most ``concurrency`` calls at a time.

    ``items`` is any iterable or async iterable; it is read lazily, so memory stays flat however
    many items there are. ``fn`` returns a value (``succeeded``), returns :class:`Skipped` or
    raises :class:`Skip` (``skipped``: already in the wanted state), or raises (``failed``).

    ``key(item)`` names an item stably across runs (default: :func:`default_key`). With
    ``journal`` (a SQLite path or :class:`Journal`; or a ``postgresql://`` URL or
    :class:`PostgresJournal`, which several workers may share), items a previous run finished are not redone but
    reported again with ``from_journal=True``; items that may have been applied without
    confirmation (in flight when a run was killed, or a call that raised
    :class:`~iqualify_async.errors.AmbiguousWriteError`) are checked with ``verify(item)`` first:
    it returns ``False``/``None`` when the item is not done (the function is then called), or
    ``True``, a value, or :class:`Skipped` when it is. Without ``verify`` such items end
    ``unprocessed`` (or ``failed`` for an ambiguous write), never blindly re-sent.

    ``name`` says what the job does (e.g. ``"add_to_group offering=O group=G"``). A journal keeps
    the name of the job that first used it and refuses a job of another name with
    :class:`~iqualify_async.bulk.JournalMismatchError`, so a journal is never silently replayed
    into the wrong job; ``reuse_journal=True`` hands it over to this job instead.

    ``max_failures`` / ``max_failure_rate`` (checked once ``min_sample`` items are done) stop
    the job taking new items; the rest end ``unprocessed``. So does a failure of the job's own
    machinery (its journal, its ledger, ``on_progress``), whose error is then raised once the
    outcomes produced so far are delivered; no call is made whose ``started`` mark could not
    be written. ``on_progress`` receives a
    :class:`Progress` at most every ``progress_interval`` seconds of ``clock`` and at the end.
    """
    if not callable(fn):
        raise TypeError("fn must be an async function taking one item")
    if isinstance(items, str | bytes) or not isinstance(items, Iterable | AsyncIterable):
        raise TypeError(f"items must be an iterable or async iterable, not {type(items).__name__}")
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise ValueError(f"concurrency must be a positive integer, not {concurrency!r}")
    if max_failures is not None and (not isinstance(max_failures, int) or max_failures < 1):
        raise ValueError(f"max_failures must be a positive integer, not {max_failures!r}")
    if max_failure_rate is not None and not 0 <= max_failure_rate < 1:
        raise ValueError(f"max_failure_rate must be in [0, 1), not {max_failure_rate!r}")
    if not isinstance(min_sample, int) or min_sample < 1:
        raise ValueError(f"min_sample must be a positive integer, not {min_sample!r}")
    if progress_interval < 0:
        raise ValueError(f"progress_interval must be >= 0, not {progress_interval!r}")
    if total is not None and total < 0:
        raise ValueError(f"total must be >= 0, not {total!r}")
    if verify is not None and not callable(verify):
        raise TypeError("verify must be an async function taking one item")
    return Job(
        fn,
        items,
        concurrency=concurrency,
        key=key,
        journal=journal,
        verify=verify,
        on_progress=on_progress,
        progress_interval=progress_interval,
        max_failures=max_failures,
        max_failure_rate=max_failure_rate,
        min_sample=min_sample,
        total=total,
        clock=clock,
        name=name,
        reuse_journal=reuse_journal,
    )
