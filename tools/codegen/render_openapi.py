"""The OpenAPI 3.0.3 document of the generated surface (served by the fake server)."""

from __future__ import annotations

import json
from typing import Any

from iqualify_async._validation import _nullable as client_sends_null

from .model import Api, ModelDef, Operation, Param, TypeRef

# Date-times the API (and the fake) can store and give back: years 1000 to 9999.
YEARS_1000_TO_9999 = "^[1-9][0-9]{3}-"


def schema_of(t: TypeRef, nested: str | None = None, request: bool = False) -> dict[str, Any]:
    """The JSON schema of a LAP type, with the published request rules it carries.

    ``request``: a value the client sends. The client refuses a key it does not know in any
    object it checks field by field (``_validation.mapping``), so each such object is published
    closed (``additionalProperties: false``), whatever the source description says.
    """
    if t.kind == "str":
        out: dict[str, Any] = {"type": "string"}
        if t.format in ("email", "date-time", "date"):
            out["format"] = t.format
        if t.format == "date-time":
            out["pattern"] = YEARS_1000_TO_9999
        if t.enum:
            out["enum"] = list(t.enum)
        if t.min_length:
            out["minLength"] = t.min_length
        if t.pattern:
            out["pattern"] = t.pattern
        return out
    if t.kind == "int":
        out = {"type": "integer"}
        if t.format:
            out["format"] = t.format
        return out
    if t.kind == "num":
        return {"type": "number"}
    if t.kind == "bool":
        return {"type": "boolean"}
    if t.kind == "any":
        return {}
    if t.kind == "map":
        return {"type": "object"}
    if t.kind == "object":
        if nested:
            return {"$ref": f"#/components/schemas/{nested}"}
        out = {
            "type": "object",
            "properties": {f.name: _field(f.type, request) for f in t.fields},
        }
        if t.closed or (request and t.fields):
            out["additionalProperties"] = False
        return out
    if t.kind == "array":
        assert t.items is not None
        return {"type": "array", "items": schema_of(t.items, nested, request)}
    raise ValueError(t)


def _field(t: TypeRef, request: bool, nested: str | None = None) -> dict[str, Any]:
    """An object's field. In a request, ``nullable`` where the client sends null for ``None``
    (``_validation.mapping`` lets any key be null whose schema null could satisfy)."""
    out = schema_of(t, nested, request)
    if request and not nested and client_sends_null(out):
        out["nullable"] = True
    return out


def _model_schema(m: ModelDef) -> dict[str, Any]:
    out: dict[str, Any] = {
        "type": "object",
        "properties": {
            f.name: _field(f.type, m.kind != "response", m.nested.get(f.name)) for f in m.fields
        },
    }
    if m.kind != "response" and m.fields:  # sent by the client: see ``schema_of``
        out["additionalProperties"] = False
    required = [f.name for f in m.fields if f.required]
    if required:
        out["required"] = required
    if m.doc:
        out["description"] = m.doc
    return out


def _param(p: Param) -> dict[str, Any]:
    schema = schema_of(p.type)
    if p.pattern:
        schema["pattern"] = p.pattern
    if p.min_length:
        schema["minLength"] = p.min_length
    if p.location == "path" and "minLength" not in schema:
        schema["minLength"] = 1
    if p.default is not None:
        schema["default"] = p.default
    out: dict[str, Any] = {
        "name": p.name,
        "in": p.location,
        "required": p.required,
        "schema": schema,
    }
    if p.description:
        out["description"] = p.description
    return out


def _request_body(op: Operation, api: Api) -> dict[str, Any] | None:
    body = [p for p in op.params if p.location == "body"]
    if op.body_kind == "array":
        p = body[0]
        if p.typed_name:
            items: dict[str, Any] = {"$ref": f"#/components/schemas/{p.typed_name}"}
        else:
            assert p.type.items is not None
            items = schema_of(p.type.items, request=True)
        schema: dict[str, Any] = {"type": "array", "items": items}
    elif body:
        # Inline, with every rule the client checks (nested objects and enums included).
        # Closed: the client sends its keyword arguments and nothing else.
        # ``nullable``: an optional field the client sends null for (``None`` clears it).
        props = {p.name: schema_of(p.type, request=True) for p in body}
        from .render_python import accepts_null  # (render_python imports this module)

        for p in body:
            if accepts_null(p):
                props[p.name]["nullable"] = True
        schema = {"type": "object", "properties": props, "additionalProperties": False}
        required = [p.name for p in body if p.required]
        if required:
            schema["required"] = required
    else:
        return None
    return {"required": True, "content": {"application/json": {"schema": schema}}}


_PLAIN: dict[str, dict[str, Any]] = {
    "strings": {"type": "array", "items": {"type": "string"}},
    "string_map": {"type": "object", "additionalProperties": {"type": "string"}},
    "json": {},
}


def _error_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def _responses(op: Operation, api: Api) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for r in op.responses:
        entry: dict[str, Any] = {"description": r.description or "Success"}
        if op.multi_status:
            item = {"$ref": "#/components/schemas/OfferingUserAdded"}
            items = (
                item
                if r.status == 201
                else {"oneOf": [item, {"$ref": "#/components/schemas/Error"}]}
            )
            entry["content"] = {"application/json": {"schema": {"type": "array", "items": items}}}
        elif r.model:
            schema: dict[str, Any] = {"$ref": f"#/components/schemas/{r.model}"}
            if r.shape == "one_or_many":
                # The spec declares one object but describes a list: either is a valid answer.
                schema = {"oneOf": [schema, {"type": "array", "items": schema}]}
            elif r.shape == "list":
                schema = {"type": "array", "items": schema}
            entry["content"] = {"application/json": {"schema": schema}}
        elif r.shape in _PLAIN:
            entry["content"] = {"application/json": {"schema": _PLAIN[r.shape]}}
        out[str(r.status)] = entry
    for status, text in op.errors:
        out[str(status)] = _error_response(text)
    out.setdefault("429", _error_response("Request rate is too large."))
    out.setdefault("500", _error_response("We're sorry, but something went wrong."))
    return out


def build_document(api: Api) -> dict[str, Any]:
    schemas: dict[str, Any] = {}
    for m in api.models:
        schemas[m.name] = _model_schema(m)
    # Error bodies come nested ({"error": {name, details}}) or flat ({name, details}).
    detail = {"type": "object", "properties": {"name": {"type": "string"}, "details": {}}}
    schemas["Error"] = {
        "type": "object",
        "properties": {"error": detail, "name": {"type": "string"}, "details": {}},
    }
    paths: dict[str, Any] = {}
    for op in api.operations:
        entry: dict[str, Any] = {
            "operationId": op.attr,
            "summary": op.summary,
            "tags": [op.group],
            "responses": _responses(op, api),
        }
        params = [_param(p) for p in op.params if p.location in ("path", "query")]
        if params:
            entry["parameters"] = params
        body = _request_body(op, api)
        if body:
            entry["requestBody"] = body
        paths.setdefault(op.path, {})[op.method.lower()] = entry
    return {
        "openapi": "3.0.3",
        "info": {"title": api.title, "version": api.version},
        "servers": [{"url": api.base_url}],
        "security": [{"Authorization": []}],
        "tags": [{"name": g} for g in api.groups],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "Authorization": {"type": "apiKey", "in": "header", "name": "Authorization"}
            },
            "schemas": schemas,
        },
    }


def render_openapi(api: Api) -> str:
    return json.dumps(build_document(api), indent=2, ensure_ascii=False) + "\n"
