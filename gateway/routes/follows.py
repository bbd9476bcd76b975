"""Follow, unfollow and the bell for a creator, and follower/following lists.

The social service decides (no self-follow, only existing creators, a bell needs a follow,
idempotent repeats); the gateway names the caller, checks shapes, rate-limits the writes
and documents the answers.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel

from gateway.deps import BackendsDep, UserDep, WriterDep
from gateway.errors import UpstreamUnavailable
from gateway.ids import MAX_USER_ID_LENGTH
from gateway.openapi import AUTHED, WITH_BODY, errors
from gateway.ports import Backends, SocialPort
from gateway.schemas import Strict
from planet.social.v1 import social_service_pb2 as rpc

router = APIRouter(tags=["follows"])

CreatorId = Annotated[str, Path(min_length=1, max_length=MAX_USER_ID_LENGTH,
                                description="The creator's user id.")]
Cursor = Annotated[str, Query(max_length=MAX_USER_ID_LENGTH,
                              description="next_cursor of the previous page; empty for the "
                                          "first.")]
Limit = Annotated[int, Query(ge=1, le=1000, description="Users per page (1-1000).")]
FOLLOW_404 = "No creator with that user id."
FOLLOW_422 = "A bad parameter, or the caller named themselves (no self-follow)."


class BellBody(Strict):
    """The caller's bell for a creator they follow: on, every new post notifies them."""

    on: bool


class FollowOut(BaseModel):
    """The caller's follow of one creator after the call, and the creator's follower count."""

    following: bool
    bell: bool
    creator_follower_count: int


class FollowPageOut(BaseModel):
    """User ids in id order; pass next_cursor for the next page (null on the last)."""

    user_ids: list[str]
    next_cursor: str | None


def social_port(backends: Backends) -> SocialPort:
    if backends.social is None:
        raise UpstreamUnavailable("the social service is not configured")
    return backends.social


def _out(state: rpc.FollowState) -> FollowOut:
    return FollowOut(following=state.following, bell=state.bell,
                     creator_follower_count=state.creator_follower_count)


def page_out(page: rpc.FollowPage) -> FollowPageOut:
    return FollowPageOut(user_ids=list(page.user_ids), next_cursor=page.next_cursor or None)


@router.put("/v1/creators/{user_id}/follow", response_model=FollowOut,
            responses=errors(*AUTHED, 403, 404, s403="A block stands between the two users.",
                             s404=FOLLOW_404, s422=FOLLOW_422))
async def follow(user_id: CreatorId, user: WriterDep, backends: BackendsDep) -> FollowOut:
    """Follow a creator (idempotent: following again changes nothing)."""
    return _out(await social_port(backends).follow(user, rpc.FollowRequest(
        user_id=user.user_id, creator_id=user_id)))


@router.delete("/v1/creators/{user_id}/follow", response_model=FollowOut,
               responses=errors(*AUTHED, 404, s404=FOLLOW_404, s422=FOLLOW_422))
async def unfollow(user_id: CreatorId, user: WriterDep, backends: BackendsDep) -> FollowOut:
    """Stop following a creator, and their bell with it (idempotent)."""
    return _out(await social_port(backends).unfollow(user, rpc.FollowRequest(
        user_id=user.user_id, creator_id=user_id)))


@router.put("/v1/creators/{user_id}/bell", response_model=FollowOut,
            responses=errors(*AUTHED, *WITH_BODY, 403, 404,
                             s403="The caller does not follow this creator: follow first.",
                             s404=FOLLOW_404, s422=FOLLOW_422))
async def set_bell(user_id: CreatorId, body: BellBody, user: WriterDep,
                   backends: BackendsDep) -> FollowOut:
    """Turn the bell for a followed creator on or off (off without a follow: no change)."""
    return _out(await social_port(backends).set_bell(user, rpc.SetBellRequest(
        user_id=user.user_id, creator_id=user_id, on=body.on)))


@router.get("/v1/creators/{user_id}/followers", response_model=FollowPageOut,
            responses=errors(*AUTHED))
async def followers(user_id: CreatorId, user: UserDep, backends: BackendsDep,
                    cursor: Cursor = "", limit: Limit = 100) -> FollowPageOut:
    """Who follows the user, in user id order, a page at a time."""
    return page_out(await social_port(backends).list_follows(
        user, "followers", rpc.ListFollowsRequest(user_id=user_id, cursor=cursor, limit=limit)))


@router.get("/v1/creators/{user_id}/following", response_model=FollowPageOut,
            responses=errors(*AUTHED))
async def following(user_id: CreatorId, user: UserDep, backends: BackendsDep,
                    cursor: Cursor = "", limit: Limit = 100) -> FollowPageOut:
    """Whom the user follows, in user id order, a page at a time."""
    return page_out(await social_port(backends).list_follows(
        user, "following", rpc.ListFollowsRequest(user_id=user_id, cursor=cursor, limit=limit)))
