"""Likes (of posts and comments) and shares (reposts, with an optional quote).

One like per user per item: liking a liked item or unliking an unliked one changes nothing
(so PUT and DELETE need no Idempotency-Key; one may be sent). A share is a new fact each time,
so POST takes an Idempotency-Key: a retry with the same key returns the first share. A user
the item's author blocks may not like or share it (403).
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter
from pydantic import BaseModel, Field

from gateway.auth import Principal
from gateway.deps import BackendsDep, WriterDep
from gateway.openapi import AUTHED, WITH_BODY, errors
from gateway.ports import Backends
from gateway.routes.interaction_shapes import (
    MAX_QUOTE_CHARS,
    CommentId,
    IdempotencyKey,
    OptionalIdempotencyKey,
    PostId,
    interactions_port,
    stats_out,
)
from gateway.schemas import StatsOut, Strict
from planet.content.v1 import interactions_pb2 as pb

router = APIRouter(tags=["likes and shares"])

REACTION_403 = "The author of this item has blocked you."
REACTION_404 = "No such post or comment."


class LikeOut(BaseModel):
    """Whether the caller likes the item now, and its counts."""

    item_id: str
    liked: bool
    stats: StatsOut


class ShareBody(Strict):
    """A repost, with an optional quote."""

    quote: str = Field(default="", max_length=MAX_QUOTE_CHARS)


class ShareOut(BaseModel):
    """A share."""

    share_id: str
    post_id: str
    user_id: str
    quote: str
    at_ms: int


async def _like(item_id: str, on: bool, key: str | None, user: Principal,
                backends: Backends) -> LikeOut:
    state = await interactions_port(backends).like(user, pb.LikeRequest(
        request_id=key or uuid.uuid4().hex, user_id=user.user_id, item_id=item_id), on=on)
    return LikeOut(item_id=state.item_id, liked=state.liked, stats=stats_out(state.stats))


_LIKE = errors(*AUTHED, 403, 404, s403=REACTION_403, s404=REACTION_404)


@router.put("/v1/posts/{post_id}/like", response_model=LikeOut, responses=_LIKE)
async def like_post(post_id: PostId, user: WriterDep, backends: BackendsDep,
                    idempotency_key: OptionalIdempotencyKey = None) -> LikeOut:
    """Like a post (once: liking again changes nothing)."""
    return await _like(post_id, True, idempotency_key, user, backends)


@router.delete("/v1/posts/{post_id}/like", response_model=LikeOut, responses=_LIKE)
async def unlike_post(post_id: PostId, user: WriterDep, backends: BackendsDep,
                      idempotency_key: OptionalIdempotencyKey = None) -> LikeOut:
    """Take your like of a post back (if there is none, nothing changes)."""
    return await _like(post_id, False, idempotency_key, user, backends)


@router.put("/v1/comments/{comment_id}/like", response_model=LikeOut, responses=_LIKE)
async def like_comment(comment_id: CommentId, user: WriterDep, backends: BackendsDep,
                       idempotency_key: OptionalIdempotencyKey = None) -> LikeOut:
    """Like a comment (once)."""
    return await _like(comment_id, True, idempotency_key, user, backends)


@router.delete("/v1/comments/{comment_id}/like", response_model=LikeOut, responses=_LIKE)
async def unlike_comment(comment_id: CommentId, user: WriterDep, backends: BackendsDep,
                         idempotency_key: OptionalIdempotencyKey = None) -> LikeOut:
    """Take your like of a comment back."""
    return await _like(comment_id, False, idempotency_key, user, backends)


@router.post("/v1/posts/{post_id}/shares", status_code=201, response_model=ShareOut,
             responses=errors(*AUTHED, *WITH_BODY, 403, 404, s403=REACTION_403,
                              s404=REACTION_404))
async def share_post(post_id: PostId, body: ShareBody, user: WriterDep, backends: BackendsDep,
                     idempotency_key: IdempotencyKey) -> ShareOut:
    """Share (repost) a post with an optional quote; repeating an Idempotency-Key returns the
    first share."""
    share = await interactions_port(backends).share(user, pb.ShareRequest(
        request_id=idempotency_key, user_id=user.user_id, post_id=post_id, quote=body.quote))
    return ShareOut(share_id=share.share_id, post_id=share.post_id, user_id=share.user_id,
                    quote=share.quote, at_ms=share.at_ms)
