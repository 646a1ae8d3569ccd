"""Tiny JSON-over-HTTP helper for fake-server tests."""

from __future__ import annotations

import json
from typing import Any

import aiohttp


class Api:
    def __init__(self, session: aiohttp.ClientSession, base_url: str, key: str) -> None:
        self.session, self.base_url, self.key = session, base_url, key

    async def __call__(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        kwargs: dict[str, Any] = {"headers": {"Authorization": self.key}}
        if body is not None:
            kwargs["json"] = body
        async with self.session.request(method, self.base_url + path, **kwargs) as r:
            text = await r.text()
            return r.status, json.loads(text) if text else None
