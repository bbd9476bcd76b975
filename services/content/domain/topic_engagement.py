"""What an interaction tells a topic page: the TopicEngagement facts copied, in the
interaction's own Kafka transaction, to each topic partition of the post (pure: no I/O).

**What counts.** A user *engages* a post by commenting on it (a top-level comment or a reply
anywhere in its thread), liking it or one of its comments, or sharing it. Edits, deletes and
unlikes are not engagement, and they do not withdraw it: the ranking counts distinct users who
*acted* on the post in the window, and an act that happened stays true. (A like then an unlike
within the window still counts that user once; a like, unlike, like again also counts once,
because users are distinct per (topic, day, post).) Withdrawal would need, per (post, user),
every other reason they were counted; counting acts keeps one key per (topic, day, post, user)
and nothing else, and gains a farmer nothing: one account is one user however often it toggles.

**Who never counts.** The post's author engaging their own post: no fact is even written (and
the ranking drops it again, domain/topics.rank_engaged_top). Sanctioned accounts are left out at
read time, against the sanctions standing then, so a lifted sanction counts again.

The fact's event id is derived from the interaction's event id and the topic, so a replayed or
re-decided interaction names the same facts (the store keeps a user once per day anyway).
"""

from __future__ import annotations

import hashlib

from google.protobuf.message import Message

from planet.content.v1 import interactions_pb2 as ipb
from planet.content.v1 import topics_pb2 as tpb
from services.content.domain.model import Post
from services.content.domain.topics import topics_of


def engagement_of(event: Message) -> tuple[str, tpb.EngagementKind.ValueType] | None:
    """(engaging user, kind) of an interaction that is engagement; None for the others."""
    if isinstance(event, ipb.CommentPosted):
        return event.author_id, tpb.ENGAGEMENT_KIND_COMMENT
    if isinstance(event, ipb.ItemLiked):
        return event.user_id, tpb.ENGAGEMENT_KIND_LIKE
    if isinstance(event, ipb.ItemShared):
        return event.user_id, tpb.ENGAGEMENT_KIND_SHARE
    return None


def engagement_event_id(source_event_id: str, topic: str) -> str:
    """The event id of the copy of ``source_event_id`` under ``topic`` (one-way, like the
    interaction's own id)."""
    digest = hashlib.sha256(f"{source_event_id}\x00{topic}".encode()).hexdigest()[:32]
    return f"evt_tg_{digest}"


def engagement_facts(post: Post, event: Message, source_event_id: str, at_ms: int
                     ) -> list[tpb.TopicEngagement]:
    """One TopicEngagement per topic of ``post`` for an engaging ``event``; none for an
    event that is not engagement, a post without topics, or the author's own act."""
    found = engagement_of(event)
    if found is None:
        return []
    user_id, kind = found
    if not user_id or user_id == post.creator_id:
        return []
    return [tpb.TopicEngagement(topic=topic, post_id=post.post_id,
                                post_author_id=post.creator_id, user_id=user_id, kind=kind,
                                at_ms=at_ms, source_event_id=source_event_id)
            for topic in topics_of(post.hashtags)]
