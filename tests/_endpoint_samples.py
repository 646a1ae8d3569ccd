"""Sample arguments and spec-shaped responses for every endpoint, derived from the registry."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from importlib import resources
from typing import Any
from urllib.parse import quote

from iqualify_async._endpoints import Endpoint, Param
from iqualify_async.types import OfferingUserInput

OPENAPI: dict[str, Any] = json.loads(
    resources.files("iqualify_async").joinpath("_openapi.json").read_text(encoding="utf-8")
)
WHEN = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)


def _enum(type_text: str) -> list[str]:
    inner = type_text[type_text.index("(") + 1 : -1]
    return inner.split("/")


def path_value(p: Param) -> str:
    """A path argument full of characters that must be percent-encoded."""
    if p.type == "str(email)":
        return "o'brien+tag@example.com"
    if "/" in p.type:
        return _enum(p.type)[-1]
    if p.name == "groupId":
        return "0123456789abcdefABCDEF01"
    return f"{p.python_name} x/y?z#%."


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def argument(p: Param) -> tuple[Any, Any]:
    """(value passed to the method, value expected on the wire) for a query or body param."""
    t = p.type
    if t == "str(true/false)":
        return False, "false"
    if t.startswith("str(") and "/" in t:
        choice = _enum(t)[0]
        return choice, choice
    if p.name in ("$top", "days"):
        return 7, "7"
    if t == "str(email)":
        return "new.person@example.com", "new.person@example.com"
    if t == "str(date-time)":
        return WHEN, "2024-01-02T03:04:05Z"
    if t == "str":
        return f"{p.python_name} value & more", f"{p.python_name} value & more"
    if t == "any":
        return "__gte__2017-03-14T07:30:00Z__", "__gte__2017-03-14T07:30:00Z__"
    if t == "bool":
        return True, True
    if t == "int":
        return 3, 3
    if t == "num":
        return 2.5, 2.5
    if t == "[str]":
        return ["a@example.com", "b@example.com"], ["a@example.com", "b@example.com"]
    if t.startswith("map{"):
        # The object's first key, in snake_case, with a value its rules accept.
        key, kind = re.match(r"map\{(\w+): (\[?\w+)", t).groups()  # type: ignore[union-attr]
        value = {"str": "text", "bool": True, "num": 1.5, "[str": ["a", "b"]}[kind]
        return {_snake(key): value}, {key: value}
    if t.startswith("map"):
        return {"extraKey": [1, 2]}, {"extraKey": [1, 2]}
    if t == "[OfferingUser]":
        users = [
            OfferingUserInput(email="a@example.com", first_name="Ann"),
            {"email": "b@example.com"},
        ]
        return users, [{"email": "a@example.com", "firstName": "Ann"}, {"email": "b@example.com"}]
    raise AssertionError(f"no sample for {p.name}: {t}")


def call_arguments(ep: Endpoint) -> tuple[list[Any], dict[str, Any], str, dict[str, str], Any]:
    """Positional args, keyword args, expected raw path, expected query, expected JSON body."""
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    path = "/v1" + ep.path
    query: dict[str, str] = {}
    body: Any = None
    for p in ep.params:
        if p.location == "path":
            value = path_value(p)
            args.append(value)
            path = path.replace("{" + p.name + "}", quote(value, safe=""))
            continue
        value, wire = argument(p)
        if ep.body == "array":
            args.append(value)
        else:
            kwargs[p.python_name] = value
        if p.location == "query":
            query[p.name] = wire
        elif ep.body == "array":
            body = wire
        else:
            body = body or {}
            body[p.name] = wire
    if ep.body == "object" and body is None:
        body = {}
    if ep.fixed:  # values the method sends of its own
        body = {**(body or {}), **dict(ep.fixed)}
    return args, kwargs, path, query, body


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref:
        return OPENAPI["components"]["schemas"][ref.rsplit("/", 1)[1]]  # type: ignore[no-any-return]
    return schema


def sample(schema: dict[str, Any]) -> Any:
    """A JSON value shaped like ``schema``."""
    schema = _resolve(schema)
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        return {name: sample(sub) for name, sub in schema.get("properties", {}).items()}
    if kind == "array":
        return [sample(schema["items"])]
    if kind == "string":
        if schema.get("format") == "date-time":
            return "2024-05-06T07:08:09Z"
        if schema.get("format") == "email":
            return "someone@example.com"
        return schema.get("enum", ["text"])[0]
    if kind == "integer":
        return 42
    if kind == "number":
        return 1.5
    if kind == "boolean":
        return True
    return {"anything": ["goes", 1]}


def success_payload(ep: Endpoint) -> Any:
    op = OPENAPI["paths"][ep.path][ep.method.lower()]
    content = op["responses"][str(ep.success_status)].get("content")
    if content is None:
        return None if ep.success_status == 204 else {"whatever": ["the", "API", "sends"]}
    payload = sample(content["application/json"]["schema"])
    if isinstance(payload, dict):
        payload["fieldFromTheFuture"] = {"x": 1}
    return payload
