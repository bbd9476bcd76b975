"""The social servicer's relations RPCs (a mixin of grpc_server.SocialServicer) and their
part of the method policy.

Blocks and mutes are the caller's own: the gateway calls for the end user, who acts and
lists only for themselves (``user_id`` must be that end user); nobody, operators included,
reads another user's blocks or mutes through this API.
"""

from __future__ import annotations

from typing import Protocol

from planet.social.v1 import social_service_pb2 as rpc
from planetkit.service_auth import current_caller
from planetkit.service_auth_server import MethodPolicy, method_name
from planetkit.service_identities import CONTENT, GATEWAY
from services.social.adapters.grpc_common import SERVICE_NAME, Context, holder, run

RELATIONS_POLICY: MethodPolicy = {
    method_name(SERVICE_NAME, m): frozenset({GATEWAY}) for m in (
        "Block", "Unblock", "Mute", "Unmute", "ListBlocked", "ListMuted")} | {
    # Content asks before it records a comment, like or share: nobody else reads who
    # blocks whom (the gateway's users read only their own lists, above).
    method_name(SERVICE_NAME, "GetRelation"): frozenset({CONTENT})}


class RelationUseCases(Protocol):
    """What the servicer calls (services.social.relations.RelationHandlers)."""

    async def decide(self, action: str, user: str, other: str) -> rpc.RelationState:
        """block, unblock, mute or unmute."""

    def page(self, which: str, user: str, cursor: str, limit: int) -> rpc.FollowPage:
        """A page of the user's ``blocked`` or ``muted`` users."""

    def relation(self, user: str, other: str) -> rpc.RelationState:
        """``user``'s relation to ``other`` (content's internal check)."""


class RelationsRpc:
    """Mixed into SocialServicer (which sets ``_relations``)."""

    _relations: RelationUseCases

    async def _relate(self, action: str, request: rpc.RelationRequest,
                      context: Context) -> rpc.RelationState:
        async def call() -> rpc.RelationState:
            holder(current_caller(), request.user_id)
            return await self._relations.decide(action, request.user_id, request.other_id)
        return await run(context, call)

    async def GetRelation(self, request: rpc.RelationRequest,
                          context: Context) -> rpc.RelationState:
        """user_id's relation to other_id (blocking: user_id blocks other_id); content only,
        for any pair (it checks the author of the item a user acts on)."""
        async def call() -> rpc.RelationState:
            return self._relations.relation(request.user_id, request.other_id)
        return await run(context, call)

    async def Block(self, request: rpc.RelationRequest,
                    context: Context) -> rpc.RelationState:
        """The caller blocks a user: any follow between the two ends, either way."""
        return await self._relate("block", request, context)

    async def Unblock(self, request: rpc.RelationRequest,
                      context: Context) -> rpc.RelationState:
        """The caller lifts their block of a user."""
        return await self._relate("unblock", request, context)

    async def Mute(self, request: rpc.RelationRequest,
                   context: Context) -> rpc.RelationState:
        """The caller mutes a user."""
        return await self._relate("mute", request, context)

    async def Unmute(self, request: rpc.RelationRequest,
                     context: Context) -> rpc.RelationState:
        """The caller unmutes a user."""
        return await self._relate("unmute", request, context)

    async def _list_relations(self, which: str, request: rpc.ListFollowsRequest,
                    context: Context) -> rpc.FollowPage:
        async def call() -> rpc.FollowPage:
            holder(current_caller(), request.user_id)
            return self._relations.page(which, request.user_id, request.cursor, request.limit)
        return await run(context, call)

    async def ListBlocked(self, request: rpc.ListFollowsRequest,
                          context: Context) -> rpc.FollowPage:
        """The caller's own blocked users, in user id order."""
        return await self._list_relations("blocked", request, context)

    async def ListMuted(self, request: rpc.ListFollowsRequest,
                        context: Context) -> rpc.FollowPage:
        """The caller's own muted users, in user id order."""
        return await self._list_relations("muted", request, context)
