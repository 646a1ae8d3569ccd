"""JSON shapes of state objects, as the API's response schemas describe them.

Optional strings the schemas mark ``minLength: 1`` are left out rather than sent empty.
"""

from __future__ import annotations

from typing import Any

from .state import Assessment, Channel, Course, Enrolment, Group, Offering, State, User


def _put(out: dict[str, Any], key: str, value: Any) -> None:
    if value is not None and value != "":
        out[key] = value


def user_json(user: User) -> dict[str, Any]:
    out: dict[str, Any] = {"id": user.id, "email": user.email}
    _put(out, "firstName", user.first_name)
    _put(out, "lastName", user.last_name)
    _put(out, "personId", user.person_id)
    out["avatarUrl"] = f"https://avatars.example.com/{user.id}.png"
    profile: dict[str, Any] = {}
    _put(profile, "displayName", user.display_name)
    _put(profile, "mobile", user.mobile)
    out["profile"] = profile
    out["metadata"] = {"tags": list(user.tags)}
    _put(out, "firstAccessAt", user.first_access_at)
    _put(out, "lastAccessAt", user.last_access_at)
    if user.invite_url:
        out["invite"] = {"url": user.invite_url}
    return out


def user_request_shape(user: User) -> dict[str, Any]:
    """A user in the ``User``/``OfferingUser`` request shape (no server-side fields)."""
    out: dict[str, Any] = {"email": user.email}
    _put(out, "firstName", user.first_name)
    _put(out, "lastName", user.last_name)
    _put(out, "personId", user.person_id)
    if user.display_name:
        out["profile"] = {"displayName": user.display_name}
    out["metadata"] = {"tags": list(user.tags)}
    return out


def offering_user_json(state: State, offering: Offering, enrolment: Enrolment) -> dict[str, Any]:
    user = state.users[enrolment.email]
    out = user_json(user)
    del out["metadata"]
    out.pop("invite", None)
    out.pop("firstAccessAt", None)
    out.pop("lastAccessAt", None)
    out["isFacilitator"] = enrolment.is_facilitator
    out["isMarker"] = enrolment.is_marker
    out["isReadonly"] = enrolment.is_readonly
    if enrolment.is_marker:
        out["marks"] = [state.users[k].email for k in offering.marking.get(user.key, {})]
    if enrolment.is_learner:
        out["markedBy"] = [
            state.users[m].email for m, learners in offering.marking.items() if user.key in learners
        ]
    return out


def offering_user_added_json(user: User, enrolment: Enrolment, send_invite: bool) -> dict[str, Any]:
    out = user_request_shape(user)
    out["isFacilitator"] = enrolment.is_facilitator
    out["isMarker"] = enrolment.is_marker
    out["isReadonly"] = enrolment.is_readonly
    out["sendInvite"] = send_invite
    if user.invite_url:
        out["invite"] = {"url": user.invite_url}
    return out


def offering_json(offering: Offering) -> dict[str, Any]:
    out: dict[str, Any] = {"id": offering.id}
    _put(out, "identifier", offering.identifier)
    _put(out, "name", offering.name)
    _put(out, "description", offering.description)
    _put(out, "overview", offering.overview)
    out["contentId"] = offering.content_id
    out["useRelativeDates"] = offering.use_relative_dates
    out["start"] = offering.start
    _put(out, "end", offering.end)
    _put(out, "coverImageUrl", offering.cover_image_url)
    _put(out, "trailerVideoUrl", offering.trailer_video_url)
    out["isReadonly"] = offering.is_readonly
    out["hasEarlyCloseOff"] = offering.has_early_close_off
    _put(out, "earlyCloseOffDate", offering.early_close_off_date)
    _put(out, "enrollmentLimit", offering.enrollment_limit)
    _put(out, "price", offering.price)
    _put(out, "currency", offering.currency)
    out["allowEnrollment"] = offering.allow_enrollment
    out["settings"] = dict(offering.settings)
    out["tasksEnabled"] = offering.tasks_enabled
    metadata: dict[str, Any] = {"rootContentId": offering.root_content_id}
    _put(metadata, "category", offering.category)
    _put(metadata, "topic", offering.topic)
    _put(metadata, "level", offering.level)
    metadata["tags"] = list(offering.tags)
    out["metadata"] = metadata
    return out


def activation_json(offering: Offering) -> dict[str, Any]:
    """``PortfolioActivations``: an offering as listed by summary and info search."""
    out: dict[str, Any] = {
        "id": offering.id,
        "contentId": offering.content_id,
        "start": offering.start,
        "info": offering.info,
        "learnersCount": offering.learner_count(),
        "metadata": {"rootContentId": offering.root_content_id},
    }
    _put(out, "name", offering.name)
    _put(out, "end", offering.end)
    return out


def course_json(course: Course) -> dict[str, Any]:
    return {
        "id": course.id,
        "name": course.name,
        "createdAt": course.created_at,
        "coverImageUrl": course.cover_image_url,
        "metadata": {"learning_outcomes": [dict(lo) for lo in course.learning_outcomes]},
    }


def course_meta_json(course: Course) -> dict[str, Any]:
    metadata: dict[str, Any] = {"rootContentId": course.root_content_id}
    _put(metadata, "category", course.category)
    _put(metadata, "topic", course.topic)
    _put(metadata, "level", course.level)
    metadata["tags"] = list(course.tags)
    metadata["learning_outcomes"] = [dict(lo) for lo in course.learning_outcomes]
    return {
        "id": course.id,
        "name": course.name,
        "createdAt": course.created_at,
        "coverImageUrl": course.cover_image_url,
        "tasksEnabled": course.tasks_enabled,
        "metadata": metadata,
    }


def group_json(group: Group) -> dict[str, Any]:
    return {"id": group.id, "title": group.title, "createdAt": group.created_at}


def channel_json(channel: Channel) -> dict[str, Any]:
    return {
        "id": channel.id,
        "title": channel.title,
        "isBroadcastOnly": channel.is_broadcast_only,
        "privateSupport": channel.private_support,
        "groupDiscussion": channel.group_discussion,
    }


def assessment_json(assessment: Assessment, due_date: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": assessment.id,
        "pid": assessment.id,
        "title": assessment.title,
        "type": assessment.type,
        "content": assessment.content,
        "points": assessment.points,
        "hidden": assessment.hidden,
        "maxAttempts": assessment.max_attempts,
        "durationMinutes": assessment.duration_minutes,
        "totalQuestions": assessment.total_questions,
        "totalThemes": 0,
        "themes": [],
        "documents": [dict(d) for d in assessment.documents],
        "markType": assessment.mark_type,
        "markNumber": assessment.mark_number,
    }
    _put(out, "openDate", assessment.open_date)
    _put(out, "dueDate", due_date or assessment.due_date)
    return out
