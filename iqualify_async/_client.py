"""The public client: the session layer plus the generated resources."""

from __future__ import annotations

from functools import cached_property

from ._base_client import BaseClient
from .resources import (
    CourseMappingsResource,
    CoursesResource,
    OfferingsResource,
    OrgResource,
    RootResource,
    UsersResource,
)


class Client(BaseClient):
    """Asynchronous client for the iQualify Management API.

    Use it as ``async with Client() as iq:``; it holds one HTTP session for its whole life.

    Settings (each has a default):

    - ``api_key``: else ``$IQUALIFY_API_KEY``; required.
    - ``base_url``: else ``$IQUALIFY_BASE_URL``, else ``https://api.iqualify.com/v1``. Plain
      ``http://`` is refused unless the host is loopback or ``allow_insecure_http=True``.
    - ``auth_scheme``: ``None`` sends the raw key in ``Authorization``; ``"Bearer"`` (or any
      prefix) sends ``"<scheme> <key>"``.
    - ``timeout``: a :class:`Timeout` (default connect 10 s and total 60 s per attempt, no
      ``deadline`` for the whole call), seconds (per attempt), or ``None``.
    - ``max_connections``: size of the connection pool (default 100).
    - ``default_headers``: extra headers sent with every request.
    - ``event_hooks``: callables receiving :mod:`iqualify_async.events` objects.
    - ``retry``: the :class:`RetryPolicy` of every call that does not pass its own (default:
      5 retries, backoff 0.5 s doubling to 8 s with jitter, ``Retry-After`` honoured up to 60 s);
      ``RetryPolicy(max_retries=0)`` disables retries.
    - ``rate_limit``: a :class:`RateLimit` shared by all calls (default: 10 requests in flight,
      10 requests/s with bursts of 20, slowing down by itself on 429 answers and back within
      seconds); ``RateLimit(shared="redis://...")`` shares it with every process on the key;
      ``None`` sends without limits.
    - ``max_concurrency``: shortcut replacing ``rate_limit.max_concurrency``.
    """

    # Endpoint groups, created on first use (one instance per client).
    @cached_property
    def root(self) -> RootResource:
        return RootResource(self)

    @cached_property
    def offerings(self) -> OfferingsResource:
        return OfferingsResource(self)

    @cached_property
    def course_mappings(self) -> CourseMappingsResource:
        return CourseMappingsResource(self)

    @cached_property
    def courses(self) -> CoursesResource:
        return CoursesResource(self)

    @cached_property
    def org(self) -> OrgResource:
        return OrgResource(self)

    @cached_property
    def users(self) -> UsersResource:
        return UsersResource(self)
