"""Mappings between offerings and external course ids.

``GET /course-mappings`` answers ``{offeringId: externalCourseId}``; an offering mapped to
several external courses lists them comma-separated.
"""

from __future__ import annotations

from ..errors import not_found
from ..registry import Call, OperationList, Reply

ops = OperationList()


@ops.add("GET", "/course-mappings")
def list_mappings(call: Call) -> Reply:
    return 200, {oid: ",".join(ext) for oid, ext in call.state.course_mappings.items() if ext}


@ops.add("GET", "/course-mappings/externalcourse/{externalCourseId}")
def offerings_for_external(call: Call) -> Reply:
    external = call.params["externalCourseId"]
    found = [oid for oid, ext in call.state.course_mappings.items() if external in ext]
    if not found:
        raise not_found("course mapping", external)
    return 200, found


@ops.add("GET", "/course-mappings/{offeringId}")
def externals_for_offering(call: Call) -> Reply:
    offering = call.state.offering(call.params["offeringId"])
    return 200, list(call.state.course_mappings.get(offering.id, []))


@ops.add("PUT", "/course-mappings/{offeringId}/{externalCourseId}")
def add_mapping(call: Call) -> Reply:
    offering = call.state.offering(call.params["offeringId"])
    mapped = call.state.course_mappings.setdefault(offering.id, [])
    if call.params["externalCourseId"] not in mapped:
        mapped.append(call.params["externalCourseId"])
    return 200, list(mapped)


@ops.add("DELETE", "/course-mappings/{offeringId}/{externalCourseId}")
def remove_mapping(call: Call) -> Reply:
    offering = call.state.offering(call.params["offeringId"])
    external = call.params["externalCourseId"]
    mapped = call.state.course_mappings.get(offering.id, [])
    if external not in mapped:
        raise not_found("course mapping", f"{offering.id}/{external}")
    mapped.remove(external)
    if not mapped:
        del call.state.course_mappings[offering.id]
    return 200, list(mapped)
