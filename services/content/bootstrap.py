"""Composition root: wires the catalog, event log, handlers and gRPC server together."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import grpc
from aiokafka import AIOKafkaProducer

from planetkit.clock import now_ms
from planetkit.grpc_health import Health
from planetkit.kafka.admin import require_topics
from planetkit.kafka.producer import make_producer
from planetkit.service_auth_server import load_verifier
from planetkit.service_identities import CONTENT
from planetkit.topics import POSTS, with_suffix
from services.content.adapters.grpc_server import ContentServicer, make_server, new_health
from services.content.adapters.kafka_log import KafkaEventLog, rebuild
from services.content.domain.catalog import PostCatalog
from services.content.handlers import ContentHandlers
from services.content.settings import ContentSettings

log = logging.getLogger(__name__)


@dataclass
class RunningContent:
    """A started content service: its bound port, and how to stop it."""

    port: int
    server: grpc.aio.Server
    producer: AIOKafkaProducer
    health: Health
    catalog: PostCatalog
    grace_s: float

    async def stop(self) -> None:
        """Report NOT_SERVING, finish in-flight RPCs within the grace period, close Kafka."""
        await self.health.shutting_down()
        await self.server.stop(self.grace_s)
        await self.producer.stop()


async def start(settings: ContentSettings) -> RunningContent:
    """Create topics, start serving health, rebuild the projection, then serve content."""
    # First: a service that cannot authenticate its callers must not start at all.
    verifier = load_verifier(settings.identity, settings.auth)
    bootstrap = settings.kafka.bootstrap_servers
    topic = with_suffix(POSTS, settings.topics.topic_suffix)
    await require_topics(bootstrap, [topic])

    catalog = PostCatalog()
    producer = make_producer(bootstrap, writer=CONTENT, linger_ms=0)
    await producer.start()
    handlers = ContentHandlers(
        catalog, KafkaEventLog(producer, topic, settings.publish_timeout_s), now_ms
    )
    servicer = ContentServicer(handlers)
    health = new_health()
    server = make_server(servicer, health, verifier)
    port = server.add_insecure_port(f"{settings.grpc_host}:{settings.grpc_port}")
    try:
        await health.set_serving(False)
        await server.start()
        read = await rebuild(bootstrap, topic, catalog)
    except BaseException:
        await server.stop(0)
        await producer.stop()
        raise
    servicer.ready = True
    await health.set_serving(True)
    log.info("content: rebuilt %d posts from %d events of %s; serving on :%d",
             len(catalog), read, topic.name, port)
    return RunningContent(port, server, producer, health, catalog, settings.shutdown_grace_s)
