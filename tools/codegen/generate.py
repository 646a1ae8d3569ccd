"""Render every generated file in memory, formatted with ruff."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from . import render_python as py
from .build import ROOT, build
from .render_openapi import render_openapi

PACKAGE = "iqualify_async"


def _ruff() -> str:
    exe = Path(sys.executable).with_name("ruff")
    return str(exe) if exe.exists() else (shutil.which("ruff") or "ruff")


def _format(files: dict[str, str]) -> dict[str, str]:
    """Run ``ruff check --fix`` (imports) and ``ruff format`` with the project's settings."""
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        for rel, text in files.items():
            (base / rel).parent.mkdir(parents=True, exist_ok=True)
            (base / rel).write_text(text, encoding="utf-8")
        config = str(ROOT / "pyproject.toml")
        common = ["--config", config, "--no-cache", "--quiet"]
        subprocess.run([_ruff(), "check", "--fix-only", "--exit-zero", *common, tmp], check=True)
        subprocess.run([_ruff(), "format", *common, tmp], check=True)
        return {rel: (base / rel).read_text(encoding="utf-8") for rel in files}


def generate() -> dict[str, str]:
    """Relative path -> content of every generated file."""
    api = build()
    python = {
        f"{PACKAGE}/types/__init__.py": py.render_types_init(api),
        f"{PACKAGE}/types/models.py": py.render_models(api),
        f"{PACKAGE}/types/params.py": py.render_params(api),
        f"{PACKAGE}/_endpoints.py": py.render_endpoints(api),
    }
    for rel, text in py.resource_files(api).items():
        python[f"{PACKAGE}/resources/{rel}"] = text
    files = _format(python)
    files[f"{PACKAGE}/_openapi.json"] = render_openapi(api)
    return files
