"""``iqualify serve-fake``: run the embedded fake iQualify server until Ctrl-C."""

from __future__ import annotations

import os
import signal
from types import FrameType
from typing import Any

import click

from ..errors import CommandError
from ..state import API_KEY_ENV


def parse_seed(text: str) -> str | int | None:
    """``none`` -> empty organisation; digits -> an integer seed; anything else as given."""
    if text.lower() == "none":
        return None
    return int(text) if text.isdigit() else text


@click.command("serve-fake", short_help="Run the embedded fake iQualify server until Ctrl-C.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8080,
    show_default=True,
    help="Port (0: any free port).",
)
@click.option(
    "--api-key",
    metavar="KEY",
    default=None,
    help=f"Key the server accepts (default: ${API_KEY_ENV}, else 'test-key-0123456789').",
)
@click.option(
    "--read-only-key",
    metavar="KEY",
    default=None,
    help="A second key that may only read (writes answer 403).",
)
@click.option(
    "--seed",
    default="demo",
    show_default=True,
    help="Organisation to build: 'demo', any text or integer, or 'none' (empty).",
)
@click.option(
    "--latency-ms",
    type=click.FloatRange(min=0),
    default=0.0,
    show_default=True,
    help="Added delay per request.",
)
@click.option(
    "--jitter-ms",
    type=click.FloatRange(min=0),
    default=0.0,
    show_default=True,
    help="Extra random delay, up to this much.",
)
@click.option(
    "--rate-limit",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    metavar="PER_SECOND",
    help="Answer 429 above this many requests per second.",
)
@click.option(
    "--burst",
    type=click.IntRange(min=1),
    default=None,
    help="Token-bucket size of the rate limit (default: one second's worth).",
)
@click.option(
    "--error-rate",
    type=click.FloatRange(0, 1),
    default=0.0,
    show_default=True,
    help="Share of requests answered 500/502/503.",
)
@click.option(
    "--reset-rate",
    type=click.FloatRange(0, 1),
    default=0.0,
    show_default=True,
    help="Share of connections closed before the request is handled.",
)
@click.option(
    "--apply-then-drop-rate",
    type=click.FloatRange(0, 1),
    default=0.0,
    show_default=True,
    help="Share of writes applied, then the connection dropped.",
)
@click.option(
    "--fault-seed", type=int, default=0, show_default=True, help="Seed of the random fault choices."
)
@click.option(
    "--flat-errors",
    is_flag=True,
    help='Answer errors, and the failed items of a 207, as {"name", "details"} instead of '
    '{"error": {"name", "details"}}.',
)
def serve_fake(
    host: str,
    port: int,
    api_key: str | None,
    read_only_key: str | None,
    seed: str,
    latency_ms: float,
    jitter_ms: float,
    rate_limit: float | None,
    burst: int | None,
    error_rate: float,
    reset_rate: float,
    apply_then_drop_rate: float,
    fault_seed: int,
    flat_errors: bool,
) -> int:
    """Serve all 84 operations of the API on HTTP, with an in-memory organisation and the
    faults you ask for. Prints the base URL and the key to use, then runs until Ctrl-C."""
    from ...testing import FakeIQualify, Faults, run_forever

    key = api_key or os.environ.get(API_KEY_ENV) or "test-key-0123456789"
    faults = Faults(
        latency_ms=latency_ms,
        jitter_ms=jitter_ms,
        rate_limit=rate_limit,
        burst=burst,
        error_rate=error_rate,
        reset_rate=reset_rate,
        apply_then_drop_rate=apply_then_drop_rate,
        flat_errors=flat_errors,
        seed=fault_seed,
    )

    def ready(fake: FakeIQualify) -> None:
        click.echo(f"Fake iQualify API listening on {fake.base_url}")
        click.echo(f"API key: {fake.api_key}")
        click.echo(
            f"Try:  IQUALIFY_API_KEY={fake.api_key} iqualify call offerings.list_current "
            f"--base-url {fake.base_url}"
        )
        click.echo("Press Ctrl-C to stop.")

    options: dict[str, Any] = {"read_only_key": read_only_key}
    # A supervisor's SIGTERM stops the server as cleanly as Ctrl-C does.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        run_forever(
            host=host,
            port=port,
            api_key=key,
            seed=parse_seed(seed),
            faults=faults,
            on_ready=ready,
            **options,
        )
    except OSError as exc:
        raise CommandError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    click.echo("Stopped.")
    return 0


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt
