"""A creator's posts, newest first: the list, and the latest few on the home page.

The content service keeps each author's posts on the author's partition and answers a page
from that partition's owner (no scatter over every partition); the gateway checks shapes,
names the caller and documents the answers. The cursor is opaque: whatever next_cursor a
page returned, sent back as is; anything else is a 422 before content is asked.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel

from gateway.auth import Principal
from gateway.deps import BackendsDep, UserDep
from gateway.ids import MAX_USER_ID_LENGTH
from gateway.openapi import AUTHED, errors
from gateway.ports import Backends
from gateway.schemas import HomePageOut, PostOut, post_out
from planet.content.v1 import content_service_pb2 as rpc

router = APIRouter(tags=["creators"])

# How many of the latest posts the home page carries; the rest via the list's cursor.
HOME_PAGE_POSTS = 10
MAX_PAGE = 100
CURSOR_PATTERN = "^[A-Za-z0-9_-]*$"
MAX_CURSOR_CHARS = 64

CreatorId = Annotated[str, Path(min_length=1, max_length=MAX_USER_ID_LENGTH,
                                description="The creator's user id.")]
Cursor = Annotated[str, Query(max_length=MAX_CURSOR_CHARS, pattern=CURSOR_PATTERN,
                              description="next_cursor of the previous page (opaque: up to 64 "
                                          "of A-Z a-z 0-9 - _); empty for the first.")]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description="Posts per page (1-100).")]


class CreatorPostsOut(BaseModel):
    """A page of a creator's posts, newest first; pass next_cursor for the next page (null on
    the last)."""

    posts: list[PostOut]
    next_cursor: str | None


async def _page(backends: Backends, user: Principal, creator_id: str, cursor: str,
                limit: int) -> CreatorPostsOut:
    page = await backends.content.list_author_posts(user, rpc.ListAuthorPostsRequest(
        author_id=creator_id, cursor=cursor, limit=limit))
    return CreatorPostsOut(posts=[post_out(p) for p in page.posts],
                           next_cursor=page.next_cursor or None)


@router.get("/v1/creators/{user_id}/posts", response_model=CreatorPostsOut,
            responses=errors(*AUTHED, s422="A bad parameter: a limit outside 1-100, or a "
                                           "cursor that is not a previous page's next_cursor."))
async def creator_posts(user_id: CreatorId, user: UserDep, backends: BackendsDep,
                        cursor: Cursor = "", limit: Limit = 20) -> CreatorPostsOut:
    """A creator's posts, newest first, a page at a time (a user with none: an empty page)."""
    return await _page(backends, user, user_id, cursor, limit)


async def with_latest_posts(page: HomePageOut, user: Principal,
                            backends: Backends) -> HomePageOut:
    """The home page with the creator's latest posts and the cursor to the rest."""
    latest = await _page(backends, user, page.user_id, "", HOME_PAGE_POSTS)
    return page.model_copy(update={"posts": latest.posts,
                                   "posts_next_cursor": latest.next_cursor})
