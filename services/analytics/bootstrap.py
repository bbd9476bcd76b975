"""Composition root: the ONLY place that builds analytics' store, clients, server and clock.

One deployable: the sink (every Sunk topic into the store, in clear for operators and
pseudonymised for analysts) and the read-only query API over that store, on one event loop
(planetkit.runner's).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from functools import partial

from aiokafka import AIOKafkaConsumer

from planetkit.clock import now_ms
from planetkit.grpc_health import Health
from planetkit.kafka.admin import TopicContractError, require_topics, wait_for_broker
from planetkit.kafka.producer import make_producer
from planetkit.runner import Lifecycle
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
from services.analytics.adapters.store_factory import open_store
from services.analytics.domain.flatten import Flattener, sunk_sources
from services.analytics.domain.pseudonyms import Pseudonymizer
from services.analytics.handlers import AnalyticsService, ServiceConfig, Sink
from services.analytics.settings import AnalyticsSettings, query_limits

# The service's one name: health, logs, envelopes, dead letters and the chart all use it.
NAME = ANALYTICS

# Which caller services may call which method (anything not named here is refused); the
# servicer checks the end user's role itself.
POLICY: MethodPolicy = {method_name(SERVICE_NAME, "Query"): frozenset({GATEWAY})}


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


async def build(settings: AnalyticsSettings) -> AnalyticsService:
    """Check the caller keys, the classification and the topics; wire (not start) the rest."""
    # First: a service that cannot authenticate its callers must not start at all.
    verifier = load_verifier(settings.identity, settings.auth)
    bootstrap = settings.kafka.bootstrap_servers
    suffix = settings.topics.topic_suffix
    # Only topics classified Sunk; an unclassified topic or field stops the start here.
    sources = sunk_sources(ALL, suffix)
    flattener = Flattener(Pseudonymizer(settings.pseudonym_key.get_secret_value().encode()))
    dead_letters = with_suffix(DLQ_ANALYTICS, suffix)
    audit_topic = with_suffix(ANALYTICS_QUERY_AUDIT, suffix)
    await wait_for_broker(bootstrap)
    # Subscribing to a topic that does not exist yet would only see it after the next
    # metadata refresh (minutes): the topics tool creates every source first; check.
    try:
        await require_topics(
            bootstrap, [*(s.topic for s in sources.values()), dead_letters, audit_topic]
        )
    except TopicContractError as exc:
        raise SystemExit(f"{NAME}: {exc}") from None

    # The backend is chosen here; the engine constructs it on its writer thread at start.
    engine = Engine(partial(open_store, settings.clickhouse_url, settings.chdb_path),
                    query_workers=settings.query_workers)
    producer = make_producer(bootstrap, writer=ANALYTICS)
    servicer = AnalyticsServicer(
        engine,
        audit=KafkaAuditLog(producer, audit_topic.name, settings.audit_timeout_s),
        max_query_bytes=settings.max_query_bytes,
        max_rows=settings.max_result_rows,
        max_response_bytes=settings.max_response_bytes,
        limits=query_limits(settings),
        clock_ms=now_ms,
    )
    health = new_health()
    server = make_server(servicer, health, settings.max_response_bytes,
                         [ServiceAuthInterceptor(verifier, POLICY)])
    port = server.add_insecure_port(f"{settings.grpc_host}:{settings.grpc_port}")
    consumer = make_consumer(bootstrap, settings.group_id, settings.max_batch)
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
    backend = "clickhouse-server" if settings.clickhouse_url else f"chdb:{settings.chdb_path}"
    return AnalyticsService(
        ServiceConfig(settings.shutdown_grace_s, settings.group_id, backend),
        engine=engine, server=server, port=port, grpc_health=health, servicer=servicer,
        consumer=consumer, producer=producer, sink=sink,
    )


@dataclass
class RunningAnalytics:
    """The service running in this process (tests): its gRPC port, and how to stop it."""

    port: int
    service: AnalyticsService
    lifecycle: Lifecycle
    task: asyncio.Task[None]

    async def stop(self) -> None:
        """What SIGTERM does: NOT_SERVING, finish in-flight calls, close Kafka and the store."""
        self.lifecycle.request_stop()
        await self.task


async def start(settings: AnalyticsSettings, ready_timeout_s: float = 60.0) -> RunningAnalytics:
    """Build and run the service in this process; return once it reports SERVING."""
    service = await build(settings)
    lifecycle = Lifecycle(Health(NAME), 0)
    task = asyncio.create_task(service.run(lifecycle), name="analytics.run")
    loop = asyncio.get_running_loop()
    deadline = loop.time() + ready_timeout_s
    while not lifecycle.is_ready:
        if task.done():
            await task  # raises what stopped it
            raise RuntimeError("analytics stopped before it was ready")
        if loop.time() > deadline:
            lifecycle.request_stop()
            await task
            raise TimeoutError(f"analytics was not ready within {ready_timeout_s:.0f}s")
        await asyncio.sleep(0.02)
    return RunningAnalytics(service.port, service, lifecycle, task)
