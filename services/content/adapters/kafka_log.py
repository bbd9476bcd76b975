"""The posts topic and its per-author copy as the service's event store: one Kafka
transaction per post, through one transactional producer per owned partition.

A post is appended twice in one transaction: to its partition of planet.content.posts.v1
(keyed by post id) and to its author's partition of planet.content.author-posts.v1 (keyed by
author id). Readers read committed, so the two copies land together or not at all: the
author's list can never miss a post, nor show one the posts topic lacks.

The transactional id is per partition of the posts topic (``<group>-p<n>``), as in Kafka
Streams: the replica that is assigned partition n starts its producer before it reads, which
fences the previous owner of n (a replica that has not yet noticed it lost n, or is paused)
and aborts its open transaction, so no append for n can land after the new owner has read
to the end of the log. A fenced or failed producer is dropped and started again (with a new
epoch) by the next append, so one Kafka error never wedges a partition.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from planet.events.v1.envelope_pb2 import Envelope
from planetkit.envelope import encode
from planetkit.topics import Topic
from services.content.domain.errors import EventLogUnavailable

log = logging.getLogger(__name__)


class KafkaEventLog:
    """Appends each post to both topics in one transaction of its partition's producer."""

    def __init__(
        self,
        producer_for: Callable[[str], AIOKafkaProducer],
        transactional_prefix: str,
        posts: Topic,
        author_posts: Topic,
        timeout_s: float,
    ) -> None:
        self._producer_for = producer_for
        self._prefix = transactional_prefix
        self._posts = posts
        self._author_posts = author_posts
        self._timeout_s = timeout_s
        self._owned: frozenset[int] = frozenset()
        self._producers: dict[int, AIOKafkaProducer] = {}
        # One transaction at a time per producer (Kafka's rule); other partitions run in
        # parallel.
        self._locks: dict[int, asyncio.Lock] = {}

    def transactional_id(self, partition: int) -> str:
        """The transactional id of the producer that appends to ``partition``."""
        return f"{self._prefix}-p{partition}"

    async def own(self, partitions: Iterable[int]) -> None:
        """Append only for ``partitions`` from now on: stop the producers of the others, and
        start (fencing their previous owners) those of partitions newly owned."""
        owned = frozenset(partitions)
        self._owned = owned
        for p in sorted(set(self._producers) - owned):
            async with self._lock(p):
                await self._drop(p)
        await asyncio.gather(*(self._start(p) for p in sorted(owned - set(self._producers))))

    def _lock(self, partition: int) -> asyncio.Lock:
        return self._locks.setdefault(partition, asyncio.Lock())

    async def _start(self, partition: int) -> AIOKafkaProducer:
        producer = self._producers.get(partition)
        if producer is not None:
            return producer
        producer = self._producer_for(self.transactional_id(partition))
        try:
            async with asyncio.timeout(self._timeout_s):
                await producer.start()  # InitProducerId: fences and aborts the previous owner
        except (KafkaError, TimeoutError) as exc:
            await _stop_quietly(producer)
            raise EventLogUnavailable(
                f"could not start the producer of partition {partition}: {exc!r}") from exc
        self._producers[partition] = producer
        return producer

    async def _drop(self, partition: int) -> None:
        producer = self._producers.pop(partition, None)
        if producer is not None:
            await _stop_quietly(producer)

    async def append(
        self, envelope: Envelope, partition: int, author_id: str, author_partition: int
    ) -> None:
        """Append the post to ``partition`` of the posts topic and to ``author_partition`` of
        the author-posts topic in one transaction; return once committed.

        Both partitions are named explicitly (they are the keys' murmur2 partitions, what the
        default partitioner would pick) because the appending replica must own ``partition``.
        EventLogUnavailable when the commit is not confirmed: nothing is visible then.
        """
        if partition not in self._owned:
            raise EventLogUnavailable(f"partition {partition} of the posts is not owned here")
        value = encode(envelope)
        async with self._lock(partition):
            try:
                producer = await self._start(partition)
                async with asyncio.timeout(self._timeout_s):
                    async with producer.transaction():
                        await producer.send(self._posts.name, value,
                                            key=envelope.aggregate_id.encode(),
                                            partition=partition)
                        await producer.send(self._author_posts.name, value,
                                            key=author_id.encode(), partition=author_partition)
            except (KafkaError, TimeoutError) as exc:
                # Fenced (another replica owns the partition now), timed out or failed: the
                # transaction is aborted (or will be, by the next start), so nothing of it is
                # ever read. A fresh producer is started by the next append.
                await self._drop(partition)
                raise EventLogUnavailable(
                    f"the posts log did not commit: {type(exc).__name__}") from exc

    async def close(self) -> None:
        """Stop every producer."""
        self._owned = frozenset()
        for p in sorted(self._producers):
            await self._drop(p)


async def _stop_quietly(producer: AIOKafkaProducer) -> None:
    try:
        await producer.stop()
    except Exception as exc:  # a fenced producer may fail to flush: it is being dropped anyway
        log.warning("stopping a posts producer failed", extra={"reason": repr(exc)})
