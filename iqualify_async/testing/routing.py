"""Matching request paths against the operations' path templates.

Each raw path segment is percent-decoded on its own, so an encoded ``/`` stays inside its
parameter. Where templates overlap, literal segments win over parameters
(``/users/all/progress`` beats ``/users/{userEmail}/progress``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import unquote

from .registry import Operation


@dataclass(frozen=True, slots=True)
class _Template:
    parts: tuple[tuple[bool, str], ...]  # (is_parameter, literal or parameter name)
    by_method: dict[str, Operation]


class Router:
    def __init__(self, operations: Iterable[Operation]) -> None:
        grouped: dict[str, dict[str, Operation]] = {}
        for op in operations:
            methods = grouped.setdefault(op.path, {})
            if op.method in methods:
                raise ValueError(f"duplicate operation {op.label}")
            methods[op.method] = op
        self._by_length: dict[int, list[_Template]] = {}
        for path, methods in grouped.items():
            parts = tuple(
                (True, seg[1:-1]) if seg.startswith("{") else (False, seg) for seg in _split(path)
            )
            self._by_length.setdefault(len(parts), []).append(_Template(parts, methods))
        for templates in self._by_length.values():
            templates.sort(key=lambda t: tuple(is_param for is_param, _ in t.parts))

    def match(self, method: str, raw_path: str) -> tuple[Operation, dict[str, str]] | None:
        """The operation for ``method`` and the API-relative ``raw_path``, with its parameters."""
        segments = [unquote(s) for s in _split(raw_path)]
        for template in self._by_length.get(len(segments), ()):
            params: dict[str, str] = {}
            for (is_param, text), segment in zip(template.parts, segments, strict=True):
                if is_param:
                    if not segment:
                        break
                    params[text] = segment
                elif text != segment:
                    break
            else:
                op = template.by_method.get(method)
                if op is not None:
                    return op, params
        return None


def _split(path: str) -> list[str]:
    path = path.strip("/")
    return path.split("/") if path else []
