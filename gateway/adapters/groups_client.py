"""The groups service (services/groups) over gRPC: commands and reads, each signed for its
user; a refusal becomes a ``GroupRefused`` carrying the service's ``Refusal``.

The service sends its refusal as a serialized ``planet.groups.v1.Refusal`` in the trailing
metadata ``planet-refusal-bin`` (docs/groups.md); the gateway maps its stable code to HTTP
(``gateway/group_refusals.py``). A failure without one is translated as any other service's.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import grpc
from google.protobuf.message import DecodeError, Message

from gateway.adapters.grpc_errors import translate
from gateway.adapters.service_calls import CallSigner
from gateway.auth import Principal
from gateway.group_refusals import GroupRefused
from planet.groups.v1 import groups_service_pb2 as rpc
from planet.groups.v1 import groups_service_pb2_grpc as rpc_grpc

T = TypeVar("T")

REFUSAL_METADATA = "planet-refusal-bin"
SERVICE = "groups service"


def refusal_of(exc: grpc.aio.AioRpcError) -> rpc.Refusal | None:
    """The Refusal a failed call carries, if any."""
    metadata: Any = exc.trailing_metadata() or ()
    for key, value in metadata:
        if key == REFUSAL_METADATA and isinstance(value, bytes):
            refusal = rpc.Refusal()
            try:
                refusal.ParseFromString(value)
            except DecodeError:
                return None
            return refusal if refusal.code else None
    return None


class GrpcGroups:
    """GroupsPort over one grpc.aio channel."""

    def __init__(self, channel: grpc.aio.Channel, timeout_s: float, signer: CallSigner) -> None:
        self._stub = rpc_grpc.GroupsServiceStub(channel)
        self._signer = signer
        self._timeout_s = timeout_s

    async def _call(self, caller: Principal, method: Callable[..., Awaitable[T]],
                    request: Message) -> T:
        try:
            return await method(request, timeout=self._timeout_s,
                                metadata=self._signer.metadata(caller))
        except grpc.aio.AioRpcError as exc:
            refusal = refusal_of(exc)
            if refusal is not None:
                raise GroupRefused(refusal, exc.code().name) from None
            raise translate(exc, SERVICE) from None

    async def command(self, caller: Principal, name: str, request: Message
                      ) -> rpc.CommandResult:
        """The command RPC ``name`` (e.g. "PostMessage"), idempotent by its request_id."""
        method: Callable[..., Awaitable[rpc.CommandResult]] = getattr(self._stub, name)
        return await self._call(caller, method, request)

    async def get_group(self, caller: Principal, request: rpc.GroupRequest) -> rpc.GroupView:
        """A group's profile and settings (NOT_FOUND: none, or private and not the caller's)."""
        return await self._call(caller, self._stub.GetGroup, request)

    async def list_groups(self, caller: Principal, request: rpc.ListGroupsRequest
                          ) -> rpc.GroupPage:
        """Public groups."""
        return await self._call(caller, self._stub.ListGroups, request)

    async def list_members(self, caller: Principal, request: rpc.ListMembersRequest
                           ) -> rpc.MemberPage:
        """A group's members."""
        return await self._call(caller, self._stub.ListMembers, request)

    async def history(self, caller: Principal, request: rpc.HistoryRequest
                      ) -> rpc.HistoryPage:
        """Messages around a seq, as the caller may see them."""
        return await self._call(caller, self._stub.History, request)

    async def admin_log(self, caller: Principal, request: rpc.AdminLogRequest
                        ) -> rpc.AdminLogPage:
        """Moderation facts (staff)."""
        return await self._call(caller, self._stub.AdminLog, request)

    async def unread(self, caller: Principal, request: rpc.UnreadRequest) -> rpc.UnreadPage:
        """The caller's unread counts."""
        return await self._call(caller, self._stub.Unread, request)

    async def resolve_group_items(self, caller: Principal, group_ids: list[str]
                                  ) -> dict[str, str]:
        """The owner of each group the caller may read (others are left out)."""
        response: rpc.ResolveGroupItemsResponse = await self._call(
            caller, self._stub.ResolveGroupItems,
            rpc.ResolveGroupItemsRequest(actor_id=caller.user_id, group_ids=group_ids))
        return dict(response.owners)
