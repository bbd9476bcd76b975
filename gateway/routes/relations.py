"""The caller's blocks and mutes: put, delete, and their own lists.

The social service decides (a block ends any follow between the two, either way, and stops
the blocked user from following; nobody blocks or mutes themselves; unknown users are 404;
idempotent repeats); the gateway names the caller (always the actor: there is no route to
act for or read another user's blocks or mutes), checks shapes, rate-limits the writes and
documents the answers.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel

from gateway.auth import Principal
from gateway.deps import BackendsDep, UserDep, WriterDep
from gateway.ids import MAX_USER_ID_LENGTH
from gateway.openapi import AUTHED, errors
from gateway.ports import Backends
from gateway.routes.follows import Cursor, FollowPageOut, Limit, page_out, social_port
from planet.social.v1 import social_service_pb2 as rpc

router = APIRouter(tags=["blocks and mutes"])

OtherId = Annotated[str, Path(min_length=1, max_length=MAX_USER_ID_LENGTH,
                              description="The other user's id.")]
RELATION_404 = "No user with that id."
RELATION_422 = "A bad parameter, or the caller named themselves (nobody blocks or mutes " \
               "themselves)."


class RelationOut(BaseModel):
    """The caller's relation to the other user after the call."""

    blocking: bool
    muting: bool
    following: bool


def _out(state: rpc.RelationState) -> RelationOut:
    return RelationOut(blocking=state.blocking, muting=state.muting, following=state.following)


async def _relate(action: str, other: str, user: Principal, backends: Backends) -> RelationOut:
    return _out(await social_port(backends).relate(user, action, rpc.RelationRequest(
        user_id=user.user_id, other_id=other)))


_WRITE = errors(*AUTHED, 404, s404=RELATION_404, s422=RELATION_422)


@router.put("/v1/me/blocks/{user_id}", response_model=RelationOut, responses=_WRITE)
async def block(user_id: OtherId, user: WriterDep, backends: BackendsDep) -> RelationOut:
    """Block a user: any follow between you ends, either way, and they cannot follow you
    (idempotent)."""
    return await _relate("block", user_id, user, backends)


@router.delete("/v1/me/blocks/{user_id}", response_model=RelationOut, responses=_WRITE)
async def unblock(user_id: OtherId, user: WriterDep, backends: BackendsDep) -> RelationOut:
    """Lift your block of a user (follows it ended stay ended; idempotent)."""
    return await _relate("unblock", user_id, user, backends)


@router.put("/v1/me/mutes/{user_id}", response_model=RelationOut, responses=_WRITE)
async def mute(user_id: OtherId, user: WriterDep, backends: BackendsDep) -> RelationOut:
    """Mute a user: their posts and notifications are hidden from you; follows stay
    (idempotent)."""
    return await _relate("mute", user_id, user, backends)


@router.delete("/v1/me/mutes/{user_id}", response_model=RelationOut, responses=_WRITE)
async def unmute(user_id: OtherId, user: WriterDep, backends: BackendsDep) -> RelationOut:
    """Unmute a user (idempotent)."""
    return await _relate("unmute", user_id, user, backends)


async def _list(which: str, user: Principal, backends: Backends, cursor: str,
                limit: int) -> FollowPageOut:
    return page_out(await social_port(backends).list_relations(user, which, rpc.ListFollowsRequest(
        user_id=user.user_id, cursor=cursor, limit=limit)))


@router.get("/v1/me/blocks", response_model=FollowPageOut, responses=errors(*AUTHED))
async def blocked(user: UserDep, backends: BackendsDep, cursor: Cursor = "",
                  limit: Limit = 100) -> FollowPageOut:
    """Whom you block, in user id order, a page at a time (only you see it)."""
    return await _list("blocked", user, backends, cursor, limit)


@router.get("/v1/me/mutes", response_model=FollowPageOut, responses=errors(*AUTHED))
async def muted(user: UserDep, backends: BackendsDep, cursor: Cursor = "",
                limit: Limit = 100) -> FollowPageOut:
    """Whom you mute, in user id order, a page at a time (only you see it)."""
    return await _list("muted", user, backends, cursor, limit)
