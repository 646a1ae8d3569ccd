"""Hiding the API key in what the command prints, by the client's own rule."""

from __future__ import annotations

import re

REDACTED = "***"


def redact(text: str, key: str | None) -> str:
    """``text`` with ``key`` hidden wherever it stands as a whole token.

    The same rule as the client's: whole tokens only, so a short key does not mangle words that
    happen to contain it, while a key echoed back (``Bearer KEY``, ``"KEY"``) is still hidden.
    """
    if not key or key not in text:
        return text
    return re.sub(rf"(?<![A-Za-z0-9_\-]){re.escape(key)}(?![A-Za-z0-9_\-])", REDACTED, text)
