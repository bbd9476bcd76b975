"""Composition root: wires the store, the Kafka sink and the gRPC query service together."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

import grpc
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from planetkit.clock import now_ms
from planetkit.grpc_health import Health
from planetkit.kafka.admin import require_topics
from planetkit.kafka.producer import make_producer
from planetkit.service_auth_server import (
    MethodPolicy,
    ServiceAuthInterceptor,
    load_verifier,
    method_name,
)
from planetkit.service_identities import ANALYTICS, GATEWAY
from planetkit.topics import ALL, ANALYTICS_QUERY_AUDIT, DLQ_ANALYTICS, with_suffix
from services.analytics.adapters.audit import KafkaAuditLog
from services.analytics.adapters.engine import Engine
from services.analytics.adapters.grpc_server import (
    SERVICE_NAME,
    AnalyticsServicer,
    make_server,
    new_health,
)
from services.analytics.adapters.kafka_sink import Sink, make_consumer
from services.analytics.domain.flatten import Flattener, sunk_sources
from services.analytics.domain.pseudonyms import Pseudonymizer
from services.analytics.settings import AnalyticsSettings, query_limits

log = logging.getLogger(__name__)

# Which caller services may call which method (anything not named here is refused); the
# servicer checks the end user's role itself.
POLICY: MethodPolicy = {method_name(SERVICE_NAME, "Query"): frozenset({GATEWAY})}


@dataclass
class RunningAnalytics:
    """A started analytics sink: its bound port, its sink task, and how to stop it."""

    port: int
    server: grpc.aio.Server
    health: Health
    sink: Sink
    sink_task: asyncio.Task[None]
    consumer: AIOKafkaConsumer
    producer: AIOKafkaProducer
    engine: Engine
    grace_s: float

    async def stop(self) -> None:
        """Stop serving, finish the fetch in hand, then release Kafka and the store."""
        await self.health.shutting_down()
        await self.server.stop(self.grace_s)
        self.sink.stop()
        # getmany returns within poll_timeout_ms; a fetch being stored gets the grace too.
        # Cancelling mid-fetch is safe: its offsets are not committed, so it is re-read.
        done, _ = await asyncio.wait({self.sink_task}, timeout=self.grace_s + 1)
        if not done:
            self.sink_task.cancel()
        # A sink that already failed was reported by whoever watched it; stopping goes on.
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self.sink_task
        await self.consumer.stop()
        await self.producer.stop()
        await self.engine.close()


async def start(settings: AnalyticsSettings) -> RunningAnalytics:
    """Open and migrate the store, join the group on every enveloped topic, then serve."""
    # First: a service that cannot authenticate its callers must not start at all.
    verifier = load_verifier(settings.identity, settings.auth)
    bootstrap = settings.kafka.bootstrap_servers
    suffix = settings.topics.topic_suffix
    # Only topics classified Sunk; an unclassified topic or field stops the start here.
    sources = sunk_sources(ALL, suffix)
    flattener = Flattener(Pseudonymizer(settings.pseudonym_key.get_secret_value().encode()))
    dead_letters = with_suffix(DLQ_ANALYTICS, suffix)

    audit_topic = with_suffix(ANALYTICS_QUERY_AUDIT, suffix)

    engine = Engine(query_workers=settings.query_workers)
    health = new_health()
    producer = make_producer(bootstrap, writer=ANALYTICS)
    servicer = AnalyticsServicer(
        engine,
        audit=KafkaAuditLog(producer, audit_topic.name, settings.audit_timeout_s),
        max_query_bytes=settings.max_query_bytes,
        max_rows=settings.max_result_rows,
        max_response_bytes=settings.max_response_bytes,
        limits=query_limits(settings),
    )
    server = make_server(servicer, health, settings.max_response_bytes,
                         [ServiceAuthInterceptor(verifier, POLICY)])
    port = server.add_insecure_port(f"{settings.grpc_host}:{settings.grpc_port}")
    consumer = make_consumer(bootstrap, settings.group_id, settings.max_batch)
    try:
        await health.set_serving(False)
        await server.start()
        await engine.open(settings.clickhouse_url, settings.chdb_path)
        # Subscribing to a topic that does not exist yet would only see it after the next
        # metadata refresh (minutes): the topics tool creates every source first; check.
        await require_topics(
            bootstrap, [*(s.topic for s in sources.values()), dead_letters, audit_topic]
        )
        await producer.start()
        await consumer.start()
    except BaseException:
        await server.stop(0)
        await consumer.stop()
        await producer.stop()
        await engine.close()
        raise
    sink = Sink(
        consumer,
        producer,
        engine,
        sources=sources,
        flattener=flattener,
        dead_letters=dead_letters,
        max_batch=settings.max_batch,
        poll_timeout_ms=settings.poll_timeout_ms,
        clock_ms=now_ms,
    )
    sink.subscribe()
    sink_task = asyncio.create_task(sink.run(), name="analytics-sink")
    servicer.ready = True
    await health.set_serving(True)
    backend = "ClickHouse server" if settings.clickhouse_url else f"chdb at {settings.chdb_path}"
    log.info("analytics: %s migrated; consuming %d topics as group %s; serving on :%d",
             backend, len(sources), settings.group_id, port)
    return RunningAnalytics(port, server, health, sink, sink_task, consumer, producer, engine,
                            settings.shutdown_grace_s)
