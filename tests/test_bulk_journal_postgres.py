"""The PostgreSQL journal: the SQLite journal's promises, plus several workers on one job."""

from __future__ import annotations

import asyncio
import csv
import json
import os
import pickle
import signal
import subprocess
import sys
import time
import traceback
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from iqualify_async import bulk
from iqualify_async.bulk import PostgresJournal, Skipped
from iqualify_async.cli import cli
from iqualify_async.testing import FakeIQualify, Faults

from ._fake_thread import fake_in_thread
from ._postgres_service import fresh_schema
from .conftest import THREAD_KEY

pytestmark = pytest.mark.services


@pytest.fixture
def postgres_schema() -> Iterator[str]:
    with fresh_schema() as url:
        yield url


EMAILS = [f"p{n}@example.com" for n in range(20)]


async def test_a_rerun_replays_done_items_with_their_values(postgres_schema: str) -> None:
    url = f"{postgres_schema}&journal=first"
    calls: list[str] = []
    refuse = {EMAILS[3]}

    async def enrol(email: str) -> dict[str, str] | Skipped:
        calls.append(email)
        if email in refuse:
            raise ValueError(f"{email} refused")
        if email == EMAILS[5]:
            return Skipped("already enrolled")
        return {"id": f"id-{email}"}

    first = await bulk.run(enrol, EMAILS, journal=url, concurrency=4)
    assert (first.succeeded, first.skipped, first.failed) == (18, 1, 1)

    refuse.clear()
    calls.clear()
    job = bulk.run(enrol, EMAILS, journal=url)
    outcomes = {o.item: o async for o in job}
    assert calls == [EMAILS[3]]  # only the failed one is tried again
    assert job.summary.from_journal == 19 and job.summary.ok
    assert outcomes[EMAILS[0]].from_journal and outcomes[EMAILS[0]].value == {
        "id": f"id-{EMAILS[0]}"
    }
    assert outcomes[EMAILS[5]].reason == "already enrolled"

    # Another journal name in the same database is another journal; another job is refused.
    async def other(email: str) -> str:
        return "x"

    assert (
        await bulk.run(other, EMAILS, journal=f"{postgres_schema}&journal=second")
    ).succeeded == 20
    with pytest.raises(bulk.JournalMismatchError, match=r"journal=first: the journal of another"):
        await bulk.run(other, EMAILS, journal=url)


async def test_an_unreachable_database_is_named_without_its_password() -> None:
    url = "postgresql://someone:s3cret-pw@127.0.0.1:1/test?connect_timeout=2"
    with pytest.raises(bulk.JournalError) as failed:
        await bulk.run(lambda e: asyncio.sleep(0), EMAILS, journal=url)
    text = str(failed.value)
    assert text.startswith("journal postgresql://someone@127.0.0.1:1/test?journal=default: ")
    assert "s3cret-pw" not in text and "s3cret-pw" not in repr(failed.value.__cause__)


def _linked(error: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    todo = [error]
    while todo:
        current = todo.pop()
        if any(current is s for s in seen):
            continue
        seen.append(current)
        todo.extend(e for e in (current.__cause__, current.__context__) if e is not None)
    return seen


async def test_no_exception_reachable_from_a_journal_error_holds_the_password() -> None:
    url = "postgresql://someone:s3cret-pw@127.0.0.1:1/test"
    with pytest.raises(bulk.JournalError) as failed:
        await bulk.run(lambda e: asyncio.sleep(0), EMAILS, journal=url)
    assert "s3cret-pw" not in "".join(traceback.format_exception(failed.value))
    for linked in _linked(failed.value):
        for text in (repr(linked), str(linked), *(repr(v) for v in vars(linked).values())):
            assert "s3cret-pw" not in text, (type(linked).__name__, text)
        assert b"s3cret-pw" not in pickle.dumps(linked), type(linked).__name__
    assert failed.value.__context__ is None and failed.value.__cause__ is None


_WORKER = """
import asyncio, sys
from iqualify_async import bulk

url, log = sys.argv[1], sys.argv[2]

async def enrol(n):
    await asyncio.sleep(0.002 * (n % 3))
    with open(log, "a") as f:  # the "server": applied writes, one line each
        f.write(f"{n}\\n")
    await asyncio.sleep(0.01)
    return n

asyncio.run(bulk.run(enrol, range(300), concurrency=8, journal=url, name="n").wait())
"""


def _applied(log: Path) -> list[int]:
    return [int(line) for line in log.read_text().split()] if log.exists() else []


def _kill_after(url: str, log: Path, after: int) -> None:
    child = subprocess.Popen([sys.executable, "-c", _WORKER, url, str(log)])
    try:
        deadline = time.monotonic() + 30
        while len(_applied(log)) < after:
            assert child.poll() is None, "the job ended before it could be killed"
            assert time.monotonic() < deadline, "the job made no progress"
            time.sleep(0.005)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait()


async def test_a_killed_workers_items_are_verified_after_its_lease_expires(
    postgres_schema: str, tmp_path: Path
) -> None:
    url = f"{postgres_schema}&lease=0.5&poll=0.05"
    log = tmp_path / "applied.log"
    _kill_after(url, log, after=60)
    applied_before = _applied(log)
    async with PostgresJournal(url) as journal:
        counts = await journal.counts()
    assert counts.get("started", 0) > 0 and counts.get("succeeded", 0) > 0

    calls: list[int] = []
    verified: list[int] = []

    async def enrol(n: int) -> int:
        calls.append(n)
        return n

    async def verify(n: int) -> bool:
        verified.append(n)
        return n in applied_before

    # Resumed from "another machine": nothing but the URL.
    outcomes = [
        o
        async for o in bulk.run(
            enrol, range(300), journal=url, verify=verify, name="n", concurrency=8
        )
    ]
    assert sorted(o.index for o in outcomes) == list(range(300))
    assert all(o.ok for o in outcomes)
    assert len(verified) == counts["started"]  # every item in flight at the kill was checked
    assert sorted(applied_before + calls) == list(range(300)), "applied twice or never"

    ledger = tmp_path / "ledger.csv"
    assert await bulk.ledger_from_journal(url, ledger) == 300
    with ledger.open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["index"]) for r in rows] == list(range(300))
    assert {r["outcome"] for r in rows} == {"succeeded"}


_ENROLLER = """
import asyncio, json, logging, sys
from iqualify_async import Client, bulk
logging.getLogger("iqualify_async").setLevel(logging.ERROR)

url, base_url, key, offering, count = sys.argv[1:6]
people = [f"worker.test{n:04d}@example.org" for n in range(int(count))]

async def main():
    async with Client(api_key=key, base_url=base_url, rate_limit=None) as iq:
        job = bulk.enrol(iq, offering, people, journal=url, concurrency=2, batch_size=10)
        summary = await job
        print(json.dumps({"total": summary.total, "ok": summary.ok}), flush=True)

asyncio.run(main())
"""


@pytest.mark.slow
def test_three_workers_one_killed_enrol_everyone_exactly_once(
    postgres_schema: str, tmp_path: Path
) -> None:
    count = 600
    url = f"{postgres_schema}&lease=1&poll=0.05"
    faults = Faults(
        latency_ms=10, jitter_ms=10, apply_then_drop_rate=0.03, reset_rate=0.03, seed=11
    )
    with fake_in_thread(api_key=THREAD_KEY, seed="demo", faults=faults) as fake:
        now = fake.state.clock()
        offering = sorted(
            o.id for o in fake.state.offerings.values() if o.timing(now) == "current"
        )[0]
        args = [url, fake.base_url, THREAD_KEY, offering, str(count)]
        workers = [
            subprocess.Popen(
                [sys.executable, "-c", _ENROLLER, *args], stdout=subprocess.PIPE, text=True
            )
            for _ in range(3)
        ]
        try:
            route = "POST /offerings/{offeringId}/users"
            deadline = time.monotonic() + 60
            while fake.stats.writes[route] < 15:
                assert time.monotonic() < deadline, "the workers made no progress"
                time.sleep(0.01)
            os.kill(workers[0].pid, signal.SIGKILL)
            results = [json.loads(w.communicate(timeout=120)[0]) for w in workers[1:]]
        finally:
            for w in workers:
                if w.poll() is None:
                    w.kill()
                w.wait()
        answers = {status: n for (r, status), n in fake.stats.requests.items() if r == route}
        injected = dict(fake.stats.faults)
        members = fake.state.offerings[offering].enrolments
        enrolled = {key for key in members if key.startswith("worker.test")}

    assert workers[0].returncode == -signal.SIGKILL
    assert all(r == {"total": count, "ok": True} for r in results)  # each saw every person
    assert len(enrolled) == count  # everyone enrolled ...
    # ... and no one sent twice: that would be answered 207 or 400 (0: a dropped connection)
    assert set(answers) <= {201, 0} and answers[201] > 0, answers
    assert injected["apply_then_drop"] and injected["reset"]
    ledger = tmp_path / "ledger.csv"
    result = CliRunner().invoke(cli, ["ledger", "--journal", url, str(ledger), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "ledger": str(ledger),
        "rows": count,
        "outcomes": {"succeeded": count},
    }
    with ledger.open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert sorted(r["email"] for r in rows) == sorted(
        f"worker.test{n:04d}@example.org" for n in range(count)
    )


def test_the_command_line_enrols_with_a_postgresql_journal(
    postgres_schema: str, tmp_path: Path, threaded_fake: FakeIQualify
) -> None:
    people = tmp_path / "people.csv"
    people.write_text("email\nann.pg@example.org\nbob.pg@example.org\n", encoding="utf-8")
    now = threaded_fake.state.clock()
    offering = next(
        o.id for o in threaded_fake.state.offerings.values() if o.timing(now) == "current"
    )
    env = {"IQUALIFY_API_KEY": THREAD_KEY, "IQUALIFY_BASE_URL": threaded_fake.base_url}
    args = ["enrol", "--offering", offering, str(people), "--journal", postgres_schema, "--json"]
    first = CliRunner().invoke(cli, [*args, "--ledger", str(tmp_path / "1.csv")], env=env)
    again = CliRunner().invoke(cli, [*args, "--ledger", str(tmp_path / "2.csv")], env=env)
    assert (first.exit_code, again.exit_code) == (0, 0), first.output + again.output
    assert json.loads(first.stdout)["enrol"]["succeeded"] == 2
    assert json.loads(again.stdout)["enrol"]["from_journal"] == 2


async def test_two_workers_share_the_items_and_each_reports_all(postgres_schema: str) -> None:
    url = f"{postgres_schema}&poll=0.02"
    calls: list[tuple[str, str]] = []
    release = asyncio.Event()

    def worker(name: str) -> Callable[[str], Awaitable[str]]:
        async def enrol(email: str) -> str:
            calls.append((name, email))
            if email == EMAILS[0]:
                await release.wait()  # held by A while B reads it
                raise ValueError("refused")
            await asyncio.sleep(0.001)
            return name

        return enrol

    a = bulk.run(worker("a"), EMAILS, journal=url, name="enrol", concurrency=2)
    b = bulk.run(worker("b"), EMAILS, journal=url, name="enrol", concurrency=2)
    a_task = asyncio.create_task(a.wait())
    for _ in range(1000):  # until A holds the first item
        if calls:
            break
        await asyncio.sleep(0.01)
    b_task = asyncio.create_task(b.wait())
    for _ in range(1000):  # until B has read every item (the first one is put aside)
        if b.read == len(EMAILS):
            break
        await asyncio.sleep(0.01)
    release.set()
    a_summary, b_summary = await asyncio.wait_for(asyncio.gather(a_task, b_task), 30)

    assert sorted(email for _, email in calls) == sorted(EMAILS)  # each item called once
    assert a_summary.total == b_summary.total == len(EMAILS)  # each worker reports every item
    assert a_summary.failed == b_summary.failed == 1  # A's failure, replayed by B
    assert a_summary.from_journal + b_summary.from_journal == len(EMAILS)


async def test_a_call_longer_than_the_lease_is_not_taken_over(postgres_schema: str) -> None:
    url = f"{postgres_schema}&lease=0.3&poll=0.05"
    calls: list[tuple[str, str]] = []
    verified: list[str] = []
    started = asyncio.Event()

    def worker(name: str) -> Callable[[str], Awaitable[str]]:
        async def enrol(email: str) -> str:
            calls.append((name, email))
            started.set()
            await asyncio.sleep(1.0)  # over three leases: the holder keeps renewing its claim
            return name

        return enrol

    async def verify(email: str) -> bool:
        verified.append(email)
        return False

    a = asyncio.create_task(bulk.run(worker("a"), ["x"], journal=url, name="n").wait())
    await asyncio.wait_for(started.wait(), 10)
    b = await bulk.run(worker("b"), ["x"], journal=url, name="n", verify=verify)
    assert (await a).succeeded == 1
    assert calls == [("a", "x")] and verified == []  # B waited, then took A's outcome
    assert b.from_journal == 1 and b.succeeded == 1


async def test_losing_the_database_mid_run_ends_the_job_naming_it(postgres_schema: str) -> None:
    import psycopg

    tag = f"iqtest-{os.getpid()}-{time.monotonic_ns()}"
    url = f"{postgres_schema}&application_name={tag}"
    calls: list[int] = []

    async def fn(n: int) -> int:
        calls.append(n)
        if n == 50:
            async with await psycopg.AsyncConnection.connect(url, autocommit=True) as admin:
                await admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE application_name = %s AND pid <> pg_backend_pid()",
                    (tag,),
                )
        return n

    job = bulk.run(fn, range(200), journal=url, concurrency=4)
    outcomes: list[bulk.Outcome[int, int]] = []

    async def consume() -> None:
        async for outcome in job:
            outcomes.append(outcome)

    with pytest.raises(bulk.JournalError) as failed:
        await asyncio.wait_for(consume(), 30)
    assert str(failed.value).startswith("journal postgresql://postgres@")
    assert sorted(o.index for o in outcomes) == list(range(200))  # every item accounted for
    assert len(calls) < 200 and job.summary.unprocessed >= 200 - len(calls)
