"""Analytics derived from the state: every number is a pure function of (seed, offering, learner, item).

Learners added later get analytics too; removing a learner removes theirs; resetting a
submission to draft removes its marks.
"""

from __future__ import annotations

from typing import Any

from .state import (
    DAY_SECONDS,
    Assessment,
    Channel,
    Offering,
    State,
    User,
    iso,
    parse_iso,
    stable_int,
)


def _n(state: State, offering: Offering, *parts: object) -> int:
    return stable_int(state.seed_key, offering.id, *parts)


def learners(state: State, offering: Offering) -> list[User]:
    return [state.users[k] for k, e in offering.enrolments.items() if e.is_learner]


def _names(user: User, prefix: str) -> dict[str, Any]:
    out: dict[str, Any] = {f"{prefix}Email": user.email}
    if user.first_name:
        out[f"{prefix}FirstName"] = user.first_name
    if user.last_name:
        out[f"{prefix}LastName"] = user.last_name
    if user.person_id:
        out[f"{prefix}PersonId"] = user.person_id
    return out


def submitted(state: State, offering: Offering, a: Assessment, user: User) -> bool:
    if (a.id, user.key) in offering.drafts:
        return False
    due = parse_iso(a.due_date) if a.due_date else parse_iso(offering.start)
    if due > state.clock() + 7 * DAY_SECONDS:
        return False
    return _n(state, offering, a.id, user.key, "submitted") % 10 < 8


def submission_time(state: State, offering: Offering, a: Assessment, user: User) -> str:
    due = parse_iso(a.due_date) if a.due_date else parse_iso(offering.start)
    return iso(due - (_n(state, offering, a.id, user.key, "when") % 5 * DAY_SECONDS) - 3600)


def mark(state: State, offering: Offering, a: Assessment, user: User) -> str | None:
    """The mark (0-100 as text) or ``None`` while unmarked."""
    n = _n(state, offering, a.id, user.key, "mark")
    if n % 7 == 0:
        return None
    return str(40 + n % 61)


def _marker_for(state: State, offering: Offering, user: User) -> User | None:
    for marker, marked in offering.marking.items():
        if user.key in marked:
            return state.users[marker]
    return None


def assignment_rows(state: State, offering: Offering, *, marked_only: bool) -> list[dict[str, Any]]:
    course = state.courses.get(offering.content_id)
    rows: list[dict[str, Any]] = []
    for a in offering.assessments.values():
        if a.type != "assignment":
            continue
        for user in learners(state, offering):
            if not submitted(state, offering, a, user):
                continue
            value = mark(state, offering, a, user)
            if marked_only and value is None:
                continue
            row: dict[str, Any] = {
                "assessmentId": a.id,
                "assessmentItemName": a.title,
                "assessmentItemDetails": a.content,
                **_names(user, "learner"),
                "submissionDateTime": submission_time(state, offering, a, user),
            }
            if course is not None:
                row["courseName"] = course.name
            if value is not None:
                marker = _marker_for(state, offering, user)
                row["mark"] = value
                row["markFeedback"] = "Well done." if int(value) >= 50 else "Please resubmit."
                row["markedBy"] = marker.email if marker else ""
                row["markedByMarker"] = marker is not None
                row["markedByFacilitator"] = marker is None
                row["markedByEvaluator"] = False
                row["markedDateTime"] = iso(parse_iso(row["submissionDateTime"]) + 2 * DAY_SECONDS)
            rows.append(row)
    return rows


def quiz_rows(state: State, offering: Offering) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for a in offering.assessments.values():
        if a.type != "quiz":
            continue
        for user in learners(state, offering):
            if not submitted(state, offering, a, user):
                continue
            row: dict[str, Any] = {
                "quizId": a.id,
                "quizTitle": a.title,
                "learnerEmail": user.email,
                "attempts": 1 + _n(state, offering, a.id, user.key, "attempts") % a.max_attempts,
                "lastAttemptAt": submission_time(state, offering, a, user),
                "mark": str(_n(state, offering, a.id, user.key, "quiz") % 11 * 10),
            }
            full = " ".join(p for p in (user.first_name, user.last_name) if p)
            if full:
                row["learnerFullname"] = full
            if user.person_id:
                row["learnerPersonId"] = user.person_id
            rows.append(row)
    return rows


def submission_json(state: State, offering: Offering, a: Assessment, user: User) -> dict[str, Any]:
    """``SubmissionMarkResponse`` for one learner's submission."""
    course = state.courses.get(offering.content_id)
    when = submission_time(state, offering, a, user)
    row: dict[str, Any] = {
        "assessmentId": a.id,
        "assessmentItemName": a.title,
        "assessmentItemDetails": a.content,
        **_names(user, "learner"),
        "submissionDateTime": when,
        "html": f"<p>Submission by {user.email} for {a.title}.</p>",
        "files": [],
        "marks": [],
        "status": "submitted",
    }
    if course is not None:
        row["courseName"] = course.name
    value = mark(state, offering, a, user)
    if value is not None:
        marker = _marker_for(state, offering, user)
        row["status"] = "marked"
        row["marks"] = [
            {
                "id": f"mark-{a.id[:8]}-{user.id[:8]}",
                "mark": value,
                "feedback": "Well done." if int(value) >= 50 else "Please resubmit.",
                "markedBy": marker.email if marker else "",
                "markerId": marker.id if marker else "",
                "createdAt": iso(parse_iso(when) + 2 * DAY_SECONDS),
                "markFeedback": [],
            }
        ]
    return row


def open_response_rows(state: State, offering: Offering, a: Assessment) -> list[dict[str, Any]]:
    return [
        submission_json(state, offering, a, user)
        for user in learners(state, offering)
        if submitted(state, offering, a, user)
    ]


def user_assignments(state: State, offering: Offering, user: User) -> list[dict[str, Any]]:
    """``Assignments`` rows: the learner's open-response submissions."""
    rows: list[dict[str, Any]] = []
    for a in offering.assessments.values():
        if a.type not in ("assignment", "openresponse") or not submitted(state, offering, a, user):
            continue
        full = submission_json(state, offering, a, user)
        rows.append(
            {
                "status": full["status"],
                "submittedAt": full["submissionDateTime"],
                "updatedAt": full["marks"][0]["createdAt"]
                if full["marks"]
                else full["submissionDateTime"],
                "files": [],
                "marks": full["marks"],
            }
        )
    return rows


def progress_rows(state: State, offering: Offering) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for key, enrolment in offering.enrolments.items():
        if not enrolment.is_learner:
            continue
        user = state.users[key]
        row: dict[str, Any] = {
            "email": user.email,
            "completion": str(enrolment.completion),
            "courseId": offering.content_id,
        }
        if user.first_name:
            row["firstName"] = user.first_name
        if user.last_name:
            row["lastName"] = user.last_name
        if user.person_id:
            row["personId"] = user.person_id
        if user.last_access_at:
            row["lastLoggedInAt"] = user.last_access_at
        rows.append(row)
    return rows


def pulse_responses(state: State, offering: Offering) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    now = state.clock()
    for pulse in offering.pulses:
        start = parse_iso(pulse.run_start)
        if start > now:
            continue
        for user in learners(state, offering):
            n = _n(state, offering, pulse.base_id, user.key, "pulse")
            if n % 3 == 0:
                continue
            row: dict[str, Any] = {
                "pulseBaseId": pulse.base_id,
                "pulseInstanceId": pulse.instance_id,
                "pulseQuestion": pulse.question,
                "pulseType": pulse.type,
                "pulseRunStart": pulse.run_start,
                "pulseRunDurationMinutes": pulse.duration_minutes,
                "learnerId": user.id,
                "responseTime": iso(start + n % (pulse.duration_minutes * 60)),
                "response": _pulse_answer(pulse.type, n),
            }
            if user.first_name:
                row["learnerFirstName"] = user.first_name
            if user.last_name:
                row["learnerLastName"] = user.last_name
            rows.append(row)
    return rows


def _pulse_answer(kind: str, n: int) -> dict[str, Any]:
    if kind == "submit_text":
        return {"textAnswer": ("Confident", "Getting there", "Need help")[n % 3]}
    if kind == "MCQ":
        return {
            "multiChoiceAnswer": [
                {"option": option, "value": i == n % 3} for i, option in enumerate("ABC")
            ]
        }
    corners = {"spatial_linear": 2, "spatial_planar": 4, "spatial_triangular": 3}[kind]
    return {
        "spatialAnswer": [
            {"option": f"corner {i + 1}", "value": round((n >> (8 * i)) % 101 / 100, 2)}
            for i in range(corners)
        ]
    }


def unit_reactions(state: State, offering: Offering) -> list[dict[str, Any]]:
    count = len(learners(state, offering))
    rows = []
    for page in offering.pages:
        n = _n(state, offering, page, "reactions")
        up = n % (count + 1)
        rows.append(
            {
                "pageId": page,
                "feedback": {"thumbs-up": up, "thumbs-down": (n >> 16) % (count - up + 1)},
            }
        )
    return rows


def social_notes(state: State, offering: Offering) -> list[dict[str, Any]]:
    rows = []
    for user in learners(state, offering):
        n = _n(state, offering, user.key, "notes")
        if n % 4:
            continue
        page = offering.pages[n % len(offering.pages)] if offering.pages else "page-1"
        row: dict[str, Any] = {
            "userId": user.id,
            "email": user.email,
            "pageId": page,
            "social-note-paragraphId": f"para-{n % 12}",
            "social-note-content": f"Note from {user.display_name or user.email} on {page}.",
        }
        if user.first_name:
            row["firstName"] = user.first_name
        if user.last_name:
            row["lastName"] = user.last_name
        if user.person_id:
            row["personId"] = user.person_id
        rows.append(row)
    return rows


def activity_responses(state: State, offering: Offering) -> list[dict[str, Any]]:
    rows = []
    facilitators = [k for k, e in offering.enrolments.items() if e.is_facilitator]
    for activity in offering.activities:
        for user in learners(state, offering):
            n = _n(state, offering, activity["activityId"], user.key, "activity")
            if n % 2:
                continue
            row: dict[str, Any] = {
                "activityId": activity["activityId"],
                "activityType": "openresponse",
                "learnerEmail": user.email,
                "offeringId": offering.id,
                "responseText": f"My reflection on {activity['title']}.",
            }
            if facilitators and n % 3 == 0:
                row["feedback"] = {
                    "facilitatorEmail": state.users[facilitators[n % len(facilitators)]].email,
                    "text": "Thanks for sharing.",
                }
            rows.append(row)
    return rows


def _channel_members(state: State, offering: Offering, channel: Channel) -> list[User]:
    keys = list(channel.learners) if channel.group_discussion else list(offering.enrolments)
    return [state.users[k] for k in keys if k in state.users]


def channel_posts(state: State, offering: Offering, channel: Channel) -> list[dict[str, Any]]:
    members = _channel_members(state, offering, channel)
    posts = []
    start = parse_iso(offering.start)
    for i in range(min(5, len(members))):
        author = members[_n(state, offering, channel.id, "post", i) % len(members)]
        is_facilitator = offering.enrolments[author.key].is_facilitator
        posts.append(
            {
                "id": f"post-{channel.id[2:10]}-{i}",
                "title": f"Topic {i + 1}",
                "content": f"Discussion starter {i + 1} in {channel.title}.",
                "email": author.email,
                "createdAt": iso(start + (i + 1) * DAY_SECONDS),
                "isFacilitatorPost": is_facilitator,
                "attachments": [],
            }
        )
    return posts


def channel_comments(
    state: State, offering: Offering, channel: Channel, *, replies: bool
) -> list[dict[str, Any]]:
    members = _channel_members(state, offering, channel)
    rows: list[dict[str, Any]] = []
    for post in channel_posts(state, offering, channel):
        for j in range(3):
            n = _n(state, offering, post["id"], "comment", j)
            author = members[n % len(members)]
            comment_id = f"c-{post['id'][5:]}-{j}"
            created = iso(parse_iso(post["createdAt"]) + (j + 1) * 3600)
            row: dict[str, Any] = {
                "id": comment_id,
                "postId": post["id"],
                "content": f"Comment {j + 1} on {post['title']}.",
                "email": author.email,
                "createdAt": created,
                "isFacilitatorPost": offering.enrolments[author.key].is_facilitator,
            }
            if replies:
                row["id"] = f"r-{comment_id[2:]}"
                row["parentCommentId"] = comment_id
                row["content"] = f"Reply to comment {j + 1}."
                row["createdAt"] = iso(parse_iso(created) + 600)
            rows.append(row)
    return rows
