"""Assessment management: details, due dates, documents, pending submissions, drafts."""

from __future__ import annotations

from typing import Any

from ..analytics import learners, submitted
from ..errors import bad_request, not_found, schema_error
from ..registry import Call, OperationList, Reply
from ..state import DAY_SECONDS, Assessment, Offering, State, canonical, parse_iso
from ..validation import DATETIME, STR, Schema
from ..views import assessment_json, user_request_shape

ops = OperationList()

ASSESSMENT_BODY: Schema = {
    "type": "object",
    "properties": {
        "markType": {"type": "string", "minLength": 1},
        "markNumber": {"type": "string", "minLength": 1},
        "openDate": DATETIME,
        "dueDate": DATETIME,
        "content": STR,
    },
}
DUE_DATE_BODY: Schema = {
    "type": "object",
    "additionalProperties": False,
    "properties": {"dueDate": DATETIME},
}


def _assessment(state: State, offering_id: str, assessment_id: str) -> tuple[Offering, Assessment]:
    offering = state.offering(offering_id)
    assessment = offering.assessments.get(assessment_id)
    if assessment is None:
        raise not_found("assessment", assessment_id)
    return offering, assessment


@ops.add("GET", "/offerings/{offeringId}/assessments")
def list_assessments(call: Call) -> Reply:
    offering = call.state.offering(call.params["offeringId"])
    return 200, [assessment_json(a) for a in offering.assessments.values()]


@ops.add("PATCH", "/offerings/{offeringId}/assessments/{assessmentId}", body=ASSESSMENT_BODY)
def update_assessment(call: Call) -> Reply:
    _, a = _assessment(call.state, call.params["offeringId"], call.params["assessmentId"])
    body = call.body
    open_date = body.get("openDate", a.open_date)
    due_date = body.get("dueDate", a.due_date)
    if open_date and due_date and parse_iso(due_date) < parse_iso(open_date):
        raise bad_request(
            "ValidationError",
            f'The specified parameter dueDate has an invalid value "{due_date} is before the openDate".',
        )
    a.open_date = canonical(open_date) if open_date else None
    a.due_date = canonical(due_date) if due_date else None
    a.mark_type = body.get("markType", a.mark_type)
    a.mark_number = body.get("markNumber", a.mark_number)
    a.content = body.get("content", a.content)
    return 200, assessment_json(a)


@ops.add(
    "PATCH", "/offerings/{offeringId}/assessments/{assessmentId}/{userEmail}", body=DUE_DATE_BODY
)
def update_learner_due_date(call: Call) -> Reply:
    state = call.state
    offering, a = _assessment(state, call.params["offeringId"], call.params["assessmentId"])
    if a.type != "quiz":
        raise bad_request(
            "ObjectInvalidPropertyError",
            f"The assessment {a.id} property type is invalid. Expected value: quiz",
        )
    enrolment = state.enrolment(offering, call.params["userEmail"], learner=True)
    if "dueDate" not in call.body:
        raise schema_error("should have required property 'dueDate'")
    due = call.body["dueDate"]
    if due is None:  # null clears the learner's own due date
        offering.due_overrides.pop((a.id, enrolment.email), None)
    else:
        offering.due_overrides[(a.id, enrolment.email)] = canonical(due)
    return 204, None


@ops.add("DELETE", "/offerings/{offeringId}/assessments/{assessmentId}/documents/{documentId}")
def remove_document(call: Call) -> Reply:
    _, a = _assessment(call.state, call.params["offeringId"], call.params["assessmentId"])
    document_id = call.params["documentId"]
    remaining = [d for d in a.documents if d["id"] != document_id]
    if len(remaining) == len(a.documents):
        raise not_found("document", document_id)
    a.documents = remaining
    return 204, None


@ops.add("GET", "/offerings/{offeringId}/learners/pending-submission", query=("days",))
def pending_submission(call: Call) -> Reply:
    state = call.state
    offering = state.offering(call.params["offeringId"])
    raw = call.query.get("days", "3")
    if not raw.isdigit():
        raise schema_error(f"[days] {raw} should be integer")
    now = state.clock()
    horizon = now + int(raw) * DAY_SECONDS
    rows: list[dict[str, Any]] = []
    for a in offering.assessments.values():
        if not a.due_date or not now <= parse_iso(a.due_date) <= horizon:
            continue
        pending = [
            user_request_shape(u)
            for u in learners(state, offering)
            if not submitted(state, offering, a, u)
        ]
        if pending:
            row = assessment_json(a)
            row.update(offeringId=offering.id, users=pending)
            if offering.name:
                row["offeringName"] = offering.name
            rows.append(row)
    return 200, rows


@ops.add("GET", "/offerings/{offeringId}/activities/openresponse")
def list_activities(call: Call) -> Reply:
    offering = call.state.offering(call.params["offeringId"])
    return 200, [dict(activity) for activity in offering.activities]


@ops.add("DELETE", "/offerings/{offeringId}/users/{userEmail}/assessments/{assessmentId}")
def reset_to_draft(call: Call) -> Reply:
    state = call.state
    offering, a = _assessment(state, call.params["offeringId"], call.params["assessmentId"])
    enrolment = state.enrolment(offering, call.params["userEmail"], learner=True)
    user = state.users[enrolment.email]
    if not submitted(state, offering, a, user):
        raise bad_request(
            "AssessmentNotSubmittedError",
            f"The user {user.email} has not submitted assessment {a.id}.",
        )
    offering.drafts.add((a.id, user.key))
    return 204, None
