"""Analytics export of the demo organisation against the fake server."""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from iqualify_async import Client, NotFoundError, RateLimit, bulk
from iqualify_async.bulk import ALL_KINDS, AnalyticsRead, Status, items_from_ledger
from iqualify_async.testing import FakeIQualify

KEY = "export-key-0123456789"
LIMIT = RateLimit(max_concurrency=20, requests_per_second=None)


@pytest.fixture
async def fake() -> AsyncIterator[FakeIQualify]:
    async with FakeIQualify(KEY, seed="demo") as running:
        yield running


def client(fake: FakeIQualify) -> Client:
    return Client(api_key=KEY, base_url=fake.base_url, rate_limit=LIMIT)


def _count(data: Any) -> int:
    if isinstance(data, dict):
        data = data.get("items", [data])
    return len(data)


async def held_by_fake(fake: FakeIQualify) -> Counter[str]:
    """Records per kind, read one report at a time with plain requests."""
    base = "/offerings/{offeringId}/analytics/"
    offering_paths = {
        "pulses": "pulses",
        "pulse-responses": "pulses/responses",
        "assignment-marks": "marks/assignments",
        "quiz-marks": "marks/quizzes",
        "learner-progress": "learners-progress",
        "unit-reactions": "unit-reactions",
        "assignment-submissions": "submissions/assignments",
        "social-notes": "social-notes",
        "activity-responses": "activities/responses",
    }
    counts: Counter[str] = Counter()
    async with client(fake) as iq:
        for offering_id in fake.state.offerings:
            params = {"offeringId": offering_id}
            for kind, tail in offering_paths.items():
                counts[kind] += _count(await iq.request("GET", base + tail, path_params=params))
            for channel_id in fake.state.offering(offering_id).channels:
                for kind in ("posts", "comments", "replies"):
                    data = await iq.request(
                        "GET",
                        base + "channels/{channelId}/" + kind,
                        path_params={**params, "channelId": channel_id},
                    )
                    counts[f"channel-{kind}"] += _count(data)
    return counts


async def test_export_of_every_offering_matches_what_the_fake_holds(
    fake: FakeIQualify, tmp_path: Path
) -> None:
    async with client(fake) as iq:
        report = await bulk.export_analytics(iq, "all", out_dir=tmp_path, concurrency=20)
    assert report.summary.ok and set(report.offering_ids) == set(fake.state.offerings)
    expected = await held_by_fake(fake)
    assert dict(report.rows) == {k: expected[k] for k in ALL_KINDS}
    assert sum(expected.values()) > 1000
    for kind, path in report.files.items():
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        assert len(rows) == report.rows[kind] and path.name == f"{kind}.jsonl"
        assert {r["offeringId"] for r in rows} <= set(fake.state.offerings)
        if kind.startswith("channel-"):
            assert all(
                r["channelId"] in fake.state.offering(r["offeringId"]).channels for r in rows
            )
    assert report.ledger is not None
    ledger_rows = list(csv.DictReader(report.ledger.open()))
    assert len(ledger_rows) == report.summary.total and report.summary.succeeded == len(ledger_rows)


async def test_a_failing_offering_is_in_the_ledger_and_the_rest_is_written(
    fake: FakeIQualify, tmp_path: Path
) -> None:
    async with client(fake) as iq:
        for good in sorted(fake.state.offerings):
            if await iq.offerings.analytics.quiz_marks(good):
                break
        report = await bulk.export_analytics(
            iq, [good, "no-such-offering"], out_dir=tmp_path, format="csv"
        )
    assert report.summary.failed == len(ALL_KINDS)  # channel kinds: once, for the listing
    assert report.ledger is not None
    failed = list(items_from_ledger(report.ledger, statuses=[Status.FAILED]))
    assert {f["offering_id"] for f in failed} == {"no-such-offering"}
    assert {f["kind"] for f in failed} == set(ALL_KINDS)
    with report.files["quiz-marks"].open(newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert len(rows) == report.rows["quiz-marks"] > 0
    assert {r["offeringId"] for r in rows} == {good}


async def test_collect_analytics_returns_records_per_offering_and_kind(
    fake: FakeIQualify,
) -> None:
    offering_id = sorted(fake.state.offerings)[0]
    kinds = ["quiz-marks", "channel-posts"]
    async with client(fake) as iq:
        collected = await bulk.collect_analytics(iq, [offering_id, "missing"], kinds)
        direct = await iq.offerings.analytics.quiz_marks(offering_id)
    assert collected.records[offering_id]["quiz-marks"] == [
        {"offeringId": offering_id, **r} for r in direct
    ]
    posts = collected.records[offering_id]["channel-posts"]
    assert {p["channelId"] for p in posts} <= set(fake.state.offering(offering_id).channels)
    assert collected.records["missing"] == {"quiz-marks": [], "channel-posts": []}
    assert set(collected.failures) == {
        AnalyticsRead("missing", "quiz-marks"),
        AnalyticsRead("missing", "channel-posts"),
    }
    assert all(isinstance(e, NotFoundError) for e in collected.failures.values())
    assert not collected.ok


async def test_unknown_kinds_and_formats_are_refused_before_any_request(
    fake: FakeIQualify, tmp_path: Path
) -> None:
    async with client(fake) as iq:
        with pytest.raises(ValueError, match="unknown kind"):
            await bulk.export_analytics(iq, kinds=["marks"], out_dir=tmp_path)
        with pytest.raises(ValueError, match="format"):
            await bulk.export_analytics(iq, out_dir=tmp_path, format="xml")  # type: ignore[arg-type]
    assert fake.stats.total_requests == 0
