"""Kafka transactions per owned partition: how every content topic is written.

One transactional producer per partition of the deciding topic (transactional id
``<prefix>-<label>-p<n>``, or ``<prefix>-p<n>`` for the posts, whose id predates the others),
as in Kafka Streams: the replica that is assigned partition n starts that producer before it
decides anything (``own``), which fences the previous owner of n (a replica that has not yet
noticed it lost n, or is paused) and aborts its open transaction, so no write for n lands after
the new owner has read to the end of the log. A fenced or failed producer is dropped and
started again (with a new epoch) by the next append, so one Kafka error never wedges a
partition.

An append is one decision: its records (the fact, and any copies of it under other keys on
co-partitioned topics, e.g. a post under its author and its topics) go in one transaction, so
readers (read committed) see all of them or none. Kafka allows one open transaction per
producer, so appends to one partition take turns; those that arrive while a transaction commits
go together in the next one (group commit): under load the commit latency is shared instead of
paid once per decision.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from services.content.domain.errors import EventLogUnavailable

log = logging.getLogger(__name__)
# Appends per transaction at most: bounds a commit's size and time.
MAX_GROUP = 500


@dataclass(frozen=True, slots=True)
class Record:
    """One record of an append, on an explicit partition (the key's murmur2 partition: what
    the default partitioner would pick, named because the appender must own it)."""

    topic: str
    key: bytes
    value: bytes
    partition: int


@dataclass(eq=False)
class _Pending:
    """One append waiting for its partition's next transaction."""

    records: Sequence[Record]
    done: asyncio.Future[None]


class PartitionTransactions:
    """Appends each decision's records in one transaction of its partition's producer."""

    def __init__(self, producer_for: Callable[[str], AIOKafkaProducer],
                 transactional_prefix: str, label: str, timeout_s: float) -> None:
        self._producer_for = producer_for
        self._prefix = transactional_prefix
        self._label = label
        self._timeout_s = timeout_s
        self._owned: frozenset[int] = frozenset()
        self._producers: dict[int, AIOKafkaProducer] = {}
        # One transaction at a time per producer (Kafka's rule); other partitions run in
        # parallel. Appends wait in their partition's queue for the next transaction.
        self._locks: dict[int, asyncio.Lock] = {}
        self._queues: dict[int, list[_Pending]] = {}

    def transactional_id(self, partition: int) -> str:
        """The transactional id of the producer that appends for ``partition``."""
        if not self._label:
            return f"{self._prefix}-p{partition}"
        return f"{self._prefix}-{self._label}-p{partition}"

    def owns(self, partition: int) -> bool:
        """Whether appends for ``partition`` are taken here."""
        return partition in self._owned

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
            await _stop_quietly(producer, self._what)
            raise EventLogUnavailable(
                f"could not start the {self._what} producer of partition {partition}: "
                f"{exc!r}") from exc
        self._producers[partition] = producer
        return producer

    @property
    def _what(self) -> str:
        return self._label or "posts"

    async def _drop(self, partition: int) -> None:
        producer = self._producers.pop(partition, None)
        if producer is not None:
            await _stop_quietly(producer, self._what)

    async def append(self, partition: int, records: Sequence[Record]) -> None:
        """Append ``records`` in one transaction of ``partition``'s producer (this replica
        must own ``partition``); return once committed. EventLogUnavailable when the commit
        is not confirmed: nothing of it is visible then."""
        if partition not in self._owned:
            raise EventLogUnavailable(
                f"partition {partition} of the {self._what} is not owned here")
        mine = _Pending(records, asyncio.get_running_loop().create_future())
        queue = self._queues.setdefault(partition, [])
        queue.append(mine)
        try:
            async with self._lock(partition):
                # Group commit: whoever holds the lock commits every append queued meanwhile.
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
                raise EventLogUnavailable(
                    f"partition {partition} of the {self._what} moved away")
            producer = await self._start(partition)
            async with asyncio.timeout(self._timeout_s):
                async with producer.transaction():
                    for item in group:
                        for record in item.records:
                            await producer.send(record.topic, record.value, key=record.key,
                                                partition=record.partition)
        except (KafkaError, TimeoutError, EventLogUnavailable) as exc:
            # Fenced (another replica owns the partition now), timed out or failed: the
            # transaction is aborted (or will be, by the next start), so nothing of it is
            # ever read. A fresh producer is started by the next append.
            await self._drop(partition)
            failed = exc if isinstance(exc, EventLogUnavailable) else EventLogUnavailable(
                f"the {self._what} log did not commit: {type(exc).__name__}")
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
        done.exception()  # marks it retrieved (the tails apply a committed record anyway)


async def _stop_quietly(producer: AIOKafkaProducer, what: str) -> None:
    try:
        await producer.stop()
    except Exception as exc:  # a fenced producer may fail to flush: it is being dropped anyway
        log.warning("stopping a %s producer failed", what, extra={"reason": repr(exc)})
