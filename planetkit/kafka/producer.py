"""Producers: idempotent always, transactional where state and offsets move together, and
bound to the one service identity they write as.

A producer refuses, before anything is sent, a topic whose registered writer
(planetkit.topics) is another service, and a topic the registry does not know unless it was
declared internal when the producer was made. "One writer per topic" is checked here, not
left to prose.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from aiokafka import AIOKafkaProducer

from planet.events.v1.envelope_pb2 import Envelope
from planetkit.envelope import encode
from planetkit.service_identities import WRITERS
from planetkit.topics import Topic, registered

# Batches of telemetry can be large; the broker is configured to accept 8 MiB.
MAX_REQUEST_BYTES = 8 * 1024 * 1024


class ForeignTopic(PermissionError):
    """A write to a topic this producer's service does not own; carries the reason."""


def check_writer(writer: str, topic: str, internal: Iterable[str] = ()) -> None:
    """Raise ForeignTopic unless ``writer`` may write ``topic`` (registered or internal)."""
    if topic in internal:
        return
    owner = registered(topic)
    if owner is None:
        raise ForeignTopic(
            f"{writer} may not write {topic!r}: it is not in the topic registry "
            "(planetkit.topics) nor declared internal to this producer"
        )
    if owner.writer != writer:
        raise ForeignTopic(
            f"{writer} may not write {topic!r}: its registered writer is {owner.writer}"
        )


# aiokafka ships no type information, so its producer is Any to mypy.
class WriterBoundProducer(AIOKafkaProducer):  # type: ignore[misc]
    """An AIOKafkaProducer that writes only the topics its service owns."""

    def __init__(self, *, writer: str, internal: Iterable[str] = (), **config: Any) -> None:
        if writer not in WRITERS:
            raise ValueError(
                f"producer writer {writer!r} is not an identity in "
                f"planetkit.service_identities ({', '.join(WRITERS)})"
            )
        self._internal = frozenset(internal)
        for name in self._internal:
            owner = registered(name)
            if owner is not None and owner.writer != writer:
                raise ForeignTopic(
                    f"{name!r} cannot be internal to {writer}: its registered writer is "
                    f"{owner.writer}"
                )
        super().__init__(**config)
        self.writer = writer

    async def send(self, topic: str, *args: Any, **kwargs: Any) -> Any:
        """AIOKafkaProducer.send (and so send_and_wait) after the writer check."""
        check_writer(self.writer, topic, self._internal)
        return await super().send(topic, *args, **kwargs)

    async def send_batch(self, batch: Any, topic: str, *, partition: int) -> Any:
        """AIOKafkaProducer.send_batch after the writer check."""
        check_writer(self.writer, topic, self._internal)
        return await super().send_batch(batch, topic, partition=partition)


def make_producer(
    bootstrap: str,
    *,
    writer: str,
    transactional_id: str | None = None,
    linger_ms: int = 5,
    internal: Iterable[str] = (),
) -> WriterBoundProducer:
    """An idempotent producer (acks=all) writing as ``writer``; transactional when given an id.

    ``internal`` names topics outside the registry this producer may write too (a
    service's private topics, a benchmark's scratch topic); it never overrides another
    service's registered topic.
    """
    return WriterBoundProducer(
        writer=writer,
        internal=internal,
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
