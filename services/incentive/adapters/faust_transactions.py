"""Send a record in the Kafka transaction of the source record being processed.

Faust (exactly_once) commits each source partition's offsets in a transaction of its own,
with the transactional id ``<app id>-<topic group>-<partition>``; its changelog writes join
that transaction because tables are co-partitioned with their sources. A plain ``topic.send``
does not: Faust picks the transaction by the DESTINATION partition, and for a topic the app
does not consume it finds no group and sends outside any transaction (at least once). Our
outputs are keyed by something else than their source (a consumer id, an item id), so they
are sent here with the source partition's transactional id and an explicit partition (Kafka's
own murmur2 of the key): they commit, or abort, with the source offset and the table writes.

The processing of one record does not yield between its table writes and these sends in the
usual case (metadata cached, buffer not full), so a commit cannot fall between them; if it
ever did, a crash there would replay the record: its status records are whole values (the same
value again) and its facts carry the source event id (readers deduplicate by it).
"""

from __future__ import annotations

import asyncio
import logging
from functools import partial
from typing import Any

from planetkit.kafka.partitioning import partition_for

log = logging.getLogger(__name__)


async def send_in_source_transaction(
    app: Any, source: Any, topic: str, partitions: int, key: str, value: bytes
) -> None:
    """Send ``key``/``value`` to ``topic`` in the transaction of Faust message ``source``."""
    partition = partition_for(key, partitions)
    tid: str | None = None
    if app.in_transaction:
        try:
            group = app.assignor.group_for_topic(source.topic)
        except KeyError:
            # Not a topic of the consumer group's assignment (never so for the intake's
            # sources): no transaction to join, so the record is sent at least once.
            log.warning("no transaction for the source", extra={"topic": str(source.topic)})
        else:
            tid = f"{app.conf.id}-{group}-{source.partition}"
    pending = await app.producer.send(
        topic, key.encode(), value, partition, None, None, transactional_id=tid
    )
    # The transaction's commit waits for delivery; a failure there fails the commit. Log the
    # record's own failure too, so the reason is next to the topic it concerns.
    if isinstance(pending, asyncio.Future):
        pending.add_done_callback(partial(_log_failure, topic=topic))


def _log_failure(fut: asyncio.Future[Any], *, topic: str) -> None:
    if not fut.cancelled() and fut.exception() is not None:
        log.error("send failed", extra={"topic": topic, "error": repr(fut.exception())})


class ReplayGuard:
    """Skips the records Faust hands an agent a second time while their first outputs still
    stand in the open transaction.

    At a rebalance that leaves a worker its partitions, Faust (0.15, exactly_once) commits
    nothing, keeps each partition's transaction open (with the outputs of every record
    processed since the last commit) and then seeks the streams back to the committed offsets:
    those records come again, and their outputs would be committed twice (seen in the intake's
    kill test as duplicated facts of the last records). A partition Faust takes away has its
    transactional producer stopped instead (the open transaction is aborted, fenced by the next
    owner), so its records must be processed again: its marks are dropped. A fresh process has
    no marks: what a dead one left open was aborted.
    """

    def __init__(self, app: Any) -> None:
        self._done: dict[Any, int] = {}  # (topic, partition) → highest offset processed
        app.on_partitions_assigned.connect(self._on_assigned)

    async def _on_assigned(self, sender: Any, assigned: Any, **_: Any) -> None:
        kept = {(tp.topic, tp.partition) for tp in assigned}
        for tp in [tp for tp in self._done if tp not in kept]:
            del self._done[tp]

    def seen(self, message: Any) -> bool:
        """Whether ``message`` was processed already in this assignment."""
        done = self._done.get((message.topic, message.partition))
        return done is not None and message.offset <= done

    def mark(self, message: Any) -> None:
        """Record ``message`` as processed (its outputs sent)."""
        self._done[(message.topic, message.partition)] = message.offset
