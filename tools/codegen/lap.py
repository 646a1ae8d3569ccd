"""Parser for the LAP v0.3 line format (one ``@endpoint`` block per operation)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .model import FieldDef, TypeRef

_BASE_TYPES = ("str", "int", "num", "bool", "any", "map")
# A new entry in a ``{name: type, ...}`` list: ", name: <type start>".
_ENTRY_START = re.compile(r", (\$?[A-Za-z_][\w-]*): (?=str\b|int\b|num\b|bool\b|any\b|map\b|\[)")
_ERROR_START = re.compile(r"(?:^|, )(\d{3}): ")
_FORMATS = ("email", "date-time", "date", "int32", "int64", "uri")


class LapError(ValueError):
    """The LAP text is not what this parser understands."""


@dataclass
class LapReturn:
    status: int
    schema: TypeRef | None
    description: str


@dataclass
class LapEndpoint:
    method: str
    path: str
    group: str
    desc: str = ""
    required: list[FieldDef] = field(default_factory=list)
    optional: list[FieldDef] = field(default_factory=list)
    returns: list[LapReturn] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)


@dataclass
class LapSpec:
    api: str = ""
    base: str = ""
    version: str = ""
    declared_count: int = 0
    groups: list[str] = field(default_factory=list)
    endpoints: list[LapEndpoint] = field(default_factory=list)


def parse_type(text: str) -> TypeRef:
    """Parse one LAP type expression (``str(email)``, ``[map]``, ``map{a: str}``...)."""
    text = text.strip()
    if text.startswith("[") and text.endswith("]"):
        return TypeRef("array", text, items=parse_type(text[1:-1]))
    if text.startswith("map{") and text.endswith("}"):
        return TypeRef("object", text, fields=tuple(parse_fields(text[4:-1], required=False)))
    match = re.fullmatch(r"(str|int|num|bool|any|map)(?:\((.*)\))?", text)
    if not match:
        raise LapError(f"unknown type {text!r}")
    kind, arg = match.group(1), match.group(2)
    if arg is None:
        return TypeRef(kind, text)
    if arg in _FORMATS:
        return TypeRef(kind, text, format=arg)
    if "/" in arg:
        return TypeRef(kind, text, enum=tuple(arg.split("/")))
    raise LapError(f"unknown type argument in {text!r}")


def _split_type(rest: str) -> tuple[str, str]:
    """Split ``rest`` into its leading type expression and what follows it."""
    depth = 0
    for i, ch in enumerate(rest):
        if ch in "{[(":
            depth += 1
        elif ch in "}])":
            depth -= 1
        elif depth == 0 and ch in " =,":
            return rest[:i], rest[i:]
    return rest, ""


def parse_fields(body: str, *, required: bool) -> list[FieldDef]:
    """Parse the inside of a ``{name: type=default # description, ...}`` list."""
    body = body.strip()
    if not body:
        return []
    result: list[FieldDef] = []
    pos = 0
    while pos < len(body):
        match = re.match(r"(\$?[A-Za-z_][\w-]*): ", body[pos:])
        if not match:
            raise LapError(f"cannot read a field at {body[pos:]!r}")
        name = match.group(1)
        pos += match.end()
        type_text, rest = _split_type(body[pos:])
        pos += len(type_text)
        default = None
        if rest.startswith("="):
            dmatch = re.match(r"=([^\s,}]+)", rest)
            assert dmatch is not None
            default = dmatch.group(1)
            pos += dmatch.end()
            rest = body[pos:]
        description = None
        if rest.startswith(" # "):
            nxt = _ENTRY_START.search(body, pos)
            end = nxt.start() if nxt else len(body)
            description = body[pos + 3 : end].strip()
            pos = end
        if body[pos:].startswith(", "):
            pos += 2
        elif pos < len(body):
            raise LapError(f"unexpected text after field {name!r}: {body[pos:]!r}")
        result.append(FieldDef(name, parse_type(type_text), required, default, description))
    return result


def _braced(text: str) -> tuple[str, str]:
    """Split ``{...} rest`` into the inside of the braces and the rest."""
    if not text.startswith("{"):
        raise LapError(f"expected '{{' in {text!r}")
    depth = 0
    for i, ch in enumerate(text):
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return text[1:i], text[i + 1 :].strip()
    raise LapError(f"unbalanced braces in {text!r}")


def _parse_errors(body: str) -> list[tuple[int, str]]:
    starts = list(_ERROR_START.finditer(body))
    out = []
    for i, m in enumerate(starts):
        end = starts[i + 1].start() if i + 1 < len(starts) else len(body)
        out.append((int(m.group(1)), body[m.end() : end].strip()))
    return out


def parse(text: str) -> LapSpec:
    """Parse a whole LAP document."""
    spec = LapSpec()
    group = ""
    current: LapEndpoint | None = None
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, rest = line.partition(" ")
        try:
            if keyword == "@api":
                spec.api = rest
            elif keyword == "@base":
                spec.base = rest
            elif keyword == "@version":
                spec.version = rest
            elif keyword == "@endpoints":
                spec.declared_count = int(rest)
            elif keyword == "@group":
                group = rest
                spec.groups.append(rest)
            elif keyword == "@endgroup":
                group = ""
            elif keyword == "@endpoint":
                method, path = rest.split(" ", 1)
                current = LapEndpoint(method, path, group)
                spec.endpoints.append(current)
            elif keyword == "@desc":
                assert current is not None
                current.desc = rest
            elif keyword in ("@required", "@optional"):
                assert current is not None
                inner, tail = _braced(rest)
                if tail:
                    raise LapError(f"unexpected {tail!r}")
                fields = parse_fields(inner, required=keyword == "@required")
                (current.required if keyword == "@required" else current.optional).extend(fields)
            elif keyword.startswith("@returns("):
                assert current is not None
                status = int(keyword[len("@returns(") : -1])
                if rest.startswith("{"):
                    inner, tail = _braced(rest)
                    desc = tail[1:].strip() if tail.startswith("#") else tail
                    schema = TypeRef(
                        "object",
                        "{" + inner + "}",
                        fields=tuple(parse_fields(inner, required=False)),
                    )
                    current.returns.append(LapReturn(status, schema, desc))
                else:
                    current.returns.append(LapReturn(status, None, rest))
            elif keyword == "@errors":
                assert current is not None
                inner, _tail = _braced(rest)
                current.errors.extend(_parse_errors(inner))
            elif keyword in ("@lap", "@auth", "@hint", "@toc", "@end"):
                continue
            else:
                raise LapError(f"unknown keyword {keyword!r}")
        except (LapError, AssertionError, ValueError) as exc:
            raise LapError(f"line {lineno}: {exc}") from exc
    return spec
