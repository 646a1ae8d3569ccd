"""Channels, their learners, and channel analytics (posts, comments, replies)."""

from __future__ import annotations

from ..analytics import channel_comments, channel_posts
from ..errors import bad_request, not_found
from ..registry import Call, OperationList, Reply
from ..state import Channel, Offering, State
from ..validation import BOOL, Schema
from ..views import channel_json

ops = OperationList()

CREATE_BODY: Schema = {
    "type": "object",
    "required": ["title"],
    "properties": {"title": {"type": "string", "minLength": 1}, "isBroadcastOnly": BOOL},
}
UPDATE_BODY: Schema = {
    "type": "object",
    "properties": {
        "title": {"type": "string", "minLength": 1},
        "isBroadcastOnly": BOOL,
        "privateSupport": BOOL,
        "groupDiscussion": BOOL,
        "group": {"type": "object", "properties": {"autoAssign": BOOL}},
    },
}
EMAIL_BODY: Schema = {
    "type": "object",
    "additionalProperties": False,
    "required": ["email"],
    "properties": {"email": {"type": "string", "minLength": 1}},
}


def _channel(state: State, offering_id: str, channel_id: str) -> tuple[Offering, Channel]:
    offering = state.offering(offering_id)
    channel = offering.channels.get(channel_id)
    if channel is None:
        raise not_found("channel", channel_id)
    return offering, channel


def _group_channel(state: State, offering_id: str, channel_id: str) -> tuple[Offering, Channel]:
    offering, channel = _channel(state, offering_id, channel_id)
    if not channel.group_discussion:
        raise bad_request(
            "InvalidGroupChannelError", f"Channel {channel.id} is not a group discussion channel."
        )
    return offering, channel


@ops.add("GET", "/offerings/{offeringId}/channels")
def list_channels(call: Call) -> Reply:
    offering = call.state.offering(call.params["offeringId"])
    return 200, [channel_json(c) for c in offering.channels.values()]


@ops.add("POST", "/offerings/{offeringId}/channels", body=CREATE_BODY)
def create_channel(call: Call) -> Reply:
    state = call.state
    offering = state.offering(call.params["offeringId"])
    channel = Channel(
        id=state.new_push_id(),
        title=call.body["title"],
        is_broadcast_only=bool(call.body.get("isBroadcastOnly")),
    )
    offering.channels[channel.id] = channel
    return 201, channel_json(channel)


@ops.add("PATCH", "/offerings/{offeringId}/channels/{channelId}", body=UPDATE_BODY)
def update_channel(call: Call) -> Reply:
    _, channel = _channel(call.state, call.params["offeringId"], call.params["channelId"])
    body = call.body
    # null clears a flag (false)
    flags = {
        "isBroadcastOnly": bool(body.get("isBroadcastOnly", channel.is_broadcast_only)),
        "privateSupport": bool(body.get("privateSupport", channel.private_support)),
        "groupDiscussion": bool(body.get("groupDiscussion", channel.group_discussion)),
    }
    if sum(flags.values()) > 1:
        raise bad_request(
            "InvalidChannelPropertiesError",
            "A channel can only have one of these properties set as true: "
            "groupDiscussion, isBroadcastOnly or privateSupport",
        )
    channel.title = body.get("title", channel.title)
    channel.is_broadcast_only = flags["isBroadcastOnly"]
    channel.private_support = flags["privateSupport"]
    channel.group_discussion = flags["groupDiscussion"]
    channel.auto_assign = bool((body.get("group") or {}).get("autoAssign", channel.auto_assign))
    return 200, channel_json(channel)


@ops.add("POST", "/offerings/{offeringId}/channels/{channelId}/learners", body=EMAIL_BODY)
def add_channel_learner(call: Call) -> Reply:
    state = call.state
    offering, channel = _group_channel(state, call.params["offeringId"], call.params["channelId"])
    enrolment = state.enrolment(offering, call.body["email"], learner=True)
    if enrolment.email in channel.learners:
        raise bad_request(
            "ObjectExistsError",
            f"The user {call.body['email']} already exists in the channel {channel.id}.",
        )
    channel.learners[enrolment.email] = None
    return 204, None


@ops.add("DELETE", "/offerings/{offeringId}/channels/{channelId}/learners", body=EMAIL_BODY)
def remove_channel_learner(call: Call) -> Reply:
    state = call.state
    _, channel = _group_channel(state, call.params["offeringId"], call.params["channelId"])
    user = state.user(call.body["email"])
    if user.key not in channel.learners:
        raise bad_request(
            "UserNotInChannelError",
            f"The user {user.email} is not a learner in the channel {channel.id}.",
        )
    del channel.learners[user.key]
    return 204, None


@ops.add("GET", "/offerings/{offeringId}/channels/{channelId}/learners")
def list_channel_learners(call: Call) -> Reply:
    state = call.state
    _, channel = _group_channel(state, call.params["offeringId"], call.params["channelId"])
    out = channel_json(channel)
    out["learners"] = [state.users[k].email for k in channel.learners]
    return 200, out


@ops.add("GET", "/offerings/{offeringId}/analytics/channels/{channelId}/posts")
def list_posts(call: Call) -> Reply:
    offering, channel = _channel(call.state, call.params["offeringId"], call.params["channelId"])
    return 200, channel_posts(call.state, offering, channel)


@ops.add("GET", "/offerings/{offeringId}/analytics/channels/{channelId}/comments")
def list_comments(call: Call) -> Reply:
    offering, channel = _channel(call.state, call.params["offeringId"], call.params["channelId"])
    return 200, channel_comments(call.state, offering, channel, replies=False)


@ops.add("GET", "/offerings/{offeringId}/analytics/channels/{channelId}/replies")
def list_replies(call: Call) -> Reply:
    offering, channel = _channel(call.state, call.params["offeringId"], call.params["channelId"])
    return 200, channel_comments(call.state, offering, channel, replies=True)
