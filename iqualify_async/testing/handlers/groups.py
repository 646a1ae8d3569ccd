"""Assessment groups and their learners."""

from __future__ import annotations

from ..errors import bad_request, not_found
from ..registry import Call, OperationList, Reply
from ..state import Group, Offering, State
from ..validation import Schema
from ..views import group_json, user_json

ops = OperationList()

GROUP_BODY: Schema = {
    "type": "object",
    "required": ["title"],
    "properties": {"title": {"type": "string", "minLength": 1}},
}
EMAIL_BODY: Schema = {
    "type": "object",
    "required": ["email"],
    "properties": {"email": {"type": "string", "minLength": 1}},
}


def _group(state: State, offering_id: str, group_id: str) -> tuple[Offering, Group]:
    offering = state.offering(offering_id)
    group = offering.groups.get(group_id.lower())
    if group is None:
        raise not_found("assessment group", group_id)
    return offering, group


@ops.add("GET", "/offerings/{offeringId}/groups")
def list_groups(call: Call) -> Reply:
    offering = call.state.offering(call.params["offeringId"])
    return 200, [group_json(g) for g in offering.groups.values()]


@ops.add("POST", "/offerings/{offeringId}/groups", body=GROUP_BODY)
def create_group(call: Call) -> Reply:
    state = call.state
    offering = state.offering(call.params["offeringId"])
    group = Group(id=state.new_hex_id(), title=call.body["title"], created_at=state.now_iso())
    offering.groups[group.id] = group
    return 201, group_json(group)


@ops.add("GET", "/offerings/{offeringId}/groups/{groupId}/learners")
def list_group_learners(call: Call) -> Reply:
    state = call.state
    _, group = _group(state, call.params["offeringId"], call.params["groupId"])
    return 200, [user_json(state.users[k]) for k in group.learners]


@ops.add("POST", "/offerings/{offeringId}/groups/{groupId}/learners", body=EMAIL_BODY)
def add_group_learner(call: Call) -> Reply:
    state = call.state
    offering, group = _group(state, call.params["offeringId"], call.params["groupId"])
    enrolment = state.enrolment(offering, call.body["email"], learner=True)
    if enrolment.email in group.learners:
        raise bad_request(
            "ObjectExistsError",
            f"The user {call.body['email']} already exists in the group {group.id}.",
        )
    group.learners[enrolment.email] = None
    return 201, user_json(state.users[enrolment.email])


@ops.add("DELETE", "/offerings/{offeringId}/groups/{groupId}/learners/{userEmail}")
def remove_group_learner(call: Call) -> Reply:
    state = call.state
    _, group = _group(state, call.params["offeringId"], call.params["groupId"])
    user = state.user(call.params["userEmail"])
    if user.key not in group.learners:
        raise not_found("learner in group", user.email)
    del group.learners[user.key]
    return 204, None
