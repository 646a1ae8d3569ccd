"""Hiding the API key in what the command prints: the client's own rule."""

from __future__ import annotations

from .._redact import REDACTED, redact

__all__ = ["REDACTED", "redact"]
