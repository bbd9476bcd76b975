"""Publishing, reading, editing and deleting posts, and a post's revisions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Response
from pydantic import BaseModel, Field

from gateway.deps import BackendsDep, UserDep, WriterDep
from gateway.errors import Unprocessable, UpstreamUnavailable
from gateway.ids import MAX_CLIENT_ID_LENGTH, POST_ID_DESCRIPTION, POST_ID_PATTERN
from gateway.openapi import AUTHED, WITH_BODY, errors
from gateway.ports import Backends, PostLifecyclePort
from gateway.schemas import (
    Component,
    PostOut,
    PublishPostBody,
    Strict,
    components_pb,
    post_out,
    publish_request,
)
from planet.content.v1 import post_lifecycle_pb2 as lc

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
async def get_post(post_id: PostId, user: UserDep, backends: BackendsDep,
                   response: Response) -> PostOut:
    """A post by id (404 when unknown or deleted, unless you are its author or an operator;
    422 when it is not a post id at all). The ETag is its revision, for If-Match on PATCH."""
    post = await backends.content.get_post(user, post_id)
    response.headers["ETag"] = f'"{post.revision or 1}"'
    return post_out(post)


# --- The post lifecycle: edit (a new revision), delete, revisions ---------------------------

# A revision number as a client sends it back: If-Match takes it bare or as an ETag ("3").
MAX_REVISION = 2**32 - 1
POST_403 = "You are not this post's author."
POST_404 = "No such post (or it was deleted, and you are neither its author nor an operator)."
EDIT_409 = ("Another edit came first (expected_revision / If-Match is not the latest "
            "revision: reload and edit again), or the post is deleted.")
EDIT_422 = ("The edit breaks a publishing rule (empty body, sizes: title 200, short body "
            "2 000, article body 100 000, summary 500 characters; cover an https URL up to "
            "2 048; hashtags, mentions, components), or names nothing to change, or a bad "
            "parameter.")

IfMatch = Annotated[str | None, Header(
    alias="If-Match", max_length=12,
    description='The revision the edit is made against (`3` or `"3"`): 409 when another is '
                "the latest. Same as expected_revision in the body.")]
OptionalIdempotencyKey = Annotated[str | None, Header(
    alias="Idempotency-Key", min_length=1, max_length=MAX_CLIENT_ID_LENGTH,
    description="Optional: deleting is idempotent by state anyway.")]


class EditPostBody(Strict):
    """The fields to replace; those left out stay as they are."""

    title: str | None = Field(default=None, max_length=4_000)
    body: str | None = Field(default=None, max_length=400_000)
    summary: str | None = Field(default=None, max_length=4_000)
    cover_image_url: str | None = Field(default=None, max_length=4_096)
    hashtags: list[str] | None = Field(default=None, max_length=100)
    mentions: list[str] | None = Field(default=None, max_length=100)
    components: list[Component] | None = Field(default=None, max_length=100)
    expected_revision: int | None = Field(
        default=None, ge=1, le=MAX_REVISION,
        description="The revision this edit is made against: 409 when another is the latest.")


class RevisionsOut(BaseModel):
    """A page of a post's revisions, newest first (each the post as it was then)."""

    revisions: list[PostOut]
    next_before: int | None = Field(description="`before` of the next page; null on the last.")


def _lifecycle(backends: Backends) -> PostLifecyclePort:
    if backends.lifecycle is None:
        raise UpstreamUnavailable("the content service's post lifecycle is not configured")
    return backends.lifecycle


def _if_match(value: str | None) -> int | None:
    """The revision an If-Match header names (None when absent); 422 otherwise."""
    if value is None:
        return None
    text = value.strip()
    if text.startswith("W/"):
        text = text[2:]
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1]
    if not text or len(text) > 10 or not set(text) <= _DIGITS or not 1 <= int(text) <= MAX_REVISION:
        raise Unprocessable('If-Match must be a revision number, like 3 or "3"')
    return int(text)


_DIGITS = frozenset("0123456789")


def edit_request(body: EditPostBody, post_id: str, editor_id: str, request_id: str,
                 if_match: int | None) -> lc.EditPostRequest:
    """The EditPost RPC for a PATCH; 422 when it names nothing or two different revisions."""
    if (if_match is not None and body.expected_revision is not None
            and if_match != body.expected_revision):
        raise Unprocessable("If-Match and expected_revision name different revisions")
    fields = body.model_dump(exclude_unset=True, exclude={"expected_revision"})
    if not fields:
        raise Unprocessable("the edit changes nothing: name at least one field")
    req = lc.EditPostRequest(post_id=post_id, editor_id=editor_id, request_id=request_id,
                             expected_revision=if_match or body.expected_revision or 0)
    for name in ("title", "body", "summary", "cover_image_url"):
        value = getattr(body, name)
        if value is not None:
            setattr(req, name, value)
    if body.hashtags is not None:
        req.set_hashtags = True
        req.hashtags.extend(body.hashtags)
    if body.mentions is not None:
        req.set_mentions = True
        req.mentions.extend(body.mentions)
    if body.components is not None:
        req.set_components = True
        req.components.extend(components_pb(body.components))
    return req


@router.patch("/{post_id}", response_model=PostOut,
              responses=errors(*AUTHED, *WITH_BODY, 403, 404, 409, s403=POST_403, s404=POST_404,
                               s409=EDIT_409, s422=EDIT_422))
async def edit_post(
    post_id: PostId, body: EditPostBody, user: WriterDep, backends: BackendsDep,
    response: Response,
    idempotency_key: Annotated[str, Header(alias="Idempotency-Key", min_length=1,
                                           max_length=MAX_CLIENT_ID_LENGTH)],
    if_match: IfMatch = None,
) -> PostOut:
    """Edit your post: a new revision (every revision is kept; `GET …/revisions`). Send the
    revision you edited (If-Match or expected_revision) so a concurrent edit is a 409, not a
    silent overwrite; a retry with the same Idempotency-Key answers without a new revision."""
    request = edit_request(body, post_id, user.user_id, idempotency_key, _if_match(if_match))
    post = await _lifecycle(backends).edit_post(user, request)
    response.headers["ETag"] = f'"{post.revision}"'
    return post_out(post)


@router.delete("/{post_id}", response_model=PostOut,
               responses=errors(*AUTHED, 403, 404, s403=POST_403, s404=POST_404))
async def delete_post(
    post_id: PostId, user: WriterDep, backends: BackendsDep,
    idempotency_key: OptionalIdempotencyKey = None,
) -> PostOut:
    """Delete your post: hidden from everyone but you and operators from now on, and gone
    from your list. Deleting again answers the deleted post."""
    del idempotency_key  # accepted for uniformity; a deletion is idempotent by state
    return post_out(await _lifecycle(backends).delete_post(
        user, lc.DeletePostRequest(post_id=post_id, deleter_id=user.user_id)))


@router.get("/{post_id}/revisions", response_model=RevisionsOut,
            responses=errors(*AUTHED, 404, s404="No such post, or it is not yours (only its "
                                                "author and operators see the history)."))
async def list_revisions(
    post_id: PostId, user: UserDep, backends: BackendsDep,
    before: Annotated[int | None, Query(ge=2, le=MAX_REVISION, description=(
        "next_before of the previous page: revisions below it."))] = None,
    limit: Annotated[int, Query(ge=1, le=50, description="Revisions per page (1-50).")] = 20,
) -> RevisionsOut:
    """Every revision of a post, newest first, for its author and operators (an audit
    trail: nothing is ever overwritten)."""
    page = await _lifecycle(backends).list_revisions(user, lc.ListPostRevisionsRequest(
        post_id=post_id, before_revision=before or 0, limit=limit))
    return RevisionsOut(revisions=[post_out(p) for p in page.revisions],
                        next_before=page.next_before_revision or None)
