"""The benchmark suite still runs end to end (tiny sizes) and reports every figure."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

EXPECTED = {
    "overhead": {"library / aiohttp", "library / httpx", "library client CPU per request"},
    "bulk_latency": {"achieved req/s ÷ Little's-law limit"},
    "rate_limit": {"achieved rate ÷ R", "429 answers ÷ requests"},
    "memory": {"bulk engine throughput (no network)"},
    "startup": {"import iqualify_async minus import aiohttp"},
    "export": {"records exported per second", "total time of the export"},
    "storm_recovery": {"storm end to 0.9 R"},
}


@pytest.mark.slow
def test_quick_run_reports_every_figure(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    result = json.loads((tmp_path / "latest-quick.json").read_text())
    assert result["errors"] == {}
    names: dict[str, set[str]] = {}
    for fig in result["figures"]:
        names.setdefault(fig["benchmark"], set()).add(fig["name"])
        assert fig["samples"], fig
        assert fig["median"] == fig["median"], fig  # not NaN
    for benchmark, expected in EXPECTED.items():
        assert expected <= names.get(benchmark, set()), (benchmark, names.get(benchmark))
    assert any(n.startswith("peak RSS growth") for n in names["memory"])
    targets = [f for f in result["figures"] if f["target"] is not None]
    assert len(targets) >= 6 and all(isinstance(f["met"], bool) for f in targets)
    assert "whole suite" in done.stdout
