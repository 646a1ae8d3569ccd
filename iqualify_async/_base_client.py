"""The session layer: one aiohttp session, authentication, request building, error mapping."""

from __future__ import annotations

import asyncio
import logging
import platform
import random
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Any, Final, NamedTuple, Self

import aiohttp
import attrs
from multidict import CIMultiDictProxy
from tenacity import RetryCallState
from yarl import URL

from . import _json
from ._config import resolve_api_key, resolve_base_url
from ._deadline import CallDeadline
from ._error_envelope import read_error
from ._paths import render_path
from ._ratelimit import DEFAULT_RATE_LIMIT, AdaptiveLimiter, RateLimit
from ._redact import REDACTED, redact
from ._retry import DEFAULT_RETRY_POLICY, IDEMPOTENT_METHODS, RetryPolicy, retry_reason
from ._shared_limit import SharedLimiter, check_shared_url, default_name
from ._stats import ClientStats
from ._types import DEFAULT_TIMEOUT, UNSET, Timeout, TimeoutArg, Unset
from ._version import __version__
from .errors import (
    AmbiguousWriteError,
    APIConnectionError,
    APIError,
    APITimeoutError,
    ClientClosedError,
    ConfigurationError,
    DeadlineExceededError,
    ParameterError,
    ResponseDecodeError,
    error_class_for_status,
)
from .events import (
    Event,
    RateLimitChanged,
    RequestFailed,
    RequestStarted,
    ResponseReceived,
    RetryScheduled,
)

logger: Final = logging.getLogger("iqualify_async")

USER_AGENT: Final = (
    f"iqualify-async/{__version__} python/{platform.python_version()} aiohttp/{aiohttp.__version__}"
)
_SNIPPET_CHARS: Final = 200

EventHook = Callable[[Event], object]


class _Call(NamedTuple):
    """What every attempt of one request needs."""

    session: aiohttp.ClientSession
    method: str
    path: str
    url: URL
    body: bytes | None
    headers: dict[str, str] | None
    limits: Timeout
    idempotent: bool
    max_pause: float
    deadline: CallDeadline | None


@attrs.frozen(slots=True)
class RawResponse:
    """A decoded answer: HTTP ``status``, ``headers`` and the JSON ``data`` (``None`` if empty)."""

    status: int
    headers: Mapping[str, str] = attrs.field(repr=False)
    data: Any
    redact: Callable[[str], str] = attrs.field(default=str, eq=False, repr=False)
    """Hides the client's API key in text taken from ``data`` (for error messages)."""


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds advised by a ``Retry-After`` header (delta-seconds or HTTP date), or ``None``."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if seconds != seconds:  # NaN
        return None
    return max(0.0, seconds)


_NO_TIMEOUT: Final = Timeout(connect=None, total=None, deadline=None)


def _as_timeout(timeout: float | Timeout | None, base: Timeout) -> Timeout:
    """The :class:`Timeout` meant by a ``timeout=`` value; seconds replace ``base.total``."""
    if timeout is None:
        return _NO_TIMEOUT
    if isinstance(timeout, Timeout):
        return timeout
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout > 0:
        raise ConfigurationError(
            f"timeout must be a positive number of seconds, a Timeout or None, got {timeout!r}"
        )
    return attrs.evolve(base, total=float(timeout))


def _to_client_timeout(timeout: Timeout, remaining: float | None = None) -> aiohttp.ClientTimeout:
    """aiohttp's limits for one attempt, cut to the ``remaining`` seconds of a deadline."""
    total = timeout.total
    if remaining is not None and (total is None or remaining < total):
        total = max(remaining, 0.001)
    return aiohttp.ClientTimeout(total=total, sock_connect=timeout.connect)


def _encode_body(value: Any) -> bytes:
    """The JSON request body; :class:`ParameterError` (with no chained cause) when it cannot be."""
    try:
        return _json.dumps_body(value)
    except ValueError as exc:
        message = str(exc)
    raise ParameterError("json", message)


def _query_scalar(name: str, value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    if value is None:
        raise ParameterError(name, "None is not a query value; leave the parameter out instead")
    raise ParameterError(name, f"cannot send a {type(value).__name__} as a query value")


def _query_items(params: Mapping[str, object]) -> list[tuple[str, str]]:
    """Query pairs; a list or tuple value repeats its key, UNSET values are left out."""
    items: list[tuple[str, str]] = []
    for name, value in params.items():
        if isinstance(value, Unset):
            continue
        if isinstance(value, list | tuple):
            items.extend((name, _query_scalar(name, item)) for item in value)
        else:
            items.append((name, _query_scalar(name, value)))
    return items


def _error_fields(body: Any) -> tuple[str | None, Any]:
    """Error name and details of an error answer (see :func:`read_error`); a body that is no
    envelope gives no name, and its text (if it is text) as the details."""
    fields = read_error(body)
    if fields is None:
        return None, body if isinstance(body, str) and body else None
    return fields


class BaseClient:
    """Owns the aiohttp session and sends requests; resources are attached by :class:`Client`."""

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        auth_scheme: str | None = None,
        timeout: float | Timeout | None = DEFAULT_TIMEOUT,
        max_connections: int = 100,
        default_headers: Mapping[str, str] | None = None,
        allow_insecure_http: bool = False,
        event_hooks: Iterable[EventHook] = (),
        retry: RetryPolicy | None = None,
        rate_limit: RateLimit | None = DEFAULT_RATE_LIMIT,
        max_concurrency: int | Unset | None = UNSET,
    ) -> None:
        self._api_key = resolve_api_key(api_key)
        self._base_url = resolve_base_url(base_url, allow_insecure_http=allow_insecure_http)
        self._base_str = str(self._base_url)
        if auth_scheme is not None and (
            not isinstance(auth_scheme, str) or not auth_scheme.strip()
        ):
            raise ConfigurationError(
                "auth_scheme must be a non-empty string such as 'Bearer', or None"
            )
        self._auth_scheme = auth_scheme.strip() if auth_scheme else None
        self._timeout = _as_timeout(timeout, DEFAULT_TIMEOUT)
        if (
            isinstance(max_connections, bool)
            or not isinstance(max_connections, int)
            or max_connections < 1
        ):
            raise ConfigurationError("max_connections must be a positive integer")
        self._max_connections = max_connections
        self._event_hooks: tuple[EventHook, ...] = tuple(event_hooks)
        for hook in self._event_hooks:
            if not callable(hook):
                raise ConfigurationError(f"event hook {hook!r} is not callable")
        authorization = (
            f"{self._auth_scheme} {self._api_key}" if self._auth_scheme else self._api_key
        )
        self._headers: dict[str, str] = {
            "User-Agent": USER_AGENT,
            "Accept": "application/json",
            **dict(default_headers or {}),
            "Authorization": authorization,
        }
        self._session: aiohttp.ClientSession | None = None
        self._closed = False
        self.stats = ClientStats()
        if retry is not None and not isinstance(retry, RetryPolicy):
            raise ConfigurationError(f"retry must be a RetryPolicy or None, got {retry!r}")
        self._retry = retry or DEFAULT_RETRY_POLICY
        self._sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep
        self._clock: Callable[[], float] = time.monotonic
        self._limiter = self._make_limiter(rate_limit, max_concurrency)

    def _make_limiter(
        self, rate_limit: RateLimit | None, max_concurrency: int | Unset | None
    ) -> AdaptiveLimiter | SharedLimiter | None:
        if rate_limit is not None and not isinstance(rate_limit, RateLimit):
            raise ConfigurationError(f"rate_limit must be a RateLimit or None, got {rate_limit!r}")
        if not isinstance(max_concurrency, Unset):
            base = rate_limit or RateLimit(requests_per_second=None)
            try:
                rate_limit = attrs.evolve(base, max_concurrency=max_concurrency)
            except ValueError as exc:
                raise ConfigurationError(str(exc)) from None
        if rate_limit is None or (
            rate_limit.max_concurrency is None and rate_limit.requests_per_second is None
        ):
            return None
        if rate_limit.shared is not None:
            check_shared_url(rate_limit.shared)
            return SharedLimiter(
                rate_limit,
                name=rate_limit.name or default_name(self._base_str, self._api_key),
                on_rate_change=self._rate_changed,
                stats=self.stats,
            )
        return AdaptiveLimiter(rate_limit, on_rate_change=self._rate_changed, stats=self.stats)

    @property
    def retry_policy(self) -> RetryPolicy:
        """The retry policy of calls that do not pass their own ``retry``."""
        return self._retry

    @property
    def rate_limit(self) -> RateLimit | None:
        """The limiter settings in force (``None`` when requests are not limited)."""
        return self._limiter.settings if self._limiter is not None else None

    @property
    def current_rate(self) -> float | None:
        """Requests per second the adaptive limiter allows now (``None``: unbounded)."""
        return self._limiter.rate if self._limiter is not None else None

    @property
    def shared_limit_active(self) -> bool:
        """Whether the rate limit is taken from the shared store (Redis) now: ``False`` without
        ``RateLimit.shared`` and while the client falls back to its own limit."""
        return bool(getattr(self._limiter, "shared", False))

    # -- lifecycle ------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return self._base_str

    @property
    def is_open(self) -> bool:
        return self._session is not None and not self._closed

    async def open(self) -> Self:
        """Open the HTTP session (``async with Client(...)`` does this for you)."""
        if self._closed:
            raise ClientClosedError("this Client was closed; create a new one")
        if self._session is None:
            connector = aiohttp.TCPConnector(
                limit=self._max_connections, limit_per_host=self._max_connections, ttl_dns_cache=300
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                headers=self._headers,
                timeout=_to_client_timeout(self._timeout),
                raise_for_status=False,
                auto_decompress=True,
            )
            # aiohttp silently re-sends an idempotent request once when a pooled connection
            # turns out closed; every re-send must go through the retry policy (counted,
            # logged, bounded), so that is switched off.
            if hasattr(self._session, "_retry_connection"):
                self._session._retry_connection = False
        return self

    async def aclose(self) -> None:
        """Close the HTTP session. Closing twice is harmless."""
        self._closed = True
        session, self._session = self._session, None
        if session is not None:
            await session.close()
        if isinstance(self._limiter, SharedLimiter):
            await self._limiter.aclose()

    async def __aenter__(self) -> Self:
        return await self.open()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        state = "open" if self.is_open else ("closed" if self._closed else "not opened")
        return (
            f"<{type(self).__name__} base_url={self._base_str!r} "
            f"auth_scheme={self._auth_scheme!r} api_key={REDACTED!r} {state}>"
        )

    def _require_session(self) -> aiohttp.ClientSession:
        session = self._session
        if session is None or self._closed:
            if self._closed:
                raise ClientClosedError("this Client is closed; create a new one to send requests")
            raise ClientClosedError(
                "this Client is not open: use `async with Client(...) as iq:` "
                "(or `await iq.open()`) before sending requests"
            )
        loop = getattr(session, "_loop", None)
        if loop is not None and loop is not asyncio.get_running_loop():
            ended = "which has ended" if loop.is_closed() else "not this one"
            raise ClientClosedError(
                f"this Client was opened in another event loop ({ended}; each asyncio.run() "
                "starts a new loop): create and open the Client inside the loop that uses it"
            )
        return session

    # -- requests -------------------------------------------------------------------------

    async def request(
        self,
        method: str,
        path: str,
        *,
        path_params: Mapping[str, object] | None = None,
        params: Mapping[str, object] | None = None,
        json: Any = None,
        timeout: TimeoutArg = UNSET,
        extra_headers: Mapping[str, str] | None = None,
        retry: RetryPolicy | None = None,
        retry_unsafe: bool = False,
    ) -> Any:
        """Send one API request and return its decoded JSON (``None`` for an empty answer).

        ``path`` is relative to the base URL and may hold ``{name}`` placeholders filled from
        ``path_params``, each percent-encoded as a single segment. Raises an :class:`APIError`
        subclass for error statuses.

        Failures are retried according to ``retry`` (default: the client's
        :class:`RetryPolicy`). POST and PATCH are only retried when the API certainly did not
        apply them; ``retry_unsafe=True`` retries them like a GET (use it when repeating the
        call is harmless). A write that fails without telling whether it was applied raises
        :class:`~iqualify_async.AmbiguousWriteError` and is never sent again on its own.
        """
        response = await self.request_raw(
            method,
            path,
            path_params=path_params,
            params=params,
            json=json,
            timeout=timeout,
            extra_headers=extra_headers,
            retry=retry,
            retry_unsafe=retry_unsafe,
        )
        return response.data

    async def request_raw(
        self,
        method: str,
        path: str,
        *,
        path_params: Mapping[str, object] | None = None,
        params: Mapping[str, object] | None = None,
        json: Any = None,
        timeout: TimeoutArg = UNSET,
        extra_headers: Mapping[str, str] | None = None,
        retry: RetryPolicy | None = None,
        retry_unsafe: bool = False,
    ) -> RawResponse:
        """Like :meth:`request`, returning the status and headers as well."""
        session = self._require_session()
        method = method.upper()
        url = self._build_url(path, path_params, params)
        body = None if json is None else _encode_body(json)
        headers = self._request_headers(body, extra_headers)
        try:
            limits = (
                self._timeout if isinstance(timeout, Unset) else _as_timeout(timeout, self._timeout)
            )
        except ConfigurationError as exc:
            raise ParameterError("timeout", str(exc)) from None
        policy = self._retry if retry is None else retry
        if not isinstance(policy, RetryPolicy):
            raise ConfigurationError(f"retry must be a RetryPolicy or None, got {retry!r}")
        call = _Call(
            session,
            method,
            path,
            url,
            body,
            headers,
            limits,
            retry_unsafe or method in IDEMPOTENT_METHODS,
            policy.max_retry_after,
            None if limits.deadline is None else CallDeadline.start(limits.deadline, self._clock),
        )
        failure: APIError | APIConnectionError
        try:
            return await self._attempt(call, 1)
        except (APIError, APIConnectionError) as exc:
            failure = exc
        if policy.max_retries and policy.is_retryable(failure, idempotent=call.idempotent):
            try:
                return await self._retry_after_first(call, policy, failure)
            except (APIError, APIConnectionError) as exc:
                failure = exc
        deadline = call.deadline
        if (
            deadline is not None
            and (deadline.stopped_retry or deadline.remaining() <= 0)
            and policy.is_retryable(failure, idempotent=call.idempotent)
        ):
            # It would have been tried again but for the deadline: say so.
            failure = deadline.exceeded(call.method, str(call.url), idempotent=call.idempotent)
        raise failure

    async def _retry_after_first(
        self, call: _Call, policy: RetryPolicy, first_error: BaseException
    ) -> RawResponse:
        """Continue a request whose first attempt failed with a retryable error."""
        pending = [first_error]
        attempts = 1

        async def attempt() -> RawResponse:
            nonlocal attempts
            if pending:
                raise pending.pop()  # replays the first failure so tenacity schedules retry 1
            attempts += 1
            return await self._attempt(call, attempts)

        def before_sleep(state: RetryCallState) -> None:
            outcome = state.outcome
            error = outcome.exception() if outcome is not None else None
            wait = state.upcoming_sleep
            reason = retry_reason(error) if error is not None else "unknown"
            self.stats.retries_by_reason[reason] += 1
            self.stats.wait_seconds += wait
            logger.info(
                "%s %s failed (%s); retry %d of %d in %.2f s",
                call.method,
                call.url.path,
                reason,
                state.attempt_number,
                policy.max_retries,
                wait,
            )
            if self._event_hooks:
                self._emit(
                    RetryScheduled(call.method, call.path, state.attempt_number + 1, reason, wait)
                )

        retrying = policy.retrying(
            idempotent=call.idempotent,
            sleep=self._sleep,
            before_sleep=before_sleep,
            random_=random.random,
            deadline=call.deadline,
        )
        return await retrying(attempt)

    async def _attempt(self, call: _Call, attempt: int) -> RawResponse:
        """One attempt through the limiter; ambiguous failures of writes become explicit."""
        limiter = self._limiter
        deadline = call.deadline
        try:
            epoch = await self._acquire(limiter, call) if limiter is not None else 0
            status = 0
            retry_after = None
            try:
                remaining = None
                if deadline is not None:
                    remaining = deadline.remaining()
                    if remaining <= 0:
                        raise deadline.exceeded(
                            call.method, str(call.url), idempotent=call.idempotent
                        )
                    deadline.attempts += 1
                response = await self._send_once(
                    call.session,
                    call.method,
                    call.path,
                    call.url,
                    call.body,
                    call.headers,
                    _to_client_timeout(call.limits, remaining),
                    attempt,
                )
                status = response.status
                return response
            except APIError as exc:
                status = exc.status
                retry_after = exc.retry_after
                if deadline is not None:
                    deadline.last_error = exc
                raise
            except APIConnectionError as exc:
                if deadline is not None and not isinstance(exc, DeadlineExceededError):
                    deadline.last_error = exc
                raise
            finally:
                if limiter is not None:
                    # Advice beyond max_retry_after is the caller's to act on (the error
                    # carries it); the whole client never pauses longer than that.
                    if retry_after is not None:
                        retry_after = min(retry_after, call.max_pause)
                    limiter.release(status, epoch, retry_after)
        except APIConnectionError as exc:
            if call.idempotent or exc.request_sent is False:
                raise
            self.stats.ambiguous_writes += 1
            logger.warning(
                "%s %s: %s; it may or may not have been applied and is not sent again",
                call.method,
                call.url.path,
                exc,
            )
            raise AmbiguousWriteError(exc) from exc

    async def _acquire(self, limiter: AdaptiveLimiter | SharedLimiter, call: _Call) -> int:
        """Wait for the limiter, no longer than the call's deadline allows."""
        deadline = call.deadline
        if deadline is None:
            return await limiter.acquire()
        remaining = deadline.remaining()
        if remaining > 0:
            waiting = asyncio.timeout(remaining)
            try:
                async with waiting:
                    return await limiter.acquire()
            except TimeoutError:
                if not waiting.expired():
                    raise
        raise deadline.exceeded(call.method, str(call.url), idempotent=call.idempotent)

    def _rate_changed(self, rate: float, reason: str) -> None:
        if reason == "429":
            logger.warning("rate limited by the API (429): slowing down to %.2f requests/s", rate)
        else:
            logger.info("request rate back to %.2f requests/s", rate)
        if self._event_hooks:
            self._emit(RateLimitChanged(rate, reason))

    def _build_url(
        self,
        path: str,
        path_params: Mapping[str, object] | None,
        params: Mapping[str, object] | None,
    ) -> URL:
        if not path.startswith("/"):
            path = "/" + path
        url = URL(self._base_str + render_path(path, path_params), encoded=True)
        if params:
            query = _query_items(params)
            if query:
                url = url.with_query(query)
        return url

    @staticmethod
    def _request_headers(
        body: bytes | None, extra_headers: Mapping[str, str] | None
    ) -> dict[str, str] | None:
        if body is None and not extra_headers:
            return None
        headers = dict(extra_headers or {})
        if any(k.lower() == "authorization" for k in headers):
            raise ConfigurationError("extra_headers must not set Authorization; use api_key")
        if body is not None:
            headers.setdefault("Content-Type", "application/json")
        return headers

    def _emit(self, event: Event) -> None:
        for hook in self._event_hooks:
            try:
                hook(event)
            except Exception:
                logger.warning("event hook %r raised; ignoring", hook, exc_info=True)

    async def _send_once(
        self,
        session: aiohttp.ClientSession,
        method: str,
        path: str,
        url: URL,
        body: bytes | None,
        headers: dict[str, str] | None,
        timeout: aiohttp.ClientTimeout,
        attempt: int,
    ) -> RawResponse:
        """One attempt: send, read, decode; error statuses and failures become exceptions."""
        self.stats.requests += 1
        if self._event_hooks:
            self._emit(RequestStarted(method, path, str(url), attempt))
        started = time.perf_counter()
        # Failures are translated outside the ``except`` blocks so that nothing from aiohttp
        # is chained to them: its errors hold the request headers, the key among them.
        failure: APIConnectionError | None = None
        try:
            async with session.request(
                method, url, data=body, headers=headers, timeout=timeout, allow_redirects=False
            ) as response:
                raw = await response.read()
                status = response.status
                response_headers = response.headers
        except aiohttp.ConnectionTimeoutError:
            failure = APITimeoutError(
                "timed out connecting", method=method, url=str(url), request_sent=False
            )
        except (TimeoutError, aiohttp.ServerTimeoutError):
            failure = APITimeoutError(
                "request timed out", method=method, url=str(url), request_sent=None
            )
        except aiohttp.ClientConnectorError as exc:
            reason = self._redact(str(exc.os_error.strerror or exc.os_error))
            failure = APIConnectionError(
                f"cannot connect: {reason}", method=method, url=str(url), request_sent=False
            )
        except (aiohttp.ClientError, OSError) as exc:
            failure = APIConnectionError(
                f"connection failed: {type(exc).__name__}: {self._redact(str(exc))}",
                method=method,
                url=str(url),
                request_sent=True,
            )
        if failure is not None:
            raise self._failed(method, path, url, started, attempt, failure)
        elapsed = time.perf_counter() - started
        self.stats.responses_by_status[status] += 1
        if status == 429:
            self.stats.rate_limited += 1
        if self._event_hooks:
            self._emit(ResponseReceived(method, path, str(url), status, elapsed, attempt))
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("%s %s -> %d in %.1f ms", method, url.path, status, elapsed * 1000)
        if status >= 300:
            raise self._api_error(method, url, status, response_headers, raw)
        data = self._decode_success(method, url, status, raw)
        return RawResponse(status, response_headers, data, self._redact)

    def _failed(
        self,
        method: str,
        path: str,
        url: URL,
        started: float,
        attempt: int,
        error: APIConnectionError,
    ) -> APIConnectionError:
        elapsed = time.perf_counter() - started
        self.stats.connection_errors += 1
        if self._event_hooks:
            self._emit(RequestFailed(method, path, str(url), error, elapsed, attempt))
        logger.debug("%s %s failed after %.1f ms: %s", method, url.path, elapsed * 1000, error)
        return error

    def _redact(self, text: str) -> str:
        """``text`` with every occurrence of the API key hidden."""
        return redact(text, self._api_key)

    def _decode_success(self, method: str, url: URL, status: int, raw: bytes) -> Any:
        if status == 204 or not raw.strip():
            return None
        try:
            return _json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            pass  # raised below, with no context: the decoder's error holds the raw body
        snippet = self._redact(raw[:_SNIPPET_CHARS].decode("utf-8", "replace"))
        raise ResponseDecodeError(
            "response is not valid JSON",
            status=status,
            snippet=snippet,
            method=method,
            url=str(url),
        )

    def _api_error(
        self, method: str, url: URL, status: int, headers: CIMultiDictProxy[str], raw: bytes
    ) -> APIError:
        text = self._redact(raw.decode("utf-8", "replace"))
        body: Any
        try:
            body = _json.loads(text) if text.strip() else None
        except ValueError:
            body = text[:_SNIPPET_CHARS]
        name, details = _error_fields(body)
        return error_class_for_status(status)(
            status,
            name=name,
            details=details,
            body=body,
            method=method,
            url=str(url),
            retry_after=parse_retry_after(headers.get("Retry-After")),
        )


__all__ = ["USER_AGENT", "BaseClient", "RawResponse", "logger", "parse_retry_after"]
