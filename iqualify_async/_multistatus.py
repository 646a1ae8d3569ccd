"""Per-item results of adding users to an offering (answers 201 and 207).

The API answers ``POST /offerings/{offeringId}/users`` with 201 and one added user per input,
or with 207 and, per input, either the added user or an error. :func:`add_users_result` pairs
every input with its outcome so that successes are never hidden behind an exception.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import attrs

from ._base_client import RawResponse
from ._converter import converter, decode, wire_name
from ._error_envelope import read_error
from .errors import ParameterError, ResponseDecodeError
from .types.models import OfferingUserAdded
from .types.params import OfferingUserInput

Outcome = Literal["succeeded", "failed", "unknown"]


@attrs.frozen(slots=True)
class ErrorDetail:
    """An error the API reported for one item: its ``name`` and ``details``."""

    name: str | None
    details: Any
    raw: Any = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen(slots=True)
class AddUserOutcome:
    """What happened to one input user.

    ``status`` is ``"succeeded"`` (``user`` holds the API's record), ``"failed"`` (``error``
    says why) or ``"unknown"`` (the answer had no entry for this input; check before retrying).
    """

    index: int
    input: OfferingUserInput
    status: Outcome
    user: OfferingUserAdded | None = None
    error: ErrorDetail | None = None

    @property
    def ok(self) -> bool:
        return self.status == "succeeded"

    def to_dict(self) -> dict[str, Any]:
        """This outcome as JSON: what was sent (camelCase), what happened, the record or error."""
        error = self.error
        return {
            "index": self.index,
            "input": converter.unstructure(self.input),
            "status": self.status,
            "user": None if self.user is None else self.user.to_dict(),
            "error": None if error is None else {"name": error.name, "details": error.details},
        }


@attrs.frozen(slots=True)
class AddUsersResult:
    """Outcomes of one add-users call, one per input and in input order.

    ``status`` is the HTTP status (201: all added; 207: some may have failed).
    """

    status: int
    items: tuple[AddUserOutcome, ...]

    @property
    def succeeded(self) -> tuple[AddUserOutcome, ...]:
        return tuple(i for i in self.items if i.status == "succeeded")

    @property
    def failed(self) -> tuple[AddUserOutcome, ...]:
        return tuple(i for i in self.items if i.status == "failed")

    @property
    def unknown(self) -> tuple[AddUserOutcome, ...]:
        return tuple(i for i in self.items if i.status == "unknown")

    @property
    def all_succeeded(self) -> bool:
        return all(i.status == "succeeded" for i in self.items)

    def __len__(self) -> int:
        return len(self.items)

    def to_dict(self) -> dict[str, Any]:
        """This result as JSON: the status and, per input, :meth:`AddUserOutcome.to_dict`."""
        return {"status": self.status, "items": [item.to_dict() for item in self.items]}

    def to_json(self, **dumps_options: Any) -> str:
        """:meth:`to_dict` as a JSON string (``json.dumps`` options may be given)."""
        dumps_options.setdefault("ensure_ascii", False)
        return json.dumps(self.to_dict(), **dumps_options)


def _error_of(item: Mapping[str, Any]) -> ErrorDetail | None:
    """The error an item reports (either envelope shape, see :func:`read_error`), or ``None``
    for a success: an item naming an ``email`` and no ``error``."""
    if "email" in item and "error" not in item:
        return None
    fields = read_error(item)
    return None if fields is None else ErrorDetail(*fields, raw=item)


def add_users_result(
    response: RawResponse, inputs: Sequence[OfferingUserInput], method: str, path: str
) -> AddUsersResult:
    """Pair each input with its outcome.

    An answer item naming an email (a success's ``email``; an error's ``email`` beside it or in
    its details, or the one input email its details mention) goes to the input with that email
    (case-insensitive), whatever its position. Items naming no email go by position, and only
    when the answer is consistent with that: one item per input, and every item that names an
    email standing at its own input's position. Anything else (an email not asked for, a
    reordered answer, an error naming no one) is given to no one, and inputs left without an
    item are ``"unknown"``, to be checked (e.g. by reading the offering's members) before any
    retry.
    """
    data = response.data
    if not isinstance(data, list):
        snippet = response.redact(repr(data))[:200]
        raise ResponseDecodeError(
            "expected a JSON array of per-user results",
            status=response.status,
            snippet=snippet,
            method=method,
            url=path,
        )
    parsed: list[tuple[OfferingUserAdded | None, ErrorDetail | None]] = []
    for item in data:
        if not isinstance(item, Mapping):
            parsed.append((None, ErrorDetail(None, item, item)))
            continue
        error = _error_of(item)
        if error is not None:
            parsed.append((None, error))
        else:
            parsed.append(
                (
                    decode(
                        response.status,
                        item,
                        OfferingUserAdded,
                        method,
                        path,
                        redact=response.redact,
                    ),
                    None,
                )
            )

    free: dict[str, list[int]] = {}
    for i, inp in enumerate(inputs):
        free.setdefault(inp.email.casefold(), []).append(i)
    outcomes: list[AddUserOutcome | None] = [None] * len(inputs)
    unnamed: list[int] = []  # positions of answer items that name no email
    in_place = len(parsed) == len(inputs)
    for position, (user, error) in enumerate(parsed):
        email = user.email if user is not None else _email_of(error, free)
        if not email:
            unnamed.append(position)
            continue
        waiting = free.get(email.casefold())
        if not waiting:
            in_place = False  # an email not asked for (or twice): the answer cannot be trusted
            continue
        i = waiting.pop(0)
        in_place = in_place and i == position
        outcomes[i] = _outcome(i, inputs[i], user, error)
    if in_place:
        for position in unnamed:
            if outcomes[position] is None:
                user, error = parsed[position]
                outcomes[position] = _outcome(position, inputs[position], user, error)
    return AddUsersResult(
        response.status,
        tuple(
            o if o is not None else AddUserOutcome(i, inputs[i], "unknown")
            for i, o in enumerate(outcomes)
        ),
    )


def _email_of(error: ErrorDetail | None, inputs: Mapping[str, list[int]]) -> str | None:
    """The input email an error names, if it names exactly one."""
    if error is None:
        return None
    for holder in (error.raw, error.details):
        if isinstance(holder, Mapping) and isinstance(holder.get("email"), str):
            return str(holder["email"])
    text = error.details if isinstance(error.details, str) else None
    if text is None:
        return None
    folded = text.casefold()
    named = [
        email
        for email in inputs
        if email in folded and re.search(rf"(?<![\w.+-]){re.escape(email)}(?![\w-])", folded)
    ]
    return named[0] if len(named) == 1 else None


def _outcome(
    index: int, inp: OfferingUserInput, user: OfferingUserAdded | None, error: ErrorDetail | None
) -> AddUserOutcome:
    if user is not None:
        return AddUserOutcome(index, inp, "succeeded", user=user)
    return AddUserOutcome(index, inp, "failed", error=error)


def _input_from_wire(wire: Mapping[str, Any]) -> OfferingUserInput:
    names = {wire_name(f): f.name for f in attrs.fields(OfferingUserInput)}
    return OfferingUserInput(**{names[k]: v for k, v in wire.items() if k in names})


def to_inputs(value: object, name: str) -> list[tuple[OfferingUserInput, dict[str, Any]]]:
    """Check an add-users body: each item an :class:`OfferingUserInput` or a mapping of its
    wire (camelCase) fields; returns each input with its JSON object."""
    from . import _validation as v
    from .types.params import OFFERING_USER_INPUT_FIELDS

    out = []
    for i, item in enumerate(v.sequence(value, name)):
        label = f"{name}[{i}]"
        if isinstance(item, OfferingUserInput):
            wire = converter.unstructure(item)
        elif isinstance(item, Mapping):
            wire = dict(item)
        else:
            raise ParameterError(
                label, f"must be an OfferingUserInput or a mapping, got {type(item).__name__}"
            )
        checked = v.mapping(wire, label, OFFERING_USER_INPUT_FIELDS, required=("email",))
        assert checked is not None
        v.string(checked["email"], f"{label}.email", email=True)
        inp = item if isinstance(item, OfferingUserInput) else _input_from_wire(checked)
        out.append((inp, checked))
    return out
