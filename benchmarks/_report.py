"""Figures, their targets, and how they are printed and saved."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any

import attrs


@attrs.frozen
class Target:
    """``value >= bound`` (``at_least``) or ``value <= bound`` / ``value < bound``."""

    op: str  # ">=", "<=", "<"
    bound: float

    def met(self, value: float) -> bool:
        if self.op == ">=":
            return value >= self.bound
        if self.op == "<=":
            return value <= self.bound
        if self.op == "<":
            return value < self.bound
        raise ValueError(f"unknown comparison {self.op!r}")

    def __str__(self) -> str:
        return f"{self.op} {self.bound:g}"


@attrs.frozen
class Figure:
    """One measured figure: every repetition's value, summarised as median and spread."""

    benchmark: str
    name: str
    unit: str
    samples: tuple[float, ...]
    target: Target | None = None
    note: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def low(self) -> float:
        return min(self.samples)

    @property
    def high(self) -> float:
        return max(self.samples)

    @property
    def met(self) -> bool | None:
        return None if self.target is None else self.target.met(self.median)

    def to_json(self) -> dict[str, Any]:
        return {
            "benchmark": self.benchmark,
            "name": self.name,
            "unit": self.unit,
            "median": self.median,
            "min": self.low,
            "max": self.high,
            "samples": list(self.samples),
            "target": None if self.target is None else str(self.target),
            "met": self.met,
            "note": self.note,
        }


def figure(
    benchmark: str,
    name: str,
    unit: str,
    samples: Sequence[float],
    target: Target | None = None,
    note: str = "",
) -> Figure:
    if not samples:
        raise ValueError(f"figure {name!r} has no samples")
    return Figure(benchmark, name, unit, tuple(float(s) for s in samples), target, note)


def _fmt(value: float) -> str:
    magnitude = abs(value)
    if magnitude >= 1000:
        return f"{value:,.0f}"
    if magnitude >= 100:
        return f"{value:.1f}"
    if magnitude >= 1:
        return f"{value:.2f}"
    return f"{value:.3g}"


def format_row(fig: Figure) -> str:
    spread = (
        f"{_fmt(fig.low)}–{_fmt(fig.high)}, n={len(fig.samples)}" if len(fig.samples) > 1 else "n=1"
    )
    verdict = {True: "MET", False: "MISSED", None: ""}[fig.met]
    target = f"target {fig.target}" if fig.target is not None else ""
    value = f"{_fmt(fig.median)} {fig.unit}".strip()
    line = f"  {fig.name:<44} {value:>20}  ({spread:<24}) {target:<14} {verdict}"
    return line.rstrip() + (f"\n      {fig.note}" if fig.note else "")
