"""``iqualify endpoints``: the operations ``iqualify call`` (and the Python client) offers."""

from __future__ import annotations

import click

from ..._endpoints import ENDPOINTS, SHORTCUTS, Endpoint
from ..operations import find_operation
from ..options import output_options
from ..output import Output
from ..state import State

OPERATIONS: tuple[Endpoint, ...] = (*ENDPOINTS, *SHORTCUTS.values())
"""Every operation `iqualify call` takes: the API's, then methods sending one of them with other
fixed body values (``users.unsuspend``)."""


@click.command(short_help="List the API operations (method, path, Python name, summary).")
@click.argument("operation", required=False, metavar="[OPERATION]")
@output_options
@click.pass_obj
def endpoints(state: State, operation: str | None) -> int:
    """List the API's operations: method, path, Python name (what `iqualify call` takes) and
    summary. With OPERATION, show that one's parameters."""
    output = Output(state)
    if operation is not None:
        endpoint = find_operation(operation)
        show_operation(output, endpoint)
        return 0
    if output.json:
        output.print_json([_as_dict(e, params=True) for e in OPERATIONS])
        return 0
    output.table(
        f"{len(OPERATIONS)} operations",
        ["method", "path", "Python name", "summary"],
        [(e.method, e.path, e.attr, e.summary) for e in OPERATIONS],
    )
    return 0


def _as_dict(endpoint: Endpoint, *, params: bool) -> dict[str, object]:
    out: dict[str, object] = {
        "method": endpoint.method,
        "path": endpoint.path,
        "attr": endpoint.attr,
        "summary": endpoint.summary,
    }
    if params:
        out["params"] = [
            {
                "name": p.name,
                "python_name": p.python_name,
                "location": p.location,
                "required": p.required,
                "type": p.type,
            }
            for p in endpoint.params
        ]
    return out


def show_operation(output: Output, endpoint: Endpoint) -> None:
    """One operation and its parameters, as `iqualify call` takes them."""
    if output.json:
        output.print_json(_as_dict(endpoint, params=True))
        return
    output.line(f"{endpoint.method} {endpoint.path}  ({endpoint.attr})")
    output.line(endpoint.summary)
    if not endpoint.params:
        output.line("No parameters.")
        return
    output.table(
        None,
        ["option", "API name", "in", "required", "type"],
        [
            (
                f"--{p.python_name.replace('_', '-')}",
                p.name,
                p.location,
                "yes" if p.required else "",
                p.type,
            )
            for p in endpoint.params
        ],
    )
