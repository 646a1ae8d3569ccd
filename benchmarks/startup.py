"""(5) Import and start-up: ``import iqualify_async`` against ``import aiohttp`` alone.

Each run is a fresh ``python -c`` (wall time of the whole process, so interpreter start-up is
in both); the two are interleaved and the medians compared. Also checks that the heavy optional
parts (fake server, bulk layer, CLI, click, rich) are not imported by ``import iqualify_async``.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time

from ._common import Settings
from ._report import Figure, Target, figure

NAME = "startup"
HEAVY = (
    "iqualify_async.testing",
    "iqualify_async.bulk",
    "iqualify_async.cli",
    "click",
    "rich",
    "httpx",
)


def _time(code: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.perf_counter() - started


def _heavy_modules_loaded() -> list[str]:
    code = (
        "import sys, json, iqualify_async; "
        f"print(json.dumps([m for m in {list(HEAVY)!r} if m in sys.modules]))"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    loaded: list[str] = json.loads(out.stdout)
    return loaded


def run(settings: Settings) -> list[Figure]:
    runs = settings.n(15, 2)
    _time("import iqualify_async")  # warm the file cache and bytecode
    library: list[float] = []
    aiohttp: list[float] = []
    bare: list[float] = []
    for _ in range(runs):
        library.append(_time("import iqualify_async"))
        aiohttp.append(_time("import aiohttp"))
        bare.append(_time("pass"))
    added = [(lib - base) * 1000 for lib, base in zip(library, aiohttp, strict=True)]
    heavy = _heavy_modules_loaded()
    return [
        figure(
            NAME,
            "import iqualify_async minus import aiohttp",
            "ms",
            added,
            Target("<=", 150),
            note="optional parts imported by `import iqualify_async`: "
            + (", ".join(heavy) if heavy else "none"),
        ),
        figure(NAME, "python -c 'import iqualify_async'", "ms", [t * 1000 for t in library]),
        figure(NAME, "python -c 'import aiohttp'", "ms", [t * 1000 for t in aiohttp]),
        figure(NAME, "python -c 'pass'", "ms", [t * 1000 for t in bare]),
        figure(
            NAME,
            "median difference (medians)",
            "ms",
            [(statistics.median(library) - statistics.median(aiohttp)) * 1000],
        ),
    ]
