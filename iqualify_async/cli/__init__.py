"""The ``iqualify`` command line (needs the ``cli`` extra: click and rich)."""

from .app import cli, main
from .commands import register

register(cli)

__all__ = ["cli", "main"]
