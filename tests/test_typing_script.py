"""The script ``make test`` type-checks (tests/typing) also runs as written."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).parent / "typing" / "user_script.py"


def test_the_typed_user_script_runs() -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPT)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    name, *rest = result.stdout.rsplit(" ", 4)
    assert name and int(rest[1]) > 0 and float(rest[2]) > 0
