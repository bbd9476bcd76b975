"""Dead letters: an undecodable record is parked with its reason, never dropped."""

from __future__ import annotations

from aiokafka.structs import ConsumerRecord

from planet.events.v1.envelope_pb2 import DeadLetter


def dead_letter(
    record: ConsumerRecord[bytes, bytes], *, reason: str, consumer: str, now_ms: int
) -> DeadLetter:
    """The dead-letter message for ``record``."""
    return DeadLetter(
        source_topic=record.topic,
        source_partition=record.partition,
        source_offset=record.offset,
        key=record.key or b"",
        value=record.value or b"",
        reason=reason,
        consumer=consumer,
        dead_lettered_at_ms=now_ms,
    )
