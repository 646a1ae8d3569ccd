"""The base class of every response model: back to the API's JSON, and from it."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, TypeVar

from ._converter import decode, to_dict
from ._types import JSON

M = TypeVar("M", bound="Model")


class Model:
    """A frozen attrs model of an API answer (generated in ``types.models``).

    ``raw`` holds the payload as received, unknown fields included; :meth:`to_dict` gives the
    API's own camelCase JSON of the fields the model knows (``None`` fields left out), so
    ``Model.from_dict(m.to_dict()) == m``.
    """

    __slots__ = ()

    raw: Mapping[str, JSON]
    """The payload as received, unknown fields included (set by every model)."""

    def to_dict(self) -> dict[str, JSON]:
        """The API's JSON object for this model: camelCase keys, RFC 3339 UTC date-times."""
        return to_dict(self)

    def to_json(self, **dumps_options: Any) -> str:
        """:meth:`to_dict` as a JSON string (``json.dumps`` options may be given)."""
        dumps_options.setdefault("ensure_ascii", False)
        return json.dumps(self.to_dict(), **dumps_options)

    @classmethod
    def from_dict(cls: type[M], data: object) -> M:
        """Build the model from the API's JSON; a value that does not fit raises
        :class:`~iqualify_async.ResponseDecodeError` naming the field."""
        return decode(200, data, cls, f"{cls.__name__}.from_dict", "")
