"""The groups topics as the service's event store: one transactional, fencing producer.

A command's facts (on the group's partition) and their copies re-keyed by user (the member
index) are one Kafka transaction: all land or none. The transactional id is the
deployment's, so a second instance fences the first: its next append fails with
ProducerFenced and it stops (one writer numbers every group's facts).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError, ProducerFenced

from planet.events.v1.envelope_pb2 import Envelope
from planetkit.envelope import encode


class LogUnavailable(Exception):
    """The append may or may not have committed: the caller resynchronises before deciding
    again on that partition (callers see UNAVAILABLE and retry with the same request id)."""


class Fenced(LogUnavailable):
    """Another instance took over the transactional id: this one stops."""


@dataclass(frozen=True)
class Append:
    """One envelope for one partition of one topic, under a Kafka key."""

    topic: str
    partition: int
    key: str
    envelope: Envelope


class KafkaEventLog:
    """Appends envelopes in one transaction and waits for the commit."""

    def __init__(self, producer: AIOKafkaProducer, timeout_s: float) -> None:
        self._producer = producer
        self._timeout_s = timeout_s
        self.fenced = asyncio.Event()
        self.transactions = 0  # committed (logs, tests: a group commit pays one per batch)
        self.unknown = 0  # appends whose outcome was not known (each made callers retry)

    async def append(self, appends: list[Append]) -> None:
        """Commit ``appends`` atomically; LogUnavailable when the outcome is not known."""
        try:
            async with asyncio.timeout(self._timeout_s):
                async with self._producer.transaction():
                    futures = [await self._producer.send(a.topic, encode(a.envelope),
                                                         key=a.key.encode(),
                                                         partition=a.partition)
                               for a in appends]
                    await asyncio.gather(*futures)
            self.transactions += 1
        except ProducerFenced as exc:
            self.fenced.set()
            raise Fenced("another groups instance took over; this one stops") from exc
        except (KafkaError, TimeoutError) as exc:
            self.unknown += 1
            raise LogUnavailable(f"the groups topics did not acknowledge: {exc!r}") from exc
