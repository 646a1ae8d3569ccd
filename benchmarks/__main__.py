"""Run the benchmark suite: ``python -m benchmarks [--quick] [--only NAME ...]``.

Prints every figure (median, min–max over the repetitions) beside its target and writes all
of them, with the machine they were taken on, to ``benchmarks/results/`` as JSON.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import subprocess
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from ._common import Settings
from ._report import Figure, format_row

# In the order they run; each module has ``run(settings) -> list[Figure]``.
BENCHMARKS = {
    "overhead": "(1) per-request overhead: library vs raw aiohttp vs httpx",
    "bulk_latency": "(2) latency-bound bulk enrolment vs Little's law",
    "rate_adherence": "(3) rate-limit adherence against a rate-limited server",
    "memory": "(4) memory of a 100,000-item bulk job",
    "startup": "(5) import time",
    "export": "(6) analytics export of the demo organisation",
    "storm_recovery": "(7) recovery after a storm of 429s",
}
RESULTS = Path(__file__).resolve().parent / "results"


def machine() -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        cpu = platform.processor()
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    from iqualify_async import __version__

    return {
        "cpus": os.cpu_count(),
        "cpu_model": cpu,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "iqualify_async": __version__,
        "commit": commit or None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run")
    parser.add_argument("--only", nargs="+", choices=list(BENCHMARKS), help="run only these")
    parser.add_argument("--repeats", type=int, default=5, help="repetitions per figure")
    parser.add_argument("--out", type=Path, default=RESULTS, help="directory for the JSON")
    args = parser.parse_args(argv)
    settings = Settings(quick=args.quick, repeats=args.repeats)

    info = machine()
    print(
        f"iqualify-async {info['iqualify_async']} benchmarks on {info['cpus']} CPUs "
        f"({info['cpu_model']}), Python {info['python']}" + (" [quick]" if settings.quick else "")
    )
    started = time.perf_counter()
    figures: list[Figure] = []
    errors: dict[str, str] = {}
    durations: dict[str, float] = {}
    for name in args.only or list(BENCHMARKS):
        print(f"\n{BENCHMARKS[name]}", flush=True)
        t0 = time.perf_counter()
        try:
            module = importlib.import_module(f"benchmarks.{name}")
            got: list[Figure] = module.run(settings)
        except Exception as exc:
            errors[name] = f"{type(exc).__name__}: {exc}"
            print(f"  FAILED: {errors[name]}")
            traceback.print_exc()
            got = []
        durations[name] = time.perf_counter() - t0
        for fig in got:
            print(format_row(fig), flush=True)
        figures.extend(got)
    total = time.perf_counter() - started

    missed = [f for f in figures if f.met is False]
    print(
        f"\nwhole suite: {total:.0f} s; targets met {sum(f.met is True for f in figures)}", end=""
    )
    print(f" of {sum(f.met is not None for f in figures)}")
    for fig in missed:
        print(f"  MISSED {fig.benchmark}: {fig.name} = {fig.median:.3g} (target {fig.target})")
    for name, error in errors.items():
        print(f"  ERROR {name}: {error}")

    result = {
        "machine": info,
        "quick": settings.quick,
        "repeats": settings.reps,
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "seconds": total,
        "seconds_by_benchmark": durations,
        "figures": [f.to_json() for f in figures],
        "errors": errors,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = args.out / f"{'quick-' if settings.quick else ''}{stamp}.json"
    text = json.dumps(result, indent=2, ensure_ascii=False)
    path.write_text(text)
    (args.out / ("latest-quick.json" if settings.quick else "latest.json")).write_text(text)
    print(f"results: {path}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
