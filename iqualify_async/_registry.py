"""The shape of the operation registry: what ``ENDPOINTS`` (generated in ``_endpoints``) holds.

The CLI, the fake server and the tests read operations through these two classes, so their
attribute names are part of the library's contract.
"""

from __future__ import annotations

import attrs


@attrs.frozen
class Param:
    """One argument of an operation.

    ``name`` is the spec's name (wire name), ``python_name`` the method's argument,
    ``location`` is "path", "query" or "body", ``type`` the spec's type text. For an
    operation whose ``body`` is "array", its one body parameter is the whole JSON array.
    """

    name: str
    python_name: str
    location: str
    required: bool
    type: str
    description: str | None = None
    default: str | None = None


@attrs.frozen
class Endpoint:
    """One API operation and the ``Client`` coroutine that calls it (``attr``, dotted).

    ``success_status`` is the status of a successful answer, ``returns`` what it decodes into
    (a model name, ``"list[Model]"``, ``"list[str]"`` or ``"dict[str, str]"``; ``None`` when
    the JSON is returned as decoded, typed ``JSON``, or nothing is), ``body`` is
    ``"object"``, ``"array"`` or ``None``, and ``errors`` the error statuses the spec lists.
    ``fixed`` holds the body values the method sends of its own, not taken as arguments
    (``users.suspend`` sends ``suspended: true``), as (wire name, value) pairs.
    """

    method: str
    path: str
    group: str
    attr: str
    summary: str
    params: tuple[Param, ...]
    success_status: int
    returns: str | None
    body: str | None
    errors: tuple[int, ...]
    fixed: tuple[tuple[str, object], ...] = ()


__all__ = ["Endpoint", "Param"]
