"""Errors the fake raises inside handlers, rendered as the API's error body."""

from __future__ import annotations

from typing import Any


class FakeAPIError(Exception):
    """An API error answer: HTTP status, the API's error name and a human-readable detail."""

    def __init__(self, status: int, name: str, details: str) -> None:
        super().__init__(f"{status} {name}: {details}")
        self.status = status
        self.name = name
        self.details = details

    def body(self, *, flat: bool = False) -> dict[str, Any]:
        return error_body(self.name, self.details, flat=flat)


def error_body(name: str, details: str, *, flat: bool = False) -> dict[str, Any]:
    """The spec's ``Error`` schema, ``{"error": {"name": ..., "details": ...}}``, or with
    ``flat`` the vendor examples' ``{"name": ..., "details": ...}``."""
    if flat:
        return {"name": name, "details": details}
    return {"error": {"name": name, "details": details}}


def not_found(kind: str, ident: str) -> FakeAPIError:
    return FakeAPIError(404, "ObjectNotFoundError", f"The {kind} {ident} was not found.")


def schema_error(details: str) -> FakeAPIError:
    return FakeAPIError(400, "SchemaValidationError", details)


def bad_request(name: str, details: str) -> FakeAPIError:
    return FakeAPIError(400, name, details)
