"""The subcommands of ``iqualify``, one module each."""

from __future__ import annotations

import click

from .call import call
from .endpoints import endpoints
from .serve_fake import serve_fake


def register(group: click.Group) -> None:
    for command in (call, endpoints, serve_fake):
        group.add_command(command)
