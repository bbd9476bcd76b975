"""GroupsService over grpc.aio, plus the standard health service.

Every call is authenticated by ``planetkit.service_auth_server`` and made by the gateway for
an end user: ``actor_id`` must be that user (PERMISSION_DENIED otherwise), and the operator
role comes from the signed call, never from the request. Everything else is the domain's:
a Refusal aborts the call with its gRPC status and the serialized ``planet.groups.v1.Refusal``
in the trailing metadata ``planet-refusal-bin`` (the status details the gateway maps to 4xx).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import grpc
from google.protobuf.message import Message
from grpc_health.v1 import health_pb2_grpc

from planet.groups.v1 import groups_service_pb2 as rpc
from planet.groups.v1 import groups_service_pb2_grpc as rpc_grpc
from planetkit.grpc_health import Health
from planetkit.service_auth import Caller, current_caller
from planetkit.service_auth_assertion import AssertionVerifier
from planetkit.service_auth_server import MethodPolicy, authenticating_server, method_name
from planetkit.service_identities import GATEWAY
from services.groups.adapters.creators import CreatorCheckUnavailable
from services.groups.adapters.errors import NotServing
from services.groups.adapters.kafka_log import LogUnavailable
from services.groups.domain import commands as c
from services.groups.domain.refusals import GRPC_STATUS, Refusal
from services.groups.domain.validation import Invalid

SERVICE_NAME = rpc.DESCRIPTOR.services_by_name["GroupsService"].full_name
OPERATOR_ROLES = frozenset({"operator"})
REFUSAL_METADATA = "planet-refusal-bin"
Context = grpc.aio.ServicerContext[Any, Any]


def _command_builders() -> dict[str, Callable[[Any], c.Command]]:
    """Each command RPC's request -> the domain's command (actor from the request, checked
    against the signed caller before)."""
    def mentions(req: Any) -> tuple[str, ...]:
        return tuple(req.mentions)
    return {
        "CreateGroup": lambda q: c.CreateGroup(q.actor_id, "", q.profile),
        "UpdateGroupInfo": lambda q: c.UpdateInfo(q.actor_id, q.group_id, q.profile),
        "TransferOwnership": lambda q: c.TransferOwnership(q.actor_id, q.group_id,
                                                           q.new_owner_id),
        "JoinGroup": lambda q: c.Join(q.actor_id, q.group_id),
        "JoinByLink": lambda q: c.JoinByLink(q.actor_id, q.group_id, q.link_id),
        "RequestToJoin": lambda q: c.RequestJoin(q.actor_id, q.group_id, q.note),
        "DecideJoinRequest": lambda q: c.DecideJoinRequest(q.actor_id, q.group_id, q.user_id,
                                                           q.approve, q.reason),
        "AddMember": lambda q: c.AddMember(q.actor_id, q.group_id, q.user_id, q.reason),
        "LeaveGroup": lambda q: c.Leave(q.actor_id, q.group_id),
        "SetMemberRole": lambda q: c.SetRole(q.actor_id, q.group_id, q.user_id, q.role,
                                             frozenset(q.rights), q.reason),
        "MuteMember": lambda q: c.Mute(q.actor_id, q.group_id, q.user_id, q.duration_s,
                                       q.reason),
        "UnmuteMember": lambda q: c.Unmute(q.actor_id, q.group_id, q.user_id, q.reason),
        "KickMember": lambda q: c.Kick(q.actor_id, q.group_id, q.user_id, q.reason),
        "BanMember": lambda q: c.Ban(q.actor_id, q.group_id, q.user_id, q.reason),
        "UnbanMember": lambda q: c.Unban(q.actor_id, q.group_id, q.user_id, q.reason),
        "CreateInviteLink": lambda q: c.CreateInviteLink(q.actor_id, q.group_id, "",
                                                         q.expires_at_ms, q.use_limit, q.name),
        "RevokeInviteLink": lambda q: c.RevokeInviteLink(q.actor_id, q.group_id, q.link_id,
                                                         q.reason),
        "SetSlowMode": lambda q: c.SetSlowMode(q.actor_id, q.group_id, q.seconds, q.reason),
        "SetFilterRules": lambda q: c.SetFilters(q.actor_id, q.group_id, tuple(q.rules),
                                                 q.reason),
        "PostMessage": lambda q: c.PostMessage(q.actor_id, q.group_id, q.text, mentions(q),
                                               q.reply_to, tuple(q.attachments),
                                               q.announcement),
        "EditMessage": lambda q: c.EditMessage(q.actor_id, q.group_id, q.message_seq, q.text,
                                               mentions(q)),
        "DeleteMessage": lambda q: c.DeleteMessage(q.actor_id, q.group_id, q.message_seq,
                                                   q.reason),
        "DecideHeldMessage": lambda q: c.DecideHeld(q.actor_id, q.group_id, q.message_seq,
                                                    q.approve, q.reason),
        "SetReaction": lambda q: c.SetReaction(q.actor_id, q.group_id, q.message_seq, q.emoji),
        "RemoveReaction": lambda q: c.RemoveReaction(q.actor_id, q.group_id, q.message_seq,
                                                     q.emoji),
        "PinMessage": lambda q: c.Pin(q.actor_id, q.group_id, q.message_seq),
        "UnpinMessage": lambda q: c.Unpin(q.actor_id, q.group_id, q.message_seq),
        "SetReadPosition": lambda q: c.SetReadPosition(q.actor_id, q.group_id, q.read_seq),
        "ReportMember": lambda q: c.Report(q.actor_id, q.group_id, q.user_id, q.reason,
                                           q.message_seq, q.detail, q.to_operators),
        "CloseGroup": lambda q: c.CloseGroup(q.actor_id, q.group_id, q.reason, q.note),
        "AppealClosure": lambda q: c.AppealClosure(q.actor_id, q.group_id, q.text),
        "DecideClosureAppeal": lambda q: c.DecideAppeal(q.actor_id, q.group_id, q.grant,
                                                        q.note),
    }


COMMANDS = _command_builders()
READS = ("GetGroup", "ListGroups", "ListMembers", "History", "AdminLog", "Unread",
         "ResolveGroupItems")
# Only the gateway calls, for its end users (operators by the role it signs).
POLICY: MethodPolicy = {method_name(SERVICE_NAME, m): frozenset({GATEWAY})
                        for m in (*COMMANDS, *READS)}


class UseCases(Protocol):
    """What the servicer calls (services.groups.handlers.GroupsHandlers)."""

    async def command(self, cmd: c.Command, request_id: str,
                      operator: bool = False) -> rpc.CommandResult | Refusal:
        """Decide and append, or the first result of a retry."""

    @property
    def reads(self) -> Any:
        """services.groups.reads.Reads."""


def is_operator(caller: Caller) -> bool:
    """Whether the end user holds the operator role."""
    return bool(caller.user_id) and caller.has_any_role(OPERATOR_ROLES)


async def _refuse(context: Context, refusal: Refusal) -> None:
    await context.abort(getattr(grpc.StatusCode, GRPC_STATUS[refusal.code]), refusal.message,
                        ((REFUSAL_METADATA, refusal.pb().SerializeToString()),))


class GroupsServicer:
    """The RPCs: each command through ``command``, each read through ``reads``."""

    def __init__(self, use_cases: UseCases) -> None:
        self._u = use_cases

    async def _call(self, request: Any, context: Context,
                    call: Callable[[bool], Awaitable[Message | Refusal]]) -> Message:
        caller = current_caller()
        if not caller.user_id or caller.user_id != request.actor_id:
            await context.abort(grpc.StatusCode.PERMISSION_DENIED,
                                "actor_id must be the end user the call is made for")
        try:
            answer = await call(is_operator(caller))
        except Invalid as exc:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        except (LogUnavailable, CreatorCheckUnavailable, NotServing) as exc:
            await context.abort(grpc.StatusCode.UNAVAILABLE, str(exc))
        if isinstance(answer, Refusal):
            await _refuse(context, answer)
        assert not isinstance(answer, Refusal)
        return answer

    async def GetGroup(self, request: rpc.GroupRequest, context: Context) -> Message:
        """A group's profile and settings."""
        async def call(op: bool) -> Message | Refusal:
            return self._u.reads.get_group(request.group_id, request.actor_id, op)  # type: ignore[no-any-return]
        return await self._call(request, context, call)

    async def ListGroups(self, request: rpc.ListGroupsRequest, context: Context) -> Message:
        """Public groups."""
        async def call(op: bool) -> Message | Refusal:
            return self._u.reads.list_groups(request)  # type: ignore[no-any-return]
        return await self._call(request, context, call)

    async def ListMembers(self, request: rpc.ListMembersRequest, context: Context) -> Message:
        """A group's members."""
        async def call(op: bool) -> Message | Refusal:
            return self._u.reads.list_members(request, op)  # type: ignore[no-any-return]
        return await self._call(request, context, call)

    async def History(self, request: rpc.HistoryRequest, context: Context) -> Message:
        """Messages around a position."""
        async def call(op: bool) -> Message | Refusal:
            return self._u.reads.history(request, op)  # type: ignore[no-any-return]
        return await self._call(request, context, call)

    async def AdminLog(self, request: rpc.AdminLogRequest, context: Context) -> Message:
        """Moderation facts."""
        async def call(op: bool) -> Message | Refusal:
            return self._u.reads.admin_log(request, op)  # type: ignore[no-any-return]
        return await self._call(request, context, call)

    async def Unread(self, request: rpc.UnreadRequest, context: Context) -> Message:
        """Unread counts."""
        async def call(op: bool) -> Message | Refusal:
            return self._u.reads.unread(request)  # type: ignore[no-any-return]
        return await self._call(request, context, call)

    async def ResolveGroupItems(self, request: rpc.ResolveGroupItemsRequest,
                                context: Context) -> Message:
        """The owners of the groups the caller may read (telemetry's dwell on groups)."""
        async def call(op: bool) -> Message | Refusal:
            return self._u.reads.resolve_group_items(request)  # type: ignore[no-any-return]
        return await self._call(request, context, call)


def _command_method(name: str) -> Callable[..., Awaitable[Message]]:
    build = COMMANDS[name]

    async def method(self: GroupsServicer, request: Any, context: Context) -> Message:
        async def call(op: bool) -> Message | Refusal:
            return await self._u.command(build(request), request.request_id, operator=op)
        return await self._call(request, context, call)
    method.__name__ = name
    method.__doc__ = f"{name}: decided by the domain, appended once per request id."
    return method


for _name in COMMANDS:
    setattr(GroupsServicer, _name, _command_method(_name))


def new_health() -> Health:
    """grpc.health.v1 on the service's port: NOT_SERVING until its stores are caught up."""
    return Health(SERVICE_NAME)


def make_server(servicer: GroupsServicer, health_: Health,
                verifier: AssertionVerifier) -> grpc.aio.Server:
    """A grpc.aio server carrying both services, authenticating every call but health."""
    server = authenticating_server(verifier, POLICY)
    rpc_grpc.add_GroupsServiceServicer_to_server(servicer, server)  # type: ignore[arg-type]
    health_pb2_grpc.add_HealthServicer_to_server(health_.servicer, server)
    return server
