"""Each analytics kind has one set of columns, from its record model: the Parquet schema, the
Arrow and pandas tables of collected records, and the CSV header row, whatever records came."""

from __future__ import annotations

import csv
import datetime
import json
import logging
import typing
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import attrs
import pytest

from iqualify_async import Client, RateLimit, bulk
from iqualify_async._converter import parse_datetime
from iqualify_async.bulk.analytics import CHANNEL_KINDS, OFFERING_KINDS
from iqualify_async.bulk.records import Column, ListOf, StructOf, column_names, record_columns
from iqualify_async.resources.offerings.analytics import OfferingAnalyticsResource
from iqualify_async.testing import FakeIQualify
from iqualify_async.types import models

KEY = "analytics-schema-key-0123456789"
LIMIT = RateLimit(max_concurrency=20, requests_per_second=None)
UTC = datetime.UTC


@pytest.fixture
async def fake() -> AsyncIterator[FakeIQualify]:
    async with FakeIQualify(KEY, seed="demo") as running:
        yield running


@pytest.fixture
async def iq(fake: FakeIQualify) -> AsyncIterator[Client]:
    async with Client(api_key=KEY, base_url=fake.base_url, rate_limit=LIMIT) as client:
        yield client


async def busy_and_quiet(iq: Client) -> tuple[str, str]:
    """An offering with records of every kind, and one without quiz marks or pulse responses."""
    collected = await bulk.collect_analytics(iq, "all")
    busy = next(o for o, kinds in collected.records.items() if all(kinds.values()))
    quiet = next(
        o
        for o, kinds in collected.records.items()
        if not kinds["quiz-marks"] and not kinds["pulse-responses"]
    )
    return busy, quiet


def timestamp_columns(kind: str) -> list[str]:
    return [c.name for c in record_columns(kind) if c.type == "timestamp"]


# The columns, from the models


def test_every_kind_has_the_record_model_its_method_answers_with() -> None:
    assert set(bulk.KIND_RECORDS) == set(bulk.ALL_KINDS)
    methods = {**OFFERING_KINDS, **CHANNEL_KINDS}
    for kind, record in bulk.KIND_RECORDS.items():
        method = getattr(OfferingAnalyticsResource, methods[kind])
        answer = typing.get_type_hints(method)["return"]
        assert typing.get_args(answer) == (record,), kind


def test_columns_are_the_api_names_of_the_model_fields_in_model_order() -> None:
    assert column_names("quiz-marks") == (
        "offeringId",
        *(f.metadata.get("wire", f.name) for f in attrs.fields(models.QuizMark)[:-1]),
    )
    assert column_names("pulses") == ("offeringId", "value")
    assert column_names("channel-posts")[:2] == ("offeringId", "channelId")
    # A record that names its offering shares the column the export adds.
    assert column_names("activity-responses").count("offeringId") == 1
    assert "social-note-content" in column_names("social-notes")
    learner = {c.name: c for c in record_columns("learner-progress")}
    assert learner["email"] == Column("email", "string", required=True)
    assert learner["lastLoggedInAt"] == Column("lastLoggedInAt", "timestamp")
    posts = {c.name: c for c in record_columns("channel-posts")}
    attachments = posts["attachments"].type
    assert isinstance(attachments, ListOf) and isinstance(attachments.item, StructOf)
    assert Column("id", "string", required=True) in attachments.item.fields
    moderation = posts["moderation"].type
    assert isinstance(moderation, StructOf)
    assert [c.name for c in moderation.fields] == ["isMuted", "moderator", "reason"]


def test_the_arrow_schema_types_every_column() -> None:
    pa = pytest.importorskip("pyarrow")
    schema = bulk.analytics_schema("channel-posts")
    assert schema.field("offeringId") == pa.field("offeringId", pa.string(), nullable=False)
    assert schema.field("channelId").nullable is False
    assert schema.field("createdAt").type == pa.timestamp("us", tz="UTC")
    assert schema.field("isFacilitatorPost").type == pa.bool_()
    assert schema.field("attachments").type.value_type.field("size").type == pa.int64()
    moderation = schema.field("moderation").type
    assert moderation.field("moderator").type.field("id").nullable is False
    assert bulk.analytics_schema("unit-reactions").field("feedback").type == pa.struct(
        [("thumbs-down", pa.float64()), ("thumbs-up", pa.float64())]
    )
    assert bulk.analytics_schema("quiz-marks").field("attempts").type == pa.int64()
    for kind in bulk.ALL_KINDS:
        assert bulk.analytics_schema(kind).names == list(column_names(kind))


# Parquet files and Arrow tables


async def test_every_parquet_file_has_its_kinds_schema_with_or_without_records(
    iq: Client, tmp_path: Path
) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    busy, quiet = await busy_and_quiet(iq)
    both = await bulk.export_analytics(
        iq, [busy, quiet], out_dir=tmp_path / "both", format="parquet"
    )
    alone = await bulk.export_analytics(iq, [quiet], out_dir=tmp_path / "quiet", format="parquet")
    assert both.ok and alone.ok
    assert set(both.files) == set(alone.files) == set(bulk.ALL_KINDS)
    for kind in bulk.ALL_KINDS:
        for report in (both, alone):
            table = pq.read_table(report.files[kind])
            assert table.schema == bulk.analytics_schema(kind), kind
            assert table.num_rows == report.rows[kind]
    assert alone.rows["quiz-marks"] == alone.rows["pulse-responses"] == 0
    assert both.rows["quiz-marks"] > 0
    # Date-times are timestamps, equal to the instants the API sent.
    jsonl = await bulk.export_analytics(iq, [busy], ["quiz-marks"], out_dir=tmp_path / "j")
    sent = [json.loads(line) for line in jsonl.files["quiz-marks"].open(encoding="utf-8")]
    got = pq.read_table(both.files["quiz-marks"]).to_pylist()
    assert [r["lastAttemptAt"] for r in got[: len(sent)]] == [
        parse_datetime(r["lastAttemptAt"]) for r in sent
    ]
    assert all(r["lastAttemptAt"].tzinfo is not None for r in got[: len(sent)])


async def test_nested_records_are_structs_and_lists_with_the_values_sent(
    iq: Client, tmp_path: Path
) -> None:
    pytest.importorskip("pyarrow")
    busy, _ = await busy_and_quiet(iq)
    collected = await bulk.collect_analytics(iq, [busy], ["pulse-responses", "unit-reactions"])
    for kind in ("pulse-responses", "unit-reactions"):
        rows = collected.rows(kind)
        table = collected.to_arrow(kind)
        assert table.schema == bulk.analytics_schema(kind) and table.num_rows == len(rows) > 0
    feedback = collected.to_arrow("unit-reactions").column("feedback").to_pylist()
    assert feedback == [
        {"thumbs-down": r["feedback"].get("thumbs-down"), "thumbs-up": r["feedback"]["thumbs-up"]}
        for r in collected.rows("unit-reactions")
    ]
    answers = collected.to_arrow("pulse-responses").column("response").to_pylist()
    text = [a["textAnswer"] for a in answers]
    assert text == [r["response"].get("textAnswer") for r in collected.rows("pulse-responses")]


def test_all_null_and_empty_columns_keep_their_types_and_offsets_become_utc(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    from iqualify_async.bulk.parquet import table_of, write_parquet

    rows: list[dict[str, Any]] = [
        {"offeringId": "o1", "channelId": "c1", "id": "p1", "email": "a@example.com"},
        {
            "offeringId": "o1",
            "channelId": "c1",
            "id": "p2",
            "email": "b@example.com",
            "createdAt": "2026-04-13T02:00:00+02:00",
            "attachments": [{"id": "d1", "size": 12, "extra": "x"}],
            "moderation": {"isMuted": True, "moderator": {"id": "m1"}},
            "surprise": 1,
        },
    ]
    spool = tmp_path / "posts.jsonl"
    spool.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="iqualify_async.bulk"):
        path = write_parquet(spool, tmp_path / "channel-posts.parquet", "channel-posts")
    assert "surprise" in caplog.text
    table = pq.read_table(path)
    assert table.schema == bulk.analytics_schema("channel-posts")
    first, second = table.to_pylist()
    assert first["createdAt"] is None and first["attachments"] is None
    assert second["createdAt"] == datetime.datetime(2026, 4, 13, tzinfo=UTC)
    assert second["attachments"] == [{"id": "d1", "mimetype": None, "size": 12, "url": None}]
    assert second["moderation"]["moderator"]["id"] == "m1"
    assert "surprise" not in table.column_names
    # No record at all: every column still typed.
    for kind in bulk.ALL_KINDS:
        assert table_of([], kind).schema == bulk.analytics_schema(kind)
    spool.write_text("", encoding="utf-8")
    empty = write_parquet(spool, tmp_path / "quiz-marks.parquet", "quiz-marks")
    assert pq.read_table(empty).schema == bulk.analytics_schema("quiz-marks")


# pandas


async def test_collected_records_are_a_typed_dataframe_in_one_line(iq: Client) -> None:
    pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    busy, quiet = await busy_and_quiet(iq)
    collected = await bulk.collect_analytics(iq, [busy, quiet], ["quiz-marks", "pulse-responses"])
    frame = collected.to_pandas("quiz-marks")
    assert list(frame.columns) == list(column_names("quiz-marks"))
    assert len(frame) == len(collected.rows("quiz-marks")) > 0
    assert str(frame["lastAttemptAt"].dtype) == "datetime64[us, UTC]"
    assert str(frame["attempts"].dtype) == "int64"
    empty = (await bulk.collect_analytics(iq, [quiet], ["quiz-marks"])).to_pandas("quiz-marks")
    assert len(empty) == 0 and str(empty["lastAttemptAt"].dtype) == "datetime64[us, UTC]"


async def test_without_pandas_the_error_names_the_extra_to_install(
    iq: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.util

    collected = await bulk.collect_analytics(iq, [], ["quiz-marks"])
    real = importlib.util.find_spec

    def find_spec(name: str, *args: Any) -> Any:
        return None if name == "pandas" else real(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    with pytest.raises(ImportError, match=r"pandas: pip install 'iqualify-async\[dataframe\]'"):
        collected.to_pandas("quiz-marks")


# CSV


async def test_csv_headers_come_from_the_model_and_values_are_written_as_sent(
    iq: Client, tmp_path: Path
) -> None:
    busy, quiet = await busy_and_quiet(iq)
    report = await bulk.export_analytics(iq, [busy], out_dir=tmp_path / "csv", format="csv")
    jsonl = await bulk.export_analytics(iq, [busy], out_dir=tmp_path / "jsonl")
    for kind in bulk.ALL_KINDS:
        with report.files[kind].open(newline="", encoding="utf-8") as stream:
            reader = csv.reader(stream)
            header = next(reader)
            rows = [dict(zip(header, row, strict=True)) for row in reader]
        assert tuple(header) == column_names(kind), kind
        sent = [json.loads(line) for line in jsonl.files[kind].open(encoding="utf-8")]
        assert len(rows) == len(sent) > 0
        for row, record in zip(rows, sent, strict=True):
            for name, value in record.items():
                if isinstance(value, bool):
                    assert row[name] == ("true" if value else "false")
                elif name in timestamp_columns(kind):
                    assert row[name] == value  # the API's RFC 3339 text
    quiet_report = await bulk.export_analytics(
        iq, [quiet], ["quiz-marks", "pulse-responses"], out_dir=tmp_path / "q", format="csv"
    )
    for kind in ("quiz-marks", "pulse-responses"):
        text = quiet_report.files[kind].read_text(encoding="utf-8")
        assert text.splitlines() == [",".join(column_names(kind))]


async def test_csv_puts_fields_the_model_does_not_know_after_its_columns(
    tmp_path: Path,
) -> None:
    from iqualify_async.bulk.export_files import KindFiles

    files = KindFiles(tmp_path, ["quiz-marks"], "csv", resume=False)
    files.write("quiz-marks", "r1", [{"offeringId": "o", "surprise": True, "attempts": 2}])
    paths = files.finish(
        ["quiz-marks"], {"quiz-marks": ["r1"]}, {"quiz-marks": column_names("quiz-marks")}
    )
    with paths["quiz-marks"].open(newline="", encoding="utf-8") as stream:
        (row,) = list(csv.DictReader(stream))
        stream.seek(0)
        header = next(csv.reader(stream))
    assert header == [*column_names("quiz-marks"), "surprise"]
    assert row["surprise"] == "true" and row["attempts"] == "2" and row["mark"] == ""
