"""Group chats' gRPC part of the authorization matrix (test_system_authorization_matrix.py):
GroupsService's entry, the expected answer of every method and one request per method.

Every request names the matrix's ``owner`` as ``actor_id``, as the gateway would for the
owner's own call. The service takes the actor from the signed call, never from the request:
a call signed for anyone else (operators included) is PERMISSION_DENIED before anything is
read, and an unsigned, forged or expired call is UNAUTHENTICATED. The owner's calls get past
authorization to the domain, which answers as it would through the gateway (the HTTP rows in
groups_matrix.py): OK, or the refusal of the command's own rule (FAILED_PRECONDITION for a
conflict). Closing a group and deciding a closure appeal need the operator role signed into
the call: the owner, signed without it, is PERMISSION_DENIED by the domain.

Each method acts on a public group of its own, made by the owner over gRPC at its first call
(so no row depends on another's order): a member to act on, an invite link, a message of the
owner's and, for the join-request rows, a request-mode group with the member's pending
request.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from system_helpers import unique

from devstack.stack import Stack

SERVICE = "planet.groups.v1.GroupsService"
_NAME = SERVICE + "/"
SIGNED_IN = ("user", "other_user", "owner", "analyst", "operator")
OK, DENIED, CONFLICT = "OK", "PERMISSION_DENIED", "FAILED_PRECONDITION"


def _owner_gets(outcome: str) -> dict[str, str]:
    """The owner's call reaches the domain; anyone else signed in is refused the actor."""
    return {p: outcome if p == "owner" else DENIED for p in SIGNED_IN}


_CONFLICTS = (
    # The owner is a member already.
    "JoinGroup", "JoinByLink", "RequestToJoin",
    # The owner leaves only after transferring ownership.
    "LeaveGroup",
    # Nothing is held in the method's group.
    "DecideHeldMessage",
    # An open group has no closure to appeal.
    "AppealClosure",
)
# Operators' commands: the role comes from the signed call, which the owner's lacks.
_OPERATORS_ONLY = ("CloseGroup", "DecideClosureAppeal")
_COMMANDS = (
    "CreateGroup", "UpdateGroupInfo", "TransferOwnership", "JoinGroup", "JoinByLink",
    "RequestToJoin", "DecideJoinRequest", "AddMember", "LeaveGroup", "SetMemberRole",
    "MuteMember", "UnmuteMember", "KickMember", "BanMember", "UnbanMember",
    "CreateInviteLink", "RevokeInviteLink", "SetSlowMode", "SetFilterRules", "PostMessage",
    "EditMessage", "DeleteMessage", "DecideHeldMessage", "SetReaction", "RemoveReaction",
    "PinMessage", "UnpinMessage", "SetReadPosition", "ReportMember", "CloseGroup",
    "AppealClosure", "DecideClosureAppeal",
)
# ResolveGroupItems is telemetry's read (the owner of each group the caller may read): the
# owner resolves their own group (OK); the row is then as strict as every other.
_READS = ("GetGroup", "ListGroups", "ListMembers", "History", "AdminLog", "Unread",
          "ResolveGroupItems")


def _methods() -> tuple[str, ...]:
    return (*_COMMANDS, *_READS)


GROUPS_GRPC: dict[str, dict[str, str]] = {
    _NAME + m: _owner_gets(CONFLICT if m in _CONFLICTS else
                           DENIED if m in _OPERATORS_ONLY else OK)
    for m in _methods()
}


def groups_grpc_service() -> dict[str, tuple[Any, str, str]]:
    """GroupsService's entry of the matrix's services: the groups service serves it."""
    from planet.groups.v1 import groups_service_pb2

    return {SERVICE: (groups_service_pb2.DESCRIPTOR.services_by_name["GroupsService"],
                      "groups", "groups")}


def _profile(name: str, request_mode: bool = False) -> Any:
    """A whole public profile (a profile is always written whole: every field counts)."""
    from planet.groups.v1 import group_events_pb2 as ev

    return ev.GroupProfile(
        name=name, visibility=ev.GROUP_VISIBILITY_PUBLIC, member_limit=200_000,
        join_mode=ev.JOIN_MODE_REQUEST if request_mode else ev.JOIN_MODE_FREE)


@dataclass
class _Fixture:
    group_id: str
    member: str
    link_id: str
    message_seq: int


_FIXTURES: dict[str, _Fixture] = {}


def _fixture(stack: Stack, owner: str, method: str) -> _Fixture:
    """The method's own group, made once through the service as its owner and a member."""
    import grpc

    from planet.groups.v1 import groups_service_pb2 as rpc
    from planet.groups.v1 import groups_service_pb2_grpc as rpc_grpc

    if method in _FIXTURES:
        return _FIXTURES[method]
    requests = "JoinRequest" in method
    member = unique("ggm-member")

    def signed(user: str) -> tuple[tuple[str, str], ...]:
        return stack.service_auth.metadata("groups", user, [])

    with grpc.insecure_channel(f"127.0.0.1:{stack.ports.groups}") as channel:
        groups = rpc_grpc.GroupsServiceStub(channel)
        gid = groups.CreateGroup(rpc.CreateGroupRequest(
            actor_id=owner, request_id=unique("ggm"),
            profile=_profile("Matrix over gRPC", requests)), metadata=signed(owner),
            timeout=30).group_id
        if requests:  # a pending request for the owner to decide
            groups.RequestToJoin(rpc.RequestToJoinRequest(
                actor_id=member, group_id=gid, request_id=unique("ggm")),
                metadata=signed(member), timeout=30)
        else:
            groups.JoinGroup(rpc.GroupRequest(actor_id=member, group_id=gid,
                                              request_id=unique("ggm")),
                             metadata=signed(member), timeout=30)
        link = groups.CreateInviteLink(rpc.CreateInviteLinkRequest(
            actor_id=owner, group_id=gid, request_id=unique("ggm")),
            metadata=signed(owner), timeout=30).link_id
        seq = groups.PostMessage(rpc.PostMessageRequest(
            actor_id=owner, group_id=gid, request_id=unique("ggm"), text="matrix"),
            metadata=signed(owner), timeout=30).message_seq
    _FIXTURES[method] = _Fixture(gid, member, link, seq)
    return _FIXTURES[method]


def groups_grpc_request(stack: Stack, owner: str, method: str) -> Any:
    """The owner's request of one GroupsService method (its group made at the first call)."""
    from planet.content.v1 import reports_pb2 as rp
    from planet.groups.v1 import group_events_pb2 as ev
    from planet.groups.v1 import groups_service_pb2 as rpc

    name = method.removeprefix(_NAME)
    f = _fixture(stack, owner, method)
    base: dict[str, Any] = {"actor_id": owner, "group_id": f.group_id,
                            "request_id": unique("ggm-req")}
    on_member: dict[str, Any] = {**base, "user_id": f.member, "reason": "matrix"}
    on_message: dict[str, Any] = {**base, "message_seq": f.message_seq}
    requests: dict[str, Any] = {
        "CreateGroup": lambda: rpc.CreateGroupRequest(
            actor_id=owner, request_id=unique("ggm-req"),
            profile=_profile("Matrix made over gRPC")),
        "UpdateGroupInfo": lambda: rpc.UpdateGroupInfoRequest(
            **base, profile=_profile("Matrix renamed")),
        "TransferOwnership": lambda: rpc.TransferOwnershipRequest(
            **base, new_owner_id=f.member),
        "JoinGroup": lambda: rpc.GroupRequest(**base),
        "JoinByLink": lambda: rpc.JoinByLinkRequest(**base, link_id=f.link_id),
        "RequestToJoin": lambda: rpc.RequestToJoinRequest(**base, note="let me in"),
        "DecideJoinRequest": lambda: rpc.DecideJoinRequestRequest(
            **base, user_id=f.member, approve=True),
        "AddMember": lambda: rpc.MemberActionRequest(**base, user_id=unique("ggm-added")),
        "LeaveGroup": lambda: rpc.GroupRequest(**base),
        "SetMemberRole": lambda: rpc.SetMemberRoleRequest(
            **base, user_id=f.member, role=ev.MEMBER_ROLE_MODERATOR),
        "MuteMember": lambda: rpc.MuteMemberRequest(
            **base, user_id=f.member, duration_s=60, reason="matrix"),
        **{m: (lambda: rpc.MemberActionRequest(**on_member))
           for m in ("UnmuteMember", "KickMember", "BanMember", "UnbanMember")},
        "CreateInviteLink": lambda: rpc.CreateInviteLinkRequest(**base, name="matrix"),
        "RevokeInviteLink": lambda: rpc.RevokeInviteLinkRequest(**base, link_id=f.link_id),
        "SetSlowMode": lambda: rpc.SetSlowModeRequest(**base, seconds=5),
        "SetFilterRules": lambda: rpc.SetFilterRulesRequest(**base, rules=[ev.FilterRule(
            kind=ev.FILTER_KIND_KEYWORD, pattern="scam", action=ev.FILTER_ACTION_BLOCK)]),
        "PostMessage": lambda: rpc.PostMessageRequest(**base, text="matrix over gRPC"),
        "EditMessage": lambda: rpc.EditMessageRequest(**on_message, text="matrix, edited"),
        **{m: (lambda: rpc.MessageActionRequest(**on_message))
           for m in ("DeleteMessage", "PinMessage", "UnpinMessage")},
        "DecideHeldMessage": lambda: rpc.DecideHeldMessageRequest(**on_message, approve=True),
        **{m: (lambda: rpc.ReactionRequest(**on_message, emoji="👍"))
           for m in ("SetReaction", "RemoveReaction")},
        "SetReadPosition": lambda: rpc.SetReadPositionRequest(**base, read_seq=1),
        "ReportMember": lambda: rpc.ReportMemberRequest(
            **base, user_id=f.member, reason=rp.POLICY_REASON_SPAM),
        "CloseGroup": lambda: rpc.CloseGroupRequest(
            **base, reason=rp.POLICY_REASON_SPAM, note="matrix"),
        "AppealClosure": lambda: rpc.AppealClosureRequest(**base, text="matrix appeal"),
        "DecideClosureAppeal": lambda: rpc.DecideClosureAppealRequest(**base, grant=False),
        "GetGroup": lambda: rpc.GroupRequest(actor_id=owner, group_id=f.group_id),
        "ListGroups": lambda: rpc.ListGroupsRequest(actor_id=owner),
        "ListMembers": lambda: rpc.ListMembersRequest(actor_id=owner, group_id=f.group_id),
        "History": lambda: rpc.HistoryRequest(actor_id=owner, group_id=f.group_id,
                                              before=10),
        "AdminLog": lambda: rpc.AdminLogRequest(actor_id=owner, group_id=f.group_id),
        "Unread": lambda: rpc.UnreadRequest(actor_id=owner),
        "ResolveGroupItems": lambda: rpc.ResolveGroupItemsRequest(  # type: ignore[attr-defined,unused-ignore]
            actor_id=owner, group_ids=[f.group_id]),
    }
    return requests[name]()
