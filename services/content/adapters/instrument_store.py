"""Small reference tables every content replica keeps whole, in memory: the exchange's
instrument list (planet.exchange.instruments.v1), the operators' arenas
(planet.content.arenas.v1) and the accounts under a sanction (the sanction facts of
planet.social.identities.v1, for the most-engaged topic pages).

Each is read by a consumer of its own without a group, over every partition, from the start:
both topics hold one record per key that matters (the latest record of a key is its whole
state; the instruments topic is compacted), so a restart reads a list of a few hundred rows,
not a history. (The identities topic is the exception: it is social's changelog, of which
content keeps only the sanctions. That tail has a checkpoint, adapters/sanctions_snapshot.py:
the table and the offsets read, in one RocksDB write per fetch, so a restart reads only what
is new; a replica without one reads the topic whole once.) A table is ``loaded`` once the
consumer has reached the ends the topic had when the tail started; the replica reports
SERVING only then, so a component is never refused for a symbol that is merely not read yet.
After that the tail keeps following the topic.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Protocol

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError
from aiokafka.structs import ConsumerRecord
from google.protobuf.message import Message

from planet.content.v1.topics_pb2 import ArenaDefined
from planet.exchange.v2 import instruments_pb2 as pb
from planet.social.v1 import events_pb2 as social
from planetkit.envelope import DomainEvent, UndecodableEvent, decode, decode_envelope
from planetkit.topics import Topic
from services.content.domain.components import (
    Instrument,
    Instruments,
    InstrumentStatus,
    parse_price,
)
from services.content.domain.topics import Arena, Arenas, Sanctions

log = logging.getLogger(__name__)

_STATUS = {pb.INSTRUMENT_STATUS_TRADING: InstrumentStatus.TRADING,
           pb.INSTRUMENT_STATUS_HALTED: InstrumentStatus.HALTED,
           pb.INSTRUMENT_STATUS_DELISTED: InstrumentStatus.DELISTED}


def instrument_from_event(fact: pb.InstrumentListed) -> Instrument | None:
    """The instrument a report describes; None when the exchange sent something unusable."""
    status = _STATUS.get(fact.status)
    if status is None or not fact.symbol or fact.symbol != f"{fact.base}/{fact.quote}":
        return None
    price: Decimal | None = parse_price(fact.last_price)
    return Instrument(fact.symbol, fact.base, fact.quote, status, price, fact.at_ms)


def apply_instrument(instruments: Instruments) -> Callable[[DomainEvent[Message]], None]:
    """How an InstrumentListed record changes the table."""
    def _apply(event: DomainEvent[Message]) -> None:
        assert isinstance(event.payload, pb.InstrumentListed)
        found = instrument_from_event(event.payload)
        if found is None:
            log.warning("ignoring an unusable instrument report",
                        extra={"symbol": event.payload.symbol[:64]})
            return
        instruments.put(found)
    return _apply


def apply_arena(arenas: Arenas) -> Callable[[DomainEvent[Message]], None]:
    """How an ArenaDefined record changes the table."""
    def _apply(event: DomainEvent[Message]) -> None:
        fact = event.payload
        assert isinstance(fact, ArenaDefined)
        arenas.put(Arena(fact.arena_id, fact.name, tuple(fact.topics), fact.at_ms))
    return _apply


SANCTION_FACTS: tuple[type[Message], ...] = (
    social.AccountSanctioned, social.SanctionLifted, social.AppealDecided)


def apply_sanction(sanctions: Sanctions) -> Callable[[DomainEvent[Message]], None]:
    """How a sanction fact of planet.social.identities.v1 changes the sanctioned set."""
    def _apply(event: DomainEvent[Message]) -> None:
        fact = event.payload
        if isinstance(fact, social.AccountSanctioned):
            sanctions.sanctioned(fact.user_id, fact.sanction_id, fact.until_ms)
        elif isinstance(fact, social.SanctionLifted) or (
                isinstance(fact, social.AppealDecided) and fact.granted):
            sanctions.lifted(fact.user_id, fact.sanction_id)
    return _apply


class TailCheckpoint(Protocol):
    """Where a tail keeps its table and positions between runs (sanctions_snapshot.py)."""

    def load(self) -> dict[int, int]:
        """Fill the table; the next offset to read per partition (empty: from the start)."""

    def save(self, positions: Mapping[int, int]) -> None:
        """Persist the table's changes since the last save with these positions."""

    def reset(self) -> None:
        """Forget the table and the positions."""

    def close(self) -> None:
        """Close the store."""


class ReferenceTail:
    """Follows every partition of one topic into an in-memory table."""

    def __init__(
        self,
        name: str,
        consumer: Callable[[], AIOKafkaConsumer],
        topic: Topic,
        payloads: tuple[type[Message], ...],
        apply: Callable[[DomainEvent[Message]], None],
        fetch_timeout_ms: int = 200,
        checkpoint: TailCheckpoint | None = None,
    ) -> None:
        self.name = name
        self._checkpoint = checkpoint
        self.topic = topic.name
        self._partitions = topic.partitions
        self.loaded = False
        self.records = 0
        self._new_consumer = consumer
        self._payloads = payloads
        self._types = frozenset(p.DESCRIPTOR.full_name for p in payloads)
        self._apply = apply
        self._fetch_timeout_ms = fetch_timeout_ms
        self._consumer: AIOKafkaConsumer | None = None
        self._targets: dict[TopicPartition, int] = {}

    async def start(self, timeout_s: float = 30.0) -> None:
        """Assign every partition from its beginning and note where each ends now.

        A topic created a moment ago (tests, a fresh cluster) may not have its leaders in
        every broker's metadata yet: the metadata is fetched until it names the topic, and
        reading the ends is retried, within ``timeout_s``."""
        consumer = self._new_consumer()
        await consumer.start()
        self._consumer = consumer
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        tps = [TopicPartition(self.topic, p) for p in range(self._partitions)]
        while True:
            try:
                if self.topic in await consumer.topics():
                    consumer.assign(tps)
                    await consumer.seek_to_beginning(*tps)
                    self._targets = await consumer.end_offsets(tps)
                    self._resume(consumer)
                    return
            except KafkaError as exc:
                if loop.time() > deadline:
                    raise
                log.info("reference table not readable yet; retrying",
                         extra={"table": self.name, "reason": repr(exc)})
            if loop.time() > deadline:
                raise RuntimeError(f"topic {self.topic} is not in the cluster's metadata")
            await asyncio.sleep(0.2)

    def _resume(self, consumer: AIOKafkaConsumer) -> None:
        """Continue from the checkpoint's positions (if any) instead of the beginning."""
        if self._checkpoint is None:
            return
        saved = self._checkpoint.load()
        if any(saved.get(tp.partition, 0) > end for tp, end in self._targets.items()):
            log.warning("reference checkpoint ahead of its topic; reading it from the start",
                        extra={"table": self.name})
            self._checkpoint.reset()
            return
        for tp in self._targets:
            if saved.get(tp.partition, 0) > 0:
                consumer.seek(tp, saved[tp.partition])

    async def poll(self) -> int:
        """Read one fetch into the table; how many records it held."""
        consumer = self._consumer
        if consumer is None:
            raise RuntimeError("the tail is not started")
        fetched = await consumer.getmany(timeout_ms=self._fetch_timeout_ms, max_records=5_000)
        n = 0
        positions: dict[int, int] = {}
        for records in fetched.values():
            for record in records:
                self._one(record)
                positions[record.partition] = record.offset + 1
                n += 1
        if self._checkpoint is not None and positions:
            self._checkpoint.save(positions)
        self.records += n
        if not self.loaded and await self._caught_up(consumer):
            self.loaded = True
            log.info("reference table loaded", extra={"table": self.name,
                                                      "records": self.records})
        return n

    def _one(self, record: ConsumerRecord[bytes, bytes]) -> None:
        try:
            if decode_envelope(record.value).type not in self._types:
                return  # another fact on a shared topic (the identities topic): not ours
            event = decode(record.value, *self._payloads)
        except UndecodableEvent as exc:
            log.error("skipping an undecodable reference record", extra={
                "table": self.name, "partition": record.partition, "offset": record.offset,
                "reason": str(exc)})
            return
        self._apply(event)

    async def _caught_up(self, consumer: AIOKafkaConsumer) -> bool:
        for tp, end in self._targets.items():
            if await consumer.position(tp) < end:
                return False
        return True

    async def run(self, stopping: asyncio.Event) -> None:
        """Start, then follow the topic until ``stopping``; a Kafka error is logged and the
        fetch retried (the table stays as it was)."""
        await self.start()
        try:
            while not stopping.is_set():
                try:
                    await self.poll()
                except KafkaError as exc:
                    log.warning("reference tail fetch failed; retrying",
                                extra={"table": self.name, "reason": repr(exc)})
                    await asyncio.sleep(0.5)
        finally:
            await self.stop()

    async def stop(self) -> None:
        """Close the consumer (and the checkpoint's store)."""
        if self._consumer is not None:
            consumer, self._consumer = self._consumer, None
            await consumer.stop()
        if self._checkpoint is not None:
            self._checkpoint.close()


def reference_tails(
    reader: Callable[[], AIOKafkaConsumer], instruments_topic: Topic, arenas_topic: Topic,
    identities_topic: Topic, instruments: Instruments, arenas: Arenas, sanctions: Sanctions,
    sanctions_checkpoint: tuple[TailCheckpoint, Callable[[DomainEvent[Message]], None]]
    | None = None,
) -> list[ReferenceTail]:
    """The three tables a replica reads whole before it serves (the sanctions from their
    checkpoint and its own apply, when given one)."""
    checkpoint, sanction_apply = (None, apply_sanction(sanctions)) \
        if sanctions_checkpoint is None else sanctions_checkpoint
    return [
        ReferenceTail("instruments", reader, instruments_topic, (pb.InstrumentListed,),
                      apply_instrument(instruments)),
        ReferenceTail("arenas", reader, arenas_topic, (ArenaDefined,), apply_arena(arenas)),
        ReferenceTail("sanctions", reader, identities_topic, SANCTION_FACTS, sanction_apply,
                      checkpoint=checkpoint),
    ]
