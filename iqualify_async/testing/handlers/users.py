"""Users: accounts, suspensions, permissions, their offerings, progress, badges and transfers."""

from __future__ import annotations

from typing import Any

from ..errors import bad_request, schema_error
from ..query import apply_query
from ..registry import Call, OperationList, Reply
from ..state import USER_PERMISSIONS, State, User
from ..validation import BOOL, USER, Schema
from ..views import offering_json, user_json

ops = OperationList()

SUSPEND_BODY: Schema = {"type": "object", "properties": {"suspended": BOOL}}
TRANSFER_BODY: Schema = {
    "type": "object",
    "required": ["fromOfferingId", "toOfferingId"],
    "properties": {
        "fromOfferingId": {"type": "string"},
        "toOfferingId": {"type": "string"},
        "sendInvite": BOOL,
    },
}
OFFERING_IDS: Schema = {"type": "array", "items": {"type": "string"}}
PROGRESS_FIELDS = frozenset({"id", "email", "firstName", "lastName", "personId"})


def _profile_fields(body: dict[str, Any]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for key, attr in (
        ("firstName", "first_name"),
        ("lastName", "last_name"),
        ("personId", "person_id"),
    ):
        if key in body:
            fields[attr] = body[key]
    # null clears: a null profile or metadata clears what it holds
    if "profile" in body and "displayName" in (body["profile"] or {"displayName": None}):
        fields["display_name"] = (body["profile"] or {}).get("displayName")
    if "metadata" in body and "tags" in (body["metadata"] or {"tags": None}):
        fields["tags"] = list((body["metadata"] or {}).get("tags") or [])
    return fields


@ops.add("POST", "/users", body=USER)
def create_user(call: Call) -> Reply:
    state, body = call.state, call.body
    if "email" not in body:
        raise schema_error("should have required property 'email'")
    user = state.add_user(body["email"], **_profile_fields(body))
    if body.get("sendInvite") is False:  # null: the default, an invitation
        user.invite_url = f"https://app.example.com/invite/{user.id}"
    else:
        user.invites_sent += 1
    return 201, user_json(user)


@ops.add("GET", "/users/{userEmail}")
def get_user(call: Call) -> Reply:
    return 200, user_json(call.state.user(call.params["userEmail"]))


@ops.add("PATCH", "/users/{userEmail}", body=USER, body_required=False)
def update_user(call: Call) -> Reply:
    state = call.state
    user = state.user(call.params["userEmail"])
    body = call.body or {}
    if "email" in body:
        state.rename_user(user, body["email"])
    for attr, value in _profile_fields(body).items():
        setattr(user, attr, value)
    return 200, user_json(user)


@ops.add("PUT", "/users/{userEmail}/suspend", body=SUSPEND_BODY)
def suspend_user(call: Call) -> Reply:
    user = call.state.user(call.params["userEmail"])
    user.suspended = bool(call.body.get("suspended", True))  # null clears the suspension
    return 204, None


@ops.add("GET", "/users/{userEmail}/offerings")
def list_user_offerings(call: Call) -> Reply:
    state = call.state
    user = state.user(call.params["userEmail"])
    return 200, [offering_json(o) for o in state.user_offerings(user)]


@ops.add("POST", "/users/{userEmail}/offerings", body=OFFERING_IDS)
def add_user_to_offerings(call: Call) -> Reply:
    """Enrol as a learner in every listed offering (already enrolled: left as is)."""
    state = call.state
    user = state.user(call.params["userEmail"])
    if not call.body:
        raise bad_request("MissingInfoError", "The field 'offerings' is missing or invalid.")
    offerings = [state.offering(oid) for oid in call.body]
    if user.suspended:
        raise bad_request("UserSuspendedError", f"The user ({user.email}) has been suspended.")
    for offering in offerings:
        if user.key not in offering.enrolments:
            state.enrol(offering, user)
    return 200, [offering_json(o) for o in state.user_offerings(user)]


@ops.add("GET", "/users/{userEmail}/offerings/{offeringId}/progress")
def user_offering_progress(call: Call) -> Reply:
    state = call.state
    offering = state.offering(call.params["offeringId"])
    enrolment = state.enrolment(offering, call.params["userEmail"], learner=True)
    user = state.users[enrolment.email]
    out = _identity(user)
    out["completion"] = str(enrolment.completion)
    out.pop("personId", None)
    return 200, out


@ops.add("POST", "/users/{userEmail}/permissions/{permissionName}")
def add_permission(call: Call) -> Reply:
    user = call.state.user(call.params["userEmail"])
    name = call.params["permissionName"]
    if name not in USER_PERMISSIONS:
        raise schema_error(
            f"[permissionName] {name} should be equal to one of the allowed values "
            + ", ".join(USER_PERMISSIONS)
        )
    if name in user.permissions:
        raise bad_request("ObjectAlreadyIsError", f"The user {user.email} is already a {name}.")
    user.permissions.append(name)
    out = user_json(user)
    out["permissions"] = list(user.permissions)
    return 200, out


def _identity(user: User) -> dict[str, Any]:
    out: dict[str, Any] = {"id": user.id, "email": user.email}
    if user.first_name:
        out["firstName"] = user.first_name
    if user.last_name:
        out["lastName"] = user.last_name
    if user.person_id:
        out["personId"] = user.person_id
    return out


def _learner_progress(state: State, user: User) -> dict[str, Any]:
    out = _identity(user)
    out["offerings"] = [
        {"id": o.id, "completion": str(o.enrolments[user.key].completion)}
        for o in state.user_offerings(user)
        if o.enrolments[user.key].is_learner
    ]
    return out


@ops.add("GET", "/users/all/progress", query=("$top", "$orderby", "$filter"))
def all_progress(call: Call) -> Reply:
    state = call.state
    learner_keys: dict[str, None] = {}
    for offering in state.offerings.values():
        for key, enrolment in offering.enrolments.items():
            if enrolment.is_learner:
                learner_keys[key] = None
    q = call.query
    rows = [_identity(state.users[k]) for k in sorted(learner_keys)]
    top, selected = apply_query(
        rows, PROGRESS_FIELDS, q.get("$top"), q.get("$orderby"), q.get("$filter")
    )
    progress = [_learner_progress(state, state.users[row["email"].lower()]) for row in selected]
    return 200, {"top": top, "data": {"progress": progress}}


@ops.add("GET", "/users/{userEmail}/progress")
def user_progress(call: Call) -> Reply:
    state = call.state
    return 200, _learner_progress(state, state.user(call.params["userEmail"]))


@ops.add("GET", "/users/{userEmail}/badges")
def user_badges(call: Call) -> Reply:
    state = call.state
    user = state.user(call.params["userEmail"])
    rows = []
    for offering in state.offerings.values():
        awarded_at = offering.awarded.get(user.key)
        if awarded_at is None or offering.badge is None:
            continue
        rows.append(
            {
                "offeringId": offering.id,
                "title": offering.badge.get("title", ""),
                "description": offering.badge.get("description", ""),
                "awardedAt": awarded_at,
                "badgeUrl": f"https://badges.example.com/{offering.id}/{user.id}.png",
                "badgeExpiry": {"expires": False},
                "criterias": {
                    "hasCompletedCourse": True,
                    "hasPassedMandatoryAssessedQuizzes": True,
                },
            }
        )
    return 200, rows


@ops.add("PATCH", "/users/{userEmail}/transfer", body=TRANSFER_BODY)
def transfer_user(call: Call) -> Reply:
    state, body = call.state, call.body
    user = state.user(call.params["userEmail"])
    source = state.offering(body["fromOfferingId"])
    target = state.offering(body["toOfferingId"])
    state.transfer(user, source, target)
    if body.get("sendInvite"):
        user.invites_sent += 1
    out = user_json(user)
    out["offerings"] = [o.id for o in state.user_offerings(user)]
    return 200, out


@ops.add("POST", "/users/{userEmail}/invite-email")
def resend_invite(call: Call) -> Reply:
    user = call.state.user(call.params["userEmail"])
    user.invites_sent += 1
    return 204, None
