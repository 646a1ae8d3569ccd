"""The public client: the session layer plus the generated resources."""

from __future__ import annotations

from ._base_client import BaseClient


class Client(BaseClient):
    """Asynchronous client for the iQualify Management API.

    Use it as ``async with Client() as iq:``; it holds one HTTP session for its whole life.

    Settings (each has a default):

    - ``api_key``: else ``$IQUALIFY_API_KEY``; required.
    - ``base_url``: else ``$IQUALIFY_BASE_URL``, else ``https://api.iqualify.com/v1``. Plain
      ``http://`` is refused unless the host is loopback or ``allow_insecure_http=True``.
    - ``auth_scheme``: ``None`` sends the raw key in ``Authorization``; ``"Bearer"`` (or any
      prefix) sends ``"<scheme> <key>"``.
    - ``timeout``: a :class:`Timeout` (default connect 10 s, total 60 s), seconds, or ``None``.
    - ``max_connections``: size of the connection pool (default 100).
    - ``default_headers``: extra headers sent with every request.
    - ``event_hooks``: callables receiving :mod:`iqualify_async.events` objects.
    """
