"""A FastAPI app whose worker processes share one iQualify rate limit through Redis.

Run it with several workers; they all stay within one budget for the key::

    IQUALIFY_API_KEY=... REDIS_URL=redis://127.0.0.1:6379/0 WEB_CONCURRENCY=4 \\
        uvicorn examples.fastapi_app:app --workers 4

Each worker opens one ``Client`` for its whole life (FastAPI's lifespan) and every request
handler uses it. ``Timeout.deadline`` bounds each call, so a handler never waits longer than
the web server's own timeout, whatever the API or the rate limit does.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, HTTPException, Request

from iqualify_async import (
    Client,
    DeadlineExceededError,
    NotFoundError,
    RateLimit,
    SharedLimitError,
    Timeout,
)


def create_app(
    *,
    api_key: str | None = None,
    base_url: str | None = None,
    redis_url: str | None = None,
    limit_name: str | None = None,
) -> FastAPI:
    """The app; every argument defaults to the environment (``IQUALIFY_*``, ``REDIS_URL``)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        limit = RateLimit(
            requests_per_second=10,  # for the key, whatever the number of workers
            shared=redis_url or os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
            name=limit_name,  # default: the base URL and a digest of the key
            expected_processes=int(os.environ.get("WEB_CONCURRENCY", "1")),
        )
        limits = Timeout(connect=5, total=10, deadline=20)
        async with Client(
            api_key=api_key, base_url=base_url, rate_limit=limit, timeout=limits
        ) as iq:
            app.state.iq = iq
            yield

    app = FastAPI(lifespan=lifespan)

    @app.get("/offerings/{offering_id}")
    async def offering(offering_id: str, request: Request) -> dict[str, Any]:
        iq: Client = request.app.state.iq
        try:
            found = await iq.offerings.get(offering_id)
        except NotFoundError:
            raise HTTPException(404, "no such offering") from None
        except (DeadlineExceededError, SharedLimitError):
            raise HTTPException(503, "iQualify is slow to answer; try again") from None
        return {"id": found.id, "name": found.name}

    @app.get("/health")
    async def health(request: Request) -> dict[str, Any]:
        iq: Client = request.app.state.iq
        return {"rate_per_second": iq.current_rate, "shared_limit": iq.shared_limit_active}

    return app


app = create_app()
