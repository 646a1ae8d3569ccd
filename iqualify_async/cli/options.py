"""Options shared by the commands: connection settings and output style."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from .state import API_KEY_ENV, State

F = TypeVar("F", bound=Callable[..., Any])


def _store(field: str) -> Callable[[click.Context, click.Parameter, Any], None]:
    def callback(ctx: click.Context, param: click.Parameter, value: Any) -> None:
        source = ctx.get_parameter_source(param.name or field)
        if source is not click.core.ParameterSource.DEFAULT or value:
            setattr(ctx.ensure_object(State), field, value)

    return callback


def _store_progress(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        ctx.ensure_object(State).progress = False


def output_options(fn: F) -> F:
    """``-v/--verbose``, ``--json`` and ``--no-progress``."""
    decorators = [
        click.option(
            "-v",
            "--verbose",
            count=True,
            expose_value=False,
            is_eager=True,
            callback=_store("verbose"),
            help="Show request logs and full tracebacks (repeat for more).",
        ),
        click.option(
            "--json",
            "json_output",
            is_flag=True,
            expose_value=False,
            callback=_store("json"),
            help="Print machine-readable JSON instead of tables; no progress bars.",
        ),
        click.option(
            "--no-progress",
            is_flag=True,
            expose_value=False,
            callback=_store_progress,
            help="No progress bars (they are off anyway when stdout is not a terminal).",
        ),
    ]
    for decorate in reversed(decorators):
        fn = decorate(fn)
    return fn


def _default_retries() -> int:
    from .._retry import RetryPolicy

    return RetryPolicy().max_retries


def connection_options(fn: F) -> F:
    """``--base-url``, ``--api-key``, ``--auth-scheme``, ``--rate-limit``, ``--max-retries``,
    ``--allow-insecure-http``."""
    decorators = [
        click.option(
            "--base-url",
            metavar="URL",
            envvar="IQUALIFY_BASE_URL",
            expose_value=False,
            callback=_store("base_url"),
            help="API base URL (env IQUALIFY_BASE_URL; default https://api.iqualify.com/v1).",
        ),
        click.option(
            "--api-key",
            metavar="KEY",
            envvar=API_KEY_ENV,
            expose_value=False,
            callback=_store("api_key"),
            help=f"API key (env {API_KEY_ENV}). Never printed.",
        ),
        click.option(
            "--auth-scheme",
            metavar="SCHEME",
            expose_value=False,
            callback=_store("auth_scheme"),
            help="Send 'Authorization: SCHEME KEY' (e.g. Bearer) instead of the bare key.",
        ),
        click.option(
            "--rate-limit",
            type=click.FloatRange(min=0),
            metavar="PER_SECOND",
            expose_value=False,
            callback=_store("rate_limit"),
            help="Client-side ceiling on requests per second (0: none; default 10, adaptive).",
        ),
        click.option(
            "--max-retries",
            type=click.IntRange(min=0),
            metavar="N",
            expose_value=False,
            callback=_store("max_retries"),
            help=f"Retries per request after the first attempt (default {_default_retries()}).",
        ),
        click.option(
            "--allow-insecure-http",
            is_flag=True,
            expose_value=False,
            callback=_store("allow_insecure_http"),
            help="Allow a plain http:// --base-url to a host other than this machine "
            "(the key then travels unencrypted).",
        ),
    ]
    for decorate in reversed(decorators):
        fn = decorate(fn)
    return fn


_VALUE_OPTIONS: dict[str, tuple[str, Callable[[str], Any]]] = {
    "--base-url": ("base_url", str),
    "--api-key": ("api_key", str),
    "--auth-scheme": ("auth_scheme", str),
    "--rate-limit": ("rate_limit", float),
    "--max-retries": ("max_retries", int),
}


def take_common_options(state: State, args: list[str]) -> list[str]:
    """Apply common options found among free-form arguments; return the other arguments.

    ``iqualify call`` reads everything after OPERATION itself (values may start with ``-``), so
    the common options given there are picked out here.
    """
    rest: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        name, eq, value = arg.partition("=")
        if name in _VALUE_OPTIONS:
            field, parse = _VALUE_OPTIONS[name]
            if not eq:
                if i + 1 >= len(args):
                    raise click.UsageError(f"{name} needs a value")
                i += 1
                value = args[i]
            try:
                parsed = parse(value)
            except ValueError:
                raise click.UsageError(f"{name}: invalid value {value!r}") from None
            if isinstance(parsed, int | float) and parsed < 0:
                raise click.UsageError(f"{name} must not be negative")
            setattr(state, field, parsed)
        elif arg == "--json":
            state.json = True
        elif arg == "--allow-insecure-http":
            state.allow_insecure_http = True
        elif arg == "--no-progress":
            state.progress = False
        elif arg == "--verbose" or (len(arg) > 1 and arg.strip("v") == "-"):
            state.verbose += 1 if arg == "--verbose" else len(arg) - 1
        else:
            rest.append(arg)
        i += 1
    return rest
