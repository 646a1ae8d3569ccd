"""Declaring operations: each handler is registered under its (method, spec path template)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from multidict import MultiMapping

from .state import State
from .validation import Schema

Reply = tuple[int, Any]
"""HTTP status and JSON payload (``None``: no body)."""


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


@dataclass(slots=True)
class Call:
    """One request as a handler sees it: decoded path parameters, query and parsed JSON body."""

    state: State
    params: dict[str, str]
    query: MultiMapping[str]
    body: Any = MISSING
    flat_errors: bool = False  # errors inside answers (207 items) in the flat shape


Handler = Callable[[Call], Reply]


@dataclass(frozen=True, slots=True)
class Operation:
    method: str
    path: str
    handler: Handler
    body: Schema | None = None
    body_required: bool = True
    query: frozenset[str] = field(default_factory=frozenset)

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def is_write(self) -> bool:
        return self.method != "GET"


class OperationList:
    """Collects the operations one handler module implements."""

    def __init__(self) -> None:
        self.operations: list[Operation] = []

    def add(
        self,
        method: str,
        path: str,
        *,
        body: Schema | None = None,
        body_required: bool = True,
        query: tuple[str, ...] = (),
    ) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.operations.append(
                Operation(method, path, handler, body, body_required, frozenset(query))
            )
            return handler

        return register
