"""A fix for Faust's changelog recovery under exactly-once, applied by the composition root.

faust-streaming 0.15.3 reads changelog "highwaters" for recovery from
``consumer.last_stable_offset(tp)`` when the app runs transactions. That value is
only known for partitions the consumer has already fetched from, so right after a
start it is None for every changelog partition, Faust records a highwater of -1,
declares recovery complete without reading anything and serves empty tables (seen
here after a restart: "Highwater ... -1" on every changelog partition, then zeros).

The correct value is the partition's last stable offset, which a ListOffsets
request under read_committed returns; aiokafka's ``end_offsets`` sends exactly
that, because Faust's consumer uses read_committed in exactly-once mode.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread

_PATCHED = "_planet_highwaters_fixed"


async def _highwaters_from_list_offsets(self: Any, partitions: list[Any]) -> Mapping[Any, int]:
    consumer = self._ensure_consumer()
    offsets: Mapping[Any, int] = await consumer.end_offsets(partitions)
    return offsets


def apply() -> None:
    """Install the fix once per process."""
    if getattr(AIOKafkaConsumerThread, _PATCHED, False):
        return
    setattr(AIOKafkaConsumerThread, "_highwaters", _highwaters_from_list_offsets)  # noqa: B010
    setattr(AIOKafkaConsumerThread, _PATCHED, True)
