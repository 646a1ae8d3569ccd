"""The one converter: how answers become models, and models and inputs become JSON again.

Response models (generated in ``types.models``) are frozen attrs classes deriving from
:class:`~iqualify_async._model.Model`. Each model gets one structure function, compiled on
first use into straight-line Python: every field reads its camelCase ``wire`` key once and is
checked in place (``str``, ``int``, ``float``, ``bool``: the JSON type exactly, no
conversion), nested models, arrays and date-times go through hooks resolved at compile time.
Unknown keys are ignored; the payload is kept in ``raw``. A missing identity field (a field
without a default) or a value of the wrong type raises, naming the field.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta, timezone
from types import NoneType, UnionType
from typing import Any, Final, TypeVar, Union, get_args, get_origin

import attrs
import cattrs

from ._types import JSON, Unset
from .errors import ResponseDecodeError

T = TypeVar("T")

converter: Final = cattrs.Converter(detailed_validation=False)


class FieldError(TypeError):
    """A value that does not fit its model field; ``path`` is the wire path to it."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem

    def within(self, outer: str) -> FieldError:
        sep = "" if not self.path or self.path.startswith("[") else "."
        return FieldError(f"{outer}{sep}{self.path}", self.problem)


_KIND_NAMES: Final = {str: "a string", int: "an integer", float: "a number", bool: "a boolean"}


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean {value!r}"
    if isinstance(value, int | float):
        return f"number {value!r}"
    if isinstance(value, str):
        return f"string {value[:40]!r}"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return "an array"
    return type(value).__name__


def _wrong(wire: str, expected: str, value: Any) -> FieldError:
    return FieldError(wire, f"expected {expected}, got {_json_kind(value)}")


# RFC 3339 date-time: "T" or "t" (or a space) between date and time, "Z"/"z" or an offset,
# any number of fraction digits, and second 60 (a leap second, read as the next second).
RFC3339: Final = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)[Tt ](\d\d):(\d\d):(\d\d)(?:\.(\d+))?(?:([Zz])|([+-])(\d\d):(\d\d))"
)
_DATE: Final = re.compile(r"(\d{4})-(\d\d)-(\d\d)")


def parse_datetime(value: str) -> datetime:
    """An aware datetime from an RFC 3339 date-time string (or a date, as midnight UTC)."""
    try:  # the common forms, in C
        parsed = datetime.fromisoformat(value)
    except ValueError:
        pass
    else:
        if parsed.tzinfo is not None:
            return parsed
    m = RFC3339.fullmatch(value)
    if m is None:
        d = _DATE.fullmatch(value)
        if d is None:
            raise ValueError(f"not an RFC 3339 date-time: {value[:40]!r}")
        return datetime(int(d[1]), int(d[2]), int(d[3]), tzinfo=UTC)
    year, month, day, hour, minute, second = map(int, m.group(1, 2, 3, 4, 5, 6))
    micro = int(m[7][:6].ljust(6, "0")) if m[7] else 0
    if m[8]:
        tz = UTC
    else:
        offset = timedelta(hours=int(m[10]), minutes=int(m[11]))
        tz = UTC if not offset else timezone(-offset if m[9] == "-" else offset)
    leap = second == 60
    result = datetime(year, month, day, hour, minute, 59 if leap else second, micro, tzinfo=tz)
    return result + timedelta(seconds=1) if leap else result


def format_datetime(value: datetime) -> str:
    """RFC 3339 in UTC with a ``Z`` (the form the API uses); naive values are taken as UTC."""
    if value.tzinfo is not UTC and value.tzinfo is not None:
        value = value.astimezone(UTC)
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text + "Z"


def _structure_datetime(value: Any, _: Any) -> datetime:
    if value.__class__ is str:
        try:
            return parse_datetime(value)
        except ValueError as exc:
            raise FieldError("", str(exc)) from None
    if isinstance(value, datetime):
        return value
    raise FieldError("", f"expected an RFC 3339 date-time string, got {_json_kind(value)}")


converter.register_structure_hook(datetime, _structure_datetime)
converter.register_unstructure_hook(datetime, format_datetime)
converter.register_unstructure_hook(date, date.isoformat)
converter.register_structure_hook(Any, lambda value, _: value)


def wire_name(field: attrs.Attribute[Any]) -> str:
    """The JSON key of a model field."""
    return str(field.metadata.get("wire", field.name))


def _is_model(cls: Any) -> bool:
    return isinstance(cls, type) and attrs.has(cls) and "raw" in attrs.fields_dict(cls)


def _is_input(cls: Any) -> bool:
    return isinstance(cls, type) and attrs.has(cls) and getattr(cls, "__iq_input__", False)


_PRIMITIVES: Final = (str, int, float, bool)


def _is_optional(tp: Any) -> bool:
    return (
        get_origin(tp) in (Union, UnionType) and len(get_args(tp)) == 2 and NoneType in get_args(tp)
    )


def _strip_optional(tp: Any) -> Any:
    return next(arg for arg in get_args(tp) if arg is not NoneType) if _is_optional(tp) else tp


def _branches(index: int, wire: str, tp: Any, namespace: dict[str, Any]) -> list[tuple[str, str]]:
    """(condition, statements) pairs giving ``a<index>`` from ``v`` (not None); "" is "else"."""
    a = f"a{index}"
    if tp is Any or tp == JSON:
        return [("", f"{a} = v")]
    if tp is float:
        return [
            ("v.__class__ is float", f"{a} = v"),
            ("v.__class__ is int", f"{a} = float(v)"),
            ("", f"raise _wrong({wire!r}, 'a number', v)"),
        ]
    if tp is datetime:
        # The common forms parse in C here; anything else (or a naive result) goes to ``_dt``.
        parse = (
            f"try:\n    {a} = iso(v)\nexcept ValueError:\n    {a} = _dt(v, {wire!r})\n"
            f"else:\n    if {a}.tzinfo is None:\n        {a} = _dt(v, {wire!r})"
        )
        return [
            ("v.__class__ is str", parse),
            ("", f"raise _wrong({wire!r}, 'an RFC 3339 date-time string', v)"),
        ]
    if tp in _PRIMITIVES:
        namespace[f"t{index}"] = tp
        return [
            (f"v.__class__ is t{index}", f"{a} = v"),
            ("", f"raise _wrong({wire!r}, {_KIND_NAMES[tp]!r}, v)"),
        ]
    namespace[f"t{index}"] = tp
    namespace[f"h{index}"] = converter.get_structure_hook(tp)
    nested = (
        f"try:\n    {a} = h{index}(v, t{index})\n"
        f"except FieldError as e:\n    raise e.within({wire!r}) from None"
    )
    return [("", nested)]


def _dt(value: str, wire: str) -> datetime:
    """A date-time field: the common forms in C, the rest of RFC 3339 in Python."""
    try:
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is not None:
            return parsed
    except ValueError:
        pass
    try:
        return parse_datetime(value)
    except ValueError as exc:
        raise FieldError(wire, str(exc)) from None


def _model_structure(cls: Any) -> Callable[[Any, Any], Any]:
    """Compile one straight-line structure function for a response model."""
    attrs.resolve_types(cls)
    namespace: dict[str, Any] = {
        "cls": cls,
        "Mapping": Mapping,
        "FieldError": FieldError,
        "_wrong": _wrong,
        "_json_kind": _json_kind,
        "_dt": _dt,
        "iso": datetime.fromisoformat,
    }
    lines = [
        "def structure(o, _):",
        # A decoded JSON object is a dict: the abstract ``Mapping`` check (slow) only for others.
        "    if o.__class__ is not dict and not isinstance(o, Mapping):",
        f"        raise FieldError('', 'expected a JSON object for {cls.__name__}, got ' + "
        "_json_kind(o))",
        "    g = o.get",
    ]
    arguments = []
    for index, field in enumerate(attrs.fields(cls)):
        if field.name == "raw":
            continue
        wire = wire_name(field)
        lines.append(f"    v = g({wire!r})")
        branches = _branches(index, wire, _strip_optional(field.type), namespace)

        def block(statement: str, indent: str = "        ") -> list[str]:
            return [indent + line for line in statement.splitlines()]

        if field.default is attrs.NOTHING:  # required: no None branch to chain onto
            lines.append("    if v is None:")
            lines.append(f"        raise FieldError({wire!r}, 'missing (or null)')")
            cond, statement = branches.pop(0)
            if cond:
                lines += [f"    if {cond}:", *block(statement)]
            else:
                lines += block(statement, "    ")
        else:
            lines += ["    if v is None:", f"        a{index} = None"]
        for cond, statement in branches:
            lines += [f"    elif {cond}:" if cond else "    else:", *block(statement)]
        arguments.append(f"{field.name}=a{index}")
    # The instance is filled through its slots' descriptors, as the attrs ``__init__`` would
    # (the models have no defaults to compute, converters or validators), at half the cost.
    namespace["new"] = object.__new__
    lines.append("    m = new(cls)")
    for argument in [*arguments, "raw=o"]:
        name, value = argument.split("=")
        namespace[f"set_{name}"] = cls.__dict__[name].__set__
        lines.append(f"    set_{name}(m, {value})")
    lines.append("    return m")
    exec(compile("\n".join(lines), f"<structure {cls.__qualname__}>", "exec"), namespace)
    structure: Callable[[Any, Any], Any] = namespace["structure"]
    return structure


def _model_unstructure(cls: Any) -> Callable[[Any], dict[str, Any]]:
    """Compile one ``to_dict`` function for a response model: camelCase keys, ``None`` left out."""
    attrs.resolve_types(cls)
    namespace: dict[str, Any] = {"fmt": format_datetime}
    lines = ["def to_dict(m):", "    out = {}"]
    for index, field in enumerate(attrs.fields(cls)):
        if field.name == "raw":
            continue
        wire = wire_name(field)
        tp = _strip_optional(field.type)
        lines.append(f"    v = m.{field.name}")
        if tp is Any or tp == JSON or tp in _PRIMITIVES:
            value = "v"
        elif tp is datetime:
            value = "fmt(v)"
        else:
            namespace[f"u{index}"] = converter.get_unstructure_hook(tp)
            value = f"u{index}(v)"
        lines.append(f"    if v is not None: out[{wire!r}] = {value}")
    lines.append("    return out")
    exec(compile("\n".join(lines), f"<to_dict {cls.__qualname__}>", "exec"), namespace)
    to_dict: Callable[[Any], dict[str, Any]] = namespace["to_dict"]
    return to_dict


def _input_value(value: Any) -> Any:
    if _is_input(type(value)):
        return converter.unstructure(value)
    if isinstance(value, list | tuple):
        return [_input_value(v) for v in value]
    return value  # checked (and datetimes normalised) by the method it is passed to


def _input_unstructure(cls: type[Any]) -> Callable[[Any], dict[str, Any]]:
    """An input class as a dict of its wire keys; fields left UNSET are left out."""
    fields = [(f.name, wire_name(f)) for f in attrs.fields(cls)]

    def to_wire(obj: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, wire in fields:
            value = getattr(obj, name)
            if not isinstance(value, Unset):
                out[wire] = _input_value(value)
        return out

    return to_wire


def _optional_structure(tp: Any) -> Callable[[Any, Any], Any]:
    inner = _strip_optional(tp)
    hook = converter.get_structure_hook(inner)

    def structure(value: Any, _: Any) -> Any:
        return None if value is None else hook(value, inner)

    return structure


def _is_tuple(tp: Any) -> bool:
    args = get_args(tp)
    return get_origin(tp) is tuple and len(args) == 2 and args[1] is Ellipsis


def _tuple_structure(tp: Any) -> Callable[[Any, Any], Any]:
    item = get_args(tp)[0]
    if item in _PRIMITIVES:
        expected = _KIND_NAMES[item]

        def primitives(value: Any, _: Any) -> tuple[Any, ...]:
            if value.__class__ is not list:
                raise FieldError("", f"expected an array, got {_json_kind(value)}")
            for index, x in enumerate(value):
                if x.__class__ is not item and not (item is float and x.__class__ is int):
                    raise _wrong(f"[{index}]", expected, x)
            return tuple(value)

        return primitives
    hook = converter.get_structure_hook(item)

    def structure(value: Any, _: Any) -> tuple[Any, ...]:
        if value.__class__ is not list:
            raise FieldError("", f"expected an array, got {_json_kind(value)}")
        try:
            return tuple([hook(x, item) for x in value])
        except FieldError:
            pass
        for index, x in enumerate(value):  # the slow path finds the item at fault
            try:
                hook(x, item)
            except FieldError as exc:
                raise exc.within(f"[{index}]") from None
        raise AssertionError("unreachable")  # pragma: no cover

    return structure


def _tuple_unstructure(tp: Any) -> Callable[[Any], list[Any]]:
    item = get_args(tp)[0]
    if item in _PRIMITIVES or item is Any or item == JSON:
        return list
    hook = converter.get_unstructure_hook(item)
    return lambda value: [hook(x) for x in value]


def _is_json_object(tp: Any) -> bool:
    return get_origin(tp) is dict and get_args(tp) == (str, JSON)


def _json_object_structure(tp: Any) -> Callable[[Any, Any], Any]:
    def structure(value: Any, _: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise FieldError("", f"expected a JSON object, got {_json_kind(value)}")
        return value

    return structure


converter.register_structure_hook_factory(_is_json_object, _json_object_structure)
converter.register_structure_hook_factory(_is_tuple, _tuple_structure)
converter.register_unstructure_hook_factory(_is_tuple, _tuple_unstructure)
converter.register_structure_hook_factory(_is_optional, _optional_structure)
converter.register_structure_hook_factory(_is_model, _model_structure)
converter.register_unstructure_hook_factory(_is_model, _model_unstructure)
converter.register_unstructure_hook_factory(_is_input, _input_unstructure)


def _problem(exc: Exception) -> str:
    """What a structure error says, as text: the error itself is not kept (see :func:`decode`)."""
    if isinstance(exc, FieldError):
        field = exc.path.lstrip(".")
        return f"field {field!r}: {exc.problem}" if field else exc.problem
    return str(exc)


Redact = Callable[[str], str] | None
"""Hides the API key in text taken from an answer (``RawResponse.redact``); ``None``: as is."""


def _decode_error(
    detail: str,
    status: int,
    data: Any,
    cls_name: str,
    method: str,
    path: str,
    where: str = "",
    redact: Redact = None,
) -> ResponseDecodeError:
    message = f"response{where} is not a valid {cls_name} ({detail})"
    return _error(message, status, data, method, path, redact)


def _error(
    message: str, status: int, data: Any, method: str, path: str, redact: Redact
) -> ResponseDecodeError:
    """A decode error whose message and snippet (taken from the answer) hide the key."""
    snippet = repr(data)
    if redact is not None:
        message, snippet = redact(message), redact(snippet)
    return ResponseDecodeError(
        message, status=status, snippet=snippet[:200], method=method, url=path
    )


_STRUCTURE: dict[Any, Callable[[Any, Any], Any]] = {}


def decode(
    status: int, data: Any, cls: type[T], method: str, path: str, *, redact: Redact = None
) -> T:
    """Build ``cls`` from a decoded JSON body, or raise :class:`ResponseDecodeError`."""
    # The error is raised outside the ``except`` block, so that nothing is chained to it
    # (``from None`` would only hide the context): the structure error holds parts of the body.
    structure = _STRUCTURE.get(cls)
    if structure is None:
        structure = _STRUCTURE[cls] = converter.get_structure_hook(cls)
    try:
        return structure(data, cls)  # type: ignore[no-any-return]
    except Exception as exc:
        detail = _problem(exc)
    raise _decode_error(detail, status, data, cls.__name__, method, path, redact=redact)


def decode_list(
    status: int, data: Any, cls: type[T], method: str, path: str, *, redact: Redact = None
) -> list[T]:
    """Build a list of ``cls`` from a JSON array of objects."""
    if not isinstance(data, list):
        detail = f"expected a JSON array, got {_json_kind(data)}"
        name = f"list of {cls.__name__}"
        raise _decode_error(detail, status, data, name, method, path, redact=redact)
    structure = converter.get_structure_hook(cls)
    try:
        return [structure(item, cls) for item in data]
    except Exception:
        pass
    for index, item in enumerate(data):  # the slow path finds the item at fault
        try:
            structure(item, cls)
        except Exception as exc:
            detail = _problem(exc)
        else:
            continue
        where = f" item {index}"
        raise _decode_error(detail, status, item, cls.__name__, method, path, where, redact)
    raise AssertionError("unreachable")  # pragma: no cover


def decode_one_or_many(
    status: int, data: Any, cls: type[T], method: str, path: str, *, redact: Redact = None
) -> list[T]:
    """Build a list of ``cls`` from a JSON array of objects, or from one object (one item).

    For operations whose spec declares one object but describes a list. Only the fields the
    model names are read: a single object is one item, whatever else it carries (in ``raw``).
    """
    if not isinstance(data, list):
        return [decode(status, data, cls, method, path, redact=redact)]
    return decode_list(status, data, cls, method, path, redact=redact)


def decode_strings(
    status: int, data: Any, method: str, path: str, *, redact: Redact = None
) -> list[str]:
    """A JSON array of strings, as a list."""
    if isinstance(data, list) and all(x.__class__ is str for x in data):
        return data
    raise _error("response is not a JSON array of strings", status, data, method, path, redact)


def decode_string_map(
    status: int, data: Any, method: str, path: str, *, redact: Redact = None
) -> dict[str, str]:
    """A JSON object whose values are strings, as a dict."""
    if isinstance(data, dict) and all(x.__class__ is str for x in data.values()):
        return data
    raise _error("response is not a JSON object of strings", status, data, method, path, redact)


_TO_DICT: dict[type, Callable[[Any], dict[str, Any]]] = {}


def to_dict(model: Any) -> dict[str, JSON]:
    """The API's own JSON object for a response model (camelCase keys, ``None`` left out)."""
    cls = model.__class__
    function = _TO_DICT.get(cls)
    if function is None:
        function = _TO_DICT[cls] = converter.get_unstructure_hook(cls)
    return function(model)
