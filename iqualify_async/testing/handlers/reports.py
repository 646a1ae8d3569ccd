"""Offering analytics: marks, submissions, progress, pulses, reactions, notes, activities."""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from typing import Any

from .. import analytics as data
from ..errors import bad_request, not_found
from ..registry import Call, OperationList, Reply
from ..state import parse_iso
from ..validation import is_datetime

ops = OperationList()

PULSE_TYPES = ("submit_text", "MCQ", "spatial_triangular", "spatial_planar", "spatial_linear")
_TIME_FILTER = re.compile(r"^__(lt|lte|gt|gte)__(.+?)(?:__)?$")
_TIME_OPS: dict[str, Callable[[float, float], bool]] = {
    "lt": operator.lt,
    "lte": operator.le,
    "gt": operator.gt,
    "gte": operator.ge,
}


@ops.add("GET", "/offerings/{offeringId}/analytics/pulses")
def list_pulse_ids(call: Call) -> Reply:
    offering = call.state.offering(call.params["offeringId"])
    seen = dict.fromkeys(r["pulseBaseId"] for r in data.pulse_responses(call.state, offering))
    return 200, list(seen)


@ops.add(
    "GET", "/offerings/{offeringId}/analytics/pulses/responses", query=("pulseType", "responseTime")
)
def list_pulse_responses(call: Call) -> Reply:
    """``pulseType`` picks one type; ``responseTime`` (repeatable) takes ``__gte__<time>__`` etc."""
    offering = call.state.offering(call.params["offeringId"])
    pulse_type = call.query.get("pulseType")
    if pulse_type is not None and pulse_type not in PULSE_TYPES:
        raise bad_request(
            "SchemaValidationError",
            f"[pulseType] {pulse_type} should be equal to one of the allowed values "
            + ", ".join(PULSE_TYPES),
        )
    bounds = []
    for raw in call.query.getall("responseTime", []):
        match = _TIME_FILTER.match(raw)
        if match is None or not is_datetime(match.group(2)):
            raise bad_request("ApiValidationError", "invalid responseTime parameter.")
        bounds.append((_TIME_OPS[match.group(1)], parse_iso(match.group(2))))
    rows: list[dict[str, Any]] = []
    for row in data.pulse_responses(call.state, offering):
        if pulse_type is not None and row["pulseType"] != pulse_type:
            continue
        when = parse_iso(row["responseTime"])
        if all(test(when, bound) for test, bound in bounds):
            rows.append(row)
    return 200, rows


@ops.add("GET", "/offerings/{offeringId}/analytics/pulses/{pulseId}/responses")
def list_one_pulse(call: Call) -> Reply:
    offering = call.state.offering(call.params["offeringId"])
    pulse_id = call.params["pulseId"]
    if not any(p.base_id == pulse_id for p in offering.pulses):
        raise not_found("pulse", pulse_id)
    rows = data.pulse_responses(call.state, offering)
    return 200, [r for r in rows if r["pulseBaseId"] == pulse_id]


@ops.add("GET", "/offerings/{offeringId}/analytics/marks/assignments")
def assignment_marks(call: Call) -> Reply:
    offering = call.state.offering(call.params["offeringId"])
    return 200, data.assignment_rows(call.state, offering, marked_only=True)


@ops.add("GET", "/offerings/{offeringId}/analytics/marks/quizzes")
def quiz_marks(call: Call) -> Reply:
    offering = call.state.offering(call.params["offeringId"])
    return 200, data.quiz_rows(call.state, offering)


@ops.add("GET", "/offerings/{offeringId}/analytics/learners-progress")
def learners_progress(call: Call) -> Reply:
    offering = call.state.offering(call.params["offeringId"])
    return 200, data.progress_rows(call.state, offering)


@ops.add("GET", "/offerings/{offeringId}/analytics/unit-reactions")
def unit_reactions(call: Call) -> Reply:
    offering = call.state.offering(call.params["offeringId"])
    return 200, data.unit_reactions(call.state, offering)


@ops.add("GET", "/offerings/{offeringId}/analytics/submissions/assignments")
def assignment_submissions(call: Call) -> Reply:
    offering = call.state.offering(call.params["offeringId"])
    return 200, data.assignment_rows(call.state, offering, marked_only=False)


@ops.add("GET", "/offerings/{offeringId}/analytics/social-notes")
def social_notes(call: Call) -> Reply:
    offering = call.state.offering(call.params["offeringId"])
    return 200, data.social_notes(call.state, offering)


@ops.add("GET", "/offerings/{offeringId}/analytics/activities/responses")
def activity_responses(call: Call) -> Reply:
    offering = call.state.offering(call.params["offeringId"])
    return 200, data.activity_responses(call.state, offering)


@ops.add("GET", "/offerings/{offeringId}/analytics/submissions/open-response/{assessmentId}")
def open_response_submissions(call: Call) -> Reply:
    offering = call.state.offering(call.params["offeringId"])
    a = offering.assessments.get(call.params["assessmentId"])
    if a is None:
        raise not_found("assessment", call.params["assessmentId"])
    return 200, data.open_response_rows(call.state, offering, a)


@ops.add(
    "GET",
    "/offerings/{offeringId}/analytics/submissions/{userEmail}/assignments/{assessmentId}",
)
def learner_submission(call: Call) -> Reply:
    state = call.state
    offering = state.offering(call.params["offeringId"])
    a = offering.assessments.get(call.params["assessmentId"])
    if a is None:
        raise not_found("assessment", call.params["assessmentId"])
    user = state.user(call.params["userEmail"])
    enrolment = offering.enrolments.get(user.key)
    if enrolment is None or not enrolment.is_learner:
        raise not_found("learner in offering", user.email)
    if not data.submitted(state, offering, a, user):
        return 200, []
    return 200, [data.submission_json(state, offering, a, user)]
