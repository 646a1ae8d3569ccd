"""Every response model survives the trip to the API's JSON and back: decode(to_dict(m)) == m."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import cache
from types import NoneType, UnionType
from typing import Any, Union, get_args, get_origin

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iqualify_async import types
from iqualify_async._types import JSON
from iqualify_async.types import models

MODELS = [getattr(models, name) for name in models.__all__]

JSON_VALUES: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)


def _strategy(tp: Any) -> st.SearchStrategy[Any]:
    if tp == JSON:
        return JSON_VALUES
    if get_origin(tp) in (Union, UnionType) and NoneType in get_args(tp):
        (inner,) = [a for a in get_args(tp) if a is not NoneType]
        return st.none() | _strategy(inner)
    if get_origin(tp) is tuple:
        return st.lists(_strategy(get_args(tp)[0]), max_size=3).map(tuple)
    if get_origin(tp) is dict:
        return st.dictionaries(st.text(max_size=5), JSON_VALUES, max_size=3)
    if tp is str:
        return st.text(max_size=10)
    if tp is bool:
        return st.booleans()
    if tp is int:
        return st.integers(-(2**53), 2**53)
    if tp is float:
        return st.floats(allow_nan=False, allow_infinity=False)
    if tp is datetime:
        return st.datetimes(
            min_value=datetime(1000, 1, 1), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)
        )
    if attrs.has(tp):
        return _model(tp)
    raise AssertionError(f"no strategy for {tp!r}")


@cache
def _model(cls: type) -> st.SearchStrategy[Any]:
    attrs.resolve_types(cls)
    fields = {
        f.name: st.deferred(lambda f=f: _strategy(f.type))
        for f in attrs.fields(cls)
        if f.name != "raw"
    }
    return st.builds(cls, **fields)


def test_every_model_is_exported_and_converts() -> None:
    assert len(MODELS) > 60
    for cls in MODELS:
        assert getattr(types, cls.__name__) is cls
        assert issubclass(cls, types.Model)


@pytest.mark.parametrize("cls", MODELS, ids=[m.__name__ for m in MODELS])
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_decode_of_to_dict_is_the_same_model(cls: type[types.Model], data: st.DataObject) -> None:
    model = data.draw(_model(cls))
    wire = model.to_dict()
    again = cls.from_dict(json.loads(json.dumps(wire)))
    assert again == model
    assert again.to_dict() == wire
