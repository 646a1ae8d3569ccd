"""LAP spec + overlay -> the plain :class:`~tools.codegen.model.Api` model."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import yaml

from . import lap
from .model import Api, FieldDef, ModelDef, Operation, Param, Resource, Response, TypeRef
from .openapi_types import OpenApiTypes

ROOT = Path(__file__).resolve().parents[2]
SPEC_DIR = ROOT / "spec"
LAP_FILE = SPEC_DIR / "iqualify-management-v1.lap"
OPENAPI_FILE = SPEC_DIR / "iqualify-openapi-v1.yaml"
OVERLAY_FILE = SPEC_DIR / "overlay.yaml"

_BODY_METHODS = ("POST", "PUT", "PATCH")
_SHAPES = ("one", "one_or_many")
# Fields that identify an object: never optional in an answer, a missing one is a decode error.
IDENTITY_FIELDS = ("id", "email")


class SpecError(ValueError):
    """The spec and overlay disagree or the overlay is incomplete."""


def snake(name: str) -> str:
    name = name.lstrip("$").replace("-", "_")
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def pascal(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[_\-]", name) if part)


def _describes_list(description: str) -> bool:
    return re.search(r"\blist\b", description, re.IGNORECASE) is not None


def _check_openapi(openapi: dict[str, Any], ref: str) -> None:
    """``ref`` is "Name" (a schema) or "section.Name" (another component section)."""
    section, _, name = ref.rpartition(".")
    if name not in openapi["components"][section or "schemas"]:
        raise SpecError(f"overlay cites OpenAPI component {ref!r}, which does not exist")


class _Models:
    """Collects attrs models and TypedDicts, checking that one name means one shape."""

    def __init__(self, docs: dict[str, dict[str, Any]], openapi_names: dict[str, Any]) -> None:
        self.docs = docs
        self.defs: dict[str, ModelDef] = {}
        self.wanted: set[str] = set()  # LAP models that OpenAPI answers refer to
        # OpenAPI schema name -> (Python name, docstring).
        self.names: dict[str, tuple[str, str | None]] = {
            info["openapi"]: (name, None)
            for name, info in docs.items()
            if info.get("openapi") and "." not in info["openapi"]
        }
        for schema, info in openapi_names.items():
            if schema in self.names:
                raise SpecError(f"OpenAPI schema {schema!r} is named twice in the overlay")
            self.names[schema] = (info["name"], info.get("doc"))

    def name_of(self, ref: str) -> str:
        return self.names.get(ref, (ref.removesuffix("Response"), None))[0]

    def add_ref(self, t: TypeRef, kind: str, *, doc: str | None = None) -> str:
        """The model for a named OpenAPI object (added on first use)."""
        assert t.ref is not None
        name, own_doc = self.names.get(t.ref, (self.name_of(t.ref), None))
        if name in self.docs:  # a model the LAP file describes: its fields win
            self.wanted.add(name)
            return name
        return self.add(name, kind, t.fields, doc=doc or own_doc, openapi_name=t.ref)

    def add(
        self,
        name: str,
        kind: str,
        fields: tuple[FieldDef, ...],
        *,
        nested: dict[str, str] | None = None,
        doc: str | None = None,
        openapi_name: str | None = None,
    ) -> str:
        nested = {**self.docs.get(name, {}).get("nested", {}), **(nested or {})}
        if kind == "response":
            fields = tuple(
                dataclasses.replace(f, required=True) if f.name in IDENTITY_FIELDS else f
                for f in fields
            )
        for f in fields:
            obj = f.type.items if f.type.kind == "array" and f.type.items else f.type
            if obj.kind != "object":
                continue
            sub_kind = "param" if kind in ("param", "input") else kind
            if obj.ref and kind == "response" and f.name not in nested:
                nested[f.name] = self.add_ref(obj, sub_kind)
                continue
            if f.name not in nested:
                suffix = "Param" if kind == "param" else ""
                base = name.removesuffix("Param") if kind == "param" else name
                item = "Item" if obj is not f.type else ""
                nested[f.name] = base + pascal(f.name) + item + suffix
            self.add(nested[f.name], sub_kind, obj.fields, doc=f"``{f.name}`` of {name}.")
        info = self.docs.get(name, {})
        model = ModelDef(
            name,
            kind,
            fields,
            doc or info.get("doc") or name,
            openapi_name or info.get("openapi"),
            {k: v for k, v in nested.items() if any(f.name == k for f in fields)},
        )
        old = self.defs.get(name)
        if old is not None and (_shape(old.fields), old.kind) != (_shape(model.fields), model.kind):
            raise SpecError(f"model {name!r} is used for two different shapes")
        self.defs.setdefault(name, model)
        return name


def _shape(fields: tuple[FieldDef, ...]) -> tuple[tuple[str, TypeRef, bool], ...]:
    return tuple((f.name, f.type, f.required) for f in fields)


def build() -> Api:
    spec = lap.parse(LAP_FILE.read_text(encoding="utf-8"))
    overlay = yaml.safe_load(OVERLAY_FILE.read_text(encoding="utf-8"))
    openapi = yaml.safe_load(OPENAPI_FILE.read_text(encoding="utf-8"))

    for info in list(overlay["models"].values()) + list(overlay["extra_models"].values()):
        if info.get("openapi"):
            _check_openapi(openapi, info["openapi"])
    for pinfo in overlay["params"].values():
        if pinfo.get("openapi"):
            _check_openapi(openapi, pinfo["openapi"])

    if len(spec.endpoints) != spec.declared_count:
        raise SpecError(f"LAP declares {spec.declared_count} endpoints, has {len(spec.endpoints)}")

    models = _Models(overlay["models"], overlay.get("openapi_models", {}))
    oa = OpenApiTypes(openapi, overlay.get("openapi_corrections", {}))
    for name, info in overlay["extra_models"].items():
        fields = tuple(
            FieldDef(f.name, f.type, f.name in info.get("required", ()), f.default, f.description)
            for f in lap.parse_fields(info["fields"].strip()[1:-1], required=False)
        )
        if info["kind"] == "input" and info.get("openapi"):
            whole = TypeRef("object", info["fields"], fields=fields)
            fields = oa.constrain(whole, {"$ref": f"#/components/schemas/{info['openapi']}"}).fields
        models.add(
            name,
            info["kind"],
            fields,
            nested=info.get("nested"),
            doc=info["doc"],
            openapi_name=info.get("openapi"),
        )

    op_overlay: dict[str, dict[str, Any]] = overlay["operations"]
    seen: set[str] = set()
    operations: list[Operation] = []
    for ep in spec.endpoints:
        key = f"{ep.method} {ep.path}"
        if key not in op_overlay:
            raise SpecError(f"overlay has no entry for {key}")
        seen.add(key)
        operations.append(_operation(ep, op_overlay[key], overlay, models, oa))
    extra = set(op_overlay) - seen
    if extra:
        raise SpecError(f"overlay names operations the LAP file lacks: {sorted(extra)}")

    missing = models.wanted - set(models.defs)
    if missing:
        raise SpecError(f"OpenAPI answers use LAP models no operation defines: {sorted(missing)}")
    resources = tuple(
        Resource(attr, info["class"], info["doc"]) for attr, info in overlay["resources"].items()
    )
    known = {r.attr for r in resources}
    attrs_seen: set[str] = set()
    for op in operations:
        if op.resource not in known:
            raise SpecError(f"{op.attr}: resource {op.resource!r} missing from overlay")
        if op.attr in attrs_seen:
            raise SpecError(f"two operations share the attribute {op.attr!r}")
        attrs_seen.add(op.attr)

    groups = tuple(dict.fromkeys(spec.groups))
    errors = {int(k): str(v) for k, v in overlay["errors"].items()}
    return Api(
        spec.api,
        spec.version,
        spec.base,
        tuple(operations),
        tuple(models.defs.values()),
        resources,
        errors,
        groups,
    )


def _openapi_answer(ep: lap.LapEndpoint, t: TypeRef, models: _Models) -> tuple[str | None, str]:
    """(model, shape) of an answer only the OpenAPI file describes."""
    where = f"{ep.method} {ep.path}"
    if t.kind == "object" and t.ref:
        return models.add_ref(t, "response"), "one"
    if t.kind == "object":
        # An unnamed object answer: named after the operation in the overlay.
        raise SpecError(f"{where}: name the inline OpenAPI answer under `openapi_answers`")
    if t.kind == "array" and t.items is not None:
        if t.items.kind == "object" and t.items.ref:
            return models.add_ref(t.items, "response"), "list"
        if t.items.kind == "str":
            return None, "strings"
    if t.kind == "map" and t.items is not None and t.items.kind == "str":
        return None, "string_map"
    if t.kind in ("map", "any"):
        return None, "json"
    raise SpecError(f"{where}: no Python shape for the OpenAPI answer {t.text!r}")


def _operation(
    ep: lap.LapEndpoint,
    info: dict[str, Any],
    overlay: dict[str, Any],
    models: _Models,
    oa: OpenApiTypes,
) -> Operation:
    path_names = re.findall(r"\{([^}]+)\}", ep.path)
    body_fields = set(info.get("body_fields", ()))
    maps: dict[str, str] = info.get("maps", {})
    params: list[Param] = []
    fields = ep.required + ep.optional
    by_name = {f.name: f for f in fields}
    # Path parameters first, in template order, then the rest as the LAP lists them.
    ordered = [by_name[n] for n in path_names] + [f for f in fields if f.name not in path_names]
    if set(path_names) - set(by_name):
        raise SpecError(f"{ep.method} {ep.path}: path parameter without a LAP entry")
    has_body = False
    body_schema = oa.request_body(ep.method, ep.path) or {}
    body_props = body_schema.get("properties", {})
    for f in ordered:
        if f.name in path_names:
            location = "path"
        elif ep.method in _BODY_METHODS or f.name in body_fields:
            location = "body"
            has_body = True
        else:
            location = "query"
        pinfo = overlay["params"].get(f.name, {})
        typed_name = None
        ftype = oa.constrain(f.type, body_props.get(f.name)) if location == "body" else f.type
        if pinfo.get("format") and ftype.kind == "str":
            ftype = dataclasses.replace(
                ftype, format=pinfo["format"], text=f"str({pinfo['format']})"
            )
        if ftype.kind == "object":
            if f.name not in maps:
                raise SpecError(f"{ep.method} {ep.path}: name the map {f.name!r} under `maps`")
            typed_name = models.add(
                maps[f.name],
                "param",
                ftype.fields,
                doc=f"Keys of the ``{snake(f.name)}`` argument.",
            )
        params.append(
            Param(
                f.name,
                pinfo.get("python_name", snake(f.name)),
                location,
                f.required or location == "path" or f.name in info.get("required", ()),
                ftype,
                f.default,
                f.description,
                pinfo.get("pattern") or ftype.pattern,
                pinfo.get("min_length") or ftype.min_length,
                bool(pinfo.get("accept_int")),
                typed_name,
            )
        )
    unknown = set(info.get("required", ())) - {p.name for p in params}
    if unknown:
        raise SpecError(f"{ep.method} {ep.path}: `required` names no parameter {sorted(unknown)}")
    body_kind = "object" if has_body else None
    if "body" in info:
        if has_body:
            raise SpecError(f"{ep.method} {ep.path}: array body and body fields together")
        body = info["body"]
        body_kind = "array"
        items_model = body.get("items")
        type_text = body["type"]
        body_type = (
            lap.parse_type(type_text)
            if items_model is None
            else TypeRef("array", type_text, items=TypeRef("map", "map"))
        )
        params.append(
            Param(
                body["python_name"],
                body["python_name"],
                "body",
                True,
                body_type,
                description=body.get("doc"),
                typed_name=items_model,
            )
        )

    shape = info.get("shape", "one")
    if shape not in _SHAPES:
        raise SpecError(f"{ep.method} {ep.path}: `shape` must be one of {_SHAPES}, not {shape!r}")
    responses = []
    theirs = oa.success_schema(ep.method, ep.path)
    for index, ret in enumerate(ep.returns):
        model = None
        ret_shape = "one"
        # The OpenAPI answer of the same status adds what the LAP file leaves open.
        other = theirs[1] if theirs and theirs[0] == ret.status and index == 0 else None
        if ret.schema is not None:
            if "returns" not in info:
                raise SpecError(f"{ep.method} {ep.path}: name the response model (`returns`)")
            schema = oa.enrich(ret.schema, other)
            extra = info.get("extra_fields")
            fields = schema.fields
            if extra and index == 0:
                fields += tuple(lap.parse_fields(extra.strip()[1:-1], required=False))
            model = models.add(info["returns"], "response", fields)
            ret_shape = shape
        elif other is not None and not info.get("multi_status"):
            model, ret_shape = _openapi_answer(ep, oa.type_of(other), models)
        elif ret.status != 204 and not info.get("multi_status"):
            ret_shape = "json"
        if shape == "one_or_many" and model and not _describes_list(ret.description):
            raise SpecError(
                f"{ep.method} {ep.path}: `shape: one_or_many` but the spec does not describe "
                f"a list ({ret.description!r})"
            )
        responses.append(Response(ret.status, ret.description, ret.schema, model, ret_shape))
    if "returns" in info and not any(r.model for r in responses):
        raise SpecError(f"{ep.method} {ep.path}: `returns` given but the LAP has no schema")

    multi = info.get("multi_status")
    if multi and multi["item"] not in models.defs:
        raise SpecError(f"{ep.method} {ep.path}: unknown multi-status item model")

    fixed = _fixed(ep, info, params)
    names = [p.python_name for p in params]
    if len(set(names)) != len(names):
        raise SpecError(f"{ep.method} {ep.path}: duplicate Python parameter names {names}")
    return Operation(
        ep.method,
        ep.path,
        ep.group,
        info["attr"],
        ep.desc,
        tuple(params),
        tuple(responses),
        tuple(ep.errors),
        body_kind,
        multi["result"] if multi else None,
        oa.description(ep.method, ep.path),
        body_schema.get("additionalProperties") is False,
        tuple(fixed.items()),
        _shortcuts(ep, info, fixed),
    )


def _fixed(ep: lap.LapEndpoint, info: dict[str, Any], params: list[Param]) -> dict[str, object]:
    """Body arguments the method sends with its own value instead of taking them."""
    fixed: dict[str, object] = dict(info.get("fixed", {}))
    body = {p.python_name for p in params if p.location == "body"}
    if set(fixed) - body:
        raise SpecError(f"{ep.method} {ep.path}: `fixed` names no body argument: {sorted(fixed)}")
    return fixed


def _shortcuts(
    ep: lap.LapEndpoint, info: dict[str, Any], fixed: dict[str, object]
) -> tuple[tuple[str, tuple[tuple[str, object], ...], str], ...]:
    """Sibling methods sending other values of the ``fixed`` arguments (``users.unsuspend``)."""
    out = []
    for name, entry in info.get("shortcuts", {}).items():
        values = entry.get("fixed", {})
        if set(values) != set(fixed) or not entry.get("summary"):
            raise SpecError(
                f"{ep.method} {ep.path}: shortcut {name!r} must give a `summary` and a value "
                f"for each `fixed` argument ({sorted(fixed)})"
            )
        out.append((name, tuple(values.items()), str(entry["summary"])))
    return tuple(out)
