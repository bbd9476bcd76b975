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

Kafka allows one open transaction per producer, so appends to one partition take turns; those
that arrive while a transaction commits go together in the next one (group commit), so the
commit latency is shared instead of paid once per post under load.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from planet.events.v1.envelope_pb2 import Envelope
from planetkit.envelope import encode
from planetkit.topics import Topic
from services.content.domain.errors import EventLogUnavailable

log = logging.getLogger(__name__)
# Posts per transaction at most (each is two records): bounds a commit's size and time.
MAX_GROUP = 500


@dataclass(eq=False)
class _Pending:
    """One post waiting for its partition's next transaction."""

    value: bytes
    post_key: bytes
    author_key: bytes
    author_partition: int
    done: asyncio.Future[None]
    # (topic key, topic-posts partition) per topic of the post.
    topics: tuple[tuple[bytes, int], ...] = ()


class KafkaEventLog:
    """Appends each post to both topics in one transaction of its partition's producer."""

    def __init__(
        self,
        producer_for: Callable[[str], AIOKafkaProducer],
        transactional_prefix: str,
        posts: Topic,
        author_posts: Topic,
        timeout_s: float,
        topic_posts: Topic | None = None,
    ) -> None:
        self._producer_for = producer_for
        # planet.content.topic-posts.v1: each post again under each of its topics.
        self._topic_posts = topic_posts
        self._prefix = transactional_prefix
        self._posts = posts
        self._author_posts = author_posts
        self._timeout_s = timeout_s
        self._owned: frozenset[int] = frozenset()
        self._producers: dict[int, AIOKafkaProducer] = {}
        # One transaction at a time per producer (Kafka's rule); other partitions run in
        # parallel. Appends wait in their partition's queue for the next transaction.
        self._locks: dict[int, asyncio.Lock] = {}
        self._queues: dict[int, list[_Pending]] = {}

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
        self, envelope: Envelope, partition: int, author_id: str, author_partition: int,
        topics: Sequence[tuple[str, int]] = (),
    ) -> None:
        """Append the post to ``partition`` of the posts topic and to ``author_partition`` of
        the author-posts topic in one transaction; return once committed.

        Both partitions are named explicitly (they are the keys' murmur2 partitions, what the
        default partitioner would pick) because the appending replica must own ``partition``.
        EventLogUnavailable when the commit is not confirmed: nothing is visible then.
        """
        if partition not in self._owned:
            raise EventLogUnavailable(f"partition {partition} of the posts is not owned here")
        if topics and self._topic_posts is None:
            raise ValueError("this event log has no topic-posts topic to index topics in")
        mine = _Pending(encode(envelope), envelope.aggregate_id.encode(), author_id.encode(),
                        author_partition, asyncio.get_running_loop().create_future(),
                        tuple((t.encode(), p) for t, p in topics))
        queue = self._queues.setdefault(partition, [])
        queue.append(mine)
        try:
            async with self._lock(partition):
                # Group commit: whoever holds the lock commits every append queued meanwhile
                # in one transaction, so concurrent publishes on a partition share commits
                # instead of waiting for one each.
                while not mine.done.done():
                    group = queue[:MAX_GROUP]
                    del queue[:MAX_GROUP]
                    await self._commit(partition, group)
        except asyncio.CancelledError:
            if mine in queue:
                queue.remove(mine)  # never sent: nothing to undo
            else:
                # Its group commits or fails without this caller: nobody reads the outcome.
                mine.done.add_done_callback(_outcome_unread)
            raise
        mine.done.result()  # EventLogUnavailable when its group did not commit

    async def _commit(self, partition: int, group: list[_Pending]) -> None:
        """One transaction for ``group``; each member's future says how it ended."""
        try:
            if partition not in self._owned:
                # Revoked while these waited: starting its producer now would fence the new
                # owner's. The callers retry, and are forwarded there.
                raise EventLogUnavailable(f"partition {partition} of the posts moved away")
            producer = await self._start(partition)
            async with asyncio.timeout(self._timeout_s):
                async with producer.transaction():
                    for item in group:
                        await producer.send(self._posts.name, item.value, key=item.post_key,
                                            partition=partition)
                        await producer.send(self._author_posts.name, item.value,
                                            key=item.author_key,
                                            partition=item.author_partition)
                        for topic_key, topic_partition in item.topics:
                            assert self._topic_posts is not None  # checked in append
                            await producer.send(self._topic_posts.name, item.value,
                                                key=topic_key, partition=topic_partition)
        except (KafkaError, TimeoutError, EventLogUnavailable) as exc:
            # Fenced (another replica owns the partition now), timed out or failed: the
            # transaction is aborted (or will be, by the next start), so nothing of it is
            # ever read. A fresh producer is started by the next append.
            await self._drop(partition)
            failed = exc if isinstance(exc, EventLogUnavailable) else EventLogUnavailable(
                f"the posts log did not commit: {type(exc).__name__}")
            for item in group:
                if not item.done.done():
                    item.done.set_exception(failed)
            return
        for item in group:
            if not item.done.done():
                item.done.set_result(None)

    async def close(self) -> None:
        """Stop every producer."""
        self._owned = frozenset()
        for p in sorted(self._producers):
            await self._drop(p)


def _outcome_unread(done: asyncio.Future[None]) -> None:
    if not done.cancelled():
        done.exception()  # marks it retrieved (the tail applies a committed post anyway)


async def _stop_quietly(producer: AIOKafkaProducer) -> None:
    try:
        await producer.stop()
    except Exception as exc:  # a fenced producer may fail to flush: it is being dropped anyway
        log.warning("stopping a posts producer failed", extra={"reason": repr(exc)})
