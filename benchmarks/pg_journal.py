"""Several workers, one PostgreSQL journal, one killed: ``python -m benchmarks.pg_journal``.

Three worker processes run the same 3,000-person enrolment (``bulk.enrol`` with
``journal=postgresql://...``) against the fake server with apply-then-drop and reset faults.
Once a third of the enrolment requests are applied, worker 0 is SIGKILLed; its claims expire
(``lease=1``) and the others verify those people before sending anything. Printed beside the
targets: everyone enrolled exactly once by the fake's own state, no enrolment request answered
207/400 (what a person sent twice gets), and a ledger of 3,000 rows built from the journal.

Needs PostgreSQL (``IQUALIFY_TEST_POSTGRES``, default
``postgresql://postgres@127.0.0.1:5432/test``) and the ``postgres`` extra; a schema of its own is
created and dropped.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from iqualify_async import Client, bulk
from iqualify_async.testing import FakeIQualify, Faults

KEY = "bench-key-3c1f0e9a77-SECRET"
ROUTE = "POST /offerings/{offeringId}/users"


@contextmanager
def fake_in_thread(faults: Faults) -> Iterator[FakeIQualify]:
    loop = asyncio.new_event_loop()
    fake = FakeIQualify(api_key=KEY, seed="demo", faults=faults)
    ready, stop = threading.Event(), asyncio.Event()

    async def main() -> None:
        async with fake:
            ready.set()
            await stop.wait()

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    if not ready.wait(10):
        raise RuntimeError("fake server did not start")
    try:
        yield fake
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(10)
        loop.close()


@contextmanager
def fresh_schema(base: str) -> Iterator[str]:
    import psycopg

    schema = f"iq_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(base, autocommit=True, connect_timeout=3) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        separator = "&" if "?" in base else "?"
        yield f"{base}{separator}options={quote(f'-csearch_path={schema}')}"
    finally:
        with psycopg.connect(base, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


async def worker(url: str, base_url: str, offering: str, people: int) -> None:
    logging.getLogger("iqualify_async").setLevel(logging.ERROR)  # the faults are expected
    emails = [f"bench.worker{n:05d}@example.org" for n in range(people)]
    async with Client(api_key=KEY, base_url=base_url, rate_limit=None) as iq:
        job = bulk.enrol(iq, offering, emails, journal=url, concurrency=4, batch_size=10)
        summary = await job
    print(
        json.dumps(
            {"total": summary.total, "ok": summary.ok, "own": summary.total - summary.from_journal}
        )
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=3000)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--worker", help=argparse.SUPPRESS)  # JSON: url, base_url, offering
    args = parser.parse_args()
    if args.worker:
        asyncio.run(worker(*json.loads(args.worker), args.people))
        return 0

    base = os.environ.get("IQUALIFY_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
    faults = Faults(latency_ms=10, jitter_ms=20, apply_then_drop_rate=0.02, reset_rate=0.02, seed=7)
    with fresh_schema(base) as schema_url, fake_in_thread(faults) as fake:
        url = f"{schema_url}&lease=1&poll=0.05"
        now = fake.state.clock()
        offering = sorted(
            o.id for o in fake.state.offerings.values() if o.timing(now) == "current"
        )[0]
        command = [sys.executable, "-m", "benchmarks.pg_journal", "--people", str(args.people)]
        started = time.monotonic()
        procs = [
            subprocess.Popen(
                [*command, "--worker", json.dumps([url, fake.base_url, offering])],
                stdout=subprocess.PIPE,
                text=True,
            )
            for _ in range(args.workers)
        ]
        batches = args.people // 10
        while fake.stats.writes[ROUTE] < batches // 3:
            if time.monotonic() - started > 120 or any(p.poll() is not None for p in procs):
                for p in procs:
                    p.kill()
                raise SystemExit("the workers made no progress")
            time.sleep(0.01)
        os.kill(procs[0].pid, signal.SIGKILL)
        killed_at = time.monotonic() - started
        results = [json.loads(p.communicate(timeout=300)[0]) for p in procs[1:]]
        procs[0].wait()
        elapsed = time.monotonic() - started
        members = fake.state.offerings[offering].enrolments
        enrolled = sum(1 for k in members if k.startswith("bench.worker"))
        answers = {
            status: n for (route, status), n in fake.stats.requests.items() if route == ROUTE
        }
        injected = dict(fake.stats.faults)
        with tempfile.TemporaryDirectory() as folder:
            rows = asyncio.run(bulk.ledger_from_journal(url, Path(folder) / "ledger.csv"))

    duplicates = answers.get(207, 0) + answers.get(400, 0)
    checks = [
        ("people enrolled (fake's state)", enrolled, f"= {args.people}", enrolled == args.people),
        ("enrolment answers 207/400 (a person sent twice)", duplicates, "= 0", duplicates == 0),
        ("ledger rows from the journal", rows, f"= {args.people}", rows == args.people),
        (
            "surviving workers reporting every person",
            sum(r["total"] == args.people and r["ok"] for r in results),
            f"= {args.workers - 1}",
            all(r["total"] == args.people and r["ok"] for r in results),
        ),
    ]
    print(
        f"{args.workers} workers, {args.people} people, worker 0 SIGKILLed at {killed_at:.1f}s; all done in {elapsed:.1f}s"
    )
    print(f"faults injected: {injected}; enrolment answers: {answers}")
    print(
        f"people each surviving worker enrolled or verified itself: {[r['own'] for r in results]}"
    )
    for name, value, target, met in checks:
        print(f"  {name:<50} {value:>6}   target {target:<8} {'ok' if met else 'MISSED'}")
    return 0 if all(met for *_, met in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
