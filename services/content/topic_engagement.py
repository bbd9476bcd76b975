"""The feed of the most-engaged topic pages: an interaction's TopicEngagement copies as the
extra records of the interaction's own Kafka transaction.

Why on planet.content.topic-posts.v1 (keyed by the normalised topic, beside the post copies)
and not a topic of their own: the replica that owns a topic's partition already tails that
topic into the topic's store, with the offset in the same RocksDB write; an engagement read
there lands in the same store and the same write, so a page ranks from one store, a restart
catches up from one offset, and a rebuild from offset 0 replays posts and engagement in the
order they were committed. A second topic would add a second offset per store, a second
assignment to keep co-partitioned, and no reader that wants engagement without the posts.

Why in the interaction's transaction: the interaction (on the post's partition of
planet.content.interactions.v1) and its copies (on each topic's partition, usually owned by
another replica) commit together or not at all, so a topic page can never count a like the
interactions log lacks, nor miss one it has. The owner of a topic's partition reads the copy a
fetch later (the page is eventually consistent with the like by that much).
"""

from __future__ import annotations

from google.protobuf.message import Message

from planetkit.envelope import encode, wrap
from planetkit.kafka.partitioning import partition_for
from planetkit.service_identities import CONTENT
from planetkit.topics import Topic
from services.content.adapters.partition_writer import Record
from services.content.domain.model import Post
from services.content.domain.topic_engagement import engagement_event_id, engagement_facts

__all__ = ["Record", "TopicEngagementCopies"]


class TopicEngagementCopies:
    """Builds the topic-posts records of one interaction (services/content/interactions.py
    hands them to the interactions log with the interaction itself)."""

    def __init__(self, topic_posts: Topic) -> None:
        self._topic = topic_posts

    def records(self, post: Post, event: Message, event_id: str, at_ms: int) -> list[Record]:
        """One record per topic of ``post`` when ``event`` is someone else's engagement."""
        out: list[Record] = []
        for fact in engagement_facts(post, event, event_id, at_ms):
            envelope = wrap(fact, event_id=engagement_event_id(event_id, fact.topic),
                            source=CONTENT, aggregate_id=fact.topic, occurred_at_ms=at_ms)
            out.append(Record(self._topic.name, fact.topic.encode(), encode(envelope),
                              partition_for(fact.topic, self._topic.partitions)))
        return out
