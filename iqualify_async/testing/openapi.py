"""The OpenAPI document the fake serves at ``/v1/openapi.json`` (the package's generated one)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .._json import dumps, loads

DOCUMENT_PATH = Path(__file__).resolve().parent.parent / "_openapi.json"


def load_document(path: Path = DOCUMENT_PATH) -> dict[str, Any] | None:
    """The generated OpenAPI document, or ``None`` when the package does not ship one."""
    try:
        document: dict[str, Any] = loads(path.read_bytes())
    except FileNotFoundError:
        return None
    return document


def served_document(base_url: str, path: Path = DOCUMENT_PATH) -> bytes | None:
    """The document as served: same content, ``servers`` pointing at this fake."""
    document = load_document(path)
    if document is None:
        return None
    document["servers"] = [{"url": base_url, "description": "iqualify-async fake server"}]
    return dumps(document)
