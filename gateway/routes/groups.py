"""Group chats over HTTP (issue 15): groups, membership, moderation, messages, reads.

The groups service decides everything (who may, in what order, with which limits: docs/
groups.md); the gateway names the caller (always the actor, from the token), checks shapes
and maps a refusal to HTTP with its details (gateway/group_refusals.py): 403 forbidden /
not a member / banned / muted (``until_ms``) / closed, 404 no such group (a private group is
404 to non-members) or message, 409 conflicts, 410 a dead invite link, 413 a text over its
limit, 422 bad input or a filter hit (``rule``), 429 slow mode or flood with ``Retry-After``
and ``retry_after_s``. Every route needs a token; writes count against the write limits.
Live delivery is the WebSocket ``/v1/ws/groups/{group_id}`` (gateway/routes/groups_live.py).
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query
from google.protobuf.message import Message

from gateway.auth import Principal
from gateway.deps import BackendsDep, UserDep, WriterDep
from gateway.errors import UpstreamUnavailable
from gateway.openapi import RETRY_AFTER
from gateway.ports import Backends, GroupsPort
from gateway.schemas import components_pb
from gateway.schemas_groups import (
    GROUP_ID_PATTERN,
    MAX_SEQ,
    AddMemberBody,
    AdminLogEntryOut,
    AdminLogOut,
    AppealBody,
    AppealDecisionBody,
    CloseBody,
    CommandOut,
    DecisionBody,
    EditBody,
    FiltersBody,
    GroupErrorOut,
    GroupId,
    GroupOut,
    GroupPageOut,
    HistoryOut,
    InviteLinkBody,
    JoinByLinkBody,
    JoinRequestBody,
    LinkId,
    MemberPageOut,
    MessageSeq,
    MuteBody,
    PostBody,
    ProfileBody,
    ReadBody,
    ReasonBody,
    ReportBody,
    RequestKey,
    RoleBody,
    SlowModeBody,
    TransferBody,
    UnreadOut,
    UnreadPageOut,
    UserId,
    command_out,
    group_out,
    member_page_out,
    message_out,
    policy_reason,
    right_value,
)
from planet.groups.v1 import group_events_pb2 as ev
from planet.groups.v1 import groups_service_pb2 as rpc

router = APIRouter(tags=["groups"])

_DESCRIPTIONS = {
    400: "A body that cannot be decoded at all.",
    401: "No token, or a token that is malformed, expired, or not from the identity provider.",
    403: "Refused: no right or rank (``missing_right``), not a member, banned, muted "
         "(``until_ms``), or the group is closed.",
    404: "No such group (a private group is not found by non-members), member, message or "
         "link.",
    409: "Contradicts the group's state (already a member, a pending request, a limit...).",
    410: "The invite link expired, is used up or was revoked.",
    413: "The body is over the gateway's limit, or the text over the message limit.",
    422: "A parameter or the body breaks a rule, or a block filter matched (``rule``).",
    429: "Slow mode or the flood limit (``retry_after_s``; also Retry-After), or a gateway "
         "rate limit.",
    503: "The groups service is unavailable; retry after Retry-After seconds.",
}
READ = (401, 403, 404, 422, 429, 503)
WRITE = (400, 401, 403, 404, 409, 413, 422, 429, 503)


def answers(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The documented error answers of a group route (a refusal's body has its details)."""
    out: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        entry: dict[str, Any] = {"model": GroupErrorOut, "description": _DESCRIPTIONS[status]}
        if status in (429, 503):
            entry["headers"] = RETRY_AFTER
        if status == 401:
            entry["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}}}
        out[status] = entry
    return out


def groups_port(backends: Backends) -> GroupsPort:
    """The groups service, or 503 where it is not wired."""
    if backends.groups is None:
        raise UpstreamUnavailable("group chats are not available here")
    return backends.groups


def _key(key: str | None) -> str:
    # Without a client key every call is a new command (the service dedups by this id).
    return key or uuid.uuid4().hex


async def _command(backends: Backends, user: Principal, name: str,
                   request: Message) -> CommandOut:
    return command_out(await groups_port(backends).command(user, name, request))


def _group_request(user: Principal, group_id: str, key: str | None) -> rpc.GroupRequest:
    return rpc.GroupRequest(actor_id=user.user_id, group_id=group_id, request_id=_key(key))


def _member_action(user: Principal, group_id: str, user_id: str, reason: str,
                   key: str | None) -> rpc.MemberActionRequest:
    return rpc.MemberActionRequest(actor_id=user.user_id, group_id=group_id,
                                   request_id=_key(key), user_id=user_id, reason=reason)


def _message_action(user: Principal, group_id: str, seq: int, reason: str,
                    key: str | None) -> rpc.MessageActionRequest:
    return rpc.MessageActionRequest(actor_id=user.user_id, group_id=group_id,
                                    request_id=_key(key), message_seq=seq, reason=reason)


# --- groups ---------------------------------------------------------------------------


@router.post("/v1/groups", status_code=201, response_model=CommandOut,
             responses=answers(*WRITE))
async def create_group(body: ProfileBody, user: WriterDep, backends: BackendsDep,
                       key: RequestKey = None) -> CommandOut:
    """Create a group (the caller needs an open creator identity and becomes its owner).
    The same Idempotency-Key lands on the same group."""
    return await _command(backends, user, "CreateGroup", rpc.CreateGroupRequest(
        actor_id=user.user_id, request_id=_key(key), profile=body.pb()))


Topic = Annotated[str, Query(max_length=30, description="Only groups with this topic.")]
Prefix = Annotated[str, Query(max_length=64, description="Only names starting with this.")]
Cursor = Annotated[str, Query(max_length=256, pattern="^[A-Za-z0-9_=:.-]*$",
                              description="next_cursor of the previous page.")]


@router.get("/v1/groups", response_model=GroupPageOut, responses=answers(*READ))
async def list_groups(user: UserDep, backends: BackendsDep, topic: Topic = "",
                      name_prefix: Prefix = "", cursor: Cursor = "",
                      limit: Annotated[int, Query(ge=1, le=100)] = 50) -> GroupPageOut:
    """Public open groups (private and closed ones are never listed): by id, of a topic when
    given; by casefolded name when a name prefix is given. Follow ``next_cursor`` (a page may
    be short while more remain)."""
    page = await groups_port(backends).list_groups(user, rpc.ListGroupsRequest(
        actor_id=user.user_id, topic=topic, name_prefix=name_prefix, cursor=cursor,
        limit=limit))
    return GroupPageOut(groups=[group_out(g) for g in page.groups],
                        next_cursor=page.next_cursor or None)


@router.get("/v1/groups/{group_id}", response_model=GroupOut, responses=answers(*READ))
async def get_group(group_id: GroupId, user: UserDep, backends: BackendsDep) -> GroupOut:
    """A group's profile and settings (a private group: members and operators only)."""
    return group_out(await groups_port(backends).get_group(
        user, rpc.GroupRequest(actor_id=user.user_id, group_id=group_id)))


@router.put("/v1/groups/{group_id}/info", response_model=CommandOut, responses=answers(*WRITE))
async def update_group(group_id: GroupId, body: ProfileBody, user: WriterDep,
                       backends: BackendsDep, key: RequestKey = None) -> CommandOut:
    """Replace the group's profile (change-info right)."""
    return await _command(backends, user, "UpdateGroupInfo", rpc.UpdateGroupInfoRequest(
        actor_id=user.user_id, group_id=group_id, request_id=_key(key), profile=body.pb()))


@router.post("/v1/groups/{group_id}/ownership", response_model=CommandOut,
             responses=answers(*WRITE))
async def transfer_ownership(group_id: GroupId, body: TransferBody, user: WriterDep,
                             backends: BackendsDep, key: RequestKey = None) -> CommandOut:
    """The owner hands the group to a member."""
    return await _command(backends, user, "TransferOwnership", rpc.TransferOwnershipRequest(
        actor_id=user.user_id, group_id=group_id, request_id=_key(key),
        new_owner_id=body.new_owner_id))


# --- joining and leaving ------------------------------------------------------------------


@router.post("/v1/groups/{group_id}/join", response_model=CommandOut, responses=answers(*WRITE))
async def join_group(group_id: GroupId, user: WriterDep, backends: BackendsDep,
                     key: RequestKey = None) -> CommandOut:
    """Join a public group whose join mode is free."""
    return await _command(backends, user, "JoinGroup", _group_request(user, group_id, key))


@router.post("/v1/groups/{group_id}/join-by-link", response_model=CommandOut,
             responses=answers(*WRITE, 410))
async def join_by_link(group_id: GroupId, body: JoinByLinkBody, user: WriterDep,
                       backends: BackendsDep, key: RequestKey = None) -> CommandOut:
    """Join by an invite link (410: expired, used up or revoked; a banned user: 403)."""
    return await _command(backends, user, "JoinByLink", rpc.JoinByLinkRequest(
        actor_id=user.user_id, group_id=group_id, request_id=_key(key), link_id=body.link_id))


@router.post("/v1/groups/{group_id}/join-requests", response_model=CommandOut,
             responses=answers(*WRITE))
async def request_to_join(group_id: GroupId, body: JoinRequestBody, user: WriterDep,
                          backends: BackendsDep, key: RequestKey = None) -> CommandOut:
    """Ask to join a group whose join mode is request."""
    return await _command(backends, user, "RequestToJoin", rpc.RequestToJoinRequest(
        actor_id=user.user_id, group_id=group_id, request_id=_key(key), note=body.note))


@router.post("/v1/groups/{group_id}/join-requests/{user_id}/decision", response_model=CommandOut,
             responses=answers(*WRITE))
async def decide_join_request(group_id: GroupId, user_id: UserId, body: DecisionBody,
                              user: WriterDep, backends: BackendsDep,
                              key: RequestKey = None) -> CommandOut:
    """Approve or decline a pending request (approve right)."""
    return await _command(backends, user, "DecideJoinRequest", rpc.DecideJoinRequestRequest(
        actor_id=user.user_id, group_id=group_id, request_id=_key(key), user_id=user_id,
        approve=body.approve, reason=body.reason))


@router.post("/v1/groups/{group_id}/leave", response_model=CommandOut, responses=answers(*WRITE))
async def leave_group(group_id: GroupId, user: WriterDep, backends: BackendsDep,
                      key: RequestKey = None) -> CommandOut:
    """Leave (the owner transfers ownership first)."""
    return await _command(backends, user, "LeaveGroup", _group_request(user, group_id, key))


# --- members and moderation -----------------------------------------------------------------


@router.get("/v1/groups/{group_id}/members", response_model=MemberPageOut,
            responses=answers(*READ))
async def list_members(group_id: GroupId, user: UserDep, backends: BackendsDep,
                       cursor: Cursor = "",
                       limit: Annotated[int, Query(ge=1, le=200)] = 100) -> MemberPageOut:
    """Members by role then user id (members only)."""
    return member_page_out(await groups_port(backends).list_members(user, rpc.ListMembersRequest(
        actor_id=user.user_id, group_id=group_id, cursor=cursor, limit=limit)))


@router.post("/v1/groups/{group_id}/members", response_model=CommandOut,
             responses=answers(*WRITE))
async def add_member(group_id: GroupId, body: AddMemberBody, user: WriterDep,
                     backends: BackendsDep, key: RequestKey = None) -> CommandOut:
    """Add a user directly (invite right; a banned user: 409)."""
    return await _command(backends, user, "AddMember",
                          _member_action(user, group_id, body.user_id, body.reason, key))


@router.put("/v1/groups/{group_id}/members/{user_id}/role", response_model=CommandOut,
            responses=answers(*WRITE))
async def set_role(group_id: GroupId, user_id: UserId, body: RoleBody, user: WriterDep,
                   backends: BackendsDep, key: RequestKey = None) -> CommandOut:
    """Set a member's role and an admin's rights (the owner; moderators: the promote right)."""
    roles = {"member": ev.MEMBER_ROLE_MEMBER, "moderator": ev.MEMBER_ROLE_MODERATOR,
             "admin": ev.MEMBER_ROLE_ADMIN}
    return await _command(backends, user, "SetMemberRole", rpc.SetMemberRoleRequest(
        actor_id=user.user_id, group_id=group_id, request_id=_key(key), user_id=user_id,
        role=roles[body.role], rights=[right_value(r) for r in body.rights],
        reason=body.reason))


@router.post("/v1/groups/{group_id}/members/{user_id}/mute", response_model=CommandOut,
             responses=answers(*WRITE))
async def mute_member(group_id: GroupId, user_id: UserId, body: MuteBody, user: WriterDep,
                      backends: BackendsDep, key: RequestKey = None) -> CommandOut:
    """Mute a member of lower rank for a duration (restrict right)."""
    return await _command(backends, user, "MuteMember", rpc.MuteMemberRequest(
        actor_id=user.user_id, group_id=group_id, request_id=_key(key), user_id=user_id,
        duration_s=body.duration_s, reason=body.reason))


@router.delete("/v1/groups/{group_id}/members/{user_id}/mute", response_model=CommandOut,
               responses=answers(*READ, 409))
async def unmute_member(group_id: GroupId, user_id: UserId, user: WriterDep,
                        backends: BackendsDep, key: RequestKey = None) -> CommandOut:
    """Lift a mute before its end (restrict right)."""
    return await _command(backends, user, "UnmuteMember",
                          _member_action(user, group_id, user_id, "", key))


@router.post("/v1/groups/{group_id}/members/{user_id}/kick", response_model=CommandOut,
             responses=answers(*WRITE))
async def kick_member(group_id: GroupId, user_id: UserId, body: ReasonBody, user: WriterDep,
                      backends: BackendsDep, key: RequestKey = None) -> CommandOut:
    """Remove a member of lower rank (ban right; they may join again)."""
    return await _command(backends, user, "KickMember",
                          _member_action(user, group_id, user_id, body.reason, key))


@router.put("/v1/groups/{group_id}/bans/{user_id}", response_model=CommandOut,
            responses=answers(*WRITE))
async def ban_member(group_id: GroupId, user_id: UserId, body: ReasonBody, user: WriterDep,
                     backends: BackendsDep, key: RequestKey = None) -> CommandOut:
    """Ban: remove and keep out by every way in, invite links included (ban right)."""
    return await _command(backends, user, "BanMember",
                          _member_action(user, group_id, user_id, body.reason, key))


@router.delete("/v1/groups/{group_id}/bans/{user_id}", response_model=CommandOut,
               responses=answers(*READ, 409))
async def unban_member(group_id: GroupId, user_id: UserId, user: WriterDep,
                       backends: BackendsDep, key: RequestKey = None) -> CommandOut:
    """Lift a ban (the user is not re-added; ban right)."""
    return await _command(backends, user, "UnbanMember",
                          _member_action(user, group_id, user_id, "", key))


@router.post("/v1/groups/{group_id}/invite-links", status_code=201, response_model=CommandOut,
             responses=answers(*WRITE))
async def create_invite_link(group_id: GroupId, body: InviteLinkBody, user: WriterDep,
                             backends: BackendsDep, key: RequestKey = None) -> CommandOut:
    """An invite link (invite right); ``link_id`` is its code."""
    return await _command(backends, user, "CreateInviteLink", rpc.CreateInviteLinkRequest(
        actor_id=user.user_id, group_id=group_id, request_id=_key(key),
        expires_at_ms=body.expires_at_ms, use_limit=body.use_limit, name=body.name))


@router.delete("/v1/groups/{group_id}/invite-links/{link_id}", response_model=CommandOut,
               responses=answers(*READ, 409))
async def revoke_invite_link(group_id: GroupId, link_id: LinkId, user: WriterDep,
                             backends: BackendsDep, key: RequestKey = None) -> CommandOut:
    """The link admits no one any more (invite right)."""
    return await _command(backends, user, "RevokeInviteLink", rpc.RevokeInviteLinkRequest(
        actor_id=user.user_id, group_id=group_id, request_id=_key(key), link_id=link_id))


@router.put("/v1/groups/{group_id}/slow-mode", response_model=CommandOut,
            responses=answers(*WRITE))
async def set_slow_mode(group_id: GroupId, body: SlowModeBody, user: WriterDep,
                        backends: BackendsDep, key: RequestKey = None) -> CommandOut:
    """Seconds between a member's messages, 0 off (slow-mode right; staff are exempt)."""
    return await _command(backends, user, "SetSlowMode", rpc.SetSlowModeRequest(
        actor_id=user.user_id, group_id=group_id, request_id=_key(key), seconds=body.seconds,
        reason=body.reason))


@router.put("/v1/groups/{group_id}/filters", response_model=CommandOut, responses=answers(*WRITE))
async def set_filters(group_id: GroupId, body: FiltersBody, user: WriterDep,
                      backends: BackendsDep, key: RequestKey = None) -> CommandOut:
    """Replace the keyword and link filters (filters right)."""
    return await _command(backends, user, "SetFilterRules", rpc.SetFilterRulesRequest(
        actor_id=user.user_id, group_id=group_id, request_id=_key(key),
        rules=[r.pb() for r in body.rules], reason=body.reason))


@router.post("/v1/groups/{group_id}/reports", status_code=201, response_model=CommandOut,
             responses=answers(*WRITE))
async def report_member(group_id: GroupId, body: ReportBody, user: WriterDep,
                        backends: BackendsDep, key: RequestKey = None) -> CommandOut:
    """Report a member or a message to the group's moderators (and operators if asked)."""
    return await _command(backends, user, "ReportMember", rpc.ReportMemberRequest(
        actor_id=user.user_id, group_id=group_id, request_id=_key(key), user_id=body.user_id,
        message_seq=body.message_seq, reason=policy_reason(body.reason), detail=body.detail,
        to_operators=body.to_operators))


BeforeSeq = Annotated[int, Query(ge=0, le=MAX_SEQ, description="Entries before this seq "
                                                               "(0: the newest).")]


@router.get("/v1/groups/{group_id}/admin-log", response_model=AdminLogOut,
            responses=answers(*READ))
async def admin_log(group_id: GroupId, user: UserDep, backends: BackendsDep,
                    before_seq: BeforeSeq = 0,
                    limit: Annotated[int, Query(ge=1, le=100)] = 50) -> AdminLogOut:
    """Moderation facts with actor and reason, newest first (staff)."""
    page = await groups_port(backends).admin_log(user, rpc.AdminLogRequest(
        actor_id=user.user_id, group_id=group_id, before_seq=before_seq, limit=limit))
    return AdminLogOut(entries=[AdminLogEntryOut(
        seq=e.seq, at_ms=e.at_ms, actor_id=e.actor_id, type=e.type, user_id=e.user_id or None,
        message_seq=e.message_seq or None, reason=e.reason) for e in page.entries],
        next_before_seq=page.next_before_seq or None)


# --- messages ------------------------------------------------------------------------------


@router.post("/v1/groups/{group_id}/messages", status_code=201, response_model=CommandOut,
             responses=answers(*WRITE))
async def post_message(group_id: GroupId, body: PostBody, user: WriterDep,
                       backends: BackendsDep, key: RequestKey = None) -> CommandOut:
    """Post (``held``: a hold filter kept it for review). 403 muted (``until_ms``), 413 too
    long, 422 filtered (``rule``), 429 slow mode or flood (``retry_after_s``)."""
    return await _command(backends, user, "PostMessage", rpc.PostMessageRequest(
        actor_id=user.user_id, group_id=group_id, request_id=_key(key), text=body.text,
        mentions=body.mentions, reply_to=body.reply_to, announcement=body.announcement,
        attachments=components_pb(body.attachments)))


Around = Annotated[int, Query(ge=0, le=MAX_SEQ, description="The seq to read around (0: the "
                                                            "newest); it is included.")]
Side = Annotated[int, Query(ge=0, le=100, description="Messages that way (0-100).")]


@router.get("/v1/groups/{group_id}/messages", response_model=HistoryOut,
            responses=answers(*READ))
async def history(group_id: GroupId, user: UserDep, backends: BackendsDep, around: Around = 0,
                  before: Side = 50, after: Side = 0) -> HistoryOut:
    """Messages around a seq, both ways, oldest first (members; a public group: anyone)."""
    page = await groups_port(backends).history(user, rpc.HistoryRequest(
        actor_id=user.user_id, group_id=group_id, around_seq=around, before=before,
        after=after))
    return HistoryOut(messages=[message_out(m) for m in page.messages],
                      has_before=page.has_before, has_after=page.has_after,
                      last_seq=page.last_seq)


@router.patch("/v1/groups/{group_id}/messages/{message_seq}", response_model=CommandOut,
              responses=answers(*WRITE))
async def edit_message(group_id: GroupId, message_seq: MessageSeq, body: EditBody,
                       user: WriterDep, backends: BackendsDep,
                       key: RequestKey = None) -> CommandOut:
    """Edit one's own message."""
    return await _command(backends, user, "EditMessage", rpc.EditMessageRequest(
        actor_id=user.user_id, group_id=group_id, request_id=_key(key), message_seq=message_seq,
        text=body.text, mentions=body.mentions))


@router.delete("/v1/groups/{group_id}/messages/{message_seq}", response_model=CommandOut,
               responses=answers(*READ, 409))
async def delete_message(group_id: GroupId, message_seq: MessageSeq, user: WriterDep,
                         backends: BackendsDep, key: RequestKey = None,
                         reason: Annotated[str, Query(max_length=500)] = "") -> CommandOut:
    """Delete one's own message, or anyone's (delete right; ``reason`` for the log)."""
    return await _command(backends, user, "DeleteMessage",
                          _message_action(user, group_id, message_seq, reason, key))


@router.post("/v1/groups/{group_id}/messages/{message_seq}/decision", response_model=CommandOut,
             responses=answers(*WRITE))
async def decide_held(group_id: GroupId, message_seq: MessageSeq, body: DecisionBody,
                      user: WriterDep, backends: BackendsDep,
                      key: RequestKey = None) -> CommandOut:
    """Release (a new message) or reject a held message (delete right)."""
    return await _command(backends, user, "DecideHeldMessage", rpc.DecideHeldMessageRequest(
        actor_id=user.user_id, group_id=group_id, request_id=_key(key), message_seq=message_seq,
        approve=body.approve, reason=body.reason))


Emoji = Annotated[str, Query(min_length=1, max_length=32,
                             description="The emoji (at most 32 bytes).")]


@router.put("/v1/groups/{group_id}/messages/{message_seq}/reactions", response_model=CommandOut,
            responses=answers(*READ, 409))
async def set_reaction(group_id: GroupId, message_seq: MessageSeq, emoji: Emoji,
                       user: WriterDep, backends: BackendsDep,
                       key: RequestKey = None) -> CommandOut:
    """React (at most 3 emoji per message and member)."""
    return await _command(backends, user, "SetReaction", rpc.ReactionRequest(
        actor_id=user.user_id, group_id=group_id, request_id=_key(key), message_seq=message_seq,
        emoji=emoji))


@router.delete("/v1/groups/{group_id}/messages/{message_seq}/reactions",
               response_model=CommandOut, responses=answers(*READ, 409))
async def remove_reaction(group_id: GroupId, message_seq: MessageSeq, emoji: Emoji,
                          user: WriterDep, backends: BackendsDep,
                          key: RequestKey = None) -> CommandOut:
    """Take a reaction back."""
    return await _command(backends, user, "RemoveReaction", rpc.ReactionRequest(
        actor_id=user.user_id, group_id=group_id, request_id=_key(key), message_seq=message_seq,
        emoji=emoji))


@router.put("/v1/groups/{group_id}/pins/{message_seq}", response_model=CommandOut,
            responses=answers(*READ, 409))
async def pin_message(group_id: GroupId, message_seq: MessageSeq, user: WriterDep,
                      backends: BackendsDep, key: RequestKey = None) -> CommandOut:
    """Pin a message (pin right; at most 20)."""
    return await _command(backends, user, "PinMessage",
                          _message_action(user, group_id, message_seq, "", key))


@router.delete("/v1/groups/{group_id}/pins/{message_seq}", response_model=CommandOut,
               responses=answers(*READ, 409))
async def unpin_message(group_id: GroupId, message_seq: MessageSeq, user: WriterDep,
                        backends: BackendsDep, key: RequestKey = None) -> CommandOut:
    """Unpin (pin right)."""
    return await _command(backends, user, "UnpinMessage",
                          _message_action(user, group_id, message_seq, "", key))


@router.put("/v1/groups/{group_id}/read-position", response_model=CommandOut,
            responses=answers(*WRITE))
async def set_read_position(group_id: GroupId, body: ReadBody, user: WriterDep,
                            backends: BackendsDep, key: RequestKey = None) -> CommandOut:
    """Mark read up to a seq (never backwards)."""
    return await _command(backends, user, "SetReadPosition", rpc.SetReadPositionRequest(
        actor_id=user.user_id, group_id=group_id, request_id=_key(key), read_seq=body.read_seq))


GroupIds = Annotated[list[Annotated[str, Query(pattern=GROUP_ID_PATTERN)]] | None, Query(
    max_length=100, description="Groups to count (none: every group of the caller).")]


@router.get("/v1/me/groups/unread", response_model=UnreadPageOut, responses=answers(*READ))
async def unread(user: UserDep, backends: BackendsDep, group_id: GroupIds = None
                 ) -> UnreadPageOut:
    """The caller's unread counts (and mentions among them) per group."""
    page = await groups_port(backends).unread(user, rpc.UnreadRequest(
        actor_id=user.user_id, group_ids=group_id or []))
    return UnreadPageOut(groups=[UnreadOut(
        group_id=g.group_id, unread=g.unread, read_seq=g.read_seq, last_seq=g.last_seq,
        mentions=g.mentions) for g in page.groups])


# --- closure ------------------------------------------------------------------------------


@router.post("/v1/groups/{group_id}/appeal", response_model=CommandOut, responses=answers(*WRITE))
async def appeal_closure(group_id: GroupId, body: AppealBody, user: WriterDep,
                         backends: BackendsDep, key: RequestKey = None) -> CommandOut:
    """The owner appeals a closure, once per closure."""
    return await _command(backends, user, "AppealClosure", rpc.AppealClosureRequest(
        actor_id=user.user_id, group_id=group_id, request_id=_key(key), text=body.text))


@router.post("/v1/operator/groups/{group_id}/close", response_model=CommandOut,
             responses=answers(*WRITE))
async def close_group(group_id: GroupId, body: CloseBody, user: WriterDep,
                      backends: BackendsDep, key: RequestKey = None) -> CommandOut:
    """Operators: close a group for a policy violation (the owner may appeal once)."""
    return await _command(backends, user, "CloseGroup", rpc.CloseGroupRequest(
        actor_id=user.user_id, group_id=group_id, request_id=_key(key),
        reason=policy_reason(body.reason), note=body.note))


@router.post("/v1/operator/groups/{group_id}/appeal-decision", response_model=CommandOut,
             responses=answers(*WRITE))
async def decide_closure_appeal(group_id: GroupId, body: AppealDecisionBody, user: WriterDep,
                                backends: BackendsDep, key: RequestKey = None) -> CommandOut:
    """Operators: reopen (grant) or keep closed."""
    return await _command(backends, user, "DecideClosureAppeal", rpc.DecideClosureAppealRequest(
        actor_id=user.user_id, group_id=group_id, request_id=_key(key), grant=body.grant,
        note=body.note))
