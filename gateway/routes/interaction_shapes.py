"""Shapes shared by the comment and reaction routes: ids, bodies, answers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Header, Path
from pydantic import BaseModel

from gateway.errors import UpstreamUnavailable
from gateway.ids import MAX_CLIENT_ID_LENGTH, POST_HEX_DIGITS, POST_ID_DESCRIPTION, POST_ID_PATTERN
from gateway.ports import Backends, InteractionsPort
from gateway.schemas import StatsOut
from planet.content.v1 import interactions_pb2 as pb

# A comment id carries its post's digest, so content finds the owning partition from the id
# alone; the pattern is the strict alphabet content parses (services/content/domain/
# interactions.py).
COMMENT_ID_PATTERN = f"^cmt_[0-9a-f]{{{POST_HEX_DIGITS}}}_[0-9a-f]{{24}}$"
COMMENT_ID_DESCRIPTION = ("A comment id: cmt_ + the post's 24 hex digits + _ + 24 lowercase hex "
                          "digits.")
MAX_COMMENT_CHARS = 2_000
MAX_QUOTE_CHARS = 500

PostId = Annotated[str, Path(pattern=POST_ID_PATTERN, description=POST_ID_DESCRIPTION)]
CommentId = Annotated[str, Path(pattern=COMMENT_ID_PATTERN, description=COMMENT_ID_DESCRIPTION)]
IdempotencyKey = Annotated[str, Header(
    alias="Idempotency-Key", min_length=1, max_length=MAX_CLIENT_ID_LENGTH,
    description="A retry with the same key records nothing new and answers the first result.")]
OptionalIdempotencyKey = Annotated[str | None, Header(
    alias="Idempotency-Key", min_length=1, max_length=MAX_CLIENT_ID_LENGTH,
    description="Optional: the call is idempotent by state anyway.")]


class CommentOut(BaseModel):
    """A comment (a deleted one that has replies stays as a tombstone: deleted, no text)."""

    comment_id: str
    post_id: str
    author_id: str
    parent_comment_id: str | None
    text: str
    depth: int
    created_at_ms: int
    edited_at_ms: int | None
    revision: int
    deleted: bool
    stats: StatsOut


def stats_out(stats: pb.ItemStats) -> StatsOut:
    """JSON of an item's counts."""
    return StatsOut(likes=stats.likes, comments=stats.comments, shares=stats.shares)


def comment_out(c: pb.Comment) -> CommentOut:
    """JSON of a comment."""
    return CommentOut(
        comment_id=c.comment_id, post_id=c.post_id, author_id=c.author_id,
        parent_comment_id=c.parent_comment_id or None, text=c.text, depth=c.depth,
        created_at_ms=c.created_at_ms, edited_at_ms=c.edited_at_ms or None,
        revision=c.revision, deleted=c.deleted, stats=stats_out(c.stats))


def interactions_port(backends: Backends) -> InteractionsPort:
    """The interactions backend; 503 when this gateway has none."""
    if backends.interactions is None:
        raise UpstreamUnavailable("the content service's interactions are not configured")
    return backends.interactions
