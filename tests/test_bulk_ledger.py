"""Ledgers: one row per input item, CSV or JSONL, streamed, and readable back as input."""

from __future__ import annotations

import asyncio
import csv
import json
from pathlib import Path

import attrs
import pytest

from iqualify_async import bulk
from iqualify_async.bulk import LedgerWriter, Skipped, Status
from iqualify_async.errors import BadRequestError

PEOPLE = [
    {"email": "ada@example.com", "name": {"first": "Ada", "last": "L"}, "tags": ["a", "b"]},
    {"email": "bob@example.com", "name": {"first": "Bob", "last": "M"}, "tags": []},
    {"email": "", "name": {"first": "No", "last": "Email"}, "tags": []},
    {"email": "cy@example.com", "name": {"first": "Cy", "last": "N"}, "tags": [], "key": "x"},
]


async def enrol(person: dict[str, object]) -> str | Skipped:
    await asyncio.sleep(0)
    if not person["email"]:
        raise BadRequestError(
            400,
            name="SchemaValidationError",
            details={"email": "required"},
            method="POST",
            url="http://x/v1/users",
        )
    if person["email"] == "bob@example.com":
        return Skipped("already enrolled")
    return "enrolled"


async def test_csv_ledger_has_one_row_per_item_with_flattened_fields(tmp_path: Path) -> None:
    path = tmp_path / "ledger.csv"
    summary = await bulk.run(enrol, PEOPLE, key=lambda p: str(p["email"]), concurrency=2).wait(
        ledger=path
    )

    with path.open(newline="") as f:
        reader = csv.DictReader(f)
        header = reader.fieldnames
        rows = sorted(reader, key=lambda r: int(r["index"]))
    assert summary.total == len(rows) == 4
    assert header == [
        "index", "key", "outcome", "email", "name.first", "name.last", "tags", "value",
        "error_type", "error_status", "error_name", "error_details", "message",
        "from_journal", "verified", "extra_fields",
    ]  # fmt: skip
    ada, bob, missing, cy = rows
    assert (ada["outcome"], ada["name.first"], ada["tags"]) == ("succeeded", "Ada", '["a", "b"]')
    assert ada["value"] == "enrolled"
    assert (bob["outcome"], bob["message"], bob["value"]) == ("skipped", "already enrolled", "")
    assert missing["outcome"] == "failed"
    assert (missing["error_status"], missing["error_name"]) == ("400", "SchemaValidationError")
    assert json.loads(missing["error_details"]) == {"email": "required"}
    assert (
        missing["error_type"] == "BadRequestError" and "SchemaValidationError" in missing["message"]
    )
    # a field of a later item that is not in the header, or clashes with a ledger column
    assert json.loads(cy["extra_fields"]) == {"item.key": "x"}


async def test_failed_rows_read_back_as_items_to_fix_and_rerun(tmp_path: Path) -> None:
    for suffix in ("csv", "jsonl"):
        path = tmp_path / f"ledger.{suffix}"
        await bulk.run(enrol, PEOPLE, key=lambda p: str(p["name"])).wait(ledger=path)

        [failed] = bulk.items_from_ledger(path)
        assert failed["name"] == {"first": "No", "last": "Email"}
        everything = list(bulk.items_from_ledger(path, statuses=None))
        assert len(everything) == 4

    # JSONL gives the item back exactly
    assert list(bulk.items_from_ledger(tmp_path / "ledger.jsonl")) == [PEOPLE[2]]


async def test_jsonl_ledger_rows(tmp_path: Path) -> None:
    path = tmp_path / "ledger.jsonl"
    written = await bulk.write_ledger(bulk.run(enrol, PEOPLE, key=lambda p: str(p["email"])), path)

    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert written == len(rows) == 4
    failed = next(r for r in rows if r["outcome"] == "failed")
    assert failed["item"] == PEOPLE[2] and failed["key"] == ""
    assert failed["error"] == {
        "type": "BadRequestError",
        "status": 400,
        "name": "SchemaValidationError",
        "details": {"email": "required"},
    }
    ok = next(r for r in rows if r["outcome"] == "succeeded")
    assert ok["error"] is None and ok["message"] is None and ok["from_journal"] is False
    assert ok["value"] == "enrolled" and failed["value"] is None


async def test_values_are_written_and_items_still_read_back(tmp_path: Path) -> None:
    items = [{"email": "a@x.org", "value": "item field"}, {"email": "b@x.org", "value": "2"}]

    async def fn(item: dict[str, str]) -> dict[str, int]:
        return {"rows": len(item["email"])}

    for suffix in ("csv", "jsonl"):
        path = tmp_path / f"values.{suffix}"
        await bulk.run(fn, items).wait(ledger=path)
        assert list(bulk.items_from_ledger(path, statuses=None)) == items
    [first, _] = csv.DictReader((tmp_path / "values.csv").open(newline=""))
    assert (first["value"], first["item.value"]) == ('{"rows": 7}', "item field")
    rows = [json.loads(line) for line in (tmp_path / "values.jsonl").read_text().splitlines()]
    assert rows[0]["value"] == {"rows": 7} and rows[0]["item"] == items[0]


async def test_scalar_and_attrs_items(tmp_path: Path) -> None:
    @attrs.frozen
    class Person:
        email: str
        role: str = "learner"

    async def fn(p: object) -> str:
        return "ok"

    scalar = tmp_path / "scalar.csv"
    await bulk.run(fn, ["a@x.org", "b@x.org"]).wait(ledger=scalar)
    items = sorted(bulk.items_from_ledger(scalar, statuses=["succeeded"]))
    assert items == ["a@x.org", "b@x.org"]

    structured = tmp_path / "attrs.csv"
    await bulk.run(fn, [Person("a@x.org")], key=lambda p: p.email).wait(ledger=structured)
    [row] = csv.DictReader(structured.open(newline=""))
    assert (row["email"], row["role"], row["key"]) == ("a@x.org", "learner", "a@x.org")


async def test_status_filter_writes_only_the_rows_to_retry(tmp_path: Path) -> None:
    path = tmp_path / "retry.jsonl"
    with LedgerWriter(path, statuses={Status.FAILED, "unprocessed"}) as ledger:
        async for outcome in bulk.run(enrol, PEOPLE, key=lambda p: str(p["email"])):
            ledger.write(outcome)

    assert ledger.rows == 1
    assert [json.loads(line)["item"] for line in path.read_text().splitlines()] == [PEOPLE[2]]


async def test_a_cancelled_job_still_writes_the_items_it_cut_off(tmp_path: Path) -> None:
    started = asyncio.Event()

    async def fn(x: int) -> int:
        if x >= 2:
            started.set()
            await asyncio.Event().wait()
        return x

    path = tmp_path / "ledger.jsonl"
    task = asyncio.create_task(bulk.run(fn, range(10), concurrency=3).wait(ledger=path))
    await started.wait()
    for _ in range(5):
        await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert sorted(r["index"] for r in rows) == list(range(10))
    assert {r["outcome"] for r in rows if r["index"] >= 2} == {"unprocessed"}
    assert sum(r["outcome"] == "succeeded" for r in rows) == 2


def test_unknown_ledger_format_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="format"):
        LedgerWriter(tmp_path / "ledger.xlsx")
