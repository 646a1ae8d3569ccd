"""``$top``, ``$orderby`` and ``$filter`` for ``GET /offerings/summary`` and ``GET /users/all/progress``.

Supported subset (anything else is answered with 400 ``ApiValidationError``):

- ``$top=N``: a whole number (default 50); at most N results.
- ``$orderby=field [asc|desc][, field [asc|desc]...]``: sort by one or more of the endpoint's
  fields (ascending unless ``desc``).
- ``$filter``: one or more conditions joined by ``and`` (case-insensitive), each either
  ``field OP value`` with OP one of ``eq ne gt ge lt le`` and value a quoted string
  (``'text'``, quotes doubled inside) or a number, or ``contains(field,'text')`` /
  ``startswith(field,'text')`` (case-insensitive).

Fields: summary — ``id name contentId start end info learnersCount``; progress — ``id email
firstName lastName personId``.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from typing import Any

from .errors import bad_request

DEFAULT_TOP = 50
Row = dict[str, Any]
_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "eq": operator.eq,
    "ne": operator.ne,
    "gt": operator.gt,
    "ge": operator.ge,
    "lt": operator.lt,
    "le": operator.le,
}
_VALUE = r"(?:'(?:[^']|'')*'|-?\d+(?:\.\d+)?)"
_COMPARISON = re.compile(rf"^\s*(\w+)\s+(eq|ne|gt|ge|lt|le)\s+({_VALUE})\s*$")
_FUNCTION = re.compile(r"^\s*(contains|startswith)\(\s*(\w+)\s*,\s*('(?:[^']|'')*')\s*\)\s*$")
_AND = re.compile(r"\s+and\s+", re.IGNORECASE)


def _invalid(name: str) -> Exception:
    return bad_request("ApiValidationError", f"invalid {name} parameter.")


def parse_top(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_TOP
    if not (raw.isascii() and raw.isdigit()):
        raise _invalid("$top")
    return int(raw)


def _literal(token: str) -> Any:
    if token.startswith("'"):
        return token[1:-1].replace("''", "'")
    return float(token) if "." in token else int(token)


def compile_filter(raw: str | None, fields: frozenset[str]) -> Callable[[Row], bool]:
    if raw is None:
        return lambda row: True
    tests: list[Callable[[Row], bool]] = []
    for clause in _AND.split(raw.strip()):
        tests.append(_clause(clause, fields))
    return lambda row: all(test(row) for test in tests)


def _clause(clause: str, fields: frozenset[str]) -> Callable[[Row], bool]:
    match = _COMPARISON.match(clause)
    if match:
        field_name, op, token = match.groups()
        if field_name not in fields:
            raise _invalid("$filter")
        compare, value = _COMPARE[op], _literal(token)

        def test(row: Row) -> bool:
            actual = row.get(field_name)
            if actual is None or isinstance(actual, str) != isinstance(value, str):
                return op == "ne"
            return compare(actual, value)

        return test
    match = _FUNCTION.match(clause)
    if match:
        function, field_name, token = match.groups()
        if field_name not in fields:
            raise _invalid("$filter")
        needle = str(_literal(token)).lower()
        if function == "contains":
            return lambda row: needle in str(row.get(field_name) or "").lower()
        return lambda row: str(row.get(field_name) or "").lower().startswith(needle)
    raise _invalid("$filter")


def compile_orderby(raw: str | None, fields: frozenset[str]) -> list[tuple[str, bool]]:
    if raw is None:
        return []
    keys: list[tuple[str, bool]] = []
    for part in raw.split(","):
        words = part.split()
        if not 1 <= len(words) <= 2 or words[0] not in fields:
            raise _invalid("$orderby")
        direction = words[1].lower() if len(words) == 2 else "asc"
        if direction not in ("asc", "desc"):
            raise _invalid("$orderby")
        keys.append((words[0], direction == "desc"))
    return keys


def apply_query(
    rows: list[Row],
    fields: frozenset[str],
    top: str | None,
    orderby: str | None,
    filter_: str | None,
) -> tuple[int, list[Row]]:
    """Validate all three options first, then filter, sort and cut ``rows``."""
    limit = parse_top(top)
    keep = compile_filter(filter_, fields)
    order = compile_orderby(orderby, fields)
    selected = [row for row in rows if keep(row)]
    for name, descending in reversed(order):
        selected.sort(key=lambda row: _sort_key(row.get(name)), reverse=descending)
    return limit, selected[:limit]


def _sort_key(value: Any) -> tuple[int, Any]:
    if value is None:
        return (2, "")
    if isinstance(value, str):
        return (1, value.lower())
    return (0, value)
