"""HTTP handlers for the 84 operations, one module per area of the API."""

from __future__ import annotations

from ..registry import Operation
from . import (
    assessments,
    channels,
    course_mappings,
    courses,
    groups,
    offering_users,
    offerings,
    reports,
    root,
    users,
)

OPERATIONS: tuple[Operation, ...] = tuple(
    op
    for module in (
        root,
        offerings,
        offering_users,
        assessments,
        groups,
        channels,
        reports,
        courses,
        course_mappings,
        users,
    )
    for op in module.ops.operations
)
