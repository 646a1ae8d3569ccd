"""Small helpers shared by the benchmarks."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import attrs


@attrs.frozen
class Settings:
    """How hard to push: ``quick`` shrinks every benchmark to a smoke run."""

    quick: bool = False
    repeats: int = 5

    def n(self, full: int, quick: int) -> int:
        return quick if self.quick else full

    @property
    def reps(self) -> int:
        return 1 if self.quick else self.repeats


@attrs.frozen
class Timed:
    seconds: float
    cpu_seconds: float
    count: int

    @property
    def per_second(self) -> float:
        return self.count / self.seconds


async def drive(call: Callable[[int], Awaitable[object]], n: int, concurrency: int) -> Timed:
    """Run ``await call(i)`` for i in 0..n-1 from ``concurrency`` worker tasks; time it."""
    counter = iter(range(n))

    async def worker() -> None:
        for i in counter:
            await call(i)

    cpu = time.process_time()
    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return Timed(time.perf_counter() - started, time.process_time() - cpu, n)
