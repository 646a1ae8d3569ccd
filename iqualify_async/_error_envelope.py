"""Reading the API's error bodies: the one place that knows their two shapes.

The spec's ``Error`` schema nests the fields, ``{"error": {"name", "details"}}``; the vendor's
examples (and some answers) are flat, ``{"name", "details"}``. Both are read here, for whole
error answers (the session layer) and for the per-item errors of a 207 (``_multistatus``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def read_error(body: Any) -> tuple[str | None, Any] | None:
    """The error ``(name, details)`` a body carries, or ``None`` when it is no error envelope.

    - nested ``{"error": {"name": ..., "details": ...}}`` and flat ``{"name": ..., "details": ...}``
      are read alike; ``message`` is read where ``details`` is missing;
    - a string ``error`` is the name when ``details`` stands beside it
      (``{"error": "ObjectExistsError", "details": ...}``), and the details otherwise
      (``{"error": "Something broke"}``);
    - a ``name`` that is not a string is no name (``None``).

    A body that is not an object, or an object with neither ``error`` nor ``name`` nor
    ``details``, is no envelope.
    """
    if not isinstance(body, Mapping):
        return None
    inner = body.get("error")
    if isinstance(inner, Mapping):
        source: Mapping[str, Any] = inner
    elif "error" in body or "name" in body or "details" in body:
        source = body
    else:
        return None
    name = source.get("name")
    details = source.get("details", source.get("message"))
    if isinstance(inner, str):
        if details is None:
            details = inner
        elif not isinstance(name, str):
            name = inner
    return (name if isinstance(name, str) else None), details


__all__ = ["read_error"]
