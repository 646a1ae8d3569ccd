"""Small shared types: the UNSET sentinel and the Timeout setting."""

from __future__ import annotations

import enum
from typing import Final, Literal, TypeAlias, Union

import attrs


class Unset(enum.Enum):
    """Type of :data:`UNSET`, the marker for "argument not given"."""

    UNSET = "UNSET"

    def __repr__(self) -> str:
        return "UNSET"

    def __bool__(self) -> Literal[False]:
        return False


JSON: TypeAlias = Union[dict[str, "JSON"], list["JSON"], str, int, float, bool, None]  # noqa: UP007
"""Any JSON value, as decoded: what answers the spec gives no shape for are typed as."""

JSONObject: TypeAlias = dict[str, JSON]
"""A JSON object, as decoded."""

UNSET: Final = Unset.UNSET
"""Default of every optional argument: the value is left out of the request."""


@attrs.frozen(slots=True)
class Timeout:
    """Request time limits in seconds; ``None`` disables a limit.

    ``connect`` bounds opening a TCP/TLS connection and ``total`` one attempt (connect, send,
    wait, read). ``deadline`` bounds the whole call: waits for the rate limiter, every
    attempt and every backoff between them; no retry is made whose wait would pass it, and
    the last attempt is cut short at it.
    """

    connect: float | None = 10.0
    total: float | None = 60.0
    deadline: float | None = None

    def __attrs_post_init__(self) -> None:
        for name in ("connect", "total", "deadline"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not value > 0):
                raise ValueError(f"Timeout.{name} must be a positive number of seconds or None")


DEFAULT_TIMEOUT: Final = Timeout()

TimeoutArg = float | Timeout | None | Unset
"""What ``timeout=`` accepts: seconds (per attempt), a :class:`Timeout`, ``None`` or UNSET."""
