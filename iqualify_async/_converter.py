"""The one cattrs converter: how response models are built from JSON and inputs are sent.

Response models are frozen attrs classes whose fields all default to ``None`` and that carry
a ``raw`` field with the payload they came from. Their structure functions are compiled once
per class on first use (cattrs' generated code, no reflection per call); JSON keys are the
camelCase ``wire`` names stored in field metadata, unknown keys are ignored.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from types import NoneType, UnionType
from typing import Any, Final, TypeVar, Union, get_args, get_origin

import attrs
import cattrs

from ._types import Unset
from .errors import ResponseDecodeError

T = TypeVar("T")

converter: Final = cattrs.Converter(detailed_validation=False)


def _structure_datetime(value: Any, _: type) -> datetime:
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise TypeError(f"expected an ISO 8601 string, got {type(value).__name__}")
    return datetime.fromisoformat(value)


def _unstructure_datetime(value: datetime) -> str:
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


converter.register_structure_hook(datetime, _structure_datetime)
converter.register_unstructure_hook(datetime, _unstructure_datetime)
converter.register_structure_hook(Any, lambda value, _: value)


def wire_name(field: attrs.Attribute[Any]) -> str:
    """The JSON key of a model field."""
    return str(field.metadata.get("wire", field.name))


def _is_model(cls: Any) -> bool:
    return isinstance(cls, type) and attrs.has(cls) and "raw" in attrs.fields_dict(cls)


def _is_input(cls: Any) -> bool:
    return isinstance(cls, type) and attrs.has(cls) and getattr(cls, "__iq_input__", False)


_PRIMITIVES: Final = (str, int, float, bool)


def _model_structure(cls: Any) -> Callable[[Any, Any], Any]:
    """Compile one straight-line structure function for a response model.

    Each field reads its wire key once; ``str``/``int``/``float``/``bool`` values of the right
    class are taken as they are, everything else goes through the converter's hook for the
    field's type, looked up here once rather than on every call.
    """
    attrs.resolve_types(cls)
    namespace: dict[str, Any] = {"cls": cls, "Mapping": Mapping, "TypeError": TypeError}
    lines = [
        "def structure(o, _):",
        "    if not isinstance(o, Mapping):",
        "        raise TypeError(f'expected a JSON object for {cls.__name__}, "
        "got {type(o).__name__}')",
        "    g = o.get",
    ]
    arguments = []
    for index, field in enumerate(attrs.fields(cls)):
        if field.name == "raw":
            continue
        tp = field.type
        if _is_optional(tp):
            tp = next(arg for arg in get_args(tp) if arg is not NoneType)
        lines.append(f"    v = g({wire_name(field)!r})")
        if tp is Any:
            lines.append(f"    a{index} = v")
        elif tp in _PRIMITIVES:
            namespace[f"t{index}"] = tp
            lines.append(
                f"    a{index} = v if v is None or v.__class__ is t{index} else t{index}(v)"
            )
        else:
            namespace[f"t{index}"] = tp
            namespace[f"h{index}"] = converter.get_structure_hook(tp)
            lines.append(f"    a{index} = None if v is None else h{index}(v, t{index})")
        arguments.append(f"{field.name}=a{index}")
    lines.append(f"    return cls({', '.join([*arguments, 'raw=o'])})")
    exec(compile("\n".join(lines), f"<structure {cls.__qualname__}>", "exec"), namespace)
    structure: Callable[[Any, Any], Any] = namespace["structure"]
    return structure


def _input_unstructure(cls: type[Any]) -> Callable[[Any], dict[str, Any]]:
    fields = [(f.name, wire_name(f)) for f in attrs.fields(cls)]
    unstructure = converter.unstructure

    def to_wire(obj: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, wire in fields:
            value = getattr(obj, name)
            if not isinstance(value, Unset):
                out[wire] = unstructure(value)
        return out

    return to_wire


def _is_optional(tp: Any) -> bool:
    return (
        get_origin(tp) in (Union, UnionType) and len(get_args(tp)) == 2 and NoneType in get_args(tp)
    )


def _optional_structure(tp: Any) -> Callable[[Any, Any], Any]:
    # cattrs' generic union handling re-dispatches on every call; every model field is
    # ``T | None``, so resolving T's hook once halves the cost of decoding a model.
    inner = next(arg for arg in get_args(tp) if arg is not NoneType)
    if inner in (str, int, float, bool):

        def primitive(value: Any, _: Any) -> Any:
            if value is None or value.__class__ is inner:
                return value
            return inner(value)

        return primitive
    hook = converter.get_structure_hook(inner)

    def structure(value: Any, _: Any) -> Any:
        return None if value is None else hook(value, inner)

    return structure


def _is_primitive_tuple(tp: Any) -> bool:
    args = get_args(tp)
    return (
        get_origin(tp) is tuple
        and len(args) == 2
        and args[1] is Ellipsis
        and args[0] in _PRIMITIVES
    )


def _primitive_tuple_structure(tp: Any) -> Callable[[Any, Any], Any]:
    item = get_args(tp)[0]

    def structure(value: Any, _: Any) -> tuple[Any, ...]:
        if isinstance(value, str | bytes | Mapping):
            raise TypeError(f"expected a JSON array, got {type(value).__name__}")
        return tuple(map(item, value))

    return structure


converter.register_structure_hook_factory(_is_primitive_tuple, _primitive_tuple_structure)
converter.register_structure_hook_factory(_is_optional, _optional_structure)
converter.register_structure_hook_factory(_is_model, _model_structure)
converter.register_unstructure_hook_factory(_is_input, _input_unstructure)


def decode(status: int, data: Any, cls: type[T], method: str, path: str) -> T:
    """Build ``cls`` from a decoded JSON body, or raise :class:`ResponseDecodeError`."""
    try:
        return converter.structure(data, cls)
    except Exception as exc:
        raise ResponseDecodeError(
            f"response is not a valid {cls.__name__} ({exc})",
            status=status,
            snippet=repr(data)[:200],
            method=method,
            url=path,
        ) from None


def decode_one_or_many(status: int, data: Any, cls: type[T], method: str, path: str) -> list[T]:
    """Build a list of ``cls`` from a JSON array of objects, or from one object (one item).

    For operations whose spec declares one object but describes a list. Only the fields the
    model names are read: a single object is one item, whatever else it carries (in ``raw``).
    """
    structure = converter.get_structure_hook(cls)
    if not isinstance(data, list):
        return [decode(status, data, cls, method, path)]
    items = []
    for index, item in enumerate(data):
        try:
            items.append(structure(item, cls))
        except Exception as exc:
            raise ResponseDecodeError(
                f"response item {index} is not a valid {cls.__name__} ({exc})",
                status=status,
                snippet=repr(item)[:200],
                method=method,
                url=path,
            ) from None
    return items
