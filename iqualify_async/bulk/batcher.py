"""One micro-batcher: single-item writes that arrive together share one list request.

Used by bulk enrolment (people into ``POST /offerings/{offeringId}/users``) and by the
companion helpers that write lists (a marker's learners). Items are grouped by a key (the
offering, say); each caller awaits its own item's result.

When a batch is sent
    when it holds ``size`` items, or when nobody has joined it for two turns of the event loop;
    at most ``concurrency`` requests are in flight. A batch filled while a request slot is free
    is sent by the task that filled it, with no task or loop turn in between (with ``size=1``
    every request goes this way); otherwise the key's flush task sends it, and the batch keeps
    filling while it waits for a slot.

The split rule (:func:`split_refused`)
    a batch of two or more items that the API refuses as a whole with one client error (a 4xx
    status other than 401, 403, 404 and 429: those concern the key, the target or the rate and
    would be every item's answer) is sent again item by item, so that each item gets its own
    answer. Any other failure is every item's failure.

A sender cancelled mid-request tells its batch mates that their write may have been applied
(:class:`~iqualify_async.errors.AmbiguousWriteError`), so that they check before sending again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Generic, TypeVar

import attrs

from ..errors import AmbiguousWriteError, APIConnectionError, APIError

__all__ = ["MicroBatcher", "split_refused"]

I = TypeVar("I")  # noqa: E741 - an item
R = TypeVar("R")

_NOT_SPLIT = frozenset({401, 403, 404, 429})


def split_refused(error: BaseException, items: int) -> bool:
    """Whether a batch of ``items`` refused with ``error`` is sent again item by item."""
    return (
        items > 1
        and isinstance(error, APIError)
        and 400 <= error.status < 500
        and error.status not in _NOT_SPLIT
    )


@attrs.define
class _Waiting(Generic[I, R]):
    item: I
    future: asyncio.Future[R]


class MicroBatcher(Generic[I, R]):
    """Groups items with the same key into one request (see the module's documentation).

    ``send(key, items)`` makes one request and returns one result per item, in order.
    ``url(key)`` names the request in errors. ``batches`` counts the requests sent.
    """

    def __init__(
        self,
        send: Callable[[str, list[I]], Awaitable[Sequence[R]]],
        *,
        size: int,
        concurrency: int,
        url: Callable[[str], str],
    ) -> None:
        self._send_batch = send
        self._url = url
        self._size = size
        self._slots = asyncio.Semaphore(concurrency)
        self._open: dict[str, list[_Waiting[I, R]]] = {}
        self._flushers: dict[str, asyncio.Task[None]] = {}
        self._sending: set[asyncio.Task[None]] = set()
        self.batches = 0

    async def add(self, key: str, item: I) -> R:
        """Send ``item`` with whatever joins it; its own result, or its own error."""
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        waiting = _Waiting(item, future)
        queue = self._open.setdefault(key, [])
        queue.append(waiting)
        try:
            if len(queue) >= self._size and not self._slots.locked():
                await self._send_now(key, queue, waiting)
            elif key not in self._flushers:
                self._flushers[key] = asyncio.ensure_future(self._flush(key))
            return await future
        except asyncio.CancelledError:
            queue = self._open.get(key, [])
            if waiting in queue:
                queue.remove(waiting)
            if not any(not w.future.done() for q in self._open.values() for w in q):
                self.close()
            raise

    def close(self) -> None:
        """Cancel every flush and send still running (the job was cancelled)."""
        for task in [*self._flushers.values(), *self._sending]:
            task.cancel()

    async def _send_now(self, key: str, queue: list[_Waiting[I, R]], own: _Waiting[I, R]) -> None:
        """Send the full batch at the head of ``queue`` from the calling task.

        The caller has checked that a slot is free, so taking it does not suspend.
        """
        batch = [w for w in queue[: self._size] if not w.future.done()]
        del queue[: self._size]
        if not queue and key not in self._flushers:  # a flusher holds on to its queue
            del self._open[key]
        await self._slots.acquire()
        try:
            await self._send(key, batch)
        except asyncio.CancelledError:
            cut = APIConnectionError(
                "the request carrying this item was cancelled", method="POST", url=self._url(key)
            )
            _fail([w for w in batch if w is not own], AmbiguousWriteError(cut))
            raise

    async def _flush(self, key: str) -> None:
        try:
            queue = self._open[key]
            while queue:
                size = -1
                quiet = 0
                while len(queue) < self._size and quiet < 2:
                    quiet = quiet + 1 if len(queue) == size else 0
                    size = len(queue)
                    await asyncio.sleep(0)
                await self._slots.acquire()
                batch = [w for w in queue[: self._size] if not w.future.done()]
                del queue[: self._size]
                if not batch:
                    self._slots.release()
                    continue
                task = asyncio.ensure_future(self._send(key, batch))
                self._sending.add(task)
                task.add_done_callback(self._sending.discard)
        finally:
            del self._flushers[key]
            if self._open.get(key) == []:
                del self._open[key]

    async def _send(self, key: str, batch: list[_Waiting[I, R]]) -> None:
        """Send one batch in a slot already taken (and released here)."""
        try:
            refused = await self._request(key, batch)
            if refused is not None:  # the split rule: each item for its own answer
                await asyncio.gather(*(self._request(key, [w]) for w in batch))
        finally:
            self._slots.release()

    async def _request(self, key: str, batch: list[_Waiting[I, R]]) -> BaseException | None:
        """One request: settles the batch, or returns the error when the batch is to be split."""
        self.batches += 1
        try:
            results = await self._send_batch(key, [w.item for w in batch])
        except Exception as exc:
            if split_refused(exc, len(batch)):
                return exc
            _fail(batch, exc)
            return None
        if len(results) != len(batch):
            _fail(batch, RuntimeError(f"{len(results)} results for {len(batch)} items"))
            return None
        for waiting, result in zip(batch, results, strict=True):
            if not waiting.future.done():
                waiting.future.set_result(result)
        return None


def _fail(batch: Iterable[_Waiting[I, R]], error: BaseException) -> None:
    for waiting in batch:
        if not waiting.future.done():
            waiting.future.set_exception(error)
