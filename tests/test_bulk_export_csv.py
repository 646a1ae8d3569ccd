"""CSV analytics export: a kind with no records, booleans, formulas, partial and stale files."""

from __future__ import annotations

import csv
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from iqualify_async import Client, RateLimit, bulk
from iqualify_async.testing import FakeIQualify

KEY = "export-csv-key-0123456789"
LIMIT = RateLimit(max_concurrency=20, requests_per_second=None)


@pytest.fixture
async def fake() -> AsyncIterator[FakeIQualify]:
    async with FakeIQualify(KEY, seed="demo") as running:
        yield running


async def test_a_kind_with_no_records_is_a_csv_file_with_its_header_row(
    fake: FakeIQualify, tmp_path: Path
) -> None:
    async with Client(api_key=KEY, base_url=fake.base_url, rate_limit=LIMIT) as iq:
        quiet = None
        for offering_id in sorted(fake.state.offerings):
            path = {"offeringId": offering_id}
            pulses: Any = await iq.request(
                "GET", "/offerings/{offeringId}/analytics/pulses", path_params=path
            )
            if not pulses:
                quiet = offering_id
                break
        assert quiet is not None, "the demo seed has an offering without pulses"
        report = await bulk.export_analytics(
            iq, [quiet], kinds=["pulses", "learner-progress"], out_dir=tmp_path, format="csv"
        )
    assert report.summary.ok
    assert report.rows["pulses"] == 0 and report.rows["learner-progress"] > 0
    empty = report.files["pulses"]
    assert empty == tmp_path / "pulses.csv" and empty.read_text() == "offeringId,value\n"
    assert not (tmp_path / "pulses.jsonl").exists()
    with report.files["learner-progress"].open(newline="", encoding="utf-8") as stream:
        rows = list(csv.DictReader(stream))
    assert len(rows) == report.rows["learner-progress"]
    assert {r["offeringId"] for r in rows} == {quiet}
