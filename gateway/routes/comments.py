"""Comments and replies on posts: post, list a thread, edit and delete one's own.

Content decides (the post's owner replica: the post and the parent must exist on it, replies
nest at most 4 deep, text 1-2000 characters, a user the post's or parent's author blocks is
refused); the gateway names the caller (always the author of what they write), checks shapes
and documents the answers.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from gateway.deps import BackendsDep, UserDep, WriterDep
from gateway.openapi import AUTHED, WITH_BODY, errors
from gateway.routes.interaction_shapes import (
    COMMENT_ID_DESCRIPTION,
    COMMENT_ID_PATTERN,
    MAX_COMMENT_CHARS,
    CommentId,
    CommentOut,
    IdempotencyKey,
    OptionalIdempotencyKey,
    PostId,
    comment_out,
    interactions_port,
)
from gateway.schemas import Strict
from planet.content.v1 import interactions_pb2 as pb

router = APIRouter(tags=["comments"])

COMMENT_403 = "You are not this comment's author, or the author of what you answer has " \
              "blocked you."
COMMENT_404 = "No such post or comment (or it was deleted)."
COMMENT_422 = "Bad input: empty or too long text, a parent on another post, replies nested " \
              "deeper than 4 levels, or a bad parameter."
MAX_CURSOR_CHARS = 96


class CommentBody(Strict):
    """A comment on a post, or a reply to one of its comments."""

    text: str = Field(min_length=1, max_length=MAX_COMMENT_CHARS)
    parent_comment_id: str | None = Field(default=None, pattern=COMMENT_ID_PATTERN,
                                          description=COMMENT_ID_DESCRIPTION)


class EditBody(Strict):
    """A comment's new text."""

    text: str = Field(min_length=1, max_length=MAX_COMMENT_CHARS)


class CommentPageOut(BaseModel):
    """A page of a thread and the cursor of the next (null on the last)."""

    comments: list[CommentOut]
    next_cursor: str | None


class DeletedOut(BaseModel):
    """The comment deleted."""

    comment_id: str


Cursor = Annotated[str, Query(max_length=MAX_CURSOR_CHARS, pattern="^[A-Za-z0-9_-]*$",
                              description="next_cursor of the previous page; empty for the "
                                          "first.")]
Limit = Annotated[int, Query(ge=1, le=100, description="Comments per page (1-100).")]
Parent = Annotated[str | None, Query(pattern=COMMENT_ID_PATTERN,
                                     description="A comment of this post: list its replies "
                                                 "instead of the top level.")]
Order = Annotated[Literal["newest", "oldest"] | None, Query(
    description="Newest or oldest first (default: newest at the top level, oldest for "
                "replies).")]
_ORDERS = {None: pb.COMMENT_ORDER_UNSPECIFIED, "newest": pb.COMMENT_ORDER_NEWEST,
           "oldest": pb.COMMENT_ORDER_OLDEST}
_WRITE = errors(*AUTHED, *WITH_BODY, 403, 404, s403=COMMENT_403, s404=COMMENT_404,
                s422=COMMENT_422)


@router.post("/v1/posts/{post_id}/comments", status_code=201, response_model=CommentOut,
             responses=_WRITE)
async def post_comment(post_id: PostId, body: CommentBody, user: WriterDep,
                       backends: BackendsDep, idempotency_key: IdempotencyKey) -> CommentOut:
    """Comment on a post, or reply to one of its comments (parent_comment_id); repeating an
    Idempotency-Key returns the first comment."""
    return comment_out(await interactions_port(backends).post_comment(
        user, pb.PostCommentRequest(request_id=idempotency_key, user_id=user.user_id,
                                    post_id=post_id, text=body.text,
                                    parent_comment_id=body.parent_comment_id or "")))


@router.get("/v1/posts/{post_id}/comments", response_model=CommentPageOut,
            responses=errors(*AUTHED, 404, s404=COMMENT_404))
async def list_comments(post_id: PostId, user: UserDep, backends: BackendsDep,
                        parent: Parent = None, cursor: Cursor = "", limit: Limit = 20,
                        order: Order = None) -> CommentPageOut:
    """A post's comments (or one comment's replies), a page at a time: no gap and no
    duplicate while others comment."""
    page = await interactions_port(backends).list_comments(user, pb.ListCommentsRequest(
        post_id=post_id, parent_comment_id=parent or "", cursor=cursor, limit=limit,
        order=_ORDERS[order]))
    return CommentPageOut(comments=[comment_out(c) for c in page.comments],
                          next_cursor=page.next_cursor or None)


@router.patch("/v1/comments/{comment_id}", response_model=CommentOut, responses=_WRITE)
async def edit_comment(comment_id: CommentId, body: EditBody, user: WriterDep,
                       backends: BackendsDep, idempotency_key: IdempotencyKey) -> CommentOut:
    """Replace your comment's text (its author only)."""
    return comment_out(await interactions_port(backends).edit_comment(
        user, pb.EditCommentRequest(request_id=idempotency_key, user_id=user.user_id,
                                    comment_id=comment_id, text=body.text)))


@router.delete("/v1/comments/{comment_id}", response_model=DeletedOut,
               responses=errors(*AUTHED, 403, 404, s403=COMMENT_403, s404=COMMENT_404))
async def delete_comment(comment_id: CommentId, user: WriterDep, backends: BackendsDep,
                         idempotency_key: OptionalIdempotencyKey = None) -> DeletedOut:
    """Delete your comment (its author only; deleting it again changes nothing)."""
    answer = await interactions_port(backends).delete_comment(user, pb.DeleteCommentRequest(
        request_id=idempotency_key or uuid.uuid4().hex, user_id=user.user_id,
        comment_id=comment_id))
    return DeletedOut(comment_id=answer.comment_id)
