"""Checking the ``Authorization`` header: the raw key or ``Bearer <key>``."""

from __future__ import annotations

from enum import Enum


class Access(Enum):
    MISSING = "missing"
    INVALID = "invalid"
    READ_ONLY = "read_only"
    FULL = "full"


class KeyChecker:
    def __init__(self, api_key: str, read_only_key: str | None = None) -> None:
        if not api_key:
            raise ValueError("api_key must not be empty")
        self._keys = {api_key: Access.FULL}
        if read_only_key:
            if read_only_key == api_key:
                raise ValueError("read_only_key must differ from api_key")
            self._keys[read_only_key] = Access.READ_ONLY

    def check(self, header: str | None) -> Access:
        if header is None or not header.strip():
            return Access.MISSING
        token = header.strip()
        if token[:7].lower() == "bearer ":
            token = token[7:].strip()
        return self._keys.get(token, Access.INVALID)
