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
from typing import Any

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

    async def append_batched(self, appends: list[Append]) -> list[int]:
        """``append`` for many envelopes (a notification fan-out's 10 000): each partition's
        records go out in record batches built here instead of one send each (a send per
        record is most of a large append's CPU); one transaction, all or nothing."""
        try:
            async with asyncio.timeout(self._timeout_s):
                async with self._producer.transaction():
                    return await self._send_batches(appends)
        except ProducerFenced as exc:
            self.fenced.set()
            raise Fenced("another social instance took over; this one stops") from exc
        except (KafkaError, TimeoutError) as exc:
            raise EventLogUnavailable(f"the social topics did not acknowledge: {exc!r}") from exc

    async def _send_batches(self, appends: list[Append]) -> list[int]:
        by_tp: dict[tuple[str, int], list[int]] = {}
        for i, a in enumerate(appends):
            by_tp.setdefault((a.topic, a.partition), []).append(i)
        sent: list[tuple[asyncio.Future[Any], list[int]]] = []
        for (topic, partition), indexes in by_tp.items():
            batch = self._producer.create_batch()
            members: list[int] = []
            for i in indexes:
                env = appends[i].envelope
                key, value = env.aggregate_id.encode(), encode(env)
                if batch.append(key=key, value=value, timestamp=None) is None:
                    sent.append((await self._producer.send_batch(
                        batch, topic, partition=partition), members))
                    batch = self._producer.create_batch()
                    members = []
                    if batch.append(key=key, value=value, timestamp=None) is None:
                        raise EventLogUnavailable("a record larger than a producer batch")
                members.append(i)
            if members:
                sent.append((await self._producer.send_batch(batch, topic, partition=partition),
                             members))
        offsets = [0] * len(appends)
        for future, members in sent:
            base = int((await future).offset)  # a batch's records are consecutive offsets
            for k, i in enumerate(members):
                offsets[i] = base + k
        return offsets
