"""Asyncio client for the iQualify Management API."""

import logging as _logging

from . import events
from ._base_client import RawResponse
from ._client import Client
from ._endpoints import ENDPOINTS, SHORTCUTS
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

# The library's warnings reach an application's logs only when it configures logging.
_logging.getLogger("iqualify_async").addHandler(_logging.NullHandler())

__all__ = [
    "ENDPOINTS",
    "SHORTCUTS",
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
