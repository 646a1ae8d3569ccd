"""People in an offering: enrolments, marker assignments, badges and per-learner submissions."""

from __future__ import annotations

from typing import Any

from ..analytics import user_assignments
from ..errors import FakeAPIError, bad_request, schema_error
from ..registry import Call, OperationList, Reply
from ..state import State, User
from ..validation import OFFERING_USER, Schema, check_email_param, validate
from ..views import offering_user_added_json, offering_user_json, user_request_shape

ops = OperationList()

ROLE_FLAGS = ("facilitators", "learners", "markers")
EMAIL_LIST: Schema = {"type": "array", "items": {"type": "string"}}


@ops.add("GET", "/offerings/{offeringId}/users", query=ROLE_FLAGS)
def list_users(call: Call) -> Reply:
    state = call.state
    offering = state.offering(call.params["offeringId"])
    wanted: dict[str, bool] = {}
    for flag in ROLE_FLAGS:
        raw = call.query.get(flag, "true")
        if raw not in ("true", "false"):
            raise schema_error(
                f"[{flag}] {raw} should be equal to one of the allowed values true, false"
            )
        wanted[flag] = raw == "true"
    rows = [
        offering_user_json(state, offering, e)
        for e in offering.enrolments.values()
        if (wanted["facilitators"] and e.is_facilitator)
        or (wanted["markers"] and e.is_marker)
        or (wanted["learners"] and e.is_learner)
    ]
    return 200, rows


def _add_one(state: State, offering_id: str, item: Any, index: int) -> dict[str, Any]:
    validate(item, OFFERING_USER, f"body[{index}]")
    offering = state.offering(offering_id)
    email: str = item["email"]
    user = state.users.get(email.lower())
    if user is not None and user.key in offering.enrolments:
        raise bad_request(
            "ObjectExistsError", f"The user {email} already exists in the offering {offering.id}."
        )
    if user is None:
        user = state.add_user(
            email,
            first_name=item.get("firstName"),
            last_name=item.get("lastName"),
            person_id=item.get("personId"),
            display_name=(item.get("profile") or {}).get("displayName"),
            tags=list((item.get("metadata") or {}).get("tags") or []),
        )
    send_invite = item.get("sendInvite") is not False  # null: the default, an invitation
    if not send_invite:
        user.invite_url = f"https://app.example.com/invite/{user.id}"
    enrolment = state.enrol(
        offering,
        user,
        is_facilitator=bool(item.get("isFacilitator")),
        is_marker=bool(item.get("isMarker")),
        is_readonly=bool(item.get("isReadonly")),
    )
    return offering_user_added_json(user, enrolment, send_invite)


@ops.add("POST", "/offerings/{offeringId}/users", body={"type": "array"})
def add_users(call: Call) -> Reply:
    """201 when every item is added, 207 with per-item results when some fail, 400 when all do."""
    state = call.state
    offering = state.offering(call.params["offeringId"])
    if not call.body:
        raise bad_request("MissingInfoError", "The field 'users' is missing or invalid.")
    results: list[dict[str, Any]] = []
    failures: list[FakeAPIError] = []
    for index, item in enumerate(call.body):
        try:
            results.append(_add_one(state, offering.id, item, index))
        except FakeAPIError as error:
            failures.append(error)
            results.append(error.body(flat=call.flat_errors))
    if not failures:
        return 201, results
    if len(failures) == len(results):
        raise failures[0]
    return 207, results


@ops.add("DELETE", "/offerings/{offeringId}/users/{userEmail}")
def remove_user(call: Call) -> Reply:
    offering = call.state.offering(call.params["offeringId"])
    call.state.unenrol(offering, call.state.user(call.params["userEmail"]))
    return 204, None


def _marked(state: State, offering_id: str, marker_email: str) -> list[dict[str, Any]]:
    offering = state.offering(offering_id)
    marker = state.marker(offering, marker_email)
    return [user_request_shape(state.users[k]) for k in offering.marking.get(marker.email, {})]


@ops.add("GET", "/offerings/{offeringId}/users/{markerEmail}/marks")
def list_marked(call: Call) -> Reply:
    return 200, _marked(call.state, call.params["offeringId"], call.params["markerEmail"])


def _learners_from_body(call: Call) -> tuple[list[User], str]:
    state = call.state
    offering = state.offering(call.params["offeringId"])
    marker = state.marker(offering, call.params["markerEmail"])
    users = []
    for email in call.body:
        check_email_param("email", email)
        enrolment = state.enrolment(offering, email, learner=True)
        users.append(state.users[enrolment.email])
    return users, marker.email


@ops.add("POST", "/offerings/{offeringId}/users/{markerEmail}/marks", body=EMAIL_LIST)
def add_marked(call: Call) -> Reply:
    users, marker_key = _learners_from_body(call)
    offering = call.state.offering(call.params["offeringId"])
    marked = offering.marking.setdefault(marker_key, {})
    for user in users:
        marked[user.key] = None
    return 200, _marked(call.state, offering.id, call.params["markerEmail"])


@ops.add("DELETE", "/offerings/{offeringId}/users/{markerEmail}/marks", body=EMAIL_LIST)
def remove_marked(call: Call) -> Reply:
    users, marker_key = _learners_from_body(call)
    offering = call.state.offering(call.params["offeringId"])
    marked = offering.marking.setdefault(marker_key, {})
    for user in users:
        marked.pop(user.key, None)
    return 200, _marked(call.state, offering.id, call.params["markerEmail"])


@ops.add("POST", "/offerings/{offeringId}/users/{userEmail}/badges/award")
def award_badge(call: Call) -> Reply:
    state = call.state
    offering = state.offering(call.params["offeringId"])
    if offering.badge is None:
        raise bad_request("MissingInfoError", "The field 'Offering Badge' is missing or invalid.")
    enrolment = state.enrolment(offering, call.params["userEmail"], learner=True)
    if enrolment.email in offering.awarded:
        raise bad_request(
            "ObjectExistsError", f"The badge already exists in the offering {offering.id}."
        )
    offering.awarded[enrolment.email] = state.now_iso()
    user = state.users[enrolment.email]
    return 201, {
        "awarded": True,
        "badgeId": f"badge-{offering.id[2:10]}-{user.id[:8]}",
        "badgeUrl": f"https://badges.example.com/{offering.id}/{user.id}.png",
    }


@ops.add("GET", "/offerings/{offeringId}/users/{userEmail}/submissions/open-response")
def learner_open_responses(call: Call) -> Reply:
    state = call.state
    offering = state.offering(call.params["offeringId"])
    enrolment = state.enrolment(offering, call.params["userEmail"], learner=True)
    return 200, user_assignments(state, offering, state.users[enrolment.email])
