"""Bulk enrolment killed with SIGKILL mid-run, then run again with the same journal."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from iqualify_async import Client, RateLimit, RetryPolicy, bulk
from iqualify_async.bulk import Journal
from iqualify_async.testing import FakeIQualify, Faults

from ._fake_thread import fake_in_thread

KEY = "resume-key-0123456789"
ADD = "POST /offerings/{offeringId}/users"
PEOPLE = [f"resume.{n:03d}@example.org" for n in range(300)]

CHILD = textwrap.dedent(
    """
    import asyncio, sys
    from iqualify_async import Client, RateLimit, bulk

    async def main(base_url, offering_id, journal):
        people = [f"resume.{n:03d}@example.org" for n in range(300)]
        limit = RateLimit(max_concurrency=4, requests_per_second=None)
        async with Client(api_key="resume-key-0123456789", base_url=base_url, rate_limit=limit) as iq:
            await bulk.enrol(iq, offering_id, people, concurrency=2, batch_size=5, journal=journal)

    asyncio.run(main(*sys.argv[1:]))
    """
)


def _enrol_in_a_child_and_kill_it(fake: FakeIQualify, offering_id: str, journal: Path) -> int:
    """Start the enrolment in another process; SIGKILL it once 60 people are enrolled."""
    members = fake.state.offering(offering_id).enrolments
    before = len(members)
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, fake.base_url, offering_id, str(journal)],
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
    )
    deadline = time.monotonic() + 20
    while len(members) - before < 60 and time.monotonic() < deadline:
        assert child.poll() is None, "the job ended before it could be killed"
        time.sleep(0.005)
    child.send_signal(signal.SIGKILL)
    child.wait(10)
    return len(members) - before


async def test_a_killed_enrolment_resumes_from_its_journal(tmp_path: Path) -> None:
    journal, ledger = tmp_path / "enrol.sqlite", tmp_path / "ledger.csv"
    with fake_in_thread(api_key=KEY, seed="demo", faults=Faults(latency_ms=25)) as fake:
        offering_id = sorted(fake.state.offerings)[0]
        members = fake.state.offering(offering_id).enrolments
        before, users_before = len(members), len(fake.state.users)
        enrolled_at_kill = _enrol_in_a_child_and_kill_it(fake, offering_id, journal)
        assert 60 <= enrolled_at_kill < 300
        with Journal(journal) as j:
            entries = {e.key: e.status for e in j.entries()}
        done = {k for k, s in entries.items() if s == "succeeded"}
        assert done and len(done) <= enrolled_at_kill

        fake.faults.latency_ms = 0
        limit = RateLimit(max_concurrency=10, requests_per_second=None)
        retry = RetryPolicy(backoff_base=0.001)
        async with Client(api_key=KEY, base_url=fake.base_url, rate_limit=limit, retry=retry) as iq:
            job = bulk.enrol(iq, offering_id, PEOPLE, batch_size=20, journal=journal)
            summary = await job.wait(ledger=ledger)
        assert (summary.total, summary.failed, summary.unprocessed) == (300, 0, 0)
        assert summary.from_journal == len(done)
        rows = list(csv.DictReader(ledger.open()))
        assert sorted(int(r["index"]) for r in rows) == list(range(300))
        assert {r["outcome"] for r in rows} == {"succeeded"}  # in-flight ones were found applied
        assert set(PEOPLE) <= set(members) and len(members) - before == 300
        assert len(fake.state.users) - users_before == 300
        assert fake.stats.requests[(ADD, 400)] == 0  # nobody enrolled before was sent again
