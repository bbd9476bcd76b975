"""The sink loop: fetch, insert the whole fetch, dead-letter the rest, then commit."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError
from aiokafka.structs import ConsumerRecord

from planetkit.analytics import RawEventRow, ddl
from planetkit.kafka.dead_letter import dead_letter
from planetkit.topics import Topic
from services.analytics.adapters.engine import Engine
from services.analytics.domain.flatten import Flattener, Record, Source

CONSUMER_NAME = "analytics-sink"
_MAX_BACKOFF_S = 30.0

log = logging.getLogger(__name__)
Clock = Callable[[], int]


def make_consumer(bootstrap: str, group_id: str, max_batch: int) -> AIOKafkaConsumer:
    """A group consumer that sees only committed transactions and commits by hand."""
    return AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=group_id,
        enable_auto_commit=False,
        isolation_level="read_committed",
        # A new group stores the whole retained history: the log is the source of truth.
        auto_offset_reset="earliest",
        max_poll_records=max_batch,
    )


class Sink:
    """Copies every record of ``sources`` into the store, at least once, idempotently.

    Each event lands twice: in clear (public and personal values) in the operators' table and
    pseudonymised in the analysts' table; the flattener leaves out what neither may hold.
    """

    def __init__(
        self,
        consumer: AIOKafkaConsumer,
        producer: AIOKafkaProducer,
        engine: Engine,
        *,
        sources: Mapping[str, Source],
        flattener: Flattener,
        dead_letters: Topic,
        max_batch: int,
        poll_timeout_ms: int,
        clock_ms: Clock,
    ) -> None:
        self._consumer = consumer
        self._producer = producer
        self._engine = engine
        self._sources = sources
        self._flattener = flattener
        self._dead_letters = dead_letters
        self._max_batch = max_batch
        self._poll_timeout_ms = poll_timeout_ms
        self._clock_ms = clock_ms
        self._stopping = asyncio.Event()

    def subscribe(self) -> None:
        """Join the group on every source topic."""
        self._consumer.subscribe(sorted(self._sources))

    def stop(self) -> None:
        """Finish the fetch in hand, then return from run()."""
        self._stopping.set()

    async def run(self) -> None:
        """Fetch and store until stop()."""
        while not self._stopping.is_set():
            batches = await self._consumer.getmany(
                timeout_ms=self._poll_timeout_ms, max_records=self._max_batch
            )
            if batches:
                await self.handle(batches)

    async def handle(self, batches: Mapping[TopicPartition, list[ConsumerRecord[bytes, bytes]]]
                     ) -> None:
        """Store one fetch, dead-letter its undecodable records, then commit its offsets."""
        records = [r for recs in batches.values() for r in recs]
        flat = self._flattener.flatten(
            (Record(r.topic, r.partition, r.offset, r.value) for r in records),
            self._sources,
            self._clock_ms(),
        )
        # Operators' rows first: whatever analysts can see, operators can trace.
        await self._insert_until_stored(flat.operator, ddl.OPS_EVENTS_RAW)
        await self._insert_until_stored(flat.analyst, ddl.EVENTS_RAW)
        await self._send_dead_letters([(records[i], reason) for i, reason in flat.rejected])
        # Only now: a crash before this line redelivers the fetch, and re-inserting it is
        # harmless because the table collapses rows by event_id.
        offsets = {tp: recs[-1].offset + 1 for tp, recs in batches.items() if recs}
        try:
            await self._consumer.commit(offsets)
        except (CommitFailedError, IllegalStateError) as exc:
            # A rebalance took the partitions away; their new owner re-reads the fetch.
            log.warning("offsets not committed (rows stored, will be re-read): %s", exc)
        log.debug("stored %d rows per audience from %d records, %d dead-lettered",
                  len(flat.analyst), len(records), len(flat.rejected))

    async def _insert_until_stored(self, rows: list[RawEventRow], table: str) -> None:
        # Skipping a fetch would lose it, so a failing store stops consumption until it heals.
        backoff = 0.5
        while rows:
            try:
                await self._engine.insert(rows, table)
                return
            except Exception:
                log.exception("insert of %d rows into %s failed; retrying in %.1fs",
                              len(rows), table, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, _MAX_BACKOFF_S)

    async def _send_dead_letters(
        self, rejected: list[tuple[ConsumerRecord[bytes, bytes], str]]
    ) -> None:
        # Enqueue them all, then wait for every ack: one round trip per fetch, not per record.
        now = self._clock_ms()
        acks = []
        for record, reason in rejected:
            log.warning("dead-lettering %s/%d@%d: %s",
                        record.topic, record.partition, record.offset, reason)
            letter = dead_letter(record, reason=reason, consumer=CONSUMER_NAME, now_ms=now)
            acks.append(await self._producer.send(
                self._dead_letters.name, letter.SerializeToString(), key=record.topic.encode()
            ))
        await asyncio.gather(*acks)

