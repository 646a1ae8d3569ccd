"""Filling path templates with percent-encoded parameters."""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from urllib.parse import quote

from .errors import ParameterError

_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")


def encode_segment(value: object, *, name: str = "path parameter") -> str:
    """Percent-encode ``value`` as exactly one path segment.

    Every character outside the unreserved set is encoded, so ``/``, ``?``, ``#``, ``%``, ``+``
    and ``@`` can never change the path; the segments ``.`` and ``..`` are encoded too, so
    they cannot be resolved as relative paths.
    """
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ParameterError(name, f"must be a string, got {type(value).__name__}")
    text = str(value)
    if not text:
        raise ParameterError(name, "must not be empty")
    if text in (".", ".."):
        return text.replace(".", "%2E")
    return quote(text, safe="")


@lru_cache(maxsize=512)
def _template_parts(template: str) -> tuple[tuple[str, str | None], ...]:
    """``"/a/{x}/b"`` -> ``(("/a/", "x"), ("/b", None))``: literal text, then a placeholder."""
    parts: list[tuple[str, str | None]] = []
    position = 0
    for match in _PLACEHOLDER.finditer(template):
        parts.append((template[position : match.start()], match.group(1)))
        position = match.end()
    parts.append((template[position:], None))
    return tuple(parts)


def render_path(template: str, path_params: Mapping[str, object] | None) -> str:
    """Fill ``{name}`` placeholders of ``template`` from ``path_params``, one segment each."""
    if "{" not in template:
        return template
    params = path_params or {}
    pieces: list[str] = []
    for literal, name in _template_parts(template):
        pieces.append(literal)
        if name is not None:
            if name not in params:
                raise ParameterError(name, "missing path parameter")
            pieces.append(encode_segment(params[name], name=name))
    return "".join(pieces)
