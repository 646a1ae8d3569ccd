"""Asyncio client for the iQualify Management API."""

from . import events
from ._base_client import RawResponse
from ._client import Client
from ._endpoints import ENDPOINTS
from ._ratelimit import RateLimit
from ._retry import RetryPolicy
from ._stats import ClientStats
from ._types import UNSET, Timeout, Unset
from ._version import __version__
from .errors import (
    AmbiguousWriteError,
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ClientClosedError,
    ConfigurationError,
    ConflictError,
    DeadlineExceededError,
    IQualifyError,
    NotFoundError,
    ParameterError,
    PermissionDeniedError,
    RateLimitError,
    ResponseDecodeError,
    ServerError,
    SharedLimitError,
)

__all__ = [
    "ENDPOINTS",
    "UNSET",
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "AmbiguousWriteError",
    "AuthenticationError",
    "BadRequestError",
    "Client",
    "ClientClosedError",
    "ClientStats",
    "ConfigurationError",
    "ConflictError",
    "DeadlineExceededError",
    "IQualifyError",
    "NotFoundError",
    "ParameterError",
    "PermissionDeniedError",
    "RateLimit",
    "RateLimitError",
    "RawResponse",
    "ResponseDecodeError",
    "RetryPolicy",
    "ServerError",
    "SharedLimitError",
    "Timeout",
    "Unset",
    "__version__",
    "events",
]
