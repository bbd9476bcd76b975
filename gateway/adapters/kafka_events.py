"""The gateway's Kafka output: one record per telemetry batch."""

from __future__ import annotations

import asyncio
import logging

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from gateway.errors import UpstreamUnavailable
from planet.events.v1.envelope_pb2 import Envelope
from planetkit.kafka.producer import publish
from planetkit.topics import Topic

log = logging.getLogger(__name__)


class KafkaEvents:
    """EventSink over an idempotent producer."""

    def __init__(self, producer: AIOKafkaProducer, topic: Topic, timeout_s: float) -> None:
        self._producer = producer
        self._topic = topic
        self._timeout_s = timeout_s

    async def publish_batch(self, envelope: Envelope) -> None:
        """Append keyed by consumer id and wait for acks=all."""
        try:
            async with asyncio.timeout(self._timeout_s):
                await publish(self._producer, self._topic, envelope)
        except (KafkaError, TimeoutError) as exc:
            log.warning("publishing a telemetry batch failed: %r", exc)
            raise UpstreamUnavailable("event log is unavailable, try again later") from None
