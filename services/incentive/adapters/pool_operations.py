"""The operator RPCs' writes: one enveloped record on INCENTIVE_OPERATIONS each (key: week, or
"policy"), acknowledged by every in-sync replica before the RPC answers."""

from __future__ import annotations

import uuid

from google.protobuf.message import Message

from planetkit.envelope import wrap
from planetkit.kafka.producer import make_producer, publish
from planetkit.service_identities import INCENTIVE
from planetkit.topics import INCENTIVE_OPERATIONS, with_suffix


class PoolOperations:
    """A producer bound to the incentive identity, writing operator decisions."""

    def __init__(self, bootstrap: str, suffix: str) -> None:
        self._topic = with_suffix(INCENTIVE_OPERATIONS, suffix)
        self._producer = make_producer(bootstrap, writer=INCENTIVE)

    async def start(self) -> None:
        """Connect the producer."""
        await self._producer.start()

    async def stop(self) -> None:
        """Flush and close the producer."""
        await self._producer.stop()

    async def write(self, key: str, payload: Message, at_ms: int) -> str:
        """Write ``payload`` keyed by ``key``; its envelope's (fresh, unique) event id.

        The event id is unique per call, so a reader can tell which of two concurrent
        requests with one idempotency key was the one that counted.
        """
        event_id = f"{payload.DESCRIPTOR.name}:{uuid.uuid4()}"
        envelope = wrap(payload, event_id=event_id, source=INCENTIVE, aggregate_id=key,
                        occurred_at_ms=at_ms)
        await publish(self._producer, self._topic, envelope)
        return event_id
