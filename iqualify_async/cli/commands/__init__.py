"""The subcommands of ``iqualify``, one module each."""

from __future__ import annotations

import click

from .call import call
from .companions import COMMANDS as COMPANIONS
from .demo import demo
from .endpoints import endpoints
from .enrol import enrol
from .export import export_analytics
from .ledger import ledger
from .serve_fake import serve_fake


def register(group: click.Group) -> None:
    for command in (
        demo,
        enrol,
        *COMPANIONS,
        export_analytics,
        call,
        endpoints,
        serve_fake,
        ledger,
    ):
        group.add_command(command)
