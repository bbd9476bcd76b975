"""planet.content.interactions.v1 as the event store of comments, likes and shares: one Kafka
transaction per group of actions, through one transactional producer per owned partition.

The pattern is ``kafka_log.py``'s (the posts topic): the transactional id is per partition
(``<group>-interactions-p<n>``); the replica that owns partition n starts that producer (on
its first decision after an assignment: ``own``), which fences the previous owner of n and
aborts its open transaction. Were a paused previous owner's action to land anyway, nothing
breaks: the store is a fold of the log in which a repeated like, a known comment id or an
applied event id changes nothing, so every replica, live or rebuilt, agrees on it. Actions
that arrive while a transaction commits go together in the next one (group commit). A fenced
or failed producer is dropped and started again by the next append.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from planet.events.v1.envelope_pb2 import Envelope
from planetkit.envelope import encode
from planetkit.topics import Topic
from services.content.domain.errors import EventLogUnavailable

log = logging.getLogger(__name__)
MAX_GROUP = 500


@dataclass(eq=False)
class _Pending:
    value: bytes
    key: bytes
    done: asyncio.Future[None]


class KafkaInteractionLog:
    """Appends each action to its post's partition in a transaction of that partition's
    producer."""

    def __init__(self, producer_for: Callable[[str], AIOKafkaProducer],
                 transactional_prefix: str, topic: Topic, timeout_s: float) -> None:
        self._producer_for = producer_for
        self._prefix = transactional_prefix
        self._topic = topic
        self._timeout_s = timeout_s
        self._owned: frozenset[int] = frozenset()
        self._producers: dict[int, AIOKafkaProducer] = {}
        self._locks: dict[int, asyncio.Lock] = {}
        self._queues: dict[int, list[_Pending]] = {}

    def transactional_id(self, partition: int) -> str:
        """The transactional id of the producer that appends to ``partition``."""
        return f"{self._prefix}-interactions-p{partition}"

    async def own(self, partitions: Iterable[int]) -> None:
        """Append only for ``partitions``: stop the others' producers, start (fencing the
        previous owners) those newly owned."""
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
                await producer.start()
        except (KafkaError, TimeoutError) as exc:
            await _stop_quietly(producer)
            raise EventLogUnavailable(
                f"could not start the interactions producer of partition {partition}: "
                f"{exc!r}") from exc
        self._producers[partition] = producer
        return producer

    async def _drop(self, partition: int) -> None:
        producer = self._producers.pop(partition, None)
        if producer is not None:
            await _stop_quietly(producer)

    async def append(self, envelope: Envelope, partition: int) -> None:
        """Append to ``partition`` (the post id's, which this replica must own), keyed by the
        post id; return once committed, EventLogUnavailable otherwise (nothing visible)."""
        if partition not in self._owned:
            raise EventLogUnavailable(
                f"partition {partition} of the interactions is not owned here")
        mine = _Pending(encode(envelope), envelope.aggregate_id.encode(),
                        asyncio.get_running_loop().create_future())
        queue = self._queues.setdefault(partition, [])
        queue.append(mine)
        try:
            async with self._lock(partition):
                while not mine.done.done():
                    group = queue[:MAX_GROUP]
                    del queue[:MAX_GROUP]
                    await self._commit(partition, group)
        except asyncio.CancelledError:
            if mine in queue:
                queue.remove(mine)
            else:
                mine.done.add_done_callback(_outcome_unread)
            raise
        mine.done.result()

    async def _commit(self, partition: int, group: list[_Pending]) -> None:
        try:
            if partition not in self._owned:
                raise EventLogUnavailable(
                    f"partition {partition} of the interactions moved away")
            producer = await self._start(partition)
            async with asyncio.timeout(self._timeout_s):
                async with producer.transaction():
                    for item in group:
                        await producer.send(self._topic.name, item.value, key=item.key,
                                            partition=partition)
        except (KafkaError, TimeoutError, EventLogUnavailable) as exc:
            await self._drop(partition)
            failed = exc if isinstance(exc, EventLogUnavailable) else EventLogUnavailable(
                f"the interactions log did not commit: {type(exc).__name__}")
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
        done.exception()


async def _stop_quietly(producer: AIOKafkaProducer) -> None:
    try:
        await producer.stop()
    except Exception as exc:  # a fenced producer may fail to flush: it is being dropped anyway
        log.warning("stopping an interactions producer failed", extra={"reason": repr(exc)})
