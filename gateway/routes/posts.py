"""Publishing and reading posts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path

from gateway.deps import BackendsDep, UserDep, WriterDep
from gateway.ids import MAX_CLIENT_ID_LENGTH, POST_ID_DESCRIPTION, POST_ID_PATTERN
from gateway.openapi import AUTHED, WITH_BODY, errors
from gateway.schemas import PostOut, PublishPostBody, post_out, publish_request

router = APIRouter(prefix="/v1/posts", tags=["posts"])

PostId = Annotated[str, Path(pattern=POST_ID_PATTERN, description=POST_ID_DESCRIPTION)]


@router.post("", status_code=201, response_model=PostOut,
             responses=errors(*AUTHED, *WITH_BODY, 403, 409))
async def publish_post(
    body: PublishPostBody,
    user: WriterDep,
    backends: BackendsDep,
    idempotency_key: Annotated[str, Header(alias="Idempotency-Key", min_length=1,
                                           max_length=MAX_CLIENT_ID_LENGTH)],
) -> PostOut:
    """Publish a post as the caller; repeating an Idempotency-Key returns the first post."""
    post = await backends.content.publish_post(
        user,
        publish_request(body, creator_id=user.user_id, request_id=idempotency_key)
    )
    return post_out(post)


@router.get("/{post_id}", response_model=PostOut, responses=errors(*AUTHED, 403, 404))
async def get_post(post_id: PostId, user: UserDep, backends: BackendsDep) -> PostOut:
    """A post by id (404 when unknown, 422 when it is not a post id at all)."""
    return post_out(await backends.content.get_post(user, post_id))
