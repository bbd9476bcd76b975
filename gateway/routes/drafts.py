"""Long-form drafts: save, autosave against a revision, list, resume, discard, publish.

A draft is its author's alone: every route acts on the caller's own drafts (the author is
the token's subject, never a parameter), and another user's draft id answers 404 exactly
like one that never existed. Operators get no access either: nothing in the product needs
anyone but the author to read unpublished work.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path, Response
from pydantic import BaseModel, Field

from gateway.deps import BackendsDep, UserDep, WriterDep
from gateway.errors import Unprocessable, UpstreamUnavailable
from gateway.ids import MAX_CLIENT_ID_LENGTH
from gateway.openapi import AUTHED, WITH_BODY, errors
from gateway.ports import Backends, DraftsPort
from gateway.routes.posts import MAX_REVISION, IfMatch
from gateway.routes.posts import _if_match as if_match_revision
from gateway.schemas import Component, PostOut, Strict, components_pb, post_out
from planet.content.v1 import content_service_pb2 as content
from planet.content.v1 import drafts_pb2 as dr

router = APIRouter(prefix="/v1/drafts", tags=["drafts"])

# services.content.domain.drafts.draft_id_for: "dft_" and 24 lowercase hex digits.
DRAFT_ID_PATTERN = "^dft_[0-9a-f]{24}$"
DraftId = Annotated[str, Path(pattern=DRAFT_ID_PATTERN, description=(
    'A draft id: "dft_" followed by 24 lowercase hex digits.'))]
# services.content.domain.drafts.MAX_DRAFTS_PER_AUTHOR
MAX_DRAFTS = 100

DRAFT_403 = (f"You already keep {MAX_DRAFTS} drafts (the limit): publish or discard one; or "
             "(publish) you may not publish: no open creator identity, or it is suspended.")
DRAFT_404 = "No such draft of yours (another user's draft is never shown, nor said to exist)."
DRAFT_409 = ("Another save came first (If-Match / expected_revision is not the latest "
             "revision: reload the draft and save again), or the draft is already published.")
DRAFT_422 = ("The draft breaks an article's limits (title 200, body 100 000, summary 500 "
             "characters; cover an https URL up to 2 048; at most 10 hashtags, 20 mentions, 5 "
             "components, each well formed), or (update) names no revision, or (publish) it "
             "is not a complete article yet (title and body required), or a bad parameter.")

OptionalIdempotencyKey = Annotated[str | None, Header(
    alias="Idempotency-Key", min_length=1, max_length=MAX_CLIENT_ID_LENGTH,
    description="Optional: this write is idempotent by the draft's state anyway.")]


class DraftBody(Strict):
    """What the editor holds. Every field may still be empty: a draft may be incomplete."""

    title: str = Field(default="", max_length=4_000)
    body: str = Field(default="", max_length=400_000, description="Markdown.")
    summary: str = Field(default="", max_length=4_000)
    cover_image_url: str = Field(default="", max_length=4_096)
    hashtags: list[str] = Field(default_factory=list, max_length=100)
    mentions: list[str] = Field(default_factory=list, max_length=100)
    components: list[Component] = Field(default_factory=list, max_length=100)


class DraftUpdateBody(DraftBody):
    """The whole new content of the draft (fields left out are emptied, as in the editor)."""

    expected_revision: int | None = Field(
        default=None, ge=1, le=MAX_REVISION,
        description="The revision this save replaces (or send If-Match): 409 when another "
                    "is the latest. One of the two is required.")


class DraftSummaryOut(BaseModel):
    """A draft in the list (its body left out: get the draft to resume it)."""

    draft_id: str
    revision: int
    title: str
    summary: str
    cover_image_url: str
    hashtags: list[str]
    created_at_ms: int
    updated_at_ms: int


class DraftOut(DraftSummaryOut):
    """A draft, whole."""

    body: str
    body_html: str = Field(description=(
        "The body rendered and sanitised exactly as the article will be (safe to insert)."))
    mentions: list[str]
    components: list[Component]
    published_post_id: str | None = Field(description=(
        "The post it became, once published (then it is no longer listed or editable)."))
    published_at_ms: int


class DraftsOut(BaseModel):
    """The caller's drafts, most recently updated first (at most 100: the limit per author)."""

    drafts: list[DraftSummaryOut]


class DiscardedOut(BaseModel):
    """A discarded draft: gone for good."""

    draft_id: str
    discarded: bool


def _drafts(backends: Backends) -> DraftsPort:
    if backends.drafts is None:
        raise UpstreamUnavailable("the content service's drafts are not configured")
    return backends.drafts


def _content(body: DraftBody) -> dr.DraftContent:
    return dr.DraftContent(
        title=body.title, body=body.body, summary=body.summary,
        cover_image_url=body.cover_image_url, hashtags=body.hashtags, mentions=body.mentions,
        components=components_pb(body.components))


def _summary(d: dr.Draft) -> DraftSummaryOut:
    c = d.content
    return DraftSummaryOut(
        draft_id=d.draft_id, revision=d.revision, title=c.title, summary=c.summary,
        cover_image_url=c.cover_image_url, hashtags=list(c.hashtags),
        created_at_ms=d.created_at_ms, updated_at_ms=d.updated_at_ms)


def draft_out(d: dr.Draft) -> DraftOut:
    """JSON of a draft."""
    # Components as a post shows them: one conversion (gateway/schemas.post_out) for both.
    components = post_out(content.Post(components=d.content.components)).components
    return DraftOut(
        **_summary(d).model_dump(), body=d.content.body, body_html=d.body_html,
        mentions=list(d.content.mentions), components=components,
        published_post_id=d.published_post_id or None, published_at_ms=d.published_at_ms)


def _etag(response: Response, d: dr.Draft) -> DraftOut:
    response.headers["ETag"] = f'"{d.revision}"'
    return draft_out(d)


@router.post("", status_code=201, response_model=DraftOut,
             responses=errors(*AUTHED, *WITH_BODY, 403, 404, s403=DRAFT_403,
                              s404="This Idempotency-Key made a draft that was discarded since.",
                              s422=DRAFT_422))
async def save_draft(
    body: DraftBody, user: WriterDep, backends: BackendsDep, response: Response,
    idempotency_key: Annotated[str, Header(alias="Idempotency-Key", min_length=1,
                                           max_length=MAX_CLIENT_ID_LENGTH)],
) -> DraftOut:
    """Start a draft (revision 1); repeating an Idempotency-Key answers the same draft. The
    ETag is its revision, for If-Match on the next save."""
    return _etag(response, await _drafts(backends).save_draft(user, dr.SaveDraftRequest(
        author_id=user.user_id, request_id=idempotency_key, content=_content(body))))


@router.get("", response_model=DraftsOut, responses=errors(*AUTHED))
async def list_drafts(user: UserDep, backends: BackendsDep) -> DraftsOut:
    """Your drafts, most recently updated first, bodies left out (published and discarded
    ones are not listed)."""
    answer = await _drafts(backends).list_drafts(
        user, dr.ListDraftsRequest(author_id=user.user_id))
    return DraftsOut(drafts=[_summary(d) for d in answer.drafts])


@router.get("/{draft_id}", response_model=DraftOut,
            responses=errors(*AUTHED, 404, s404=DRAFT_404))
async def get_draft(draft_id: DraftId, user: UserDep, backends: BackendsDep,
                    response: Response) -> DraftOut:
    """One of your drafts, to resume it (a published one names its post). The ETag is its
    revision, for If-Match on the next save."""
    return _etag(response, await _drafts(backends).get_draft(
        user, dr.GetDraftRequest(author_id=user.user_id, draft_id=draft_id)))


@router.put("/{draft_id}", response_model=DraftOut,
            responses=errors(*AUTHED, *WITH_BODY, 404, 409, s404=DRAFT_404, s409=DRAFT_409,
                             s422=DRAFT_422))
async def update_draft(
    draft_id: DraftId, body: DraftUpdateBody, user: WriterDep, backends: BackendsDep,
    response: Response, if_match: IfMatch = None,
    idempotency_key: OptionalIdempotencyKey = None,
) -> DraftOut:
    """Save (autosave) the draft as its next revision. Name the revision you edited
    (If-Match or expected_revision; one is required): when another tab saved first the
    answer is 409 and nothing is overwritten. Repeating the save that made the latest
    revision (its answer lost) answers that revision again."""
    del idempotency_key  # accepted for uniformity; a save is idempotent by its revision
    header = if_match_revision(if_match)
    if header is not None and body.expected_revision is not None and (
            header != body.expected_revision):
        raise Unprocessable("If-Match and expected_revision name different revisions")
    expected = header or body.expected_revision
    if expected is None:
        raise Unprocessable("name the revision this save replaces: If-Match or "
                            "expected_revision (a save never overwrites blindly)")
    return _etag(response, await _drafts(backends).update_draft(user, dr.UpdateDraftRequest(
        author_id=user.user_id, draft_id=draft_id, expected_revision=expected,
        content=_content(body))))


@router.delete("/{draft_id}", response_model=DiscardedOut,
               responses=errors(*AUTHED, 404, 409, s404=DRAFT_404,
                                s409="The draft is published: delete its post instead."))
async def discard_draft(
    draft_id: DraftId, user: WriterDep, backends: BackendsDep,
    idempotency_key: OptionalIdempotencyKey = None,
) -> DiscardedOut:
    """Discard your draft for good (discarding again answers the same)."""
    del idempotency_key  # accepted for uniformity; a discard is idempotent by state
    await _drafts(backends).discard_draft(user, dr.DiscardDraftRequest(
        author_id=user.user_id, draft_id=draft_id))
    return DiscardedOut(draft_id=draft_id, discarded=True)


@router.post("/{draft_id}/publish", status_code=201, response_model=PostOut,
             responses=errors(*AUTHED, 403, 404, 409, s403=DRAFT_403, s404=DRAFT_404,
                              s409=DRAFT_409, s422=DRAFT_422))
async def publish_draft(
    draft_id: DraftId, user: WriterDep, backends: BackendsDep,
    if_match: IfMatch = None, idempotency_key: OptionalIdempotencyKey = None,
) -> PostOut:
    """Publish your draft as an article (validated like `POST /v1/posts`). Publishing again
    answers the same post; If-Match publishes only that revision (409 when another was
    saved since)."""
    del idempotency_key  # accepted for uniformity; publishing is idempotent per draft
    return post_out(await _drafts(backends).publish_draft(user, dr.PublishDraftRequest(
        author_id=user.user_id, draft_id=draft_id,
        expected_revision=if_match_revision(if_match) or 0)))
