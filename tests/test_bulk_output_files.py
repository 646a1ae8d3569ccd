"""Ledgers and exports appear whole or stay `.partial`; spreadsheets never run a cell."""

from __future__ import annotations

import asyncio
import csv
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from iqualify_async import Client, RateLimit, bulk
from iqualify_async.bulk import LedgerWriter, Outcome, Status
from iqualify_async.bulk.atomic import csv_cell, neutralise, restore
from iqualify_async.testing import FakeIQualify

KEY = "output-files-key"
LIMIT = RateLimit(max_concurrency=20, requests_per_second=None)


@pytest.fixture
async def fake() -> AsyncIterator[FakeIQualify]:
    async with FakeIQualify(KEY, seed="demo") as running:
        yield running


def partials(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.partial"))


def old_ledger(path: Path) -> str:
    text = "index,key,outcome,item\n0,a,succeeded,a\n"
    path.write_text(text)
    return text


async def test_a_running_job_leaves_the_previous_ledger_in_place(tmp_path: Path) -> None:
    path = tmp_path / "ledger.csv"
    before = old_ledger(path)
    seen: list[tuple[str, bool]] = []

    async def look(item: str) -> str:
        # What a kill at this moment would leave: the old ledger whole, the new one partial.
        seen.append((path.read_text(), (tmp_path / "ledger.csv.partial").exists()))
        return item

    await bulk.run(look, ["x", "y"], concurrency=1).wait(ledger=path)
    assert seen == [(before, True), (before, True)]
    assert [r["item"] for r in csv.DictReader(path.open())] == ["x", "y"]
    assert not (tmp_path / "ledger.csv.partial").exists()


async def test_a_failed_job_keeps_the_old_ledger_and_names_the_new_one_partial(
    tmp_path: Path,
) -> None:
    path = tmp_path / "ledger.csv"
    before = old_ledger(path)

    def items() -> Iterator[str]:
        yield "x"
        raise OSError("the input broke")

    async def echo(item: str) -> str:
        return item

    with pytest.raises(OSError, match="the input broke"):
        await bulk.run(echo, items()).wait(ledger=path)
    assert path.read_text() == before
    partial = tmp_path / "ledger.csv.partial"
    assert [r["item"] for r in csv.DictReader(partial.open())] == ["x"]


def test_an_unwritable_ledger_is_refused_when_opened(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        LedgerWriter(tmp_path / "missing-dir" / "ledger.csv")


@pytest.mark.parametrize(
    "text",
    ['=HYPERLINK("http://x")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\tx", "\rx", "'quoted"],
)
def test_cells_a_spreadsheet_would_run_are_quoted_and_read_back_exactly(text: str) -> None:
    assert neutralise(text).startswith("'")
    assert restore(neutralise(text)) == text


@pytest.mark.parametrize(
    "text",
    ["-MFnSwtlCEnhYlt6cYS7", "-M_-9zZ0aA1bB2cC3dD4", "-5", "+64", "-1.5", "ada@example.org", ""],
)
def test_ids_numbers_and_plain_text_are_left_alone(text: str) -> None:
    assert neutralise(text) == text
    assert restore(neutralise(text)) == text


@pytest.mark.parametrize(
    "text",
    ["-A1-B1", "+A1", "-A1", "+A1+B1", "-1+A1", "-MFnSwtlCEnhYlt6cYS", "-MFnSwtlCEnhYlt6cYS7x",
     "-MFnSwtlCEnhYlt6cY+7", "+MFnSwtlCEnhYlt6cYS7", "-sum.x", "-5.", "+1e5"],
)  # fmt: skip
def test_signed_cells_other_than_numbers_and_ids_are_quoted(text: str) -> None:
    assert neutralise(text) == "'" + text
    assert restore(neutralise(text)) == text


@pytest.mark.parametrize(
    ("value", "cell"),
    [(None, ""), (True, "true"), (False, "false"), (3, "3"), (-1.5, "-1.5"), ("=A1", "'=A1"),
     ({"a": "é"}, '{"a": "é"}'), ([1, 2], "[1, 2]"), ("-MFnSwtlCEnhYlt6cYS7", "-MFnSwtlCEnhYlt6cYS7")],
)  # fmt: skip
def test_ledgers_and_exports_write_cells_by_one_rule(value: object, cell: str) -> None:
    from iqualify_async.bulk import export_files, ledger

    assert csv_cell(value) == cell
    assert ledger.csv_cell is csv_cell
    assert export_files.csv_cell is csv_cell


def test_push_ids_of_the_fake_are_left_alone() -> None:
    from iqualify_async.testing.state import State

    state = State()
    for _ in range(200):
        push_id = state.new_push_id()
        assert neutralise(push_id) == push_id


async def test_a_ledger_neutralises_formulas_and_gives_the_item_back(tmp_path: Path) -> None:
    path = tmp_path / "ledger.csv"
    item = {"email": "a@example.org", "firstName": "=cmd|' /C calc'!A0"}
    with LedgerWriter(path) as writer:
        writer.write(Outcome(0, "k", item, Status.FAILED))
    [row] = csv.DictReader(path.open())
    assert row["firstName"] == "'=cmd|' /C calc'!A0"
    assert list(bulk.items_from_ledger(path)) == [item]


async def test_csv_export_writes_booleans_like_the_ledgers_and_lists_only_its_own_files(
    fake: FakeIQualify, tmp_path: Path
) -> None:
    async with Client(api_key=KEY, base_url=fake.base_url, rate_limit=LIMIT) as iq:
        offering = sorted(fake.state.offerings)[0]
        first = await bulk.export_analytics(
            iq, [offering], kinds=["learner-progress"], out_dir=tmp_path, format="csv"
        )
        second = await bulk.export_analytics(
            iq, [offering], kinds=["learner-progress"], out_dir=tmp_path, format="jsonl"
        )
    text = first.files["learner-progress"].read_text()
    assert "True" not in text and "False" not in text
    assert first.stale == ()
    # The CSV of the first run is still there, but it is not this run's output.
    assert set(second.files.values()) == {tmp_path / "learner-progress.jsonl"}
    assert second.stale == (tmp_path / "learner-progress.csv",)
    assert partials(tmp_path) == []


async def test_an_interrupted_export_keeps_the_previous_files(
    fake: FakeIQualify, tmp_path: Path
) -> None:
    async with Client(api_key=KEY, base_url=fake.base_url, rate_limit=LIMIT) as iq:
        offerings = sorted(fake.state.offerings)
        done = await bulk.export_analytics(iq, offerings, kinds=["quiz-marks"], out_dir=tmp_path)
        before = done.files["quiz-marks"].read_text()

        first_report = asyncio.Event()

        def on_progress(progress: bulk.Progress) -> None:
            if progress.done:
                first_report.set()

        task = asyncio.ensure_future(
            bulk.export_analytics(
                iq,
                offerings,
                kinds=["quiz-marks"],
                out_dir=tmp_path,
                concurrency=1,
                on_progress=on_progress,
            )
        )
        await first_report.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert (tmp_path / "quiz-marks.jsonl").read_text() == before
    assert partials(tmp_path) == [
        tmp_path / "export-ledger.csv.partial",
        tmp_path / "export.partial",
    ]
    ledger = list(csv.DictReader((tmp_path / "export-ledger.csv").open()))
    assert len(ledger) == done.summary.total and {r["outcome"] for r in ledger} == {"succeeded"}


async def test_parquet_export_has_timestamps_and_collected_records_become_tables(
    fake: FakeIQualify, tmp_path: Path
) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    async with Client(api_key=KEY, base_url=fake.base_url, rate_limit=LIMIT) as iq:
        offerings = sorted(fake.state.offerings)
        report = await bulk.export_analytics(
            iq, offerings, kinds=["quiz-marks", "pulses"], out_dir=tmp_path, format="parquet"
        )
        collected = await bulk.collect_analytics(iq, offerings, kinds=["quiz-marks"])
    table = pq.read_table(report.files["quiz-marks"])
    assert table.num_rows == report.rows["quiz-marks"] > 0
    assert str(table.schema.field("lastAttemptAt").type) == "timestamp[us, tz=UTC]"
    assert str(table.schema.field("attempts").type) == "int64"
    assert collected.to_arrow("quiz-marks").schema == table.schema
    assert len(collected.rows("quiz-marks")) == table.num_rows


async def test_an_interrupted_export_resumes_with_its_journal_fetching_nothing_twice(
    fake: FakeIQualify, tmp_path: Path
) -> None:
    route = "GET /offerings/{offeringId}/analytics/marks/quizzes"
    journal = tmp_path / "export.db"
    async with Client(api_key=KEY, base_url=fake.base_url, rate_limit=LIMIT) as iq:
        offerings = sorted(fake.state.offerings)
        whole = await bulk.export_analytics(
            iq, offerings, kinds=["quiz-marks"], out_dir=tmp_path / "whole", format="csv"
        )
        three_done = asyncio.Event()

        def on_progress(progress: bulk.Progress) -> None:
            if progress.done >= 3:
                three_done.set()

        out = tmp_path / "out"
        task = asyncio.ensure_future(
            bulk.export_analytics(
                iq, offerings, kinds=["quiz-marks"], out_dir=out, format="csv",
                journal=journal, concurrency=1, on_progress=on_progress,
            )
        )  # fmt: skip
        await three_done.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        before = fake.stats.by_route[route]
        resumed = await bulk.export_analytics(
            iq, offerings, kinds=["quiz-marks"], out_dir=out, format="csv", journal=journal
        )
    fetched_again = fake.stats.by_route[route] - before
    assert resumed.summary.from_journal >= 3
    assert fetched_again == len(offerings) - resumed.summary.from_journal
    assert resumed.rows == whole.rows
    assert sorted(resumed.files["quiz-marks"].read_text().splitlines()) == sorted(
        whole.files["quiz-marks"].read_text().splitlines()
    )
    assert partials(out) == []
