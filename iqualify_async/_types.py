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

    ``connect`` bounds opening a TCP/TLS connection, ``total`` bounds the whole request
    (connect, send, wait, read).
    """

    connect: float | None = 10.0
    total: float | None = 60.0

    def __attrs_post_init__(self) -> None:
        for name in ("connect", "total"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not value > 0):
                raise ValueError(f"Timeout.{name} must be a positive number of seconds or None")


DEFAULT_TIMEOUT: Final = Timeout()

TimeoutArg = float | Timeout | None | Unset
"""What ``timeout=`` accepts: seconds (total), a :class:`Timeout`, ``None`` (no limit) or UNSET."""
