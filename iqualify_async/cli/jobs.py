"""The bulk jobs behind ``enrol``, ``export-analytics`` and ``demo``, built on the bulk engine.

Each job item is one (offering, person) enrolment or one (offering, kind[, channel]) analytics
read, so the engine's ledger, journal and progress account for every one of them.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import attrs

from .. import APIError, Client, NotFoundError, ServerError, bulk
from .errors import CommandError

ROLES = ("learner", "facilitator", "marker")
_SERVER_ERROR_ATTEMPTS = 3

OFFERING_KINDS: Mapping[str, str] = {
    "pulses": "list_pulses",
    "pulse-responses": "pulse_responses",
    "assignment-marks": "assignment_marks",
    "quiz-marks": "quiz_marks",
    "learner-progress": "learners_progress",
    "unit-reactions": "unit_reactions",
    "assignment-submissions": "assignment_submissions",
    "social-notes": "social_notes",
    "activity-responses": "activity_responses",
}
CHANNEL_KINDS: Mapping[str, str] = {
    "channel-posts": "channel_posts",
    "channel-comments": "channel_comments",
    "channel-replies": "channel_replies",
}
KINDS = (*OFFERING_KINDS, *CHANNEL_KINDS)


# -- enrolment --------------------------------------------------------------------------------


@attrs.frozen
class Enrolment:
    """One person to enrol into one offering."""

    offering_id: str
    person: Mapping[str, Any] = attrs.field(hash=False, eq=False)
    role: str = "learner"

    @property
    def email(self) -> str:
        return str(self.person["email"])

    def key(self) -> str:
        return f"{self.offering_id}/{self.email.lower()}/{self.role}"


def enrolments(
    offering_ids: Sequence[str], people: Sequence[Mapping[str, Any]], role: str
) -> list[Enrolment]:
    return [Enrolment(o, p, role) for o in offering_ids for p in people]


def _wire_user(item: Enrolment) -> dict[str, Any]:
    user = {k: v for k, v in item.person.items() if k != "tags"}
    if item.person.get("tags"):
        user["metadata"] = {"tags": list(item.person["tags"])}
    if item.role == "facilitator":
        user["isFacilitator"] = True
    elif item.role == "marker":
        user["isMarker"] = True
    return user


async def _enrolled(iq: Client, item: Enrolment) -> bool | None:
    """Whether the person is in the offering already; ``None`` if the user does not exist."""
    try:
        offerings = await iq.users.offerings.list(item.email)
    except NotFoundError:
        return None
    return any(_field(o, "id") == item.offering_id for o in offerings or ())


def _field(obj: Any, name: str) -> Any:
    return obj.get(name) if isinstance(obj, Mapping) else getattr(obj, name, None)


def enrol_job(
    iq: Client,
    items: Sequence[Enrolment],
    *,
    dry_run: bool,
    concurrency: int,
    journal: Path | None,
    on_progress: Callable[[bulk.Progress], object] | None,
) -> bulk.Job[Enrolment, Any]:
    """A bulk job enrolling every item; people already enrolled end ``skipped``."""

    async def add(item: Enrolment) -> Any:
        # A 5xx answer to a write does not say whether it was applied: look before re-sending.
        for attempt in range(_SERVER_ERROR_ATTEMPTS):
            try:
                return await iq.offerings.users.add(item.offering_id, [_wire_user(item)])
            except ServerError:
                if attempt + 1 == _SERVER_ERROR_ATTEMPTS:
                    raise
                if await _enrolled(iq, item):
                    return None
        raise AssertionError("unreachable")

    async def enrol_one(item: Enrolment) -> Any:
        try:
            result = await add(item)
        except APIError as exc:
            if exc.name == "ObjectExistsError":
                return bulk.Skipped("already enrolled")
            raise
        if result is None:
            return "enrolled"
        outcome = result.items[0]
        if outcome.status == "succeeded":
            return "enrolled"
        if outcome.error is not None and outcome.error.name == "ObjectExistsError":
            return bulk.Skipped("already enrolled")
        if outcome.status == "unknown" and await _enrolled(iq, item):
            return "enrolled"
        error = outcome.error
        raise RuntimeError(f"{error.name}: {error.details}" if error else "no result for this user")

    async def check_one(item: Enrolment) -> Any:
        state = await _enrolled(iq, item)
        if state:
            return bulk.Skipped("already enrolled")
        return "would create the user and enrol" if state is None else "would enrol"

    async def verify(item: Enrolment) -> Any:
        return bulk.Skipped("already enrolled") if await _enrolled(iq, item) else False

    return bulk.run(
        check_one if dry_run else enrol_one,
        items,
        concurrency=concurrency,
        key=Enrolment.key,
        journal=None if dry_run else journal,
        verify=verify,
        on_progress=on_progress,
    )


# -- analytics export -------------------------------------------------------------------------


@attrs.frozen
class Read:
    """One analytics report of one offering (and channel, for channel kinds)."""

    offering_id: str
    kind: str
    channel_id: str | None = None

    def key(self) -> str:
        where = f"{self.offering_id}/{self.channel_id}" if self.channel_id else self.offering_id
        return f"{self.kind}/{where}"


async def choose_offerings(iq: Client, which: str | Sequence[str]) -> list[str]:
    """Offering ids for ``"all"``, ``"current"`` or explicit ids (kept in the order given)."""
    if which == "all":
        found = await iq.offerings.list()
    elif which == "current":
        found = await iq.offerings.list_current()
    else:
        return list(dict.fromkeys(which))
    return [str(_field(o, "id")) for o in found or ()]


async def plan_reads(iq: Client, offering_ids: Sequence[str], kinds: Sequence[str]) -> list[Read]:
    """Every (offering, kind) read; channel kinds once per channel of the offering."""
    import asyncio

    reads = [Read(o, k) for o in offering_ids for k in kinds if k in OFFERING_KINDS]
    channel_kinds = [k for k in kinds if k in CHANNEL_KINDS]
    if channel_kinds:
        channel_lists = await asyncio.gather(*(iq.offerings.channels.list(o) for o in offering_ids))
        for offering_id, channels in zip(offering_ids, channel_lists, strict=True):
            for channel in channels or ():
                for kind in channel_kinds:
                    reads.append(Read(offering_id, kind, str(_field(channel, "id"))))
    return reads


class KindFiles:
    """One JSONL file per kind under ``out_dir``; rows carry ``offeringId`` (and ``channelId``)."""

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir
        self.rows: dict[str, int] = {}
        self._files: dict[str, IO[str]] = {}

    def write(self, read: Read, records: Iterable[Any]) -> int:
        stream = self._files.get(read.kind)
        if stream is None:
            stream = (self.out_dir / f"{read.kind}.jsonl").open("w", encoding="utf-8")
            self._files[read.kind] = stream
            self.rows.setdefault(read.kind, 0)
        count = 0
        for record in records:
            row = {"offeringId": read.offering_id}
            if read.channel_id is not None:
                row["channelId"] = read.channel_id
            row.update(record if isinstance(record, Mapping) else {"value": record})
            stream.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
            count += 1
        self.rows[read.kind] += count
        return count

    def close(self, fmt: str) -> dict[str, Path]:
        for stream in self._files.values():
            stream.close()
        paths = {kind: self.out_dir / f"{kind}.jsonl" for kind in self._files}
        if fmt == "csv":
            paths = {kind: _jsonl_to_csv(path) for kind, path in paths.items()}
        return paths


def _jsonl_to_csv(path: Path) -> Path:
    columns: dict[str, None] = {}
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            columns.update(dict.fromkeys(json.loads(line)))
    target = path.with_suffix(".csv")
    with (
        path.open(encoding="utf-8") as lines,
        target.open("w", newline="", encoding="utf-8") as out,
    ):
        writer = csv.DictWriter(out, fieldnames=list(columns))
        writer.writeheader()
        for line in lines:
            record = json.loads(line)
            writer.writerow(
                {k: json.dumps(v) if isinstance(v, dict | list) else v for k, v in record.items()}
            )
    path.unlink()
    return target


def _records(data: Any) -> list[Any]:
    if isinstance(data, list):
        return data
    if isinstance(data, Mapping):
        for key in ("items", "data", "results"):
            if isinstance(data.get(key), list):
                return list(data[key])
        return [data]
    return [] if data is None else [data]


def export_job(
    iq: Client,
    reads: Sequence[Read],
    files: KindFiles,
    *,
    concurrency: int,
    on_progress: Callable[[bulk.Progress], object] | None,
) -> bulk.Job[Read, int]:
    """A bulk job fetching every read and appending its records to the kind's file."""

    async def fetch(read: Read) -> int:
        section = iq.offerings.analytics
        if read.channel_id is not None:
            data = await getattr(section, CHANNEL_KINDS[read.kind])(
                read.offering_id, read.channel_id
            )
        else:
            data = await getattr(section, OFFERING_KINDS[read.kind])(read.offering_id)
        return files.write(read, _records(data))

    return bulk.run(fetch, reads, concurrency=concurrency, key=Read.key, on_progress=on_progress)


def check_kinds(kinds: Sequence[str]) -> list[str]:
    bad = [k for k in kinds if k not in KINDS]
    if bad:
        raise CommandError(f"unknown --kind {', '.join(bad)}; choose from {', '.join(KINDS)}")
    return list(kinds) or list(KINDS)
