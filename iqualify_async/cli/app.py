"""The ``iqualify`` command group and its error handling (one line per problem, exit codes)."""

from __future__ import annotations

import logging
import os
import sys
import traceback
from collections.abc import Sequence
from typing import Any

import click

from .. import __version__
from ..bulk.errors import JournalError, LedgerError
from ..errors import ConfigurationError, IQualifyError, ParameterError
from .errors import EXIT_FAILURES, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, CommandError
from .redact import redact
from .state import State

EPILOG = """\b
Exit codes:
  0    everything was done
  1    some items failed (see the ledger) or the API refused the call
  2    bad arguments, input or configuration; nothing was sent
  130  interrupted; the journal is consistent and a re-run resumes
"""


class IQualifyGroup(click.Group):
    """A click group that maps every way a command can end to a documented exit code."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        state = extra.pop("obj", None) or State()
        try:
            result = super().main(
                args,
                prog_name or "iqualify",
                complete_var,
                standalone_mode=False,
                obj=state,
                **extra,
            )
            code = result if isinstance(result, int) else EXIT_OK
            sys.stdout.flush()
        except BaseException as exc:
            code = report(exc, state)
        if standalone_mode:
            sys.exit(code)
        return code

    def invoke(self, ctx: click.Context) -> Any:
        # Before click's own handling of a broken pipe, which exits 1.
        try:
            result = super().invoke(ctx)
            sys.stdout.flush()
        except BrokenPipeError:
            _silence_stdout()
            return EXIT_OK
        return result


def report(exc: BaseException, state: State) -> int:
    """Print ``exc`` as one line (plus a traceback with ``-v``); return the exit code."""
    if isinstance(exc, SystemExit):
        raise exc
    if isinstance(exc, BrokenPipeError):
        # The reader went away (`iqualify endpoints | head`): what it read was all it wanted.
        _silence_stdout()
        return EXIT_OK
    if isinstance(exc, click.exceptions.Abort | KeyboardInterrupt):
        _say(state.interrupt_hint, state)
        return EXIT_INTERRUPTED
    if isinstance(exc, click.UsageError):
        exc.show()
        return EXIT_USAGE
    if isinstance(exc, click.ClickException):
        exc.show()
        return exc.exit_code
    if isinstance(exc, CommandError):
        _say(exc.message, state)
        return exc.exit_code
    if state.verbose:
        sys.stderr.write(redact("".join(traceback.format_exception(exc)), state.known_key()))
    if isinstance(exc, ConfigurationError | ParameterError | JournalError | LedgerError):
        # The command line's way to say what the library's hint names.
        _say(str(exc).replace("allow_insecure_http=True", "--allow-insecure-http"), state)
        return EXIT_USAGE
    if isinstance(exc, IQualifyError):
        _say(str(exc), state)
        return EXIT_FAILURES
    if isinstance(exc, Exception):
        _say(f"{type(exc).__name__}: {exc}", state)
        return EXIT_FAILURES
    raise exc


def _silence_stdout() -> None:
    """Point stdout at the null device, so that flushing it at exit raises nothing."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # not a real file (captured output)
        pass


def journal_errors() -> tuple[type[BaseException], ...]:
    """A journal or ledger that cannot be used (another job's, locked, corrupt): exit 2."""
    return (JournalError, LedgerError)


def _say(message: str, state: State) -> None:
    line = redact(" ".join(str(message).split()), state.known_key())
    click.echo(f"error: {line}", err=True)


def configure_logging(state: State) -> None:
    """``-v``: the library's INFO logs on stderr; ``-vv``: DEBUG. Quiet without ``-v``.

    The logger is put back as it was when the command ends, so running commands in-process
    (tests, notebooks) leaves the caller's logging untouched.
    """
    logger = logging.getLogger("iqualify_async")
    saved = (logger.level, logger.propagate, list(logger.handlers))

    def restore() -> None:
        logger.setLevel(saved[0])
        logger.propagate = saved[1]
        logger.handlers[:] = saved[2]

    context = click.get_current_context(silent=True)
    if context is not None:
        context.call_on_close(restore)
    if not state.verbose:
        # The summary reports 429s and retries; the library's warnings would only interleave.
        logger.addHandler(logging.NullHandler())
        logger.propagate = False
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG if state.verbose > 1 else logging.INFO)


@click.group(
    "iqualify",
    cls=IQualifyGroup,
    epilog=EPILOG,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, "--version", prog_name="iqualify")
def cli() -> None:
    """Command line for the iQualify Management API: bulk enrolment, analytics export, any
    single operation, and an embedded fake server to try it all on.

    Connection options (--base-url, --api-key, ...) go after the command name, e.g.
    `iqualify call offerings.list --api-key KEY`. Start with `iqualify demo`.
    """


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the ``iqualify`` command."""
    cli.main(args=list(argv) if argv is not None else None, prog_name="iqualify")
