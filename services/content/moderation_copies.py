"""Copies of a post's removal and restoration for the lists kept on other partitions.

An author's list lives on the author's partition of planet.content.author-posts.v1, a topic
page on the topic's partition of planet.content.topic-posts.v1: neither is the post's
partition, where the removal is decided. So the deciding replica appends the same envelope
there too, in the removal's transaction (services/content/moderation.py), and applies it at
once to those of the stores it keeps itself (the others' tails fold it a fetch later, with
``domain/post_events.moderated``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from planet.content.v1 import reports_pb2 as rp
from planet.events.v1.envelope_pb2 import Envelope
from planetkit.kafka.partitioning import partition_for
from services.content.adapters.partition_writer import Record
from services.content.domain.model import Post
from services.content.domain.post_events import PostEvent
from services.content.domain.topics import topics_of

PostModeration = rp.ItemRemoved | rp.ItemRestored


class IndexStore(Protocol):
    """One partition of the author index."""

    def put_event(self, envelope: Envelope, payload: PostEvent) -> None:
        """Apply a committed event ahead of the tail."""


class IndexStores(Protocol):
    """The author-index stores."""

    def store(self, partition: int) -> IndexStore:
        """The store of ``partition``."""


class TopicStore(Protocol):
    """One partition of the topic index."""

    def put_event(self, topic: str, envelope: Envelope, payload: PostEvent) -> None:
        """Apply a committed event ahead of the tail."""


class TopicStores(Protocol):
    """The topic-index stores."""

    def store(self, partition: int) -> TopicStore:
        """The store of ``partition``."""


class Local(Protocol):
    """The partitions this replica keeps (services.content.handlers.Ownership)."""

    partitions: int
    local: frozenset[int]


class ModerationCopies:
    """The author-posts and topic-posts copies of a post's removal or restoration."""

    def __init__(self, author_posts: str, topic_posts: str, ownership: Local,
                 index: IndexStores, topics: TopicStores) -> None:
        self._author_posts = author_posts
        self._topic_posts = topic_posts
        self._ownership = ownership
        self._index = index
        self._topics = topics

    def _targets(self, post: Post) -> list[tuple[str, int]]:
        return [(t, partition_for(t, self._ownership.partitions))
                for t in topics_of(post.hashtags)]

    def records(self, post: Post, value: bytes) -> list[Record]:
        """The copies of one encoded envelope about ``post``."""
        out = [Record(self._author_posts, post.creator_id.encode(), value,
                      partition_for(post.creator_id, self._ownership.partitions))]
        out.extend(Record(self._topic_posts, topic.encode(), value, p)
                   for topic, p in self._targets(post))
        return out

    def applied(self, post: Post, events: Sequence[tuple[Envelope, PostModeration]]) -> None:
        """Apply just-committed copies to the author and topic stores kept here."""
        local = self._ownership.local
        author_partition = partition_for(post.creator_id, self._ownership.partitions)
        targets = [(t, p) for t, p in self._targets(post) if p in local]
        for envelope, payload in events:
            if author_partition in local:
                self._index.store(author_partition).put_event(envelope, payload)
            for topic, p in targets:
                self._topics.store(p).put_event(topic, envelope, payload)
