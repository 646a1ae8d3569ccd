"""Offerings: lists by timing, summary, info search, create/update, badge and metadata."""

from __future__ import annotations

import dataclasses
from typing import Any

from ..errors import bad_request, not_found
from ..query import apply_query
from ..registry import Call, OperationList, Reply
from ..state import Channel, Offering, State, canonical, parse_iso
from ..validation import (
    BADGE,
    BOOL,
    DATETIME,
    OFFERING_METADATA,
    STR,
    STR1,
    TAGS,
    Schema,
)
from ..views import activation_json, offering_json

ops = OperationList()

_OFFERING_FIELDS: dict[str, Schema] = {
    "identifier": STR,
    "name": STR1,
    "description": STR1,
    "contentId": STR1,
    "rootContentId": STR,
    "start": DATETIME,
    "end": DATETIME,
    "useRelativeDates": BOOL,
    "trailerVideoUrl": STR1,
    "isReadonly": BOOL,
    "hasEarlyCloseOff": BOOL,
    "earlyCloseOffDate": DATETIME,
    "badge": BADGE,
    "metadata": OFFERING_METADATA,
}
CREATE_BODY: Schema = {
    "type": "object",
    "required": ["start"],
    "properties": {
        **_OFFERING_FIELDS,
        "createDefaultChannels": BOOL,
        "hiddenPageIds": TAGS,
        "settings": {
            "type": "object",
            "properties": {"allowSocialFeatures": BOOL, "enablePrivateSupportChannel": BOOL},
        },
    },
}
UPDATE_BODY: Schema = {
    "type": "object",
    "properties": {**_OFFERING_FIELDS, "overview": STR},
}
_DATE_FIELDS = frozenset({"start", "end", "earlyCloseOffDate"})
# What a null clears a field to: the value a new offering has (else None).
_CLEARED: dict[str, Any] = {
    f.name: f.default for f in dataclasses.fields(Offering) if f.default is not dataclasses.MISSING
}
SUMMARY_FIELDS = frozenset({"id", "name", "contentId", "start", "end", "info", "learnersCount"})


def _by_timing(state: State, timing: str | None) -> list[dict[str, Any]]:
    now = state.clock()
    return [
        offering_json(o)
        for o in state.offerings.values()
        if timing is None or o.timing(now) == timing
    ]


@ops.add("GET", "/offerings")
def list_offerings(call: Call) -> Reply:
    return 200, _by_timing(call.state, None)


@ops.add("GET", "/offerings/current")
def list_current(call: Call) -> Reply:
    return 200, _by_timing(call.state, "current")


@ops.add("GET", "/offerings/past")
def list_past(call: Call) -> Reply:
    return 200, _by_timing(call.state, "past")


@ops.add("GET", "/offerings/future")
def list_future(call: Call) -> Reply:
    return 200, _by_timing(call.state, "future")


@ops.add("GET", "/offerings/summary", query=("$top", "$orderby", "$filter"))
def summary(call: Call) -> Reply:
    rows = [activation_json(o) for o in call.state.offerings.values()]
    q = call.query
    _, selected = apply_query(
        rows, SUMMARY_FIELDS, q.get("$top"), q.get("$orderby"), q.get("$filter")
    )
    return 200, selected


@ops.add("GET", "/offerings/info/{textPattern}")
def search_info(call: Call) -> Reply:
    pattern = call.params["textPattern"]
    if len(pattern) < 3:
        raise bad_request(
            "TextPatternError", "Text pattern must be a minimum of 3 characters in length."
        )
    needle = pattern.lower()
    return 200, [
        activation_json(o) for o in call.state.offerings.values() if needle in o.info.lower()
    ]


@ops.add("GET", "/offerings/{offeringId}")
def get_offering(call: Call) -> Reply:
    return 200, offering_json(call.state.offering(call.params["offeringId"]))


def _check_dates(start: str, end: str | None, early: str | None, has_early: bool) -> None:
    if end is not None and parse_iso(end) < parse_iso(start):
        raise bad_request("IncompatibleParametersError", "end cannot be before start")
    if has_early and early is None:
        raise bad_request(
            "MissingInfoError", "The field 'earlyCloseOffDate' is missing or invalid."
        )


def _apply_fields(state: State, offering: Offering, body: dict[str, Any]) -> None:
    # A course cannot be cleared: a null contentId or rootContentId leaves it as it is.
    if body.get("contentId") is not None or body.get("rootContentId") is not None:
        course = (
            state.course(body["contentId"])
            if body.get("contentId") is not None
            else state.course_by_root(body["rootContentId"])
        )
        offering.content_id, offering.root_content_id = course.id, course.root_content_id
    simple = {
        "identifier": "identifier",
        "name": "name",
        "description": "description",
        "overview": "overview",
        "start": "start",
        "end": "end",
        "useRelativeDates": "use_relative_dates",
        "trailerVideoUrl": "trailer_video_url",
        "isReadonly": "is_readonly",
        "hasEarlyCloseOff": "has_early_close_off",
        "earlyCloseOffDate": "early_close_off_date",
    }
    for key, attr in simple.items():
        if key not in body:
            continue
        value = body[key]
        if value is None:  # null clears the field: back to a new offering's value
            if key != "start":  # (an offering keeps its start)
                setattr(offering, attr, _CLEARED.get(attr))
        else:
            setattr(offering, attr, canonical(value) if key in _DATE_FIELDS else value)
    if "badge" in body:
        offering.badge = None if body["badge"] is None else dict(body["badge"])
    if "metadata" in body and body["metadata"] is None:
        metadata: dict[str, Any] = {"category": None, "topic": None, "level": None, "tags": None}
    else:
        metadata = body.get("metadata") or {}
    for key in ("category", "topic", "level"):
        if key in metadata:
            setattr(offering, key, metadata[key])
    if "tags" in metadata:
        offering.tags = list(metadata["tags"] or [])


@ops.add("POST", "/offerings", body=CREATE_BODY)
def create_offering(call: Call) -> Reply:
    state, body = call.state, call.body
    if body.get("contentId") is None and body.get("rootContentId") is None:
        raise bad_request("InvalidContentError", "You need to specify content_id or rootContentId.")
    _check_dates(
        body["start"],
        body.get("end"),
        body.get("earlyCloseOffDate"),
        bool(body.get("hasEarlyCloseOff")),
    )
    course = (
        state.course(body["contentId"])
        if body.get("contentId") is not None
        else state.course_by_root(body["rootContentId"])
    )
    offering = Offering(
        id=state.new_push_id(),
        content_id=course.id,
        root_content_id=course.root_content_id,
        start=canonical(body["start"]),
        end=None,
        cover_image_url=course.cover_image_url,
        tasks_enabled=course.tasks_enabled,
        category=course.category,
        topic=course.topic,
        level=course.level,
        tags=list(course.tags),
        settings={
            "aggregateProgressScore": True,
            "allowSocialFeatures": True,
            "allowTasks": course.tasks_enabled,
            "enablePrivateSupportChannel": False,
            "strictStartDate": False,
            **{k: v for k, v in (body.get("settings") or {}).items() if v is not None},
        },
        hidden_page_ids=list(body.get("hiddenPageIds") or []),
    )
    _apply_fields(state, offering, body)
    offering.info = " ".join(
        p for p in (offering.name, offering.identifier, offering.description) if p
    )
    if body.get("createDefaultChannels"):
        for channel in (
            Channel(id=state.new_push_id(), title="General"),
            Channel(id=state.new_push_id(), title="Announcements", is_broadcast_only=True),
        ):
            offering.channels[channel.id] = channel
    state.offerings[offering.id] = offering
    return 201, offering_json(offering)


@ops.add("PATCH", "/offerings/{offeringId}", body=UPDATE_BODY)
def update_offering(call: Call) -> Reply:
    state, body = call.state, call.body
    offering = state.offering(call.params["offeringId"])
    start = body.get("start") or offering.start
    end = body.get("end", offering.end)
    has_early = body.get("hasEarlyCloseOff", offering.has_early_close_off)
    _check_dates(
        start, end, body.get("earlyCloseOffDate", offering.early_close_off_date), has_early
    )
    if body.get("identifier") is not None and any(
        o.identifier == body["identifier"] and o.id != offering.id for o in state.offerings.values()
    ):
        raise bad_request(
            "ObjectExistsError", f"The offering identifier {body['identifier']} already exists."
        )
    _apply_fields(state, offering, body)
    return 200, offering_json(offering)


@ops.add("GET", "/offerings/{offeringId}/badges")
def get_badge(call: Call) -> Reply:
    offering = call.state.offering(call.params["offeringId"])
    if offering.badge is None:
        raise not_found("badge of offering", offering.id)
    badge = offering.badge
    out: dict[str, Any] = {
        "title": badge.get("title", ""),
        "description": badge.get("description", ""),
        "criterias": {"hasCompletedCourse": True, "hasPassedMandatoryAssessedQuizzes": True},
        "badgeExpiry": dict(badge.get("badgeExpiry") or {"expires": False}),
        "badgeUrl": f"https://badges.example.com/{offering.id}.png",
        "openBadge": {
            "id": f"https://badges.example.com/{offering.id}",
            "type": "BadgeClass",
            "name": badge.get("title", ""),
            "description": badge.get("description", ""),
            "image": f"https://badges.example.com/{offering.id}.png",
            "issuer": f"https://badges.example.com/issuers/{call.state.org_id}",
            "criteria": {"narrative": "Complete the course."},
        },
    }
    return 200, out


def _metadata_op(field: str, schema: Schema) -> None:
    body: Schema = {"type": "object", "additionalProperties": False, "properties": {field: schema}}

    @ops.add("PUT", f"/offerings/{{offeringId}}/metadata/{field}", body=body)
    def update(call: Call) -> Reply:
        offering = call.state.offering(call.params["offeringId"])
        value = call.body.get(field)
        if field == "tags":
            offering.tags = list(value or [])
        else:
            setattr(offering, field, value)
        return 200, offering_json(offering)


for _field, _schema in (("tags", TAGS), ("category", STR), ("topic", STR), ("level", STR)):
    _metadata_op(_field, _schema)
