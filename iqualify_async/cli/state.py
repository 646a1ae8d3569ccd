"""Settings shared by every command: connection options and how to print."""

from __future__ import annotations

import os
from typing import Any

import attrs

from .errors import CommandError

API_KEY_ENV = "IQUALIFY_API_KEY"


@attrs.define
class State:
    """What the common options set; one per invocation (``click.Context.obj``)."""

    verbose: int = 0
    json: bool = False
    progress: bool | None = None
    """``False`` after ``--no-progress``; ``None``: bars only when stdout is a terminal."""
    base_url: str | None = None
    api_key: str | None = attrs.field(default=None, repr=False)
    auth_scheme: str | None = None
    rate_limit: float | None = None
    max_retries: int | None = None
    allow_insecure_http: bool = False
    interrupt_hint: str = "interrupted"
    """What to say on Ctrl-C: a command that can be resumed says how."""

    def require_api_key(self) -> str:
        key = self.api_key if self.api_key is not None else os.environ.get(API_KEY_ENV)
        if not key or not key.strip():
            raise CommandError(f"no API key: pass --api-key or set {API_KEY_ENV}")
        return key

    def known_key(self) -> str | None:
        """The API key given (option or environment), if any: what output must never show."""
        key = self.api_key if self.api_key is not None else os.environ.get(API_KEY_ENV)
        return key or None

    def client_kwargs(self, *, concurrency: int | None = None) -> dict[str, Any]:
        """Keyword arguments for :class:`iqualify_async.Client` (imported lazily by callers)."""
        from .. import RateLimit, RetryPolicy

        kwargs: dict[str, Any] = {"api_key": self.require_api_key()}
        if self.base_url is not None:
            kwargs["base_url"] = self.base_url
        if self.auth_scheme is not None:
            kwargs["auth_scheme"] = self.auth_scheme
        if self.allow_insecure_http:
            kwargs["allow_insecure_http"] = True
        if self.max_retries is not None:
            kwargs["retry"] = RetryPolicy(max_retries=self.max_retries)
        if self.rate_limit is not None or concurrency is not None:
            limit = RateLimit()
            if self.rate_limit is not None:
                rps = self.rate_limit if self.rate_limit > 0 else None
                limit = attrs.evolve(limit, requests_per_second=rps)
            if concurrency is not None:
                limit = attrs.evolve(limit, max_concurrency=concurrency)
            kwargs["rate_limit"] = limit
        return kwargs
