"""The social topics as the service's event store: a transactional, fencing producer.

Every command appends its events (an identity event, and for a handle claim or release the
handle's event too) in one Kafka transaction: both land or neither does. The producer's
transactional id is the deployment's (``social-<suffix>``), so a second instance started
while an old one still runs fences the old one: its next append fails with
ProducerFenced and it stops. That makes "one writer decides every handle claim" hold even
across a split brain, which is what keeps handles unique.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError, ProducerFenced

from planet.events.v1.envelope_pb2 import Envelope
from planetkit.envelope import encode
from services.social.domain.errors import EventLogUnavailable


@dataclass(frozen=True)
class Append:
    """One envelope for one partition of one topic."""

    topic: str
    partition: int
    envelope: Envelope


class Fenced(EventLogUnavailable):
    """Another instance took over the transactional id: this one stops (callers see
    UNAVAILABLE and retry, reaching the instance that took over)."""


class KafkaEventLog:
    """Appends envelopes in one transaction and waits for the commit."""

    def __init__(self, producer: AIOKafkaProducer, timeout_s: float) -> None:
        self._producer = producer
        self._timeout_s = timeout_s
        self.fenced = asyncio.Event()

    async def append(self, appends: list[Append]) -> list[int]:
        """Commit ``appends`` atomically and return their offsets, in order;
        EventLogUnavailable (nothing visible) otherwise."""
        try:
            async with asyncio.timeout(self._timeout_s):
                async with self._producer.transaction():
                    futures = [
                        await self._producer.send(
                            a.topic, encode(a.envelope), key=a.envelope.aggregate_id.encode(),
                            partition=a.partition)
                        for a in appends
                    ]
                    sent = await asyncio.gather(*futures)
        except ProducerFenced as exc:
            self.fenced.set()
            raise Fenced("another social instance took over; this one stops") from exc
        except (KafkaError, TimeoutError) as exc:
            raise EventLogUnavailable(f"the social topics did not acknowledge: {exc!r}") from exc
        return [int(m.offset) for m in sent]
