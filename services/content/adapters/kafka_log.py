"""The posts topic and its per-author and per-topic copies as the service's event store.

A post is appended to its partition of planet.content.posts.v1 (keyed by post id), to its
author's partition of planet.content.author-posts.v1 (keyed by author id) and to each of its
topics' partitions of planet.content.topic-posts.v1, in one transaction of the posts
partition's producer (``partition_writer.PartitionTransactions``: fencing, group commit).
Readers read committed, so the copies land together or not at all: the author's list can never
miss a post, nor show one the posts topic lacks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from aiokafka import AIOKafkaProducer

from planet.events.v1.envelope_pb2 import Envelope
from planetkit.envelope import encode
from planetkit.topics import Topic
from services.content.adapters.partition_writer import PartitionTransactions, Record


class KafkaEventLog:
    """Appends each post to its topics in one transaction of its partition's producer."""

    def __init__(
        self,
        producer_for: Callable[[str], AIOKafkaProducer],
        transactional_prefix: str,
        posts: Topic,
        author_posts: Topic,
        timeout_s: float,
        topic_posts: Topic | None = None,
    ) -> None:
        # The posts' transactional ids (``<group>-p<n>``) predate the other topics' labels.
        self._txns = PartitionTransactions(producer_for, transactional_prefix, "", timeout_s)
        # planet.content.topic-posts.v1: each post again under each of its topics.
        self._topic_posts = topic_posts
        self._posts = posts
        self._author_posts = author_posts

    def transactional_id(self, partition: int) -> str:
        """The transactional id of the producer that appends to ``partition``."""
        return self._txns.transactional_id(partition)

    async def own(self, partitions: Iterable[int]) -> None:
        """Append only for ``partitions`` from now on (fencing their previous owners)."""
        await self._txns.own(partitions)

    async def append(
        self, envelope: Envelope, partition: int, author_id: str, author_partition: int,
        topics: Sequence[tuple[str, int]] = (),
    ) -> None:
        """Append the post to ``partition`` of the posts topic, to ``author_partition`` of
        the author-posts topic and to each (topic, partition) of ``topics`` in one
        transaction; return once committed.

        Every partition is named explicitly (they are the keys' murmur2 partitions, what the
        default partitioner would pick) because the appending replica must own ``partition``.
        EventLogUnavailable when the commit is not confirmed: nothing is visible then.
        """
        if topics and self._topic_posts is None:
            raise ValueError("this event log has no topic-posts topic to index topics in")
        value = encode(envelope)
        records = [Record(self._posts.name, envelope.aggregate_id.encode(), value, partition),
                   Record(self._author_posts.name, author_id.encode(), value,
                          author_partition)]
        if self._topic_posts is not None:
            records.extend(Record(self._topic_posts.name, topic.encode(), value, p)
                           for topic, p in topics)
        await self._txns.append(partition, records)

    async def close(self) -> None:
        """Stop every producer."""
        await self._txns.close()
