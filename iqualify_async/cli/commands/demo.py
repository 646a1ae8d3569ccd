"""``iqualify demo``: the main job, end to end, against the embedded fake server."""

from __future__ import annotations

import asyncio
import secrets
import tempfile
import time
from pathlib import Path
from typing import Any

import click

from ..app import configure_logging
from ..errors import EXIT_FAILURES, EXIT_OK, CommandError
from ..options import output_options
from ..output import Output
from ..report import show_summaries, show_traffic, summary_json, summary_row
from ..state import State

FIRST = ("Aroha", "Ben", "Chloe", "Dev", "Emma", "Finn", "Grace", "Hemi", "Isla", "Jack")
LAST = ("Ngata", "Smith", "Patel", "Wilson", "Chen", "Brown", "Taylor", "Singh", "Walker", "Kaur")


def demo_people(count: int) -> list[dict[str, Any]]:
    """``count`` new people, the same on every run, none of them in the demo organisation."""
    people = []
    for n in range(count):
        first, last = FIRST[n % len(FIRST)], LAST[(n // len(FIRST)) % len(LAST)]
        people.append(
            {
                "email": f"{first.lower()}.{last.lower()}.{n:04d}@new-cohort.example",
                "firstName": first,
                "lastName": last,
                "personId": f"NC{n:05d}",
                "tags": ["demo", f"cohort-{n % 4 + 1}"],
            }
        )
    return people


@click.command(short_help="Run the main job end to end on the embedded fake server.")
@click.option(
    "--people",
    type=click.IntRange(1, 100_000),
    default=300,
    show_default=True,
    help="New people to enrol.",
)
@click.option(
    "--offerings",
    "offering_count",
    type=click.IntRange(1, 20),
    default=3,
    show_default=True,
    help="Current offerings to enrol them into.",
)
@click.option("--concurrency", type=click.IntRange(1, 200), default=20, show_default=True)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where ledgers and exports go (default: a new temporary directory).",
)
@output_options
@click.pass_obj
def demo(
    state: State, people: int, offering_count: int, concurrency: int, out_dir: Path | None
) -> int:
    """Start the fake iQualify server in-process (demo organisation; 10-30 ms latency, a rate
    limit of 100 requests/s and 2% of requests answered 503), enrol new people into current
    offerings, export every analytics kind of every offering, and show what happened.

    The client starts with a ceiling of 400 requests/s and finds the server's limit by itself."""
    configure_logging(state)
    if out_dir is None:
        out_dir = Path(tempfile.mkdtemp(prefix="iqualify-demo-"))
    try:
        (out_dir / "analytics").mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CommandError(f"cannot create {str(out_dir)!r}: {exc.strerror or exc}") from None
    return asyncio.run(_demo(Output(state), people, offering_count, concurrency, out_dir))


CLIENT_CEILING = 400.0


async def _demo(
    output: Output, people_count: int, offering_count: int, concurrency: int, out_dir: Path
) -> int:
    from ... import Client, RateLimit, RetryPolicy
    from ...bulk import enrol_many
    from ...bulk.analytics import select_offerings
    from ...testing import FakeIQualify, Faults
    from ..jobs import KINDS
    from .export import run_export

    faults = Faults(
        latency_ms=10,
        jitter_ms=20,
        rate_limit=100,
        burst=30,
        error_rate=0.02,
        error_statuses=(503,),
        seed=7,
    )
    key = f"demo-{secrets.token_hex(8)}"
    async with FakeIQualify(key, seed="demo", faults=faults) as fake:
        output.line(
            f"Fake iQualify server on {fake.base_url} (demo organisation: "
            f"{len(fake.state.offerings)} offerings, {len(fake.state.users):,} users)"
        )
        output.line(
            f"Faults: {faults.latency_ms:g}-{faults.latency_ms + faults.jitter_ms:g} ms latency, "
            f"{faults.rate_limit:g} requests/s limit (429 above it), "
            f"{faults.error_rate:.0%} of requests answered 503"
        )
        limit = RateLimit(max_concurrency=concurrency, requests_per_second=CLIENT_CEILING)
        output.line(
            f"Client: up to {concurrency} requests in flight, rate ceiling "
            f"{CLIENT_CEILING:g}/s, adapting to 429s"
        )
        retry = RetryPolicy(max_retries=5, backoff_base=0.05, backoff_max=1.0)
        started = time.monotonic()
        async with Client(api_key=key, base_url=fake.base_url, rate_limit=limit, retry=retry) as iq:
            current = sorted(await select_offerings(iq, "current"))[:offering_count]
            people = demo_people(people_count)
            enrolments = len(current) * len(people)
            output.line(
                f"Enrolling {len(people)} new people into {len(current)} current offerings: "
                f"{enrolments} enrolments"
            )
            enrol_ledger = out_dir / "enrol-ledger.csv"
            with output.jobs() as bars:
                job = enrol_many(
                    iq,
                    current,
                    people,
                    concurrency=concurrency,
                    journal=out_dir / "enrol-journal.db",
                    on_progress=bars.track("enrol", enrolments),
                )
                enrolled = await job.wait(ledger=enrol_ledger)
            export = await run_export(
                output, iq, "all", list(KINDS), out_dir / "analytics", "jsonl", concurrency
            )
            elapsed = time.monotonic() - started
            accounted = enrolled.total == enrolments and enrolled.ok and export.summary.ok
            if output.json:
                output.print_json(
                    {
                        "enrol": summary_json(enrolled),
                        "enrol_ledger": str(enrol_ledger),
                        **export.as_json(),
                        "requests": iq.stats.as_dict(),
                        "elapsed": round(elapsed, 3),
                        "out": str(out_dir),
                        "server_faults": dict(fake.stats.faults),
                    }
                )
            else:
                output.line()
                show_summaries(
                    output,
                    [
                        summary_row("enrol", enrolled),
                        summary_row("export analytics", export.summary),
                    ],
                )
                output.line()
                show_traffic(output, iq.stats, elapsed)
                items_per_s = (enrolled.total + export.summary.total) / elapsed if elapsed else 0.0
                if iq.current_rate is not None:
                    output.line(
                        f"  adaptive rate: {iq.current_rate:,.0f} requests/s now, after "
                        f"{iq.stats.rate_decreases} slowdown(s) from the {CLIENT_CEILING:g}/s ceiling"
                    )
                output.line(
                    f"  throughput: {items_per_s:,.0f} items/s; server injected "
                    f"{fake.stats.faults['rate_limit']} 429s and "
                    f"{fake.stats.faults['error']} 503s"
                )
                output.line()
                export.show_files(output)
                output.line(f"Enrolment ledger: {enrol_ledger}")
                output.line(
                    "Every item accounted for."
                    if accounted
                    else "Some items did not succeed: see the ledgers."
                )
    return EXIT_OK if accounted else EXIT_FAILURES
