"""Exceptions raised by iqualify-async.

Everything derives from :class:`IQualifyError`. Answers from the API with an error status raise an
:class:`APIError` subclass chosen by status code; failures to get an answer raise
:class:`APIConnectionError` (or :class:`APITimeoutError`).
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "AmbiguousWriteError",
    "AuthenticationError",
    "BadRequestError",
    "ClientClosedError",
    "ConfigurationError",
    "ConflictError",
    "DeadlineExceededError",
    "IQualifyError",
    "NotFoundError",
    "ParameterError",
    "PermissionDeniedError",
    "RateLimitError",
    "ResponseDecodeError",
    "ServerError",
    "SharedLimitError",
    "error_class_for_status",
]


class IQualifyError(Exception):
    """Base class of every error raised by this library."""


class ConfigurationError(IQualifyError, ValueError):
    """A client setting is missing or not acceptable (API key, base URL, ...)."""


class SharedLimitError(IQualifyError):
    """The Redis store of a shared rate limit is unreachable and ``on_store_error="raise"``."""


class ClientClosedError(IQualifyError, RuntimeError):
    """The client was used before it was opened or after it was closed."""


class ParameterError(IQualifyError, ValueError):
    """An argument of an endpoint call is invalid; raised before any request is sent."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(f"{parameter}: {message}")
        self.parameter = parameter


class APIError(IQualifyError):
    """The API answered with an error status.

    Attributes: ``status`` (HTTP status), ``name`` (the API's error name such as
    ``ObjectNotFoundError``, or ``None``), ``details`` (the API's message), ``body`` (the decoded
    body, or the text when it was not JSON), ``method`` and ``url`` of the request, and
    ``retry_after`` (seconds advised by a ``Retry-After`` header, if any).
    """

    def __init__(
        self,
        status: int,
        *,
        name: str | None = None,
        details: Any = None,
        body: Any = None,
        method: str = "",
        url: str = "",
        retry_after: float | None = None,
    ) -> None:
        self.status = status
        self.name = name
        self.details = details
        self.body = body
        self.method = method
        self.url = url
        self.retry_after = retry_after
        label = f"{name}: " if name else ""
        text = details if isinstance(details, str) else ("" if details is None else repr(details))
        super().__init__(f"{status} {label}{text} ({method} {url})".replace("  ", " "))

    def __reduce__(self) -> tuple[Any, ...]:
        kwargs = {
            "name": self.name,
            "details": self.details,
            "body": self.body,
            "method": self.method,
            "url": self.url,
            "retry_after": self.retry_after,
        }
        return (_rebuild_api_error, (type(self), self.status, kwargs))


def _rebuild_api_error(cls: type[APIError], status: int, kwargs: dict[str, Any]) -> APIError:
    return cls(status, **kwargs)


class BadRequestError(APIError):
    """400: the request was refused as invalid (``SchemaValidationError``, ``ObjectExistsError``...)."""


class AuthenticationError(APIError):
    """401: the API key is missing or wrong."""


class PermissionDeniedError(APIError):
    """403: the API key may not do this."""


class NotFoundError(APIError):
    """404: the object (offering, user, ...) or route does not exist."""


class ConflictError(APIError):
    """409: the request conflicts with the current state."""


class RateLimitError(APIError):
    """429: too many requests; ``retry_after`` holds the advised wait in seconds, if given."""


class ServerError(APIError):
    """5xx: the API failed to handle the request."""


_STATUS_CLASSES: dict[int, type[APIError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    429: RateLimitError,
}


def error_class_for_status(status: int) -> type[APIError]:
    """The :class:`APIError` subclass raised for an HTTP status."""
    if status >= 500:
        return ServerError
    return _STATUS_CLASSES.get(status, APIError)


class ResponseDecodeError(IQualifyError):
    """A successful response did not carry the JSON it should (an HTML page from a proxy, say)."""

    def __init__(self, message: str, *, status: int, snippet: str, method: str, url: str) -> None:
        super().__init__(f"{message} ({method} {url}, status {status}): {snippet!r}")
        self.status = status
        self.snippet = snippet
        self.method = method
        self.url = url

    def __reduce__(self) -> tuple[Any, ...]:
        kwargs = {"status": self.status, "snippet": self.snippet, "method": self.method}
        kwargs["url"] = self.url
        return (_rebuild, (type(self), ResponseDecodeError, self.args[0], kwargs))


def _rebuild(
    cls: type[IQualifyError], base: Any, text: str, kwargs: dict[str, Any]
) -> IQualifyError:
    """An error of ``cls`` with ``base``'s attributes from ``kwargs`` and its message ``text``
    as it was (``base.__init__`` would build the message again from its parts)."""
    error = cls.__new__(cls)
    base.__init__(error, "", **kwargs)
    error.args = (text,)
    return error


class APIConnectionError(IQualifyError):
    """No answer was received: connection refused, reset, DNS failure, ...

    ``request_sent`` tells whether the request may have reached the server: ``False`` when it
    certainly did not (connection refused), ``True`` or ``None`` (unknown) otherwise.
    """

    def __init__(
        self, message: str, *, method: str, url: str, request_sent: bool | None = None
    ) -> None:
        super().__init__(f"{message} ({method} {url})")
        self.method = method
        self.url = url
        self.request_sent = request_sent

    def __reduce__(self) -> tuple[Any, ...]:
        kwargs = {"method": self.method, "url": self.url, "request_sent": self.request_sent}
        return (_rebuild, (type(self), APIConnectionError, self.args[0], kwargs))


class APITimeoutError(APIConnectionError):
    """The request did not complete within its timeout."""


class DeadlineExceededError(APITimeoutError):
    """The call's ``Timeout.deadline`` passed before it could succeed.

    ``deadline`` (seconds), ``attempts`` (requests sent, 0 when the deadline passed waiting
    for the rate limiter), ``elapsed`` (seconds the call took) and ``last_error`` (the
    failure of the last attempt, if any). ``request_sent`` is ``False`` when the API
    certainly applied nothing (no attempt, or a write whose attempts were all refused).
    """

    def __init__(
        self,
        *,
        deadline: float,
        attempts: int,
        elapsed: float,
        last_error: IQualifyError | None,
        method: str,
        url: str,
        request_sent: bool | None,
    ) -> None:
        if attempts:
            what = f"after {attempts} attempt{'s' if attempts > 1 else ''} in {elapsed:.2f} s"
        else:
            what = f"after {elapsed:.2f} s waiting for the rate limiter, before any attempt"
        last = ""
        if last_error is not None:
            text = str(last_error).removesuffix(f" ({method} {url})")  # said once, below
            last = f" (last: {text})"
        super().__init__(
            f"deadline of {deadline:g} s passed {what}{last}",
            method=method,
            url=url,
            request_sent=request_sent,
        )
        self.deadline = deadline
        self.attempts = attempts
        self.elapsed = elapsed
        self.last_error = last_error

    def __reduce__(self) -> tuple[Any, ...]:
        kwargs = {
            "deadline": self.deadline,
            "attempts": self.attempts,
            "elapsed": self.elapsed,
            "last_error": self.last_error,
            "method": self.method,
            "url": self.url,
            "request_sent": self.request_sent,
        }
        return (_rebuild_deadline_error, (kwargs,))


def _rebuild_deadline_error(kwargs: dict[str, Any]) -> DeadlineExceededError:
    return DeadlineExceededError(**kwargs)


class AmbiguousWriteError(APIConnectionError):
    """A write (POST/PATCH) failed in a way that leaves unknown whether the API applied it.

    It is never re-sent automatically; check the state (or pass ``retry_unsafe=True`` when the
    call is safe to repeat). ``cause`` is the underlying connection error.
    """

    def __init__(self, cause: APIConnectionError) -> None:
        super().__init__(
            f"write may or may not have been applied: {cause}",
            method=cause.method,
            url=cause.url,
            request_sent=cause.request_sent,
        )
        self.cause = cause

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.cause,))
