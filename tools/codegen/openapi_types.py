"""OpenAPI schemas as LAP types: answer shapes the LAP file leaves out, and nested detail.

The LAP file decides an answer's fields wherever it gives them; the OpenAPI file fills in what
it leaves out: whole answers ("offering's users"), and the inside of fields the LAP file types
only as ``any``, ``map`` or ``[map]`` (``Course.metadata``, ``Assessment.documents``, ...).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from . import lap
from .model import FieldDef, TypeRef

_SCALARS = {"string": "str", "integer": "int", "number": "num", "boolean": "bool"}
_FORMATS = ("email", "date-time", "date", "int32", "int64")


class OpenApiTypes:
    """Reads schemas out of one OpenAPI document."""

    def __init__(self, document: dict[str, Any], corrections: dict[str, str]) -> None:
        self.document = document
        self.schemas: dict[str, Any] = document["components"]["schemas"]
        # "Schema.property" -> LAP type text, for the few properties the file types wrongly.
        self.corrections = corrections
        for where in corrections:
            schema, _, prop = where.partition(".")
            if prop not in self.schemas.get(schema, {}).get("properties", {}):
                raise ValueError(f"overlay corrects {where!r}, which the OpenAPI file lacks")

    def success_schema(self, method: str, path: str) -> tuple[int, dict[str, Any] | None] | None:
        """The first 2xx answer of an operation: (status, JSON schema or ``None``)."""
        op = self.document["paths"].get(path, {}).get(method.lower())
        if op is None:
            return None
        for status, answer in op.get("responses", {}).items():
            if str(status).startswith("2"):
                content = answer.get("content", {}).get("application/json", {})
                return int(status), content.get("schema")
        return None

    def description(self, method: str, path: str) -> str | None:
        op = self.document["paths"].get(path, {}).get(method.lower(), {})
        text = op.get("description")
        return " ".join(text.split()) if isinstance(text, str) and text.strip() else None

    def _resolve(self, schema: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
        ref = schema.get("$ref")
        if ref is None and len(schema.get("allOf", ())) == 1:
            ref = schema["allOf"][0].get("$ref")
        if ref is None:
            return schema, None
        name = ref.rsplit("/", 1)[1]
        return self.schemas[name], name

    def type_of(self, schema: dict[str, Any]) -> TypeRef:
        """The LAP type for ``schema`` (named objects keep their schema name in ``ref``)."""
        schema, name = self._resolve(schema)
        kind = schema.get("type")
        if "properties" in schema:
            fields = tuple(
                FieldDef(prop, self._property(name, prop, sub), description=sub.get("description"))
                for prop, sub in sorted(schema["properties"].items())
            )
            return TypeRef("object", f"map{{{name or ''}}}", fields=fields, ref=name)
        if kind == "array":
            items = self.type_of(schema.get("items", {}))
            return TypeRef("array", f"[{items.text}]", items=items)
        if kind == "object":
            extra = schema.get("additionalProperties")
            if isinstance(extra, dict) and extra.get("type") == "string":
                return TypeRef("map", "map", items=TypeRef("str", "str"))
            return TypeRef("map", "map")
        if kind in _SCALARS:
            base = _SCALARS[kind]
            fmt = schema.get("format")
            enum = tuple(schema.get("enum", ()))
            if enum:
                return TypeRef(base, f"{base}({'/'.join(enum)})", enum=enum)
            if fmt in _FORMATS:
                return TypeRef(base, f"{base}({fmt})", format=fmt)
            return TypeRef(base, base)
        return TypeRef("any", "any")

    def _property(self, schema: str | None, prop: str, sub: dict[str, Any]) -> TypeRef:
        fixed = self.corrections.get(f"{schema}.{prop}")
        return lap.parse_type(fixed) if fixed else self.type_of(sub)

    def enrich(self, lap: TypeRef, schema: dict[str, Any] | None) -> TypeRef:
        """``lap`` with the OpenAPI detail of what it leaves open; LAP facts win."""
        if schema is None:
            return lap
        theirs = self.type_of(schema)
        if lap.kind in ("any", "map") and theirs.kind in ("object", "array"):
            return theirs
        if lap.kind == "array" and theirs.kind == "array" and lap.items is not None:
            resolved, _ = self._resolve(schema)
            items = self.enrich(lap.items, resolved.get("items"))
            return TypeRef("array", lap.text, items=items)
        if lap.kind == "object" and theirs.kind == "object":
            resolved, _ = self._resolve(schema)
            props = resolved.get("properties", {})
            fields = tuple(
                FieldDef(
                    f.name,
                    self.enrich(f.type, props.get(f.name)),
                    f.required,
                    f.default,
                    f.description,
                )
                for f in lap.fields
            )
            return TypeRef("object", lap.text, fields=fields, ref=lap.ref)
        return lap

    def request_body(self, method: str, path: str) -> dict[str, Any] | None:
        """The JSON schema of an operation's request body, ``$ref`` resolved."""
        op = self.document["paths"].get(path, {}).get(method.lower(), {})
        schema = op.get("requestBody", {}).get("content", {}).get("application/json", {})
        if "schema" not in schema:
            return None
        return self._resolve(schema["schema"])[0]

    def constrain(self, t: TypeRef, schema: dict[str, Any] | None) -> TypeRef:
        """``t`` (a request value's LAP type) with the OpenAPI rules for it: ``minLength``,
        ``pattern``, ``enum``, formats, ``additionalProperties: false``, nested ones too."""
        if schema is None:
            return t
        t = self.enrich(t, schema)
        resolved, _ = self._resolve(schema)
        if t.kind == "str":
            fmt = resolved.get("format")
            return dataclasses.replace(
                t,
                enum=t.enum or tuple(resolved.get("enum", ())),
                format=t.format or (fmt if fmt in ("email", "date-time") else None),
                min_length=t.min_length or resolved.get("minLength"),
                pattern=t.pattern or resolved.get("pattern"),
            )
        if t.kind == "object":
            props = resolved.get("properties", {})
            fields = tuple(
                dataclasses.replace(f, type=self.constrain(f.type, props.get(f.name)))
                for f in t.fields
            )
            closed = resolved.get("additionalProperties") is False
            return dataclasses.replace(t, fields=fields, closed=closed)
        if t.kind == "array" and t.items is not None:
            return dataclasses.replace(t, items=self.constrain(t.items, resolved.get("items")))
        return t
