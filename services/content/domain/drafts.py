"""Long-form drafts (pure): their ids, the rules a save must keep, the revision check, and
the one fold of draft events into a draft's state.

A draft is an article in the making, private to its author. It may be incomplete (no title
or no body yet: autosave writes whatever is in the editor), but every size and count limit
of an article holds at every save (``validation.validate``, the same checks and limits as
publishing one, components included), and publishing validates it as the article it becomes.

Every save names the revision it replaces: another revision being the latest is a conflict
(HTTP 409), so two tabs autosaving one draft never silently overwrite each other.

Events (planet.content.drafts.v1, keyed by author id) fold into the state here, in the
writer (ahead of the tail) and in the tail alike, so a store rebuilt from the topic equals
the live one: ``DraftSaved`` creates (revision 1) or replaces the content (revision n > the
state's: the first event of each revision wins, so a replayed fetch or a record applied
ahead of the tail changes nothing); ``DraftDiscarded`` and ``DraftPublished`` end it. An
ended draft keeps its state (a tombstone): a retried create of a discarded draft finds it
instead of making it again, and publishing a published one answers the same post.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace

from planet.content.v1 import drafts_pb2 as dr
from planetkit.envelope import DomainEvent, decode
from services.content.domain.codec import component_from_pb, component_to_pb
from services.content.domain.commands import PublishPost
from services.content.domain.markdown import render
from services.content.domain.model import PostKind, TradingComponent
from services.content.domain.validation import MAX_ID_CHARS, InvalidPost, validate

# Live (neither published nor discarded) drafts one author may keep. An author's list is
# answered whole from one range scan, so this bounds every ListDrafts; a save beyond it is
# refused (422, "publish or discard one") rather than growing the list without end.
MAX_DRAFTS_PER_AUTHOR = 100
DRAFT_PREFIX = "dft_"
DRAFT_HEX_DIGITS = 24
DRAFT_ID_LENGTH = len(DRAFT_PREFIX) + DRAFT_HEX_DIGITS
_HEX = frozenset("0123456789abcdef")

DRAFT_EVENTS = (dr.DraftSaved, dr.DraftDiscarded, dr.DraftPublished)
DraftEvent = dr.DraftSaved | dr.DraftDiscarded | dr.DraftPublished


class DraftNotFound(LookupError):
    """No such draft, or not the caller's (the two are never told apart: 404)."""


class DraftConflict(RuntimeError):
    """The draft is not at the revision the caller expected, or is already published."""


class TooManyDrafts(RuntimeError):
    """The author already keeps MAX_DRAFTS_PER_AUTHOR drafts."""


@dataclass(frozen=True)
class DraftContent:
    """What the editor holds; any field may still be empty."""

    title: str = ""
    body: str = ""
    summary: str = ""
    cover_image_url: str = ""
    hashtags: tuple[str, ...] = ()
    mentions: tuple[str, ...] = ()
    components: tuple[TradingComponent, ...] = ()


@dataclass(frozen=True)
class Draft:
    """A draft's state, as its events make it."""

    draft_id: str
    author_id: str
    revision: int
    content: DraftContent
    created_at_ms: int
    updated_at_ms: int
    # Rendered from content.body by the fold (domain/markdown.py), as the article would be.
    body_html: str = ""
    published_post_id: str = ""
    published_at_ms: int = 0
    discarded_at_ms: int = 0

    @property
    def live(self) -> bool:
        """Neither published nor discarded: listed, editable, publishable."""
        return not self.published_post_id and not self.discarded_at_ms


# --- Ids -------------------------------------------------------------------------------------

def draft_id_for(author_id: str, request_id: str) -> str:
    """The id of the draft ``request_id`` by ``author_id`` creates: "dft_" + 24 hex digits.

    Derived, not drawn, so a retried SaveDraft finds the draft its first attempt made (in a
    live or a rebuilt store) and answers it instead of creating a second one.
    """
    # The author's length comes first: user ids come from the exchange in any alphabet, so no
    # separator alone could keep ("a:b", "c") and ("a", "b:c") apart.
    text = f"draft:{len(author_id)}:{author_id}:{request_id}"
    digest = hashlib.sha256(text.encode()).hexdigest()
    return DRAFT_PREFIX + digest[:DRAFT_HEX_DIGITS]


def is_draft_id(value: str) -> bool:
    """Whether ``value`` has the shape of an id draft_id_for issues (a strict alphabet)."""
    return (len(value) == DRAFT_ID_LENGTH and value.startswith(DRAFT_PREFIX)
            and set(value[len(DRAFT_PREFIX):]) <= _HEX)


def draft_event_id(draft_id: str, what: str, revision: int) -> str:
    """The event id of one fact about a draft: stable, so a retry dedups downstream."""
    digest = hashlib.sha256(f"{draft_id}\x00{what}\x00{revision}".encode()).hexdigest()
    return f"evt_{digest[:24]}"


def publish_request_id(draft: Draft) -> str:
    """The PublishPost request id of publishing ``draft`` at its current revision.

    The post id derives from (author, request id) (``ids.post_id_for``), so a publish retried
    after a crash between the post and DraftPublished answers the post the first attempt
    made, wherever it lives. The NUL separators cannot occur in an Idempotency-Key header
    (HTTP forbids them), so no ``POST /v1/posts`` can take this id first.
    """
    return f"draft\x00{draft.draft_id}\x00{draft.revision}"


# --- Rules -----------------------------------------------------------------------------------

def check_ids(author_id: str, request_or_draft_id: str, *, what: str) -> None:
    """InvalidPost for an empty or oversized author id, or a ``what`` that is neither."""
    problems = []
    if not author_id.strip() or len(author_id) > MAX_ID_CHARS:
        problems.append(f"author_id must be 1-{MAX_ID_CHARS} characters")
    if what == "draft_id":
        if not is_draft_id(request_or_draft_id):
            problems.append(f'draft_id must be "{DRAFT_PREFIX}" and {DRAFT_HEX_DIGITS} '
                            "lowercase hex digits")
    elif not request_or_draft_id.strip() or len(request_or_draft_id) > MAX_ID_CHARS:
        problems.append(f"{what} must be 1-{MAX_ID_CHARS} characters")
    if problems:
        raise InvalidPost("; ".join(problems))


# A draft may lack a title or a body; the check stands this in for what is missing, so every
# other rule (sizes, hashtags, mentions, components, summary, cover URL) is the article's own.
_PLACEHOLDER = "-"


def checked_content(author_id: str, content: DraftContent) -> DraftContent:
    """``content`` normalised as an article's would be; InvalidPost naming every problem."""
    title = content.title.strip()
    body = content.body.strip()
    checked = validate(PublishPost(
        request_id="draft", creator_id=author_id or "-", kind=PostKind.ARTICLE,
        title=title or _PLACEHOLDER, body=body or _PLACEHOLDER,
        hashtags=content.hashtags, mentions=content.mentions, components=content.components,
        summary=content.summary, cover_image_url=content.cover_image_url))
    return DraftContent(
        title=title, body=body, summary=checked.summary,
        cover_image_url=checked.cover_image_url, hashtags=checked.hashtags,
        mentions=checked.mentions, components=checked.components)


def owned(draft: Draft | None, user_id: str) -> Draft:
    """The draft when it exists, is not discarded and is ``user_id``'s; DraftNotFound
    otherwise (another user's draft does not exist for them: nobody else, operators
    included, reads a draft)."""
    if draft is None or not user_id or draft.author_id != user_id or draft.discarded_at_ms:
        raise DraftNotFound("draft not found")
    return draft


def check_revision(draft: Draft, expected_revision: int) -> None:
    """DraftConflict when the draft is published or not at ``expected_revision`` (0: any)."""
    if draft.published_post_id:
        raise DraftConflict(f"the draft was published as {draft.published_post_id}; it can "
                            "no longer be changed")
    if expected_revision and expected_revision != draft.revision:
        raise DraftConflict(
            f"the draft is at revision {draft.revision}, not {expected_revision}: another "
            "save came first (another tab?); reload it and save again")


def check_room(live_drafts: int) -> None:
    """TooManyDrafts when the author cannot keep one more."""
    if live_drafts >= MAX_DRAFTS_PER_AUTHOR:
        raise TooManyDrafts(f"you keep {live_drafts} drafts, the limit is "
                            f"{MAX_DRAFTS_PER_AUTHOR}: publish or discard one first")


def publish_command(draft: Draft) -> PublishPost:
    """The article ``draft`` becomes (validated by the publish path like any article)."""
    c = draft.content
    return PublishPost(
        request_id=publish_request_id(draft), creator_id=draft.author_id,
        kind=PostKind.ARTICLE, title=c.title, body=c.body, hashtags=c.hashtags,
        mentions=c.mentions, components=c.components, summary=c.summary,
        cover_image_url=c.cover_image_url)


# --- Events and the fold ---------------------------------------------------------------------

def decode_draft_event(raw: bytes | None) -> DomainEvent[DraftEvent]:
    """An envelope of the drafts topic; UndecodableEvent for anything else."""
    event: DomainEvent[DraftEvent] = decode(raw, *DRAFT_EVENTS)
    return event


def draft_saved(draft: Draft, request_id: str = "") -> dr.DraftSaved:
    """The DraftSaved event that makes ``draft`` (already carrying its new revision)."""
    return dr.DraftSaved(draft_id=draft.draft_id, author_id=draft.author_id,
                         revision=draft.revision, content=content_to_pb(draft.content),
                         at_ms=draft.updated_at_ms, request_id=request_id)


def apply(current: Draft | None, payload: DraftEvent) -> Draft | None:
    """The draft after ``payload``; None when it changes nothing (already applied, out of
    order, about a draft this state does not have, or after the draft ended)."""
    if isinstance(payload, dr.DraftSaved):
        if current is None:
            content = content_from_pb(payload.content)
            return Draft(payload.draft_id, payload.author_id, payload.revision or 1, content,
                         payload.at_ms, payload.at_ms, body_html=render(content.body))
        if not current.live or payload.revision <= current.revision:
            return None
        content = content_from_pb(payload.content)
        return replace(current, revision=payload.revision, content=content,
                       updated_at_ms=payload.at_ms, body_html=render(content.body))
    if current is None or not current.live:
        return None
    if isinstance(payload, dr.DraftDiscarded):
        return replace(current, discarded_at_ms=max(payload.at_ms, 1))
    return replace(current, published_post_id=payload.post_id,
                   published_at_ms=max(payload.at_ms, 1))


# --- Codec -----------------------------------------------------------------------------------

def content_to_pb(content: DraftContent) -> dr.DraftContent:
    """The protobuf form of draft content."""
    return dr.DraftContent(
        title=content.title, body=content.body, summary=content.summary,
        cover_image_url=content.cover_image_url, hashtags=content.hashtags,
        mentions=content.mentions,
        components=[component_to_pb(c) for c in content.components])


def content_from_pb(content: dr.DraftContent) -> DraftContent:
    """Draft content from protobuf; InvalidPost for a component without a kind or side."""
    return DraftContent(
        title=content.title, body=content.body, summary=content.summary,
        cover_image_url=content.cover_image_url, hashtags=tuple(content.hashtags),
        mentions=tuple(content.mentions),
        components=tuple(component_from_pb(c, f"component {i}")
                         for i, c in enumerate(content.components, 1)))


def draft_to_pb(draft: Draft, *, with_body: bool = True) -> dr.Draft:
    """A draft as the RPC (and stored) message; a list leaves bodies out."""
    content = content_to_pb(draft.content)
    if not with_body:
        content.body = ""
    return dr.Draft(
        draft_id=draft.draft_id, author_id=draft.author_id, revision=draft.revision,
        content=content, created_at_ms=draft.created_at_ms,
        updated_at_ms=draft.updated_at_ms, body_html=draft.body_html if with_body else "",
        published_post_id=draft.published_post_id, published_at_ms=draft.published_at_ms,
        discarded_at_ms=draft.discarded_at_ms)


def draft_from_pb(draft: dr.Draft) -> Draft:
    """A draft as stored (or as the owner replica answered it)."""
    return Draft(
        draft_id=draft.draft_id, author_id=draft.author_id, revision=draft.revision,
        content=content_from_pb(draft.content), created_at_ms=draft.created_at_ms,
        updated_at_ms=draft.updated_at_ms, body_html=draft.body_html,
        published_post_id=draft.published_post_id, published_at_ms=draft.published_at_ms,
        discarded_at_ms=draft.discarded_at_ms)
