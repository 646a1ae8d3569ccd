"""``iqualify call OPERATION --param value ...``: any operation, its answer printed as JSON."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import click

from ..app import configure_logging
from ..errors import EXIT_FAILURES, EXIT_OK
from ..jsonable import jsonable
from ..operations import find_operation, parse_params
from ..options import connection_options, output_options, take_common_options
from ..output import Output
from ..state import State
from .endpoints import show_operation


@click.command(
    context_settings={
        "ignore_unknown_options": True,
        "allow_extra_args": True,
        "allow_interspersed_args": False,
        "help_option_names": ["-h", "--help"],
    },
    short_help="Call one API operation and print its answer as JSON.",
)
@click.argument("operation", metavar="OPERATION")
@output_options
@connection_options
@click.pass_context
def call(ctx: click.Context, operation: str) -> int:
    """Call OPERATION (its Python name, e.g. offerings.users.list; see `iqualify endpoints`)
    and print the answer as JSON.

    Parameters go as `--name value` or `--name=value`, by the API's name (--offeringId) or the
    Python one (--offering-id / --offering_id); `iqualify call OPERATION --help` lists them. Booleans take true/false; arrays and objects
    take JSON text or @file.json (a list of strings may also be comma-separated).

    \b
    Example:
      iqualify call offerings.users.list --offering-id 5f2b... --learners false
    """
    state: State = ctx.ensure_object(State)
    args = take_common_options(state, list(ctx.args))
    configure_logging(state)
    endpoint = find_operation(operation)
    if "--help" in args or "-h" in args:
        show_operation(Output(state), endpoint)
        return 0
    arguments = parse_params(endpoint, args)
    client_kwargs = state.client_kwargs()
    result = asyncio.run(_call(endpoint.attr, arguments, client_kwargs))
    output = Output(state)
    output.print_json(jsonable(result))
    return _exit_code(output, result)


def _exit_code(output: Output, result: Any) -> int:
    """1 when a multi-status answer reports items that failed or whose fate is unknown."""
    from ..._multistatus import AddUsersResult

    if isinstance(result, AddUsersResult) and not result.all_succeeded:
        click.echo(
            f"{len(result.failed)} failed and {len(result.unknown)} unknown "
            f"of {len(result)} item(s)",
            err=True,
        )
        return EXIT_FAILURES
    return EXIT_OK


async def _call(attr: str, arguments: Mapping[str, Any], client_kwargs: Mapping[str, Any]) -> Any:
    from ... import Client

    async with Client(**client_kwargs) as iq:
        method: Any = iq
        for part in attr.split("."):
            method = getattr(method, part)
        return await method(**arguments)
