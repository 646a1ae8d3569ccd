"""(3) Rate-limit adherence, measured by ``benchmarks/rate_limit.py`` and repeated here.

The fake allows R requests/s; 200 tasks send 2,000 GETs through a client whose ceiling is 5R,
so the client has to find R by itself. Figures: achieved rate ÷ R, and 429 answers as a share
of the requests the server received. (``rate_limit.rate_adherence`` runs the fake in the same
process; at R = 200 requests/s the server's share of the CPU is small.)
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from . import rate_limit
from ._common import Settings
from ._report import Figure, Target, figure

NAME = "rate_limit"
RATE = 200.0
TASKS = 200


def run(settings: Settings) -> list[Figure]:
    requests = settings.n(2000, 300)
    logging.getLogger("iqualify_async").setLevel(logging.ERROR)  # 429 warnings are expected
    runs: list[dict[str, Any]] = [
        asyncio.run(rate_limit.rate_adherence(RATE, requests, TASKS))
        for _ in range(min(settings.reps, 3))
    ]
    setup = (
        f"{requests} GETs from {TASKS} tasks, server limit R={RATE:g}/s, "
        f"client ceiling {runs[0]['client_ceiling']:g}/s"
    )
    return [
        figure(
            NAME,
            "achieved rate ÷ R",
            "x",
            [r["achieved_ratio"] for r in runs],
            Target(">=", 0.9),
            note=setup,
        ),
        figure(
            NAME,
            "429 answers ÷ requests",
            "%",
            [r["share_429"] * 100 for r in runs],
            Target("<=", 2.0),
        ),
        figure(NAME, "requests that succeeded", "", [r["succeeded"] for r in runs]),
        figure(NAME, "time for the run", "s", [r["seconds"] for r in runs]),
    ]
