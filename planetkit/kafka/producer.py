"""Producers: idempotent always, transactional where state and offsets move together."""

from __future__ import annotations

from aiokafka import AIOKafkaProducer

from planet.events.v1.envelope_pb2 import Envelope
from planetkit.envelope import encode
from planetkit.topics import Topic

# Batches of telemetry can be large; the broker is configured to accept 8 MiB.
MAX_REQUEST_BYTES = 8 * 1024 * 1024


def make_producer(
    bootstrap: str, *, transactional_id: str | None = None, linger_ms: int = 5
) -> AIOKafkaProducer:
    """An idempotent producer (acks=all); transactional when given an id."""
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        enable_idempotence=True,
        acks="all",
        linger_ms=linger_ms,
        max_request_size=MAX_REQUEST_BYTES,
        transactional_id=transactional_id,
        max_batch_size=1024 * 1024,
    )


async def publish(producer: AIOKafkaProducer, topic: Topic | str, envelope: Envelope) -> None:
    """Send an envelope keyed by its aggregate id and wait for the broker's ack."""
    name = topic if isinstance(topic, str) else topic.name
    await producer.send_and_wait(name, encode(envelope), key=envelope.aggregate_id.encode())
