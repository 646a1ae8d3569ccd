"""JSON encoding and decoding: orjson when installed (the ``fast`` extra), else the stdlib."""

from __future__ import annotations

import json
from typing import Any

try:  # pragma: no cover - depends on the environment
    import orjson

    def dumps(value: Any) -> bytes:
        return orjson.dumps(value)

    def loads(data: bytes | str) -> Any:
        return orjson.loads(data)

    JSONDecodeError: type[ValueError] = orjson.JSONDecodeError

except ImportError:  # pragma: no cover - depends on the environment

    def dumps(value: Any) -> bytes:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()

    def loads(data: bytes | str) -> Any:
        return json.loads(data)

    JSONDecodeError = json.JSONDecodeError


MAX_DEPTH = 254
"""Deepest nesting of arrays and objects a request body may have (orjson's own limit)."""


def dumps_body(value: Any) -> bytes:
    """``value`` as a request body; ``ValueError`` for what JSON cannot carry as given.

    ``NaN`` and infinities (which orjson would silently send as ``null``) and nesting deeper
    than :data:`MAX_DEPTH` are refused with the place where they occur.
    """
    stack: list[tuple[Any, str, int]] = [(value, "$", 0)]
    while stack:
        item, where, depth = stack.pop()
        if isinstance(item, float):
            if item != item or item in (float("inf"), float("-inf")):
                raise ValueError(f"{item!r} at {where} is not a JSON number")
        elif isinstance(item, dict | list | tuple):
            if depth >= MAX_DEPTH:
                raise ValueError(f"nested deeper than {MAX_DEPTH} levels at {where}")
            if isinstance(item, dict):
                stack.extend((v, f"{where}.{k}", depth + 1) for k, v in item.items())
            else:
                stack.extend((v, f"{where}[{i}]", depth + 1) for i, v in enumerate(item))
    try:
        return dumps(value)
    except (TypeError, ValueError) as exc:
        message = f"cannot be sent as JSON: {exc}"
    raise ValueError(message)
