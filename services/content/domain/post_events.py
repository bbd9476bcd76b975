"""A post's state from its events (pure): the one fold every store and every write uses.

PostPublished creates the state, PostEdited replaces its content (a new revision),
PostDeleted marks it deleted. Each event carries the post's aggregate version (1, 2, …);
an event whose version is not above the state's changes nothing, so replaying a fetch,
applying a record the replica already applied ahead of the tail, or a duplicate logged by a
retry raced across a hand-over are all harmless: the first event of each version wins.
A deleted post takes no further edits. Because the writer (handlers) and the tails (stores)
both go through :func:`apply`, a store rebuilt from the log equals the live one.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from planet.content.v1 import events_pb2 as ev
from planet.content.v1 import reports_pb2 as rp
from planet.events.v1.envelope_pb2 import Envelope
from planetkit.envelope import DomainEvent, decode
from services.content.domain.codec import component_from_pb, component_to_pb, post_from_event
from services.content.domain.markdown import render
from services.content.domain.model import Post, PostKind

# The payload types of the posts and author-posts topics. A post's removal and restoration
# (reports.proto) are copied onto the author-posts (and topic-posts) topics too, and fold here.
POST_EVENTS = (ev.PostPublished, ev.PostEdited, ev.PostDeleted, rp.ItemRemoved, rp.ItemRestored)
PostEvent = (ev.PostPublished | ev.PostEdited | ev.PostDeleted | rp.ItemRemoved
             | rp.ItemRestored)


@dataclass(frozen=True)
class Applied:
    """What one event did to a post: the state after it, and the request id of an edit."""

    post: Post
    # The revision this event made (0 for a deletion, which makes none).
    revision: int
    edit_request_id: str = ""


def decode_post_event(raw: bytes | None) -> DomainEvent[PostEvent]:
    """An envelope of the posts topic; UndecodableEvent for anything else."""
    event: DomainEvent[PostEvent] = decode(raw, *POST_EVENTS)
    return event


def post_id_of(event: DomainEvent[PostEvent]) -> str:
    """The post an event is about."""
    return event.payload.post_id


def apply(current: Post | None, envelope: Envelope, payload: PostEvent) -> Applied | None:
    """The post after ``payload``, or None when it changes nothing (already applied, out of
    order, or about a post this state does not have / has deleted)."""
    version = envelope.aggregate_version
    if isinstance(payload, ev.PostPublished):
        if current is not None:
            return None  # the first PostPublished of an id wins
        post = post_from_event(payload, version or 1)
        return Applied(replace(post, body_html=render(post.body), revision=1), 1)
    if isinstance(payload, rp.ItemRemoved | rp.ItemRestored):
        return moderated(current, payload)
    if current is None or version <= current.version or current.deleted_at_ms:
        return None
    if isinstance(payload, ev.PostEdited):
        edited = replace(
            current,
            title=payload.title,
            body=payload.body,
            summary=payload.summary,
            cover_image_url=payload.cover_image_url,
            hashtags=tuple(payload.hashtags),
            mentions=tuple(payload.mentions),
            components=tuple(component_from_pb(c, f"component {i}")
                             for i, c in enumerate(payload.components, 1)),
            body_html=render(payload.body),
            revision=payload.revision,
            edited_at_ms=payload.edited_at_ms,
            version=version,
        )
        return Applied(edited, payload.revision, payload.request_id)
    return Applied(replace(current, deleted_at_ms=max(payload.deleted_at_ms, 1),
                           version=version), 0)


def moderated(current: Post | None, payload: rp.ItemRemoved | rp.ItemRestored
              ) -> Applied | None:
    """A removal or restoration of the post (numbered apart from its aggregate version: it
    is decided on the moderation topic, domain/moderation.py); None when it changes nothing
    (applied already, or the post is unknown or deleted)."""
    if (current is None or current.deleted_at_ms
            or payload.moderation_version <= current.moderation_version):
        return None
    removed = max(payload.at_ms, 1) if isinstance(payload, rp.ItemRemoved) else 0
    return Applied(replace(current, removed_at_ms=removed,
                           moderation_version=payload.moderation_version), 0)


def post_edited(post: Post, request_id: str) -> ev.PostEdited:
    """The PostEdited event that makes ``post`` (already carrying its new revision)."""
    return ev.PostEdited(
        post_id=post.post_id, creator_id=post.creator_id, revision=post.revision,
        title=post.title, body=post.body, hashtags=post.hashtags, mentions=post.mentions,
        components=[component_to_pb(c) for c in post.components],
        edited_at_ms=post.edited_at_ms, summary=post.summary,
        cover_image_url=post.cover_image_url, request_id=request_id,
        # Carried for topic pages the edit adds the post to (domain/topic_entries.py).
        published_at_ms=post.published_at_ms,
        kind=ev.POST_KIND_ARTICLE if post.kind is PostKind.ARTICLE else ev.POST_KIND_SHORT)


def post_deleted(post: Post, at_ms: int) -> ev.PostDeleted:
    """The PostDeleted event of ``post``."""
    return ev.PostDeleted(post_id=post.post_id, creator_id=post.creator_id, deleted_at_ms=at_ms)
