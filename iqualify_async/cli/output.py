"""Printing: JSON mode, rich tables, and progress bars fed by bulk-job progress events."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from rich import box
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from .state import State

ProgressEvent = Any
"""A :class:`iqualify_async.bulk.Progress` snapshot (duck-typed here)."""


class Output:
    """Where and how a command prints, decided once from the options and the terminal."""

    def __init__(self, state: State) -> None:
        self.state = state
        self.console = Console(file=sys.stdout, highlight=False)
        if not self.console.is_terminal and "COLUMNS" not in os.environ:
            # Piped or captured output is read by people and scripts alike: no wrapping at 80.
            self.console.width = 160
        self.err = Console(file=sys.stderr, highlight=False)

    @property
    def json(self) -> bool:
        return self.state.json

    @property
    def bars(self) -> bool:
        """Progress bars: on a terminal, unless --no-progress or --json."""
        return self.state.progress is not False and not self.json and self.console.is_terminal

    def line(self, text: str = "") -> None:
        """A line of human-readable output (to stderr in JSON mode, keeping stdout pure)."""
        target = self.err if self.json else self.console
        target.print(text, markup=False, highlight=False, soft_wrap=True)

    def warn(self, text: str) -> None:
        """A warning for humans, on stderr in every mode."""
        self.err.print(f"warning: {text}", markup=False, highlight=False, soft_wrap=True)

    def note(self, text: str) -> None:
        """Rich-markup text for humans; dropped in JSON mode."""
        if not self.json:
            self.console.print(text)

    def print_json(self, value: Any) -> None:
        sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False, default=str))
        sys.stdout.write("\n")
        sys.stdout.flush()

    def table(
        self,
        title: str | None,
        columns: Sequence[str],
        rows: Sequence[Sequence[Any]],
        *,
        header: bool = True,
    ) -> None:
        gap = 3
        wrap_last = False
        width = self.console.width
        if header and rows and _width(columns, rows, gap) > width:
            gap = 1  # closer together before cutting a word
            if _width(columns, rows, gap) > width:
                last_is_text = not all(isinstance(r[-1], int | float) for r in rows)
                others = _width(columns[:-1], [r[:-1] for r in rows], gap) if columns[1:] else 0
                if last_is_text and others + gap + _MIN_WRAPPED <= width:
                    wrap_last = True  # the free text wraps, within its own column
                else:
                    # Still too narrow: one block of "column value" per row (under one
                    # title), rather than headers and numbers cut mid-word.
                    if title:
                        self.line(title)
                    for row in rows:
                        pairs = [(name, _cell(v)) for name, v in zip(columns, row, strict=True)]
                        self.table(None, ("", ""), pairs, header=False)
                    return
        table = Table(
            title=title,
            box=box.SIMPLE_HEAD,
            title_justify="left",
            pad_edge=False,
            show_edge=False,
            show_header=header,
            title_style="bold" if self.console.is_terminal else None,
            padding=(0, 1) if gap == 3 else (0, 0),
        )
        for name in columns:
            numeric = bool(rows) and all(
                isinstance(r[columns.index(name)], int | float) for r in rows
            )
            fixed = wrap_last and name != columns[-1]
            table.add_column(
                name,
                justify="right" if numeric else "left",
                overflow="fold",
                no_wrap=fixed,
                min_width=_MIN_WRAPPED if wrap_last and not fixed else None,
            )
        for row in rows:
            table.add_row(*(_cell(v) for v in row))
        if self.console.is_terminal:
            self.console.print(table)
            return
        with self.console.capture() as captured:
            self.console.print(table)
        for text in captured.get().splitlines():
            self.console.file.write(text.rstrip() + "\n")

    @contextmanager
    def jobs(self) -> Iterator[JobBars]:
        """Progress bars for bulk jobs (or plain end-of-job lines when bars are off)."""
        bars = JobBars(self)
        if self.bars:
            with bars.progress:
                yield bars
        else:
            yield bars


_MIN_WRAPPED = 16
"""The narrowest a wrapped free-text column may get before rows become blocks."""


def _width(columns: Sequence[str], rows: Sequence[Sequence[Any]], gap: int) -> int:
    """Characters a table needs with every header and cell on one line."""
    widths = [len(c) for c in columns]
    for row in rows:
        widths = [max(w, len(_cell(v))) for w, v in zip(widths, row, strict=True)]
    return sum(widths) + gap * (len(widths) - 1)


def plural(count: int, one: str, many: str) -> str:
    """``"1 person"``, ``"2 people"``, ``"1,000 enrolments"``."""
    return f"{count:,} {one if count == 1 else many}"


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return "" if value is None else str(value)


class JobBars:
    """One bar per bulk job; ``track(name)`` returns the job's ``on_progress`` callback."""

    def __init__(self, output: Output) -> None:
        self.output = output
        wide = output.console.width >= 100
        columns = (
            [
                TextColumn("{task.description:<22}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[counts]}"),
                TextColumn("{task.fields[rate]}"),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
            ]
            if wide
            # A narrow terminal: what fits whole (the counts are in the summary at the end).
            else [
                TextColumn("{task.description}"),
                BarColumn(bar_width=None),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
            ]
        )
        self.progress = Progress(
            *columns,
            console=output.console,
            transient=False,
            refresh_per_second=8,
        )

    def track(
        self, name: str, total: int | None = None, *, ok_label: str = "ok"
    ) -> Callable[[ProgressEvent], None]:
        """``ok_label`` names the succeeded items (a dry run's are still "to do")."""
        task: TaskID | None = None
        if self.output.bars:
            task = self.progress.add_task(name, total=total, counts="", rate="")

        def on_progress(event: ProgressEvent) -> None:
            if task is not None:
                # Items left unprocessed (e.g. on Ctrl-C) were not done: the bar does not fill.
                self.progress.update(
                    task,
                    completed=event.done - event.unprocessed,
                    total=event.total,
                    counts=_counts(event, ok_label),
                    rate=f"{event.rate:,.0f}/s",
                )
            if event.finished and not self.output.bars:
                self.output.line(
                    f"{name}: {event.done} done ({_counts(event, ok_label)}) in {event.elapsed:.1f}s"
                )

        return on_progress


def _counts(event: ProgressEvent, ok_label: str = "ok") -> str:
    parts = [f"{event.succeeded} {ok_label}"]
    if event.skipped:
        parts.append(f"{event.skipped} skipped")
    if event.failed:
        parts.append(f"{event.failed} failed")
    if event.unprocessed:
        parts.append(f"{event.unprocessed} unprocessed")
    return ", ".join(parts)
