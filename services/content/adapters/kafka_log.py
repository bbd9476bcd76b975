"""The POSTS topic as the service's event store: append with acks, replay on startup."""

from __future__ import annotations

import asyncio
import logging

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from aiokafka.structs import ConsumerRecord

from planet.content.v1.events_pb2 import PostPublished
from planet.events.v1.envelope_pb2 import Envelope
from planetkit.envelope import UndecodableEvent, decode
from planetkit.kafka.producer import publish
from planetkit.kafka.replay import read_committed
from planetkit.topics import Topic
from services.content.codec import post_from_event
from services.content.domain.catalog import PostCatalog
from services.content.domain.validation import InvalidPost
from services.content.handlers import EventLogUnavailable

log = logging.getLogger(__name__)


class KafkaEventLog:
    """Appends envelopes to the posts topic through an idempotent producer."""

    def __init__(self, producer: AIOKafkaProducer, topic: Topic, timeout_s: float) -> None:
        self._producer = producer
        self._topic = topic
        self._timeout_s = timeout_s

    async def append(self, envelope: Envelope) -> None:
        """Publish keyed by post id and wait for acks=all; EventLogUnavailable otherwise."""
        try:
            async with asyncio.timeout(self._timeout_s):
                await publish(self._producer, self._topic, envelope)
        except (KafkaError, TimeoutError) as exc:
            raise EventLogUnavailable(f"posts topic did not acknowledge: {exc!r}") from exc


async def rebuild(
    bootstrap: str, topic: Topic, catalog: PostCatalog, metadata_timeout_s: float = 15.0
) -> int:
    """Replay the topic from the beginning to its end offsets into ``catalog``; events read.

    The service is the topic's single writer, so the committed log is its whole state.
    """
    partitions = await _partitions(bootstrap, topic.name, metadata_timeout_s)
    read = 0
    async for record in read_committed(bootstrap, topic.name, partitions):
        read += 1
        _apply(record, catalog)
    return read


async def _partitions(bootstrap: str, name: str, timeout_s: float) -> list[int]:
    # Asked of the admin API because a consumer without a subscription keeps no metadata
    # for the topic; a just-created topic reaches the metadata cache a little later.
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        deadline = asyncio.get_running_loop().time() + timeout_s
        while True:
            [described] = await admin.describe_topics([name])
            partitions = [int(p["partition"]) for p in described["partitions"]]
            if described["error_code"] == 0 and partitions:
                return sorted(partitions)
            if asyncio.get_running_loop().time() > deadline:
                raise RuntimeError(f"topic {name} does not exist; create it first")
            await asyncio.sleep(0.1)
    finally:
        await admin.close()


def _apply(record: ConsumerRecord[bytes, bytes], catalog: PostCatalog) -> None:
    try:
        event = decode(record.value, PostPublished)
        catalog.apply(post_from_event(event.payload, event.envelope.aggregate_version))
    except (UndecodableEvent, InvalidPost) as exc:
        # Only this service writes the topic, so this is a bug to look at, not data to lose
        # silently; the record stays in the log for inspection.
        log.error("skipping undecodable record %s/%s@%s: %s",
                  record.topic, record.partition, record.offset, exc)
