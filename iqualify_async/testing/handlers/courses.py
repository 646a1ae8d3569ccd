"""Courses: details, activations, metadata and course permissions."""

from __future__ import annotations

from ..errors import bad_request
from ..registry import Call, OperationList, Reply
from ..validation import STR, TAGS, Schema
from ..views import activation_json, course_json, course_meta_json

ops = OperationList()


@ops.add("GET", "/courses")
def list_courses(call: Call) -> Reply:
    return 200, [course_json(c) for c in call.state.courses.values()]


@ops.add("GET", "/courses/{contentId}")
def get_course(call: Call) -> Reply:
    return 200, course_meta_json(call.state.course(call.params["contentId"]))


@ops.add("GET", "/courses/{contentId}/activations")
def list_activations(call: Call) -> Reply:
    """Every activation of the course, oldest first, as a JSON array ("Activation list").

    The spec declares one object; the client accepts either, and the list is what it describes.
    """
    course = call.state.course(call.params["contentId"])
    rows = []
    for offering in call.state.offerings.values():
        if offering.root_content_id != course.root_content_id:
            continue
        row = activation_json(offering)
        del row["contentId"]  # not a field of the spec's activation
        row["learnersCount"] = str(row["learnersCount"])  # a string in the spec
        rows.append(row)
    rows.sort(key=lambda row: row["start"])
    return 200, rows


def _metadata_op(field: str, schema: Schema) -> None:
    body: Schema = {"type": "object", "additionalProperties": False, "properties": {field: schema}}

    @ops.add("PUT", f"/courses/{{contentId}}/metadata/{field}", body=body)
    def update(call: Call) -> Reply:
        course = call.state.course(call.params["contentId"])
        value = call.body.get(field)
        if field == "tags":
            course.tags = list(value or [])
        else:
            setattr(course, field, value)
        return 200, course_meta_json(course)


for _field, _schema in (("tags", TAGS), ("category", STR), ("level", STR), ("topic", STR)):
    _metadata_op(_field, _schema)


PERMISSION_BODY: Schema = {
    "type": "object",
    "properties": {"isBuilder": {"type": "boolean"}, "isReviewer": {"type": "boolean"}},
}


@ops.add("POST", "/courses/{rootContentId}/permissions/{userEmail}", body=PERMISSION_BODY)
def grant_course_permission(call: Call) -> Reply:
    course = call.state.course_by_root(call.params["rootContentId"])
    user = call.state.user(call.params["userEmail"])
    # null clears a permission (false); left out, isBuilder is true
    is_builder = bool(call.body.get("isBuilder", True))
    is_reviewer = bool(call.body.get("isReviewer", False))
    if is_builder and is_reviewer:
        raise bad_request(
            "ObjectIsNotError",
            "There are multiple permission with value true (isBuilder | isReviewer).",
        )
    course.permissions[user.key] = (is_builder, is_reviewer)
    return 201, {"contentId": course.id}


@ops.add("GET", "/courses/{contentId}/permissions")
def list_course_permissions(call: Call) -> Reply:
    """Every user with access to the course, as a JSON array ("List of users ...").

    The spec declares one object; the client accepts either, and the list is what it describes.
    """
    state = call.state
    course = state.course(call.params["contentId"])
    rows = []
    for key, (is_builder, is_reviewer) in course.permissions.items():
        user = state.users.get(key)
        if user is None:
            continue
        name = " ".join(p for p in (user.first_name, user.last_name) if p) or user.email
        rows.append(
            {"email": user.email, "name": name, "isBuilder": is_builder, "isReviewer": is_reviewer}
        )
    return 200, rows
