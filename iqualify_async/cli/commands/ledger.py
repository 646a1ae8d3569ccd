"""``iqualify ledger``: the ledger of a job from its journal (e.g. a job run by several workers)."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import click

from ..options import output_options
from ..output import Output
from ..state import State


@click.command(short_help="Write the ledger of a job from its journal (file or postgresql:// URL).")
@click.option(
    "--journal",
    required=True,
    metavar="FILE|URL",
    help="The job's journal: a SQLite file or a postgresql:// URL.",
)
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path), metavar="OUT.csv|OUT.jsonl")
@output_options
@click.pass_obj
def ledger(state: State, journal: str, out: Path) -> int:
    """Write one row per item the journal records (whichever worker did it) to OUT, with the
    same columns as the ledger a job writes; items started but not confirmed are
    `unprocessed`. Exits 1 when some items are not done."""
    from ...bulk import journal_outcomes
    from ...bulk.ledger import LedgerWriter

    if out.suffix.lower() not in (".csv", ".jsonl"):
        raise click.BadParameter("must end in .csv or .jsonl", param_hint="OUT")
    output = Output(state)
    counts: Counter[str] = Counter()

    async def write() -> None:
        with LedgerWriter(out) as writer:
            async for outcome in journal_outcomes(journal):
                writer.write(outcome)
                counts[str(outcome.status)] += 1

    asyncio.run(write())
    total = sum(counts.values())
    if output.json:
        output.print_json({"ledger": str(out), "rows": total, "outcomes": dict(counts)})
    else:
        done = ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "no items"
        output.line(f"Ledger: {out} ({total} rows: {done})")
    return 0 if counts["failed"] + counts["unprocessed"] == 0 else 1
