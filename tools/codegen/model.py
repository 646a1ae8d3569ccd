"""The plain data model every renderer works from: operations, parameters, types, models."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class TypeRef:
    """A LAP type: ``kind`` is str/int/num/bool/any/map/object/array.

    ``text`` is the spec's own spelling (``str(email)``, ``map{a: str}``), kept for the registry.
    """

    kind: str
    text: str = field(compare=False)
    format: str | None = None
    enum: tuple[str, ...] = ()
    fields: tuple[FieldDef, ...] = ()
    items: TypeRef | None = None
    ref: str | None = None  # the OpenAPI schema an object comes from, when it has a name
    # Constraints of request values (from the OpenAPI file): the published rules.
    min_length: int | None = None
    pattern: str | None = None
    closed: bool = False  # an object with ``additionalProperties: false``


@dataclass(frozen=True)
class FieldDef:
    """One field of an object type (or one LAP ``@required``/``@optional`` entry)."""

    name: str
    type: TypeRef
    required: bool = False
    default: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class Param:
    """One argument of an operation, as the generated method exposes it."""

    name: str
    python_name: str
    location: str  # "path" | "query" | "body"
    required: bool
    type: TypeRef
    default: str | None = None
    description: str | None = None
    pattern: str | None = None
    min_length: int | None = None
    accept_int: bool = False
    typed_name: str | None = None  # TypedDict / model name for maps and arrays of models


@dataclass(frozen=True)
class Response:
    status: int
    description: str
    schema: TypeRef | None
    model: str | None = None  # attrs model decoded from the body
    # "one": the body is one model. "list": a JSON array of models. "one_or_many": the spec
    # declares one object but describes a list, so a JSON array of them or one object is
    # accepted and a list returned. "strings": an array of strings. "string_map": an object of
    # strings. "json": no shape described, the JSON as decoded.
    shape: str = "one"


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    group: str
    attr: str  # dotted path from the client, e.g. "offerings.users.list"
    summary: str
    params: tuple[Param, ...]
    responses: tuple[Response, ...]
    errors: tuple[tuple[int, str], ...]
    body_kind: str | None = None  # None | "object" | "array"
    multi_status: str | None = None  # result type name when the API may answer 207
    description: str | None = None  # the OpenAPI operation's description
    body_closed: bool = False  # the object body is ``additionalProperties: false``
    # Body arguments sent with a value of the method's own, not taken as arguments:
    # (python_name, value). The parameters stay in ``params`` (they are the wire's).
    fixed: tuple[tuple[str, object], ...] = ()
    # Sibling methods of the same operation sending other ``fixed`` values:
    # (name, ((python_name, value), ...), summary).
    shortcuts: tuple[tuple[str, tuple[tuple[str, object], ...], str], ...] = ()

    @property
    def arguments(self) -> tuple[Param, ...]:
        """The method's arguments: ``params`` less those ``fixed``."""
        fixed = {name for name, _ in self.fixed}
        return tuple(p for p in self.params if p.python_name not in fixed)

    @property
    def resource(self) -> str:
        return self.attr.rsplit(".", 1)[0]

    @property
    def method_name(self) -> str:
        return self.attr.rsplit(".", 1)[1]

    @property
    def success(self) -> Response:
        return self.responses[0]


@dataclass(frozen=True)
class ModelDef:
    """An attrs model (``kind="response"``/``"input"``) or a TypedDict (``kind="param"``)."""

    name: str
    kind: str
    fields: tuple[FieldDef, ...]
    doc: str
    openapi_name: str | None = None
    nested: dict[str, str] = field(default_factory=dict)  # field name -> model name


@dataclass(frozen=True)
class Resource:
    attr: str  # dotted, e.g. "offerings.users"
    class_name: str
    doc: str


@dataclass(frozen=True)
class Api:
    title: str
    version: str
    base_url: str
    operations: tuple[Operation, ...]
    models: tuple[ModelDef, ...]
    resources: tuple[Resource, ...]
    error_names: dict[int, str]
    groups: tuple[str, ...]
