"""When the service can answer correctly: its tables recovered and caught up with their sources.

Faust's own "Worker ready" comes after the first recovery only; a later rebalance pauses the
streams and recovers the tables again without telling anyone. So readiness is read from the
app's state each time it is asked (``TableReadiness``):

- the first table recovery has completed (``tables.recovery.completed``): before it, every
  table is empty or partial, whatever the store. The read side's tables are GlobalTables, so
  that recovery reads EVERY changelog partition, whichever source partitions this replica was
  given;
- no rebalance and no recovery is in progress (``app.rebalancing`` is set when partitions
  are revoked and cleared by Faust at the end of the recovery that follows the assignment;
  ``app.in_recovery`` while the changelogs are being read);
- the read side's sources have been projected (``SourcesCaughtUp``): every record that was on
  CREATOR_WEEKS, ESTIMATES, PAYOUT_STATES, INCENTIVE_WEEKS and INCENTIVE_OPERATIONS when this
  process started has been processed by the group (whichever replica owns the partition),
  so a restarted or newly added replica never answers from a state older than the log it
  started with. Later records reach it as they are projected (a replica trails the owner by
  the time a changelog record takes to arrive).

Holding every source partition is NOT required: with GlobalTables any replica answers for
every key, and the intake (partitioned work, no reads) is correct on whichever replica runs it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from aiokafka.structs import TopicPartition

log = logging.getLogger(__name__)


class TableReadiness:
    """A predicate over a Faust app: True only while its tables answer for everything."""

    def __init__(self, app: Any, caught_up: Callable[[], bool] = lambda: True) -> None:
        self._app = app
        self._caught_up = caught_up

    def __call__(self) -> bool:
        """Whether the app has recovered its tables and they have caught up."""
        app = self._app
        if not app.tables.recovery.completed.is_set():
            return False
        if app.rebalancing or app.in_recovery:
            return False
        return self._caught_up()


class SourcesCaughtUp:
    """True once the consumer group has processed every record its sources held at start.

    ``run`` reads the sources' last stable offsets once (the targets), then polls the group's
    committed offsets until each reaches its target. Under exactly-once a partition's end can
    be a transaction marker the group never "processes" (it commits the offset after its last
    record, one before the marker): a partition whose committed offset is short of its target
    is also caught up when reading from that offset finds no committed record before the
    target.
    """

    def __init__(self, bootstrap: str, group_id: str, topics: Sequence[str],
                 *, poll_s: float = 0.2) -> None:
        self._bootstrap = bootstrap
        self._group = group_id
        self._topics = list(topics)
        self._poll_s = poll_s
        self._done = False

    def __call__(self) -> bool:
        """Whether the targets have been reached (stays True once they have)."""
        return self._done

    async def run(self) -> None:
        """Poll until caught up; returns then (cancelled at stop)."""
        reader = AIOKafkaConsumer(bootstrap_servers=self._bootstrap, enable_auto_commit=False,
                                  isolation_level="read_committed")
        admin = AIOKafkaAdminClient(bootstrap_servers=self._bootstrap)
        await reader.start()
        await admin.start()
        try:
            targets = await self._targets(reader)
            log.info("read side waits for its sources",
                     extra={"partitions": len(targets), "records": sum(targets.values())})
            while targets:
                try:
                    targets = await self._still_short(reader, admin, targets)
                except KafkaError as exc:  # a coordinator moving, a broker restarting
                    log.warning("catch-up check failed; retrying", extra={"error": repr(exc)})
                if targets:
                    await asyncio.sleep(self._poll_s)
            self._done = True
            log.info("read side caught up with its sources")
        finally:
            await admin.close()
            await reader.stop()

    async def _still_short(self, reader: AIOKafkaConsumer, admin: AIOKafkaAdminClient,
                           targets: dict[TopicPartition, int]) -> dict[TopicPartition, int]:
        committed = await admin.list_consumer_group_offsets(self._group,
                                                            partitions=list(targets))
        short = {tp: (committed[tp].offset if tp in committed else -1)
                 for tp, end in targets.items()
                 if tp not in committed or committed[tp].offset < end}
        return {tp: targets[tp] for tp in short
                if not await _nothing_before(reader, tp, short[tp], targets[tp])}

    async def _targets(self, reader: AIOKafkaConsumer) -> dict[TopicPartition, int]:
        tps: list[TopicPartition] = []
        metadata = await reader._client.fetch_all_metadata()
        for topic in self._topics:
            tps += [TopicPartition(topic, p)
                    for p in sorted(metadata.partitions_for_topic(topic) or ())]
        ends = await reader.end_offsets(tps)
        return {tp: end for tp, end in ends.items() if end > 0}


async def _nothing_before(reader: AIOKafkaConsumer, tp: TopicPartition, committed: int,
                          end: int) -> bool:
    """Whether ``tp`` holds no committed record in [committed, end) (only markers)."""
    if committed < 0:
        return False
    reader.assign([tp])
    reader.seek(tp, committed)
    for _ in range(5):
        batches = await reader.getmany(tp, timeout_ms=200)
        if any(r.offset < end for r in batches.get(tp, [])):
            return False
        if await reader.position(tp) >= end:
            return True
    return False
