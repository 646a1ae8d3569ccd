"""The one rule for API keys: which keys are accepted, and how a key is hidden in text.

A key is accepted only when it is long and mixed enough that it cannot occur inside ordinary
text: at least :data:`MIN_KEY_LENGTH` characters, no whitespace, and at least two kinds of
characters among lower-case letters, upper-case letters, digits and symbols. Every occurrence
of an accepted key is then hidden, also when glued to other characters (``x<KEY>y``), without
any risk of mangling words. The client, its exceptions and the command line all use it.
"""

from __future__ import annotations

from typing import Final

REDACTED: Final = "***"
MIN_KEY_LENGTH: Final = 16
KEY_RULE: Final = (
    f"at least {MIN_KEY_LENGTH} characters without spaces, mixing at least two of: "
    "lower-case letters, upper-case letters, digits, symbols"
)


def key_problem(key: str) -> str | None:
    """Why ``key`` is not an acceptable API key, or ``None`` when it is."""
    if len(key) < MIN_KEY_LENGTH:
        return f"it is too short ({len(key)} characters)"
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in key):
        return "it contains spaces or control characters"
    kinds = {
        "lower" if ch.islower() else "upper" if ch.isupper() else "digit" if ch.isdigit() else "sym"
        for ch in key
    }
    if len(kinds) < 2:
        return "it is made of one kind of character only"
    return None


def redact(text: str, key: str | None) -> str:
    """``text`` with every occurrence of ``key`` replaced by ``***``.

    A key that is not acceptable (see :func:`key_problem`) is never sent, so it cannot be
    echoed back: text is then returned as it is rather than mangled.
    """
    if not key:
        return text
    key = key.strip()
    if not key or key not in text or key_problem(key) is not None:
        return text
    return text.replace(key, REDACTED)


__all__ = ["KEY_RULE", "MIN_KEY_LENGTH", "REDACTED", "key_problem", "redact"]
