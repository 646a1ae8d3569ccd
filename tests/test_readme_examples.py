"""Every ```python block in README.md runs as written, against the embedded fake server.

Complete scripts are fenced ```python; fragments that are not meant to run alone use ```py.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

CHECKOUT = Path(__file__).resolve().parent.parent
README = CHECKOUT / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


def _env() -> dict[str, str]:
    """The environment of an example: no IQUALIFY_ settings, and this checkout's package first
    (not whatever version is installed)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("IQUALIFY_")}
    env["PYTHONPATH"] = os.pathsep.join([str(CHECKOUT), *filter(None, [env.get("PYTHONPATH")])])
    return env


def test_examples_import_this_checkout(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", "import iqualify_async; print(iqualify_async.__file__)"],
        cwd=tmp_path,
        env=_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    assert Path(result.stdout.strip()).resolve().is_relative_to(CHECKOUT)


def test_readme_has_examples() -> None:
    assert len(BLOCKS) >= 3


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_example_runs(index: int, tmp_path: Path) -> None:
    script = tmp_path / f"example_{index}.py"
    script.write_text(BLOCKS[index], encoding="utf-8")
    result = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"README example {index} failed:\n{result.stderr[-3000:]}"
