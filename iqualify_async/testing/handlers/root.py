"""``GET /`` and ``GET /org``."""

from __future__ import annotations

from ..registry import Call, OperationList, Reply

ops = OperationList()


@ops.add("GET", "/")
def list_endpoints(call: Call) -> Reply:
    from . import OPERATIONS

    return 200, {
        "version": "v1",
        "endpoints": sorted({f"{op.method} /v1{op.path.rstrip('/')}" for op in OPERATIONS}),
    }


@ops.add("GET", "/org")
def get_org(call: Call) -> Reply:
    return 200, {"id": call.state.org_id, "name": call.state.org_name}
