"""Progress of a bulk job: counts, rate and ETA from an injected clock, throttling, streams."""

from __future__ import annotations

import asyncio

import pytest

from iqualify_async import bulk
from iqualify_async.bulk import Progress, Skipped


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_rate_and_eta_follow_the_clock() -> None:
    clock = FakeClock()
    snapshots: list[Progress] = []

    async def fn(x: int) -> int | Skipped:
        clock.now += 0.5  # every item takes half a second of clock time
        if x == 3:
            raise ValueError("bad")
        if x == 4:
            return Skipped("done before")
        return x

    summary = await bulk.run(
        fn,
        range(10),
        concurrency=1,
        clock=clock,
        on_progress=snapshots.append,
        progress_interval=0,
    )

    first, *_, last = snapshots
    assert (first.done, first.total, first.eta) == (0, 10, None)
    half = next(p for p in snapshots if p.done == 5)
    assert half.elapsed == pytest.approx(2.5)
    assert half.rate == pytest.approx(2.0)
    assert half.eta == pytest.approx(2.5)  # 5 left at 2 items/s
    assert (half.succeeded, half.failed, half.skipped) == (3, 1, 1)
    assert half.fraction == pytest.approx(0.5)
    assert last.finished and last.done == 10 and last.eta == 0.0 and last.in_flight == 0
    assert summary.elapsed == pytest.approx(5.0)


async def test_snapshots_are_throttled_by_the_interval() -> None:
    clock = FakeClock()
    snapshots: list[Progress] = []

    async def fn(x: int) -> int:
        clock.now += 0.01
        return x

    await bulk.run(fn, range(1000), clock=clock, on_progress=snapshots.append)

    # 10 s of clock time at one snapshot per 0.1 s, plus the first and the last.
    assert 90 <= len(snapshots) <= 103
    assert snapshots[-1].finished and snapshots[-1].done == 1000


async def test_total_is_unknown_for_a_generator_unless_given() -> None:
    seen: list[Progress] = []
    await bulk.run(_same, (n for n in range(5)), on_progress=seen.append)
    assert seen[0].total is None and seen[0].eta is None and seen[0].fraction is None
    assert seen[-1].total == 5  # known once the input ran out

    given: list[Progress] = []
    await bulk.run(_same, (n for n in range(5)), total=5, on_progress=given.append)
    assert given[0].total == 5


async def _same(x: int) -> int:
    return x


async def test_the_event_stream_ends_with_the_final_snapshot() -> None:
    gate = asyncio.Event()

    async def fn(x: int) -> int:
        await gate.wait()
        return x

    job = bulk.run(fn, range(30), concurrency=3, progress_interval=0)
    received: list[Progress] = []

    async def watch() -> None:
        async for snapshot in job.progress():
            received.append(snapshot)

    watcher = asyncio.create_task(watch())
    runner = asyncio.create_task(job.wait())
    for _ in range(5):
        await asyncio.sleep(0)
    assert received and received[0].done == 0 and not received[0].finished
    gate.set()
    await runner
    await asyncio.wait_for(watcher, 1)

    assert received[-1].finished and received[-1].done == 30
    dones = [p.done for p in received]
    assert dones == sorted(dones)


async def test_a_failing_progress_callback_ends_the_job_with_its_error() -> None:
    calls = 0

    def broken(_: Progress) -> None:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise RuntimeError("widget gone")

    clock = iter(range(1000)).__next__  # every outcome is due a snapshot
    job = bulk.run(_same, range(50), on_progress=broken, clock=clock, concurrency=1)
    outcomes = []
    with pytest.raises(RuntimeError, match="widget gone"):
        async for outcome in job:
            outcomes.append(outcome)

    assert sorted(o.index for o in outcomes) == list(range(50))  # every item accounted for
    assert [o.status for o in outcomes[:1]] == [bulk.Status.SUCCEEDED]
    assert job.summary.unprocessed >= 45 and "widget gone" in (job.summary.stopped or "")
