"""The generated surface matches the spec: count, (method, path) set, attrs, drift."""

from __future__ import annotations

import inspect
import json
import operator
from importlib import resources

from iqualify_async import Client
from iqualify_async._endpoints import ENDPOINTS
from tools.codegen import lap
from tools.codegen.build import LAP_FILE, ROOT
from tools.codegen.generate import generate


def test_count_and_operations_match_the_lap_file() -> None:
    spec = lap.parse(LAP_FILE.read_text(encoding="utf-8"))
    assert len(ENDPOINTS) == 84 == spec.declared_count
    assert {(e.method, e.path) for e in ENDPOINTS} == {(e.method, e.path) for e in spec.endpoints}
    assert len({e.attr for e in ENDPOINTS}) == 84
    counts: dict[str, int] = {}
    for e in ENDPOINTS:
        counts[e.group] = counts.get(e.group, 0) + 1
    assert counts == {
        "root": 1,
        "offerings": 55,
        "course-mappings": 5,
        "courses": 9,
        "org": 1,
        "users": 13,
    }


def test_every_attr_is_a_coroutine_function_on_a_live_client() -> None:
    client = Client(api_key="registry-key-0123456789", base_url="http://127.0.0.1:9/v1")
    for e in ENDPOINTS:
        method = operator.attrgetter(e.attr)(client)
        assert inspect.iscoroutinefunction(method), e.attr
        signature = inspect.signature(method)
        for name in ("timeout", "extra_headers", "retry", "retry_unsafe"):
            assert name in signature.parameters, (e.attr, name)
        for p in e.params:
            assert p.python_name in signature.parameters, (e.attr, p.python_name)
            kind = signature.parameters[p.python_name].kind
            expected = (
                inspect.Parameter.POSITIONAL_OR_KEYWORD
                if p.location == "path" or e.body == "array"
                else inspect.Parameter.KEYWORD_ONLY
            )
            assert kind == expected, (e.attr, p.python_name)


def test_openapi_document_covers_every_operation() -> None:
    doc = json.loads(resources.files("iqualify_async").joinpath("_openapi.json").read_text())
    assert doc["openapi"] == "3.0.3"
    ops = {(m.upper(), p) for p, item in doc["paths"].items() for m in item}
    assert ops == {(e.method, e.path) for e in ENDPOINTS}
    add_users = doc["paths"]["/offerings/{offeringId}/users"]["post"]
    assert add_users["requestBody"]["content"]["application/json"]["schema"]["type"] == "array"
    assert "207" in add_users["responses"]


def test_generated_files_are_up_to_date() -> None:
    for rel, text in generate().items():
        current = (ROOT / rel).read_text(encoding="utf-8")
        assert current == text, f"{rel} differs from the generator's output; run make generate"
