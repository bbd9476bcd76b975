"""The analytics service's work: the sink loop and the service around it.

The sink: fetch, insert the whole fetch (operators' rows, then analysts'), dead-letter the
rest, then commit. The service: serve queries once the store is open and migrated, report
SERVING once the sink's consumer also has its assignment, and on a stop finish the queries
and the fetch in hand before closing Kafka and the store. Nothing here builds a client, a
store or a clock: bootstrap.py hands them in.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import grpc
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError
from aiokafka.structs import ConsumerRecord
from grpc_health.v1 import health_pb2

from planetkit.grpc_health import Health
from planetkit.kafka.dead_letter import dead_letter
from planetkit.runner import LIVENESS, Lifecycle
from planetkit.topics import Topic
from services.analytics.adapters import ddl
from services.analytics.adapters.engine import Engine
from services.analytics.adapters.grpc_server import AnalyticsServicer
from services.analytics.domain.flatten import Flattener, Record, Source
from services.analytics.domain.store import RawEventRow

CONSUMER_NAME = "analytics-sink"
_MAX_BACKOFF_S = 30.0

log = logging.getLogger(__name__)
Clock = Callable[[], int]


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
        # Set once the group has given this consumer its partitions (possibly none, when
        # more sinks than partitions share a ClickHouse server).
        self.assigned = asyncio.Event()

    @property
    def topics(self) -> list[str]:
        """The source topics it reads, by (suffixed) name."""
        return sorted(self._sources)

    def subscribe(self) -> None:
        """Join the group on every source topic; ``assigned`` is set at the first assignment."""
        self._consumer.subscribe(self.topics, listener=_Assignment(self.assigned))

    async def run(self, stopping: asyncio.Event) -> None:
        """Fetch and store until ``stopping`` is set (the fetch in hand is finished first)."""
        while not stopping.is_set():
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



class _Assignment(ConsumerRebalanceListener):  # type: ignore[misc]
    """Tells the service when the group has assigned this consumer its partitions."""

    def __init__(self, assigned: asyncio.Event) -> None:
        self._assigned = assigned

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        """Nothing to hand over: offsets are committed after every stored fetch."""

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        """Stay ready across rebalances: queries answer from the store either way."""
        self._assigned.set()


@dataclass(frozen=True)
class ServiceConfig:
    """How the service stops, and what it says when it is ready."""

    shutdown_grace_s: float
    group_id: str
    backend: str


class AnalyticsService:
    """The sink and the query server in one process, run by planetkit.runner."""

    def __init__(
        self,
        config: ServiceConfig,
        *,
        engine: Engine,
        server: grpc.aio.Server,
        port: int,
        grpc_health: Health,
        servicer: AnalyticsServicer,
        consumer: AIOKafkaConsumer,
        producer: AIOKafkaProducer,
        sink: Sink,
    ) -> None:
        self.config = config
        self.port = port
        self._engine = engine
        self._server = server
        self._grpc_health = grpc_health
        self._servicer = servicer
        self._consumer = consumer
        self._producer = producer
        self._sink = sink

    @property
    def store_open(self) -> bool:
        """True while the store is open and migrated."""
        return self._engine.is_open

    @property
    def consumer_assigned(self) -> bool:
        """True once the group has assigned the sink's consumer its partitions."""
        return self._sink.assigned.is_set()

    async def _serving(self, lifecycle: Lifecycle, serving: bool) -> None:
        # The runner's health port and the gRPC port say the same thing (devstack and older
        # clients probe the gRPC port; the chart probes the runner's).
        await self._grpc_health.set_serving(serving)
        if serving:
            await lifecycle.ready()
        else:
            await lifecycle.not_ready()

    async def run(self, lifecycle: Lifecycle) -> None:
        """Open the store, start Kafka and the server, sink until ``lifecycle.stopping``."""
        # grpc's health servicer answers SERVING for "" until told otherwise.
        await self._grpc_health.set_serving(False)
        await self._grpc_health.servicer.set(LIVENESS, health_pb2.HealthCheckResponse.SERVING)
        sink_task: asyncio.Task[None] | None = None
        try:
            # Up first, so the port answers NOT_SERVING (and queries UNAVAILABLE) while the
            # store opens and migrates.
            await self._server.start()
            await self._engine.open()
            await self._producer.start()
            self._sink.subscribe()
            await self._consumer.start()
            # The store is open and the audit log writable: queries answer correctly now.
            self._servicer.ready = True
            sink_task = asyncio.create_task(self._sink.run(lifecycle.stopping),
                                            name="analytics.sink")
            await self._until_stopped(lifecycle, sink_task)
        finally:
            await self._stop(lifecycle, sink_task)

    async def _until_stopped(self, lifecycle: Lifecycle, sink_task: asyncio.Task[None]) -> None:
        stop = asyncio.create_task(lifecycle.stopping.wait())
        assigned = asyncio.create_task(self._sink.assigned.wait())
        try:
            await asyncio.wait({sink_task, stop, assigned}, return_when=asyncio.FIRST_COMPLETED)
            if assigned.done() and not stop.done() and not sink_task.done():
                await self._serving(lifecycle, True)
                log.info("serving", extra={
                    "backend": self.config.backend, "group": self.config.group_id,
                    "topics": len(self._sink.topics), "grpc_port": self.port})
                await asyncio.wait({sink_task, stop}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop.cancel()
            assigned.cancel()
        if sink_task.done() and not lifecycle.stopping.is_set():
            # A sink that dies (a fatal Kafka error) ends the process: its supervisor
            # restarts it, and the uncommitted fetch is read again.
            sink_task.result()
            raise RuntimeError("the analytics sink stopped on its own")

    async def _stop(self, lifecycle: Lifecycle, sink_task: asyncio.Task[None] | None) -> None:
        """NOT_SERVING, finish in-flight queries and the fetch in hand, release everything."""
        await self._serving(lifecycle, False)
        await self._grpc_health.shutting_down()
        # Half the runner's grace for the queries and the fetch in hand; the rest is for
        # closing Kafka and the store before the runner would cancel (and exit 1).
        grace = self.config.shutdown_grace_s / 2

        async def finish_sink() -> None:
            if sink_task is None:
                return
            # getmany returns within poll_timeout_ms; a fetch being stored gets the grace.
            # Cancelling mid-fetch is safe: its offsets are not committed, so it is re-read.
            done, _ = await asyncio.wait({sink_task}, timeout=grace)
            if not done:
                sink_task.cancel()
            # A sink that failed was reported by _until_stopped; stopping goes on.
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await sink_task

        # Queries in flight and the fetch in hand finish side by side, within the grace.
        await asyncio.gather(self._server.stop(grace), finish_sink())
        await self._consumer.stop()
        await self._producer.stop()
        await self._engine.close()
