"""The journal's edges: a full disk or broken ledger ends the job, one writer per file, a
removed ``-wal`` file forgets nothing, every problem names the file."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import errno
import functools
import gc
import io
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from iqualify_async import bulk
from iqualify_async.bulk import Journal, JournalError, JournalLockedError, Status
from iqualify_async.bulk.engine import default_job_name
from iqualify_async.cli import cli
from iqualify_async.testing import FakeIQualify

from .conftest import THREAD_KEY

EMAILS = [f"p{n}@example.com" for n in range(40)]


@contextlib.contextmanager
def small_tmpfs(where: Path, size: str) -> Iterator[Path]:
    """A tmpfs of ``size`` mounted at ``where`` (root only: CI runs as root)."""
    if os.geteuid() != 0:
        pytest.skip("needs root to mount a small tmpfs (CI runs as root)")
    where.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


# -- a failing journal or ledger ends the job --------------------------------------------------


class FullAfter(Journal):
    """A journal whose disk fills up after ``room`` started marks."""

    def __init__(self, path: Path, room: int) -> None:
        super().__init__(path)
        self.room = room
        self.marked: list[str] = []

    def mark_started(self, key: str, *, run: int, index: int) -> None:
        if len(self.marked) >= self.room:
            raise JournalError(self.path, "cannot write it: the disk is full (injected)")
        super().mark_started(key, run=run, index=index)
        self.marked.append(key)


async def test_a_started_mark_that_cannot_be_written_stops_new_calls(tmp_path: Path) -> None:
    calls: list[str] = []

    async def enrol(email: str) -> str:
        calls.append(email)
        await asyncio.sleep(0)
        return "enrolled"

    journal = FullAfter(tmp_path / "j.sqlite", room=10)
    job = bulk.run(enrol, EMAILS, journal=journal, concurrency=4)
    outcomes = []
    with pytest.raises(JournalError, match=r"j\.sqlite: cannot write it: the disk is full"):
        async for outcome in job:
            outcomes.append(outcome)
    journal.close()

    assert calls == journal.marked  # no call without its mark on disk, none after the failure
    assert sorted(o.index for o in outcomes) == list(range(40))
    done = {o.item for o in outcomes if o.status is Status.SUCCEEDED}
    assert done == set(calls) and len(done) == 10
    assert all(o.status is Status.UNPROCESSED for o in outcomes if o.item not in done)
    assert job.summary.unprocessed == 30 and "disk is full" in (job.summary.stopped or "")


async def test_a_journal_on_a_full_disk_ends_the_job_instead_of_hanging(tmp_path: Path) -> None:
    items = [f"person-{n:05d}-{'x' * 200}@example.com" for n in range(3000)]
    calls: list[str] = []

    async def enrol(email: str) -> str:
        calls.append(email)
        return "enrolled"

    with small_tmpfs(tmp_path / "small", "256k") as disk:
        path = disk / "job.sqlite"
        job = bulk.run(enrol, items, journal=path, concurrency=20)
        outcomes: list[bulk.Outcome[str, str]] = []

        async def consume() -> None:
            async for outcome in job:
                outcomes.append(outcome)

        with pytest.raises(JournalError) as failed:
            await asyncio.wait_for(consume(), timeout=60)

    assert failed.value.path == str(path) and "disk is full" in str(failed.value)
    assert sorted(o.index for o in outcomes) == list(range(3000))  # every item accounted for
    assert 0 < len(calls) < 3000
    assert job.summary.succeeded == len(calls) and job.summary.unprocessed == 3000 - len(calls)


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
async def test_a_ledger_that_cannot_be_written_ends_the_job_naming_it(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.csv"
    # Ledgers are written beside their target, then renamed into place: that file is full.
    (tmp_path / "ledger.csv.partial").symlink_to("/dev/full")
    calls: list[int] = []

    async def fn(n: int) -> int:
        calls.append(n)
        return n

    with pytest.raises(bulk.LedgerError, match=r"ledger .*ledger\.csv: cannot write it"):
        await asyncio.wait_for(
            bulk.run(fn, range(20_000), concurrency=5).wait(ledger=ledger), timeout=60
        )
    assert len(calls) < 20_000


# -- one writer per journal ----------------------------------------------------------------------

_HOLDER = """
import sys
from iqualify_async.bulk import Journal
journal = Journal(sys.argv[1])
print("holding", flush=True)
sys.stdin.read()
"""


@contextlib.contextmanager
def held_by_another_process(path: Path) -> Iterator[subprocess.Popen[str]]:
    child = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "holding"
        yield child
    finally:
        if child.poll() is None:
            child.kill()
        child.wait()


async def test_a_second_writer_is_refused_naming_the_holder(tmp_path: Path) -> None:
    path = tmp_path / "job.sqlite"
    calls: list[str] = []

    async def enrol(email: str) -> str:
        calls.append(email)
        return "enrolled"

    ledger = tmp_path / "ledger.csv"
    ledger.write_text("the holder's ledger\n")
    before = time.time()
    with held_by_another_process(path) as holder:
        with pytest.raises(JournalLockedError) as refused:
            Journal(path)
        with pytest.raises(JournalLockedError):
            await bulk.run(enrol, EMAILS, journal=path).wait(ledger=ledger)
        assert ledger.read_text() == "the holder's ledger\n"  # not truncated by the refused run
        # The holder is killed: its lock goes with it and is taken over.
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
        summary = await bulk.run(enrol, EMAILS, journal=path)

    error = refused.value
    assert (error.path, error.pid, error.host) == (str(path), holder.pid, socket.gethostname())
    assert error.since is not None and before - 1 <= error.since.timestamp() <= time.time()
    text = str(error)
    assert str(path) in text and f"process {holder.pid} on host {socket.gethostname()}" in text
    assert summary.succeeded == 40 and calls == EMAILS  # nothing was called while it was held


def _enrol(fake: FakeIQualify, tmp_path: Path, journal: Path) -> Result:
    people = tmp_path / "people.csv"
    people.write_text("email\nann@example.org\n", encoding="utf-8")
    offering = sorted(fake.state.offerings)[0]
    env = {"IQUALIFY_API_KEY": THREAD_KEY, "IQUALIFY_BASE_URL": fake.base_url}
    args = ["enrol", "--offering", offering, str(people), "--ledger", str(tmp_path / "l.csv")]
    return CliRunner().invoke(cli, [*args, "--journal", str(journal)], env=env)


def test_the_command_line_exits_2_on_a_held_journal(
    tmp_path: Path, threaded_fake: FakeIQualify
) -> None:
    journal = tmp_path / "job.db"
    with held_by_another_process(journal) as holder:
        result = _enrol(threaded_fake, tmp_path, journal)
    assert result.exit_code == 2, result.output
    assert f"error: journal {journal}: in use by another job (process {holder.pid}" in (
        result.stderr
    )
    assert not threaded_fake.stats.writes  # nothing was sent


# -- a removed -wal file -------------------------------------------------------------------------

_KILLED_MID_RUN = """
import os, signal, sys
from iqualify_async.bulk import Journal, Status
journal = Journal(sys.argv[1])
run = journal.begin_run()
journal.mark_started("b", run=run, index=1)
journal.mark_finished("b", Status.FAILED, run=run, index=1, commit=True)
journal.mark_started("a", run=run, index=0)  # its call is being made when the process dies
os.kill(os.getpid(), signal.SIGKILL)
"""


def _killed_mid_run_then_wal_removed(path: Path) -> None:
    child = subprocess.run([sys.executable, "-c", _KILLED_MID_RUN, str(path)], check=False)
    assert child.returncode == -signal.SIGKILL
    os.remove(f"{path}-wal")  # what a tidy-minded user or a careless copy does


async def test_a_removed_wal_file_never_makes_a_started_item_look_new(tmp_path: Path) -> None:
    path = tmp_path / "job.sqlite"
    _killed_mid_run_then_wal_removed(path)

    calls: list[str] = []
    checked: list[str] = []

    async def enrol(email: str) -> str:
        calls.append(email)
        return "enrolled"

    async def verify(email: str) -> bool:
        checked.append(email)
        return email == "a"  # "a" was applied by the killed run

    without = {o.item: o async for o in bulk.run(enrol, ["a", "b"], journal=path)}
    assert calls == []  # nothing re-sent blindly
    assert {o.status for o in without.values()} == {Status.UNPROCESSED}

    outcomes = {o.item: o async for o in bulk.run(enrol, ["a", "b"], journal=path, verify=verify)}
    assert sorted(checked) == ["a", "b"]
    assert outcomes["a"].verified and outcomes["a"].status is Status.SUCCEEDED
    assert calls == ["b"]


@pytest.mark.parametrize("kept", ["without-lock", "copied"])
async def test_a_lost_wal_is_noticed_without_the_lock_file(tmp_path: Path, kept: str) -> None:
    path = tmp_path / "job.sqlite"
    _killed_mid_run_then_wal_removed(path)
    if kept == "without-lock":
        os.remove(f"{path}.lock")
    else:
        copy = tmp_path / "elsewhere" / "job.sqlite"
        copy.parent.mkdir()
        copy.write_bytes(path.read_bytes())  # only the main file
        path = copy

    calls: list[str] = []
    checked: list[str] = []

    async def enrol(email: str) -> str:
        calls.append(email)
        return "enrolled"

    async def verify(email: str) -> bool:
        checked.append(email)
        return email == "a"

    outcomes = {o.item: o async for o in bulk.run(enrol, ["a", "b"], journal=path, verify=verify)}
    assert sorted(checked) == ["a", "b"]  # "a" was started: verified, never re-sent blindly
    assert outcomes["a"].verified and calls == ["b"]
    with Journal(path) as again:
        assert again.suspect


def test_a_journal_dropped_without_closing_is_not_taken_for_a_lost_wal(tmp_path: Path) -> None:
    path = tmp_path / "job.sqlite"
    journal = Journal(path)
    run = journal.begin_run()
    journal.mark_finished("a", Status.SUCCEEDED, run=run, index=0)
    del journal
    gc.collect()  # closes its database, which removes the -wal file
    with Journal(path) as again:
        assert not again.suspect
        assert again.get("b") is None and again.counts() == {"succeeded": 1}


# -- every problem names the file ----------------------------------------------------------------


def _corrupt(path: Path) -> None:
    with Journal(path) as journal:
        run = journal.begin_run()
        for n in range(300):
            journal.mark_finished(f"k{n}", Status.SUCCEEDED, run=run, index=n, value="x" * 100)
    data = bytearray(path.read_bytes())
    for offset in range(4096, len(data), 4096):  # leave the header, scramble page headers
        data[offset : offset + 12] = b"\xa5" * 12
    path.write_bytes(bytes(data))


def test_a_corrupt_journal_is_named(tmp_path: Path) -> None:
    path = tmp_path / "job.sqlite"
    _corrupt(path)
    with pytest.raises(JournalError) as failed:
        with Journal(path) as journal:
            list(journal.entries())
    assert str(failed.value).startswith(f"journal {path}: it is corrupt (")
    assert "malformed" in str(failed.value)


def test_a_database_of_something_else_is_not_taken_over(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute("CREATE TABLE customers (name TEXT)")
        db.commit()
    with pytest.raises(JournalError, match=r"app\.db: it is not a bulk journal"):
        Journal(path)
    with contextlib.closing(sqlite3.connect(path)) as db:
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert tables == {"customers"}


def test_a_missing_directory_is_named(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "job.sqlite"
    with pytest.raises(JournalError, match=r"job\.sqlite: its directory .*nowhere does not exist"):
        Journal(path)


def test_read_only_journals_and_directories_are_named(tmp_path: Path) -> None:
    with small_tmpfs(tmp_path / "ro", "1m") as disk:
        with Journal(disk / "job.sqlite") as journal:
            journal.begin_run()
        subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
        with pytest.raises(JournalError) as existing:
            Journal(disk / "job.sqlite")
        with pytest.raises(JournalError) as new:
            Journal(disk / "new.sqlite")
    assert str(existing.value).startswith(f"journal {disk / 'job.sqlite'}: ")
    assert "Read-only file system" in str(existing.value)
    assert str(new.value).startswith(f"journal {disk / 'new.sqlite'}: ")


def test_the_command_line_exits_2_on_a_corrupt_journal(
    tmp_path: Path, threaded_fake: FakeIQualify
) -> None:
    journal = tmp_path / "job.db"
    _corrupt(journal)
    result = _enrol(threaded_fake, tmp_path, journal)
    assert result.exit_code == 2, result.output
    assert not threaded_fake.stats.writes
    assert result.stderr.startswith(f"error: journal {journal}: it is corrupt")


class _FullDisk(io.StringIO):
    """A lock file on a full disk: nothing written to it reaches the disk."""

    def flush(self) -> None:
        if self.getvalue():
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_a_lock_file_on_a_full_disk_is_named(
    tmp_path: Path, threaded_fake: FakeIQualify, monkeypatch: pytest.MonkeyPatch
) -> None:
    from iqualify_async.bulk import journal_lock

    journal = tmp_path / "job.db"
    monkeypatch.setattr(journal_lock, "open", lambda *a, **k: _FullDisk(), raising=False)
    monkeypatch.setattr(journal_lock, "_fcntl", None)
    with pytest.raises(JournalError) as failed:
        Journal(journal)
    assert failed.value.path == str(journal)
    assert (
        str(failed.value)
        == f"journal {journal}: cannot write its lock file: No space left on device"
    )
    assert failed.value.__context__ is None

    result = _enrol(threaded_fake, tmp_path, journal)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"error: journal {journal}: cannot write its lock file")
    assert not threaded_fake.stats.writes
    assert not (tmp_path / "l.csv").exists() and not (tmp_path / "l.csv.partial").exists()


# -- a journal knows its job and its values -------------------------------------------------------


async def test_an_unnamed_job_does_not_replay_another_jobs_journal(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    removed: list[str] = []

    async def add(email: str) -> str:
        return "added"

    async def remove(email: str) -> str:
        removed.append(email)
        return "removed"

    await bulk.run(add, EMAILS[:3], journal=path)
    with pytest.raises(bulk.JournalMismatchError, match=r"\(test_.*<locals>\.add\)"):
        await bulk.run(remove, EMAILS[:3], journal=path)
    assert removed == []
    assert (await bulk.run(remove, EMAILS[:3], journal=tmp_path / "other.sqlite")).succeeded == 3
    assert removed == EMAILS[:3]


def test_default_job_names_are_the_same_in_every_run() -> None:
    async def send(client: object, offering: str, email: str) -> None: ...

    one = functools.partial(send, object(), offering="O1")
    other = functools.partial(send, object(), offering="O2")
    name = default_job_name(one)
    assert name.endswith("<locals>.send(object, offering='O1')")
    assert default_job_name(functools.partial(send, object(), offering="O1")) == name
    assert default_job_name(other) != name


def adder(group: str) -> Callable[[str], Awaitable[str]]:
    async def add(email: str) -> str:
        return group

    return add


async def test_closures_over_other_values_are_other_jobs(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    sent: list[tuple[str, str]] = []

    def adder_logging(group: str) -> Callable[[str], Awaitable[str]]:
        async def add(email: str) -> str:
            sent.append((group, email))
            return group

        return add

    assert (await bulk.run(adder_logging("G1"), EMAILS[:3], journal=path)).succeeded == 3
    with pytest.raises(bulk.JournalMismatchError):
        await bulk.run(adder_logging("G2"), EMAILS[:3], journal=path)
    assert sent == [("G1", e) for e in EMAILS[:3]]
    again = await bulk.run(adder_logging("G1"), EMAILS[:3], journal=path)
    assert again.from_journal == 3 and len(sent) == 3


def test_default_job_names_hold_closure_values_and_defaults() -> None:
    assert default_job_name(adder("G1")).endswith("adder.<locals>.add(group='G1')")
    assert default_job_name(adder("G1")) == default_job_name(adder("G1"))
    assert default_job_name(adder("G1")) != default_job_name(adder("G2"))
    one = lambda e, group="G1", n=2: e  # noqa: E731
    other = lambda e, group="G2", n=2: e  # noqa: E731
    assert default_job_name(one).endswith("<lambda>(group='G1', n=2)")
    assert default_job_name(one) != default_job_name(other)

    def keyword(e: str, *, flag: bool = True, client: object = object()) -> str:
        return e

    assert default_job_name(keyword).endswith("keyword(flag=True, client=object)")


async def test_replayed_outcomes_keep_their_value_and_are_counted(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"

    async def enrol(email: str) -> dict[str, str]:
        return {"id": f"id-{email}"}

    await bulk.run(enrol, EMAILS[:5], journal=path)
    job = bulk.run(enrol, EMAILS[:6], journal=path)
    outcomes = [o async for o in job]
    replayed = [o for o in outcomes if o.from_journal]
    assert [o.value for o in replayed] == [{"id": f"id-{e}"} for e in EMAILS[:5]]
    assert job.summary.from_journal == 5 and job.summary.succeeded == 6


def test_the_ledger_of_a_journal_has_a_row_per_item(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"

    async def fn(item: dict[str, int]) -> dict[str, int]:
        if item["id"] == 3:
            raise ValueError("refused")
        return {"double": item["id"] * 2}

    asyncio.run(bulk.run(fn, [{"id": n} for n in range(5)], journal=path).wait())
    out = tmp_path / "ledger.csv"
    result = CliRunner().invoke(cli, ["ledger", "--journal", str(path), str(out)])
    assert result.exit_code == 1  # one item failed
    assert f"Ledger: {out} (5 rows: 1 failed, 4 succeeded)" in result.stdout
    with out.open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert [(r["id"], r["outcome"], r["value"]) for r in rows] == [
        ("0", "succeeded", '{"double": 0}'),
        ("1", "succeeded", '{"double": 2}'),
        ("2", "succeeded", '{"double": 4}'),
        ("3", "failed", ""),
        ("4", "succeeded", '{"double": 8}'),
    ]
    missing = CliRunner().invoke(cli, ["ledger", "--journal", str(tmp_path / "no.db"), str(out)])
    assert missing.exit_code == 2
    assert "no.db: there is no journal at this path" in missing.stderr


def test_a_journal_failing_mid_run_keeps_the_partial_ledger(
    tmp_path: Path, threaded_fake: FakeIQualify, monkeypatch: pytest.MonkeyPatch
) -> None:
    marked: list[str] = []
    original = Journal.mark_started

    def fills_up(self: Journal, key: str, *, run: int, index: int) -> None:
        if len(marked) >= 7:
            raise JournalError(self.path, "cannot write it: the disk is full (injected)")
        original(self, key, run=run, index=index)
        marked.append(key)

    monkeypatch.setattr(Journal, "mark_started", fills_up)
    people = tmp_path / "people.csv"
    people.write_text("email\n" + "".join(f"p{n}@example.org\n" for n in range(60)))
    offering = sorted(threaded_fake.state.offerings)[0]
    env = {"IQUALIFY_API_KEY": THREAD_KEY, "IQUALIFY_BASE_URL": threaded_fake.base_url}
    ledger = tmp_path / "l.csv"
    args = ["enrol", "--offering", offering, str(people), "--ledger", str(ledger)]
    result = CliRunner().invoke(cli, [*args, "--journal", str(tmp_path / "j.db")], env=env)
    assert result.exit_code == 2, result.output
    assert "disk is full" in result.stderr
    assert not ledger.exists()
    with open(f"{ledger}.partial", newline="") as f:
        rows = list(csv.DictReader(f))
    assert sum(r["outcome"] == "succeeded" for r in rows) == 7
