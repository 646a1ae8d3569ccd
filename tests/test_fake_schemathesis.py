"""Property-based check of the fake against the OpenAPI document it serves (bounded examples).

For every operation, schemathesis generates a few valid requests from ``/v1/openapi.json``;
the test fails on any 5xx answer and on any answer whose body does not match the declared
schema.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from iqualify_async._endpoints import ENDPOINTS
from iqualify_async.testing.openapi import DOCUMENT_PATH

from ._fake_thread import fake_in_thread


def test_the_served_document_is_committed() -> None:
    assert DOCUMENT_PATH.is_file(), f"{DOCUMENT_PATH} is missing: run `make generate`"


API_KEY = "schemathesis-key"
EXAMPLES_PER_OPERATION = 4


@pytest.fixture(scope="module")
def fake_base_url() -> Iterator[str]:
    with fake_in_thread(api_key=API_KEY, seed="demo") as fake:
        yield fake.base_url


@pytest.fixture(scope="module")
def served_schema(fake_base_url: str) -> Any:
    return schemathesis.openapi.from_url(f"{fake_base_url}/openapi.json")


@pytest.mark.parametrize(
    ("method", "path"), [(e.method, e.path) for e in ENDPOINTS], ids=lambda v: str(v)
)
def test_fake_matches_its_openapi_document(
    method: str, path: str, served_schema: Any, fake_base_url: str
) -> None:
    operation = served_schema[path][method]

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def check(case: Any) -> None:
        case.call_and_validate(
            base_url=fake_base_url,
            headers={"Authorization": API_KEY},
            checks=[not_a_server_error, response_schema_conformance],
        )

    check()


def _not_refused_as_invalid(ctx: Any, response: Any, case: Any) -> bool | None:
    """A request the served document allows is never refused as schema-invalid.

    ``$filter`` and ``$orderby`` expressions are checked by their grammar (an
    ``ApiValidationError``), which a JSON schema cannot state; every other rule the fake
    enforces is in its document.
    """
    if response.status_code == 400:
        body = response.json()
        error = body.get("error", body) if isinstance(body, dict) else {}
        details = str(error.get("details"))
        grammar = "$filter" in details or "$orderby" in details
        if error.get("name") in ("SchemaValidationError", "ApiValidationError") and not grammar:
            raise AssertionError(
                f"{case.method} {case.formatted_path} refused a request its own document "
                f"allows: {error.get('details')} (body {case.body!r}, query {case.query!r})"
            )
    return None


@pytest.mark.parametrize(
    ("method", "path"), [(e.method, e.path) for e in ENDPOINTS], ids=lambda v: str(v)
)
def test_fake_accepts_every_request_its_document_allows(
    method: str, path: str, served_schema: Any, fake_base_url: str
) -> None:
    operation = served_schema[path][method]

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def check(case: Any) -> None:
        case.call_and_validate(
            base_url=fake_base_url,
            headers={"Authorization": API_KEY},
            checks=[_not_refused_as_invalid],
        )

    check()
