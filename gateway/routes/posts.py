"""Publishing and reading posts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header

from gateway.deps import BackendsDep, UserDep
from gateway.schemas import PostOut, PublishPostBody, post_out, publish_request

router = APIRouter(prefix="/v1/posts", tags=["posts"])


@router.post("", status_code=201, response_model=PostOut)
async def publish_post(
    body: PublishPostBody,
    user: UserDep,
    backends: BackendsDep,
    idempotency_key: Annotated[str, Header(alias="Idempotency-Key", min_length=1, max_length=128)],
) -> PostOut:
    """Publish a post as the caller; repeating an Idempotency-Key returns the first post."""
    post = await backends.content.publish_post(
        publish_request(body, creator_id=user.user_id, request_id=idempotency_key)
    )
    return post_out(post)


@router.get("/{post_id}", response_model=PostOut)
async def get_post(post_id: str, _: UserDep, backends: BackendsDep) -> PostOut:
    """A post by id (404 when unknown)."""
    return post_out(await backends.content.get_post(post_id))
