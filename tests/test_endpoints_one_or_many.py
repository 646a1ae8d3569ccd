"""Operations whose spec declares one object but describes a list accept either shape."""

from __future__ import annotations

import json
import operator
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from iqualify_async import Client, ResponseDecodeError
from iqualify_async._endpoints import ENDPOINTS
from iqualify_async.types import Activation, CoursePermission
from tools.codegen import build as codegen_build
from tools.codegen.build import OVERLAY_FILE

from .conftest import API_KEY, RecordingServer, plain_client_options

ACTIVATION = {
    "id": "a1",
    "name": "Spring",
    "start": "2024-03-01T00:00:00.000Z",
    "end": "2024-06-01T00:00:00.000Z",
    "learnersCount": "12",
    "info": "first run",
    "metadata": {"rootContentId": "c1"},
}
PERMISSION = {"email": "ana@example.com", "name": "Ana", "isBuilder": True, "isReviewer": False}

# client attribute, model, the key a list of all items could hide under, two items
CASES = [
    pytest.param(
        "courses.list_activations",
        Activation,
        "activations",
        ACTIVATION,
        {**ACTIVATION, "id": "a2", "learnersCount": "3", "metadata": {"rootContentId": "c1"}},
        id="activations",
    ),
    pytest.param(
        "courses.permissions.list",
        CoursePermission,
        "permissions",
        PERMISSION,
        {**PERMISSION, "email": "bo@example.com", "isBuilder": False, "isReviewer": True},
        id="permissions",
    ),
]
PARAMS = ("attr", "model", "list_key", "first", "second")


async def _call(server: RecordingServer, attr: str, body: Any) -> Any:
    server.reply(200, body)
    async with Client(api_key=API_KEY, base_url=server.base_url, **plain_client_options()) as iq:
        return await operator.attrgetter(attr)(iq)("c1")


def _summary(item: Any) -> tuple[Any, ...]:
    """What a user reads from an item, in Python types."""
    if isinstance(item, Activation):
        root = item.metadata.root_content_id if item.metadata else None
        return (item.id, item.name, item.learners_count, root)
    assert isinstance(item, CoursePermission)
    return (item.email, item.name, item.is_builder, item.is_reviewer)


def _expected(payload: dict[str, Any]) -> tuple[Any, ...]:
    if "email" in payload:
        return (payload["email"], payload["name"], payload["isBuilder"], payload["isReviewer"])
    root = payload["metadata"]["rootContentId"]
    return (payload["id"], payload["name"], payload["learnersCount"], root)


@pytest.mark.parametrize(PARAMS, CASES)
async def test_a_json_array_decodes_into_a_list_in_order(
    server: RecordingServer,
    attr: str,
    model: type,
    list_key: str,
    first: dict[str, Any],
    second: dict[str, Any],
) -> None:
    result = await _call(server, attr, [first, second])
    assert isinstance(result, list)
    assert all(isinstance(item, model) for item in result)
    assert [_summary(item) for item in result] == [_expected(first), _expected(second)]
    assert [item.raw for item in result] == [first, second]


@pytest.mark.parametrize(PARAMS, CASES)
async def test_one_object_decodes_into_a_one_item_list(
    server: RecordingServer,
    attr: str,
    model: type,
    list_key: str,
    first: dict[str, Any],
    second: dict[str, Any],
) -> None:
    result = await _call(server, attr, {**first, "fieldFromTheFuture": 1})
    assert isinstance(result, list) and len(result) == 1
    [item] = result
    assert isinstance(item, model)
    assert _summary(item) == _expected(first)
    assert item.raw["fieldFromTheFuture"] == 1  # type: ignore[attr-defined]


@pytest.mark.parametrize(PARAMS, CASES)
async def test_a_list_under_an_unnamed_key_of_one_object_is_not_read(
    server: RecordingServer,
    attr: str,
    model: type,
    list_key: str,
    first: dict[str, Any],
    second: dict[str, Any],
) -> None:
    body = {**first, list_key: [first, second]}
    result = await _call(server, attr, body)
    assert [_summary(item) for item in result] == [_expected(first)]
    assert result[0].raw == body


@pytest.mark.parametrize(PARAMS, CASES)
async def test_an_empty_array_is_an_empty_list(
    server: RecordingServer,
    attr: str,
    model: type,
    list_key: str,
    first: dict[str, Any],
    second: dict[str, Any],
) -> None:
    assert await _call(server, attr, []) == []


@pytest.mark.parametrize(PARAMS, CASES)
@pytest.mark.parametrize("bad", [42, "text", None, ["nested"]], ids=repr)
async def test_an_array_item_that_is_not_an_object_is_a_decode_error(
    server: RecordingServer,
    attr: str,
    model: type,
    list_key: str,
    first: dict[str, Any],
    second: dict[str, Any],
    bad: Any,
) -> None:
    with pytest.raises(ResponseDecodeError) as caught:
        await _call(server, attr, [first, bad])
    error = caught.value
    assert error.status == 200
    assert error.method == "GET"
    assert f"response item 1 is not a valid {model.__name__}" in str(error)
    assert error.snippet == repr(bad)


@pytest.mark.parametrize(PARAMS, CASES)
@pytest.mark.parametrize("bad", [42, "text"], ids=repr)
async def test_a_body_that_is_neither_an_object_nor_an_array_is_a_decode_error(
    server: RecordingServer,
    attr: str,
    model: type,
    list_key: str,
    first: dict[str, Any],
    second: dict[str, Any],
    bad: Any,
) -> None:
    with pytest.raises(ResponseDecodeError, match=f"not a valid {model.__name__}"):
        await _call(server, attr, bad)


def test_the_registry_and_the_openapi_document_say_either_shape_is_accepted() -> None:
    document = json.loads(
        resources.files("iqualify_async").joinpath("_openapi.json").read_text(encoding="utf-8")
    )
    listed = {
        e.attr: e
        for e in ENDPOINTS
        if e.attr in ("courses.list_activations", "courses.permissions.list")
    }
    assert {attr: e.returns for attr, e in listed.items()} == {
        "courses.list_activations": "list[Activation]",
        "courses.permissions.list": "list[CoursePermission]",
    }
    for endpoint in listed.values():
        model = (endpoint.returns or "").removeprefix("list[").removesuffix("]")
        response = document["paths"][endpoint.path]["get"]["responses"]["200"]
        one = {"$ref": f"#/components/schemas/{model}"}
        assert response["content"]["application/json"]["schema"] == {
            "oneOf": [one, {"type": "array", "items": one}]
        }


@pytest.mark.parametrize(
    ("shape", "message"),
    [
        ("one_or_many", "the spec does not describe a list"),
        ("many", "`shape` must be one of"),
    ],
)
def test_the_generator_allows_one_or_many_only_where_the_spec_describes_a_list(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shape: str, message: str
) -> None:
    text = OVERLAY_FILE.read_text(encoding="utf-8")
    entry = "{attr: courses.get, returns: Course}"
    assert entry in text
    overlay = tmp_path / "overlay.yaml"
    overlay.write_text(
        text.replace(entry, f"{{attr: courses.get, returns: Course, shape: {shape}}}"),
        encoding="utf-8",
    )
    monkeypatch.setattr(codegen_build, "OVERLAY_FILE", overlay)
    with pytest.raises(codegen_build.SpecError, match=message):
        codegen_build.build()
