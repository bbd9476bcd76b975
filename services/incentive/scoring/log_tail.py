"""A read_committed consumer over whole topics, assigned by hand (no group), that the job
polls between its steps: catch up to the end, or take what is there without waiting."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TypeAlias

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import ConsumerRecord

from planetkit.kafka.producer import MAX_REQUEST_BYTES

# aiokafka ships no types: a record is Any to mypy.
Record: TypeAlias = ConsumerRecord


class LogTail:
    """Every partition of ``topics``, from the beginning unless told where to start."""

    def __init__(self, bootstrap: str, topics: Sequence[str], *, max_records: int = 5000) -> None:
        self._bootstrap = bootstrap
        self._topics = tuple(topics)
        self._max_records = max_records
        self._consumer: AIOKafkaConsumer | None = None
        self.partitions: dict[str, list[int]] = {}

    def _c(self) -> AIOKafkaConsumer:
        if self._consumer is None:
            raise RuntimeError("LogTail.start() first")
        return self._consumer

    async def start(self, start: Mapping[str, Mapping[int, int]] | None = None) -> None:
        """Assign every partition and position it (``start[topic][partition]`` or the
        beginning)."""
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap, enable_auto_commit=False,
            isolation_level="read_committed", max_partition_fetch_bytes=MAX_REQUEST_BYTES,
            fetch_max_bytes=32 * 1024 * 1024)
        await self._consumer.start()
        # partitions_for_topic answers from a cache that an assign()-only consumer never
        # fills: ask the cluster.
        meta = await self._consumer._client.fetch_all_metadata()
        tps: list[TopicPartition] = []
        for topic in self._topics:
            ids = meta.partitions_for_topic(topic)
            if not ids:
                raise LookupError(f"topic {topic} does not exist")
            self.partitions[topic] = sorted(ids)
            tps.extend(TopicPartition(topic, p) for p in sorted(ids))
        self._consumer.assign(tps)
        await self.seek(start or {})

    async def seek(self, start: Mapping[str, Mapping[int, int]]) -> None:
        """Reposition: ``start[topic][partition]``, the beginning for the partitions not named
        (clamped to the first offset still stored)."""
        c = self._c()
        tps = list(c.assignment())
        firsts = await c.beginning_offsets(tps)
        for tp in tps:
            offset = start.get(tp.topic, {}).get(tp.partition)
            c.seek(tp, max(firsts[tp], offset or 0))

    async def positions(self) -> dict[str, dict[int, int]]:
        """Where each partition will be read next."""
        c = self._c()
        out: dict[str, dict[int, int]] = {}
        for tp in c.assignment():
            out.setdefault(tp.topic, {})[tp.partition] = await c.position(tp)
        return out

    async def ends(self) -> dict[str, dict[int, int]]:
        """The end offsets (last stable) of every partition now."""
        c = self._c()
        ends = await c.end_offsets(list(c.assignment()))
        out: dict[str, dict[int, int]] = {}
        for tp, offset in ends.items():
            out.setdefault(tp.topic, {})[tp.partition] = offset
        return out

    async def reached(self, ends: Mapping[str, Mapping[int, int]]) -> bool:
        """Whether every partition has been read up to ``ends``."""
        positions = await self.positions()
        return all(positions.get(t, {}).get(p, 0) >= o
                   for t, by_p in ends.items() for p, o in by_p.items())

    async def catch_up(self, handle: Callable[[Record], None]) -> int:
        """Hand every record up to the end offsets (last stable) at call time; records read."""
        c = self._c()
        tps = list(c.assignment())
        ends = await c.end_offsets(tps)
        pending = {tp for tp in tps if await c.position(tp) < ends[tp]}
        read = 0
        while pending:
            fetched = await c.getmany(*pending, timeout_ms=500, max_records=self._max_records)
            for records in fetched.values():
                for record in records:
                    handle(record)
                read += len(records)
            for tp in list(pending):
                if await c.position(tp) >= ends[tp]:
                    pending.discard(tp)
        return read

    async def poll(self, handle: Callable[[Record], None], timeout_ms: int = 0) -> int:
        """Hand what one fetch brings (at most ``max_records``); records read."""
        fetched = await self._c().getmany(timeout_ms=timeout_ms, max_records=self._max_records)
        read = 0
        for records in fetched.values():
            for record in records:
                handle(record)
            read += len(records)
        return read

    async def stop(self) -> None:
        """Close the consumer."""
        if self._consumer is not None:
            await self._consumer.stop()
            self._consumer = None

