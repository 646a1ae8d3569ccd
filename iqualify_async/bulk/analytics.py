"""Analytics of many offerings: every chosen report, fetched concurrently, as files or in memory.

Each job item is one :class:`AnalyticsRead` (offering, kind, and channel for channel kinds), so
a report that fails is one ``failed`` row of the ledger while every other report is kept.
Records are written in long format, one per line, each carrying ``offeringId`` (and
``channelId`` for channel kinds).
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import attrs

from .._model import Model
from .engine import run
from .export_files import FORMATS, PARTIAL_DIR, Format, KindFiles
from .journal import Journal
from .ledger import LedgerWriter
from .outcome import Outcome, Status, Summary
from .progress import ProgressCallback

if TYPE_CHECKING:
    from .._client import Client

logger = logging.getLogger("iqualify_async.bulk")

__all__ = [
    "ALL_KINDS",
    "CHANNEL_KINDS",
    "OFFERING_KINDS",
    "AnalyticsRead",
    "CollectedAnalytics",
    "ExportReport",
    "collect_analytics",
    "export_analytics",
    "plan_reads",
    "select_offerings",
]

OFFERING_KINDS: Mapping[str, str] = {
    "pulses": "pulses",
    "pulse-responses": "pulse_responses",
    "assignment-marks": "assignment_marks",
    "quiz-marks": "quiz_marks",
    "learner-progress": "learners_progress",
    "unit-reactions": "unit_reactions",
    "assignment-submissions": "assignment_submissions",
    "social-notes": "social_notes",
    "activity-responses": "activity_responses",
}
"""Kinds read once per offering, and the ``iq.offerings.analytics`` method that reads each."""

CHANNEL_KINDS: Mapping[str, str] = {
    "channel-posts": "channel_posts",
    "channel-comments": "channel_comments",
    "channel-replies": "channel_replies",
}
"""Kinds read once per channel of each offering."""

ALL_KINDS: tuple[str, ...] = (*OFFERING_KINDS, *CHANNEL_KINDS)

Offerings = Literal["all", "current"] | Sequence[str]


@attrs.frozen
class AnalyticsRead:
    """One report: a kind of one offering (and one channel for channel kinds)."""

    offering_id: str
    kind: str
    channel_id: str | None = None

    def key(self) -> str:
        where = f"{self.offering_id}/{self.channel_id}" if self.channel_id else self.offering_id
        return f"{self.kind}/{where}"


def check_kinds(kinds: Iterable[str] | None) -> list[str]:
    """The kinds asked for (all when ``None`` or empty); ``ValueError`` names unknown ones."""
    chosen = list(dict.fromkeys(kinds or ()))
    bad = [k for k in chosen if k not in ALL_KINDS]
    if bad:
        raise ValueError(f"unknown kind(s) {', '.join(bad)}; choose from {', '.join(ALL_KINDS)}")
    return chosen or list(ALL_KINDS)


async def select_offerings(iq: Client, offerings: Offerings) -> list[str]:
    """Offering ids for ``"all"``, ``"current"`` or the ids given (duplicates dropped)."""
    if offerings == "all":
        found = await iq.offerings.list()
    elif offerings == "current":
        found = await iq.offerings.list_current()
    elif isinstance(offerings, str):
        raise ValueError(f'offerings must be "all", "current" or a list of ids, not {offerings!r}')
    else:
        return list(dict.fromkeys(offerings))
    return [o.id for o in found]


class _Planned:
    """The reads of a plan, with the channel listings that failed (their reads fail with it)."""

    def __init__(self, reads: list[AnalyticsRead], errors: dict[str, BaseException]) -> None:
        self.reads = reads
        self.errors = errors


async def _plan(iq: Client, offering_ids: Sequence[str], kinds: Sequence[str]) -> _Planned:
    reads = [AnalyticsRead(o, k) for o in offering_ids for k in kinds if k in OFFERING_KINDS]
    channel_kinds = [k for k in kinds if k in CHANNEL_KINDS]
    errors: dict[str, BaseException] = {}
    if channel_kinds:
        listed = await asyncio.gather(
            *(iq.offerings.channels.list(o) for o in offering_ids), return_exceptions=True
        )
        for offering_id, channels in zip(offering_ids, listed, strict=True):
            if isinstance(channels, BaseException):
                if not isinstance(channels, Exception):
                    raise channels
                # One failed read per kind stands for the channels that could not be listed.
                errors[offering_id] = channels
                reads.extend(AnalyticsRead(offering_id, k) for k in channel_kinds)
                continue
            for channel in channels:
                for kind in channel_kinds:
                    reads.append(AnalyticsRead(offering_id, kind, channel.id))
    return _Planned(reads, errors)


async def plan_reads(
    iq: Client, offering_ids: Sequence[str], kinds: Sequence[str]
) -> list[AnalyticsRead]:
    """Every report to read: each offering kind once per offering, channel kinds per channel."""
    return (await _plan(iq, offering_ids, check_kinds(kinds))).reads


def _rows(read: AnalyticsRead, records: Iterable[Model | str]) -> list[dict[str, Any]]:
    added: dict[str, Any] = {"offeringId": read.offering_id}
    if read.channel_id is not None:
        added["channelId"] = read.channel_id
    # As the API sent it (unknown fields too), once its model has checked it; a field of the
    # record named like an added one keeps the added one's place and takes its own value.
    return [
        {**added, **record.raw} if isinstance(record, Model) else {**added, "value": record}
        for record in records
    ]


def _fetcher(
    iq: Client, planned: _Planned
) -> Callable[[AnalyticsRead], Awaitable[list[dict[str, Any]]]]:
    async def fetch(read: AnalyticsRead) -> list[dict[str, Any]]:
        section = iq.offerings.analytics
        if read.kind in CHANNEL_KINDS:
            if read.channel_id is None:
                raise planned.errors[read.offering_id]
            data = await getattr(section, CHANNEL_KINDS[read.kind])(
                read.offering_id, read.channel_id
            )
        else:
            data = await getattr(section, OFFERING_KINDS[read.kind])(read.offering_id)
        return _rows(read, data)

    return fetch


@attrs.frozen
class ExportReport:
    """What :func:`export_analytics` wrote.

    ``files`` maps each kind written by this run to its path (a kind whose every report
    failed has none), ``rows`` each chosen kind to the records written, ``ledger`` is the
    per-report ledger and ``summary`` the job's counts. ``stale`` lists export files in the
    directory that this run did not write (from an earlier export): they are not its output.
    """

    summary: Summary
    offering_ids: tuple[str, ...]
    files: Mapping[str, Path]
    rows: Mapping[str, int]
    ledger: Path | None
    stale: tuple[Path, ...] = ()

    @property
    def ok(self) -> bool:
        return self.summary.ok


async def export_analytics(
    iq: Client,
    offerings: Offerings = "all",
    kinds: Iterable[str] | None = None,
    *,
    out_dir: str | os.PathLike[str],
    format: Format = "jsonl",
    concurrency: int = 10,
    ledger: str | os.PathLike[str] | None = "export-ledger.csv",
    journal: Journal | str | os.PathLike[str] | None = None,
    on_progress: ProgressCallback | None = None,
) -> ExportReport:
    """Export every chosen kind of analytics of every chosen offering to one file per kind.

    ``offerings``: ``"all"``, ``"current"`` or a list of ids. ``kinds``: names from
    :data:`ALL_KINDS` (default all). Reports are fetched ``concurrency`` at a time and streamed
    to ``out_dir/<kind>.jsonl`` (or ``.csv`` with ``format="csv"``, nested values as JSON), one
    record per line with ``offeringId`` (and ``channelId``) added. A report that fails is a
    ``failed`` row of the ledger (``ledger``, relative to ``out_dir``; ``None`` for none) and
    the other reports are still written.

    Files appear whole: each is written beside its target (``.partial``) and renamed into place
    when the export ends, so a killed or failed export leaves the previous files intact. With
    ``journal``, an export that was interrupted resumes: reports it already wrote (kept under
    ``out_dir/export.partial/`` until the export ends) are not fetched again. A kind
    with no records is still a file (in CSV, the header row of its columns, in Parquet its
    schema: both from the kind's record model, see :mod:`~iqualify_async.bulk.records`).
    ``format="parquet"`` needs ``pyarrow`` (``pip install 'iqualify-async[parquet]'``).
    """
    if format not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {format!r}")
    if format == "parquet":
        from .parquet import require_pyarrow

        require_pyarrow()
    chosen = check_kinds(kinds)
    directory = Path(out_dir)
    await asyncio.to_thread(directory.mkdir, parents=True, exist_ok=True)
    ledger_path = directory / ledger if ledger is not None else None
    # Opened now: a ledger that cannot be written is found before any request.
    writer = None if ledger_path is None else LedgerWriter(ledger_path)
    files = KindFiles(directory, chosen, format, resume=journal is not None)
    try:
        offering_ids = await select_offerings(iq, offerings)
        planned = await _plan(iq, offering_ids, chosen)
        fetch = _fetcher(iq, planned)

        async def fetch_and_write(read: AnalyticsRead) -> int:
            rows = await fetch(read)
            if files.resume:  # each report a synced file of its own: off the event loop
                await asyncio.to_thread(files.write, read.kind, read.key(), rows)
            else:  # one append to an open file costs less than a thread's round trip
                files.write(read.kind, read.key(), rows)
            return len(rows)

        job = run(
            fetch_and_write,
            planned.reads,
            concurrency=concurrency,
            key=AnalyticsRead.key,
            journal=journal,
            name="export_analytics",
            verify=_fetch_again,
            on_progress=on_progress,
        )
        tally = _KindTally(planned.reads)
        summary = await job.wait(ledger=writer, on_outcome=tally.count)
    except BaseException:
        files.close()
        if writer is not None:
            writer.close(complete=False)
        raise
    paths = await asyncio.to_thread(
        files.finish, tally.written(chosen), tally.done(), {k: _header(k) for k in chosen}
    )
    if writer is not None:
        writer.close()
    if files.missing:
        logger.warning(
            "%d report(s) recorded as done in the journal had no records on disk (was %s "
            "removed?); export again without the journal to fetch them",
            files.missing,
            directory / PARTIAL_DIR,
        )
    stale = tuple(files.stale(ALL_KINDS, paths.values()))
    if stale:
        logger.warning(
            "%s holds export files this run did not write: %s",
            directory,
            ", ".join(p.name for p in stale),
        )
    return ExportReport(summary, tuple(offering_ids), paths, dict(files.rows), ledger_path, stale)


async def _fetch_again(read: AnalyticsRead) -> bool:
    """A report cut off by an interruption is read again (reading changes nothing)."""
    return False


class _KindTally:
    """Which reports of each kind succeeded, and which kinds had every report fail (they get
    no file, rather than an empty one)."""

    def __init__(self, reads: Iterable[AnalyticsRead]) -> None:
        self._reads: dict[str, list[str]] = {}
        for read in reads:
            self._reads.setdefault(read.kind, []).append(read.key())
        self._ok: set[str] = set()

    def count(self, outcome: Outcome[AnalyticsRead, int]) -> None:
        if outcome.status is Status.SUCCEEDED:
            self._ok.add(outcome.key)

    def written(self, kinds: Iterable[str]) -> list[str]:
        return [
            k for k in kinds if not self._reads.get(k) or any(r in self._ok for r in self._reads[k])
        ]

    def done(self) -> dict[str, list[str]]:
        return {k: [r for r in keys if r in self._ok] for k, keys in self._reads.items()}


def _header(kind: str) -> tuple[str, ...]:
    from .records import column_names

    return column_names(kind)


@attrs.frozen
class CollectedAnalytics:
    """Records per offering per kind, and the reports that failed (by read)."""

    records: Mapping[str, Mapping[str, list[dict[str, Any]]]]
    failures: Mapping[AnalyticsRead, BaseException]
    summary: Summary

    @property
    def ok(self) -> bool:
        return self.summary.ok

    def rows(self, kind: str) -> list[dict[str, Any]]:
        """Every offering's records of ``kind`` in one list, as the API sent them (see
        :meth:`to_pandas` for a typed DataFrame)."""
        return [r for per_kind in self.records.values() for r in per_kind.get(kind, ())]

    def to_arrow(self, kind: str) -> Any:
        """The records of ``kind`` as a ``pyarrow.Table`` with the Parquet export's schema,
        ``bulk.analytics_schema(kind)``: one column per field of the kind's record model,
        date-times as UTC timestamps, also when there are no records (needs the ``parquet``
        extra)."""
        from .parquet import table_of

        return table_of(self.rows(kind), kind)

    def to_pandas(self, kind: str) -> Any:
        """The records of ``kind`` as a ``pandas.DataFrame`` typed by the same schema as
        :meth:`to_arrow` (date-times ``datetime64[us, UTC]``); needs the ``dataframe`` extra
        (``pip install 'iqualify-async[dataframe]'``: pandas and pyarrow)."""
        import importlib.util

        missing = [m for m in ("pandas", "pyarrow") if importlib.util.find_spec(m) is None]
        if missing:
            raise ImportError(
                f"DataFrames need {' and '.join(missing)}: pip install 'iqualify-async[dataframe]'"
            )
        return self.to_arrow(kind).to_pandas()


async def collect_analytics(
    iq: Client,
    offerings: Offerings = "all",
    kinds: Iterable[str] | None = None,
    *,
    concurrency: int = 10,
    on_progress: ProgressCallback | None = None,
) -> CollectedAnalytics:
    """Like :func:`export_analytics`, in memory: ``records[offering_id][kind]`` is a list of
    records (each with ``offeringId``, and ``channelId`` for channel kinds); every chosen kind
    is present for every offering, empty when it has no records or its read failed."""
    chosen = check_kinds(kinds)
    offering_ids = await select_offerings(iq, offerings)
    planned = await _plan(iq, offering_ids, chosen)
    records: dict[str, dict[str, list[dict[str, Any]]]] = {
        o: {k: [] for k in chosen} for o in offering_ids
    }
    failures: dict[AnalyticsRead, BaseException] = {}
    job = run(
        _fetcher(iq, planned),
        planned.reads,
        concurrency=concurrency,
        key=AnalyticsRead.key,
        on_progress=on_progress,
    )
    async for outcome in job:
        if outcome.status is Status.SUCCEEDED and outcome.value is not None:
            records[outcome.item.offering_id][outcome.item.kind].extend(outcome.value)
        elif outcome.exception is not None:
            failures[outcome.item] = outcome.exception
    return CollectedAnalytics(records, failures, job.summary)
