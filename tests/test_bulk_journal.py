"""The bulk journal: re-runs redo nothing done, unconfirmed writes are verified, kills lose nothing."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from iqualify_async import bulk
from iqualify_async.bulk import Journal, Outcome, Skipped, Status
from iqualify_async.errors import AmbiguousWriteError, APIConnectionError


def ambiguous() -> AmbiguousWriteError:
    return AmbiguousWriteError(
        APIConnectionError("connection reset", method="POST", url="http://x/v1/users")
    )


class Server:
    """Stands in for the API: records applied writes; can fail or drop chosen items."""

    def __init__(self) -> None:
        self.applied: list[str] = []
        self.calls: list[str] = []
        self.verified: list[str] = []
        self.fail: set[str] = set()
        self.apply_then_drop: set[str] = set()

    async def enrol(self, email: str) -> str | Skipped:
        self.calls.append(email)
        await asyncio.sleep(0)
        if email in self.fail:
            raise ValueError(f"{email} refused")
        if email in self.applied:
            return Skipped("already enrolled")
        self.applied.append(email)
        if email in self.apply_then_drop:
            self.apply_then_drop.discard(email)
            raise ambiguous()
        return f"id-{email}"

    async def is_enrolled(self, email: str) -> bool:
        self.verified.append(email)
        return email in self.applied


EMAILS = [f"p{n}@example.com" for n in range(20)]


async def test_a_rerun_replays_done_items_and_retries_failed_ones(tmp_path: Path) -> None:
    server = Server()
    server.fail = {EMAILS[3], EMAILS[7]}
    journal = tmp_path / "job.sqlite"

    first = await bulk.run(server.enrol, EMAILS, journal=journal, concurrency=4)
    assert (first.succeeded, first.failed) == (18, 2)

    server.fail.clear()
    server.calls.clear()
    outcomes = [o async for o in bulk.run(server.enrol, EMAILS, journal=journal)]

    assert sorted(server.calls) == sorted([EMAILS[3], EMAILS[7]])
    assert sorted(o.index for o in outcomes) == list(range(20))
    replayed = [o for o in outcomes if o.from_journal]
    assert len(replayed) == 18 and all(o.status is Status.SUCCEEDED for o in replayed)
    assert all(not o.from_journal for o in outcomes if o.item in (EMAILS[3], EMAILS[7]))
    assert sorted(server.applied) == sorted(EMAILS)
    with Journal(journal) as j:
        assert j.counts() == {"succeeded": 20}


async def test_skips_are_remembered_with_their_reason(tmp_path: Path) -> None:
    async def fn(x: str) -> Skipped:
        return Skipped("already there")

    journal = tmp_path / "j.sqlite"
    await bulk.run(fn, ["a"], journal=journal)
    [again] = [o async for o in bulk.run(fn, ["a"], journal=journal)]

    assert (again.status, again.reason, again.from_journal) == (
        Status.SKIPPED,
        "already there",
        True,
    )


async def test_items_left_started_are_verified_before_anything_is_resent(tmp_path: Path) -> None:
    server = Server()
    server.applied = [EMAILS[0]]  # the write of item 0 reached the server before the kill
    path = tmp_path / "j.sqlite"
    with Journal(path) as journal:
        run = journal.begin_run()
        journal.mark_started(EMAILS[0], run=run, index=0)
        journal.mark_started(EMAILS[1], run=run, index=1)

    outcomes = {
        o.item: o
        async for o in bulk.run(server.enrol, EMAILS[:3], journal=path, verify=server.is_enrolled)
    }

    assert server.verified == [EMAILS[0], EMAILS[1]]
    assert server.calls == [EMAILS[1], EMAILS[2]]  # item 0 is not re-sent
    assert outcomes[EMAILS[0]].verified and outcomes[EMAILS[0]].status is Status.SUCCEEDED
    assert not outcomes[EMAILS[1]].verified and outcomes[EMAILS[1]].value == f"id-{EMAILS[1]}"
    assert server.applied == EMAILS[:3]


async def test_without_verify_unconfirmed_items_are_left_unprocessed(tmp_path: Path) -> None:
    server = Server()
    path = tmp_path / "j.sqlite"
    with Journal(path) as journal:
        journal.mark_started(EMAILS[0], run=journal.begin_run(), index=0)

    outcomes = {o.item: o async for o in bulk.run(server.enrol, EMAILS[:2], journal=path)}

    assert server.calls == [EMAILS[1]]
    assert outcomes[EMAILS[0]].status is Status.UNPROCESSED
    assert "verify=" in (outcomes[EMAILS[0]].reason or "")
    with Journal(path) as journal:
        entry = journal.get(EMAILS[0])
        assert entry is not None and entry.needs_verify  # still to be checked next time


async def test_an_ambiguous_write_is_verified_not_blindly_resent(tmp_path: Path) -> None:
    server = Server()
    server.apply_then_drop = {EMAILS[0]}

    [outcome] = [o async for o in bulk.run(server.enrol, EMAILS[:1], verify=server.is_enrolled)]

    assert server.calls == [EMAILS[0]]
    assert outcome.status is Status.SUCCEEDED and outcome.verified


async def test_an_ambiguous_write_that_did_not_apply_is_sent_again() -> None:
    calls = 0

    async def fn(x: str) -> str:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ambiguous()
        return "created"

    async def verify(x: str) -> bool:
        return False

    [outcome] = [o async for o in bulk.run(fn, ["a"], verify=verify)]

    assert calls == 2 and outcome.status is Status.SUCCEEDED and outcome.value == "created"


async def test_without_verify_an_ambiguous_write_fails_and_stays_to_be_checked(
    tmp_path: Path,
) -> None:
    server = Server()
    server.apply_then_drop = {EMAILS[0]}
    path = tmp_path / "j.sqlite"

    [failed] = [o async for o in bulk.run(server.enrol, EMAILS[:1], journal=path)]
    assert failed.status is Status.FAILED and failed.error is not None
    assert failed.error.type == "AmbiguousWriteError"

    [again] = [o async for o in bulk.run(server.enrol, EMAILS[:1], journal=path)]
    assert again.status is Status.UNPROCESSED and server.calls == [EMAILS[0]]

    [checked] = [
        o async for o in bulk.run(server.enrol, EMAILS[:1], journal=path, verify=server.is_enrolled)
    ]
    assert checked.status is Status.SUCCEEDED and checked.verified
    assert server.calls == [EMAILS[0]] and server.applied == [EMAILS[0]]


async def test_duplicate_keys_in_one_run_are_done_once(tmp_path: Path) -> None:
    server = Server()
    items = [EMAILS[0], EMAILS[1], EMAILS[0]]

    outcomes = sorted(
        [o async for o in bulk.run(server.enrol, items, journal=tmp_path / "j.sqlite")],
        key=lambda o: o.index,
    )

    assert server.calls == [EMAILS[0], EMAILS[1]]
    assert outcomes[2].status is Status.SKIPPED
    assert outcomes[2].reason == "duplicate of input item 0 (same key)"


async def test_cancelling_leaves_the_journal_consistent(tmp_path: Path) -> None:
    server = Server()
    release = asyncio.Event()
    path = tmp_path / "j.sqlite"

    async def slow_enrol(email: str) -> str | Skipped:
        if EMAILS.index(email) >= 10:
            server.applied.append(email)  # applied, but the answer never comes back
            await release.wait()
        return await server.enrol(email)

    job = bulk.run(slow_enrol, EMAILS, journal=path, concurrency=3, name="enrol")
    seen: list[Outcome[str, str]] = []

    async def consume() -> None:
        async for o in job:
            seen.append(o)

    task = asyncio.create_task(consume())
    for _ in range(1000):
        if len(seen) == 10 and job.summary.total == 10:
            break
        await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    cut_off = [o.item for o in job.leftovers]
    assert len(cut_off) == 3 and all(o.status is Status.UNPROCESSED for o in job.leftovers)
    with Journal(path) as journal:
        states = {e.key: e.status for e in journal.entries()}
    assert all(states[o.item] == "succeeded" for o in seen)
    assert all(states[email] == "started" for email in cut_off)

    server.calls.clear()
    rerun = [
        o
        async for o in bulk.run(
            server.enrol, EMAILS, journal=path, verify=server.is_enrolled, name="enrol"
        )
    ]
    assert sorted(server.verified) == sorted(cut_off)
    assert not set(server.calls) & set(cut_off)  # applied ones confirmed, not re-sent
    assert len(rerun) == 20 and all(o.ok for o in rerun)
    assert sorted(server.applied) == sorted(EMAILS)


def test_a_file_that_is_not_a_journal_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello, this is not a database" * 100)
    with pytest.raises(bulk.JournalError, match=r"notes.txt: it is not a bulk journal"):
        Journal(path)
    with pytest.raises(ValueError, match="synchronous"):
        Journal(tmp_path / "j.sqlite", synchronous="OFF")  # type: ignore[arg-type]


_CHILD = """
import asyncio, os, sys
from iqualify_async import bulk

journal, log = sys.argv[1], sys.argv[2]

async def enrol(n):
    # apply the write (the "server" is a log file), then take a while to answer
    await asyncio.sleep(0.002 * (n % 3))
    with open(log, "a") as f:
        f.write(f"{n}\\n")
    await asyncio.sleep(0.01)
    return n

asyncio.run(bulk.run(enrol, range(400), concurrency=8, journal=journal, name="n").wait())
"""


def _applied(log: Path) -> list[int]:
    return [int(line) for line in log.read_text().split()] if log.exists() else []


def _run_child_and_kill_it(journal: Path, log: Path, *, after: int) -> None:
    child = subprocess.Popen([sys.executable, "-c", _CHILD, str(journal), str(log)])
    try:
        deadline = time.monotonic() + 30
        while len(_applied(log)) < after:
            assert child.poll() is None, "the job ended before it could be killed"
            assert time.monotonic() < deadline, "the job made no progress"
            time.sleep(0.005)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait()
    assert child.returncode == -signal.SIGKILL


@pytest.mark.slow
async def test_sigkill_then_rerun_redoes_nothing_and_accounts_for_everything(
    tmp_path: Path,
) -> None:
    journal, log = tmp_path / "job.sqlite", tmp_path / "applied.log"
    _run_child_and_kill_it(journal, log, after=100)

    with Journal(journal) as j:
        before = {e.key: e.status for e in j.entries()}
    done_before = {k for k, s in before.items() if s == "succeeded"}
    in_flight = {k for k, s in before.items() if s == "started"}
    assert done_before and in_flight
    applied_before = _applied(log)

    calls: list[int] = []
    verified: list[int] = []

    async def enrol(n: int) -> int:
        calls.append(n)
        await asyncio.sleep(0)
        return n

    async def verify(n: int) -> bool:
        verified.append(n)
        return n in applied_before

    outcomes = [
        o
        async for o in bulk.run(
            enrol, range(400), concurrency=8, journal=journal, verify=verify, name="n"
        )
    ]

    assert sorted(o.index for o in outcomes) == list(range(400))  # exactly one outcome each
    assert all(o.status is Status.SUCCEEDED for o in outcomes)
    assert not {str(n) for n in calls} & done_before  # nothing recorded done was redone
    assert {str(n) for n in verified} == in_flight  # in-flight items went through verify
    assert {o.key for o in outcomes if o.from_journal} == done_before
    assert sorted(applied_before + calls) == list(range(400)), "applied twice or never"


def test_both_journals_store_errors_with_one_helper() -> None:
    from iqualify_async.bulk import journal, journal_pg, ledger, people_files
    from iqualify_async.bulk.outcome import ErrorInfo

    error = ErrorInfo("NotFoundError", "404 ObjectNotFoundError: gone", 404, "X", {"a": [1]})
    assert journal.error_from_data(journal.error_data(error)) == error
    assert journal.error_from_data(None) is None
    assert journal_pg.error_data is journal.error_data
    assert journal_pg.error_from_data is journal.error_from_data
    # A people file tells a ledger by the ledger's own column list.
    assert people_files.LEDGER_META is ledger.LEDGER_META
