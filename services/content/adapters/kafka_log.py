"""The posts topic as the service's event store: append with acks to a chosen partition."""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from planet.events.v1.envelope_pb2 import Envelope
from planetkit.envelope import encode
from planetkit.topics import Topic
from services.content.domain.errors import EventLogUnavailable


class KafkaEventLog:
    """Appends envelopes to the posts topic through an idempotent producer."""

    def __init__(self, producer: AIOKafkaProducer, topic: Topic, timeout_s: float) -> None:
        self._producer = producer
        self._topic = topic
        self._timeout_s = timeout_s

    async def append(self, envelope: Envelope, partition: int) -> None:
        """Publish keyed by post id to ``partition`` and wait for acks=all.

        The partition is the key's murmur2 partition (what the default partitioner would
        pick), named explicitly because the replica that appends must be its owner.
        """
        try:
            async with asyncio.timeout(self._timeout_s):
                await self._producer.send_and_wait(
                    self._topic.name, encode(envelope),
                    key=envelope.aggregate_id.encode(), partition=partition)
        except (KafkaError, TimeoutError) as exc:
            raise EventLogUnavailable(f"posts topic did not acknowledge: {exc!r}") from exc
