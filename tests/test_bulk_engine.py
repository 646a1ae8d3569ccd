"""The bulk fan-out engine: outcomes, bounded streaming concurrency, thresholds, cancellation."""

from __future__ import annotations

import asyncio
import csv
import gc
import tracemalloc
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest

from iqualify_async import bulk
from iqualify_async.bulk import Outcome, Skip, Skipped, Status
from iqualify_async.errors import BadRequestError


async def double(x: int) -> int:
    await asyncio.sleep(0)
    return x * 2


async def test_every_item_ends_once_with_its_value_index_and_key() -> None:
    outcomes = [o async for o in bulk.run(double, range(50), concurrency=7)]

    assert sorted(o.index for o in outcomes) == list(range(50))
    assert all(o.status is Status.SUCCEEDED and o.value == o.item * 2 for o in outcomes)
    assert all(o.key == str(o.item) for o in outcomes)


async def test_awaiting_the_job_returns_the_summary() -> None:
    summary = await bulk.run(double, [1, 2, 3])

    assert (summary.total, summary.succeeded, summary.failed) == (3, 3, 0)
    assert summary.ok and not summary.cancelled and summary.stopped is None


async def test_skips_and_failures_carry_reason_and_error_details() -> None:
    async def fn(x: int) -> int | Skipped:
        if x == 1:
            return Skipped("already enrolled")
        if x == 2:
            raise Skip("nothing to do")
        if x == 3:
            raise BadRequestError(
                400, name="ObjectExistsError", details="user exists", method="POST", url="/u"
            )
        if x == 4:
            raise KeyError("email")
        return x

    by_item = {o.item: o async for o in bulk.run(fn, range(5))}

    assert by_item[0].status is Status.SUCCEEDED
    assert (by_item[1].status, by_item[1].reason) == (Status.SKIPPED, "already enrolled")
    assert (by_item[2].status, by_item[2].reason) == (Status.SKIPPED, "nothing to do")
    api = by_item[3]
    assert api.status is Status.FAILED and api.error is not None
    assert (api.error.type, api.error.status, api.error.name, api.error.details) == (
        "BadRequestError",
        400,
        "ObjectExistsError",
        "user exists",
    )
    assert isinstance(api.exception, BadRequestError)
    other = by_item[4]
    assert other.error is not None
    assert (other.error.type, other.error.status, other.message) == ("KeyError", None, "'email'")


async def test_failures_do_not_stop_the_others_by_default() -> None:
    async def fn(x: int) -> int:
        if x % 2:
            raise ValueError(x)
        return x

    summary = await bulk.run(fn, range(100), concurrency=5)

    assert (summary.succeeded, summary.failed, summary.unprocessed) == (50, 50, 0)
    assert summary.stopped is None and not summary.ok


async def test_async_iterable_input() -> None:
    async def people() -> AsyncIterator[str]:
        for n in range(10):
            await asyncio.sleep(0)
            yield f"p{n}@example.com"

    outcomes = [o async for o in bulk.run(_echo, people(), concurrency=3)]

    assert sorted(o.index for o in outcomes) == list(range(10))
    assert {o.key for o in outcomes} == {f"p{n}@example.com" for n in range(10)}


async def _echo(x: str) -> str:
    return x


async def test_concurrency_is_bounded_and_input_is_read_lazily() -> None:
    running = 0
    peak = 0
    read = 0
    gate = asyncio.Event()

    def items() -> Iterator[int]:
        nonlocal read
        for n in range(1000):
            read += 1
            yield n

    async def fn(x: int) -> int:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await gate.wait()
        running -= 1
        return x

    job = bulk.run(fn, items(), concurrency=4)
    consumer = asyncio.create_task(job.wait())
    for _ in range(50):
        await asyncio.sleep(0)

    assert running == 4
    assert read <= 4 + 4 + 1  # in flight + queued for workers + one being handed over
    gate.set()
    summary = await consumer
    assert summary.succeeded == 1000 and peak == 4


async def test_max_failures_stops_taking_items_and_reports_every_remaining_item() -> None:
    calls = 0

    async def fn(x: int) -> int:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0)
        raise ValueError("bad")

    outcomes = [o async for o in bulk.run(fn, range(500), concurrency=3, max_failures=5)]

    assert sorted(o.index for o in outcomes) == list(range(500))
    failed = [o for o in outcomes if o.status is Status.FAILED]
    unprocessed = [o for o in outcomes if o.status is Status.UNPROCESSED]
    assert 5 <= len(failed) == calls <= 5 + 3  # in-flight calls finish
    assert len(unprocessed) == 500 - calls
    assert all("max_failures=5" in (o.reason or "") for o in unprocessed)


async def test_max_failure_rate_waits_for_the_minimum_sample() -> None:
    async def fn(x: int) -> int:
        if x >= 30 and x % 2:
            raise ValueError("bad")
        return x

    job = bulk.run(fn, range(1000), concurrency=1, max_failure_rate=0.1, min_sample=20)
    summary = await job

    # 30 successes, then every other item fails: 3 of 36 is under 10%, 4 of 38 is over.
    assert summary.failed == 4 and summary.succeeded == 30 + 4
    assert summary.unprocessed == 1000 - 38
    assert summary.stopped is not None and "max_failure_rate=0.1" in summary.stopped


async def test_stop_lets_calls_in_flight_finish_and_reports_the_rest_unprocessed() -> None:
    gate = asyncio.Event()

    async def fn(x: int) -> int:
        await gate.wait()
        return x

    job = bulk.run(fn, range(100), concurrency=2)
    seen: list[Outcome[int, int]] = []

    async def consume() -> None:
        async for o in job:
            seen.append(o)

    task = asyncio.create_task(consume())
    for _ in range(10):
        await asyncio.sleep(0)
    job.stop()
    gate.set()
    await task

    assert len(seen) == 100
    assert sum(o.status is Status.SUCCEEDED for o in seen) == 2
    assert job.summary.stopped == "stopped by the caller"


async def test_cancelling_the_consumer_marks_in_flight_items_unprocessed() -> None:
    started = asyncio.Event()
    cancelled_calls = 0

    async def fn(x: int) -> int:
        nonlocal cancelled_calls
        if x >= 3:
            started.set()
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                cancelled_calls += 1
                raise
        return x

    job = bulk.run(fn, range(100), concurrency=4)
    seen: list[Outcome[int, int]] = []

    async def consume() -> None:
        async for o in job:
            seen.append(o)

    task = asyncio.create_task(consume())
    await started.wait()
    for _ in range(5):
        await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert cancelled_calls == 4
    leftovers = job.leftovers
    assert all(o.status is Status.UNPROCESSED for o in leftovers if o.item >= 3)
    indexes = [o.index for o in seen] + [o.index for o in leftovers]
    assert sorted(indexes) == list(range(len(indexes)))  # every item read has one outcome
    unread = list(job.unread_outcomes())
    assert [o.index for o in unread] == list(range(len(indexes), 100))
    assert {o.status for o in unread} == {Status.UNPROCESSED}
    assert list(job.unread_outcomes()) == []  # taken once
    summary = job.summary
    assert summary.cancelled and summary.total == 100 and summary.unread == 0
    unprocessed = sum(o.status is Status.UNPROCESSED for o in leftovers) + len(unread)
    assert summary.unprocessed == unprocessed
    assert not [t for t in asyncio.all_tasks() if t.get_name().startswith("bulk-")]


async def _cancel_after(job: bulk.Job[int, int], started: asyncio.Event, **wait: Any) -> None:
    task = asyncio.create_task(job.wait(**wait))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_a_cancelled_job_over_a_list_writes_every_input_item_to_the_ledger(
    tmp_path: Path,
) -> None:
    started = asyncio.Event()

    async def fn(x: int) -> int:
        if x == 5:
            started.set()
            await asyncio.Event().wait()
        return x

    people = [f"p{n}@example.org" for n in range(300)]
    ledger = tmp_path / "ledger.csv"
    journal = tmp_path / "j.db"
    job = bulk.run(lambda p: fn(people.index(p)), people, concurrency=1, journal=journal)
    seen: list[Outcome[str, int]] = []
    await _cancel_after(job, started, ledger=ledger, on_outcome=seen.append)

    rows = list(csv.DictReader(ledger.open()))
    assert [r["item"] for r in rows] == people  # one row per input item, in input order
    assert [r["outcome"] for r in rows] == ["succeeded"] * 5 + ["unprocessed"] * 295
    assert rows[-1]["message"] == "cancelled before it was started"
    assert [o.item for o in seen] == people
    summary = job.summary
    assert (summary.total, summary.succeeded, summary.unprocessed) == (300, 5, 295)
    # The journal: five done, the one in flight still started (verified on a re-run), the
    # unread ones absent, so a re-run does them.
    with bulk.Journal(journal) as j:
        assert j.counts() == {"succeeded": 5, "started": 1}


async def test_a_cancelled_job_over_a_generator_does_not_read_it_further() -> None:
    started = asyncio.Event()
    pulled = 0

    def items() -> Iterator[int]:
        nonlocal pulled
        for n in range(100):
            pulled += 1
            yield n

    async def fn(x: int) -> int:
        if x == 3:
            started.set()
            await asyncio.Event().wait()
        return x

    job = bulk.run(fn, items(), concurrency=1)
    await _cancel_after(job, started)
    assert pulled == job.read == 4
    assert list(job.unread_outcomes()) == []
    summary = job.summary
    assert (summary.total, summary.unprocessed, summary.unread) == (4, 1, None)
    assert not summary.ok
    # With the total given, the summary says how many were left unread.
    started.clear()
    job = bulk.run(fn, iter(range(100)), concurrency=1, total=100)
    await _cancel_after(job, started)
    assert job.summary.unread == 96


async def test_leaving_an_async_with_block_early_cancels_the_rest() -> None:
    cancelled = 0

    async def fn(x: int) -> int:
        nonlocal cancelled
        if x == 0:
            return x
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled += 1
            raise
        return x

    async with bulk.run(fn, range(10), concurrency=3) as job:
        async for outcome in job:
            assert outcome.item == 0
            break

    assert cancelled == 3
    assert job.summary.cancelled
    assert not [t for t in asyncio.all_tasks() if t.get_name().startswith("bulk-")]


async def test_aclose_from_another_task_ends_the_iteration() -> None:
    async def fn(x: int) -> int:
        await asyncio.Event().wait()
        return x

    job = bulk.run(fn, range(10), concurrency=2)
    seen: list[Outcome[int, int]] = []

    async def consume() -> None:
        async for o in job:
            seen.append(o)

    consumer = asyncio.create_task(consume())
    for _ in range(5):
        await asyncio.sleep(0)
    await job.aclose()
    await asyncio.wait_for(consumer, 1)

    assert seen == [] and job.summary.cancelled
    assert [o.status for o in job.leftovers] == [Status.UNPROCESSED] * 2


async def test_a_broken_input_finishes_what_was_read_then_raises() -> None:
    def items() -> Iterator[int]:
        yield 1
        yield 2
        raise OSError("disk gone")

    job = bulk.run(double, items())
    seen = []
    with pytest.raises(OSError, match="disk gone"):
        async for o in job:
            seen.append(o)

    assert sorted(o.item for o in seen) == [1, 2]
    assert all(o.status is Status.SUCCEEDED for o in seen)


class Fatal(BaseException):
    pass


async def test_a_base_exception_from_the_function_propagates_with_items_accounted() -> None:
    async def fn(x: int) -> int:
        if x == 5:
            raise Fatal
        await asyncio.sleep(0)
        return x

    job = bulk.run(fn, range(20), concurrency=2)
    seen = []
    with pytest.raises(Fatal):
        async for o in job:
            seen.append(o)

    assert any(o.item == 5 and o.status is Status.UNPROCESSED for o in seen)
    seen += job.unread_outcomes()  # the items never read end unprocessed too
    assert sorted(o.index for o in seen) == list(range(20)) and job.summary.total == 20


async def test_a_key_that_cannot_be_computed_fails_that_item_only() -> None:
    people = [{"email": "a@x.org"}, {"name": "no email"}, {"email": "b@x.org"}]

    async def fn(p: dict[str, str]) -> str:
        return p["email"]

    by_index = {o.index: o async for o in bulk.run(fn, people, key=lambda p: p["email"])}

    assert by_index[0].key == "a@x.org" and by_index[2].status is Status.SUCCEEDED
    assert by_index[1].status is Status.FAILED and by_index[1].key == "#1"
    assert by_index[1].error is not None and by_index[1].error.type == "KeyError"


async def test_default_keys_are_stable_for_equal_content() -> None:
    @attrs.frozen
    class Person:
        email: str
        tags: tuple[str, ...] = ()

    assert bulk.default_key("ada@x.org") == "ada@x.org"
    assert bulk.default_key(7) == "7"
    assert bulk.default_key({"a": 1, "b": [2]}) == bulk.default_key({"b": [2], "a": 1})
    assert bulk.default_key(Person("a@x")) == bulk.default_key(Person("a@x"))
    assert bulk.default_key(Person("a@x")) != bulk.default_key(Person("b@x"))
    with pytest.raises(TypeError, match="pass key="):
        bulk.default_key(object())


async def test_a_job_runs_once() -> None:
    job = bulk.run(double, [1])
    await job
    with pytest.raises(RuntimeError, match="runs once"):
        [o async for o in job]
    assert (await job).succeeded == 1  # awaiting again just returns the summary


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"concurrency": 0}, "concurrency"),
        ({"max_failures": 0}, "max_failures"),
        ({"max_failure_rate": 1.5}, "max_failure_rate"),
        ({"min_sample": 0}, "min_sample"),
    ],
)
def test_bad_settings_are_refused_up_front(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        bulk.run(double, [1], **kwargs)  # type: ignore[arg-type]


def test_a_single_string_is_not_taken_for_a_list_of_items() -> None:
    with pytest.raises(TypeError, match="iterable"):
        bulk.run(_echo, "ada@example.com")  # type: ignore[arg-type]


async def _peak_growth(n: int) -> int:
    async def cheap(x: int) -> int:
        return x

    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        count = 0
        async for _ in bulk.run(cheap, range(n), concurrency=20):
            count += 1
        assert count == n
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


async def test_memory_does_not_grow_with_the_number_of_items() -> None:
    small = await _peak_growth(2_000)
    large = await _peak_growth(20_000)

    # Holding outcomes or tasks per item would cost several MB for 20,000 items.
    assert large < small + 256 * 1024, (small, large)
