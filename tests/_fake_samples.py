"""A valid request for each of the 84 operations against the demo organisation."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from iqualify_async.testing import State


@dataclass(frozen=True)
class Sample:
    path: str
    body: Any
    status: int


def _q(value: str) -> str:
    return quote(value, safe="")


def samples(state: State) -> dict[tuple[str, str], Sample]:
    now = time.time()
    offering = next(o for o in state.offerings.values() if o.timing(now) == "past" and o.badge)
    other = next(
        o
        for o in state.offerings.values()
        if o.root_content_id == offering.root_content_id and o.id != offering.id
    )
    learner_keys = [k for k, e in offering.enrolments.items() if e.is_learner]
    learner = state.users[next(k for k in learner_keys if k not in offering.awarded)]
    marker = state.users[next(k for k, e in offering.enrolments.items() if e.is_marker)]
    outsider = next(u for u in state.users.values() if u.key not in offering.enrolments)
    group = next(iter(offering.groups.values()))
    grouped = next(iter(group.learners))
    channel = next(c for c in offering.channels.values() if c.group_discussion)
    in_channel = next(iter(channel.learners))
    not_in_channel = next(k for k in learner_keys if k not in channel.learners)
    by_type = {a.type: a for a in offering.assessments.values()}
    assignment, quiz, openresponse = by_type["assignment"], by_type["quiz"], by_type["openresponse"]
    submitted_by = next(
        k
        for k in learner_keys
        if any(
            r["learnerEmail"].lower() == k and r["assessmentId"] == assignment.id
            for r in _rows(state, offering)
        )
    )
    course = state.courses[offering.content_id]
    o, le = offering.id, _q(learner.email)
    mapped = next(iter(state.course_mappings))
    ext = state.course_mappings[mapped][0]
    new_user = {"email": "new.person@example.com", "firstName": "New", "lastName": "Person"}
    return {
        ("GET", "/"): Sample("/", None, 200),
        ("GET", "/org"): Sample("/org", None, 200),
        # offerings
        ("GET", "/offerings"): Sample("/offerings", None, 200),
        ("POST", "/offerings"): Sample(
            "/offerings", {"start": "2030-01-01T00:00:00Z", "contentId": course.id}, 201
        ),
        ("GET", "/offerings/summary"): Sample("/offerings/summary", None, 200),
        ("GET", "/offerings/current"): Sample("/offerings/current", None, 200),
        ("GET", "/offerings/past"): Sample("/offerings/past", None, 200),
        ("GET", "/offerings/future"): Sample("/offerings/future", None, 200),
        ("GET", "/offerings/info/{textPattern}"): Sample(
            f"/offerings/info/{_q(course.name[:5])}", None, 200
        ),
        ("GET", "/offerings/{offeringId}"): Sample(f"/offerings/{o}", None, 200),
        ("PATCH", "/offerings/{offeringId}"): Sample(f"/offerings/{o}", {"name": "Renamed"}, 200),
        ("GET", "/offerings/{offeringId}/badges"): Sample(f"/offerings/{o}/badges", None, 200),
        ("PUT", "/offerings/{offeringId}/metadata/tags"): Sample(
            f"/offerings/{o}/metadata/tags", {"tags": ["a"]}, 200
        ),
        ("PUT", "/offerings/{offeringId}/metadata/category"): Sample(
            f"/offerings/{o}/metadata/category", {"category": "c"}, 200
        ),
        ("PUT", "/offerings/{offeringId}/metadata/topic"): Sample(
            f"/offerings/{o}/metadata/topic", {"topic": "t"}, 200
        ),
        ("PUT", "/offerings/{offeringId}/metadata/level"): Sample(
            f"/offerings/{o}/metadata/level", {"level": "l"}, 200
        ),
        # assessments
        ("GET", "/offerings/{offeringId}/assessments"): Sample(
            f"/offerings/{o}/assessments", None, 200
        ),
        ("PATCH", "/offerings/{offeringId}/assessments/{assessmentId}"): Sample(
            f"/offerings/{o}/assessments/{assignment.id}", {"markNumber": "50"}, 200
        ),
        ("PATCH", "/offerings/{offeringId}/assessments/{assessmentId}/{userEmail}"): Sample(
            f"/offerings/{o}/assessments/{quiz.id}/{le}", {"dueDate": "2031-01-01T00:00:00Z"}, 204
        ),
        (
            "DELETE",
            "/offerings/{offeringId}/assessments/{assessmentId}/documents/{documentId}",
        ): Sample(
            f"/offerings/{o}/assessments/{assignment.id}/documents/{assignment.documents[0]['id']}",
            None,
            204,
        ),
        ("GET", "/offerings/{offeringId}/learners/pending-submission"): Sample(
            f"/offerings/{o}/learners/pending-submission?days=10", None, 200
        ),
        ("GET", "/offerings/{offeringId}/activities/openresponse"): Sample(
            f"/offerings/{o}/activities/openresponse", None, 200
        ),
        ("DELETE", "/offerings/{offeringId}/users/{userEmail}/assessments/{assessmentId}"): Sample(
            f"/offerings/{o}/users/{_q(submitted_by)}/assessments/{assignment.id}", None, 204
        ),
        # offering users
        ("GET", "/offerings/{offeringId}/users"): Sample(f"/offerings/{o}/users", None, 200),
        ("POST", "/offerings/{offeringId}/users"): Sample(f"/offerings/{o}/users", [new_user], 201),
        ("DELETE", "/offerings/{offeringId}/users/{userEmail}"): Sample(
            f"/offerings/{o}/users/{le}", None, 204
        ),
        ("GET", "/offerings/{offeringId}/users/{markerEmail}/marks"): Sample(
            f"/offerings/{o}/users/{_q(marker.email)}/marks", None, 200
        ),
        ("POST", "/offerings/{offeringId}/users/{markerEmail}/marks"): Sample(
            f"/offerings/{o}/users/{_q(marker.email)}/marks", [learner.email], 200
        ),
        ("DELETE", "/offerings/{offeringId}/users/{markerEmail}/marks"): Sample(
            f"/offerings/{o}/users/{_q(marker.email)}/marks", [learner.email], 200
        ),
        ("POST", "/offerings/{offeringId}/users/{userEmail}/badges/award"): Sample(
            f"/offerings/{o}/users/{le}/badges/award", None, 201
        ),
        ("GET", "/offerings/{offeringId}/users/{userEmail}/submissions/open-response"): Sample(
            f"/offerings/{o}/users/{le}/submissions/open-response", None, 200
        ),
        # groups
        ("GET", "/offerings/{offeringId}/groups"): Sample(f"/offerings/{o}/groups", None, 200),
        ("POST", "/offerings/{offeringId}/groups"): Sample(
            f"/offerings/{o}/groups", {"title": "Group X"}, 201
        ),
        ("GET", "/offerings/{offeringId}/groups/{groupId}/learners"): Sample(
            f"/offerings/{o}/groups/{group.id}/learners", None, 200
        ),
        ("POST", "/offerings/{offeringId}/groups/{groupId}/learners"): Sample(
            f"/offerings/{o}/groups/{group.id}/learners",
            {"email": next(k for k in learner_keys if k not in group.learners)},
            201,
        ),
        ("DELETE", "/offerings/{offeringId}/groups/{groupId}/learners/{userEmail}"): Sample(
            f"/offerings/{o}/groups/{group.id}/learners/{_q(grouped)}", None, 204
        ),
        # channels
        ("GET", "/offerings/{offeringId}/channels"): Sample(f"/offerings/{o}/channels", None, 200),
        ("POST", "/offerings/{offeringId}/channels"): Sample(
            f"/offerings/{o}/channels", {"title": "Q&A"}, 201
        ),
        ("PATCH", "/offerings/{offeringId}/channels/{channelId}"): Sample(
            f"/offerings/{o}/channels/{channel.id}", {"title": "Renamed"}, 200
        ),
        ("POST", "/offerings/{offeringId}/channels/{channelId}/learners"): Sample(
            f"/offerings/{o}/channels/{channel.id}/learners", {"email": not_in_channel}, 204
        ),
        ("DELETE", "/offerings/{offeringId}/channels/{channelId}/learners"): Sample(
            f"/offerings/{o}/channels/{channel.id}/learners", {"email": in_channel}, 204
        ),
        ("GET", "/offerings/{offeringId}/channels/{channelId}/learners"): Sample(
            f"/offerings/{o}/channels/{channel.id}/learners", None, 200
        ),
        ("GET", "/offerings/{offeringId}/analytics/channels/{channelId}/posts"): Sample(
            f"/offerings/{o}/analytics/channels/{channel.id}/posts", None, 200
        ),
        ("GET", "/offerings/{offeringId}/analytics/channels/{channelId}/comments"): Sample(
            f"/offerings/{o}/analytics/channels/{channel.id}/comments", None, 200
        ),
        ("GET", "/offerings/{offeringId}/analytics/channels/{channelId}/replies"): Sample(
            f"/offerings/{o}/analytics/channels/{channel.id}/replies", None, 200
        ),
        # analytics
        ("GET", "/offerings/{offeringId}/analytics/pulses"): Sample(
            f"/offerings/{o}/analytics/pulses", None, 200
        ),
        ("GET", "/offerings/{offeringId}/analytics/pulses/responses"): Sample(
            f"/offerings/{o}/analytics/pulses/responses", None, 200
        ),
        ("GET", "/offerings/{offeringId}/analytics/pulses/{pulseId}/responses"): Sample(
            f"/offerings/{o}/analytics/pulses/{offering.pulses[0].base_id}/responses", None, 200
        ),
        ("GET", "/offerings/{offeringId}/analytics/marks/assignments"): Sample(
            f"/offerings/{o}/analytics/marks/assignments", None, 200
        ),
        ("GET", "/offerings/{offeringId}/analytics/marks/quizzes"): Sample(
            f"/offerings/{o}/analytics/marks/quizzes", None, 200
        ),
        ("GET", "/offerings/{offeringId}/analytics/learners-progress"): Sample(
            f"/offerings/{o}/analytics/learners-progress", None, 200
        ),
        ("GET", "/offerings/{offeringId}/analytics/unit-reactions"): Sample(
            f"/offerings/{o}/analytics/unit-reactions", None, 200
        ),
        ("GET", "/offerings/{offeringId}/analytics/submissions/assignments"): Sample(
            f"/offerings/{o}/analytics/submissions/assignments", None, 200
        ),
        ("GET", "/offerings/{offeringId}/analytics/social-notes"): Sample(
            f"/offerings/{o}/analytics/social-notes", None, 200
        ),
        ("GET", "/offerings/{offeringId}/analytics/activities/responses"): Sample(
            f"/offerings/{o}/analytics/activities/responses", None, 200
        ),
        ("GET", "/offerings/{offeringId}/analytics/submissions/open-response/{assessmentId}"): (
            Sample(
                f"/offerings/{o}/analytics/submissions/open-response/{openresponse.id}", None, 200
            )
        ),
        (
            "GET",
            "/offerings/{offeringId}/analytics/submissions/{userEmail}/assignments/{assessmentId}",
        ): Sample(
            f"/offerings/{o}/analytics/submissions/{_q(submitted_by)}/assignments/{assignment.id}",
            None,
            200,
        ),
        # course mappings
        ("GET", "/course-mappings"): Sample("/course-mappings", None, 200),
        ("GET", "/course-mappings/externalcourse/{externalCourseId}"): Sample(
            f"/course-mappings/externalcourse/{_q(ext)}", None, 200
        ),
        ("GET", "/course-mappings/{offeringId}"): Sample(f"/course-mappings/{mapped}", None, 200),
        ("PUT", "/course-mappings/{offeringId}/{externalCourseId}"): Sample(
            f"/course-mappings/{o}/EXT-NEW", None, 200
        ),
        ("DELETE", "/course-mappings/{offeringId}/{externalCourseId}"): Sample(
            f"/course-mappings/{mapped}/{_q(ext)}", None, 200
        ),
        # courses
        ("GET", "/courses"): Sample("/courses", None, 200),
        ("GET", "/courses/{contentId}"): Sample(f"/courses/{course.id}", None, 200),
        ("GET", "/courses/{contentId}/activations"): Sample(
            f"/courses/{course.id}/activations", None, 200
        ),
        ("PUT", "/courses/{contentId}/metadata/tags"): Sample(
            f"/courses/{course.id}/metadata/tags", {"tags": ["x"]}, 200
        ),
        ("PUT", "/courses/{contentId}/metadata/category"): Sample(
            f"/courses/{course.id}/metadata/category", {"category": "x"}, 200
        ),
        ("PUT", "/courses/{contentId}/metadata/level"): Sample(
            f"/courses/{course.id}/metadata/level", {"level": "x"}, 200
        ),
        ("PUT", "/courses/{contentId}/metadata/topic"): Sample(
            f"/courses/{course.id}/metadata/topic", {"topic": "x"}, 200
        ),
        ("POST", "/courses/{rootContentId}/permissions/{userEmail}"): Sample(
            f"/courses/{course.root_content_id}/permissions/{_q(marker.email)}",
            {"isBuilder": True},
            201,
        ),
        ("GET", "/courses/{contentId}/permissions"): Sample(
            f"/courses/{course.id}/permissions", None, 200
        ),
        # users
        ("POST", "/users"): Sample("/users", new_user, 201),
        ("GET", "/users/{userEmail}"): Sample(f"/users/{le}", None, 200),
        ("PATCH", "/users/{userEmail}"): Sample(f"/users/{le}", {"firstName": "Changed"}, 200),
        ("PUT", "/users/{userEmail}/suspend"): Sample(
            f"/users/{le}/suspend", {"suspended": True}, 204
        ),
        ("GET", "/users/{userEmail}/offerings"): Sample(f"/users/{le}/offerings", None, 200),
        ("POST", "/users/{userEmail}/offerings"): Sample(
            f"/users/{_q(outsider.email)}/offerings", [o], 200
        ),
        ("GET", "/users/{userEmail}/offerings/{offeringId}/progress"): Sample(
            f"/users/{le}/offerings/{o}/progress", None, 200
        ),
        ("POST", "/users/{userEmail}/permissions/{permissionName}"): Sample(
            f"/users/{le}/permissions/insights", None, 200
        ),
        ("GET", "/users/all/progress"): Sample("/users/all/progress", None, 200),
        ("GET", "/users/{userEmail}/progress"): Sample(f"/users/{le}/progress", None, 200),
        ("GET", "/users/{userEmail}/badges"): Sample(f"/users/{le}/badges", None, 200),
        ("PATCH", "/users/{userEmail}/transfer"): Sample(
            f"/users/{le}/transfer", {"fromOfferingId": o, "toOfferingId": other.id}, 200
        ),
        ("POST", "/users/{userEmail}/invite-email"): Sample(f"/users/{le}/invite-email", None, 204),
    }


def _rows(state: State, offering: Any) -> list[dict[str, Any]]:
    from iqualify_async.testing.analytics import assignment_rows

    return assignment_rows(state, offering, marked_only=False)
