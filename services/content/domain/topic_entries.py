"""A post's entry on one topic page, folded from the post's events (pure).

Each post event is logged again on the partition of every topic it concerns, in the
transaction that makes it (planet.content.topic-posts.v1, keyed by the topic):

- PostPublished: on each of the post's topics;
- PostEdited: on each topic of the post before *or* after the edit, so a topic the edit
  removes hears it (and drops the post), one it adds hears it (and lists the post: the event
  carries the published time and kind, so no earlier record is needed), and the others show
  the new title, summary and body;
- PostDeleted: on each of the post's topics (the post leaves them, and so every arena).

Per (topic, post) the store keeps the aggregate version of the last event applied and
whether the post is listed; an event whose version is not above it changes nothing. So the
writer's ahead-of-tail apply and the tail's apply of the same record are one apply, a
retried append's duplicate is harmless, and a store rebuilt from the topic equals the live
one, whatever order of fetches it was read in (one partition: one order).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, replace

from planet.content.v1 import events_pb2 as ev
from planet.events.v1.envelope_pb2 import Envelope
from services.content.domain.codec import post_from_event
from services.content.domain.markdown import render
from services.content.domain.model import Post
from services.content.domain.post_events import PostEvent, apply
from services.content.domain.topics import topics_of


@dataclass(frozen=True)
class TopicEntry:
    """What a topic knows of one post: the version last applied, and the post as listed
    (None: not listed, because an edit took the topic away or the post is deleted)."""

    version: int
    post: Post | None
    deleted: bool = False


def touched_topics(before: Post | None, after: Post) -> tuple[str, ...]:
    """The topics an event that turns ``before`` into ``after`` is logged on: the post's
    topics before and after, each once, in first-seen order."""
    old = () if before is None else topics_of(before.hashtags)
    return tuple(dict.fromkeys((*old, *topics_of(after.hashtags))))


def _from_edit(envelope: Envelope, payload: ev.PostEdited) -> Post:
    """The post a PostEdited describes whole (a topic that never listed it before)."""
    base = post_from_event(ev.PostPublished(
        post_id=payload.post_id, creator_id=payload.creator_id, kind=payload.kind,
        title=payload.title, body=payload.body, hashtags=payload.hashtags,
        mentions=payload.mentions, components=payload.components,
        published_at_ms=payload.published_at_ms, summary=payload.summary,
        cover_image_url=payload.cover_image_url), envelope.aggregate_version)
    return replace(base, body_html=render(payload.body), revision=payload.revision,
                   edited_at_ms=payload.edited_at_ms)


def fold(topic: str, current: TopicEntry | None, envelope: Envelope, payload: PostEvent
         ) -> TopicEntry | None:
    """The entry after ``payload`` on ``topic``; None when it changes nothing."""
    if isinstance(payload, ev.PostPublished | ev.PostEdited | ev.PostDeleted):
        return _lifecycle(topic, current, envelope, payload)
    # Any other event of the post (moderation's removal and restoration, numbered apart
    # from the aggregate version: post_events.apply decides) rides on the listed post.
    if current is None or current.post is None:
        return None
    changed = apply(current.post, envelope, payload)
    return None if changed is None else replace(current, post=changed.post)


def _lifecycle(topic: str, current: TopicEntry | None, envelope: Envelope,
               payload: ev.PostPublished | ev.PostEdited | ev.PostDeleted
               ) -> TopicEntry | None:
    version = envelope.aggregate_version or 1
    if current is not None and (version <= current.version or current.deleted):
        return None
    if isinstance(payload, ev.PostDeleted):
        return TopicEntry(version, None, deleted=True)
    if isinstance(payload, ev.PostPublished):
        if current is not None:
            return None  # the first PostPublished of an id wins
        first = apply(None, envelope, payload)
        post = None if first is None else first.post
    elif current is not None and current.post is not None:
        edited = apply(current.post, envelope, payload)
        post = None if edited is None else edited.post
    else:
        post = _from_edit(envelope, payload)
    if post is None or topic not in topics_of(post.hashtags):
        return TopicEntry(version, None)
    return TopicEntry(version, post)


# The store's ``q:<topic><post id>`` value: the version last applied, the entry's state,
# and (when listed) the ``t:`` key the post is listed under.
_VERSION = struct.Struct(">Q")
_LISTED, _UNLISTED, _DELETED = 0, 1, 2


def reverse_value(entry: TopicEntry, listed_key: bytes) -> bytes:
    """How ``entry`` is kept under its ``q:`` key (``listed_key``: its ``t:`` key)."""
    state = _DELETED if entry.deleted else _LISTED if entry.post is not None else _UNLISTED
    return (_VERSION.pack(entry.version) + bytes((state,))
            + (listed_key if entry.post is not None else b""))


def split_reverse_value(raw: bytes) -> tuple[int, bool, bytes]:
    """(version, deleted, the ``t:`` key or b"" when not listed) of a ``q:`` value."""
    version = _VERSION.unpack_from(raw)[0]
    state = raw[_VERSION.size]
    return int(version), state == _DELETED, raw[_VERSION.size + 1:]
