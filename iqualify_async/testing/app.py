"""The aiohttp application: fault injection, authentication, routing and dispatch to handlers."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

from .._json import JSONDecodeError, dumps, loads
from .auth import Access, KeyChecker
from .errors import FakeAPIError, error_body, schema_error
from .faults import FaultDice, Faults, TokenBucket, retry_after_header
from .handlers import OPERATIONS
from .openapi import served_document
from .registry import MISSING, Call, Operation
from .routing import Router
from .state import State
from .stats import NO_RESPONSE, FakeStats
from .validation import check_email_param, validate

logger = logging.getLogger("iqualify_async.testing")

API_PREFIX = "/v1"
OPENAPI_PATH = "/openapi.json"
_JSON_HEADERS = {"Content-Type": "application/json"}
_GROUP_ID_PATTERN = {"type": "string", "pattern": "^[0-9a-fA-F]{24}$"}
_ROUTER = Router(OPERATIONS)


class _Dropped(Exception):
    """The connection was closed on purpose; no response is sent."""


class Dispatcher:
    """Everything one fake server needs to answer a request. Owned by ``FakeIQualify``."""

    def __init__(
        self,
        state: State,
        keys: KeyChecker,
        faults: Faults,
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.state = state
        self.keys = keys
        self.stats = FakeStats()
        self.base_url = ""
        self._bucket = TokenBucket(clock=monotonic)
        self._faults = faults
        self._dice = FaultDice(faults)
        self._openapi: bytes | None = None

    @property
    def faults(self) -> Faults:
        return self._faults

    @faults.setter
    def faults(self, faults: Faults) -> None:
        self._faults = faults
        self._dice = FaultDice(faults)

    # ---- entry point -----------------------------------------------------------------------
    async def handle(self, request: web.Request) -> web.StreamResponse:
        method = request.method
        raw_path = request.rel_url.raw_path
        if raw_path == API_PREFIX or raw_path.startswith(API_PREFIX + "/"):
            relative = raw_path[len(API_PREFIX) :] or "/"
            match = _ROUTER.match(method, relative)
        else:
            relative, match = raw_path, None
        op, params = match if match is not None else (None, {})
        label = op.label if op is not None else f"{method} <unmatched>"
        try:
            if self._faults.active:
                response = await self._inject_before(request)
                if response is not None:
                    return self._record(label, response)
            if op is None and method == "GET" and relative == OPENAPI_PATH:
                return self._record(f"GET {OPENAPI_PATH}", self._openapi_response())
            access = self.keys.check(request.headers.get("Authorization"))
            if access is Access.MISSING:
                raise FakeAPIError(401, "NotAuthorizedError", "No authorization token was found.")
            if access is Access.INVALID:
                raise FakeAPIError(401, "NotAuthorizedError", "The authorization token is invalid.")
            if op is None:
                raise FakeAPIError(404, "RouteNotFoundError", f"Invalid path: {method} {raw_path}")
            if op.is_write and access is Access.READ_ONLY:
                raise FakeAPIError(
                    403, "AccessDeniedError", "You are not allowed to access this resource"
                )
            call = await self._prepare(op, params, request)
            try:
                status, payload = op.handler(call)
            except FakeAPIError:
                raise
            except Exception:
                logger.exception("fake server handler failed: %s", label)
                raise FakeAPIError(
                    500, "ServerError", "We're sorry, but something went wrong."
                ) from None
            if op.is_write and status < 300:
                self.stats.writes[label] += 1
                if self._faults.active and self._dice.hit(self._faults.apply_then_drop_rate):
                    self.stats.faults["apply_then_drop"] += 1
                    _drop(request)
                    raise _Dropped
            response = _json_response(status, payload)
        except FakeAPIError as error:
            response = self._error(error.status, error.name, error.details)
        except _Dropped:
            self.stats.requests[(label, NO_RESPONSE)] += 1
            raise web.HTTPException() from None  # never sent: the transport is closed
        return self._record(label, response)

    def _error(self, status: int, name: str, details: str) -> web.Response:
        """An error answer in the shape the faults ask for (nested by default, or flat)."""
        return _json_response(status, error_body(name, details, flat=self._faults.flat_errors))

    def _record(self, label: str, response: web.StreamResponse) -> web.StreamResponse:
        self.stats.requests[(label, response.status)] += 1
        return response

    # ---- faults ----------------------------------------------------------------------------
    async def _inject_before(self, request: web.Request) -> web.StreamResponse | None:
        faults, dice = self._faults, self._dice
        if dice.hit(faults.reset_rate):
            self.stats.faults["reset"] += 1
            _drop(request)
            raise _Dropped
        if faults.latency_ms or faults.jitter_ms:
            self.stats.faults["latency"] += 1
            await asyncio.sleep(dice.latency_seconds(faults))
        if faults.rate_limit is not None:
            burst = faults.burst if faults.burst is not None else max(1, round(faults.rate_limit))
            self._bucket.configure(faults.rate_limit, float(burst))
            wait = self._bucket.take()
            if wait > 0.0:
                self.stats.faults["rate_limit"] += 1
                response = self._error(429, "TooManyRequestsError", "Request rate is too large.")
                if faults.retry_after:
                    response.headers["Retry-After"] = retry_after_header(wait)
                return response
        if dice.hit(faults.error_rate):
            self.stats.faults["error"] += 1
            status = dice.error_status(faults)
            return self._error(status, "ServerError", "We're sorry, but something went wrong.")
        return None

    # ---- request decoding ------------------------------------------------------------------
    async def _prepare(self, op: Operation, params: dict[str, str], request: web.Request) -> Call:
        for name, value in params.items():
            if name == "userEmail":
                check_email_param(name, value)
            elif name == "groupId":
                validate(value, _GROUP_ID_PATTERN, name)
        query = request.query
        for name in query:
            if name not in op.query:
                raise schema_error(f"[{name}] Unknown query parameter '{name}'")
        call = Call(self.state, params, query, flat_errors=self._faults.flat_errors)
        if op.body is not None:
            call.body = await _read_body(request, op)
            if call.body is not MISSING:
                validate(call.body, op.body)
        return call

    def _openapi_response(self) -> web.StreamResponse:
        if self._openapi is None:
            self._openapi = served_document(self.base_url)
        if self._openapi is None:
            return self._error(404, "RouteNotFoundError", "No OpenAPI document is installed.")
        return web.Response(body=self._openapi, headers=_JSON_HEADERS)


async def _read_body(request: web.Request, op: Operation) -> Any:
    raw = await request.read()
    if not raw.strip():
        if op.body_required:
            raise schema_error("request body is required")
        return MISSING
    content_type = request.headers.get("Content-Type", "application/json")
    if "json" not in content_type.lower():
        raise schema_error(f"unsupported media type {content_type}")
    try:
        return loads(raw)
    except (JSONDecodeError, UnicodeDecodeError):
        raise schema_error("request body is not valid JSON") from None


def _json_response(status: int, payload: Any) -> web.Response:
    if payload is None:
        return web.Response(status=status)
    return web.Response(status=status, body=dumps(payload), headers=_JSON_HEADERS)


def _drop(request: web.Request) -> None:
    transport = request.transport
    if transport is not None:
        transport.abort()


def build_app(dispatcher: Dispatcher) -> web.Application:
    """An ``aiohttp.web.Application`` answering every path through ``dispatcher``."""
    app = web.Application(handler_args={"access_log": None})
    app.router.add_route("*", "/{tail:.*}", dispatcher.handle)
    return app
