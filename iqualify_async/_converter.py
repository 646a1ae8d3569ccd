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
from cattrs.gen import make_dict_structure_fn, override

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


def _model_structure(cls: Any) -> Callable[[Any, Any], Any]:
    overrides: dict[str, Any] = {
        f.name: override(omit=True) if f.name == "raw" else override(rename=wire_name(f))
        for f in attrs.fields(cls)
    }
    build = make_dict_structure_fn(cls, converter, **overrides)
    setattr_ = object.__setattr__

    def structure(value: Any, _: Any) -> Any:
        if not isinstance(value, Mapping):
            raise TypeError(
                f"expected a JSON object for {cls.__name__}, got {type(value).__name__}"
            )
        obj = build(value, cls)
        setattr_(obj, "raw", value)
        return obj

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
    hook = converter.get_structure_hook(inner)

    def structure(value: Any, _: Any) -> Any:
        return None if value is None else hook(value, inner)

    return structure


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
